"""Checks on the evidence before any draft: is there enough to answer from, and did the model
refuse.

- ``evidence_score``: the rarity-weighted share of the question's terms in the best passage;
  below the calibrated ``min_evidence`` the answerer refuses before generating;
- ``is_refusal``: the model said the passages do not hold the answer.
"""

from __future__ import annotations

import re

from rag.answering import prompts
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


def is_refusal(text: str) -> bool:
    """Whether the model's text says the passages do not hold the answer."""
    return bool(_REFUSAL.search(text.replace("’", "'")))
