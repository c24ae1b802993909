"""The counted check on plain strings: « combien de X » is answered from passages that mention X."""

from __future__ import annotations

from rag.answering.checks import Counted, Sentence

MUSEUM = "Le musée municipal expose des tableaux flamands dans douze salles."


def test_a_count_from_passages_that_never_mention_what_is_counted_fails():
    found = Counted()(
        "Combien de fours électriques possède le musée ?", [Sentence("Le musée a douze salles.", (MUSEUM,))]
    )
    assert found is not None and found.code == "uncounted" and "fours" in found.reason


def test_a_count_from_passages_that_mention_it_passes():
    assert Counted()("Combien de salles compte le musée ?", [Sentence("Le musée a douze salles.", (MUSEUM,))]) is None


def test_generic_measures_and_answers_without_a_number_are_not_its_business():
    assert Counted()("Combien de temps dure la visite ?", [Sentence("Deux heures.", (MUSEUM,))]) is None
    assert Counted()("Combien de fours a le musée ?", [Sentence("Le musée expose des tableaux.", (MUSEUM,))]) is None
