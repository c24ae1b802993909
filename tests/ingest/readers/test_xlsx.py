"""Excel workbooks, made here with openpyxl."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from rag.errors import ReadError

openpyxl = pytest.importorskip("openpyxl")


def make_xlsx(sheets: dict[str, list[list]]) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


BOOK = {
    "Tarifs": [
        ["Produit", "Prix", "Depuis"],
        ["Baguette", 1.2, dt.date(2024, 1, 2)],
        [],
        ["Croissant", 1.1, None],
        ["Pain de mie", 3.0, dt.datetime(2024, 3, 1, 7, 30)],
    ],
    "Vide": [],
    "Stock": [["Article", "Quantité", "Bio"], ["Farine", 40, True]],
}


def test_sheets_are_headings_rows_are_sentences(read_file):
    doc = read_file("classeur.xlsx", make_xlsx(BOOK))
    assert doc.format == "xlsx" and doc.pages == ()
    assert doc.text == (
        "Tarifs\n\n"
        "Produit : Baguette ; Prix : 1.2 ; Depuis : 2024-01-02.\n"
        "Produit : Croissant ; Prix : 1.1.\n"
        "Produit : Pain de mie ; Prix : 3 ; Depuis : 2024-03-01 07:30:00.\n\n"
        "Stock\n\n"
        "Article : Farine ; Quantité : 40 ; Bio : VRAI."
    )
    assert [(h.level, h.title) for h in doc.headings] == [(1, "Tarifs"), (1, "Stock")]
    assert doc.heading_path_at(doc.text.index("Farine")) == ("Stock",)


def test_formula_cells_give_their_saved_value(read_file):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Article", "Quantité"])
    sheet.append(["Farine", "=20*2"])  # openpyxl saves no computed value: the cell reads as empty
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert read_file("formules.xlsx", buffer.getvalue()).text == "Sheet\n\nArticle : Farine."


def test_a_far_away_cell_does_not_blow_up_the_rows(read_file):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Nom", "Ville"])
    sheet.append(["Dupont", "Lyon"])
    sheet["XFD50000"] = "loin"  # the saved dimension is now A1:XFD50000
    buffer = io.BytesIO()
    workbook.save(buffer)
    doc = read_file("loin.xlsx", buffer.getvalue())
    assert doc.text.endswith("Nom : Dupont ; Ville : Lyon.\nloin.")


def test_row_cap(read_file, monkeypatch):
    import ingest.readers.tables as tables

    monkeypatch.setattr(tables, "MAX_ROWS", 10)
    data = make_xlsx({"Grande": [["Nom", "Ville"]] + [[f"Nom {i}", "Lyon"] for i in range(20)]})
    with pytest.raises(ReadError, match="this workbook has more than 10 filled rows"):
        read_file("grande.xlsx", data)


def test_empty_workbook(read_file):
    with pytest.raises(ReadError, match="no text found in this workbook"):
        read_file("vide.xlsx", make_xlsx({"Vide": []}))


def test_legacy_or_protected_workbook(read_file):
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2000)
    with pytest.raises(ReadError, match="password-protected workbook or an old .xls"):
        read_file("protege.xlsx", ole)


def test_corrupt_xlsx(read_file):
    with pytest.raises(ReadError, match="not a valid .xlsx file"):
        read_file("a.xlsx", b"PK\x03\x04 nothing")
    with pytest.raises(ReadError, match="xlsx"):
        read_file("b.xlsx", make_xlsx(BOOK)[:1500])


def test_ingested_rows_carry_their_sheet(ingest_file):
    record, chunks = ingest_file("classeur.xlsx", make_xlsx(BOOK))
    assert record.format == "xlsx" and record.n_pages == 0
    stock = next(c for c in chunks if "Farine" in c.text)
    assert stock.heading_path == ("Stock",) and stock.page is None
    assert all("Croissant" not in c.text for c in chunks if c.heading_path == ("Stock",))
