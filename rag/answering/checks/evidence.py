"""Checks on the evidence before any draft: is there enough to answer from, and did the model
refuse.

- ``evidence_score``: the rarity-weighted share of the question's terms in the best passage;
  below the calibrated ``min_evidence`` the answerer refuses before generating;
- ``unwritten_names``: the names the question gives that no document ever writes;
- ``is_refusal``: the model said the passages do not hold the answer.
"""

from __future__ import annotations

import re

from rag.answering import prompts
from rag.answering.question import names
from rag.text.analysis import analyze, analyze_question
from rag.types import Hit

_REFUSAL = re.compile("|".join(prompts.REFUSAL_PATTERNS), re.IGNORECASE)


def evidence_score(question: str, hits: list[Hit], idf, top: int = 3) -> float:
    """How much of the question the best passages cover: the rarity-weighted share of its
    content terms found in the best single passage among the ``top`` first."""
    terms = set(analyze_question(question))
    if not terms or not hits:
        return 0.0
    total = sum(idf(t) for t in terms)
    best = 0.0
    for hit in hits[:top]:
        present = terms & set(analyze(hit.chunk.text))
        best = max(best, sum(idf(t) for t in present) / total)
    return best


def unwritten_names(question: str, written) -> list[str]:
    """The names ``question`` gives (a product, a project, a person: ``question.names``) that
    the documents never write, ``written(term)`` saying whether the index holds an analysed
    term. Principle: documents that never name something cannot say anything about it, however
    close their topic; retrieval then finds the nearest text on the topic, which answers a
    question nobody asked. A name in capitals alone (« JDN », « UEFI ») is left out: it may
    abbreviate words the documents write in full. A name counts as written when any of its
    analysed terms is (« GPT-5 »: « gpt » and « 5 »), so the check errs towards answering."""
    found = []
    for name in names(question):
        letters = re.sub(r"[\W\d_]", "", name)
        if not letters or letters.isupper():
            continue
        terms = analyze(name)
        if terms and not any(written(term) for term in terms):
            found.append(name)
    return found


def is_refusal(text: str) -> bool:
    """Whether the model's text says the passages do not hold the answer."""
    return bool(_REFUSAL.search(text.replace("’", "'")))
