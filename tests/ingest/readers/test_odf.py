"""OpenDocument text, slides and sheets, made here with odfdo."""

from __future__ import annotations

import io
import zipfile

import pytest

from rag.errors import ReadError

odfdo = pytest.importorskip("odfdo")


def save(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_odt() -> bytes:
    from odfdo import Document, Header, List, Note, Paragraph, Table

    document = Document("text")
    body = document.body
    body.clear()
    body.append(Paragraph("Le Fournil des Coteaux", style="Title"))
    body.append(Header(1, "Le pain"))
    paragraph = Paragraph("Le pain est cuit chaque matin à six heures.")
    paragraph.append(Note(note_id="n1", citation="1", body="Sauf le lundi, jour de fermeture."))
    body.append(paragraph)
    body.append(List(["farine du moulin voisin", "levain maison"]))
    body.append(Header(2, "Tarifs"))
    table = Table("Tarifs", width=2, height=3)
    table.set_values([["Produit", "Prix"], ["Baguette", "1,20 €"], ["Croissant", "1,10 €"]])
    body.append(table)
    body.append(Header(1, "Horaires"))
    body.append(Paragraph("La boutique ouvre du mardi au dimanche."))
    return save(document)


def make_odp(notes: str = "") -> bytes:
    from odfdo import Document, DrawPage, Frame

    document = Document("presentation")
    document.body.clear()
    slides = [
        ("Bienvenue", [("5cm", "Présentation du fournil")]),
        (None, [("9cm", "En bas de la diapositive"), ("3cm", "En haut de la diapositive")]),
        ("Tarifs", [("5cm", "La baguette coûte 1,20 €.")]),
    ]
    for number, (title, frames) in enumerate(slides, start=1):
        page = DrawPage(f"p{number}", name=f"page{number}")
        for top, text in frames:
            page.append(Frame.text_frame(text, position=("2cm", top), size=("20cm", "3cm")))
        if title:
            page.append(Frame.text_frame(title, presentation_class="title", position=("2cm", "1cm")))
        if notes and number == 1:
            from odfdo.element import Element

            speaker = Element.from_tag("<presentation:notes/>")
            speaker.append(Frame.text_frame(notes, presentation_class="notes"))
            page.append(speaker)
        document.body.append(page)
    return save(document)


def make_ods(sheets: dict[str, list[list]]) -> bytes:
    from odfdo import Document, Table

    document = Document("spreadsheet")
    document.body.clear()
    for name, rows in sheets.items():
        table = Table(name)
        if rows:
            table.set_values(rows)
        document.body.append(table)
    return save(document)


# --- .odt -------------------------------------------------------------------------------------


def test_odt_paragraphs_headings_and_table(read_file):
    doc = read_file("charte.odt", make_odt())
    assert doc.format == "odt" and doc.pages == ()
    assert [(h.level, h.title) for h in doc.headings] == [
        (1, "Le Fournil des Coteaux"),  # a paragraph styled Title
        (1, "Le pain"),
        (2, "Tarifs"),
        (1, "Horaires"),
    ]
    for heading in doc.headings:
        assert doc.text[heading.offset :].startswith(heading.title)
    assert "Le pain est cuit chaque matin à six heures.\n\nfarine du moulin voisin\n\nlevain maison" in doc.text
    assert "Produit : Baguette ; Prix : 1,20 €.\nProduit : Croissant ; Prix : 1,10 €." in doc.text
    assert "Sauf le lundi" not in doc.text  # a footnote would cut its sentence in two
    assert doc.heading_path_at(doc.text.index("Croissant")) == ("Le pain", "Tarifs")


def test_odt_whitespace_follows_odf_rules(read_file):
    from odfdo import Document, Paragraph

    document = Document("text")
    document.body.clear()
    paragraph = Paragraph("Deux  espaces\tune tabulation\nune ligne")  # odfdo writes text:s, text:tab, line-break
    document.body.append(paragraph)
    assert read_file("a.odt", save(document)).text == "Deux  espaces une tabulation\nune ligne"


def test_odt_without_text(read_file):
    from odfdo import Document

    with pytest.raises(ReadError, match="no text found in this .odt file"):
        read_file("vide.odt", save(Document("text")))


def test_odf_kind_must_match_the_suffix(read_file):
    with pytest.raises(ReadError, match=r"it is a spreadsheet document: rename it to \.ods"):
        read_file("tableur.odt", make_ods({"Feuille1": [["a", "b"]]}))


def test_corrupt_odt(read_file):
    with pytest.raises(ReadError, match="not a valid .odt file"):
        read_file("a.odt", b"PK\x03\x04 not really a zip")
    with pytest.raises(ReadError, match="not a valid .odt file"):
        read_file("b.odt", make_odt()[:2000])


def test_password_protected_odt(read_file):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr(
            "META-INF/manifest.xml",
            '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
            '<manifest:file-entry manifest:full-path="content.xml"><manifest:encryption-data/>'
            "</manifest:file-entry></manifest:manifest>",
        )
        archive.writestr("content.xml", b"\x8a\x11 encrypted bytes")
    with pytest.raises(ReadError, match="protected by a password"):
        read_file("secret.odt", buffer.getvalue())


# --- .odp -------------------------------------------------------------------------------------


def test_odp_slides_are_pages_with_their_titles(read_file):
    doc = read_file("slides.odp", make_odp())
    assert doc.format == "odp"
    assert [p.number for p in doc.pages] == [1, 2, 3]
    assert [(h.level, h.title) for h in doc.headings] == [(1, "Bienvenue"), (1, "Diapositive 2"), (1, "Tarifs")]
    assert [doc.text[p.start : p.end] for p in doc.pages] == [
        "Bienvenue\n\nPrésentation du fournil",
        # read top to bottom, whatever the order in the file
        "En haut de la diapositive\n\nEn bas de la diapositive",
        "Tarifs\n\nLa baguette coûte 1,20 €.",
    ]
    assert "Diapositive 2" not in doc.text  # a heading for the untitled slide, not text
    assert doc.page_at(doc.text.index("1,20 €")) == 3


def test_odp_speaker_notes_only_when_asked():
    from ingest.readers.odf import read_odp

    data = make_odp(notes="Penser à parler du levain.")
    assert "levain" not in read_odp(data).text
    extracted = read_odp(data, notes=True)
    first = extracted.pages[0]
    assert "Penser à parler du levain." in extracted.text[first.start : first.end]


# --- .ods -------------------------------------------------------------------------------------


def test_ods_sheets_are_headings_rows_are_sentences(read_file):
    data = make_ods(
        {
            "Tarifs": [["Produit", "Prix"], ["Baguette", 1.2], [None, None], ["Croissant", 1.1]],
            "Vide": [],
            "Stock": [["Article", "Quantité"], ["Farine", 40]],
        }
    )
    doc = read_file("classeur.ods", data)
    assert doc.format == "ods"
    assert doc.text == (
        "Tarifs\n\nProduit : Baguette ; Prix : 1.2.\nProduit : Croissant ; Prix : 1.1.\n\n"
        "Stock\n\nArticle : Farine ; Quantité : 40."
    )
    assert [(h.level, h.title) for h in doc.headings] == [(1, "Tarifs"), (1, "Stock")]


def test_ods_cell_shows_its_formatted_text():
    from odfdo import Cell, Document, Row, Table

    from ingest.readers.odf import read_ods

    document = Document("spreadsheet")
    document.body.clear()
    table = Table("Prix")
    header = Row()
    header.set_values(["Produit", "Prix"])
    table.append(header)
    row = Row()
    row.set_values(["Baguette"])
    row.append(Cell(1.2, text="1,20 €"))  # the value 1.2, shown as "1,20 €"
    table.append(row)
    document.body.append(table)
    assert "Produit : Baguette ; Prix : 1,20 €." in read_ods(save(document)).text


def test_ods_repeated_rows_count_against_the_cap(read_file, monkeypatch):
    import ingest.readers.tables as tables

    data = make_ods({"Grande": [["Nom", "Ville"]] + [["Dupont", "Lyon"]] * 30})
    monkeypatch.setattr(tables, "MAX_ROWS", 20)
    with pytest.raises(ReadError, match="more than 20 filled rows"):
        read_file("grande.ods", data)


# --- end to end -------------------------------------------------------------------------------


def test_ingested_slides_and_sheets_keep_their_place(ingest_file):
    record, chunks = ingest_file("slides.odp", make_odp())
    assert record.format == "odp" and record.n_pages == 3
    by_page = {c.page: c for c in chunks}
    assert by_page[3].heading_path == ("Tarifs",) and "1,20 €" in by_page[3].text
    assert by_page[2].heading_path == ("Diapositive 2",)

    record, chunks = ingest_file("classeur.ods", make_ods({"Stock": [["Article", "Quantité"], ["Farine", 40]]}))
    assert [(c.heading_path, c.page) for c in chunks] == [(("Stock",), None)]
    assert "Article : Farine ; Quantité : 40." in chunks[0].text

    record, chunks = ingest_file("charte.odt", make_odt())
    tarifs = next(c for c in chunks if "Croissant" in c.text)
    assert tarifs.heading_path == ("Le pain", "Tarifs")
