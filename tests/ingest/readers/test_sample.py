"""The sample corpus (corpora/sample) as shipped: one file of every format, read as expected."""

from __future__ import annotations

import hashlib
import sys

import pytest

from ingest.readers import read_document
from tests.ingest.readers.files import SAMPLE


def test_sample_has_every_format():
    suffixes = {p.suffix for p in SAMPLE.iterdir()}
    assert suffixes == {".md", ".html", ".txt", ".pdf", ".docx"}


def test_sample_markdown_keeps_text_and_finds_headings():
    path = SAMPLE / "fournil-des-coteaux.md"
    doc = read_document(path, SAMPLE)
    assert doc.format == "markdown"
    assert doc.source == "fournil-des-coteaux.md"
    assert doc.text == path.read_text(encoding="utf-8")
    assert doc.headings[0].title == "Le Fournil des Coteaux" and doc.headings[0].level == 1
    assert {(h.level, h.title) for h in doc.headings} >= {(2, "Nos pains"), (3, "La baguette de tradition")}
    for h in doc.headings:
        assert doc.text[h.offset :].startswith("#" * h.level + " " + h.title)
    offset = doc.text.index("1,30 €")
    assert doc.heading_path_at(offset) == ("Le Fournil des Coteaux", "Nos pains", "La baguette de tradition")


def test_sample_html_drops_page_furniture():
    doc = read_document(SAMPLE / "ateliers.html", SAMPLE)
    assert doc.format == "html"
    for marker in ("SCRIPT", "MENU-A-IGNORER", "ATTRIBUT", "ENCART", "PIED", "font-family", "Accueil"):
        assert marker not in doc.text
    assert "Tarif : 45 € par personne." in doc.text
    assert "Stage deux jours | 22 et 23 mars, 24 et 25 mai | 6" in doc.text
    assert [(h.level, h.title) for h in doc.headings][:3] == [
        (1, "Ateliers et stages au fournil"),
        (2, "Les formules"),
        (3, "Atelier découverte du levain"),
    ]
    for h in doc.headings:
        assert doc.text[h.offset :].startswith(h.title)


def test_sample_text():
    path = SAMPLE / "commandes-et-livraisons.txt"
    doc = read_document(path, SAMPLE)
    assert (doc.format, doc.headings, doc.pages) == ("text", (), ())
    assert doc.text == path.read_text(encoding="utf-8")
    assert "gratuite à partir de 25 €" in doc.text


def test_sample_pdf_pages():
    doc = read_document(SAMPLE / "rapport-annuel-2023.pdf", SAMPLE)
    assert doc.format == "pdf"
    assert [p.number for p in doc.pages] == [1, 2, 3, 4]
    facts = ["1 184 000 euros", "148 tonnes de farine", "Mathis Royer", "36 kWc"]
    for page, fact in zip(doc.pages, facts):
        page_text = doc.text[page.start : page.end]
        assert fact in page_text
        assert doc.page_at(doc.text.index(fact)) == page.number
        assert page_text == page_text.strip() and page_text
    for fact, page in zip(facts, doc.pages):
        others = [p for p in doc.pages if p is not page]
        assert all(fact not in doc.text[p.start : p.end] for p in others)
    assert "Théo Marty" in doc.text and "d'épeautre" in doc.text  # accents survive extraction


def test_sample_docx_headings_and_table():
    doc = read_document(SAMPLE / "charte-hygiene-allergenes.docx", SAMPLE)
    assert doc.format == "docx"
    levels = {h.title: h.level for h in doc.headings}
    assert levels["Charte hygiène et allergènes"] == 1  # Title style
    assert levels["Nettoyage"] == 1 and levels["Information des clients"] == 2
    for h in doc.headings:
        assert doc.text[h.offset :].startswith(h.title)
    assert "Pain aux graines | gluten, sésame" in doc.text
    assert "œufs" in doc.text
    # the table sits where it is in the document, under its heading
    table_at = doc.text.index("Pain aux noix |")
    assert doc.heading_path_at(table_at)[-1] == "Allergènes présents dans nos produits"


def test_sample_documents_are_well_formed():
    for path in SAMPLE.iterdir():
        doc = read_document(path, SAMPLE)
        offsets = [h.offset for h in doc.headings]
        assert offsets == sorted(offsets) and all(0 <= o < len(doc.text) for o in offsets)
        assert doc.doc_id == hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def test_make_sample_matches_the_committed_files(tmp_path):
    pytest.importorskip("reportlab")
    sys.path.insert(0, str(SAMPLE.parent))
    try:
        import make_sample
    finally:
        sys.path.remove(str(SAMPLE.parent))
    make_sample.main(["make_sample.py", str(tmp_path / "one")])
    make_sample.main(["make_sample.py", str(tmp_path / "two")])
    for name in (make_sample.PDF_NAME, make_sample.DOCX_NAME):
        # Identical bytes run to run; the committed files may come from another reportlab
        # version, so against them only the extracted text must agree.
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
        fresh = read_document(tmp_path / "one" / name, tmp_path / "one")
        committed = read_document(SAMPLE / name, SAMPLE)
        assert (fresh.text, fresh.headings) == (committed.text, committed.headings), f"regenerate {name}"
