"""Small files for the readers' tests: written in tmp_path, read as the pipeline reads them,
and PDFs drawn with reportlab."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ingest.readers import read_document
from rag.errors import ReadError

SAMPLE = Path(__file__).resolve().parents[3] / "corpora" / "sample"


DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def read(path: Path, **kwargs):
    return read_document(path, path.parent, **kwargs)


def make_pdf(pages: list[list[str]]) -> bytes:
    """A PDF with one line of text per entry, one page per list (an empty list: blank page)."""
    pytest.importorskip("reportlab")
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    font = "Helvetica"
    if DEJAVU.exists():
        pdfmetrics.registerFont(TTFont("DejaVuSans", str(DEJAVU)))
        font = "DejaVuSans"
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    for lines in pages:
        pdf.setFont(font, 12)
        for i, line in enumerate(lines):
            pdf.drawString(72, 760 - 18 * i, line)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def expect_error(path: Path, *words: str, **kwargs) -> str:
    with pytest.raises(ReadError) as info:
        read(path, **kwargs)
    message = str(info.value)
    for word in words:
        assert word in message, message
    return message
