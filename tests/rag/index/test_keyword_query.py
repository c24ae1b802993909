"""The keyword stage's query: the pruned (MaxScore) path against the exact reference."""

from __future__ import annotations

import numpy as np
import pytest

from rag.index import keyword_query
from rag.index.keywords import KeywordIndex
from rag.index.segments import Segment

VOCAB = [f"t{i}" for i in range(200)]
WEIGHTS = 1.0 / np.arange(1, len(VOCAB) + 1) ** 1.1
WEIGHTS /= WEIGHTS.sum()


def _chunks(rng, first_id, n, words=8):
    """(rowid, per-sentence terms) of ``n`` chunks over a Zipf vocabulary (t0 the commonest)."""
    return [
        (first_id + i, [list(rng.choice(VOCAB, rng.integers(0, words), p=WEIGHTS)) for _ in range(rng.integers(1, 6))])
        for i in range(n)
    ]


def _index(rng, n=600, commits=5):
    """Several segments over ``n`` chunks and commits adding some and deleting some."""
    rows = _chunks(rng, 1, n)
    index, next_id = KeywordIndex.build_windows(rows), n + 1
    for _ in range(commits):
        added = _chunks(rng, next_id, int(rng.integers(n // 10, n // 3)))
        next_id += len(added) + int(rng.integers(0, 3))
        gone = set(rng.choice([r for r, _ in rows], int(rng.integers(0, n // 10)), replace=False).tolist())
        rows = [r for r in rows if r[0] not in gone] + added
        index = index.with_added(Segment.build_windows(added), np.asarray(sorted(r for r, _ in rows)))
    return index, next_id


def _queries(rng, n):
    """Rare terms mixed with common ones (t0..t4 touch most chunks), sometimes one twice."""
    queries = []
    for _ in range(n):
        terms = [VOCAB[int(i)] for i in rng.integers(5, len(VOCAB), rng.integers(0, 5))]
        terms += [VOCAB[int(i)] for i in rng.integers(0, 5, rng.integers(1, 4))]
        queries.append(list(rng.permutation(terms)) + ["absent"] * int(rng.integers(0, 2)))
    return queries


def _assert_top_equal(got, want):
    assert [i for i, _ in got] == [i for i, _ in want]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in want], rtol=1e-9)


def test_postings_are_sorted_by_entry_in_built_and_merged_segments():
    rng = np.random.default_rng(0)
    built = [Segment.build_windows(_chunks(rng, 1 + 100 * i, 50)) for i in range(3)]
    for segment in built + [Segment.merge(built), Segment.merge(built, np.arange(1, 300, 2))]:
        for t in range(len(segment.vocab)):
            docs = segment.postings[segment.indptr[t] : segment.indptr[t + 1]]
            assert np.all(docs[1:] > docs[:-1])


@pytest.mark.parametrize("seed", range(5))
def test_pruned_path_ranks_and_scores_like_the_exact_one(seed, monkeypatch):
    monkeypatch.setattr(keyword_query, "EXACT_POSTINGS", 0)
    monkeypatch.setattr(keyword_query, "STATS_SAMPLE", 64)
    rng = np.random.default_rng(seed)
    index, high = _index(rng)
    assert len(index.segments) > 1 and any(alive is not None for alive in index._alive)
    pruned = complete = 0
    for terms in _queries(rng, 25):
        reference = index.sparse_scores(terms)
        for k in (1, 7, 50):
            result = index.query(terms, k)
            assert not result.exact
            _assert_top_equal(result.top, index.top(reference, k))
            ids = rng.integers(0, high + 5, 200)  # live, deleted and never used rowids
            np.testing.assert_allclose(result.get(ids), reference.get(ids), rtol=1e-12)
            if result.n_exact_terms == len(set(terms) - {"absent"}):
                np.testing.assert_allclose(result.mean_std(), reference.mean_std(), rtol=1e-12)
                complete += 1
            else:
                pruned += 1
    assert pruned and complete  # both endings were exercised


def test_ties_at_the_kth_place_go_by_rowid(monkeypatch):
    """Identical chunks: the pruned path keeps the lowest rowids, like ``KeywordIndex.top``."""
    monkeypatch.setattr(keyword_query, "EXACT_POSTINGS", 0)
    rows = [(i, [["rare", "common"]] if i % 5 == 0 else [["common", f"w{i}"]]) for i in range(1, 400)]
    index = KeywordIndex.build_windows(rows[::-1][200:] + rows[::-1][:200])  # entries out of rowid order
    for k in (3, 10, 100):
        result = index.query(["common", "rare"], k)
        assert result.top == index.search_terms(["common", "rare"], k)


def test_statistics_estimate_is_close_on_a_large_corpus(monkeypatch):
    monkeypatch.setattr(keyword_query, "EXACT_POSTINGS", 0)
    monkeypatch.setattr(keyword_query, "STATS_SAMPLE", 512)
    rng = np.random.default_rng(7)
    index, _ = _index(rng, n=4000, commits=3)
    estimated = 0
    for terms in _queries(rng, 20):
        result, reference = index.query(terms, 20), index.sparse_scores(terms)
        mean, std = reference.mean_std()
        got_mean, got_std = result.mean_std()
        assert got_mean == pytest.approx(mean, rel=0.05) and got_std == pytest.approx(std, rel=0.05)
        estimated += result.n_exact_terms < len(set(terms) - {"absent"})
    assert estimated >= 5


def test_pruning_reads_fewer_postings_for_a_common_term(monkeypatch):
    monkeypatch.setattr(keyword_query, "EXACT_POSTINGS", 0)
    rng = np.random.default_rng(3)
    index, _ = _index(rng, n=2000, commits=2)
    terms = ["t0", "t1", "t150", "t170", "t190"]
    result = index.query(terms, 10)
    assert result.n_exact_terms < len(terms) and result.postings_read < result.postings_total / 5
    _assert_top_equal(result.top, index.search_terms(terms, 10))


@pytest.mark.parametrize("seed", range(3))
def test_exact_path_is_bit_identical_on_small_corpora(seed):
    rng = np.random.default_rng(50 + seed)
    index, high = _index(rng)
    assert index.n_entries < keyword_query.EXACT_POSTINGS
    for terms in _queries(rng, 10):
        reference = index.sparse_scores(terms)
        result = index.query(terms, 50)
        assert result.exact and result.top == index.top(reference, 50)
        ids = np.arange(high + 2)
        assert result.get(ids).tolist() == reference.get(ids).tolist()
        assert result.mean_std() == reference.mean_std()
        allowed = np.asarray([i for i, _ in result.top[::2]], dtype=np.int64)
        assert index.query(terms, 50, allowed).top == index.top(reference, 50, allowed)


def test_allowed_ids_take_the_exact_path_even_with_many_postings(monkeypatch):
    monkeypatch.setattr(keyword_query, "EXACT_POSTINGS", 0)
    rng = np.random.default_rng(4)
    index, _ = _index(rng, n=300, commits=1)
    allowed = index.unique_ids[::3]
    result = index.query(["t0", "t9"], 20, allowed)
    assert result.exact and result.top == index.search_terms(["t0", "t9"], 20, allowed)


def test_statistics_are_exact_when_both_strata_fit_in_the_sample(monkeypatch):
    """Strata scored in full (no sampling): the pruned path's mean and spread are exact."""
    monkeypatch.setattr(keyword_query, "EXACT_POSTINGS", 0)
    monkeypatch.setattr(keyword_query, "STATS_SAMPLE", 10**6)
    rng = np.random.default_rng(8)
    index, _ = _index(rng, n=800, commits=3)
    pruned = 0
    for terms in _queries(rng, 20):
        result, reference = index.query(terms, 10), index.sparse_scores(terms)
        np.testing.assert_allclose(result.mean_std(), reference.mean_std(), rtol=1e-9)
        pruned += result.n_exact_terms < len(set(terms) - {"absent"})
    assert pruned >= 5
