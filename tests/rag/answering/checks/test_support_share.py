"""The support check on plain strings: at most a share of an answer's sentences may be unsupported."""

from __future__ import annotations

from rag.answering.checks import Sentence, SupportShare


def test_too_many_unsupported_sentences_fail():
    sentences = [Sentence("a"), Sentence("b", supported=False), Sentence("c", supported=False)]
    found = SupportShare(max_unsupported=0.5)("q", sentences)
    assert found is not None and found.code == "unsupported" and found.reason.startswith("2 of 3 sentences")
    assert SupportShare(max_unsupported=0.7)("q", sentences) is None


def test_an_answer_with_no_sentence_says_nothing():
    assert SupportShare(max_unsupported=1.0)("q", []) is not None
