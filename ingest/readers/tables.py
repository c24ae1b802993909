"""Rows of a table as sentences, one convention for every reader that meets tables.

A data row becomes one line ``Produit : Baguette ; Prix : 1,20 €.``: each value with the
name of its column, so that a chunk holding row 40 still says what its numbers are, and
a final full stop so that the sentence splitter makes each row a unit of its own. The
header is the first non-empty row when it looks like one (two names or more, text only,
no two alike, rows below it); without one, values are joined by `` ; `` alone. Empty cells and empty
rows are dropped.

``RowBudget`` caps how much of a spreadsheet one file may bring in: a 500,000-row export
would otherwise become thousands of chunks nobody asked for. It does not guess types or
formats; the readers turn cells into the text to show.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from rag.errors import ReadError

MAX_ROWS = 20_000
MAX_CELLS = 200_000

_NUMBER = re.compile(r"[-+]?[\d\s.,\u00a0\u202f]*\d\s*[%€$£]?")
_ENDS_SENTENCE = re.compile(r"[.!?…][»”\"’)\]]*\Z")


def cell_text(value: object) -> str:
    """A cell's text on one line (tables are rows: a newline inside a cell would split one)."""
    return " ".join(str(value).split()) if value is not None else ""


def row_sentences(rows: Iterable[Sequence[str]]) -> list[str]:
    """One sentence per non-empty row, with the header's names when there is a header."""
    kept = [list(row) for row in rows if any(cell.strip() for cell in row)]
    if not kept:
        return []
    header: list[str] = []
    if len(kept) > 1 and looks_like_header(kept[0]):
        header = kept.pop(0)
    return [_sentence(header, row) for row in kept]


def looks_like_header(row: Sequence[str]) -> bool:
    """Column names: at least two (one column is a list), all text (not numbers), no two alike."""
    names = [cell.strip() for cell in row if cell.strip()]
    if len(names) < 2 or any(_NUMBER.fullmatch(name) for name in names):
        return False
    return len({name.casefold() for name in names}) == len(names)


def _sentence(header: Sequence[str], row: Sequence[str]) -> str:
    parts: list[str] = []
    for i, value in enumerate(row):
        value = value.strip()
        if not value:
            continue
        name = header[i].strip() if i < len(header) else ""
        parts.append(f"{name} : {value}" if name and name != value else value)
    sentence = " ; ".join(parts)
    return sentence if _ENDS_SENTENCE.search(sentence) else sentence + "."


class RowBudget:
    """Counts the non-empty rows and cells of one file; ReadError past either limit."""

    def __init__(self, what: str, max_rows: int | None = None, max_cells: int | None = None) -> None:
        self.what = what
        self.max_rows = MAX_ROWS if max_rows is None else max_rows
        self.max_cells = MAX_CELLS if max_cells is None else max_cells
        self.rows = 0
        self.cells = 0

    def take(self, row: Sequence[str]) -> None:
        filled = sum(1 for cell in row if cell.strip())
        if not filled:
            return
        self.rows += 1
        self.cells += filled
        if self.rows > self.max_rows:
            raise ReadError(
                f"{self.what} has more than {self.max_rows:,} filled rows, the limit for one file; "
                "split it or keep only the part worth searching"
            )
        if self.cells > self.max_cells:
            raise ReadError(
                f"{self.what} has more than {self.max_cells:,} filled cells, the limit for one file; "
                "split it or keep only the part worth searching"
            )
