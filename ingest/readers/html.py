"""HTML pages: the readable content as text, with h1-h6 as headings.

Page furniture (navigation, header, footer, asides, forms) and non-text elements
(script, style, template, iframe, svg) are dropped, as are elements marked hidden. When
the page has a ``<main>`` (or a single ``<article>``) only that is read. Block elements
become lines, paragraphs are separated by a blank line, whitespace inside a block is
collapsed, ``<pre>`` keeps its own. Only text nodes are ever emitted, so attributes
(``onerror=...``, ``href``) and comments never reach the text. No CSS layout is
attempted and images contribute nothing (not even ``alt``).
"""

from __future__ import annotations

import re

from ingest.readers import Extracted
from ingest.readers.decoding import decode_text
from rag.errors import MissingDependencyError, ReadError
from rag.types import Heading

_DROP = ("script", "style", "noscript", "template", "nav", "aside", "form", "iframe", "svg", "canvas", "object")
_PAGE_FURNITURE = ("header", "footer")  # dropped unless inside the article: there they hold its title
_PARAGRAPH_BLOCKS = frozenset(
    "p div section article main h1 h2 h3 h4 h5 h6 pre blockquote table ul ol dl figure figcaption "
    "address details summary fieldset hr body".split()
)
_LINE_BLOCKS = frozenset("li tr dt dd caption".split())
_CELLS = frozenset(("td", "th"))
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


def read_html(data: bytes) -> Extracted:
    try:
        from bs4 import BeautifulSoup, FeatureNotFound
    except ImportError as exc:
        raise MissingDependencyError("beautifulsoup4", purpose="reading HTML files") from exc
    declared = _META_CHARSET.search(data[:4096])
    markup = decode_text(data, declared.group(1).decode("ascii") if declared else None)
    try:
        soup = BeautifulSoup(markup, "lxml")
    except FeatureNotFound:  # lxml not installed: the standard library parser is slower, as good here
        soup = BeautifulSoup(markup, "html.parser")
    # Only the head's <title>: an <svg> in the body may carry one of its own.
    title_tag = soup.head.find("title") if soup.head else None
    title = title_tag.get_text(" ", strip=True) if title_tag else ""
    for element in soup.find_all(("head", "title")):  # metadata, not content (a page may lack <body>)
        element.decompose()
    for element in soup.find_all(_DROP):
        element.decompose()
    for element in soup.find_all(_is_hidden):
        element.decompose()
    for element in soup.find_all(_PAGE_FURNITURE):
        if element.find_parent(("article", "main", "section")) is None:
            element.decompose()
    root = _content_root(soup)
    writer = _Writer()
    writer.walk(root)
    text, headings = writer.result()
    if not text.strip():  # a <title> alone is not content worth indexing
        raise ReadError("no text found in this HTML page")
    title = " ".join(title.split())
    if title and not any(h.level == 1 for h in headings) and not text.startswith(title):
        # The <title> stands in for the missing h1 so chunks still carry the page's name.
        shift = len(title) + 2
        headings = [Heading(0, 1, title)] + [Heading(h.offset + shift, h.level, h.title) for h in headings]
        text = f"{title}\n\n{text}"
    return Extracted(text, headings=tuple(headings))


def _is_hidden(tag) -> bool:
    return tag.has_attr("hidden") or bool(_HIDDEN_STYLE.search(tag.get("style") or ""))


def _content_root(soup):
    main = soup.find("main") or soup.find(attrs={"role": "main"})
    if main is not None:
        return main
    articles = soup.find_all("article")
    if len(articles) == 1:
        return articles[0]
    return soup.body or soup


class _Writer:
    """Walks the tree iteratively (deeply nested pages must not hit the recursion limit)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.pending_break = 0  # newlines owed before the next text: 1 = line, 2 = paragraph
        self.pending_space = False
        self.pending_cell = False
        self.pre_depth = 0
        self.headings: list[Heading] = []
        self.open_heading: tuple[int, int | None] | None = None  # (level, offset of its first text)

    def walk(self, root) -> None:
        from bs4.element import NavigableString, PreformattedString, Tag

        stack: list[tuple[object, bool]] = [(root, False)]
        while stack:
            node, leaving = stack.pop()
            if isinstance(node, Tag):
                if leaving:
                    self.leave(node.name)
                    continue
                self.enter(node.name)
                stack.append((node, True))
                stack.extend((child, False) for child in reversed(node.contents))
            elif isinstance(node, NavigableString) and not isinstance(node, PreformattedString):
                # PreformattedString covers comments, CDATA, doctype and processing instructions.
                self.write(str(node))

    def enter(self, name: str) -> None:
        if name in _PARAGRAPH_BLOCKS:
            self.request_break(2)
        elif name in _LINE_BLOCKS:
            self.request_break(1)
        elif name == "br":
            self.request_break(1)
        elif name in _CELLS:
            self.pending_cell = True
        if name == "pre":
            self.pre_depth += 1
        if name in _HEADINGS and self.open_heading is None:
            self.open_heading = (_HEADINGS[name], None)

    def leave(self, name: str) -> None:
        if name in _HEADINGS and self.open_heading is not None and self.open_heading[0] == _HEADINGS[name]:
            level, start = self.open_heading
            self.open_heading = None
            if start is not None:
                title = self._text()[start:]
                if title.strip():
                    self.headings.append(Heading(start, level, " ".join(title.split())))
        if name == "pre":
            self.pre_depth -= 1
        if name in _PARAGRAPH_BLOCKS:
            self.request_break(2)
        elif name in _LINE_BLOCKS:
            self.request_break(1)

    def request_break(self, n: int) -> None:
        if self.length:  # no newlines before the first text
            self.pending_break = max(self.pending_break, n)
        self.pending_space = False
        self.pending_cell = False

    def write(self, raw: str) -> None:
        if self.pre_depth:
            if not raw:
                return
            words, lead, trail = raw, False, False
        else:
            collapsed = _SPACES.sub(" ", raw)
            words = collapsed.strip()
            lead, trail = collapsed.startswith(" "), collapsed.endswith(" ")
            if not words:
                self.pending_space = self.pending_space or bool(collapsed)
                return
        if self.length and self.pending_break:
            self._emit("\n" * self.pending_break)
        elif self.length and self.pending_cell:
            self._emit(" | ")
        elif self.length and (self.pending_space or lead):
            self._emit(" ")
        self.pending_break = 0
        self.pending_cell = False
        if self.open_heading is not None and self.open_heading[1] is None:
            self.open_heading = (self.open_heading[0], self.length)
        self._emit(words)
        self.pending_space = trail

    def _emit(self, piece: str) -> None:
        self.parts.append(piece)
        self.length += len(piece)

    def _text(self) -> str:
        text = "".join(self.parts)
        self.parts = [text]  # joined once per heading, not once per heading per part
        return text

    def result(self) -> tuple[str, list[Heading]]:
        return self._text(), self.headings
