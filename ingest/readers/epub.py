"""EPUB 2 and 3 books: the chapters in reading (spine) order, each one a heading.

Read with the standard library (``zipfile`` and ``xml.etree``): EbookLib, the usual
library, is AGPL-3.0, which this MIT project cannot take as a dependency, and an EPUB is
a zip of XHTML files listed in one XML package file. Each chapter's XHTML goes through
the HTML reader (``ingest.readers.html.read_html``), so what a chapter keeps is what an
HTML page keeps (headings, paragraphs, tables; no images).

A chapter's heading is its entry in the book's table of contents (EPUB 3 nav or EPUB 2
NCX), level 1, its own headings one level below; when the chapter's text already starts
with that title, its line is the heading. A chapter without an entry keeps its own
headings as they are. Spine documents without text (a cover image) are skipped. Books
with DRM (encrypted chapters) are refused with that reason; EPUBs have no fixed pages,
so there are no page numbers.
"""

from __future__ import annotations

import io
import posixpath
import re
import warnings
import zipfile
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree

from ingest.readers import Extracted, short_reason
from ingest.readers.blocks import TextBuilder
from rag.errors import ReadError
from rag.types import Heading

MAX_UNCOMPRESSED = 200 * 1024 * 1024  # what the chapters may inflate to, all together

_NS = {
    "c": "urn:oasis:names:tc:opendocument:xmlns:container",
    "opf": "http://www.idpf.org/2007/opf",
    "ncx": "http://www.daisy.org/z3986/2005/ncx/",
    "xhtml": "http://www.w3.org/1999/xhtml",
    "epub": "http://www.idpf.org/2007/ops",
    "enc": "http://www.w3.org/2001/04/xmlenc#",
}
_HTML_TYPES = frozenset(("application/xhtml+xml", "text/html"))
# Fonts are "obfuscated" with these in perfectly open books: only other algorithms mean DRM.
_FONT_OBFUSCATION = frozenset(("http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"))
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_H1 = re.compile(rb"<h1[\s>/]", re.IGNORECASE)


def read_epub(data: bytes) -> Extracted:
    from ingest.readers.html import read_html

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        package_path = _package_path(archive)
        package = _xml(archive, package_path)
    except ReadError:
        raise
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError, ValueError) as exc:
        raise ReadError(f"not a valid .epub file: {short_reason(exc)}") from exc
    base = posixpath.dirname(package_path)
    manifest = {
        item.get("id"): item
        for item in package.iterfind("opf:manifest/opf:item", _NS)
        if item.get("id") and item.get("href")
    }
    spine = [
        _resolve(base, manifest[ref.get("idref")].get("href"))
        for ref in package.iterfind("opf:spine/opf:itemref", _NS)
        if ref.get("idref") in manifest and manifest[ref.get("idref")].get("media-type") in _HTML_TYPES
    ]
    if not spine:
        raise ReadError("no chapters found in this .epub file (its spine lists no XHTML documents)")
    _refuse_drm(archive, set(spine))
    labels = _toc_labels(archive, package, manifest, base)
    builder = TextBuilder()
    inflated = 0
    for path in dict.fromkeys(spine):  # a document listed twice is read once
        try:
            info = archive.getinfo(path)
        except KeyError:
            continue  # listed but missing: the rest of the book is still worth reading
        inflated += info.file_size
        if inflated > MAX_UNCOMPRESSED:
            raise ReadError(f"this .epub file inflates to more than {MAX_UNCOMPRESSED // 2**20} MB of text")
        xhtml = archive.read(info)
        try:
            with warnings.catch_warnings():
                # XHTML is XML; read as HTML on purpose (the HTML reader's rules), which bs4 warns about.
                warnings.filterwarnings("ignore", message=".*XML document.*")
                chapter = read_html(xhtml)
        except ReadError:
            continue  # a cover or a page holding only an image
        _add_chapter(builder, chapter, labels.get(path), xhtml)
    if not builder.has_text:
        raise ReadError("no text found in this .epub file")
    return builder.result()


def _package_path(archive: zipfile.ZipFile) -> str:
    container = _xml(archive, "META-INF/container.xml")
    for rootfile in container.iterfind(".//c:rootfile", _NS):
        path = rootfile.get("full-path")
        if path and rootfile.get("media-type", "application/oebps-package+xml") == "application/oebps-package+xml":
            return path
    raise ReadError("not a valid .epub file: META-INF/container.xml names no package file")


def _xml(archive: zipfile.ZipFile, path: str) -> ElementTree.Element:
    # expat refuses entity expansion bombs; these small files are read whole.
    return ElementTree.fromstring(archive.read(path))


def _resolve(base: str, href: str) -> str:
    """The archive path of an href written relative to the file at ``base``/."""
    path = unquote(urlsplit(href).path)
    return posixpath.normpath(posixpath.join(base, path)).lstrip("/")


def _refuse_drm(archive: zipfile.ZipFile, spine: set[str]) -> None:
    try:
        encryption = _xml(archive, "META-INF/encryption.xml")
    except KeyError:
        return
    except ElementTree.ParseError as exc:
        raise ReadError(f"not a valid .epub file: {short_reason(exc)}") from exc
    for data in encryption.iterfind(".//enc:EncryptedData", _NS):
        method = data.find("enc:EncryptionMethod", _NS)
        reference = data.find(".//enc:CipherReference", _NS)
        algorithm = method.get("Algorithm") if method is not None else None
        uri = reference.get("URI") if reference is not None else None
        if uri and _resolve("", uri) in spine and algorithm not in _FONT_OBFUSCATION:
            raise ReadError("this .epub file is protected by DRM (its chapters are encrypted); it cannot be read")


def _toc_labels(archive, package, manifest, base) -> dict[str, str]:
    """Chapter path -> its first title in the table of contents (nav first, then NCX)."""
    labels: dict[str, str] = {}
    nav = next((i for i in manifest.values() if "nav" in (i.get("properties") or "").split()), None)
    spine = package.find("opf:spine", _NS)
    ncx = manifest.get(spine.get("toc")) if spine is not None else None
    try:
        if nav is not None:
            path = _resolve(base, nav.get("href"))
            root = _xml(archive, path)
            tocs = [n for n in root.iter(f"{{{_NS['xhtml']}}}nav") if n.get(f"{{{_NS['epub']}}}type") == "toc"]
            for link in (tocs[0] if tocs else root).iter(f"{{{_NS['xhtml']}}}a"):
                _label(labels, posixpath.dirname(path), link.get("href"), "".join(link.itertext()))
        if not labels and ncx is not None:
            path = _resolve(base, ncx.get("href"))
            for point in _xml(archive, path).iter(f"{{{_NS['ncx']}}}navPoint"):
                content = point.find("ncx:content", _NS)
                text = point.find("ncx:navLabel/ncx:text", _NS)
                if content is not None and text is not None:
                    _label(labels, posixpath.dirname(path), content.get("src"), "".join(text.itertext()))
    except (KeyError, ElementTree.ParseError):
        pass  # a broken table of contents costs the chapter titles, not the book
    return labels


def _label(labels: dict[str, str], base: str, href: str | None, text: str) -> None:
    title = " ".join(text.split())
    if href and title:
        labels.setdefault(_resolve(base, href), title)


def _add_chapter(builder: TextBuilder, chapter: Extracted, label: str | None, xhtml: bytes) -> None:
    text, headings = _without_stand_in(chapter, xhtml)
    if label is None:
        builder.add_text(text, headings)
        return
    first_line = " ".join(text.split("\n", 1)[0].split())
    own_title = first_line.casefold() == label.casefold()
    if own_title:  # the chapter starts with its own title: that line is the chapter's heading
        headings = [h for h in headings if h.offset != 0]
    else:
        builder.add(label, level=1)
    # The chapter's headings go below its title: its <h1>s become level 2, and so on.
    shift = max(0, 2 - min((h.level for h in headings), default=2))
    moved = [Heading(h.offset, h.level + shift, h.title) for h in headings]
    builder.add_text(text, [Heading(0, 1, label), *moved] if own_title else moved)


def _without_stand_in(chapter: Extracted, xhtml: bytes) -> tuple[str, list[Heading]]:
    """The chapter without the page <title> the HTML reader puts in when there is no <h1>.

    In a book that title is often the book's own, repeated on every chapter.
    """
    text, headings = chapter.text, list(chapter.headings)
    found = _TITLE.search(xhtml[:8192])
    title = " ".join(found.group(1).decode("utf-8", "replace").split()) if found else ""
    if not (title and headings and headings[0].offset == 0 and headings[0].title == title):
        return text, headings
    if _H1.search(xhtml) or not text.startswith(title):
        return text, headings  # a real <h1>: the chapter's own
    rest = text[len(title) :].lstrip()
    cut = len(text) - len(rest)
    return rest, [Heading(h.offset - cut, h.level, h.title) for h in headings[1:]]
