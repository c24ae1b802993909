"""PDF files: the text layer of each page, with exact page offsets.

Pages are joined with a blank line and ``text[p.start:p.end]`` is exactly page
``p.number``'s text, so a chunk can cite its pages. The text layer is read with
``pypdfium2`` (PDFium, Apache-2.0/BSD): on the Debian FAQ printed to PDF (84 pages) it
gives the same words as ``pypdf`` on every page, 20 times faster, without pypdf's stray
no-break spaces (docs/formats.md). ``pypdf`` stays as the fallback: it reads a file PDFium
cannot open when its recovery can, and all PDFs when pypdfium2 is not installed.

Encrypted files are opened when the empty password works (common for "protected against
printing" PDFs), refused otherwise. There is no OCR: a scanned PDF without a text layer is
refused with that reason.

Layout (columns, headers/footers, hyphenation) is left as the text layer has it; the
outline (bookmarks) is not read, so PDFs have no headings.
"""

from __future__ import annotations

import io
import logging
import re
import warnings

from ingest.readers import Extracted, short_reason
from rag.errors import MissingDependencyError, ReadError
from rag.types import Page

PAGE_SEPARATOR = "\n\n"
# Typographic ligatures that PDF text layers often keep: "ﬁchier" must match "fichier".
# PDFium writes a hyphen it found at a line's end as \x02: it is a hyphen.
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st", "\x02": "-"})
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")


def read_pdf(data: bytes) -> Extracted:
    try:
        import pypdfium2 as pdfium
    except ImportError:
        return _assemble(_pypdf_pages(data))
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code == pdfium.raw.FPDF_ERR_PASSWORD:
            raise ReadError("PDF is encrypted with a password; save an unprotected copy to ingest it") from exc
        if code == pdfium.raw.FPDF_ERR_SECURITY:
            raise ReadError("PDF is encrypted with an unsupported scheme; save an unprotected copy") from exc
        return _assemble(_pypdf_pages(data))  # pypdf's recovery reads some broken files
    except Exception as exc:
        raise ReadError(f"PDF is corrupt or unreadable: {short_reason(exc)}") from exc
    try:
        return _assemble([_pdfium_page_text(document, i) for i in range(len(document))])
    finally:
        document.close()


def _assemble(texts: list[str | Exception]) -> Extracted:
    if not texts:
        raise ReadError("PDF is corrupt or unreadable: it has no pages")
    failures = [t for t in texts if isinstance(t, Exception)]
    if len(failures) == len(texts):
        raise ReadError(f"PDF is corrupt or unreadable: {short_reason(failures[0])}")
    page_texts = [t if isinstance(t, str) else "" for t in texts]
    if not any(page_texts):
        raise ReadError("no text could be extracted (scanned PDF without OCR?)")
    pages: list[Page] = []
    start = 0
    for number, page_text in enumerate(page_texts, start=1):
        pages.append(Page(number, start, start + len(page_text)))
        start += len(page_text) + len(PAGE_SEPARATOR)
    return Extracted(PAGE_SEPARATOR.join(page_texts), pages=tuple(pages))


def _clean(raw: str) -> str:
    text = raw.replace("\r\n", "\n").replace("\r", "\n").translate(_LIGATURES)
    text = _CONTROLS.sub(" ", text)
    text = _TRAILING_SPACE.sub("\n", text)
    return text.strip()


# --- PDFium --------------------------------------------------------------------------------


def _pdfium_page_text(document, index: int) -> str | Exception:
    try:
        page = document[index]
        try:
            textpage = page.get_textpage()
            try:
                return _clean(textpage.get_text_bounded())
            finally:
                textpage.close()
        finally:
            page.close()
    except Exception as exc:  # one broken page should not lose the rest of the document
        return exc


# --- pypdf (fallback) ----------------------------------------------------------------------


def _pypdf_pages(data: bytes) -> list[str | Exception]:
    try:
        import pypdf
    except ImportError as exc:
        raise MissingDependencyError("pypdf", purpose="reading PDF files") from exc
    # pypdf logs every recoverable oddity of real-world PDFs; an ingest report is not the place.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            reader = pypdf.PdfReader(io.BytesIO(data))
            _decrypt(reader)
            return [_pypdf_page_text(page) for page in reader.pages]
        except ReadError:
            raise
        except Exception as exc:  # pypdf raises many kinds on bad files
            raise ReadError(f"PDF is corrupt or unreadable: {short_reason(exc)}") from exc


def _decrypt(reader) -> None:
    if not reader.is_encrypted:
        return
    from pypdf import PasswordType
    from pypdf.errors import DependencyError

    try:
        opened = reader.decrypt("")
    except DependencyError as exc:
        # AES encryption needs a crypto package; without it we cannot even try the empty password.
        raise ReadError(f"PDF is encrypted and cannot be opened here: {short_reason(exc)}") from exc
    except Exception as exc:
        raise ReadError(f"PDF is encrypted and could not be decrypted: {short_reason(exc)}") from exc
    if opened == PasswordType.NOT_DECRYPTED:
        raise ReadError("PDF is encrypted with a password; save an unprotected copy to ingest it")


def _pypdf_page_text(page) -> str | Exception:
    try:
        return _clean(page.extract_text() or "")
    except Exception as exc:  # one broken page should not lose the rest of the document
        return exc
