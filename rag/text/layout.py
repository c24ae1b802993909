"""Layout: the parts of a text that are not prose — tables of contents, reference lists,
numbered headings, questions that introduce — and the windows a passage is read in.

A table of contents or a bibliography says where things are said, not what they say; a
window that ends with a heading, or holds a question, introduces what it leaves out. The
answerer leaves such text out of its answers and windows (``rag.answering``). This module
only recognises; it does not score or decide.
"""

from __future__ import annotations

import re

from rag.text.furniture import SECTION_NUMBER
from rag.text.sentences import split_sentences

# A last line that is a heading: markdown's, or a section number and a title (« 4.2 Historique des LLM »).
_ENDS_WITH_HEADING = re.compile(
    r"(?:^|\n)(?:\s{0,3}#{1,6}\s[^\n]*"
    rf"|[ \t]*{SECTION_NUMBER}[ \t]*[-–.]?[ \t]+[^\W\d_][^\n]*[^\s.!?…:;,])\s*$"
)
_QUESTION_END = re.compile(r"\?[\s»\"'*)]*(?=\s|$)")  # a question's end (not a URL's « ?q= »)


def introduces(window: str) -> bool:
    """Whether ``window`` ends with a heading or holds a question (a document's question heads
    its answer: « Comment est calculé le score ELO ? »): it introduces what it leaves out."""
    return bool(_ENDS_WITH_HEADING.search(window) or _QUESTION_END.search(window))


# A table-of-contents entry: a section number, a title, a page number (after spaces, a tab or
# dot leaders); or any title followed by dot leaders and a page number.
_TOC_ENTRY = re.compile(
    r"^[ \t]*(?:(?:\d+(?:\.\d+)*\.?|[IVXLCDM]+\.|[A-Z]\.)[ \t]+(?P<title>\S[^\n]*?)(?:[ \t]*(?:\.[ \t]?){3,}|…+|[ \t]+)"
    r"|\S[^\n]*?[ \t]*(?:(?:\.[ \t]?){3,}|…{2,})[ \t]*)(?P<page>\d{1,4})[ \t]*$",
    re.MULTILINE,
)
_TOC_RUN = 3


def table_of_contents(passage: str) -> list[tuple[int, int]]:
    """Offsets of the passage's table-of-contents lines: runs of at least three consecutive
    entries whose page numbers never decrease (a table whose rows end with a number rarely
    does both; a row with tab-separated numbers inside is not an entry)."""
    runs: list[list[tuple[int, int, int]]] = [[]]
    position = 0
    for line in passage.splitlines(keepends=True):
        end = position + len(line.rstrip("\r\n"))
        entry = _TOC_ENTRY.match(passage, position, end) if line.strip() else None
        if entry and entry.end() == end and not re.search(r"\t\d+\t", entry.group("title") or ""):
            page = int(entry.group("page"))
            if runs[-1] and page < runs[-1][-1][2]:
                runs.append([])
            runs[-1].append((position, end, page))
        elif line.strip():
            runs.append([])
        position += len(line)
    return [(a, b) for run in runs if len(run) >= _TOC_RUN for a, b, _ in run]


# A numbered entry of a reference list: "- 30) Author. *Title*. <https://...>", "[12] ... 2020,
# http://...", "13. Cemantix : <https://...>": a list marker and a number, then a line holding
# a link and few words besides (a numbered footnote that explains something is longer).
_REFERENCE_ENTRY = re.compile(r"^[ \t]*(?:[-*•][ \t]*)?(?:\d{1,4}[).]|\[\d{1,4}\])[ \t]+[^\n]*$", re.MULTILINE)
_LINK = re.compile(r"<?(?:https?://|www\.)[^\s>]+>?")
_REFERENCE_WORDS = 30


def references(passage: str) -> list[tuple[int, int]]:
    """Offsets of the passage's reference-list entries (numbered lines with a link and at most
    ``_REFERENCE_WORDS`` other words): a bibliography says where something was read, not what
    it says."""
    found = []
    for match in _REFERENCE_ENTRY.finditer(passage):
        line = match.group()
        if _LINK.search(line) and len(_LINK.sub(" ", line).split()) <= _REFERENCE_WORDS:
            found.append(match.span())
    return found


def listing(passage: str) -> list[tuple[int, int]]:
    """Table-of-contents lines and reference-list entries, in passage order."""
    return sorted(table_of_contents(passage) + references(passage))


def is_navigation(passage: str) -> bool:
    """Whether table-of-contents lines and reference entries make up most of the passage's
    non-blank characters: such a passage lists where things are said, it says none of them."""
    lines = listing(passage)
    if not lines:
        return False
    listed = sum(len("".join(passage[a:b].split())) for a, b in lines)
    return listed > len("".join(passage.split())) / 2


def windows(passage: str) -> list[tuple[int, int]]:
    """The passage's windows of one sentence, then of two consecutive sentences, as offsets;
    none made only of table-of-contents lines or reference entries (a heading listed with its
    page, a title listed with its link, answers nothing)."""
    spans = split_sentences(passage) or [(0, len(passage))]
    found = spans + [(a[0], b[1]) for a, b in zip(spans, spans[1:])]
    lines = listing(passage)
    if not lines:
        return found
    return [(a, b) for a, b in found if not _inside_lines(passage, a, b, lines)]


def _inside_lines(passage: str, start: int, end: int, lines: list[tuple[int, int]]) -> bool:
    """Whether every non-blank character of passage[start:end] lies on one of ``lines``."""
    covered = [False] * (end - start)
    for a, b in lines:
        for i in range(max(a, start), min(b, end)):
            covered[i - start] = True
    return all(covered[i] or passage[start + i].isspace() for i in range(end - start))
