"""Delimited text tables: .csv (delimiter guessed) and .tsv (tab), read with the stdlib.

The bytes are decoded as the other text formats are (``ingest.readers.decoding``: a BOM,
then UTF-8, then the Windows-1252 family French Excel exports use). The delimiter is
sniffed among ``, ; tab |`` (French Excel writes ``;`` because ``,`` is the decimal mark),
else the one whose count is the same on most of the first lines, else none (one column).
Each filled row becomes a sentence with the header's names (``ingest.readers.tables``);
empty rows are skipped; at most ``tables.MAX_ROWS`` rows / ``MAX_CELLS`` cells per file.

A CSV has no sheets, so no headings (the chunk's source names the file). Values are kept as
written (``1,20`` stays ``1,20``): no type guessing, no number reformatting.
"""

from __future__ import annotations

import csv
import io

from ingest.readers import Extracted, short_reason
from ingest.readers.decoding import decode_counted, replaced_note
from ingest.readers.tables import RowBudget, cell_text, row_sentences
from rag.errors import ReadError

_DELIMITERS = ",;\t|"
_SNIFF_BYTES = 64 * 1024


def read_csv(data: bytes) -> Extracted:
    return _read(data, None, "CSV")


def read_tsv(data: bytes) -> Extracted:
    return _read(data, "\t", "TSV")


def _read(data: bytes, delimiter: str | None, kind: str) -> Extracted:
    text, replaced = decode_counted(data)
    if not text.strip():
        raise ReadError("empty file (only whitespace)")
    dialect = _dialect(text[:_SNIFF_BYTES], delimiter)
    budget = RowBudget(f"this {kind} file")
    rows: list[list[str]] = []
    try:
        for record in csv.reader(io.StringIO(text, newline=""), dialect):
            cells = [cell_text(value) for value in record]
            budget.take(cells)
            rows.append(cells)
    except csv.Error as exc:  # e.g. a field over the csv module's size limit
        raise ReadError(f"not a readable {kind} file: {short_reason(exc)}") from exc
    sentences = row_sentences(rows)
    if not sentences:
        raise ReadError(f"empty {kind} file (no filled cells)")
    return Extracted("\n".join(sentences), notes=replaced_note(replaced))


def _dialect(sample: str, delimiter: str | None):
    if delimiter is None:
        try:
            return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS)
        except csv.Error:
            delimiter = _most_regular(sample)

    class Dialect(csv.excel):
        pass

    Dialect.delimiter = delimiter or "\x00"  # no delimiter found: one column per line
    return Dialect


def _most_regular(sample: str) -> str | None:
    """The candidate found on the most lines with the same count as on the first line."""
    lines = [line for line in sample.split("\n")[:50] if line.strip()]
    best, best_score = None, 0
    for candidate in _DELIMITERS:
        first = lines[0].count(candidate) if lines else 0
        if not first:
            continue
        score = sum(1 for line in lines if line.count(candidate) == first)
        if score > best_score:
            best, best_score = candidate, score
    return best
