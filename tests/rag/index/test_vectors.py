"""FAISS search checked against a brute-force NumPy oracle."""

import numpy as np
import pytest

from rag.index.vectors import VectorIndex, resolve_index_type


@pytest.fixture(autouse=True)
def _small_pq(monkeypatch):
    """pq trains on as few vectors as these tests use (its codebooks are then poor, but with
    at most REFINE_CANDIDATES vectors every one is re-scored exactly)."""
    monkeypatch.setattr("rag.index.vectors.PQ_MIN_VECTORS", 32)


def _unit(rng, n, dim):
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _oracle(vectors, ids, query, k, allowed=None):
    scores = vectors @ query
    order = [i for i in np.argsort(-scores, kind="stable") if allowed is None or ids[i] in allowed]
    return [(int(ids[i]), float(scores[i])) for i in order[:k]]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_flat_matches_bruteforce(seed):
    rng = np.random.default_rng(seed)
    vectors = _unit(rng, 500, 32)
    ids = rng.permutation(10_000)[:500].astype(np.int64)  # ids need not be dense
    index = VectorIndex.build(ids, vectors, 32, "flat")
    for query in _unit(rng, 20, 32):
        got = index.search(query, 10)
        want = _oracle(vectors, ids, query, 10)
        assert [i for i, _ in got] == [i for i, _ in want]
        np.testing.assert_allclose([s for _, s in got], [s for _, s in want], rtol=1e-5, atol=1e-5)


def test_filtered_search_matches_bruteforce():
    rng = np.random.default_rng(7)
    vectors = _unit(rng, 300, 16)
    ids = np.arange(1000, 1300, dtype=np.int64)
    index = VectorIndex.build(ids, vectors, 16, "flat")
    allowed = set(rng.choice(ids, 40, replace=False).tolist())
    query = _unit(rng, 1, 16)[0]
    got = index.search(query, 5, allowed_ids=np.array(sorted(allowed)))
    assert [i for i, _ in got] == [i for i, _ in _oracle(vectors, ids, query, 5, allowed)]
    assert index.search(query, 5, allowed_ids=np.array([], dtype=np.int64)) == []


def test_hnsw_recall_close_to_exact():
    rng = np.random.default_rng(3)
    vectors = _unit(rng, 2000, 32)
    ids = np.arange(2000, dtype=np.int64)
    index = VectorIndex.build(ids, vectors, 32, "hnsw")
    found = 0
    queries = _unit(rng, 50, 32)
    for query in queries:
        want = {i for i, _ in _oracle(vectors, ids, query, 10)}
        found += len(want & {i for i, _ in index.search(query, 10)})
    assert found / (10 * len(queries)) >= 0.9


def test_pq_rescored_candidates_find_most_of_the_exact_top_and_filter_exactly(monkeypatch):
    """The quantised scan only picks candidates: with 300 of 3,000 re-scored, most of the
    exact top 10 is found, every returned score is exact, and tombstones and filters hold
    even when the candidates must be widened to find enough allowed ids."""
    monkeypatch.setattr("rag.index.vectors.REFINE_CANDIDATES", 300)
    monkeypatch.setattr("rag.index.vectors.EXACT_ALLOWED", 10)
    rng = np.random.default_rng(9)
    vectors = _unit(rng, 3000, 32)
    ids = np.arange(3000, dtype=np.int64) + 1
    index = VectorIndex.build(ids, vectors, 32, "pq")
    live = np.sort(rng.choice(ids, 2850, replace=False))
    index.restrict(live)
    allowed_many, allowed_few = np.sort(rng.choice(ids, 60, replace=False)), np.sort(rng.choice(ids, 8, replace=False))
    found = 0
    for query in _unit(rng, 40, 32):
        want = {i for i, _ in _live_oracle(vectors, ids, live, query, 10)}
        got = index.search(query, 10)
        found += len(want & {i for i, _ in got})
        assert all(i in set(live.tolist()) for i, _ in got)
        for i, score in got:
            assert score == pytest.approx(float(vectors[i - 1] @ query), abs=1e-3)
        for allowed in (allowed_many, allowed_few):
            got = index.search(query, 5, allowed_ids=allowed)
            expected = _live_oracle(vectors, ids, np.intersect1d(allowed, live), query, 5)
            assert {i for i, _ in got} <= set(np.intersect1d(allowed, live).tolist())
            assert len(got) == len(expected)
        assert [i for i, _ in index.search(query, 5, allowed_ids=allowed_few)] == [
            i for i, _ in _live_oracle(vectors, ids, np.intersect1d(allowed_few, live), query, 5)
        ]
    assert found / 400 >= 0.8


def test_save_load_roundtrip(tmp_path):
    rng = np.random.default_rng(4)
    vectors = _unit(rng, 50, 8)
    ids = np.arange(50, dtype=np.int64) * 3
    index = VectorIndex.build(ids, vectors, 8, "flat")
    path = tmp_path / "v.faiss"
    index.save(path)
    assert not (tmp_path / "v.faiss.tmp").exists()
    loaded = VectorIndex.load(path, "flat")
    assert len(loaded) == 50
    assert loaded.search(vectors[5], 1)[0][0] == 15


def test_empty_index_and_k_bounds():
    index = VectorIndex.build(np.zeros(0, np.int64), np.zeros((0, 4), np.float32), 4)
    assert index.search(np.ones(4, np.float32), 3) == []
    full = VectorIndex.build(np.arange(2, dtype=np.int64), np.eye(2, 4, dtype=np.float32), 4)
    assert len(full.search(np.ones(4, np.float32), 10)) == 2


def test_index_type_choice():
    assert resolve_index_type("auto", 10) == "flat"
    assert resolve_index_type("auto", 10_000_000) == "pq"
    assert resolve_index_type("hnsw", 10) == "hnsw"
    assert resolve_index_type("pq", 10) == "flat"  # too few vectors to train on
    assert resolve_index_type("pq", 40) == "pq"
    with pytest.raises(ValueError):
        resolve_index_type("ivf", 10)


@pytest.mark.parametrize("kind", ["flat", "hnsw", "pq"])
def test_exact_scores_and_score_spread(tmp_path, kind):
    rng = np.random.default_rng(5)
    vectors = _unit(rng, 40, 8)
    ids = np.arange(40, dtype=np.int64) + 1000
    index = VectorIndex.build(ids, vectors, 8, kind)
    index.save(tmp_path / "v.faiss")
    query = vectors[7]
    for loaded in (index, VectorIndex.load(tmp_path / "v.faiss", kind)):
        got = loaded.scores(query, [1003, 1007, 5])  # 5 is not in the index
        tolerance = 1e-3 if kind == "pq" else 1e-6  # pq keeps its full vectors in half precision
        assert set(got) == {1003, 1007}
        assert got[1007] == pytest.approx(1.0, abs=tolerance)
        assert got[1003] == pytest.approx(float(vectors[3] @ query), abs=tolerance)
        mean, std = loaded.score_stats(query)
        want = (float((vectors @ query).mean()), float((vectors @ query).std()))
        assert (mean, std) == pytest.approx(want, abs=tolerance)
    empty = VectorIndex.build(np.zeros(0, np.int64), np.zeros((0, 4), np.float32), 4)
    assert empty.score_stats(np.ones(4, np.float32)) == (0.0, 0.0) and empty.scores(np.ones(4, np.float32), [1]) == {}


# -- incremental updates: added ids, removed ones, tombstones --------------------------------
def _live_oracle(vectors, ids, live, query, k):
    keep = np.isin(ids, live)
    return _oracle(vectors[keep], ids[keep], query, k)


@pytest.mark.parametrize("kind", ["flat", "hnsw", "pq"])
def test_updated_index_searches_as_one_rebuilt_from_scratch(kind):
    rng = np.random.default_rng(21)
    vectors = _unit(rng, 600, 16)
    ids = np.arange(1, 601, dtype=np.int64) * 2  # rowids with gaps
    index = VectorIndex.build(ids[:400], vectors[:400], 16, kind)
    live = np.sort(np.setdiff1d(ids, rng.choice(ids[:400], 30, replace=False)))  # 30 removed, 200 added
    updated = index.updated(ids[400:], vectors[400:], live)
    assert len(index) == 400  # the previous generation's index is left as it was
    assert updated.restrict(live) and len(updated) == len(live)
    assert len(updated.tombstones) == (0 if kind == "flat" else 30)
    rebuilt = VectorIndex.build(live, vectors[np.isin(ids, live)], 16, kind)
    allowed = np.sort(rng.choice(live, 80, replace=False))
    for query in _unit(rng, 15, 16):
        want = _live_oracle(vectors, ids, live, query, 10)
        for candidate in (updated, rebuilt):
            got = candidate.search(query, 10)
            assert [i for i, _ in got] == [i for i, _ in want]
            tolerance = 1e-3 if kind == "pq" else 1e-5
            np.testing.assert_allclose([s for _, s in got], [s for _, s in want], rtol=tolerance, atol=tolerance)
        with_removed = np.union1d(allowed, np.setdiff1d(ids, live)[:5])  # a filter naming removed ids
        assert [i for i, _ in updated.search(query, 10, with_removed)] == [
            i for i, _ in _live_oracle(vectors, ids, allowed, query, 10)
        ]
        assert updated.score_stats(query) == pytest.approx(rebuilt.score_stats(query), abs=1e-6)
    removed = int(np.setdiff1d(ids[:400], live)[0])
    assert removed not in updated.scores(vectors[0], [removed, int(live[0])])


def test_restrict_finds_tombstones_and_stale_files(tmp_path):
    rng = np.random.default_rng(22)
    vectors = _unit(rng, 100, 8)
    ids = np.arange(100, dtype=np.int64)
    index = VectorIndex.build(ids, vectors, 8, "hnsw")
    index.save(tmp_path / "v.faiss")
    loaded = VectorIndex.load(tmp_path / "v.faiss")
    assert loaded.kind == "hnsw" and loaded.dim == 8
    assert loaded.restrict(ids[10:]) and loaded.tombstones.tolist() == list(range(10))
    assert loaded.tombstone_fraction == pytest.approx(0.1) and len(loaded) == 90
    assert all(i >= 10 for i, _ in loaded.search(vectors[3], 20))
    assert not loaded.restrict(np.arange(10, 101, dtype=np.int64))  # 100: a chunk the file lacks
    with pytest.raises(ValueError, match="not flat"):
        VectorIndex.load(tmp_path / "v.faiss", "flat")
