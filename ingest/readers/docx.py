"""Word .docx files: body paragraphs and tables in document order.

Paragraphs are separated by a blank line; a table becomes one line per row with cells
joined by `` | ``. Paragraphs styled Title, Heading N or Titre N (French Word) become
headings. Headers, footers, footnotes, comments and text boxes are not read; nor are
legacy .doc files (a different, binary format).
"""

from __future__ import annotations

import io
import re

from ingest.readers import Extracted, short_reason
from rag.errors import MissingDependencyError, ReadError
from rag.types import Heading

PARAGRAPH_SEPARATOR = "\n\n"
_HEADING_STYLE = re.compile(r"^(?:heading|titre)\s*([1-9])$", re.IGNORECASE)
_TITLE_STYLE = re.compile(r"^(?:title|titre)$", re.IGNORECASE)


def read_docx(data: bytes) -> Extracted:
    try:
        import docx
        from docx.table import Table
    except ImportError as exc:
        raise MissingDependencyError("python-docx", purpose="reading .docx files") from exc
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # bad zip, missing part, wrong content type, bad XML
        raise ReadError(f"not a valid .docx file: {short_reason(exc)}") from exc
    blocks: list[tuple[str, int | None]] = []  # (text, heading level or None)
    try:
        for item in document.iter_inner_content():
            if isinstance(item, Table):
                rows = _table_rows(item)
                if rows:
                    blocks.append(("\n".join(rows), None))
            else:
                text = item.text.strip()
                if text:
                    blocks.append((text, _heading_level(item)))
    except Exception as exc:
        raise ReadError(f"not a valid .docx file: {short_reason(exc)}") from exc
    if not blocks:
        raise ReadError("no text found in this .docx file")
    parts: list[str] = []
    headings: list[Heading] = []
    offset = 0
    for text, level in blocks:
        if parts:
            parts.append(PARAGRAPH_SEPARATOR)
            offset += len(PARAGRAPH_SEPARATOR)
        if level is not None:
            headings.append(Heading(offset, level, " ".join(text.split())))
        parts.append(text)
        offset += len(text)
    return Extracted("".join(parts), headings=tuple(headings))


def _heading_level(paragraph) -> int | None:
    try:
        name = (paragraph.style.name or "").strip() if paragraph.style is not None else ""
    except (KeyError, ValueError, AttributeError):  # a style id the styles part does not define
        return None
    if match := _HEADING_STYLE.match(name):
        return int(match.group(1))
    if _TITLE_STYLE.match(name):
        return 1
    return None


def _table_rows(table) -> list[str]:
    rows: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            # A merged cell is returned once per grid column it spans; keep it once.
            if previous is not None and cell._tc is previous:
                continue
            previous = cell._tc
            cells.append(" ".join(cell.text.split()))
        if any(cells):
            rows.append(" | ".join(cells))
    return rows
