"""BM25 keyword search over analysed chunk terms, kept as immutable segments.

A chunk is scored by its best window of a few consecutive sentences rather than as a
whole: a question is usually answered by one or two sentences, and a 200-token chunk
that mentions the question's terms once each in different places should not beat one
that has them together (measured on the dev set: recall@5 +4 points over whole chunks).

A generation's keywords are a list of segments (``rag.index.segments``) and the chunk
rowids that are live (the store's): an entry of a removed chunk is a deletion, skipped.
The BM25 statistics (number of entries, average length, document frequency) are combined
over the live entries of every segment, so a score is exactly the one a single index
built over the same chunks gives. A commit adds one small segment (``with_added``) and
merges segments of the same size tier (amortised, like Lucene's log merge policy); the
generation's file ``keyword-<gen>.npz`` only names its segments.

A search is sparse: it reads the postings of the query's terms, sums per entry, and keeps
each touched chunk's best entry (``SparseScores``); nothing is linear in the corpus. The
retriever goes through ``query`` (``rag.index.keyword_query``), which gives the same top and
scores without reading every posting of a query's common terms.
Analysis is ``rag.text.analysis``; ranking only here.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.index.segments import Segment, isin_sorted, save_npz
from rag.text.analysis import analyze

# Log merge policy: MERGE_FACTOR segments of one size tier are merged into one; a segment
# with more than PURGE_FRACTION of its entries deleted is rewritten without them.
MERGE_FACTOR = 4
PURGE_FRACTION = 0.3
# A query whose postings number more than 1/DENSE_FRACTION of all entries is summed densely.
DENSE_FRACTION = 8


@dataclass(frozen=True)
class SparseScores:
    """The keyword scores of one query: ``ids`` (sorted) of the chunks with a score above 0,
    their ``scores``, and ``n`` the number of live chunks (every other chunk scores 0)."""

    ids: np.ndarray
    scores: np.ndarray
    n: int

    def get(self, rowids) -> np.ndarray:
        """The score of each of ``rowids``: 0 for a chunk no query term touches."""
        rowids = np.asarray(rowids, dtype=np.int64)
        if not len(self.ids):
            return np.zeros(len(rowids))
        at = np.minimum(np.searchsorted(self.ids, rowids), len(self.ids) - 1)
        return np.where(self.ids[at] == rowids, self.scores[at], 0.0)

    def mean_std(self) -> tuple[float, float]:
        """Mean and standard deviation of every live chunk's score, zeros included."""
        if self.n <= 0:
            return 0.0, 0.0
        mean = float(self.scores.sum()) / self.n
        spread = float(((self.scores - mean) ** 2).sum()) + (self.n - len(self.scores)) * mean * mean
        return mean, math.sqrt(max(spread / self.n, 0.0))


class KeywordIndex:
    """Okapi BM25 (k1=1.2, b=0.75, Lucene's idf) over entries keyed by int64 rowids."""

    def __init__(self, segments: list[Segment], live_ids: np.ndarray | None = None, k1: float = 1.2, b: float = 0.75):
        self.segments = list(segments)
        self.live_ids = None if live_ids is None else np.asarray(live_ids, dtype=np.int64)
        self.k1, self.b = k1, b
        self._alive: list[np.ndarray | None] = []
        self._offsets = np.zeros(len(self.segments) + 1, dtype=np.int64)
        n_entries, total, n_chunks = 0, 0.0, 0
        for i, segment in enumerate(self.segments):
            alive = None if self.live_ids is None else isin_sorted(segment.ids, self.live_ids)
            if alive is not None and alive.all():
                alive = None
            self._alive.append(alive)
            lengths = segment.doc_len if alive is None else segment.doc_len[alive]
            n_entries += len(lengths)
            total += float(lengths.sum())
            unique = segment.unique_ids
            n_chunks += len(unique) if alive is None else int(isin_sorted(unique, self.live_ids).sum())
            self._offsets[i + 1] = self._offsets[i] + len(segment)
        self.n_entries, self.n_chunks = n_entries, n_chunks
        self._avgdl = total / n_entries if n_entries else 1.0
        self._unique: np.ndarray | None = None
        self._norms: list[np.ndarray | None] = [None] * len(self.segments)
        self._deleted: list[np.ndarray | None] = [None] * len(self.segments)
        self._query_cache: dict = {}  # rag.index.keyword_query's, for this generation

    # -- building -----------------------------------------------------------------------
    @classmethod
    def build_windows(cls, rows: Iterable[tuple[int, list[list[str]]]], window: int = 3) -> KeywordIndex:
        """From (chunk id, per-sentence terms): one entry per window of ``window`` sentences."""
        return cls([Segment.build_windows(rows, window)])

    @classmethod
    def build(cls, docs: Iterable[tuple[int, list[str]]]) -> KeywordIndex:
        """From (id, terms) pairs; terms as produced by ``rag.text.analysis.analyze``. An id may
        come several times (windows of one chunk): a search returns its best entry."""
        return cls([Segment.build(docs)])

    def with_added(self, segment: Segment | None, live_ids: np.ndarray) -> KeywordIndex:
        """The next generation: these segments plus ``segment`` (new chunks), over the store's
        sorted ``live_ids``; segments left empty are dropped, and segments of one size tier
        (or mostly deleted) are merged, so there are O(log N) of them."""
        current = KeywordIndex(self.segments, live_ids)
        kept: list[tuple[Segment, int]] = []
        for old, alive in zip(current.segments, current._alive):
            live = len(old) if alive is None else int(alive.sum())
            if live and live < (1 - PURGE_FRACTION) * len(old):
                old, live = Segment.merge([old], live_ids), live
            if live:
                kept.append((old, live))
        if segment is not None and len(segment):
            kept.append((segment, len(segment)))
        while True:
            tiers: dict[int, list[int]] = {}
            for i, (_, live) in enumerate(kept):
                tiers.setdefault(int(math.log(max(live, 1), MERGE_FACTOR)), []).append(i)
            full = sorted(tier for tier, members in tiers.items() if len(members) >= MERGE_FACTOR)
            if not full:
                break
            members = sorted(tiers[full[0]], key=lambda i: kept[i][0].ids[0])  # by rowid: kept sorted
            merged = Segment.merge([kept[i][0] for i in members], live_ids)
            kept = [item for i, item in enumerate(kept) if i not in members] + [(merged, len(merged))]
        kept.sort(key=lambda item: int(item[0].ids[0]))  # segments in rowid order: results need no sort
        return KeywordIndex([s for s, _ in kept], live_ids, self.k1, self.b)

    # -- files --------------------------------------------------------------------------
    def save(self, path: Path, store: str = "") -> None:
        """Write the segments not on disk yet next to ``path``, then ``path`` naming them all
        (and ``store``, the identity of the store they come from), each atomically."""
        for segment in self.segments:
            if segment.name is None or not (path.parent / segment.name).exists():
                segment.save(path.parent)
        names = np.asarray([s.name for s in self.segments], dtype=np.str_)
        save_npz(path, {"segments": names, "store": np.asarray(store, dtype=np.str_)})

    @classmethod
    def load(
        cls, path: Path, live_ids: np.ndarray | None = None, store: str | None = None, known: Iterable[Segment] = ()
    ) -> KeywordIndex:
        """The generation's segments, reusing the already loaded ``known`` ones by name.
        ``store`` given: refused (ValueError) when the file comes from another store."""
        with np.load(path, allow_pickle=False) as data:
            names, origin = data["segments"].tolist(), str(data["store"])
        if store is not None and origin != store:
            raise ValueError(f"{path.name} was derived from another store")
        by_name = {s.name: s for s in known}
        segments = [by_name.get(name) or Segment.load(path.parent / name) for name in names]
        return cls(segments, live_ids)

    # -- searching ----------------------------------------------------------------------
    def __len__(self) -> int:
        return self.n_entries

    @property
    def unique_ids(self) -> np.ndarray:
        """The live chunk rowids, sorted."""
        if self._unique is None:
            parts = [s.unique_ids for s in self.segments]
            ids = np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
            self._unique = ids if self.live_ids is None else ids[isin_sorted(ids, self.live_ids)]
        return self._unique

    def _postings(self, term: str, drop_deleted: bool = True) -> tuple[int, list]:
        """The live document frequency of ``term``, and its (segment number, entries, term
        frequencies) per segment; ``drop_deleted`` False keeps deleted entries in the lists."""
        found, df = [], 0
        for i, segment in enumerate(self.segments):
            t = segment.term_index.get(term)
            if t is None:
                continue
            lo, hi = segment.indptr[t], segment.indptr[t + 1]
            docs, tf = segment.postings[lo:hi], segment.tfs[lo:hi]
            alive = self._alive[i]
            if alive is None:
                df += len(docs)
            elif drop_deleted:
                keep = alive[docs]
                docs, tf = docs[keep], tf[keep]
                df += len(docs)
            else:
                df += int(np.count_nonzero(alive[docs]))
            if len(docs):
                found.append((i, docs, tf))
        return df, found

    def _dead(self, i: int) -> np.ndarray:
        """The deleted entries of segment ``i`` (computed once per generation)."""
        if self._deleted[i] is None:
            self._deleted[i] = np.flatnonzero(~self._alive[i])
        return self._deleted[i]

    def _norm(self, i: int) -> np.ndarray:
        """BM25's length normalisation of segment ``i``'s entries (it depends on the average
        length over every segment: computed once per generation, on its first search)."""
        if self._norms[i] is None:
            self._norms[i] = self.k1 * (1.0 - self.b + self.b * self.segments[i].doc_len / max(self._avgdl, 1e-9))
        return self._norms[i]

    def _idf(self, df: int) -> np.float64:
        return np.log(1.0 + (self.n_entries - df + 0.5) / (df + 0.5))

    def document_frequency(self, term: str) -> int:
        """How many live entries use the analysed ``term`` (0: the corpus never does)."""
        return int(self._postings(term, drop_deleted=False)[0])

    def idf(self, term: str) -> float:
        """How rare an analysed term is; a term the corpus never uses counts as the rarest."""
        return float(self._idf(self._postings(term)[0]))

    def search(self, query: str, k: int, allowed_ids: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top ``k`` (id, BM25 score) for the analysed query, best first; zero scores dropped."""
        return self.search_terms(analyze(query), k, allowed_ids)

    def query(self, terms: list[str], k: int, allowed_ids: np.ndarray | None = None):
        """The keyword stage for the analysed ``terms``: ``top`` k, exact ``get``, ``mean_std``;
        pruned (MaxScore) when the terms have many postings (``rag.index.keyword_query``)."""
        from rag.index.keyword_query import query

        return query(self, terms, k, allowed_ids)

    def sparse_scores(self, terms: list[str]) -> SparseScores:
        """The score of every chunk a term touches (its best entry); the others score 0.

        An entry's score is the sum over the query's terms, added in query order. Postings
        covering a good part of the corpus (common terms) are added into an array over all
        entries (cheaper than sorting them); others by sorting the touched entries only."""
        counts = Counter(terms)
        n_postings = sum(
            int(s.indptr[t + 1] - s.indptr[t]) for term in counts for s in self.segments
            if (t := s.term_index.get(term)) is not None
        )  # fmt: skip
        if not n_postings:
            return SparseScores(np.zeros(0, dtype=np.int64), np.zeros(0), self.n_chunks)
        dense = n_postings * DENSE_FRACTION >= self._offsets[-1]
        summed = np.zeros(int(self._offsets[-1])) if dense else None
        keys, values = [], []
        for term, qtf in counts.items():
            df, postings = self._postings(term, drop_deleted=not dense)
            idf = self._idf(df)
            for i, docs, tf in postings:
                value = qtf * idf * tf * (self.k1 + 1.0) / (tf + self._norm(i)[docs])
                if dense:
                    summed[self._offsets[i] : self._offsets[i + 1]][docs] += value  # a term's entries are distinct
                else:
                    keys.append(docs.astype(np.int64) + self._offsets[i])
                    values.append(value)
        return self._best_per_chunk(summed) if dense else self._best_per_chunk_sparse(keys, values)

    def _best_per_chunk(self, summed: np.ndarray) -> SparseScores:
        """From every entry's sum (deleted ones included, dropped here): each chunk's best."""
        ids, best = [], []
        for i, segment in enumerate(self.segments):
            scores = summed[self._offsets[i] : self._offsets[i + 1]]
            if self._alive[i] is not None:
                scores[self._dead(i)] = 0.0
            starts = segment.chunk_starts
            if starts is None:  # a chunk's entries are not consecutive: only the touched ones
                entries = np.flatnonzero(scores)
                chunk_ids, chunk_best = _max_per_id(segment.ids[entries], scores[entries])
            else:
                chunk_best = np.maximum.reduceat(scores, starts) if len(starts) else scores[:0]
                chunk_ids = segment.ids[starts]
            touched = chunk_best > 0
            ids.append(chunk_ids[touched])
            best.append(chunk_best[touched])
        return self._joined(ids, best)

    def _best_per_chunk_sparse(self, keys: list[np.ndarray], values: list[np.ndarray]) -> SparseScores:
        """From the touched entries' contributions, term by term: each touched chunk's best."""
        keys, values = np.concatenate(keys), np.concatenate(values)
        order = np.argsort(keys, kind="stable")  # an entry's terms stay in query order
        keys, values = keys[order], values[order]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        entry_scores, entries = np.add.reduceat(values, starts), keys[starts]
        ids, best = [], []
        bounds = np.searchsorted(entries, self._offsets)
        for segment, lo, hi, offset in zip(self.segments, bounds, bounds[1:], self._offsets):
            if lo < hi:  # a chunk's entries are all in one segment
                chunk_ids, chunk_best = _max_per_id(segment.ids[entries[lo:hi] - offset], entry_scores[lo:hi])
                ids.append(chunk_ids)
                best.append(chunk_best)
        return self._joined(ids, best)

    def _joined(self, ids: list[np.ndarray], best: list[np.ndarray]) -> SparseScores:
        ids = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
        best = np.concatenate(best) if best else np.zeros(0)
        if len(ids) > 1 and not bool(np.all(ids[1:] > ids[:-1])):  # segments with interleaved rowids
            order = np.argsort(ids)
            ids, best = ids[order], best[order]
        return SparseScores(ids, best, self.n_chunks)

    def id_scores(self, terms: list[str]) -> np.ndarray:
        """Every id's score (its best entry), aligned with ``unique_ids``; 0 where no term occurs.
        Linear in the corpus: for checks; a search uses ``sparse_scores``."""
        return self.sparse_scores(terms).get(self.unique_ids)

    def search_terms(self, terms: list[str], k: int, allowed_ids: np.ndarray | None = None):
        return self.top(self.sparse_scores(terms), k, allowed_ids)

    def top(self, scores: SparseScores, k: int, allowed_ids: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The ``k`` best (id, score) of ``scores`` (from ``sparse_scores``), best first, ties
        by id; ``allowed_ids`` restricts the ids."""
        if k <= 0 or not len(scores.ids):
            return []
        candidates = np.flatnonzero(scores.scores > 0)
        if allowed_ids is not None:
            allowed = np.unique(np.asarray(allowed_ids, dtype=np.int64))
            candidates = candidates[isin_sorted(scores.ids[candidates], allowed)]
        values = scores.scores
        if len(candidates) > k:  # the k best, and every chunk tied with the k-th: ties go by id
            kth = -np.partition(-values[candidates], k - 1)[k - 1]
            candidates = candidates[values[candidates] >= kth]
        order = candidates[np.lexsort((scores.ids[candidates], -values[candidates]))][:k]
        return [(int(scores.ids[p]), float(values[p])) for p in order]


def _max_per_id(ids: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ``ids`` (sorted) and each one's best score."""
    if len(ids) > 1 and not bool(np.all(ids[1:] >= ids[:-1])):
        order = np.argsort(ids, kind="stable")
        ids, scores = ids[order], scores[order]
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]) if len(ids) else np.zeros(0, dtype=np.int64)
    return ids[starts], (np.maximum.reduceat(scores, starts) if len(starts) else scores[:0])
