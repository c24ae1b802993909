"""Numbers that are not quantities: references, labels, list numbering, page furniture, section
numbers, the digits of names; and the quantities that stay."""

from __future__ import annotations

import pytest

from rag.text.furniture import content_numbers, furniture, strip_non_quantities


@pytest.mark.parametrize(
    "text",
    [
        "le corpus Truc (12) contient des textes",
        "comme le montrent Smith et al. [3] et [4, 7]",
        "selon Martin et al. (3), puis [2-4]",
        "« Bidule » (8) le confirme",
    ],
)
def test_reference_markers_are_no_quantity(text):
    assert content_numbers(text) == set()


@pytest.mark.parametrize(
    "text",
    [
        "voir la Figure 3 et le Tableau 2",
        "décrit en section 4.1, au chap. 3, p. 12-15",
        "see Table 2, Fig. 7 and Appendix 4",
        "l'équation (5) de l'annexe B",
        "les pages 12 à 15 du chapitre 2",
        "le § 4 et la sous-section 2.3",
        "Page 3 / 10",
    ],
)
def test_labelled_numbers_are_no_quantity(text):
    assert content_numbers(text) == set()


def test_list_numbering_heading_a_line_is_no_quantity():
    assert content_numbers("1. Le four\n2) la pelle\n(3) le bois\na) la farine") == set()
    assert content_numbers("1. 175 milliards de paramètres") == {"175"}  # the item's own figure stays


def test_page_furniture_alone_on_a_line_is_no_quantity():
    assert content_numbers("fin de la page\n3/10\n- 4 -\nsuite") == set()
    assert content_numbers("le score est de 3/10 au test") == {"3", "10"}  # within a sentence, a figure


def test_section_numbers_heading_a_line_are_no_quantity():
    assert content_numbers("8 -1 – 1 -1 - Comment cuit le pain ?\n2.1\tLe four\n3 : enfourner") == set()


def test_the_digits_of_names_are_no_quantity():
    assert content_numbers("XYZ-7B, GPT-3.5, gpt-3.5-turbo, V3 et Llama3") == set()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("un modèle de 7 milliards de paramètres", {"7"}),
        ("il compte 175 B paramètres", {"175"}),
        ("une hausse de 12 %", {"12"}),
        ("publié en 2019", {"2019"}),
        ("Dupont, 2019 ; Smith (2019)", {"2019"}),
        ("3,5 millions de pains", {"3.5"}),
        ("par exemple 3 GPU, en ligne 24 h sur 24", {"3", "24"}),
        ("le four cuit cinq fournées", {"5"}),
    ],
)
def test_quantities_stay(text, expected):
    assert content_numbers(text) == expected


def test_furniture_is_blanked_in_place():
    text = "Truc (12) : Figure 3, 7 milliards"
    stripped = strip_non_quantities(text)
    assert len(stripped) == len(text) and stripped.endswith("7 milliards") and "12" not in stripped
    assert [text[a:b] for a, b in furniture(text)] == [" (12)", "Figure 3"]


def test_an_enumeration_flattened_into_a_line_is_no_quantity():
    assert content_numbers("étapes : 1: lire la page 2: noter les mots") == set()
    assert content_numbers("le four (Four Bois 12) cuit") == {"12"}
    assert content_numbers("le ratio 3:1 et 12 ans à 14:30") == {"3", "1", "12", "14", "30"}
