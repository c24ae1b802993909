"""PowerPoint slides, made here with python-pptx."""

from __future__ import annotations

import io

import pytest

from rag.errors import ReadError

pptx = pytest.importorskip("pptx")


def make_pptx(notes: str = "") -> bytes:
    from pptx import Presentation
    from pptx.util import Inches

    presentation = Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[1])  # title and content
    slide.shapes.title.text = "Le fournil"
    body = slide.placeholders[1].text_frame
    body.text = "Pain cuit chaque matin"
    body.add_paragraph().text = "Farine du moulin voisin"
    if notes:
        slide.notes_slide.notes_text_frame.text = notes

    slide = presentation.slides.add_slide(presentation.slide_layouts[6])  # blank: no title
    right = slide.shapes.add_textbox(Inches(5), Inches(1), Inches(3), Inches(1))
    right.text_frame.text = "Colonne de droite"
    left = slide.shapes.add_textbox(Inches(1), Inches(1), Inches(3), Inches(1))
    left.text_frame.text = "Colonne de gauche"
    below = slide.shapes.add_textbox(Inches(1), Inches(4), Inches(3), Inches(1))
    below.text_frame.text = "En bas"

    slide = presentation.slides.add_slide(presentation.slide_layouts[5])  # title only
    slide.shapes.title.text = "Tarifs"
    table = slide.shapes.add_table(3, 2, Inches(1), Inches(2), Inches(6), Inches(2)).table
    for r, row in enumerate([["Produit", "Prix"], ["Baguette", "1,20 €"], ["Croissant", "1,10 €"]]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value

    presentation.slides.add_slide(presentation.slide_layouts[6])  # an empty slide keeps its number
    slide = presentation.slides.add_slide(presentation.slide_layouts[5])
    slide.shapes.title.text = "Contact"
    group = slide.shapes.add_group_shape()
    box = group.shapes.add_textbox(Inches(1), Inches(2), Inches(4), Inches(1))
    box.text_frame.text = "contact@fournil.example"
    buffer = io.BytesIO()
    presentation.save(buffer)
    return buffer.getvalue()


def test_slides_are_pages_titles_are_headings(read_file):
    doc = read_file("slides.pptx", make_pptx())
    assert doc.format == "pptx"
    assert [p.number for p in doc.pages] == [1, 2, 3, 4, 5]
    assert [(h.level, h.title) for h in doc.headings] == [
        (1, "Le fournil"),
        (1, "Diapositive 2"),
        (1, "Tarifs"),
        (1, "Diapositive 4"),
        (1, "Contact"),
    ]
    slides = [doc.text[p.start : p.end] for p in doc.pages]
    assert slides[0] == "Le fournil\n\nPain cuit chaque matin\nFarine du moulin voisin"
    # reading order: top to bottom, left to right, whatever the order the shapes were added in
    assert slides[1] == "Colonne de gauche\n\nColonne de droite\n\nEn bas"
    assert slides[2] == "Tarifs\n\nProduit : Baguette ; Prix : 1,20 €.\nProduit : Croissant ; Prix : 1,10 €."
    assert slides[3] == ""
    assert slides[4] == "Contact\n\ncontact@fournil.example"  # text inside a group
    assert doc.page_at(doc.text.index("Croissant")) == 3
    assert doc.heading_path_at(doc.text.index("Colonne")) == ("Diapositive 2",)


def test_speaker_notes_only_when_asked():
    from ingest.readers.pptx import read_pptx

    data = make_pptx(notes="Penser à parler du levain.")
    assert "levain" not in read_pptx(data).text
    extracted = read_pptx(data, notes=True)
    first = extracted.pages[0]
    assert extracted.text[first.start : first.end].endswith("Farine du moulin voisin\n\nPenser à parler du levain.")


def test_presentation_without_text(read_file):
    from pptx import Presentation

    presentation = Presentation()
    presentation.slides.add_slide(presentation.slide_layouts[6])
    buffer = io.BytesIO()
    presentation.save(buffer)
    with pytest.raises(ReadError, match="no text found in this .pptx file"):
        read_file("vide.pptx", buffer.getvalue())


def test_corrupt_pptx(read_file):
    with pytest.raises(ReadError, match="not a valid .pptx file"):
        read_file("a.pptx", b"PK\x03\x04 not a zip at all")
    with pytest.raises(ReadError, match="not a valid .pptx file"):
        read_file("b.pptx", make_pptx()[:3000])


def test_ingested_slides_keep_their_number_and_title(ingest_file):
    record, chunks = ingest_file("slides.pptx", make_pptx())
    assert record.format == "pptx" and record.n_pages == 5
    tarifs = next(c for c in chunks if "Croissant" in c.text)
    assert (tarifs.page, tarifs.page_end, tarifs.heading_path) == (3, 3, ("Tarifs",))
    assert all(c.page == c.page_end for c in chunks)  # a slide's end ends its chunk
