"""The keyword stage of a search: the top chunks, exact scores of any chunks, and the spread.

``KeywordIndex.sparse_scores`` reads every posting of every query term: with a common term
at a million chunks that is millions of entries per query. ``query`` gives the retriever
the same three things without that when the query's postings are many:

- exact path (at most ``EXACT_POSTINGS`` postings, or ``allowed_ids`` given): today's
  ``sparse_scores`` and ``top``, bit-identical (a corpus of a few thousand chunks always
  takes it);
- pruned path (MaxScore, Turtle & Flood 1995): a term can add at most
  ``UB = qtf * idf * s`` to an entry, ``s`` the largest tf part ``tf (k1 + 1) / (tf + norm)``
  over its postings (under k1 + 1; computed once per generation and term). Terms are
  read in full rarest first (the exact set E) until the ``k``-th best chunk over E alone
  beats the sum of the bounds of the terms left (R): no chunk that E misses can then reach
  the top. The entries E touched that still can reach it are completed one term of R at a
  time by binary search in its postings (a term's postings are sorted by entry within a
  segment), dropping those that fall behind the threshold as it rises; the chunks left are
  scored exactly. The top ``k`` (ids, order, scores) equals the exact path's; ``get`` is
  exact for any chunk. When pruning would have to read more than ``READ_SHARE`` of the
  postings anyway (several common terms), the exact path runs instead.

The pruned path's ``mean_std`` is an estimate (as ``VectorIndex.score_stats`` is, over an
even sample of vectors) while its ranking is exact: stratum A (chunks E touched) and
stratum B (the others, scored by R's terms only) are each scored exactly when they hold
at most ``STATS_SAMPLE`` chunks, else over an evenly spread sample of that many (for B a
sample of the live chunks fixed per generation, A's members excluded) scaled up to the
stratum's size. A query that ends up reading every term gets the exact path's statistics.

Measured at 1M chunks x 4 windows (synthetic Zipf vocabulary, one thread): queries whose
rare terms settle the top are about 3x faster than the exact path; those with several
common terms cost what the exact path costs, plus the reading that found pruning would
not pay.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from rag.index.keywords import KeywordIndex, SparseScores, _max_per_id
from rag.index.segments import isin_sorted

# Up to this many postings the exact path takes ~5 ms at 1M chunks, about the pruned path's
# fixed work (the statistics' samples of STATS_SAMPLE chunks, binary searches per segment),
# and its statistics are exact. A query has at most (its distinct terms x entries) postings:
# a corpus of a few thousand windows (the evaluation corpora) always takes the exact path.
EXACT_POSTINGS = 200_000
STATS_SAMPLE = 4096
# Relative margin on every bound comparison, far above float rounding (1e-16 per operation).
SLACK = 1e-9
# Pruning that would have to read more than this share of the query's postings in full
# (merging them) saves less than the exact path costs: the exact path runs instead.
READ_SHARE = 0.4
# The statistics' fixed sample: each term's contributions to it are kept for this many terms.
SAMPLE_TERMS = 256


class _Term:
    """One distinct query term: its query count, live df, idf, bound, raw postings per segment."""

    def __init__(self, index: KeywordIndex, term: str, qtf: int):
        self.term, self.qtf = term, qtf
        self.raw: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for i, segment in enumerate(index.segments):
            t = segment.term_index.get(term)
            if t is not None and segment.indptr[t + 1] > segment.indptr[t]:
                lo, hi = segment.indptr[t], segment.indptr[t + 1]
                self.raw[i] = (segment.postings[lo:hi], segment.tfs[lo:hi])
        self.n_postings = sum(len(docs) for docs, _ in self.raw.values())

    def rate(self, index: KeywordIndex) -> _Term:
        """Set its live df, idf and bound (only the pruned path needs them here)."""
        self.df = _live_df(index, self.term, self.raw)
        self.idf = index._idf(self.df)
        self.bound = float(self.qtf * self.idf * _saturation(index, self.term, self.raw))
        return self


def _live_df(index: KeywordIndex, term: str, raw: dict) -> int:
    """The term's document frequency over live entries (cached per generation when some
    segment has deletions: counting them reads the postings)."""
    if all(index._alive[i] is None for i in raw):
        return sum(len(docs) for docs, _ in raw.values())
    cache = index._query_cache.setdefault("df", {})
    if term not in cache:
        cache[term] = index._postings(term, drop_deleted=False)[0]
    return cache[term]


def _saturation(index: KeywordIndex, term: str, raw: dict) -> float:
    """The largest tf part of BM25 (under k1 + 1) over the term's postings: its bound is this
    times qtf * idf (cached per generation: it reads the postings once)."""
    cache = index._query_cache.setdefault("saturation", {})
    if term not in cache:
        cache[term] = max(
            (float(np.max(tfs * (index.k1 + 1.0) / (tfs + index._norm(i)[docs]))) for i, (docs, tfs) in raw.items()),
            default=0.0,
        )
    return cache[term]


class KeywordResult:
    """The keyword stage of one query: ``top`` ((rowid, score) best first, ties by rowid, as
    ``KeywordIndex.top``), ``get`` (exact scores), ``mean_std`` (over every live chunk).
    ``exact`` says which path ran; ``postings_read`` of ``postings_total`` were read in full."""

    def __init__(self, index: KeywordIndex, terms: list[_Term], k: int, allowed_ids=None):
        self._index, self._terms = index, terms
        self.postings_total = sum(t.n_postings for t in terms)
        self.exact = allowed_ids is not None or self.postings_total <= EXACT_POSTINGS
        self._stats: tuple[float, float] | None = None
        self.n_completed = 0  # chunks scored in full after pruning
        if self.exact:
            self._scores = index.sparse_scores([t.term for t in terms for _ in range(t.qtf)])
            self.top = index.top(self._scores, k, allowed_ids)
            self.postings_read, self.n_exact_terms = self.postings_total, len(terms)
        else:
            self._prune(k)

    # -- ranking --------------------------------------------------------------------------
    def _prune(self, k: int) -> None:
        index = self._index
        self._terms = terms = [t for t in (t.rate(index) for t in self._terms) if t.df > 0]
        order = sorted(terms, key=lambda t: -t.bound)  # rarest first (stable: query order on ties)
        entries, theta, n_read = _Entries.empty(), 0.0, 0
        cap, wasted = 0.0, 0  # the k-th best chunk over E is at most cap: a term read adds its bound at most
        while n_read < len(order):
            if not _reachable(order, n_read, cap, READ_SHARE * self.postings_total):
                wasted = sum(t.n_postings for t in order[:n_read])
                n_read = len(order)  # pruning would not pay: read everything
                break
            entries = entries.merged(_Entries.read(index, order[n_read]))
            cap += order[n_read].bound
            n_read += 1
            rest = order[n_read:]
            bound = _margin(sum(t.bound for t in rest))
            if not rest or cap <= bound:
                continue  # E alone cannot beat R's bound yet
            theta = cap = _kth(entries.chunks().scores, k)
            # No chunk E misses can reach the top; complete the entries that still can by
            # binary search in R's postings unless reading R in full is about as cheap.
            if theta > bound and np.count_nonzero(entries.sums + bound >= theta) * len(rest) <= sum(
                t.n_postings for t in rest
            ):
                break
        self.n_exact_terms = n_read
        self.postings_read = wasted + sum(t.n_postings for t in order[:n_read])
        self._rest = order[n_read:]
        if not self._rest:  # every term read in full: the exact path's scores
            self._scores = index.sparse_scores([t.term for t in terms for _ in range(t.qtf)])
            self.top = index.top(self._scores, k)
            return
        self._scores, self._touched, self._read = None, entries.chunks(), entries
        # MaxScore's second phase, a term of R at a time over the entries that can still reach
        # theta (the k-th best chunk lower bound, raised as they gain R's contributions).
        left = sum(t.bound for t in self._rest)
        entries = entries.where(entries.sums + _margin(left) >= theta)
        for term in self._rest:
            left -= term.bound
            entries.add(index, term)
            theta = max(theta, _kth(entries.chunks().scores, k))
            entries = entries.where(entries.sums + _margin(left) >= theta)
        pool = np.unique(entries.rowids)  # holds every chunk of the exact top k and its ties
        self.n_completed = len(pool)
        self.top = index.top(SparseScores(pool, self.get(pool), index.n_chunks), k)

    # -- exact scores of any chunks ---------------------------------------------------------
    def get(self, rowids) -> np.ndarray:
        """The exact score of each of ``rowids`` (0 for a chunk no term touches or not live)."""
        rowids = np.asarray(rowids, dtype=np.int64)
        if self._scores is not None:
            return self._scores.get(rowids)
        return self._summed(_layout(self._index, rowids), len(rowids), self._terms)

    def _summed(self, layout: list, n: int, terms: list[_Term], cache: dict | None = None, base=None) -> np.ndarray:
        """The best entry of each of ``n`` chunks laid out by ``_layout``, over ``terms`` (each
        term's contributions kept in ``cache`` when given: the layout is fixed), plus the
        partial sums of ``base`` (``_Entries``) where it has the entry."""
        index, out = self._index, np.zeros(n)
        for at, (i, which, firsts, entries) in enumerate(layout):
            summed = np.zeros(len(entries))
            if base is not None and len(base.keys):
                keys = entries.astype(np.int64) + index._offsets[i]
                found = np.minimum(np.searchsorted(base.keys, keys), len(base.keys) - 1)
                summed = np.where(base.keys[found] == keys, base.sums[found], 0.0)
            for term in terms:  # in query order, as the exact path adds them
                if cache is None:
                    summed += _contribution(index, i, entries, term)
                    continue
                kept = cache.get((term.term, term.qtf))  # read once: another search may clear it
                if kept is None:
                    kept = [_contribution(index, j, e, term) for j, _, _, e in layout]
                    if len(cache) >= SAMPLE_TERMS:
                        cache.clear()
                    cache[term.term, term.qtf] = kept
                summed += kept[at]
            if index._alive[i] is not None:
                summed[~index._alive[i][entries]] = 0.0
            out[which] = np.maximum(out[which], np.maximum.reduceat(summed, firsts))
        return out

    # -- statistics -----------------------------------------------------------------------
    def mean_std(self) -> tuple[float, float]:
        """Mean and standard deviation of every live chunk's score, zeros included: exact on
        the exact path (and when every term was read in full), else estimated (see module)."""
        if self._stats is None:
            self._stats = self._scores.mean_std() if self._scores is not None else self._estimate()
        return self._stats

    def _estimate(self) -> tuple[float, float]:
        index, touched = self._index, self._touched.ids
        n, n_other = index.n_chunks, index.n_chunks - len(self._touched.ids)
        sample = touched
        if len(touched) > STATS_SAMPLE:
            sample = touched[np.unique(np.linspace(0, len(touched) - 1, STATS_SAMPLE).astype(np.int64))]
        # E's part from the first phase's partial sums, R's by binary search
        total, squares = _sums(
            self._summed(_layout(index, sample), len(sample), self._rest, base=self._read), len(touched)
        )
        if n_other > 0:  # scored by R's terms only: E's do not touch them
            if n_other <= STATS_SAMPLE:
                others = index.unique_ids[~isin_sorted(index.unique_ids, touched)]
                scores = self._summed(_layout(index, others), len(others), self._rest)
            else:
                others, layout = _live_sample(index)
                cache = index._query_cache.setdefault("sample terms", {})
                scores = self._summed(layout, len(others), self._rest, cache)[~isin_sorted(others, touched)]
            other_total, other_squares = _sums(scores, n_other)
            total, squares = total + other_total, squares + other_squares
        mean = total / n
        return mean, math.sqrt(max(squares / n - mean * mean, 0.0))


class _Entries:
    """Entries (global positions, sorted), their partial sums and chunk rowids."""

    def __init__(self, keys: np.ndarray, sums: np.ndarray, rowids: np.ndarray):
        self.keys, self.sums, self.rowids = keys, sums, rowids

    @classmethod
    def empty(cls) -> _Entries:
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0, dtype=np.int64))

    @classmethod
    def read(cls, index: KeywordIndex, term: _Term) -> _Entries:
        """The live entries ``term`` touches and its contribution to each (its postings in full)."""
        parts = []
        for i, docs, tf in index._postings(term.term)[1]:
            value = term.qtf * term.idf * tf * (index.k1 + 1.0) / (tf + index._norm(i)[docs])
            parts.append((docs.astype(np.int64) + index._offsets[i], value, index.segments[i].ids[docs]))
        return cls(*(np.concatenate(a) for a in zip(*parts))) if parts else cls.empty()

    def merged(self, other: _Entries) -> _Entries:
        """These entries with ``other``'s (whose keys are distinct) added in."""
        if not len(self.keys):
            return other
        at = np.minimum(np.searchsorted(self.keys, other.keys), len(self.keys) - 1)
        hit = self.keys[at] == other.keys
        sums = self.sums.copy()
        sums[at[hit]] += other.sums[hit]
        new = ~hit
        keys = np.concatenate([self.keys, other.keys[new]])
        order = np.argsort(keys, kind="stable")  # two sorted runs: merged in linear time
        sums, rowids = np.concatenate([sums, other.sums[new]]), np.concatenate([self.rowids, other.rowids[new]])
        return _Entries(keys[order], sums[order], rowids[order])

    def where(self, keep: np.ndarray) -> _Entries:
        return _Entries(self.keys[keep], self.sums[keep], self.rowids[keep])

    def chunks(self) -> SparseScores:
        """Each chunk's best entry (ids sorted): a lower bound of its score."""
        ids, best = _max_per_id(self.rowids, self.sums)
        return SparseScores(ids, best, 0)

    def add(self, index: KeywordIndex, term: _Term) -> None:
        """Add ``term``'s contribution to each entry, by binary search in its postings."""
        bounds = np.searchsorted(self.keys, index._offsets)
        for i, (docs, tfs) in term.raw.items():
            lo, hi = bounds[i], bounds[i + 1]
            if lo == hi:
                continue
            local = (self.keys[lo:hi] - index._offsets[i]).astype(np.int32)
            at = np.minimum(np.searchsorted(docs, local), len(docs) - 1)
            hit = docs[at] == local
            tf, norm = tfs[at[hit]], index._norm(i)[local[hit]]
            self.sums[lo:hi][hit] += term.qtf * term.idf * tf * (index.k1 + 1.0) / (tf + norm)


def _contribution(index: KeywordIndex, i: int, entries: np.ndarray, term: _Term) -> np.ndarray:
    """What ``term`` adds to each of segment ``i``'s ``entries``, by binary search."""
    out = np.zeros(len(entries))
    if i in term.raw:
        docs, tfs = term.raw[i]
        at = np.minimum(np.searchsorted(docs, entries), len(docs) - 1)
        hit = docs[at] == entries
        if hit.any():
            tf, norm = tfs[at[hit]], index._norm(i)[entries[hit]]
            out[hit] = term.qtf * term.idf * tf * (index.k1 + 1.0) / (tf + norm)
    return out


def _layout(index: KeywordIndex, rowids: np.ndarray) -> list:
    """Where the entries of ``rowids`` are: per segment holding some, (segment number, which
    of ``rowids``, where each one's run starts in ``entries``, entries (positions))."""
    layout = []
    for i, segment in enumerate(index.segments):
        sorted_ids, order = segment.entries_by_id
        if not len(sorted_ids):
            continue
        inside = np.flatnonzero((rowids >= sorted_ids[0]) & (rowids <= sorted_ids[-1]))
        starts = segment.chunk_starts
        if starts is not None and order is None:  # runs in rowid order: search the chunks, fewer
            unique = segment.unique_ids
            at = np.minimum(np.searchsorted(unique, rowids[inside]), len(unique) - 1)
            found = np.flatnonzero(unique[at] == rowids[inside])
            at = at[found]
            lo = starts[at]
            counts = np.where(at + 1 < len(starts), starts[np.minimum(at + 1, len(starts) - 1)], len(sorted_ids)) - lo
        else:
            lo = np.searchsorted(sorted_ids, rowids[inside], "left")
            counts = np.searchsorted(sorted_ids, rowids[inside], "right") - lo
            found = np.flatnonzero(counts)
            lo, counts = lo[found], counts[found]
        which = inside[found]
        if len(which):
            firsts = np.cumsum(counts) - counts
            positions = np.repeat(lo - firsts, counts) + np.arange(int(counts.sum()))
            layout.append((i, which, firsts, (positions if order is None else order[positions]).astype(np.int32)))
    return layout


def _sums(scores: np.ndarray, size: int) -> tuple[float, float]:
    """The sum and sum of squares of a stratum of ``size`` chunks from ``scores`` (all of
    them, or a sample), scaled up to its size."""
    if not len(scores):
        return 0.0, 0.0
    scale = size / len(scores)
    return float(scores.sum()) * scale, float((scores * scores).sum()) * scale


def _reachable(order: list[_Term], n_read: int, cap: float, budget: float) -> bool:
    """Whether reading more of ``order`` (the first ``n_read`` read, the k-th best chunk at
    most ``cap``) within ``budget`` postings could beat the bound of the terms left."""
    read = sum(t.n_postings for t in order[:n_read])
    for m in range(n_read, len(order) - 1):
        read += order[m].n_postings
        cap += order[m].bound
        if read > budget:
            return False
        if cap > _margin(sum(t.bound for t in order[m + 1 :])):
            return True
    return False


def _margin(bound: float) -> float:
    """An upper bound widened by far more than float rounding can move a sum."""
    return bound * (1 + SLACK) + SLACK if bound else 0.0


def _live_sample(index: KeywordIndex) -> tuple[np.ndarray, list]:
    """STATS_SAMPLE live chunk rowids evenly spread over the sorted ones, and their layout
    (computed once per generation)."""
    if "sample" not in index._query_cache:
        ids = index.unique_ids
        ids = ids[np.unique(np.linspace(0, len(ids) - 1, STATS_SAMPLE).astype(np.int64))]
        index._query_cache["sample"] = (ids, _layout(index, ids))
    return index._query_cache["sample"]


def _kth(scores: np.ndarray, k: int) -> float:
    """The ``k``-th best of ``scores``: 0 when there are fewer."""
    if k <= 0 or len(scores) < k:
        return 0.0
    return float(-np.partition(-scores, k - 1)[k - 1])


def query(index: KeywordIndex, terms: list[str], k: int, allowed_ids=None) -> KeywordResult:
    """The keyword stage for the analysed ``terms``; see the module."""
    return KeywordResult(index, [_Term(index, t, qtf) for t, qtf in Counter(terms).items()], k, allowed_ids)
