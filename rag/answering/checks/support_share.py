"""The support check: an answer is made of sentences its passages support."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rag.answering.checks.verdict import Sentence, Verdict


@dataclass(frozen=True)
class SupportShare:
    """An answer stands only when its passages support it: no more than ``max_unsupported`` of
    its sentences (a calibrated share) may lack a supporting passage, and an answer with no
    sentence says nothing."""

    max_unsupported: float
    code: ClassVar[str] = "unsupported"

    def __call__(self, question: str, sentences: Sequence[Sentence], whole: str | None = None) -> Verdict | None:
        unsupported = sum(not s.supported for s in sentences)
        if sentences and unsupported / len(sentences) <= self.max_unsupported:
            return None
        return Verdict(self.code, f"{unsupported} of {len(sentences)} sentences are not supported by the passages")
