"""The one interface of the answer checks: a check takes the question and the answer's sentences
(each with the texts of the passages it cites, and whether they support it) and returns a
``Verdict`` (a reason code and a reason) when the answer cannot stand, else None.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from rag.text.markers import strip_markers


@dataclass(frozen=True)
class Verdict:
    """Why an answer cannot stand: ``code`` for programs, ``reason`` for people."""

    code: str
    reason: str


@dataclass(frozen=True)
class Sentence:
    """An answer sentence (citation markers out), the texts of the passages it cites, and
    whether they support it."""

    text: str
    passages: tuple[str, ...] = ()
    supported: bool = True


class Check(Protocol):
    code: str

    def __call__(self, question: str, sentences: Sequence[Sentence], whole: str | None = None) -> Verdict | None:
        """``whole``: the compound question ``question`` is a part of, when it is one."""
        ...


def sentences(answered: Sequence[tuple[str, Sequence[str]]]) -> list[Sentence]:
    """Supported ``(sentence, cited passage texts)`` pairs as ``Sentence``s, markers out."""
    return [Sentence(strip_markers(text), tuple(passages)) for text, passages in answered]


def answering(found: Sequence[Sentence]) -> list[Sentence]:
    """The sentences that answer: those their passages support (the others are the support
    check's business)."""
    return [s for s in found if s.supported]


def asking(question: str, whole: str | None) -> str:
    """What the question says, its whole compound question included: a number either states is
    none the answer adds (« FB-12 » named in one part answers no « combien » of another)."""
    return f"{question} {whole}" if whole else question


def run(checks: Sequence[Check], question: str, found: Sequence[Sentence], whole: str | None = None) -> Verdict | None:
    """The first verdict of ``checks``, in order, or None when every check lets the answer stand."""
    return next((v for check in checks if (v := check(question, found, whole)) is not None), None)
