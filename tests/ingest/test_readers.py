"""Readers: text and offsets for every format, encodings, and every refusal as a ReadError.

Fixtures are built in tmp_path (reportlab, python-docx, pypdf); the sample-corpus tests
read corpora/sample as shipped.
"""

from __future__ import annotations

import builtins
import hashlib
import io
import os
import sys
from pathlib import Path

import pytest

from ingest.readers import SUPPORTED_SUFFIXES, read_document
from rag.errors import MissingDependencyError, ReadError

SAMPLE = Path(__file__).resolve().parents[2] / "corpora" / "sample"
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


# --- the sample corpus ------------------------------------------------------------------


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


# --- identity and paths -------------------------------------------------------------------


def test_doc_id_is_a_content_hash(tmp_path):
    a = write(tmp_path, "a.txt", "Bonjour\n")
    b = write(tmp_path, "sub/b.txt", "Bonjour\n")
    c = write(tmp_path, "c.txt", "Bonsoir\n")
    first = read(a).doc_id
    assert first == read(a).doc_id == read(b).doc_id
    assert first == hashlib.sha256(b"Bonjour\n").hexdigest()[:16]
    assert read(c).doc_id != first


def test_source_is_relative_posix_path(tmp_path):
    path = write(tmp_path, "a/b/note.md", "# Titre\n")
    assert read_document(path, tmp_path).source == "a/b/note.md"
    assert read_document(path, path).source == "note.md"  # a single file was given
    assert read_document(path, tmp_path / "elsewhere").source == "note.md"


def test_supported_suffixes():
    assert SUPPORTED_SUFFIXES == {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"} | {
        ".odt", ".odp", ".ods", ".pptx", ".epub", ".xlsx", ".xlsm", ".csv", ".tsv"
    }  # fmt: skip


def test_suffix_is_case_insensitive(tmp_path):
    assert read(write(tmp_path, "NOTE.MD", "# Titre\n")).format == "markdown"


# --- text encodings ---------------------------------------------------------------------------


def test_cp1252_is_detected(tmp_path):
    text = "Le prix du cœur de bœuf est de 12 € – « très bon », dit l'œnologue.\n"
    assert read(write(tmp_path, "a.txt", text.encode("cp1252"))).text == text


def test_latin1_is_detected(tmp_path):
    text = "Élève à l'école, très agréable ; ça coûte cher. Où est la forêt ?\n"
    assert read(write(tmp_path, "a.txt", text.encode("latin-1"))).text == text


def test_utf8_bom_is_stripped(tmp_path):
    doc = read(write(tmp_path, "a.md", "\ufeff# Titre\n\nTexte".encode()))
    assert doc.text == "# Titre\n\nTexte"
    assert doc.headings[0].offset == 0


def test_utf16_with_bom(tmp_path):
    assert read(write(tmp_path, "a.txt", "Été\n".encode("utf-16"))).text == "Été\n"


def test_newlines_are_normalised_before_offsets(tmp_path):
    doc = read(write(tmp_path, "a.md", b"Intro\r\n\r\n## Deux\r\nfin\rvieux Mac"))
    assert doc.text == "Intro\n\n## Deux\nfin\nvieux Mac"
    assert doc.text[doc.headings[0].offset :].startswith("## Deux")


def test_html_declared_charset(tmp_path):
    page = '<html><head><meta charset="iso-8859-1"></head><body><p>Un œuf : 2 €</p></body></html>'
    assert read(write(tmp_path, "a.html", page.encode("cp1252"))).text == "Un œuf : 2 €"


def test_html_undeclared_cp1252(tmp_path):
    page = "<p>Déjà réglé : 12 € pour le pâté</p>"
    assert read(write(tmp_path, "a.htm", page.encode("cp1252"))).text == "Déjà réglé : 12 € pour le pâté"


# --- markdown headings ----------------------------------------------------------------------------


def test_markdown_heading_rules(tmp_path):
    source = (
        "---\ntitle: front\n---\n"
        "# Un\n\n#hashtag n'est pas un titre\n\n"
        "```\n# dans du code\n```\n\n"
        "~~~~\n## toujours du code\n~~~\n~~~~\n\n"
        "Deux\n====\n\nTrois\n-----\n\n"
        "Texte\n\n---\n\n"
        "### Quatre ###\n"
    )
    doc = read(write(tmp_path, "a.md", source))
    assert [(h.level, h.title) for h in doc.headings] == [(1, "Un"), (1, "Deux"), (2, "Trois"), (3, "Quatre")]
    for h in doc.headings:
        assert doc.text[h.offset :].startswith(("#" * h.level + " " + h.title, h.title))


def test_txt_has_no_headings(tmp_path):
    assert read(write(tmp_path, "a.txt", "# pas un titre\n")).headings == ()


# --- html -----------------------------------------------------------------------------------


def test_html_drops_scripts_nav_and_attributes(tmp_path):
    page = """<html><head><title>T</title><style>p{color:red}</style></head><body>
    <nav>Menu</nav><header>Bandeau</header><script>alert('x')</script>
    <article><header><h1>Le titre</h1></header>
    <p>Premier   paragraphe
       sur deux lignes.</p><!-- commentaire -->
    <img src="x" onerror="alert('img')"><p hidden>caché</p><div style="display: none">invisible</div>
    <ul><li>un</li><li>deux</li></ul><p>Ligne<br>suivante</p>
    <template><p>gabarit</p></template><noscript>sans js</noscript></article>
    <footer>Pied</footer></body></html>"""
    doc = read(write(tmp_path, "a.html", page))
    assert doc.text == "Le titre\n\nPremier paragraphe sur deux lignes.\n\nun\ndeux\n\nLigne\nsuivante"
    assert doc.headings == (doc.headings[0],) and doc.headings[0].title == "Le titre"


def test_html_headings_offsets(tmp_path):
    page = "<body><h1>Un <em>grand</em> titre</h1><p>a</p><h2>\n  Sous   titre </h2><p>b</p><h3></h3></body>"
    doc = read(write(tmp_path, "a.html", page))
    assert [(h.level, h.title) for h in doc.headings] == [(1, "Un grand titre"), (2, "Sous titre")]
    for h in doc.headings:
        assert doc.text[h.offset :].startswith(h.title)


def test_html_title_stands_in_for_missing_h1(tmp_path):
    doc = read(write(tmp_path, "a.html", "<title>Page</title><h2>Partie</h2><p>x</p>"))
    assert doc.text == "Page\n\nPartie\n\nx"
    assert [(h.offset, h.level, h.title) for h in doc.headings] == [(0, 1, "Page"), (6, 2, "Partie")]


def test_html_deep_nesting(tmp_path):
    page = "<div>" * 3000 + "profond" + "</div>" * 3000
    assert read(write(tmp_path, "a.html", page)).text == "profond"


def test_html_without_text(tmp_path):
    expect_error(write(tmp_path, "a.html", "<html><body><script>x()</script></body></html>"), "no text")
    expect_error(write(tmp_path, "b.html", "<title>Seulement un titre</title>"), "no text")


# --- pdf -------------------------------------------------------------------------------------


def test_pdf_pages_by_offset(tmp_path):
    pages = [["Première page", "avec deux lignes"], [], ["Troisième : 12 € et œuf"]]
    doc = read(write(tmp_path, "a.pdf", make_pdf(pages)))
    assert [p.number for p in doc.pages] == [1, 2, 3]
    for page, lines in zip(doc.pages, pages):
        assert doc.text[page.start : page.end] == "\n".join(lines)
    assert doc.page_at(doc.text.index("Troisième")) == 3


def test_pdf_without_text(tmp_path):
    expect_error(write(tmp_path, "a.pdf", make_pdf([[], []])), "no text could be extracted")


def test_corrupt_pdf(tmp_path):
    expect_error(write(tmp_path, "a.pdf", os.urandom(4096)), "PDF is corrupt or unreadable")
    expect_error(write(tmp_path, "b.pdf", b"%PDF-1.7\n" + b"garbage " * 200), "PDF")


def test_truncated_pdf_never_raises_a_library_error(tmp_path):
    data = make_pdf([["Une page"], ["Une autre"]])
    for cut in (len(data) // 3, len(data) // 2, len(data) - 40):
        path = write(tmp_path, f"cut{cut}.pdf", data[:cut])
        try:
            read(path)
        except ReadError:
            pass


def test_encrypted_pdf(tmp_path):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf([["Secret"]]))))
    writer.encrypt("secret")
    buffer = io.BytesIO()
    writer.write(buffer)
    message = expect_error(write(tmp_path, "a.pdf", buffer.getvalue()), "encrypted")
    assert "password" in message


def test_pdf_with_empty_user_password_is_read(tmp_path):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf([["Lisible"]]))))
    writer.encrypt(user_password="", owner_password="proprietaire")
    buffer = io.BytesIO()
    writer.write(buffer)
    assert read(write(tmp_path, "a.pdf", buffer.getvalue())).text == "Lisible"


def test_pdf_library_exception_is_wrapped(tmp_path, monkeypatch):
    import pypdf

    def boom(*args, **kwargs):
        raise ValueError("unexpected internal failure")

    monkeypatch.setattr(pypdf, "PdfReader", boom)
    expect_error(write(tmp_path, "a.pdf", b"%PDF-1.4 x"), "corrupt", "unexpected internal failure")


# --- docx ------------------------------------------------------------------------------------


def make_docx(build) -> bytes:
    docx = pytest.importorskip("docx")
    document = docx.Document()
    build(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_paragraphs_tables_and_headings(tmp_path):
    from docx.enum.style import WD_STYLE_TYPE

    def build(document):
        document.styles.add_style("Titre 2", WD_STYLE_TYPE.PARAGRAPH)
        document.add_paragraph("Le document", style="Title")
        document.add_paragraph("Intro.")
        document.add_paragraph("")  # empty paragraphs leave no trace
        document.add_paragraph("Partie", style="Heading 1")
        table = document.add_table(rows=2, cols=3)
        table.cell(0, 0).merge(table.cell(0, 1)).text = "fusion"
        table.cell(0, 2).text = "c"
        for i, value in enumerate(("x", "y", "z")):
            table.cell(1, i).text = value
        document.add_paragraph("Sous-partie française", style="Titre 2")
        document.add_paragraph("Fin.")

    doc = read(write(tmp_path, "a.docx", make_docx(build)))
    assert doc.text == ("Le document\n\nIntro.\n\nPartie\n\nfusion | c\nx | y | z\n\nSous-partie française\n\nFin.")
    assert [(h.level, h.title) for h in doc.headings] == [
        (1, "Le document"),
        (1, "Partie"),
        (2, "Sous-partie française"),
    ]
    for h in doc.headings:
        assert doc.text[h.offset :].startswith(h.title)


def test_invalid_docx(tmp_path):
    expect_error(write(tmp_path, "a.docx", os.urandom(2048)), "not a valid .docx file")
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a word document")
    expect_error(write(tmp_path, "b.docx", buffer.getvalue()), "not a valid .docx file")


# --- refusals ----------------------------------------------------------------------------------


def test_binary_file_with_txt_suffix(tmp_path):
    expect_error(write(tmp_path, "a.txt", bytes(range(256)) * 8), "binary")
    controls = bytes([1, 2, 3, 4, 5, 6, 7, 8, 0x0E, 0x0F]) * 20 + b"some text" * 10
    expect_error(write(tmp_path, "b.md", controls), "binary")


def test_empty_file(tmp_path):
    message = expect_error(write(tmp_path, "a.txt", b""), "empty")
    assert message.startswith("empty")  # the pipeline reports these as skipped
    assert expect_error(write(tmp_path, "b.md", " \n\t\n")).startswith("empty")


def test_unknown_extension(tmp_path):
    message = expect_error(write(tmp_path, "a.xyz", "texte"), "unsupported file type '.xyz'")
    assert ".pdf" in message and ".docx" in message
    expect_error(write(tmp_path, "Makefile", "all:"), "unsupported file type '(none)'")


def test_file_over_the_size_limit(tmp_path):
    path = write(tmp_path, "a.txt", "x" * 100)
    expect_error(path, "larger than the 99 bytes limit", "--max-file-mb", max_bytes=99)
    assert read(path, max_bytes=100).text == "x" * 100
    message = expect_error(write(tmp_path, "b.txt", "x" * 10), max_bytes=0)
    assert "larger than" in message


def test_default_limit_is_20_mb(tmp_path):
    big = write(tmp_path, "big.txt", b"")
    with open(big, "wb") as handle:  # sparse: no 20 MB actually written
        handle.truncate(20 * 1024 * 1024 + 1)
    expect_error(big, "larger than the 20 MB limit; raise it with --max-file-mb")


def test_folder_named_like_a_file(tmp_path):
    (tmp_path / "dossier.txt").mkdir()
    expect_error(tmp_path / "dossier.txt", "not a regular file")


def test_missing_file(tmp_path):
    expect_error(tmp_path / "absent.txt", "no such file")


def test_permission_denied(tmp_path, monkeypatch):
    path = write(tmp_path, "secret.txt", "confidentiel")
    real_open = builtins.open

    def denying_open(file, *args, **kwargs):
        if Path(file) == path:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", denying_open)
    expect_error(path, "permission denied")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read any file")
def test_permission_denied_for_real(tmp_path):
    path = write(tmp_path, "secret.txt", "confidentiel")
    path.chmod(0)
    try:
        expect_error(path, "permission denied")
    finally:
        path.chmod(0o644)


def test_unexpected_reader_failure_is_wrapped(tmp_path, monkeypatch):
    from ingest.readers import text

    def broken(data):
        raise RuntimeError("bug in a reader")

    monkeypatch.setattr(text, "read_text", broken)
    expect_error(write(tmp_path, "a.txt", "texte"), "could not read", "bug in a reader")


def test_missing_library_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pypdf", None)  # makes "import pypdf" fail
    with pytest.raises(MissingDependencyError, match="pypdf"):
        read(write(tmp_path, "a.pdf", b"%PDF-1.4"))
