"""The Debian FAQ (DocBook XHTML, ../shared/corpora/debian-faq) ingested as a person reads it.

Every chapter page opens with a navigation header and « Table des matières » (the list of
its questions) and ends with a navigation footer naming the previous and next chapters. A
contents line is the question itself, so a chunk of it outranks the answer: none may be
indexed. What counts as contents or navigation here comes from the pages themselves (the
``<link rel="prev|next">`` titles of their head) and from the shape of a contents list (lines
that are only section numbers and titles), not from the reader's rules.
"""

from __future__ import annotations

import re
import warnings

import pytest

from ingest.pipeline import ingest
from rag.index import Index
from rag.testing import HashingEmbedder
from tests.conftest import SHARED

FAQ = SHARED / "corpora" / "debian-faq"
# A contents line: "2.1. Question ?" or "Chapitre 2. Titre" at the start of a line.
NUMBERED = re.compile(r"^(?:Chapitre \d+\.|\d+(?:\.\d+)+\.)\s")


def _squeeze(text: str) -> str:
    return " ".join(text.split())


def _neighbour_titles() -> dict[str, list[str]]:
    """Per page, the titles of the previous and next chapters, from its <link> elements."""
    from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning

    titles = {}
    for path in sorted(FAQ.glob("*.html")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
            soup = BeautifulSoup(path.read_bytes(), "lxml")
        links = soup.find_all("link", rel=["prev", "next"])
        titles[path.name] = [_squeeze(link["title"]) for link in links if link.get("title")]
    return titles


def toc_or_nav(text: str, heading_path: tuple[str, ...], neighbours: list[str]) -> list[str]:
    """Why a chunk is contents or navigation (empty when it is neither)."""
    lines = [line.strip() for line in text.split("\n")]
    reasons = []
    if "Table des matières" in lines:
        reasons.append("contents title")
    # Two numbered lines in a row make a list; headings stand alone, between blank lines.
    if any(NUMBERED.match(a) and NUMBERED.match(b) for a, b in zip(lines, lines[1:])):
        reasons.append("list of section numbers")
    if any(title in _squeeze(text) for title in neighbours):
        reasons.append("previous/next chapter")
    if not heading_path:
        reasons.append("before the chapter title")  # every FAQ page's text is under its h1
    return reasons


def test_toc_or_nav_recognises_what_the_pages_used_to_give():
    neighbours = ["Chapitre 9. Entretenir le four"]
    toc = "Chapitre 10. Le levain\n\nTable des matières\n\n10.1. Quelle farine ?\n10.2. Quelle eau ?"
    assert toc_or_nav(toc, ("Chapitre 10. Le levain",), neighbours) == [
        "contents title",
        "list of section numbers",
    ]
    footer = "Voir le guide du boulanger.\n\nChapitre 9. Entretenir le four | Chapitre 11. La cuisson"
    assert toc_or_nav(footer, ("Chapitre 10", "10.5. Plus ?"), neighbours) == ["previous/next chapter"]
    assert toc_or_nav("Chapitre 10. Le levain", (), neighbours) == ["before the chapter title"]
    answer = "10.1. Quelle farine ?\n\nDu seigle.\n\n10.2. Quelle eau ?\n\nTiède."
    assert toc_or_nav(answer, ("Chapitre 10", "10.1. Quelle farine ?"), neighbours) == []
    headings = "Chapitre 8. Les outils\n\n8.1. Quels programmes ?\n\n8.1.1. Le pétrin\n\nIl pétrit la pâte."
    assert toc_or_nav(headings, ("Chapitre 8. Les outils", "8.1. Quels programmes ?"), neighbours) == []


@pytest.fixture(scope="module")
def faq_index(tmp_path_factory):
    if not FAQ.is_dir():
        pytest.skip(f"{FAQ} is not there (the shared corpora sit beside the repository)")
    directory = tmp_path_factory.mktemp("debian-faq-index")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an XHTML page must not print a warning
        report = ingest([FAQ], directory, HashingEmbedder(64), progress=False)
    assert report.ok, report.summary()
    assert report.counts["added"] == 16
    return directory


def test_no_chunk_is_contents_or_navigation(faq_index):
    neighbours = _neighbour_titles()
    with Index.open(faq_index) as index:
        chunks = [chunk for _, chunk in index.store.iter_chunks()]
    assert len(chunks) > 100
    bad = {
        chunk.chunk_id: (chunk.source, reasons, chunk.text[:120])
        for chunk in chunks
        if (reasons := toc_or_nav(chunk.text, chunk.heading_path, neighbours[chunk.source]))
    }
    assert bad == {}


def test_every_heading_is_in_the_text_once(faq_index):
    """Each h1-h6 of a page is in its text exactly once: kept, and not repeated by a contents list."""
    from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning

    with Index.open(faq_index) as index:
        texts = {doc.source: _squeeze(index.store.document_text(doc.doc_id)) for doc in index.store.documents()}
    counted = 0
    for path in sorted(FAQ.glob("*.html")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
            soup = BeautifulSoup(path.read_bytes(), "lxml")
        for heading in soup.find_all(("h1", "h2", "h3", "h4", "h5", "h6")):
            title = _squeeze(heading.get_text())
            assert texts[path.name].count(title) == 1, (path.name, title)
            counted += 1
    assert counted > 150
