"""Follow-up questions: turn "Et combien coûte-t-il ?" into a question that stands alone.

With an LLM, the model rewrites the follow-up from the conversation (``prompts.CONDENSE``),
and the rewrite is kept only if it looks like a question of sensible length. Without one
(or when the rewrite is unusable), a follow-up that leans on the conversation (pronouns,
"et ...", very short) is joined to the previous question so retrieval sees its subject.
"""

from __future__ import annotations

import re

from rag.answering import prompts

_ANAPHORA = re.compile(
    r"\b(?:il|elle|ils|elles|lui|leur|leurs|son|sa|ses|ce|cet|cette|ces|ça|cela|celui|celle|ceux|celles|"
    r"y|en|le même|la même|it|its|they|their|this|that)\b|^\s*(?:et|and|mais|puis|aussi)\b",
    re.IGNORECASE,
)


def needs_context(question: str) -> bool:
    return len(question.split()) <= 4 or bool(_ANAPHORA.search(question))


def standalone_question(question: str, history: list[tuple[str, str]], llm=None) -> str:
    question = " ".join(question.split())
    if not history or not needs_context(question):
        return question
    previous = history[-1][0]
    if llm is not None:
        turns = "\n".join(f"Utilisateur : {q}\nAssistant : {a}" for q, a in history[-3:])
        messages = [{"role": "user", "content": prompts.CONDENSE.format(history=turns, question=question)}]
        rewrite = " ".join(llm.generate(messages, max_new_tokens=60).split()).strip('« »"')
        if 3 <= len(rewrite.split()) <= 3 * len((previous + " " + question).split()):
            return rewrite
    return f"{previous} {question}"
