"""Cut a SourceDoc into Chunks that respect its structure and the embedder's token limit.

The document is split at headings into sections, each section into paragraphs (blank
lines) and sentences (``rag.text.sentences``). Consecutive sentences are packed greedily
into chunks of at most ``max_tokens`` tokens as counted by the embedder's own tokenizer,
whole paragraphs when they fit; a new chunk repeats the trailing whole sentences of the
previous one (at most ``overlap_tokens``) so that a fact split across a boundary is still
retrievable. A chunk never runs from one section into the next, except that a section
holding nothing but its heading line is carried into the following chunk rather than
becoming a chunk of three words. A PDF page whose last paragraph ends with it also ends
the chunk (unless that leaves a scrap), so most chunks cite one page; a sentence running
onto the next page is not cut there, and its chunk records both pages.

Every chunk is an exact slice ``doc.text[start:end]``, so citations can point back into
the document. Sentences are counted once each and a chunk's size is their sum; the
chunk's own text is counted once more before it is emitted, since a tokenizer may spend
a few tokens on the spaces between sentences. A sentence longer than the limit (a table,
a list without punctuation) is cut at spaces, or inside a word only when one word alone
is over the limit.

It deliberately does not look at meaning (no embedding-based or LLM chunking) nor
rewrite text (no heading prefixes, no whitespace normalisation): what is indexed is what
the reader produced.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from rag.text.sentences import split_sentences
from rag.types import Chunk, SourceDoc

_BLANK_LINE = re.compile(r"\n\s*\n")
_ENDS_SENTENCE = re.compile(r"[.!?…:][»”\"’)\]\s]*\Z")
_WORD = re.compile(r"\S+")
_SAMPLE_CHARS = 50_000
_MAX_TOKEN_CHARS = 100


# Bump when the splitting rules change: indexes built with other rules must be rebuilt.
CHUNKER_VERSION = "fr-v2"


@dataclass(frozen=True)
class ChunkingParams:
    """Chunk size and overlap, in tokens of the embedder's tokenizer.

    Part of the index's identity: changing them requires re-ingesting.
    """

    max_tokens: int = 200
    overlap_tokens: int = 40

    def __post_init__(self) -> None:
        for name in ("max_tokens", "overlap_tokens"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"{name} must be an integer, got {value!r}")
        if self.max_tokens < 16:
            raise ValueError(f"max_tokens must be at least 16, got {self.max_tokens}")
        if not 0 <= self.overlap_tokens < self.max_tokens:
            raise ValueError(
                f"overlap_tokens must be between 0 and max_tokens - 1 ({self.max_tokens - 1}), "
                f"got {self.overlap_tokens}"
            )

    def as_dict(self) -> dict[str, int | str]:
        """The index identity of this chunking: the rules' version is part of it."""
        return {"chunker": CHUNKER_VERSION, "max_tokens": self.max_tokens, "overlap_tokens": self.overlap_tokens}


@dataclass(frozen=True)
class _Unit:
    """A sentence (or a piece of an over-long one): the smallest thing a chunk holds."""

    start: int
    end: int
    tokens: int
    para_start: bool = False  # a preferred break point lies just before this unit
    para_tokens: int = 0  # tokens of the whole paragraph, set on its first unit
    page_start: bool = False  # a new page starts just before this unit, after a paragraph


def chunk_document(doc: SourceDoc, count_tokens: Callable[[str], int], params: ChunkingParams) -> list[Chunk]:
    """The chunks of ``doc``, in document order, numbered ``f"{doc.doc_id}:{n}"``."""
    text = doc.text
    spans: list[tuple[int, int]] = []
    for group in _section_groups(doc, count_tokens):
        spans.extend(_pack(text, group, count_tokens, params))
    return [
        Chunk(
            chunk_id=f"{doc.doc_id}:{n}",
            doc_id=doc.doc_id,
            source=doc.source,
            text=text[start:end],
            start=start,
            end=end,
            page=doc.page_at(start),
            page_end=doc.page_at(end - 1),
            heading_path=doc.heading_path_at(start),
        )
        for n, (start, end) in enumerate(spans)
    ]


def _section_groups(doc: SourceDoc, count: Callable[[str], int]) -> list[list[_Unit]]:
    """The units of each section; a heading-only section joins the section after it."""
    text = doc.text
    heading_offsets = {h.offset for h in doc.headings if 0 <= h.offset < len(text)}
    bounds = sorted(heading_offsets | {0, len(text)})
    page_starts = sorted(p.start for p in doc.pages)
    groups: list[list[_Unit]] = []
    pending: list[_Unit] = []  # heading lines waiting for the section they introduce
    for start, end in zip(bounds, bounds[1:]):
        units, heading_only = _section_units(text, start, end, start in heading_offsets, page_starts, count)
        if not units:
            continue
        pending.extend(units)
        if not heading_only:
            groups.append(pending)
            pending = []
    if pending:
        groups.append(pending)
    return groups


def _section_units(
    text: str,
    start: int,
    end: int,
    at_heading: bool,
    page_starts: list[int],
    count: Callable[[str], int],
) -> tuple[list[_Unit], bool]:
    """A section's sentences as units, and whether the section is only its heading line."""
    spans: list[tuple[int, int]] = []
    body = start
    if at_heading:
        # The heading line is a unit of its own: it has no final punctuation, so the
        # sentence splitter would glue it to the first sentence of the body.
        line_start = start
        while line_start < end and text[line_start].isspace():
            line_start += 1
        newline = text.find("\n", line_start, end)
        body = end if newline < 0 else newline
        spans.extend(split_sentences(text, line_start, body))
    n_heading = len(spans)
    spans.extend(split_sentences(text, body, end))
    heading_only = at_heading and len(spans) == n_heading

    units: list[_Unit] = []
    para_first = 0
    for i, (s, e) in enumerate(spans):
        tokens = _count_sentence(text, s, e, count)
        new_page = False
        if i == 0 or i == n_heading:
            new_para = True
        else:
            new_para, new_page = _is_break(text, spans[i - 1], s, page_starts)
        if new_para and units:
            _close_paragraph(units, para_first)
            para_first = len(units)
        units.append(_Unit(s, e, tokens, para_start=new_para, page_start=new_page))
    if units:
        _close_paragraph(units, para_first)
    return units, heading_only


def _count_sentence(text: str, start: int, end: int, count: Callable[[str], int]) -> int:
    """Tokens of one sentence; of a huge one (a text without punctuation or line breaks),
    an estimate from its first ``_SAMPLE_CHARS``: only chunks are counted exactly, and a
    tokenizer run over megabytes at once costs memory for nothing."""
    if end - start <= _SAMPLE_CHARS:
        return count(text[start:end])
    return count(text[start : start + _SAMPLE_CHARS]) * (end - start) // _SAMPLE_CHARS + 1


def _is_break(text: str, prev: tuple[int, int], start: int, page_starts: list[int]) -> tuple[bool, bool]:
    """Whether the gap between sentence ``prev`` and the one at ``start`` is a paragraph
    break, and whether it is also a page break."""
    i = bisect_left(page_starts, prev[1])
    if i < len(page_starts) and page_starts[i] <= start:
        # Readers may put a blank line between pages: what tells a paragraph that ends
        # with its page from a sentence running onto the next one is the punctuation.
        ended = _ENDS_SENTENCE.search(text, prev[0], prev[1]) is not None
        return ended, ended
    return _BLANK_LINE.search(text, prev[1], start) is not None, False


def _close_paragraph(units: list[_Unit], first: int) -> None:
    total = sum(u.tokens for u in units[first:])
    head = units[first]
    units[first] = _Unit(head.start, head.end, head.tokens, True, total, head.page_start)


def _pack(text: str, units: list[_Unit], count: Callable[[str], int], params: ChunkingParams) -> list[tuple[int, int]]:
    """Greedy packing of one section's units into ``(start, end)`` chunk spans."""
    max_tokens, overlap = params.max_tokens, params.overlap_tokens
    queue = deque(units)
    spans: list[tuple[int, int]] = []
    cur: list[_Unit] = []
    carried = 0  # how many units at the front of ``cur`` repeat the previous chunk
    total = 0

    def emit(carry_tokens: int = overlap) -> None:
        nonlocal cur, carried, total
        # The sum of sentence counts is an estimate; the chunk's own count is the limit.
        while not (len(cur) == 1 or count(text[cur[0].start : cur[-1].end]) <= max_tokens):
            if len(cur) - carried > 1:
                queue.appendleft(cur.pop())
            else:
                cur.pop(0)
                carried -= 1
        spans.append((cur[0].start, cur[-1].end))
        # Trailing whole sentences, never the whole chunk (the next one must start later).
        keep: list[_Unit] = []
        kept = 0
        for unit in reversed(cur[1:]):
            if kept + unit.tokens > carry_tokens:
                break
            keep.insert(0, unit)
            kept += unit.tokens
        while len(keep) > 1 and count(text[keep[0].start : keep[-1].end]) > carry_tokens:
            kept -= keep.pop(0).tokens
        cur, carried, total = keep, len(keep), kept

    def drop_carried() -> None:
        nonlocal carried, total
        total -= cur.pop(0).tokens
        carried -= 1

    while queue or len(cur) > carried:
        if not queue:
            emit()  # may hand units back to the queue if the chunk's own count is too high
            continue
        unit = queue[0]
        room = max_tokens - total
        fresh = len(cur) == carried  # nothing new in this chunk yet
        if unit.page_start:
            # A paragraph ends with its page: start the next page in a new chunk, without
            # overlap, so that the chunk cites one page - unless that leaves a scrap.
            if not fresh and total >= max_tokens // 4:
                emit(carry_tokens=0)
                continue
            if fresh and carried:
                drop_carried()
                continue
        if unit.para_start and unit.para_tokens > room:
            if not fresh and total >= max_tokens // 2:
                emit()  # start the paragraph in a new chunk rather than splitting it
                continue
            if fresh and carried and unit.para_tokens <= max_tokens:
                drop_carried()  # a whole paragraph is worth more than the overlap
                continue
        if unit.tokens <= room:
            cur.append(queue.popleft())
            total += unit.tokens
        elif unit.tokens > max_tokens:
            if fresh and carried and room < max_tokens // 2:
                drop_carried()
                continue
            if not fresh and room < max_tokens // 4:
                emit()
                continue
            cut = _cut(text, unit.start, unit.end, room, count, inside_words=fresh and not carried)
            if cut is None:
                if fresh:
                    drop_carried()
                else:
                    emit()
                continue
            head, tail = _split_unit(text, unit, cut, count, max_tokens)
            queue.popleft()
            if tail is not None:
                queue.appendleft(tail)
            cur.append(head)
            total += head.tokens
        elif fresh:
            drop_carried()
        else:
            emit()
    return spans


def _split_unit(
    text: str, unit: _Unit, cut: int, count: Callable[[str], int], max_tokens: int
) -> tuple[_Unit, _Unit | None]:
    head_end = cut
    while head_end > unit.start and text[head_end - 1].isspace():
        head_end -= 1
    head = _Unit(
        unit.start,
        head_end,
        count(text[unit.start : head_end]),
        unit.para_start,
        unit.para_tokens,
        unit.page_start,
    )
    tail_start = cut
    while tail_start < unit.end and text[tail_start].isspace():
        tail_start += 1
    if tail_start >= unit.end:
        return head, None
    # Recounting a huge remainder after every cut would be quadratic: estimate it, and
    # count it for real only once it may fit whole in a chunk.
    tokens = max(1, unit.tokens - head.tokens)
    if tokens <= max_tokens:
        tokens = count(text[tail_start : unit.end])
    return head, _Unit(tail_start, unit.end, tokens)


def _cut(text: str, start: int, end: int, budget: int, count: Callable[[str], int], inside_words: bool) -> int | None:
    """End of the longest prefix of ``text[start:end]`` ending after a word (preferably a
    line) and counting at most ``budget`` tokens. When not even one word fits: a cut inside
    the first word if ``inside_words`` (always at least one character, so the caller
    progresses), else None.
    """
    # No token is longer than _MAX_TOKEN_CHARS: words are looked for in a window that holds
    # ``budget`` tokens at most, not in the whole (maybe megabytes long) rest of the sentence.
    window = min(end, start + budget * _MAX_TOKEN_CHARS)
    words = _WORD.finditer(text, start, window)
    ends: list[int] = []

    def fits(k: int) -> bool:
        return count(text[start : ends[k - 1]]) <= budget

    def have(k: int) -> bool:
        while len(ends) < k:
            m = next(words, None)
            if m is None or (m.end() == window < end and not text[window].isspace()):
                return False  # no more words, or one the window cuts: not a word's end
            ends.append(m.end())
        return True

    # Gallop then bisect on the number of words, so that each count is over a prefix of
    # about the chunk's size, never over the whole (maybe huge) sentence.
    good, bad = 0, None
    k = max(1, budget // 2)
    while bad is None:
        if not have(k):
            k = len(ends)
            if k == good:
                break
            bad = k + 1 if fits(k) else k
            if bad > k:
                good = k
            break
        if fits(k):
            good, k = k, k * 2
        else:
            bad = k
    if bad is not None:
        while bad - good > 1:
            mid = (good + bad) // 2
            if fits(mid):
                good = mid
            else:
                bad = mid
    if good:
        cut = ends[good - 1]
        # Table rows and list lines without punctuation: end the piece at a line end when
        # one is in the second half, so that a row is not split between two chunks.
        newline = text.rfind("\n", start, cut)
        if newline > start + (cut - start) // 2 and count(text[start:newline]) <= budget:
            return newline
        return cut
    if not inside_words:
        return None
    first = _WORD.search(text, start, window)
    first_end = first.end() if first and (first.end() < window or window == end) else window
    return _cut_inside_word(text, start, first_end, budget, count)


def _cut_inside_word(text: str, start: int, end: int, budget: int, count: Callable[[str], int]) -> int:
    """End of a prefix of the one word ``text[start:end]`` that counts at most ``budget``
    tokens (at least one character, so the caller progresses). The word may be megabytes
    long (a base64 blob, a text without spaces): gallop then bisect on characters, so that
    every count is over about a chunk's length, never over the rest of the word, and stop
    once within 1/32 of the best cut. Linear in the word's length overall."""
    good, bad = 1, None  # characters; 1 always "fits"
    k = max(2, budget // 2)
    while bad is None and good < end - start:
        k = min(k, end - start)
        if count(text[start : start + k]) <= budget:
            good, k = k, k * 2
        else:
            bad = k
    while bad is not None and bad - good > max(1, good // 32):
        mid = (good + bad) // 2
        if count(text[start : start + mid]) <= budget:
            good = mid
        else:
            bad = mid
    return start + good
