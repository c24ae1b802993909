"""The context the model reads: numbered passages, each cut around its best match, fitted to
the model's context window.

Each passage [n] is shown with its source and page as an excerpt around the sentences that
best match the question (``excerpt_tokens``: a small model answers better from a few focused
sentences than from long passages), grown a sentence at a time on both sides. Passages are
dropped from the end until the prompt fits; the question is never truncated. This module does
not choose which passages (``rag.retrieval``, ``rag.answering.finishing.Finisher.closest``) or read
the model's reply.
"""

from __future__ import annotations

from rag.answering import prompts
from rag.errors import RagError
from rag.text.sentences import split_sentences
from rag.types import Hit


class ContextBuilder:
    def __init__(self, support, llm, excerpt_tokens: int, max_new_tokens: int):
        """``support`` finds each passage's best match; ``llm`` counts tokens."""
        self.support = support
        self.llm = llm
        self.excerpt_tokens = excerpt_tokens
        self.max_new_tokens = max_new_tokens

    def prompt(self, question: str, hits: list[Hit]) -> tuple[list[dict], list[Hit]]:
        """Messages with as many passages as fit in the context window, in rank order, and
        the passages shown (the numbers [1]..[n] index them)."""
        budget = self.llm.context_window - self.max_new_tokens
        texts = self.excerpts(question, hits)

        def fitted(shown: list[Hit]) -> list[dict]:
            return messages(question, [(i, h, texts[i - 1]) for i, h in enumerate(shown, 1)])

        if self.llm.chat_tokens(fitted([])) > budget:
            raise RagError(
                f"The question is too long for the model's context window ({self.llm.context_window} tokens). "
                "Shorten it."
            )
        shown: list[Hit] = []
        for hit in hits:
            if self.llm.chat_tokens(fitted([*shown, hit])) > budget:
                break
            shown.append(hit)
        return fitted(shown), shown

    def focused_prompt(self, question: str, shown: list[Hit], picked: list[int], tokens: int) -> list[dict]:
        """Messages with the passages numbered ``picked`` alone, each keeping its number and cut
        to ``tokens``. They fitted the first time, whole excerpts and all."""
        texts = self.excerpts(question, [shown[n - 1] for n in picked], tokens)
        return messages(question, [(n, shown[n - 1], text) for n, text in zip(picked, texts)])

    def excerpts(self, question: str, hits: list[Hit], limit: int | None = None) -> list[str]:
        """Each passage cut to about ``limit`` (default ``excerpt_tokens``) tokens around its best
        match for the question, grown a sentence at a time on both sides; "…" marks a cut."""
        limit = limit or self.excerpt_tokens
        if not limit or not hits:
            return [h.chunk.text for h in hits]
        supports = self.support.score_many(question, [h.chunk.text for h in hits])
        excerpts = []
        for hit, support in zip(hits, supports):
            text = hit.chunk.text
            spans = split_sentences(text) or [(0, len(text))]
            inside = [i for i, (a, b) in enumerate(spans) if a < support.span[1] and b > support.span[0]] or [0]
            lo, hi = inside[0], inside[-1]
            while True:
                grown = False
                for candidate in ((lo, hi + 1), (lo - 1, hi)):
                    a, b = candidate
                    if 0 <= a and b < len(spans):
                        if self.llm.count_tokens(text[spans[a][0] : spans[b][1]]) <= limit:
                            lo, hi, grown = a, b, True
                if not grown:
                    break
            excerpt = text[spans[lo][0] : spans[hi][1]].strip()
            excerpts.append(("… " if lo > 0 else "") + excerpt + (" …" if hi < len(spans) - 1 else ""))
        return excerpts


def messages(question: str, numbered: list[tuple[int, Hit, str]]) -> list[dict]:
    """The system message with each (number, hit, text) as a numbered passage, then the question."""
    passages = "\n\n".join(prompts.PASSAGE.format(number=n, where=where(h), text=text) for n, h, text in numbered)
    return [
        {"role": "system", "content": prompts.SYSTEM.format(passages=passages)},
        {"role": "user", "content": prompts.USER.format(question=question)},
    ]


def where(hit: Hit) -> str:
    """« source, page 3-4, Chapitre > Section »: where a passage comes from, as the model reads it."""
    chunk = hit.chunk
    place = chunk.source
    if chunk.page:
        place += f", page {chunk.page}" + (
            f"-{chunk.page_end}" if chunk.page_end and chunk.page_end != chunk.page else ""
        )
    if chunk.heading_path:
        place += ", " + " > ".join(chunk.heading_path)
    return place
