"""The keyword stage of a search: the top chunks, exact scores of any chunks, and the spread.

``KeywordIndex.sparse_scores`` reads every posting of every query term: with a common term
at a million chunks that is millions of entries per query. ``query`` gives the retriever
the same three things without that when the query's postings are many:

- exact path (at most ``EXACT_POSTINGS`` postings, or ``allowed_ids`` given): today's
  ``sparse_scores`` and ``top``, bit-identical (a corpus of a few thousand chunks always
  takes it);
- pruned path (MaxScore, Turtle & Flood 1995): a term can add at most
  ``UB = qtf * idf * (k1 + 1)`` to an entry (BM25's tf part stays under k1 + 1). Terms are
  read in full rarest first (the exact set E) until the ``k``-th best chunk over E alone
  beats the sum of the bounds of the terms left (R): no chunk that E misses can then reach
  the top. The chunks E touched that still can are completed exactly by binary search of
  their entries in R's postings (a term's postings are sorted by entry within a segment),
  best bound first, raising the threshold as exact scores come in. The top ``k`` (ids,
  order, scores) equals the exact path's; ``get`` is exact for any chunk.

The pruned path's ``mean_std`` is an estimate (as ``VectorIndex.score_stats`` is, over an
even sample of vectors) while its ranking is exact: stratum A (chunks E touched) and
stratum B (the others, scored by R's terms only) are each scored exactly when they hold
at most ``STATS_SAMPLE`` chunks, else over an evenly spread sample of that many (for B a
sample of the live chunks fixed per generation, A's members excluded) scaled up to the
stratum's size. When E ends up holding every term, B scores 0 and A's scores are all
known: the statistics are exact.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from rag.index.keywords import KeywordIndex, SparseScores
from rag.index.segments import isin_sorted

# Below this many postings the exact path costs about as much as the pruned path's fixed
# work (the statistics' sample of STATS_SAMPLE chunks, binary searches per segment): ~2 ms.
EXACT_POSTINGS = 200_000
STATS_SAMPLE = 4096
# Relative margin on every bound comparison, far above float rounding (1e-16 per operation).
SLACK = 1e-9


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
        self.bound = float(self.qtf * self.idf * (index.k1 + 1.0))
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


class KeywordResult:
    """The keyword stage of one query: ``top`` ((rowid, score) best first, ties by rowid, as
    ``KeywordIndex.top``), ``get`` (exact scores), ``mean_std`` (over every live chunk).
    ``exact`` says which path ran; ``postings_read`` of ``postings_total`` were read in full."""

    def __init__(self, index: KeywordIndex, terms: list[_Term], k: int, allowed_ids=None):
        self._index, self._terms = index, terms
        self.postings_total = sum(t.n_postings for t in terms)
        self.exact = allowed_ids is not None or self.postings_total <= EXACT_POSTINGS
        self._stats: tuple[float, float] | None = None
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
        self.n_completed = 0
        order = sorted(range(len(terms)), key=lambda j: (-terms[j].bound, j))  # rarest first
        chosen: list[int] = []
        partial, theta, rest = SparseScores(np.zeros(0, dtype=np.int64), np.zeros(0), index.n_chunks), 0.0, 0.0
        for n, j in enumerate(order):
            chosen.append(j)
            rest = sum(terms[r].bound for r in order[n + 1 :])
            if rest and sum(terms[e].bound for e in chosen) <= rest:
                continue  # E alone cannot beat R's bound yet: no need to score it
            partial = self._partial([terms[e] for e in sorted(chosen)])  # summed in query order
            theta = _kth(partial.scores, k)
            if theta > rest * (1 + SLACK):
                break
        self.n_exact_terms = len(chosen)
        self.postings_read = sum(terms[e].n_postings for e in chosen)
        self._partial_scores, self._rest = partial, [terms[r] for r in order[len(chosen) :]]
        if not self._rest:  # every term read in full: the partial scores are the scores
            self._scores = partial
            self.top = index.top(partial, k)
            return
        self._scores = None
        bound = partial.scores + rest * (1 + SLACK) + SLACK
        candidates = np.flatnonzero(bound >= theta)
        candidates = candidates[np.argsort(-bound[candidates], kind="stable")]
        done_ids, done_scores, step = [], [], max(4 * k, 256)
        for start in range(0, len(candidates), step):
            batch = candidates[start : start + step]
            batch = batch[bound[batch] >= theta]
            if not len(batch):
                break
            done_ids.append(partial.ids[batch])
            done_scores.append(self.get(partial.ids[batch]))
            theta = max(theta, _kth(np.concatenate(done_scores), k))
        ids = np.concatenate(done_ids) if done_ids else np.zeros(0, dtype=np.int64)
        scores = np.concatenate(done_scores) if done_scores else np.zeros(0)
        sort = np.argsort(ids)
        self.top = index.top(SparseScores(ids[sort], scores[sort], index.n_chunks), k)
        self.n_completed = len(ids)

    def _partial(self, terms: list[_Term]) -> SparseScores:
        """Each chunk's best entry summed over ``terms`` only (their live postings in full)."""
        index, keys, values = self._index, [], []
        for term in terms:
            for i, docs, tf in index._postings(term.term)[1]:
                keys.append(docs.astype(np.int64) + index._offsets[i])
                values.append(term.qtf * term.idf * tf * (index.k1 + 1.0) / (tf + index._norm(i)[docs]))
        if not keys:
            return SparseScores(np.zeros(0, dtype=np.int64), np.zeros(0), index.n_chunks)
        return index._best_per_chunk_sparse(keys, values)

    # -- exact scores of any chunks ---------------------------------------------------------
    def get(self, rowids) -> np.ndarray:
        """The exact score of each of ``rowids`` (0 for a chunk no term touches or not live)."""
        rowids = np.asarray(rowids, dtype=np.int64)
        if self._scores is not None:
            return self._scores.get(rowids)
        index, out = self._index, np.zeros(len(rowids))
        for i, segment in enumerate(index.segments):
            sorted_ids, order = segment.entries_by_id
            lo = np.searchsorted(sorted_ids, rowids, "left")
            counts = np.searchsorted(sorted_ids, rowids, "right") - lo
            which = np.flatnonzero(counts)
            if not len(which):
                continue
            counts, firsts = counts[which], np.cumsum(counts[which]) - counts[which]
            positions = np.repeat(lo[which] - firsts, counts) + np.arange(int(counts.sum()))
            entries = (positions if order is None else order[positions]).astype(np.int32)
            summed = np.zeros(len(entries))
            for term in self._terms:  # in query order, as the exact path adds them
                if i not in term.raw:
                    continue
                docs, tfs = term.raw[i]
                at = np.minimum(np.searchsorted(docs, entries), len(docs) - 1)
                hit = docs[at] == entries
                if hit.any():
                    tf, norm = tfs[at[hit]], index._norm(i)[entries[hit]]
                    summed[hit] += term.qtf * term.idf * tf * (index.k1 + 1.0) / (tf + norm)
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
        index, touched = self._index, self._partial_scores.ids
        n = index.n_chunks
        if n <= 0:
            return 0.0, 0.0
        total, squares = self._stratum(touched, len(touched))
        n_other = n - len(touched)
        if n_other > 0:
            if n_other <= STATS_SAMPLE:
                others = index.unique_ids[~isin_sorted(index.unique_ids, touched)]
            else:
                sample = _live_sample(index)
                others = sample[~isin_sorted(sample, touched)]
            other_total, other_squares = self._stratum(others, n_other)
            total, squares = total + other_total, squares + other_squares
        mean = total / n
        return mean, math.sqrt(max(squares / n - mean * mean, 0.0))

    def _stratum(self, ids: np.ndarray, size: int) -> tuple[float, float]:
        """The sum and sum of squares of the scores of a stratum of ``size`` chunks, from its
        members ``ids`` (all of them, or an even spread of STATS_SAMPLE when more)."""
        if not size or not len(ids):
            return 0.0, 0.0
        if len(ids) > STATS_SAMPLE:
            ids = ids[np.unique(np.linspace(0, len(ids) - 1, STATS_SAMPLE).astype(np.int64))]
        scores = self.get(ids)
        scale = size / len(ids)
        return float(scores.sum()) * scale, float((scores * scores).sum()) * scale


def _live_sample(index: KeywordIndex) -> np.ndarray:
    """STATS_SAMPLE live chunk rowids evenly spread over the sorted ones (one per generation)."""
    if "sample" not in index._query_cache:
        ids = index.unique_ids
        index._query_cache["sample"] = ids[np.unique(np.linspace(0, len(ids) - 1, STATS_SAMPLE).astype(np.int64))]
    return index._query_cache["sample"]


def _kth(scores: np.ndarray, k: int) -> float:
    """The ``k``-th best of ``scores``: 0 when there are fewer."""
    if k <= 0 or len(scores) < k:
        return 0.0
    return float(-np.partition(-scores, k - 1)[k - 1])


def query(index: KeywordIndex, terms: list[str], k: int, allowed_ids=None) -> KeywordResult:
    """The keyword stage for the analysed ``terms``; see the module."""
    return KeywordResult(index, [_Term(index, t, qtf) for t, qtf in Counter(terms).items()], k, allowed_ids)
