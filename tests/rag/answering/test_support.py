"""The support check without an NLI model: lexical only here (no embedder), so scores are exact."""

from __future__ import annotations

from rag.answering.support import LexicalSemanticSupport

PASSAGE = (
    "Le fournil ouvre à sept heures. Le consortium des boulangers du canton compte 17 membres. "
    "Le pain cuit dans un four à bois. Chaque membre livre 2 tournées par jour."
)


def support():
    return LexicalSemanticSupport(embedder=None)


def test_a_figure_in_digits_is_held_by_the_same_number_in_words():
    question = "À quelle heure ouvre le fournil ?"
    assert support().score_many("Le fournil ouvre à 7 heures.", [PASSAGE], question)[0].score == 1.0
    assert support().score_many("Le fournil ouvre à 8 heures.", [PASSAGE], question)[0].score == 0.0


def test_a_number_word_in_the_question_meets_the_digits_of_the_passage():
    cold, warm = "À 0 degré, la pâte ne lève plus.", "À 25 degrés, la pâte lève vite."
    at_cold, at_warm = support().score_many("Que fait la pâte à zéro degré ?", [cold, warm])
    assert at_cold.lexical > at_warm.lexical


def test_a_terse_answer_needs_the_window_to_be_about_the_question():
    question = "Combien de membres compte le consortium des boulangers ?"
    right = support().score_many("17", [PASSAGE], question)[0]
    assert right.score == 1.0
    assert PASSAGE[right.span[0] : right.span[1]].startswith("Le consortium")
    # "2" is in the passage too, but not in a window (one or two sentences) about the consortium
    wrong = support().score_many("2", [PASSAGE], question)[0]
    assert wrong.score < right.score


def test_an_invented_number_scales_the_score_down():
    question = "Combien de membres compte le consortium ?"
    good = support().score_many("Le consortium compte 17 membres.", [PASSAGE], question)[0].score
    invented = support().score_many("Le consortium compte 64 membres.", [PASSAGE], question)[0].score
    assert good == 1.0
    assert invented == 0.0


def test_numbers_taken_from_the_question_are_not_required():
    question = "Que fait chacun des 17 membres ?"
    score = support().score_many("Chaque membre livre 2 tournées par jour.", [PASSAGE], question)[0].score
    assert score > 0.5


def test_new_terms_weigh_more_than_the_question_terms():
    question = "Que livre chaque membre du consortium ?"
    invented = support().score_many("Chaque membre livre des croissants au beurre.", [PASSAGE], question)[0]
    right = support().score_many("Chaque membre livre deux tournées.", [PASSAGE], question)[0]
    assert right.score > invented.score


def test_without_a_question_the_sentence_alone_is_checked():
    assert support().score_many("Le fournil ouvre à sept heures.", [PASSAGE])[0].score == 1.0


def test_a_number_moved_onto_another_thing_is_not_supported():
    passage = "Le fournil compte 17 boulangers. Le four cuit 300 pains par jour."
    question = "Combien de fours compte le fournil ?"
    moved = support().score_many("Le fournil compte 17 fours.", [passage], question)[0]
    kept = support().score_many("Le fournil compte 17 boulangers.", [passage], question)[0]
    assert moved.score == 0.0 and kept.score > 0.5


def test_a_terse_figure_keeps_the_support_of_the_window_that_counts_it():
    passage = "Dans sa dernière version, le modèle compte 1,7 trillion de paramètres."
    question = "Combien de paramètres compte le modèle ?"
    assert support().score_many("Il en compte 1,7 trillion.", [passage], question)[0].score > 0.5


def test_a_figure_or_reference_number_in_a_window_holds_no_answer_figure():
    question = "Combien de pains contient le corpus Fournée ?"
    marker = "Le corpus Fournée (12) rassemble des pains de campagne."
    label = "Le corpus Fournée rassemble des pains de campagne, voir la Figure 12."
    stated = "Le corpus Fournée rassemble 12 pains de campagne."
    claim = "Le corpus Fournée contient 12 pains."
    at_marker, at_label, at_stated = support().score_many(claim, [marker, label, stated], question)
    assert at_marker.score == 0.0 and at_label.score == 0.0 and at_stated.score > 0.0
