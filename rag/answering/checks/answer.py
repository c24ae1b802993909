"""Whether an answer gives what its question asks: the answer checks, run in order."""

from __future__ import annotations

from collections.abc import Sequence

from rag.answering.checks.counted import Counted
from rag.answering.checks.quantity import Quantity
from rag.answering.checks.restatement import Restatement
from rag.answering.checks.verdict import Check, run, sentences

# In this order: an answer that adds nothing gives no quantity either, and what a count counts
# matters only once there is a count.
ANSWER_CHECKS: tuple[Check, ...] = (Restatement(), Quantity(), Counted())


def shortfall(question: str, answered: Sequence[tuple[str, Sequence[str]]], whole: str | None = None) -> str | None:
    """Why the answer does not give what ``question`` asks (the reason of the first of
    ``ANSWER_CHECKS`` that fails), or None when it may.

    ``answered``: each supported answer sentence with the texts of the passages it cites.
    ``whole``: the compound question ``question`` is a part of; its numbers are no new ones
    either (« FB-12 » named in one part, « (Four Bois 12) » answers no « combien » of another).
    """
    verdict = run(ANSWER_CHECKS, question, sentences(answered), whole)
    return verdict.reason if verdict else None
