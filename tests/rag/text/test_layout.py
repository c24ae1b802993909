"""Layout: tables of contents and reference lists are found, left out of windows, and make a
passage navigation."""

from __future__ import annotations

from rag.text.layout import is_navigation, references, table_of_contents, windows

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
