"""Scanned PDFs: OCR of the pages without a text layer (rapidocr, offline), and what is reported.

The scans are made here: French text drawn with a DejaVu font by Pillow, saved as an
image-only PDF. The accuracy bar is a character error rate of at most 2 % against the
drawn text.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from rag.errors import ReadError

pytest.importorskip("pypdfium2")
PIL = pytest.importorskip("PIL")

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
LINES = [
    "Le fournil des Coteaux a été fondé en 1987 à Bézières.",
    "Chaque matin, dès cinq heures, on pétrit la pâte à la main.",
    "Où trouver nos pains ? Au marché du samedi, place de l'Église.",
    "La boutique ouvre du mardi au dimanche, de 7 h à 19 h 30.",
    "Prix : baguette 1,20 €, pain de campagne 3,80 € ; remise de 5 %.",
    "Les élèves façonnent des brioches et goûtent un croûton doré.",
]


def ocr_installed() -> bool:
    from ingest.readers import ocr

    return ocr.available()


needs_ocr = pytest.mark.skipif(not ocr_installed(), reason='OCR is not installed (pip install "rag-fr[ocr]")')
needs_font = pytest.mark.skipif(not FONT.exists(), reason=f"no DejaVu font at {FONT} to draw the scans with")


def page_image(lines: list[str], size=(1240, 620), font_px: int = 30, top: int = 60):
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONT), font_px)
    for i, line in enumerate(lines):
        draw.text((60, top + i * int(font_px * 1.6)), line, font=font, fill=0)
    return image


def image_pdf(images, resolution: float = 150) -> bytes:
    """An image-only PDF (no text layer), one page per image: a scan."""
    buffer = io.BytesIO()
    images[0].save(buffer, "PDF", resolution=resolution, save_all=True, append_images=images[1:])
    return buffer.getvalue()


def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def cer(recognised: str, source: str) -> float:
    """Character error rate, whitespace runs counted as one space (line breaks are layout)."""
    recognised, source = " ".join(recognised.split()), " ".join(source.split())
    return edit_distance(recognised, source) / len(source)


def test_edit_distance_and_cer():
    assert edit_distance("", "abc") == 3
    assert edit_distance("chat", "chats") == 1
    assert edit_distance("été", "ete") == 2
    assert cer("Le  pain\nest cuit", "Le pain est cuit") == 0.0
    assert cer("Le pain est cuIt", "Le pain est cuit") == 1 / 16


def test_layout_puts_boxes_back_into_lines_and_paragraphs():
    from ingest.readers.ocr import _layout

    boxes = [  # (top, bottom, left, text), in no particular order
        (100, 130, 400, "monde"),
        (102, 128, 50, "Bonjour le"),
        (140, 170, 50, "deuxième ligne"),
        (260, 290, 50, "Nouveau paragraphe"),
    ]
    assert _layout(boxes) == "Bonjour le monde\ndeuxième ligne\n\nNouveau paragraphe"
    assert _layout([]) == ""


# --- the plumbing, with the recogniser faked (fast) --------------------------------------------


@pytest.fixture
def fake_ocr(monkeypatch):
    """OCR that "reads" every non-blank page as a fixed text, and counts its calls."""
    from ingest.readers import ocr

    calls = []

    def recognize(image):
        calls.append(image.size)
        return "Texte reconnu sur la page."

    monkeypatch.setattr(ocr, "available", lambda: True)
    monkeypatch.setattr(ocr, "recognize", recognize)
    return calls


@needs_font
def test_only_pages_without_a_text_layer_are_recognised(make_pdf, fake_ocr):
    from pypdf import PdfReader, PdfWriter

    from ingest.readers.pdf import read_pdf

    writer = PdfWriter()
    for data in (make_pdf([["Page avec une couche de texte."]]), image_pdf([page_image(LINES[:2])])):
        writer.append(PdfReader(io.BytesIO(data)))
    buffer = io.BytesIO()
    writer.write(buffer)
    seen = []
    extracted = read_pdf(buffer.getvalue(), progress=lambda done, total: seen.append((done, total)))
    assert len(fake_ocr) == 1 and seen == [(1, 1)]
    assert extracted.ocr_pages == (2,)
    assert [extracted.text[p.start : p.end] for p in extracted.pages] == [
        "Page avec une couche de texte.",
        "Texte reconnu sur la page.",
    ]
    assert read_pdf(buffer.getvalue(), ocr=False).ocr_pages == ()


@needs_font
def test_ocr_is_recorded_in_the_format(read_file, fake_ocr):
    doc = read_file("scan.pdf", image_pdf([page_image(LINES[:2])]))
    assert doc.format == "pdf+ocr" and [p.number for p in doc.pages] == [1]


@needs_font
def test_a_stamped_scan_is_still_recognised(fake_ocr):
    """A scanner's few stamped characters over the page image are not the page's text."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    from ingest.readers.pdf import read_pdf

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.drawImage(ImageReader(page_image(LINES)), 0, 300, width=595, height=300)
    pdf.drawString(500, 30, "p. 3")
    pdf.showPage()
    pdf.save()
    extracted = read_pdf(buffer.getvalue())
    assert extracted.ocr_pages == (1,) and extracted.text == "Texte reconnu sur la page."


def test_blank_scan_is_reported_with_a_reason(read_file, fake_ocr):
    from PIL import Image

    blank = image_pdf([Image.new("L", (1240, 1754), 255)] * 2)
    with pytest.raises(ReadError, match="no text could be extracted: OCR found none on the 2 page"):
        read_file("blanc.pdf", blank)
    assert fake_ocr == []  # a flat page is not worth seconds of OCR


def test_without_ocr_the_reason_says_how_to_get_it(read_file, monkeypatch):
    from PIL import Image

    from ingest.readers import ocr

    monkeypatch.setattr(ocr, "available", lambda: False)
    scan = image_pdf([Image.new("L", (200, 200), 128)])
    with pytest.raises(ReadError, match=r'no text layer .*pip install "rag-fr\[ocr\]"'):
        read_file("scan.pdf", scan)


# --- real OCR ------------------------------------------------------------------------------


@needs_ocr
@needs_font
def test_scanned_french_pdf_is_read_with_few_errors(tmp_path, make_pdf):
    """End to end: a 2-page scan, an encrypted PDF and a blank scan in one ingest."""
    from PIL import Image
    from pypdf import PdfReader, PdfWriter

    from ingest.chunking import ChunkingParams
    from ingest.pipeline import ingest
    from rag.index import Index
    from rag.testing import HashingEmbedder

    root = tmp_path / "docs"
    root.mkdir()
    pages = [LINES[:3], LINES[3:]]
    (root / "scan.pdf").write_bytes(image_pdf([page_image(lines) for lines in pages]))
    (root / "blanc.pdf").write_bytes(image_pdf([Image.new("L", (1240, 1754), 255)]))
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf([["Secret"]]))))
    writer.encrypt("secret")
    with open(root / "chiffre.pdf", "wb") as handle:
        writer.write(handle)

    started = time.perf_counter()
    params = ChunkingParams(max_tokens=40, overlap_tokens=0)
    report = ingest([root], tmp_path / "index", HashingEmbedder(64), params, progress=False)
    seconds = time.perf_counter() - started
    outcomes = {f.source: f for f in report.files}
    assert outcomes["scan.pdf"].status == "added"
    assert outcomes["chiffre.pdf"].status == "failed" and "encrypted with a password" in outcomes["chiffre.pdf"].reason
    assert outcomes["blanc.pdf"].status == "failed" and "OCR found none" in outcomes["blanc.pdf"].reason
    with Index.open(tmp_path / "index") as index:
        record = next(d for d in index.store.documents() if d.source == "scan.pdf")
        text = index.store.document_text(record.doc_id)
        chunks = [c for _, c in index.store.iter_chunks() if c.source == "scan.pdf"]
    assert record.format == "pdf+ocr" and record.n_pages == 2
    source = "\n".join(LINES)
    rate = cer(text, source)
    print(f"\nOCR: CER {rate:.2%} on {len(source)} characters, 2 pages, {seconds:.1f} s for the whole ingest")
    assert rate <= 0.02, text
    assert {c.page for c in chunks} == {1, 2}
    for chunk in chunks:  # page numbers kept: each chunk's text is on the page it cites
        assert chunk.page == chunk.page_end
        assert cer(chunk.text, "\n".join(pages[chunk.page - 1])) <= 0.02


@pytest.mark.slow
@needs_ocr
@needs_font
def test_scan_like_a4_pages(tmp_path):
    """Three full A4 pages at 200 dpi, slightly rotated, blurred, noisy and JPEG-compressed."""
    import random
    import textwrap

    from PIL import ImageFilter

    from ingest.readers.pdf import read_pdf

    prose = " ".join(LINES) + " " + " ".join(reversed(LINES))
    page_lines = [textwrap.wrap(prose * 9, 70)[i::3] for i in range(3)]  # ~30 lines a page
    rng = random.Random(7)
    images = []
    for lines in page_lines:
        image = page_image(lines, size=(1654, 2339), font_px=30, top=150)
        image = image.rotate(0.6, fillcolor=255, resample=3).filter(ImageFilter.GaussianBlur(0.7))
        noisy = image.point(lambda v: max(0, min(255, v + rng.randint(-25, 25))))
        buffer = io.BytesIO()
        noisy.save(buffer, "JPEG", quality=70)
        images.append(PIL.Image.open(buffer))
    data = image_pdf(images, resolution=200)
    started = time.perf_counter()
    extracted = read_pdf(data)
    seconds = time.perf_counter() - started
    assert extracted.ocr_pages == (1, 2, 3)
    rates = [cer(extracted.text[p.start : p.end], "\n".join(lines)) for p, lines in zip(extracted.pages, page_lines)]
    print(f"\nOCR scan-like A4: CER per page {[f'{r:.2%}' for r in rates]}, {seconds / 3:.1f} s/page")
    assert max(rates) <= 0.02
