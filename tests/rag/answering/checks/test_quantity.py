"""The quantity check on plain strings: a question asking how much gets a number of the answer's own."""

from __future__ import annotations

from rag.answering.checks import Quantity, Sentence

PASSAGES = ("Le four mesure trois mètres.",)


def verdict(question: str, answer: str):
    return Quantity()(question, [Sentence(answer, PASSAGES)])


def test_a_measure_question_answered_without_a_number_fails():
    found = verdict("Quelle est la taille du four ?", "Le four est grand.")
    assert found is not None and found.code == "no_quantity" and "no number" in found.reason
    assert verdict("Quelle est la taille du four ?", "Le four mesure trois mètres.") is None
    assert verdict("Quel bois chauffe le four ?", "Le four est chauffé au chêne.") is None  # no quantity asked


def test_the_question_s_own_quantities_and_the_text_s_furniture_are_no_answer():
    assert verdict("Combien de salles en 2024 ?", "En 2024, des salles.") is not None
    assert verdict("Combien de pains cuit le fournil ?", "Le fournil cuit des pains (voir Figure 3).") is not None
    assert verdict("Combien de pains cuit le fournil ?", "Le corpus Fournée (12) décrit le fournil.") is not None
    assert verdict("Combien coûte la baguette ?", "Le fournil vend la baguette T65.") is not None


def test_a_number_inside_a_name_of_the_question_is_not_its_quantity():
    question = "Quelle est la taille du modèle Zorbax-7B et qui l'a développé ?"
    assert verdict(question, "Zorbax-7B est un modèle de 7 milliards de paramètres, développé par Quux.") is None
    assert verdict(question, "Un modèle de langage de 7 milliards de paramètres.") is None
    assert verdict(question, "Le modèle Zorbax-7B compte 7B paramètres.") is None
    assert verdict(question, "Il compte 7 paramètres, et Quux l'a développé.") is None
    # the name written apart, or its digits alone counting nothing, state no quantity
    assert verdict(question, "Le modèle Zorbax – 7B a été développé par Quux.") is not None
    assert verdict(question, "Le modèle Zorbax (version 7) vient de Quux.") is not None


def test_a_quantity_the_question_states_is_its_own():
    question = "Combien de paramètres après les 7 milliards du Zorbax ?"
    assert verdict(question, "Plus de 7 milliards.") is not None
