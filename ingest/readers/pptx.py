"""PowerPoint .pptx files: each slide a Page numbered like the slide, its title a heading.

Read with ``python-pptx`` (MIT). A slide's title comes first (an untitled slide gets
"Diapositive N" as its heading, not as text); then its text boxes, placeholders and tables
top to bottom, left to right (by each shape's top-left corner; shapes in a group keep the
group's place). A text frame's paragraphs are lines; a table is one line per row, each
value with its column's name (``ingest.readers.tables``). Hidden slides are read too.

Speaker notes are left out unless ``notes=True``: they are the speaker's reminders, not
what the audience saw, often drafts or asides, and a passage cited as "slide 4" should be
found on slide 4. Charts, SmartArt, images (and their alt text), slide layouts and
masters (footers, slide numbers) are not read; nor are legacy .ppt files.
"""

from __future__ import annotations

import io

from ingest.readers import Extracted, short_reason
from ingest.readers.blocks import TextBuilder
from ingest.readers.tables import RowBudget, cell_text, row_sentences
from rag.errors import MissingDependencyError, ReadError

_FURNITURE = ("SLIDE_NUMBER", "FOOTER", "DATE", "HEADER")


def read_pptx(data: bytes, *, notes: bool = False) -> Extracted:
    try:
        from pptx import Presentation
    except ImportError as exc:
        raise MissingDependencyError("python-pptx", purpose="reading .pptx files") from exc
    try:
        presentation = Presentation(io.BytesIO(data))
        slides = list(presentation.slides)
    except Exception as exc:  # bad zip, missing part, wrong content type, bad XML
        raise ReadError(f"not a valid .pptx file: {short_reason(exc)}") from exc
    builder = TextBuilder()
    budget = RowBudget("this .pptx file")
    for number, slide in enumerate(slides, start=1):
        builder.begin_page(number)
        title_shape = _title_shape(slide)
        title = " ".join(title_shape.text_frame.text.split()) if title_shape is not None else ""
        if title:
            builder.add(title, level=1)
        else:
            builder.heading_here(1, f"Diapositive {number}")
        shapes = [s for s in slide.shapes if title_shape is None or s.shape_id != title_shape.shape_id]
        for block in _blocks(shapes, budget):
            builder.add(block)
        if notes and slide.has_notes_slide:
            frame = slide.notes_slide.notes_text_frame
            if frame is not None:
                builder.add(_frame_text(frame))
    if not builder.has_text:
        raise ReadError("no text found in this .pptx file")
    return builder.result()


def _title_shape(slide):
    try:
        title = slide.shapes.title
    except Exception:  # a placeholder without its layout part
        return None
    return title if title is not None and title.has_text_frame else None


def _blocks(shapes, budget: RowBudget) -> list[str]:
    """Texts of ``shapes`` in reading order; a group's shapes are read where the group is."""
    from pptx.shapes.group import GroupShape

    blocks: list[str] = []
    for shape in sorted(shapes, key=_position):
        if _is_furniture(shape):
            continue
        if isinstance(shape, GroupShape):
            blocks.extend(_blocks(list(shape.shapes), budget))
        elif getattr(shape, "has_table", False):
            rows = []
            for row in shape.table.rows:
                cells = [cell_text(cell.text) for cell in row.cells]
                budget.take(cells)
                rows.append(cells)
            blocks.append("\n".join(row_sentences(rows)))
        elif getattr(shape, "has_text_frame", False):
            blocks.append(_frame_text(shape.text_frame))
    return [b for b in blocks if b.strip()]


def _frame_text(frame) -> str:
    # A paragraph is a bullet or a line; a vertical tab (a soft line break) is a line too.
    lines = (" ".join(line.split()) for p in frame.paragraphs for line in p.text.split("\v"))
    return "\n".join(line for line in lines if line)


def _position(shape) -> tuple[int, int]:
    try:  # a placeholder inherits its position from the layout; some have none at all
        return (shape.top or 0, shape.left or 0)
    except Exception:
        return (0, 0)


def _is_furniture(shape) -> bool:
    try:
        return shape.is_placeholder and shape.placeholder_format.type.name in _FURNITURE
    except Exception:
        return False
