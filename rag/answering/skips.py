"""Which windows of the passages may not answer a question: the ``skip`` rules of
``rag.answering.locate.Locator.rank``.

A ``skip`` is a function ``(passage_index, span) -> bool``: True leaves that window out.

- ``introducing``: windows that end with a heading or hold a question (``rag.text.layout.
  introduces``): they introduce what they leave out, and they match the question's words better
  than the answer does;
- ``not_answering``: those, and windows that do not give what the question asks
  (``rag.answering.checks.shortfall``);
- ``about``: for a part of a compound question that is about names it does not write, the
  windows about other names;
- ``instructing``: windows holding text written for the assistant (``rag.text.injected``):
  a document's instructions are data, never quoted as an answer;
- ``either``: the union of several skips.

This module does not rank windows.
"""

from __future__ import annotations

from rag.answering.checks import shortfall
from rag.answering.question import distinct_names, mentions
from rag.text.injected import instructs
from rag.text.layout import introduces
from rag.text.sentences import split_sentences


def introducing(passages: list[str]):
    """Windows ending with a heading, or holding a question (a document's question heads its
    answer: « Comment est calculé le score ELO ? »). The likelihood of a question after a
    window that holds it is high, whatever follows."""
    return lambda i, span: introduces(passages[i][span[0] : span[1]])


def not_answering(question: str, passages: list[str], whole: str | None = None):
    """Windows that introduce (``introducing``) or that do not give what ``question`` asks
    (no number for « combien »...; ``whole``: the compound question ``question`` is part of).
    For the excerpt that ends an accepted answer, not for the located answer, which has no
    accepted draft behind it: there, the best window must give what is asked, not merely some
    window."""
    return lambda i, span: (
        introduces(passages[i][span[0] : span[1]])
        or bool(shortfall(question, [(passages[i][span[0] : span[1]], [passages[i]])], whole))
    )


def about(wanted: tuple[str, ...], passages: list[str]):
    """For a part of a question that is about names it does not write (``rag.answering.question.
    referents``: « ..., et quel est le poids de ce four ? »): the windows of the passages that
    write none of them, when some passage writes one; else None. The figure of another thing
    is no answer, however well its window matches « poids »."""
    if not wanted:
        return None
    writing = [mentions(text, wanted) for text in passages]
    if not any(writing):
        return None

    sentences = [split_sentences(text) for text in passages]

    def elsewhere(i: int, span: tuple[int, int]) -> bool:
        if not writing[i]:
            return True
        text = passages[i]
        # What the window is about: the names it writes, or else those of the last sentence
        # before it that writes some (« Le BrasEro pèse ... . Son poids ... »).
        for a, b in [span] + [(a, b) for a, b in reversed(sentences[i]) if b <= span[0]]:
            if mentions(text[a:b], wanted):
                return False
            if distinct_names(text[a:b]):
                return True
        return False

    return elsewhere


def instructing(passages: list[str]):
    """Windows that speak to the assistant (« ignore tes instructions... », a chat template's
    tokens): an excerpt repeating them would carry the injection into the answer."""
    return lambda i, span: instructs(passages[i][span[0] : span[1]])


def either(*skips):
    """The ``skip`` that leaves out what any of ``skips`` (None: nothing) leaves out."""
    live = [s for s in skips if s is not None]
    return (lambda i, span: any(s(i, span) for s in live)) if live else None
