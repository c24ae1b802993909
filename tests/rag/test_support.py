"""The support check without an NLI model: lexical only here (no embedder), so scores are exact."""

from rag.answering.support import LexicalSemanticSupport
from rag.text.layout import is_navigation, references, table_of_contents, windows
from rag.text.numbers import counted, numbers

PASSAGE = (
    "Le fournil ouvre à sept heures. Le consortium des boulangers du canton compte 17 membres. "
    "Le pain cuit dans un four à bois. Chaque membre livre 2 tournées par jour."
)


def support():
    return LexicalSemanticSupport(embedder=None)


def test_numbers_are_normalised():
    assert numbers("1 800 milliards, soit 1,7 billion et 45 %") == {"1800", "1.7", "45"}


def test_simple_number_words_count_as_their_digits():
    assert numbers("cinq fournées de douze pains") == {"5", "12"}
    assert numbers("vingt-deux, un pain, 7 mille") == {"7"}  # compounds, articles and scales are left alone


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


BOOKLET = (
    "Le guide du fournil\n\nSommaire\n"
    "1\tLe levain\t2\n"
    "1.1\tNourrir le levain chaque jour\t3\n"
    "1.2\tLa pâte : pétrissage et pointage\t5\n"
    "2\tLa cuisson au feu de bois . . . . . . 9\n"
    "\n2.1 Le four\nLe four à bois chauffe au chêne pendant deux heures avant la première fournée.\n"
)


def test_table_of_contents_lines_are_found():
    found = [BOOKLET[a:b] for a, b in table_of_contents(BOOKLET)]
    assert found == [
        "1\tLe levain\t2",
        "1.1\tNourrir le levain chaque jour\t3",
        "1.2\tLa pâte : pétrissage et pointage\t5",
        "2\tLa cuisson au feu de bois . . . . . . 9",
    ]


def test_tables_and_prose_are_not_a_table_of_contents():
    ranking = "1\tSeigle\t540\n2\tÉpeautre\t175\n3\tFroment\t70\n"  # the last column falls
    scores = "1\tMarie\tPain de mie\t39\tJean\t4\n2\tLéa\tBrioche\t41\tPaul\t5\n3\tNoé\tFougasse\t44\tAnne\t6\n"
    two = "1\tLe levain\t2\n1.1\tNourrir le levain\t3\nLe levain se nourrit de farine et d'eau.\n"
    prose = "Le fournil ouvre en 1998.\nIl emploie 12 boulangers et cuit 300 pains par jour, soit 2100 par semaine 7\n"
    assert [table_of_contents(t) for t in (ranking, scores, two, prose)] == [[], [], [], []]


def test_windows_leave_out_the_table_of_contents():
    texts = [BOOKLET[a:b] for a, b in windows(BOOKLET)]
    assert not any("Nourrir" in t or "pétrissage" in t for t in texts)
    assert any("Le four à bois chauffe" in t for t in texts)
    assert windows("Le pain cuit. Il refroidit.") == [(0, 13), (14, 27), (0, 27)]


def test_a_passage_mostly_of_contents_is_navigation():
    assert is_navigation(BOOKLET.split("\n\n2.1")[0])
    assert not is_navigation(BOOKLET.replace("Le four à bois", "Le four à bois " * 30))
    assert not is_navigation("Le pain cuit. Il refroidit.")


SOURCES = (
    "Le levain se nourrit de farine et d'eau tiède.\n"
    "- 12) Dupont, Marie. *Le pain au levain*. 2019, <https://exemple.fr/levain>.\n"
    "[13] Les fours à bois, https://exemple.fr/fours. Consulté le 3 mai 2024.\n"
    "14. <https://exemple.fr/farines>\n"
    "3. Le levain, dont la note 12 donne la recette complète, se garde une semaine au frais "
    "dans un bocal fermé, à condition de le nourrir au moins une fois tous les deux jours avec de la "
    "farine de seigle, voir https://exemple.fr/garde.\n"
    "4. **Pétrissage :** dix minutes à la main.\n"
)


def test_reference_entries_are_numbered_lines_with_a_link_and_few_words():
    found = [SOURCES[a:b] for a, b in references(SOURCES)]
    assert found == [
        "- 12) Dupont, Marie. *Le pain au levain*. 2019, <https://exemple.fr/levain>.",
        "[13] Les fours à bois, https://exemple.fr/fours. Consulté le 3 mai 2024.",
        "14. <https://exemple.fr/farines>",
    ]  # the long footnote explains something; the list item has no link


def test_windows_leave_out_reference_entries_and_a_bibliography_is_navigation():
    texts = [SOURCES[a:b] for a, b in windows(SOURCES)]
    listed = {SOURCES[a:b] for a, b in references(SOURCES)}
    assert not any(t.strip() in listed for t in texts)  # never a window made of reference entries alone
    assert any("Dupont" in t and "Le levain se nourrit" in t for t in texts)  # one beside prose is kept
    assert any(t.startswith("Le levain se nourrit") for t in texts) and any("Pétrissage" in t for t in texts)
    bibliography = "Références\n" + "".join(
        f"- {n}) Auteur {n}. *Titre {n}*. <https://exemple.fr/{n}>\n" for n in range(5)
    )
    assert is_navigation(bibliography) and not is_navigation(SOURCES)


def test_what_a_number_counts():
    assert counted("GPT-4 compte 1,7 trillion de paramètres et 96 couches.") == {"1.7": {"parametr"}, "96": {"couch"}}
    assert counted("Il a fallu 1 800 GPU, soit 43 % du parc, en 2017.") == {"1800": {"gpu"}}
    assert counted("GPT-4 : 1,7 trillion. PaLM : 540 milliards 5 millions de livres") == {"5": {"livr"}}


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
