"""The restatement check on plain strings: an answer must add a term or a quantity of its own."""

from __future__ import annotations

from rag.answering.checks import Restatement, Sentence

QUESTION = "Quel bois chauffe le four du fournil ?"
PASSAGES = ("Le four du fournil est chauffé au chêne.",)


def test_an_answer_made_of_the_question_s_words_only_restates_it():
    verdict = Restatement()(QUESTION, [Sentence("Le bois chauffe le four du fournil.", PASSAGES)])
    assert verdict is not None and verdict.code == "restatement" and "restates" in verdict.reason


def test_a_term_or_a_quantity_of_its_own_is_an_answer():
    assert Restatement()(QUESTION, [Sentence("Le four du fournil est chauffé au chêne.", PASSAGES)]) is None
    assert Restatement()("Combien de fours a le fournil ?", [Sentence("Le fournil a 3 fours.", PASSAGES)]) is None


def test_only_supported_sentences_count_and_none_means_nothing_to_judge():
    unsupported = Sentence("Le four du fournil est chauffé au chêne.", PASSAGES, supported=False)
    assert Restatement()(QUESTION, [unsupported]) is None
    assert Restatement()(QUESTION, []) is None
