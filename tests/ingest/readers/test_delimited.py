"""CSV and TSV files: delimiter sniffing, French Excel exports, the row convention."""

from __future__ import annotations

import pytest

from rag.errors import ReadError


def test_french_excel_export(read_file):
    # Semicolons (the comma is the decimal mark), Windows-1252, CRLF, a quoted field.
    data = 'Produit;Prix;Remarque\r\nBaguette;1,20;"croustillante; dorée"\r\n;;\r\nCroissant;1,10;\r\n'
    doc = read_file("tarifs.csv", data.encode("cp1252"))
    assert doc.format == "csv" and doc.headings == () and doc.pages == ()
    assert doc.text == (
        "Produit : Baguette ; Prix : 1,20 ; Remarque : croustillante; dorée.\nProduit : Croissant ; Prix : 1,10."
    )


def test_comma_separated_utf8_with_bom(read_file):
    doc = read_file("a.csv", "\ufeffProduit,Prix\nBaguette,1.20\nÉclair,2.50\n".encode())
    assert doc.text == "Produit : Baguette ; Prix : 1.20.\nProduit : Éclair ; Prix : 2.50."


def test_tab_and_pipe_separated(read_file):
    assert read_file("a.tsv", b"Nom\tVille\nDupont\tLyon, France\n").text == "Nom : Dupont ; Ville : Lyon, France."
    assert read_file("b.csv", b"Nom|Ville\nDupont|Lyon\nMartin|Tours\n").text == (
        "Nom : Dupont ; Ville : Lyon.\nNom : Martin ; Ville : Tours."
    )


def test_data_without_a_header(read_file):
    doc = read_file("mesures.csv", b"2023;1184000\n2024;1250000\n")
    assert doc.text == "2023 ; 1184000.\n2024 ; 1250000."


def test_one_column(read_file):
    doc = read_file("liste.csv", "Farine de blé\nLevain\nSel de Guérande\n".encode())
    assert doc.text == "Farine de blé.\nLevain.\nSel de Guérande."


def test_row_cap(read_file, monkeypatch):
    import ingest.readers.tables as tables

    monkeypatch.setattr(tables, "MAX_CELLS", 50)
    data = "\n".join(["Nom;Ville"] + [f"Nom {i};Lyon" for i in range(40)]).encode()
    with pytest.raises(ReadError, match="this CSV file has more than 50 filled cells"):
        read_file("grand.csv", data)


def test_empty_and_binary(read_file):
    with pytest.raises(ReadError, match="^empty"):
        read_file("vide.csv", b";;;\n;;\n")
    with pytest.raises(ReadError, match="binary"):
        read_file("image.csv", bytes(range(256)) * 10)


def test_field_over_the_csv_limit(read_file):
    with pytest.raises(ReadError, match="not a readable CSV file"):
        read_file("long.csv", b'a;b\n"' + b"x" * 200_000 + b'";1\n')


def test_ingested_rows_are_chunks_of_whole_rows(ingest_file):
    rows = ["Nom;Ville;Métier"] + [f"Personne {i};Ville {i};boulanger ou pâtissier" for i in range(60)]
    record, chunks = ingest_file("equipe.csv", "\n".join(rows).encode())
    assert record.format == "csv" and len(chunks) > 1
    for chunk in chunks:
        lines = chunk.text.split("\n")
        assert all(line.startswith("Nom : Personne") and line.endswith("pâtissier.") for line in lines)
