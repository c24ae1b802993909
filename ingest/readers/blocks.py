"""Assemble a document's text from blocks, recording heading and page offsets as it goes.

The readers of structured formats (ODF, PPTX, EPUB, spreadsheets) walk their file and
hand over blocks: a paragraph, a heading, a table's rows, a slide's start and end. This
module joins them with blank lines and keeps the offsets exact, so that ``text[h.offset:]``
starts with the heading's line and ``text[p.start:p.end]`` is page ``p.number``'s text. It
does not read any format itself, and it never changes the text it is given.
"""

from __future__ import annotations

from ingest.readers import Extracted
from rag.types import Heading, Page

PARAGRAPH_SEPARATOR = "\n\n"


class TextBuilder:
    def __init__(self) -> None:
        self._parts: list[str] = []
        self.length = 0
        self._headings: list[Heading] = []
        self._pages: list[Page] = []
        self._page: tuple[int, int] | None = None  # (number, start) of the open page
        self._fresh = True  # nothing written since the start or the last page break
        self._pending: tuple[int, str] | None = None  # a heading waiting for the next block

    def add(self, text: str, *, level: int | None = None, title: str | None = None) -> None:
        """Append a block (a paragraph, a table's rows); with ``level``, the block is a heading."""
        text = text.strip()
        if not text:
            return
        if not self._fresh:
            self._emit(PARAGRAPH_SEPARATOR)
        self._fresh = False
        if self._pending is not None:
            self._headings.append(Heading(self.length, *self._pending))
            self._pending = None
        if level is not None:
            self._headings.append(Heading(self.length, level, " ".join((title or text).split())))
        self._emit(text)

    def add_text(self, text: str, headings: tuple[Heading, ...] | list[Heading] = ()) -> None:
        """Append text another reader made, with its headings (offsets into ``text``) moved along."""
        if not text.strip():
            return
        if not self._fresh:
            self._emit(PARAGRAPH_SEPARATOR)
        self._fresh = False
        start = self.length
        if self._pending is not None:
            self._headings.append(Heading(start, *self._pending))
            self._pending = None
        self._headings.extend(Heading(start + h.offset, h.level, h.title) for h in headings)
        self._emit(text)

    def heading_here(self, level: int, title: str) -> None:
        """A heading that is not in the text (an untitled slide's number), at the next block."""
        self._pending = (level, " ".join(title.split()))

    def begin_page(self, number: int) -> None:
        self.end_page()
        if self.length:
            self._emit(PARAGRAPH_SEPARATOR)
        self._fresh = True
        self._page = (number, self.length)

    def end_page(self) -> None:
        if self._page is None:
            return
        if self._pending is not None:  # an empty page still gets its heading
            self._headings.append(Heading(self.length, *self._pending))
            self._pending = None
        number, start = self._page
        self._pages.append(Page(number, start, self.length))
        self._page = None

    @property
    def has_text(self) -> bool:
        return self.length > 0  # separators are only written after some text

    def result(self) -> Extracted:
        self.end_page()
        return Extracted("".join(self._parts), pages=tuple(self._pages), headings=tuple(self._headings))

    def _emit(self, piece: str) -> None:
        self._parts.append(piece)
        self.length += len(piece)
