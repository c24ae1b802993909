"""Keyword segments: immutable blocks of BM25 postings, Lucene style.

A segment holds the entries (windows of a chunk's sentences) of the chunks added by one
commit, or of several segments merged: per entry its chunk rowid and length, and per term
the entries that use it, in increasing entry order, with their term frequency (a term-major
layout, so a query reads only the postings of its own terms, or binary-searches them). A segment stores no statistic that depends on the
other segments (N, average length, document frequency): ``rag.index.keywords`` combines
them over the live segments at load time, so scores equal those of one index built over
the same chunks. Written once as ``kwseg-<token>.npz`` (loaded with ``allow_pickle=False``:
no code runs on load) and never modified; deletions are not recorded here but derived
from the store (an entry whose rowid the store no longer has is deleted).
"""

from __future__ import annotations

import os
import struct
import uuid
import zipfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np

SEGMENT_PREFIX = "kwseg-"
_FIELDS = ("ids", "doc_len", "vocab", "indptr", "postings", "tfs")


class Segment:
    """Postings of some entries; ``name`` is its file name once saved (None before)."""

    def __init__(self, ids, doc_len, vocab, indptr, postings, tfs, name: str | None = None):
        self.ids, self.doc_len, self.vocab = ids, doc_len, vocab  # per entry: rowid, length; the terms
        self.indptr, self.postings, self.tfs = indptr, postings, tfs  # per term: its entries, tf in each
        self.name = name
        self.term_index = {term: i for i, term in enumerate(vocab.tolist())}
        self._unique: np.ndarray | None = None
        self._starts: np.ndarray | bool | None = None
        self._by_id: tuple[np.ndarray, np.ndarray | None] | None = None

    @classmethod
    def build(cls, docs: Iterable[tuple[int, list[str]]]) -> Segment:
        """From (rowid, terms) entries; a rowid may have several entries (a chunk's windows)."""
        ids, lengths, per_term = [], [], {}
        for position, (doc_id, terms) in enumerate(docs):
            ids.append(doc_id)
            lengths.append(len(terms))
            for term, tf in Counter(terms).items():
                per_term.setdefault(term, []).append((position, tf))
        vocab = sorted(per_term)
        indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        postings, tfs = [], []
        for i, term in enumerate(vocab):
            entries = per_term[term]
            indptr[i + 1] = indptr[i] + len(entries)
            postings.extend(p for p, _ in entries)
            tfs.extend(tf for _, tf in entries)
        return cls(
            np.asarray(ids, dtype=np.int64),
            np.asarray(lengths, dtype=np.float64),
            np.asarray(vocab, dtype=np.str_),
            indptr,
            np.asarray(postings, dtype=np.int32),
            np.asarray(tfs, dtype=np.float32),
        )

    @classmethod
    def build_windows(cls, rows: Iterable[tuple[int, list[list[str]]]], window: int = 3) -> Segment:
        """From (rowid, per-sentence terms): one entry per window of ``window`` sentences."""

        def windows():
            for chunk_id, sentences in rows:
                for i in range(max(1, len(sentences) - window + 1)):
                    yield chunk_id, [t for sentence in sentences[i : i + window] for t in sentence]

        return cls.build(windows())

    @classmethod
    def merge(cls, segments: list[Segment], live_ids: np.ndarray | None = None) -> Segment:
        """One segment holding the entries of ``segments`` (in order) whose rowid is in the
        sorted ``live_ids`` (all when None): merging purges deleted entries."""
        keeps = [np.ones(len(s.ids), bool) if live_ids is None else isin_sorted(s.ids, live_ids) for s in segments]
        vocab = np.unique(np.concatenate([s.vocab for s in segments])) if segments else np.zeros(0, np.str_)
        terms, entries, tfs, offset = [], [], [], 0
        for segment, keep in zip(segments, keeps):
            new_position = np.cumsum(keep) - 1 + offset  # where each kept entry lands
            term_of = np.repeat(np.searchsorted(vocab, segment.vocab), np.diff(segment.indptr))
            kept = keep[segment.postings]
            terms.append(term_of[kept])
            entries.append(new_position[segment.postings[kept]])
            tfs.append(segment.tfs[kept])
            offset += int(keep.sum())
        terms, entries, tfs = (np.concatenate(a) if a else np.zeros(0) for a in (terms, entries, tfs))
        order = np.lexsort((entries, terms))
        indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum(np.bincount(terms.astype(np.int64), minlength=len(vocab)))
        return cls(
            np.concatenate([s.ids[k] for s, k in zip(segments, keeps)]) if segments else np.zeros(0, np.int64),
            np.concatenate([s.doc_len[k] for s, k in zip(segments, keeps)]) if segments else np.zeros(0),
            vocab.astype(np.str_),
            indptr,
            entries[order].astype(np.int32),
            tfs[order].astype(np.float32),
        )

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def chunk_starts(self) -> np.ndarray | None:
        """Where each chunk's run of entries starts, when every chunk's entries are consecutive
        (as ``build_windows`` and ``merge`` leave them), else None."""
        if self._starts is None:
            starts = np.flatnonzero(np.r_[True, self.ids[1:] != self.ids[:-1]]) if len(self.ids) else self.ids
            self._starts = starts if len(starts) == len(self.unique_ids) else False
        return None if self._starts is False else self._starts

    @property
    def entries_by_id(self) -> tuple[np.ndarray, np.ndarray | None]:
        """The entries' rowids sorted, and the entry positions in that order (None when the
        entries are already in rowid order): a chunk's entries by binary search (computed once)."""
        if self._by_id is None:
            if len(self.ids) < 2 or bool(np.all(self.ids[1:] >= self.ids[:-1])):
                self._by_id = (self.ids, None)
            else:
                order = np.argsort(self.ids, kind="stable")
                self._by_id = (self.ids[order], order.astype(np.int32))
        return self._by_id

    @property
    def unique_ids(self) -> np.ndarray:
        """The distinct rowids of its entries, sorted (computed once: a segment never changes)."""
        if self._unique is None:
            self._unique = np.unique(self.ids)
        return self._unique

    def save(self, directory: Path) -> None:
        """Write as a new ``kwseg-<token>.npz`` in ``directory``, atomically (temporary name,
        fsync, rename); a segment's file is never written again."""
        name = f"{SEGMENT_PREFIX}{uuid.uuid4().hex[:16]}.npz"
        save_npz(directory / name, {field: getattr(self, field) for field in _FIELDS})
        self.name = name

    @classmethod
    def load(cls, path: Path) -> Segment:
        data = load_npz(path)
        return cls(*(data[k] for k in _FIELDS), name=path.name)


def save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez`` to a temporary name, fsync, then rename: a kill leaves no half file."""
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **arrays)
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def load_npz(path: Path) -> dict[str, np.ndarray]:
    """The arrays of an uncompressed ``.npz`` (as ``save_npz`` writes), memory-mapped read-only
    rather than read: a segment's file is never modified, and a commit or a serving process
    then reads only the pages its searches touch. Anything else is read by ``np.load`` (no
    pickles either way)."""
    arrays: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(path) as archive, open(path, "rb") as handle:
        for member in archive.infolist():
            handle.seek(member.header_offset + 26)  # the local header's name and extra lengths
            name_length, extra_length = struct.unpack("<HH", handle.read(4))
            handle.seek(member.header_offset + 30 + name_length + extra_length)
            version = np.lib.format.read_magic(handle)
            if member.compress_type != zipfile.ZIP_STORED or version not in ((1, 0), (2, 0)):
                with np.load(path, allow_pickle=False) as data:
                    return {key: data[key] for key in data.files}
            read_header = (
                np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            )
            shape, fortran, dtype = read_header(handle)
            if dtype.hasobject:
                raise ValueError(f"{path.name} holds Python objects")
            key = member.filename.removesuffix(".npy")
            if int(np.prod(shape)) == 0:
                arrays[key] = np.zeros(shape, dtype=dtype)
            else:
                mapped = np.memmap(path, dtype, "r", handle.tell(), shape, "F" if fortran else "C")
                arrays[key] = np.asarray(mapped)
    return arrays


def isin_sorted(values: np.ndarray, sorted_ids: np.ndarray) -> np.ndarray:
    """``np.isin(values, sorted_ids)`` for a sorted ``sorted_ids``, by binary search."""
    if not len(sorted_ids):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_ids, values), len(sorted_ids) - 1)
    return sorted_ids[at] == values
