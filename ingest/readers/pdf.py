"""PDF files: the text layer of each page, with exact page offsets.

Pages are joined with a blank line and ``text[p.start:p.end]`` is exactly page
``p.number``'s text, so a chunk can cite its pages. Encrypted files are opened when the
empty password works (common for "protected against printing" PDFs), refused otherwise.
There is no OCR: a scanned PDF without a text layer is refused with that reason. Layout
(columns, headers/footers, hyphenation) is left as the PDF's text layer has it; the
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
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")


def read_pdf(data: bytes) -> Extracted:
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
            extracted = [_page_text(page) for page in reader.pages]
        except ReadError:
            raise
        except Exception as exc:  # pypdf raises many kinds on bad files
            raise ReadError(f"PDF is corrupt or unreadable: {short_reason(exc)}") from exc
    if not extracted:
        raise ReadError("PDF is corrupt or unreadable: it has no pages")
    failures = [e for e in extracted if isinstance(e, Exception)]
    if len(failures) == len(extracted):
        raise ReadError(f"PDF is corrupt or unreadable: {short_reason(failures[0])}")
    page_texts = [e if isinstance(e, str) else "" for e in extracted]
    if not any(page_texts):
        raise ReadError("no text could be extracted (scanned PDF without OCR?)")
    pages: list[Page] = []
    start = 0
    for number, page_text in enumerate(page_texts, start=1):
        pages.append(Page(number, start, start + len(page_text)))
        start += len(page_text) + len(PAGE_SEPARATOR)
    return Extracted(PAGE_SEPARATOR.join(page_texts), pages=tuple(pages))


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


def _page_text(page) -> str | Exception:
    try:
        raw = page.extract_text() or ""
    except Exception as exc:  # one broken page should not lose the rest of the document
        return exc
    text = raw.replace("\r\n", "\n").replace("\r", "\n").translate(_LIGATURES)
    text = _CONTROLS.sub(" ", text)
    text = _TRAILING_SPACE.sub("\n", text)
    return text.strip()
