"""What a question asks for: quantities, what is counted, restatements."""

from __future__ import annotations

from rag.answering.checks import shortfall
from rag.answering.question import asked, distinct_names, mentions, names, parts, quantities, referents

BAKERY = "Le fournil emploie trois boulangers et cuit 400 baguettes par jour dans un four à bois."
MUSEUM = "Le musée municipal expose des tableaux flamands dans douze salles."


def test_combien_asks_for_a_quantity_and_names_what_is_counted():
    assert asked("Combien de boulangers emploie le fournil ?").counted == "boulangers"
    assert asked("Combien d'employés a le fournil ?").counted == "employés"
    assert asked("Combien coûte l'entrée ?").quantity and asked("Combien coûte l'entrée ?").counted is None
    assert asked("Combien de temps cuit le pain ?").counted is None  # a measure, not a thing counted
    assert not asked("Quel bois chauffe le four ?").quantity


def test_a_measure_noun_after_quel_asks_for_a_quantity():
    for question in (
        "Quel score obtient le pain au concours ?",
        "Quelle est la taille du four ?",
        "Quel volume de farine livre le meunier ?",
        "Quels chiffres donne le rapport ?",
    ):
        want = asked(question)
        assert want.quantity and want.counted is None, question
    assert not asked("Quel bois chauffe le four ?").quantity
    assert not asked("Quelle partie du four chauffe le plus ?").quantity  # "partie" is not "part"
    assert shortfall("Quelle est la taille du four ?", [("Le four est grand.", [BAKERY])]) is not None
    assert shortfall("Quelle est la taille du four ?", [("Le four mesure trois mètres.", [BAKERY])]) is None


def test_a_compound_question_splits_into_the_questions_it_asks():
    assert parts("Quel bois chauffe le four, et combien de salles compte le musée ?") == [
        "Quel bois chauffe le four ?",
        "Combien de salles compte le musée ?",
    ]
    assert parts("Qui a peint ce tableau et dans quelle ville vivait-il ?") == [
        "Qui a peint ce tableau ?",
        "Dans quelle ville vivait-il ?",
    ]
    assert parts("Le pain et la brioche cuisent-ils au bois ?") == ["Le pain et la brioche cuisent-ils au bois ?"]
    # "et quand" names nothing of its own: one question about one subject
    assert parts("Qui a peint ce tableau et quand ?") == ["Qui a peint ce tableau et quand ?"]


def test_names_are_words_with_capitals_past_the_first_or_with_digits():
    assert names("Quel four le Fournil-Dupont vend-il, le FB-12 ou le Brasero ?") == [
        "Fournil-Dupont",
        "FB-12",
        "Brasero",
    ]
    assert names("Combien coûte l'entrée du musée ?") == []
    # Capitalised words and acronyms may be anything's; a name with digits or a capital after
    # a small letter is one thing's.
    assert distinct_names("Le FB-12 du Fournil et le BrasEro chauffent. Le LLM aussi.") == ["FB-12", "BrasEro"]


def test_a_part_that_names_nothing_is_about_the_names_before_it():
    question = "Que veut dire le sigle FB dans FB-12, et quelle est la taille de ce four ?"
    assert referents(question) == [
        ("Que veut dire le sigle FB dans FB-12 ?", ()),
        ("Quelle est la taille de ce four ?", ("FB", "FB-12")),
    ]
    # a part that names its own subject is about it
    assert referents("Quel four vend Dupont, et combien coûte le Brasero ?") == [
        ("Quel four vend Dupont ?", ()),
        ("Combien coûte le Brasero ?", ()),
    ]
    assert referents("Quelle est la taille du FB-12 ?") == [("Quelle est la taille du FB-12 ?", ())]


def test_the_numbers_of_the_whole_question_are_no_answer_to_one_of_its_parts():
    part, whole = "Quel est le poids de ce four ?", "Que veut dire FB dans FB-12, et quel est le poids de ce four ?"
    window = [("Le FB-12 (Four Bois 12) est le four de Dupont.", ["Le FB-12 (Four Bois 12) est le four de Dupont."])]
    assert shortfall(part, window) is None  # « 12 », read alone, is a number the part does not hold
    assert shortfall(part, window, whole) is not None


def test_a_name_is_mentioned_whatever_its_case_and_separators():
    assert mentions("le four FB12 chauffe", ["FB-12"]) and mentions("FB 12", ["FB-12"])
    assert mentions("Le BRASERO", ["Brasero"]) and mentions("FB-12 :", ["Dupont", "FB-12"])
    assert not mentions("un four FB-120", ["FB-12"])
    assert not mentions("il compte trois fours", ["MPT"])  # a whole word, not letters inside one
    assert not mentions("rien", [])


def test_quantities_read_digits_and_number_words_not_articles():
    assert quantities("1 800 milliards, soit 1,7 million") == {"1800", "milliards", "1.7", "million"}
    assert quantities("trois boulangers et une dizaine d'apprentis") == {"trois", "dizaine"}
    assert quantities("un four et une pelle") == set()


def test_an_answer_with_the_number_of_what_is_asked_passes():
    question = "Combien de boulangers emploie le fournil ?"
    assert shortfall(question, [("Le fournil emploie trois boulangers [1].", [BAKERY])]) is None
    assert shortfall("Combien coûte l'entrée ?", [("Elle coûte 8 euros [1].", [MUSEUM])]) is None


def test_a_count_of_something_the_passages_never_mention_is_not_an_answer():
    question = "Combien de fours électriques possède le musée ?"
    reason = shortfall(question, [("Le musée a douze salles [1].", [MUSEUM])])
    assert reason is not None and "fours" in reason


def test_a_how_many_question_answered_without_a_number_is_not_answered():
    question = "Combien de salles compte le musée ?"
    reason = shortfall(question, [("Le musée expose des tableaux flamands [1].", [MUSEUM])])
    assert reason is not None and "no number" in reason
    # the question's own numbers do not count as an answer
    assert shortfall("Combien de salles en 2024 ?", [("En 2024, des salles [1].", [MUSEUM])]) is not None


def test_restating_the_question_is_not_an_answer():
    question = "Quel bois chauffe le four du fournil ?"
    assert "restates" in shortfall(question, [("Le bois chauffe le four du fournil [1].", [BAKERY])])
    assert shortfall(question, [("Le four du fournil est chauffé au chêne [1].", [BAKERY])]) is None
    assert shortfall(question, []) is None  # nothing answered: other checks decide


def test_the_digits_of_a_name_are_no_quantity():
    assert quantities("basé sur GPT-3.5 (gpt-3.5-turbo), puis V3 et Llama3") == set()
    assert quantities("BLOOM compte 176B paramètres, Llama 3.2 en a 1 800") == {"176", "3.2", "1800"}
    question = "Combien coûte l'abonnement mensuel au fournil ?"
    answer = [("Le fournil vend le pain Levain-2 et la baguette T65 [1].", ["Le fournil vend le pain Levain-2."])]
    assert shortfall(question, answer) == "the question asks how many and the answer gives no number"


def test_a_section_number_heading_a_line_is_no_quantity():
    assert quantities("8 -1 – 1 -1 - Comment cuit le pain ?\n\n2.1\tLe four\n3 : enfourner") == set()
    assert quantities("5 millions de pains\n0.5 pour un match nul\n2023 : le four") == {"5", "millions", "0.5", "2023"}
    question = "Quel chiffre donne le fournil pour sa production ?"
    answer = [("8 -3 -17 - La production du fournil\n\nLe fournil produit du pain.", [BAKERY])]
    assert shortfall(question, answer) == "the question asks how many and the answer gives no number"


def test_a_name_of_the_question_written_apart_gives_no_quantity():
    question = "Quelle taille les notes donnent-elles pour GPT-4 ?"
    assert shortfall(question, [("Une comparaison avec GPT – 4 [1].", ["GPT – 4 est grand."])]) is not None
    assert shortfall(question, [("GPT – 4 compte 1 800 milliards de paramètres [1].", ["1 800 milliards"])]) is None
