"""Excel .xlsx / .xlsm workbooks: each sheet a heading, each filled row a sentence.

Read with ``openpyxl`` (MIT) in read-only mode (rows are streamed, not loaded at once) and
``data_only``: a formula cell gives the value Excel saved with the file. A file written by
a program that never computed its formulas has no such values, and those cells read as
empty. A row becomes ``Produit : Baguette ; Prix : 1.2.`` with the header's names
(``ingest.readers.tables``); empty rows and empty sheets are skipped; at most
``tables.MAX_ROWS`` rows / ``MAX_CELLS`` cells per file.

Cells are written plainly, not with their number format: integers without ".0", other
numbers as Python writes them, dates as YYYY-MM-DD (with the time when it is not
midnight). Hidden sheets are read, charts, comments and images are not; legacy .xls files
are not read (a different, binary format).
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from ingest.readers import Extracted, short_reason
from ingest.readers.blocks import TextBuilder
from ingest.readers.tables import RowBudget, cell_text, row_sentences
from rag.errors import MissingDependencyError, ReadError


def read_xlsx(data: bytes) -> Extracted:
    try:
        import openpyxl
    except ImportError as exc:
        raise MissingDependencyError("openpyxl", purpose="reading .xlsx files") from exc
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        # An OLE container: a legacy .xls renamed, or a workbook encrypted with a password.
        raise ReadError(
            "this is not an .xlsx file inside (a password-protected workbook or an old .xls); "
            "save an unprotected copy as .xlsx to ingest it"
        )
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ReadError(f"not a valid .xlsx file: {short_reason(exc)}") from exc
    builder = TextBuilder()
    budget = RowBudget("this workbook")
    try:
        for sheet in workbook.worksheets:
            rows = []
            # The saved dimension ("A1:XFD1048576" after a whole-column format) would pad every
            # row to it; without it each row is as long as its last written cell.
            sheet.reset_dimensions()
            for values in sheet.iter_rows(values_only=True):
                cells = [_cell(v) for v in values]
                budget.take(cells)
                rows.append(cells)
            sentences = row_sentences(rows)
            if sentences:
                builder.add(sheet.title.strip() or "Feuille", level=1)
                builder.add("\n".join(sentences))
    finally:
        workbook.close()  # read-only mode keeps the archive open until closed
    if not builder.has_text:
        raise ReadError("no text found in this workbook (every sheet is empty)")
    return builder.result()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "VRAI" if value else "FAUX"  # what a French Excel shows
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return cell_text(value)
