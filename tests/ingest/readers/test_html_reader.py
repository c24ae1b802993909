"""HTML pages: page furniture dropped, headings and their offsets, odd pages."""

from __future__ import annotations

from tests.ingest.readers.files import expect_error, read, write


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
