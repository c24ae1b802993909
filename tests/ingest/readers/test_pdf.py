"""The PDF text layer through PDFium, and pypdf behind it."""

from __future__ import annotations

import sys

import pytest

from ingest.readers.pdf import _clean, read_pdf

pytest.importorskip("pypdfium2")

PAGES = [["Première page", "avec deux lignes"], [], ["Troisième : 12 € et œuf, ﬁchier"]]


def test_pdfium_and_pypdf_give_the_same_pages(make_pdf, monkeypatch):
    data = make_pdf(PAGES)
    with_pdfium = read_pdf(data)
    monkeypatch.setitem(sys.modules, "pypdfium2", None)  # "import pypdfium2" fails: pypdf reads
    with_pypdf = read_pdf(data)
    assert with_pdfium == with_pypdf
    assert [with_pdfium.text[p.start : p.end] for p in with_pdfium.pages] == [
        "Première page\navec deux lignes",
        "",
        "Troisième : 12 € et œuf, fichier",  # the ligature is undone
    ]


def test_a_file_pdfium_cannot_open_goes_to_pypdf(make_pdf, monkeypatch):
    import pypdfium2

    def refuse(*args, **kwargs):
        raise pypdfium2.PdfiumError("Failed to load document (PDFium: Data format error).", err_code=3)

    monkeypatch.setattr(pypdfium2, "PdfDocument", refuse)
    assert read_pdf(make_pdf([["Lisible par pypdf"]])).text == "Lisible par pypdf"


def test_pdfium_line_end_hyphen_and_controls():
    # PDFium marks a hyphen at a line's end as \x02 and ends lines with \r\n.
    assert _clean("apt\x02\r\nget  \r\nune\x07cloche\r\n") == "apt-\nget\nune cloche"
