"""Word .docx: paragraphs, tables and heading styles in order; invalid files refused."""

from __future__ import annotations

import io
import os

import pytest

from tests.ingest.readers.files import expect_error, read, write


def make_docx(build) -> bytes:
    docx = pytest.importorskip("docx")
    document = docx.Document()
    build(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_paragraphs_tables_and_headings(tmp_path):
    from docx.enum.style import WD_STYLE_TYPE

    def build(document):
        document.styles.add_style("Titre 2", WD_STYLE_TYPE.PARAGRAPH)
        document.add_paragraph("Le document", style="Title")
        document.add_paragraph("Intro.")
        document.add_paragraph("")  # empty paragraphs leave no trace
        document.add_paragraph("Partie", style="Heading 1")
        table = document.add_table(rows=2, cols=3)
        table.cell(0, 0).merge(table.cell(0, 1)).text = "fusion"
        table.cell(0, 2).text = "c"
        for i, value in enumerate(("x", "y", "z")):
            table.cell(1, i).text = value
        document.add_paragraph("Sous-partie française", style="Titre 2")
        document.add_paragraph("Fin.")

    doc = read(write(tmp_path, "a.docx", make_docx(build)))
    assert doc.text == ("Le document\n\nIntro.\n\nPartie\n\nfusion | c\nx | y | z\n\nSous-partie française\n\nFin.")
    assert [(h.level, h.title) for h in doc.headings] == [
        (1, "Le document"),
        (1, "Partie"),
        (2, "Sous-partie française"),
    ]
    for h in doc.headings:
        assert doc.text[h.offset :].startswith(h.title)


def test_invalid_docx(tmp_path):
    expect_error(write(tmp_path, "a.docx", os.urandom(2048)), "not a valid .docx file")
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a word document")
    expect_error(write(tmp_path, "b.docx", buffer.getvalue()), "not a valid .docx file")
