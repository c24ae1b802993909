"""HTML pages: the text a person reads on the page, with h1-h6 as headings.

What is dropped, in order:

- non-text elements (script, style, template, iframe, svg, ...), elements marked hidden,
  and the page furniture that HTML names: <nav>, <aside>, <form>, and <header>/<footer>
  outside the article (inside it they hold its title);
- everything outside the main content when the page says where it is (``<main>``,
  ``role="main"`` or a single ``<article>``);
- the furniture that generators name with classes, ids and ARIA roles rather than tags
  (``_FURNITURE_NAMES``): tables of contents (DocBook ``div.toc``, MediaWiki ``#toc``,
  Hugo's ``.toc``, Docusaurus' ``theme-doc-toc-*``), navigation headers and footers and
  previous/next links (DocBook ``div.navheader``/``div.navfooter``, publican
  ``ul.docnav``, Sphinx ``div.related``, WordPress ``.post-navigation``, Docusaurus
  ``pagination-nav``), breadcrumbs, sidebars (Sphinx, MkDocs, Docusaurus, WordPress
  widgets), banners (publican's « Download the ebook »), skip links, cookie notices, share
  buttons, edit links, and the ``¶``/``#`` anchors that Sphinx, MkDocs and Docusaurus put
  inside headings; ``role`` navigation, banner, contentinfo, complementary, search and
  doc-toc;
- then, by link density, what no name gave away: a list, table or block whose text is
  nearly all link labels, several of them (a menu of an unknown theme). A few links in a
  paragraph never make it furniture.

An element that holds most of the page's text is never dropped by name or density (a
wrapper that happens to carry such a class), and if nothing is left the page is read
again without the rules above (a page that is nothing but a table of contents is still
a page). ``eval.readers`` measures what these rules keep and lose against trafilatura.

Block elements become lines, paragraphs are separated by a blank line, whitespace inside
a block is collapsed, ``<pre>`` keeps its own. Only text nodes are ever emitted, so
attributes (``onerror=...``, ``href``) and comments never reach the text. No CSS layout
is attempted and images contribute nothing (not even ``alt``). XHTML pages (``<?xml``)
are read with the HTML parser like any page, which is what browsers do, without the
warning BeautifulSoup prints for them.
"""

from __future__ import annotations

import re
import warnings

from ingest.readers import Extracted
from ingest.readers.decoding import decode_counted, replaced_note
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

# Class and id names (lower-cased, cut at the first "_") of page furniture, by what it is.
# Only names that mean furniture wherever they appear: not "sidebar" (a DocBook or reST
# sidebar is a boxed aside of the text) nor "anchor" (Docusaurus puts it on its headings).
_FURNITURE_NAMES = frozenset(
    # tables of contents and lists of figures
    "toc toctitle table-of-contents tableofcontents toccollapsible theme-doc-toc-desktop theme-doc-toc-mobile "
    "list-of-tables list-of-figures list-of-examples list-of-equations "
    # navigation headers and footers, previous/next links, menus, tabs
    "navheader navfooter docnav related rst-footer-buttons pagination-nav pagination pager paginav "
    "post-navigation posts-navigation nav-links navbar md-header md-tabs md-footer "
    "mw-navigation mw-head mw-panel jump-to-nav mw-jump-link "
    # breadcrumbs
    "breadcrumb breadcrumbs wy-breadcrumbs theme-doc-breadcrumbs breadcrumbscontainer "
    # sidebars
    "sphinxsidebar wy-nav-side bs-sidebar md-sidebar theme-doc-sidebar-container docsidebarcontainer "
    "widget-area "
    # site banners, headers, footers, notices
    "masthead site-header site-footer colophon footer theme-doc-footer printfooter catlinks "
    "sitenotice sitesub contentsub navbox "
    # skip links, back-to-top buttons, cookie notices
    "skip-link skiplink skip-to-content skiptocontent md-skip back-to-top top-link md-top "
    "theme-back-to-top-button backtotopbutton screen-reader-text "
    "cookie-notice cookie-banner cookie-consent cookie-law-info-bar cc-window cmplz-cookiebanner "
    # share buttons, related posts, edit links, heading anchors
    "sharedaddy share-buttons jp-relatedposts related-posts edit-link theme-edit-this-page "
    "mw-editsection headerlink hash-link".split()
)
# Names that mean furniture as an id only: as a class they are too often content too.
_FURNITURE_IDS = _FURNITURE_NAMES | {"banner", "secondary", "sidebar"}
_FURNITURE_ROLES = frozenset("navigation banner contentinfo complementary search doc-toc".split())
_MAX_SHARE = 0.5  # an element holding more of the page's text than this is never furniture
_LINK_LIST_BLOCKS = frozenset("ul ol dl table div section p".split())
_LINK_LIST_MIN_LINKS = 3
_LINK_LIST_DENSITY = 0.8  # share of a block's characters inside <a> from which it is a link list


def read_html(data: bytes, *, by_name: bool = True, by_density: bool = True) -> Extracted:
    """The page's text and headings; ``by_name`` and ``by_density`` turn off one kind of
    furniture rule, for measuring each one's share (``eval.readers``)."""
    try:
        from bs4 import BeautifulSoup  # noqa: F401 (the message below names the package)
    except ImportError as exc:
        raise MissingDependencyError("beautifulsoup4", purpose="reading HTML files") from exc
    declared = _META_CHARSET.search(data[:4096])
    markup, replaced = decode_counted(data, declared.group(1).decode("ascii") if declared else None)
    extracted = _extract(markup, by_name=by_name, by_density=by_density)
    if extracted is None and (by_name or by_density):
        # The rules left nothing: read the page whole rather than refuse it.
        extracted = _extract(markup, by_name=False, by_density=False)
    if extracted is None:
        raise ReadError("no text found in this HTML page")
    return extracted._replace(notes=replaced_note(replaced))


def _parse(markup: str):
    from bs4 import BeautifulSoup, FeatureNotFound, XMLParsedAsHTMLWarning

    with warnings.catch_warnings():
        # XHTML is parsed as HTML on purpose (an XML parser refuses the many pages that are not
        # well formed, and &nbsp; without a DTD): the warning would only repeat that choice.
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        try:
            return BeautifulSoup(markup, "lxml")
        except FeatureNotFound:  # lxml not installed: the standard library parser is slower, as good here
            return BeautifulSoup(markup, "html.parser")


def _extract(markup: str, *, by_name: bool, by_density: bool) -> Extracted | None:
    soup = _parse(markup)
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
    if by_name:
        _drop_named_furniture(root)
    if by_density:
        _drop_link_lists(root)
    writer = _Writer()
    writer.walk(root)
    text, headings = writer.result()
    if not text.strip():  # a <title> alone is not content worth indexing
        return None
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


def _base_name(name: str) -> str:
    """Lower-cased and cut at the first ``_``: BEM parts (``md-nav__title``) and CSS-module
    hashes (``skipToContent_fXgn``) keep their base name."""
    return name.lower().split("_", 1)[0]


def _is_named_furniture(tag) -> bool:
    if tag.name in ("html", "body", "main", "article"):
        return False
    if (tag.get("role") or "").lower() in _FURNITURE_ROLES:
        return True
    if tag.get("id") and _base_name(str(tag["id"])) in _FURNITURE_IDS:
        return True
    return any(_base_name(str(name)) in _FURNITURE_NAMES for name in tag.get("class") or ())


def _drop_named_furniture(root) -> None:
    total = _text_length(root)
    for element in root.find_all(_is_named_furniture):
        if element.decomposed:  # inside one dropped already
            continue
        if _text_length(element) > _MAX_SHARE * total:
            continue  # a wrapper holding most of the page is not furniture, whatever its name
        element.decompose()


def _drop_link_lists(root) -> None:
    """Drop the blocks that are almost only links (menus, link lists of unknown themes)."""
    from bs4.element import NavigableString, PreformattedString, Tag

    # One post-order pass: characters of text, of link text, and links, per element.
    sizes: dict[int, tuple[int, int, int]] = {}
    stack: list[tuple[object, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        if not isinstance(node, Tag):
            continue
        if not leaving:
            stack.append((node, True))
            stack.extend((child, False) for child in node.contents if isinstance(child, Tag))
            continue
        text = linked = links = 0
        for child in node.contents:
            if isinstance(child, Tag):
                child_text, child_linked, child_links = sizes[id(child)]
                text, linked, links = text + child_text, linked + child_linked, links + child_links
            elif isinstance(child, NavigableString) and not isinstance(child, PreformattedString):
                text += len(child.strip())
        if node.name == "a" and text:
            linked, links = text, links + 1
        sizes[id(node)] = (text, linked, links)
    total = sizes[id(root)][0]
    stack = [root]
    while stack:
        node = stack.pop()
        for child in list(node.contents):  # a copy: decompose() edits the list
            if not isinstance(child, Tag):
                continue
            text, linked, links = sizes[id(child)]
            if (
                child.name in _LINK_LIST_BLOCKS
                and links >= _LINK_LIST_MIN_LINKS
                and text
                and linked >= _LINK_LIST_DENSITY * text
                and text <= _MAX_SHARE * total
            ):
                child.decompose()
            else:
                stack.append(child)


def _text_length(tag) -> int:
    from bs4.element import PreformattedString

    return sum(len(s.strip()) for s in tag.find_all(string=True) if not isinstance(s, PreformattedString))


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
