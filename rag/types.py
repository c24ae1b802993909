"""The pipeline's data, stated once: SourceDoc -> Chunk -> Hit.

Frozen dataclasses only; no behaviour beyond small derived views. Vectors are never
stored on a Chunk: they live in the index.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Page:
    """A PDF page: ``text[start:end]`` is the text of page ``number`` (1-based)."""

    number: int
    start: int
    end: int


@dataclass(frozen=True)
class Heading:
    """A heading starting at ``offset`` in the document text, ``level`` 1 = top."""

    offset: int
    level: int
    title: str


@dataclass(frozen=True)
class SourceDoc:
    """One document as read from disk.

    ``doc_id`` is a content hash of the file bytes, ``source`` the path relative to the
    ingested root (POSIX separators). ``pages`` is empty for formats without pages.
    ``headings`` is sorted by offset. ``notes``: what reading had to repair (not stored).
    """

    doc_id: str
    source: str
    text: str
    pages: tuple[Page, ...] = ()
    headings: tuple[Heading, ...] = ()
    format: str = "text"
    notes: tuple[str, ...] = ()

    def page_at(self, offset: int) -> int | None:
        """The page number holding character ``offset``, or None for unpaged formats."""
        if not self.pages:
            return None
        starts = [p.start for p in self.pages]
        i = max(0, bisect_right(starts, offset) - 1)
        return self.pages[i].number

    def heading_path_at(self, offset: int) -> tuple[str, ...]:
        """Titles of the headings that enclose ``offset``, outermost first."""
        path: list[tuple[int, str]] = []
        for h in self.headings:
            if h.offset > offset:
                break
            while path and path[-1][0] >= h.level:
                path.pop()
            path.append((h.level, h.title))
        return tuple(title for _, title in path)


@dataclass(frozen=True)
class Chunk:
    """A contiguous span of a document: ``doc.text[start:end] == text``.

    ``page``/``page_end`` are the first and last PDF pages the span touches (None when
    the format has no pages); ``heading_path`` is the path at ``start``.
    """

    chunk_id: str
    doc_id: str
    source: str
    text: str
    start: int
    end: int
    page: int | None = None
    page_end: int | None = None
    heading_path: tuple[str, ...] = ()


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its final score, rank (1-based) and per-stage scores."""

    chunk: Chunk
    score: float
    rank: int
    scores: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Citation:
    """Passage ``number`` ([n] in the answer text) and where it supports the answer.

    ``span`` is the supporting span as character offsets inside ``hit.chunk.text``
    (add ``hit.chunk.start`` for offsets in the document), or None when unsupported.
    """

    number: int
    hit: Hit
    span: tuple[int, int] | None = None


@dataclass(frozen=True)
class SentenceCheck:
    """One answer sentence: its span in the answer text, the passages that back it, and how well.

    ``citations`` are passage numbers after checking (``cited`` were the model's own);
    ``support`` is the best support score in [0, 1]; ``spans`` maps a passage number to the
    supporting span inside that passage's chunk text. ``quote`` marks the verbatim passage
    excerpt the answerer adds after the model's sentences (``start == end``: not in the draft).
    """

    text: str
    start: int
    end: int
    cited: tuple[int, ...]
    citations: tuple[int, ...]
    support: float
    supported: bool
    spans: dict[int, tuple[int, int]] = field(default_factory=dict)
    quote: bool = False


@dataclass(frozen=True)
class Answer:
    """What ``ask`` returns: the answer, its checked citations, the passages and the timings."""

    question: str
    text: str
    citations: tuple[Citation, ...]
    hits: tuple[Hit, ...]
    sentences: tuple[SentenceCheck, ...] = ()
    abstained: bool = False
    abstain_reason: str | None = None
    invalid_markers: tuple[int, ...] = ()
    mode: str = "llm"  # "llm" or "extractive"
    model: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    draft: str = ""  # the model's raw text, before checking
    # Why the model's drafts were not used, when the answer is instead the passages' own words
    # that answer best (``mode`` is then "extractive"); None otherwise.
    draft_rejected: str | None = None

    @property
    def unsupported_sentences(self) -> tuple[SentenceCheck, ...]:
        return tuple(s for s in self.sentences if not s.supported)
