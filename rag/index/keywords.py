"""BM25 keyword search over analysed chunk terms, stored as plain NumPy arrays.

A chunk is scored by its best window of a few consecutive sentences rather than as a
whole: a question is usually answered by one or two sentences, and a 200-token chunk
that mentions the question's terms once each in different places should not beat one
that has them together (measured on the dev set: recall@5 +4 points over whole chunks).

Built from the chunk store's per-sentence terms (computed once at ingestion) each time the
index changes, saved as ``keyword-<gen>.npz`` (loaded with ``allow_pickle=False``: no
code runs on load), and searched with a term-major posting layout, so a query touches
only the postings of its own terms. Analysis is ``rag.text.analysis``; ranking only here.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from rag.text.analysis import analyze


class KeywordIndex:
    """Okapi BM25 (k1=1.2, b=0.75, Lucene's idf) over documents keyed by int64 ids."""

    def __init__(self, ids, doc_len, vocab, indptr, postings, tfs, k1: float = 1.2, b: float = 0.75):
        self.ids = ids
        self.doc_len = doc_len
        self.vocab = vocab
        self._term_index = {term: i for i, term in enumerate(vocab.tolist())}
        self.indptr = indptr
        self.postings = postings
        self.tfs = tfs
        self.k1, self.b = k1, b
        n = len(ids)
        df = np.diff(indptr).astype(np.float64)
        self._idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5)) if n else df
        avgdl = float(doc_len.mean()) if n else 1.0
        self._norm = k1 * (1.0 - b + b * doc_len / max(avgdl, 1e-9)) if n else doc_len.astype(np.float64)
        # Distinct ids, and for each entry the slot of its id: an id's best entry is a max
        # over its slot. Windows of one chunk are consecutive, so reduceat usually does it.
        self.unique_ids, self._slot = np.unique(ids, return_inverse=True) if n else (ids, ids)
        starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]) if n else ids
        self._runs = starts if len(starts) == len(self.unique_ids) else None
        self._run_order = np.argsort(ids[starts], kind="stable") if self._runs is not None else None

    @classmethod
    def build_windows(cls, rows: Iterable[tuple[int, list[list[str]]]], window: int = 3) -> KeywordIndex:
        """From (chunk id, per-sentence terms): one entry per window of ``window`` sentences."""

        def windows():
            for chunk_id, sentences in rows:
                for i in range(max(1, len(sentences) - window + 1)):
                    yield chunk_id, [t for sentence in sentences[i : i + window] for t in sentence]

        return cls.build(windows())

    @classmethod
    def build(cls, docs: Iterable[tuple[int, list[str]]]) -> KeywordIndex:
        """From (id, terms) pairs; terms as produced by ``rag.text.analysis.analyze``. An id may
        come several times (windows of one chunk): a search returns its best entry."""
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

    def save(self, path: Path) -> None:
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(
            tmp, ids=self.ids, doc_len=self.doc_len, vocab=self.vocab, indptr=self.indptr,
            postings=self.postings, tfs=self.tfs,
        )  # fmt: skip
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> KeywordIndex:
        with np.load(path, allow_pickle=False) as data:
            return cls(*(data[k] for k in ("ids", "doc_len", "vocab", "indptr", "postings", "tfs")))

    def __len__(self) -> int:
        return len(self.ids)

    def idf(self, term: str) -> float:
        """How rare an analysed term is; a term the corpus never uses counts as the rarest."""
        t = self._term_index.get(term)
        if t is None:
            return float(np.log(1.0 + (len(self) + 0.5) / 0.5))
        return float(self._idf[t])

    def search(self, query: str, k: int, allowed_ids: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top ``k`` (id, BM25 score) for the analysed query, best first; zero scores dropped."""
        return self.search_terms(analyze(query), k, allowed_ids)

    def _entry_scores(self, terms: list[str]) -> np.ndarray:
        scores = np.zeros(len(self), dtype=np.float64)
        for term, qtf in Counter(terms).items():
            t = self._term_index.get(term)
            if t is None:
                continue
            lo, hi = self.indptr[t], self.indptr[t + 1]
            docs, tf = self.postings[lo:hi], self.tfs[lo:hi]
            scores[docs] += qtf * self._idf[t] * tf * (self.k1 + 1.0) / (tf + self._norm[docs])
        return scores

    def id_scores(self, terms: list[str]) -> np.ndarray:
        """Every id's score (its best entry), aligned with ``unique_ids``; 0 where no term occurs."""
        if not len(self):
            return np.zeros(0, dtype=np.float64)
        scores = self._entry_scores(terms)
        if self._runs is not None:
            return np.maximum.reduceat(scores, self._runs)[self._run_order]
        best = np.zeros(len(self.unique_ids), dtype=np.float64)
        np.maximum.at(best, self._slot, scores)
        return best

    def search_terms(self, terms: list[str], k: int, allowed_ids: np.ndarray | None = None):
        return self.top(self.id_scores(terms), k, allowed_ids)

    def top(self, id_scores: np.ndarray, k: int, allowed_ids: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The ``k`` best (id, score) of ``id_scores`` (from ``id_scores``), best first, zero
        scores dropped; ``allowed_ids`` restricts the ids."""
        if not len(self) or k <= 0:
            return []
        keep = id_scores > 0
        if allowed_ids is not None:
            keep &= np.isin(self.unique_ids, np.asarray(allowed_ids, dtype=np.int64))
        candidates = np.flatnonzero(keep)
        if len(candidates) > k:
            candidates = candidates[np.argpartition(-id_scores[candidates], k - 1)[:k]]
        order = candidates[np.lexsort((self.unique_ids[candidates], -id_scores[candidates]))]
        return [(int(self.unique_ids[p]), float(id_scores[p])) for p in order]
