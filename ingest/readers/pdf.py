"""PDF files: the text layer of each page, with exact page offsets; OCR for scanned pages.

Pages are joined with a blank line and ``text[p.start:p.end]`` is exactly page
``p.number``'s text, so a chunk can cite its pages. The text layer is read with
``pypdfium2`` (PDFium, Apache-2.0/BSD): on the Debian FAQ printed to PDF (84 pages) it
gives the same words as ``pypdf`` on every page, 20 times faster, without pypdf's stray
no-break spaces (docs/formats.md). ``pypdf`` stays as the fallback: it reads a file PDFium
cannot open when its recovery can, and all PDFs when pypdfium2 is not installed.

Encrypted files are opened when the empty password works (common for "protected against
printing" PDFs), refused otherwise. A page without a text layer (a scan; or one holding a
few stamped characters over an image) is rendered and read by OCR (``ingest.readers.ocr``,
extra ``ocr``) when it is installed and ``ocr=True``; such pages are listed in
``Extracted.ocr_pages`` and the document's format becomes ``pdf+ocr``. Without OCR a
scanned PDF is refused with the command that installs it. OCR takes seconds per page:
``progress(done, total)`` is called after each one (by default a bar on a terminal's stderr).

Layout (columns, headers/footers, hyphenation) is left as the text layer has it; the
outline (bookmarks) is not read, so PDFs have no headings.
"""

from __future__ import annotations

import io
import logging
import re
import sys
import warnings
from collections.abc import Callable

from ingest.readers import Extracted, short_reason
from ingest.readers.limits import check_time
from rag.errors import MissingDependencyError, ReadError
from rag.types import Page

PAGE_SEPARATOR = "\n\n"
OCR_COMMAND = 'pip install "rag-fr[ocr]"'
# Typographic ligatures that PDF text layers often keep: "ﬁchier" must match "fichier".
# PDFium writes a hyphen it found at a line's end as \x02: it is a hyphen.
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st", "\x02": "-"})
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")
# A text layer this short over an image is a scanner's stamp (a page number, a date), not the page.
_STAMP_CHARS = 20
_RENDER_DPI = 300  # at most; pages are rendered to ocr.LONG_SIDE pixels on their long side


def read_pdf(data: bytes, *, ocr: bool = True, progress: Callable[[int, int], None] | None = None) -> Extracted:
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
        texts: list[str | Exception] = []
        scanned: list[int] = []  # 0-based indexes of pages that need OCR
        for i in range(len(document)):
            check_time()  # a page tree that never ends stops here once the file's time is up
            text = _pdfium_page_text(document, i)
            texts.append(text)
            if isinstance(text, str) and len(text) < _STAMP_CHARS and (not text or _has_image(document, i)):
                scanned.append(i)
        if not texts:
            raise ReadError("PDF is corrupt or unreadable: it has no pages")
        recognised: dict[int, str] = {}
        if scanned and ocr:
            from ingest.readers import ocr as ocr_module

            if ocr_module.available():
                recognised = _recognise(document, scanned, progress)
        return _assemble(texts, recognised, scanned)
    finally:
        document.close()


def _assemble(
    texts: list[str | Exception], recognised: dict[int, str] | None = None, scanned: list[int] | None = None
) -> Extracted:
    """The pages joined; ``scanned`` is None when the pages were not looked at for OCR (pypdf)."""
    if not texts:
        raise ReadError("PDF is corrupt or unreadable: it has no pages")
    failures = [t for t in texts if isinstance(t, Exception)]
    if len(failures) == len(texts):
        raise ReadError(f"PDF is corrupt or unreadable: {short_reason(failures[0])}")
    page_texts = [t if isinstance(t, str) else "" for t in texts]
    ocr_pages = []
    for i, text in (recognised or {}).items():
        if text:
            page_texts[i] = text
            ocr_pages.append(i + 1)
    if not any(page_texts):
        if scanned is None:
            raise ReadError("no text could be extracted (scanned PDF? OCR needs pypdfium2)")
        if recognised:
            raise ReadError(
                f"no text could be extracted: OCR found none on the {len(scanned)} page(s) without a text "
                "layer (blank, or too faint to read)"
            )
        raise ReadError(
            f"no text could be extracted: the pages have no text layer (a scanned PDF?); OCR can read them: {OCR_COMMAND}"
        )
    pages: list[Page] = []
    start = 0
    for number, page_text in enumerate(page_texts, start=1):
        pages.append(Page(number, start, start + len(page_text)))
        start += len(page_text) + len(PAGE_SEPARATOR)
    return Extracted(PAGE_SEPARATOR.join(page_texts), pages=tuple(pages), ocr_pages=tuple(sorted(ocr_pages)))


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


def _has_image(document, index: int) -> bool:
    import pypdfium2.raw as pdfium_c

    try:
        page = document[index]
        try:
            return any(True for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=3))
        finally:
            page.close()
    except Exception:
        return False


def _recognise(document, indexes: list[int], progress) -> dict[int, str]:
    """OCR of the given pages; a page that fails or shows nothing reads as empty."""
    from ingest.readers import ocr

    bar = None
    if progress is None and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=len(indexes), unit="page", desc="OCR", file=sys.stderr, leave=False)
    texts: dict[int, str] = {}
    try:
        for done, index in enumerate(indexes, start=1):
            check_time()
            try:
                image = _render(document, index)
                texts[index] = ocr.recognize(image) if not _is_blank(image) else ""
            except MissingDependencyError:
                raise
            except Exception:  # a page PDFium cannot render, or an OCR failure on it
                texts[index] = ""
            if progress is not None:
                progress(done, len(indexes))
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return texts


def _render(document, index: int):
    from ingest.readers import ocr

    page = document[index]
    try:
        width, height = page.get_size()
        scale = min(_RENDER_DPI / 72, ocr.LONG_SIDE / max(width, height, 1))
        return page.render(scale=scale, grayscale=True).to_pil()
    finally:
        page.close()


def _is_blank(image) -> bool:
    """A page of one flat colour: nothing to read, and OCR would spend seconds finding so."""
    low, high = image.convert("L").getextrema()
    return high - low < 16


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
            texts: list[str | Exception] = []
            for page in reader.pages:
                check_time()
                texts.append(_pypdf_page_text(page))
            return texts
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
