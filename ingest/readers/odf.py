"""OpenDocument files (LibreOffice, OpenOffice): .odt text, .odp slides, .ods sheets.

Read with ``odfdo`` (Apache-2.0). What is kept:

- .odt: paragraphs, list items and headings (``text:h``, level = its outline level; or a
  paragraph styled Title / Heading N / Titre N, as converted Word files have) in document order, text boxes after the paragraph they are anchored in, and tables as one
  line per row (``ingest.readers.tables``: each value with its column's name).
- .odp: each slide is a Page numbered like the slide, its title a heading (an untitled
  slide gets "Diapositive N" as heading, not as text); the other frames are read top to
  bottom, left to right. Speaker notes only with ``notes=True`` (see ``ingest.readers.pptx``).
- .ods: each sheet is a heading (its name), each filled row a sentence with the header's
  names; the text is what the cell shows (``1,20 €``), its value when it shows nothing.
  At most ``tables.MAX_ROWS`` rows / ``MAX_CELLS`` cells per file.

Left out: footnotes and comments (they would cut the sentence they sit in), tracked
deletions, tables of contents and indexes (they repeat the headings), page headers and
footers, images and their descriptions, charts, and the master pages' furniture.
Password-protected files are refused with that reason; flat XML (.fodt) is not read.
"""

from __future__ import annotations

import io
import re
import zipfile

from ingest.readers import Extracted, short_reason
from ingest.readers.blocks import TextBuilder
from ingest.readers.tables import RowBudget, cell_text, row_sentences
from rag.errors import MissingDependencyError, ReadError

# Block elements whose text is not the document's content.
_SKIP_BLOCKS = frozenset(
    """text:table-of-content text:alphabetical-index text:illustration-index text:table-index
    text:object-index text:user-index text:tracked-changes text:sequence-decls text:variable-decls
    text:user-field-decls text:dde-connection-decls office:forms office:annotation office:annotation-end
    presentation:notes svg:title svg:desc table:table-column table:table-columns
    table:table-column-group table:table-header-columns table:named-expressions table:database-ranges
    table:content-validations table:label-ranges table:calculation-settings office:event-listeners
    draw:image""".split()
)
_SKIP_INLINE = frozenset(("text:note", "office:annotation", "office:annotation-end", "text:tracked-changes"))
# Placeholders that repeat on every slide: page furniture, not the slide's content.
_FURNITURE = frozenset(("page-number", "date-time", "footer", "header"))
_TITLE_CLASSES = frozenset(("title",))
_SPACES = re.compile(r"[ \t\r\n]+")
_HEADING_STYLE = re.compile(r"^(?:heading|titre)\s*([1-9]|10)$", re.IGNORECASE)
_TITLE_STYLE = re.compile(r"^(?:title|titre)$", re.IGNORECASE)
_LENGTH = re.compile(r"\s*(-?[\d.]+)\s*(cm|mm|in|pt|pc|px)?\s*")
_UNITS_CM = {"cm": 1.0, "mm": 0.1, "in": 2.54, "pt": 2.54 / 72, "pc": 2.54 / 6, "px": 2.54 / 96, None: 1.0}
_KINDS = {"text": "odt", "presentation": "odp", "spreadsheet": "ods"}


def read_odt(data: bytes) -> Extracted:
    return _read(data, "text")


def read_odp(data: bytes, *, notes: bool = False) -> Extracted:
    return _read(data, "presentation", notes=notes)


def read_ods(data: bytes) -> Extracted:
    return _read(data, "spreadsheet")


def _read(data: bytes, kind: str, *, notes: bool = False) -> Extracted:
    suffix = _KINDS[kind]
    try:
        from odfdo import Document
    except ImportError as exc:
        raise MissingDependencyError("odfdo", purpose=f"reading .{suffix} files") from exc
    _refuse_encrypted(data, suffix)
    try:
        document = Document(io.BytesIO(data))
        body = document.body
    except Exception as exc:  # bad zip, missing content.xml, bad XML
        raise ReadError(f"not a valid .{suffix} file: {short_reason(exc)}") from exc
    found = (document.get_type() or "").split("-")[0]  # "text-template" is still text
    if found != kind:
        wanted = _KINDS.get(found)
        hint = f" (it is a {found} document: rename it to .{wanted})" if wanted else ""
        raise ReadError(f"not a .{suffix} file{hint}")
    builder = TextBuilder()
    budget = RowBudget(f"this .{suffix} file")
    if kind == "presentation":
        _read_slides(body, builder, budget, notes)
    elif kind == "spreadsheet":
        for sheet in body.children:
            if sheet.tag == "table:table":
                _read_sheet(sheet, builder, budget)
    else:
        _read_blocks(body.children, builder, budget, _heading_styles(document))
    if not builder.has_text:
        raise ReadError(f"no text found in this .{suffix} file")
    return builder.result()


def _refuse_encrypted(data: bytes, suffix: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            manifest = archive.read("META-INF/manifest.xml")
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return  # odfdo reports what is wrong with the file
    if b"encryption-data" in manifest:
        raise ReadError(f"this .{suffix} file is protected by a password; save an unprotected copy to ingest it")


def _heading_styles(document) -> dict[str, int]:
    """Paragraph style name -> heading level, for paragraphs styled as headings (not ``text:h``).

    Word files and HTML pages converted by LibreOffice give such paragraphs: "Title" and
    "Heading 1" styles, or automatic styles ("P3") derived from them.
    """
    parents: dict[str, str] = {}
    try:
        for style in document.content.get_elements("//office:automatic-styles/style:style"):
            name, parent = style.get_attribute("style:name"), style.get_attribute("style:parent-style-name")
            if isinstance(name, str) and isinstance(parent, str):
                parents[name] = parent
    except Exception:  # styles are a nicety: a file without them still reads
        pass
    levels: dict[str, int] = {}
    for name in set(parents) | set(parents.values()):
        level = _style_level(parents.get(name, name))
        if level is not None:
            levels[name] = level
    return levels


def _style_level(name: str) -> int | None:
    readable = name.replace("_20_", " ")  # ODF writes a space in a style's name as _20_
    if match := _HEADING_STYLE.match(readable):
        return int(match.group(1))
    return 1 if _TITLE_STYLE.match(readable) else None


def _read_blocks(elements, builder: TextBuilder, budget: RowBudget, styles: dict[str, int] | None = None) -> None:
    """Paragraphs, headings and tables under ``elements``, in document order."""
    stack = list(reversed(elements))  # iterative: a deeply nested file must not hit the recursion limit
    while stack:
        element = stack.pop()
        tag = element.tag
        if tag in ("text:p", "text:h"):
            floating: list = []
            text = _inline_text(element, floating)
            if tag == "text:h":
                level = _outline_level(element)
            else:
                style = element.get_attribute("text:style-name")
                level = (styles or {}).get(style) if isinstance(style, str) else None
                if level is None and isinstance(style, str):
                    level = _style_level(style)
            builder.add(text, level=level)
            # Text boxes anchored in this paragraph come after it.
            stack.extend(reversed(floating))
        elif tag == "table:table":
            builder.add("\n".join(row_sentences(_table_rows(element, budget))))
        elif tag not in _SKIP_BLOCKS:
            stack.extend(reversed(element.children))  # lists, sections, frames, text boxes, shapes


def _outline_level(element) -> int:
    raw = element.get_attribute("text:outline-level")
    try:
        return min(max(int(raw), 1), 10) if raw and not isinstance(raw, bool) else 1
    except ValueError:
        return 1


def _inline_text(element, floating: list) -> str:
    """A paragraph's text: spans and links read through, notes and comments left out.

    Frames met inside (text boxes, shapes) go to ``floating``: they are blocks of their own.
    """
    pieces: list[str] = []
    _collect_inline(element, pieces, floating)
    lines = "".join(pieces).split("\n")
    return "\n".join(line.strip() for line in lines if line.strip())


def _collect_inline(element, pieces: list[str], floating: list) -> None:
    # ODF collapses white space in text (as HTML does); explicit spaces are <text:s text:c="n"/>.
    pieces.append(_SPACES.sub(" ", element.text))
    for child in element.children:
        tag = child.tag
        if tag == "text:s":
            pieces.append(" " * _count(child.get_attribute("text:c")))
        elif tag == "text:tab":
            pieces.append(" ")  # a tab inside a line would make it look like a table row
        elif tag == "text:line-break":
            pieces.append("\n")
        elif tag.startswith("draw:"):
            floating.append(child)
        elif tag not in _SKIP_INLINE:
            _collect_inline(child, pieces, floating)
        pieces.append(_SPACES.sub(" ", child.tail or ""))


def _count(raw) -> int:
    try:
        return max(1, min(int(raw), 1000)) if raw and not isinstance(raw, bool) else 1
    except ValueError:
        return 1


def _table_rows(table, budget: RowBudget) -> list[list[str]]:
    """The table's rows as cell texts, repeated rows and cells expanded, empty ones dropped."""
    rows: list[list[str]] = []
    stack = list(reversed(table.children))
    while stack:
        element = stack.pop()
        tag = element.tag
        if tag == "table:table-row":
            cells = _row_cells(element)
            if not any(cells):
                continue  # a sheet's trailing "repeated 1,048,000 times" empty rows end here
            for _ in range(_count(element.get_attribute("table:number-rows-repeated"))):
                budget.take(cells)
                rows.append(cells)
        elif tag in ("table:table-header-rows", "table:table-rows", "table:table-row-group"):
            stack.extend(reversed(element.children))
    return rows


def _row_cells(row) -> list[str]:
    cells: list[str] = []
    empty_run = 0  # empty cells are only written out when a filled one follows them
    for cell in row.children:
        if cell.tag not in ("table:table-cell", "table:covered-table-cell"):
            continue
        repeat = _count(cell.get_attribute("table:number-columns-repeated"))
        text = _cell_text(cell) if cell.tag == "table:table-cell" else ""
        if not text:
            empty_run += repeat
            continue
        cells.extend([""] * empty_run)
        empty_run = 0
        cells.extend([text] * repeat)
    return cells


def _cell_text(cell) -> str:
    paragraphs = cell.get_elements(
        "descendant::text:p[not(ancestor::text:note) and not(ancestor::office:annotation)]"
        " | descendant::text:h[not(ancestor::text:note)]"
    )
    text = " ".join(_inline_text(p, []) for p in paragraphs)
    if not text.strip():
        # A cell written by a program may hold its value alone, without the text it shows.
        for name in ("office:string-value", "office:value", "office:date-value", "office:time-value"):
            value = cell.get_attribute(name)
            if value is not None and not isinstance(value, bool):
                return cell_text(value)
        return ""
    return cell_text(text)


def _read_sheet(sheet, builder: TextBuilder, budget: RowBudget) -> None:
    rows = row_sentences(_table_rows(sheet, budget))
    if not rows:
        return  # an empty sheet is not a heading with nothing under it
    name = str(sheet.get_attribute("table:name") or "").strip() or "Feuille"
    builder.add(name, level=1)
    builder.add("\n".join(rows))


def _read_slides(body, builder: TextBuilder, budget: RowBudget, notes: bool) -> None:
    slides = [child for child in body.children if child.tag == "draw:page"]
    for number, slide in enumerate(slides, start=1):
        builder.begin_page(number)
        shapes = [s for s in slide.children if s.tag != "presentation:notes" and not _is_furniture(s)]
        titles = [s for s in shapes if _presentation_class(s) in _TITLE_CLASSES]
        title = " ".join(" ".join(t for shape in titles for t in _frame_texts(shape)).split())
        if title:
            builder.add(title, level=1)
        else:
            builder.heading_here(1, f"Diapositive {number}")
        body_shapes = sorted((s for s in shapes if s not in titles), key=_position)
        _read_blocks(body_shapes, builder, budget)
        if notes:
            for child in slide.children:
                if child.tag == "presentation:notes":
                    frames = [f for f in child.children if _presentation_class(f) == "notes"]
                    builder.add("\n".join(t for frame in frames for t in _frame_texts(frame)))
    builder.end_page()


def _frame_texts(frame) -> list[str]:
    paragraphs = frame.get_elements("descendant::text:p | descendant::text:h")
    return [t for p in paragraphs if (t := _inline_text(p, []))]


def _presentation_class(element) -> str:
    value = element.get_attribute("presentation:class")
    return value if isinstance(value, str) else ""


def _is_furniture(element) -> bool:
    return _presentation_class(element) in _FURNITURE


def _position(element) -> tuple[float, float]:
    """Top, then left, in cm: a shape without a position reads where it is in the file (first)."""
    return (_length(element.get_attribute("svg:y")), _length(element.get_attribute("svg:x")))


def _length(raw) -> float:
    if not isinstance(raw, str) or not (match := _LENGTH.fullmatch(raw)):
        return 0.0
    try:
        return float(match.group(1)) * _UNITS_CM[match.group(2)]
    except ValueError:
        return 0.0
