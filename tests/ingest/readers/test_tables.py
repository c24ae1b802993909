"""The one row convention every table reader shares, and the per-file cap."""

from __future__ import annotations

import pytest

from ingest.readers.tables import RowBudget, looks_like_header, row_sentences
from rag.errors import ReadError
from rag.text.sentences import split_sentences


def test_rows_carry_their_header_names():
    rows = [
        ["Produit", "Prix", "Remarque"],
        ["Baguette", "1,20 €", ""],
        ["", "", ""],
        ["Croissant", "1,10 €", "beurre AOP"],
    ]
    assert row_sentences(rows) == [
        "Produit : Baguette ; Prix : 1,20 €.",
        "Produit : Croissant ; Prix : 1,10 € ; Remarque : beurre AOP.",
    ]


def test_each_row_is_a_sentence_of_its_own():
    text = "\n".join(row_sentences([["Nom", "Ville"], ["Dupont", "Lyon"], ["Martin", "Tours"], ["Petit", "Albi"]]))
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "Nom : Dupont ; Ville : Lyon.",
        "Nom : Martin ; Ville : Tours.",
        "Nom : Petit ; Ville : Albi.",
    ]


def test_no_header_when_the_first_row_is_data():
    assert row_sentences([["2023", "1 184 000"], ["2024", "1 250 000"]]) == ["2023 ; 1 184 000.", "2024 ; 1 250 000."]
    assert not looks_like_header(["Nom", "Nom"])  # two columns alike: not names
    assert not looks_like_header(["Nom", "12,5 %"])
    assert not looks_like_header(["Seule colonne"])  # one column is a list, not a table
    assert looks_like_header(["Nom", "", "Date d'entrée"])


def test_a_header_alone_is_kept_as_a_row():
    assert row_sentences([["Nom", "Ville"]]) == ["Nom ; Ville."]


def test_extra_cells_and_unnamed_columns_keep_their_values():
    rows = [["Nom", "", "Ville"], ["Dupont", "note", "Lyon", "en plus"]]
    assert row_sentences(rows) == ["Nom : Dupont ; note ; Ville : Lyon ; en plus."]


def test_final_punctuation_is_not_doubled():
    assert row_sentences([["Question", "Réponse"], ["Livrez-vous ?", "Oui, le mardi."]]) == [
        "Question : Livrez-vous ? ; Réponse : Oui, le mardi."
    ]


def test_budget_counts_filled_rows_and_cells_only():
    budget = RowBudget("ce classeur", max_rows=2, max_cells=5)
    budget.take(["", ""])
    budget.take(["a", "b"])
    budget.take(["c", "", "d"])
    with pytest.raises(ReadError, match="more than 2 filled rows"):
        budget.take(["e"])
    budget = RowBudget("ce classeur", max_rows=10, max_cells=3)
    budget.take(["a", "b"])
    with pytest.raises(ReadError, match="more than 3 filled cells.*split it"):
        budget.take(["c", "d"])
