"""Plain text and Markdown files.

The text is kept as written (markup included), with one exception: HTML comments
(``<!-- ... -->``) in Markdown are left out, since a reader of the rendered page never sees
them (notes to the authors, commented-out drafts, ``<!-- TOC -->`` markers). Heading
offsets and, downstream, chunk offsets are plain indexes into the returned text. Comments
inside fenced code blocks and inline code spans are text, and are kept. Markdown headings
are found line by line: ATX (``## Title``) and setext (a title underlined with ``===`` or
``---``), never inside fenced code blocks or YAML front matter. This is not a Markdown
parser: no HTML blocks, no link references, no rendering. Plain .txt has no headings.
"""

from __future__ import annotations

import re

from ingest.readers import Extracted
from ingest.readers.decoding import decode_counted, replaced_note
from rag.errors import ReadError
from rag.types import Heading

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_BACKTICKS = re.compile(r"`+")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
# Lines that cannot be the title of a setext heading: a "---" under them is something else.
_NOT_SETEXT_TITLE = re.compile(r"^ {0,3}(?:[-*+>|]|\d+[.)]\s|#|`{3,}|~{3,})|^(?: {4}|\t)")


def read_text(data: bytes) -> Extracted:
    text, replaced = decode_counted(data)
    return Extracted(_nonblank(text), notes=replaced_note(replaced))


def read_markdown(data: bytes) -> Extracted:
    text, replaced = decode_counted(data)
    text = _nonblank(drop_comments(_nonblank(text)))
    return Extracted(text, headings=tuple(markdown_headings(text)), notes=replaced_note(replaced))


def drop_comments(text: str) -> str:
    """``text`` without its HTML comments, outside fenced code and inline code spans.

    A line that held nothing but comment is removed whole, so a commented-out paragraph
    leaves no blank lines behind; an unclosed ``<!--`` runs to the end, as in HTML.
    """
    if "<!--" not in text:
        return text
    out: list[str] = []
    fence: str | None = None
    in_comment = False
    for line in text.splitlines(keepends=True):
        opening = _FENCE.match(line)
        if fence is not None and not in_comment:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                if not line.strip().lstrip(fence[0]):
                    fence = None
            out.append(line)
            continue
        if opening and not in_comment:
            fence = opening.group(1)
            out.append(line)
            continue
        kept, in_comment = _strip_line_comments(line, in_comment)
        if kept.strip() or not line.strip():
            out.append(kept)
    return "".join(out)


def _strip_line_comments(line: str, in_comment: bool) -> tuple[str, bool]:
    """One line with its comment parts removed, and whether a comment is still open after it."""
    kept: list[str] = []
    i = 0
    while i < len(line):
        if in_comment:
            end = line.find("-->", i)
            if end < 0:
                return "".join(kept) + ("\n" if line.endswith("\n") else ""), True
            i, in_comment = end + 3, False
            continue
        tick = _BACKTICKS.search(line, i)
        start = line.find("<!--", i)
        if start < 0:
            kept.append(line[i:])
            break
        if tick and tick.start() < start:
            # An inline code span: skip to its closing run of as many backticks.
            close = line.find(tick.group(), tick.end())
            stop = close + len(tick.group()) if close >= 0 else tick.end()
            kept.append(line[i:stop])
            i = stop
            continue
        kept.append(line[i:start])
        i, in_comment = start + 4, True
    return "".join(kept), in_comment


def markdown_headings(text: str) -> list[Heading]:
    """ATX and setext headings of ``text``; ``offset`` is where the heading's line starts."""
    headings: list[Heading] = []
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    i = _skip_front_matter(lines)
    fence: str | None = None
    while i < len(lines):
        line = lines[i]
        opening = _FENCE.match(line)
        if fence is not None:
            # A fence closes with the same character, at least as many times, nothing after.
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                if not line.strip().lstrip(fence[0]):
                    fence = None
        elif opening:
            fence = opening.group(1)
        elif atx := _ATX.match(line):
            title = (atx.group(2) or "").strip()
            if title:
                headings.append(Heading(offsets[i], len(atx.group(1)), title))
        elif _is_setext_title(lines, i):
            level = 1 if lines[i + 1].strip()[0] == "=" else 2
            headings.append(Heading(offsets[i], level, lines[i].strip()))
            i += 1  # the underline is consumed
        i += 1
    return headings


def _is_setext_title(lines: list[str], i: int) -> bool:
    # Only one-line paragraphs: a multi-line one underlined by "---" is too often a
    # table or a list that the simple rules here would misread.
    if i + 1 >= len(lines) or not _SETEXT.match(lines[i + 1]):
        return False
    line = lines[i]
    if not line.strip() or _NOT_SETEXT_TITLE.match(line):
        return False
    return i == 0 or not lines[i - 1].strip()


def _skip_front_matter(lines: list[str]) -> int:
    if not lines or lines[0].rstrip() != "---":
        return 0
    for j in range(1, len(lines)):
        if lines[j].rstrip() in ("---", "..."):
            return j + 1
    return 0


def _nonblank(text: str) -> str:
    if not text.strip():
        # Starts with "empty" so the pipeline reports it as skipped, like a 0-byte file.
        raise ReadError("empty file (only whitespace)")
    return text
