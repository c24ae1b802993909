"""EPUB books, made here with zipfile (EbookLib is AGPL: the reader uses the stdlib, so do the tests)."""

from __future__ import annotations

import io
import zipfile

import pytest

from rag.errors import ReadError

pytest.importorskip("bs4")  # the chapters go through the HTML reader

CONTAINER = (
    '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
    '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
    "</rootfiles></container>"
)


def make_epub(chapters, *, toc: str = "nav", encrypted: tuple[str, ...] = (), extra_spine: str = "") -> bytes:
    """``chapters``: (file name, table-of-contents label or None, body XHTML)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/container.xml", CONTAINER)
        items = "".join(
            f'<item id="c{i}" href="text/{name}" media-type="application/xhtml+xml"/>'
            for i, (name, _, _) in enumerate(chapters)
        )
        items += '<item id="cover-image" href="cover.jpg" media-type="image/jpeg"/>'
        refs = "".join(f'<itemref idref="c{i}"/>' for i in range(len(chapters))) + extra_spine
        if toc == "nav":
            items += '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>'
            links = "".join(f'<li><a href="text/{n}#debut">{label}</a></li>' for n, label, _ in chapters if label)
            archive.writestr(
                "OEBPS/nav.xhtml",
                '<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml" '
                'xmlns:epub="http://www.idpf.org/2007/ops"><head><title>Sommaire</title></head><body>'
                f'<nav epub:type="toc"><ol>{links}</ol></nav></body></html>',
            )
            spine = "<spine>"
        else:
            items += '<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>'
            points = "".join(
                f'<navPoint id="p{i}"><navLabel><text>{label}</text></navLabel><content src="text/{n}"/></navPoint>'
                for i, (n, label, _) in enumerate(chapters)
                if label
            )
            archive.writestr(
                "OEBPS/toc.ncx",
                f'<?xml version="1.0"?><ncx xmlns="http://www.daisy.org/z3986/2005/ncx/"><navMap>{points}</navMap></ncx>',
            )
            spine = '<spine toc="ncx">'
        archive.writestr(
            "OEBPS/content.opf",
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
            '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Le Livre du fournil</dc:title>'
            f"</metadata><manifest>{items}</manifest>{spine}{refs}</spine></package>",
        )
        for name, _, body in chapters:
            archive.writestr(
                f"OEBPS/text/{name}",
                '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml">'
                f"<head><title>Le Livre du fournil</title></head><body>{body}</body></html>",
            )
        if encrypted:
            references = "".join(
                '<EncryptedData xmlns="http://www.w3.org/2001/04/xmlenc#">'
                '<EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>'
                f'<CipherData><CipherReference URI="{uri}"/></CipherData></EncryptedData>'
                for uri in encrypted
            )
            archive.writestr(
                "META-INF/encryption.xml",
                f'<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container">{references}</encryption>',
            )
    return buffer.getvalue()


BOOK = [
    ("couverture.xhtml", None, '<div><img src="../cover.jpg" alt="Couverture"/></div>'),
    (
        "ch1.xhtml",
        "Chapitre 1 : Le pain",
        "<h1>Chapitre 1 : Le pain</h1><p>Le pain est cuit à six heures.</p>"
        "<h2>La farine</h2><p>Elle vient du moulin voisin.</p>",
    ),
    ("ch2.xhtml", "Chapitre 2 : Les horaires", "<p>La boutique ouvre le mardi.</p><p>Elle ferme le lundi.</p>"),
    ("annexe.xhtml", None, "<h1>Annexe</h1><p>Une page sans entrée au sommaire.</p>"),
]


def test_chapters_in_spine_order_are_headings(read_file):
    doc = read_file("livre.epub", make_epub(BOOK))
    assert doc.format == "epub" and doc.pages == ()
    assert doc.text == (
        "Chapitre 1 : Le pain\n\nLe pain est cuit à six heures.\n\nLa farine\n\nElle vient du moulin voisin.\n\n"
        "Chapitre 2 : Les horaires\n\nLa boutique ouvre le mardi.\n\nElle ferme le lundi.\n\n"
        "Annexe\n\nUne page sans entrée au sommaire."
    )
    assert [(h.level, h.title) for h in doc.headings] == [
        (1, "Chapitre 1 : Le pain"),  # the chapter's own <h1> is its title
        (2, "La farine"),
        (1, "Chapitre 2 : Les horaires"),  # no <h1>: the table of contents gives the title...
        (1, "Annexe"),  # ...and a chapter without an entry keeps its own headings
    ]
    for heading in doc.headings:
        assert doc.text[heading.offset :].startswith(heading.title)
    assert "Le Livre du fournil" not in doc.text  # each page's <title> is the book's: not a chapter title
    assert doc.heading_path_at(doc.text.index("moulin")) == ("Chapitre 1 : Le pain", "La farine")


def test_epub2_ncx_table_of_contents(read_file):
    doc = read_file("livre.epub", make_epub(BOOK, toc="ncx"))
    assert [h.title for h in doc.headings if h.level == 1] == [
        "Chapitre 1 : Le pain",
        "Chapitre 2 : Les horaires",
        "Annexe",
    ]


def test_chapter_headings_go_below_the_table_of_contents_title(read_file):
    chapters = [("ch1.xhtml", "Première partie", "<h1>Le levain</h1><p>Il se nourrit chaque jour.</p>")]
    doc = read_file("livre.epub", make_epub(chapters))
    assert doc.text == "Première partie\n\nLe levain\n\nIl se nourrit chaque jour."
    assert [(h.level, h.title) for h in doc.headings] == [(1, "Première partie"), (2, "Le levain")]


def test_drm_is_refused_but_obfuscated_fonts_are_not(read_file):
    with pytest.raises(ReadError, match="protected by DRM"):
        read_file("drm.epub", make_epub(BOOK, encrypted=("OEBPS/text/ch1.xhtml",)))
    assert read_file("polices.epub", make_epub(BOOK, encrypted=("OEBPS/fonts/a.otf",))).text


def test_missing_spine_document_is_skipped(read_file):
    book = make_epub(BOOK[1:], extra_spine="")
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(book)) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            if not info.filename.endswith("ch2.xhtml"):
                target.writestr(info, source.read(info))
    doc = read_file("incomplet.epub", buffer.getvalue())
    assert "Le pain est cuit" in doc.text and "mardi" not in doc.text


def test_not_an_epub(read_file):
    with pytest.raises(ReadError, match="not a valid .epub file"):
        read_file("a.epub", b"PK\x03\x04 broken")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip")
    with pytest.raises(ReadError, match="not a valid .epub file"):
        read_file("b.epub", buffer.getvalue())


def test_book_without_text(read_file):
    with pytest.raises(ReadError, match="no text found in this .epub file"):
        read_file("images.epub", make_epub(BOOK[:1]))


def test_ingested_chunks_carry_their_chapter(ingest_file):
    record, chunks = ingest_file("livre.epub", make_epub(BOOK))
    assert record.format == "epub"
    paths = {c.heading_path for c in chunks}
    assert ("Chapitre 1 : Le pain", "La farine") in paths
    horaires = next(c for c in chunks if "mardi" in c.text)
    assert horaires.heading_path == ("Chapitre 2 : Les horaires",) and horaires.page is None
