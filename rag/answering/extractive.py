"""Extractive answers, with no language model: the passages' own sentences that best match
the question, each cited.

The best ``n`` passages' best windows (within 80% of the top score), or for a compound
question (``rag.answering.question.parts``) the best one for each question it asks. The
answerer checks them like any draft. This module does not retrieve or check.
"""

from __future__ import annotations

from rag.answering.finishing import overlap
from rag.answering.question import parts
from rag.text.markers import with_markers
from rag.types import Hit


def extractive_answer(question: str, hits: list[Hit], support, n: int) -> str:
    """The answer text, markers included, or "" when there are no passages."""
    if not hits:
        return ""
    texts = [h.chunk.text for h in hits]
    asks = parts(question)
    per_ask = n if len(asks) == 1 else 1
    chosen: list[tuple[int, tuple[int, int]]] = []
    for ask in asks:
        supports = support.score_many(ask, texts)
        order = sorted(range(len(hits)), key=lambda i: -supports[i].score)
        top = supports[order[0]].score
        for i in order[:per_ask]:
            span = supports[i].span
            if supports[i].score >= 0.8 * top and not any(i == j and overlap(span, s) for j, s in chosen):
                chosen.append((i, span))
    return " ".join(with_markers(" ".join(texts[i][a:b].split()), (i + 1,)) for i, (a, b) in chosen)
