"""PDF files read whole: pages by offset, and every broken or locked file refused with a reason."""

from __future__ import annotations

import io
import os

from rag.errors import ReadError
from tests.ingest.readers.files import expect_error, make_pdf, read, write


def test_pdf_pages_by_offset(tmp_path):
    pages = [["Première page", "avec deux lignes"], [], ["Troisième : 12 € et œuf"]]
    doc = read(write(tmp_path, "a.pdf", make_pdf(pages)))
    assert [p.number for p in doc.pages] == [1, 2, 3]
    for page, lines in zip(doc.pages, pages):
        assert doc.text[page.start : page.end] == "\n".join(lines)
    assert doc.page_at(doc.text.index("Troisième")) == 3


def test_pdf_without_text(tmp_path):
    expect_error(write(tmp_path, "a.pdf", make_pdf([[], []])), "no text could be extracted")


def test_corrupt_pdf(tmp_path):
    expect_error(write(tmp_path, "a.pdf", os.urandom(4096)), "PDF is corrupt or unreadable")
    expect_error(write(tmp_path, "b.pdf", b"%PDF-1.7\n" + b"garbage " * 200), "PDF")


def test_truncated_pdf_never_raises_a_library_error(tmp_path):
    data = make_pdf([["Une page"], ["Une autre"]])
    for cut in (len(data) // 3, len(data) // 2, len(data) - 40):
        path = write(tmp_path, f"cut{cut}.pdf", data[:cut])
        try:
            read(path)
        except ReadError:
            pass


def test_encrypted_pdf(tmp_path):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf([["Secret"]]))))
    writer.encrypt("secret")
    buffer = io.BytesIO()
    writer.write(buffer)
    message = expect_error(write(tmp_path, "a.pdf", buffer.getvalue()), "encrypted")
    assert "password" in message


def test_pdf_with_empty_user_password_is_read(tmp_path):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf([["Lisible"]]))))
    writer.encrypt(user_password="", owner_password="proprietaire")
    buffer = io.BytesIO()
    writer.write(buffer)
    assert read(write(tmp_path, "a.pdf", buffer.getvalue())).text == "Lisible"


def test_pdf_library_exception_is_wrapped(tmp_path, monkeypatch):
    import pypdf

    def boom(*args, **kwargs):
        raise ValueError("unexpected internal failure")

    monkeypatch.setattr(pypdf, "PdfReader", boom)
    expect_error(write(tmp_path, "a.pdf", b"%PDF-1.4 x"), "corrupt", "unexpected internal failure")
