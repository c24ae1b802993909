"""Incremental commits: the derived files updated from the previous generation search exactly
like files rebuilt from the store, stay crash-safe at every step, and readers follow them."""

from __future__ import annotations

import numpy as np
import pytest

from rag.index import Index
from rag.index.derived import DerivedFiles
from rag.index.keywords import KeywordIndex
from rag.index.store import DocumentRecord
from rag.types import Chunk

CHUNKING = {"chunker": "test", "max_tokens": 50, "overlap_tokens": 5}
DIM = 16
VOCAB = [f"w{i}" for i in range(30)]
QUERIES = [["w0"], ["w1", "w7"], ["w3", "w3", "w12", "absent"], ["w25", "w2", "w9"]]


def _centres(seed=0):
    x = np.random.default_rng(seed).standard_normal((5, DIM))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _add(index, source, n, rng):
    """A document of ``n`` chunks: clustered unit vectors, Zipf-like terms in 1..5 sentences."""
    index.store.add_document(DocumentRecord(source, source, "/", "txt", 1, 1, 1, n, 0.0), "x" * n)
    chunks = [Chunk(f"{source}:{i}", source, source, "x", i, i + 1) for i in range(n)]
    weights = 1.0 / np.arange(1, len(VOCAB) + 1)
    terms = [
        "|".join(" ".join(rng.choice(VOCAB, rng.integers(0, 5), p=weights / weights.sum())) for _ in range(5))
        for _ in range(n)
    ]
    vectors = _centres()[rng.integers(0, 5, n)] + 0.3 * rng.standard_normal((n, DIM))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index.store.add_chunks(chunks, [c.chunk_id for c in chunks], terms, vectors)


def _commit(index, rng, add=(), remove=()):
    with index.store.transaction():
        for source in remove:
            index.store.delete_document(source)
        for source, n in add:
            _add(index, source, n, rng)
        index.store.set_meta({"generation": str(index.generation + 1)})
    index.commit_generation({})


def _rebuilt(index):
    """The search indexes built from the store alone, as if no derived file existed."""
    files = DerivedFiles(index.directory, index.store)
    _, live = index.store.snapshot()
    return files.build_vectors(live), files.build_keywords(live)


def _assert_same_results(got, want, rng):
    (vectors, keywords), (rebuilt_vectors, rebuilt_keywords) = got, want
    assert len(vectors) == len(rebuilt_vectors) and keywords.n_chunks == rebuilt_keywords.n_chunks
    assert keywords.unique_ids.tolist() == rebuilt_keywords.unique_ids.tolist()
    for terms in QUERIES:
        mine, theirs = keywords.sparse_scores(terms), rebuilt_keywords.sparse_scores(terms)
        assert mine.ids.tolist() == theirs.ids.tolist()
        np.testing.assert_allclose(mine.scores, theirs.scores, rtol=1e-12)
        np.testing.assert_allclose(mine.mean_std(), theirs.mean_std(), rtol=1e-12)
        top, rebuilt_top = keywords.search_terms(terms, 10), rebuilt_keywords.search_terms(terms, 10)
        assert [i for i, _ in top] == [i for i, _ in rebuilt_top]
        np.testing.assert_allclose([s for _, s in top], [s for _, s in rebuilt_top], rtol=1e-12)
    for query in _centres()[:3] + 0.1 * rng.standard_normal((3, DIM)):
        assert [i for i, _ in vectors.search(query, 10)] == [i for i, _ in rebuilt_vectors.search(query, 10)]
        assert vectors.score_stats(query) == pytest.approx(rebuilt_vectors.score_stats(query), abs=1e-6)


@pytest.mark.parametrize("kind", ["flat", "hnsw", "pq"])
def test_incremental_commits_search_like_a_rebuild(tmp_path, kind, monkeypatch):
    monkeypatch.setattr("rag.index.vectors.PQ_MIN_VECTORS", 64)  # every vector is re-scored: exact
    rng = np.random.default_rng(1)
    with Index.open_for_write(tmp_path, "fake", DIM, CHUNKING, index_type=kind) as index:
        _commit(index, rng, add=[(f"d{i}", 20) for i in range(10)])
        first_segment = index.keywords().segments[0]
        for step in range(8):
            gone = [f"d{j}" for j in rng.choice(10 + step, 1, replace=False)] if step % 2 else []
            _commit(index, rng, add=[(f"n{step}", 8)], remove=gone)
            _assert_same_results(index.searchers(), _rebuilt(index), rng)
            if step < 2:  # updated, not rebuilt (later, deletions past 30% purge it)
                assert index.keywords().segments[0] is first_segment
        vectors, keywords = index.searchers()
        assert len(keywords.segments) >= 2 and len(keywords.segments) < 9  # merged along the way
        assert len(vectors.tombstones) == (0 if kind == "flat" else len(vectors.ids()) - len(vectors))
        names = {p.name for p in tmp_path.iterdir()}
        assert names >= {f"vectors-{index.generation}.faiss", f"keyword-{index.generation}.npz"}
        on_disk = sorted(n for n in names if n.startswith("kwseg-"))
        assert on_disk == sorted(s.name for s in keywords.segments)  # unused segments removed
        with Index.open(tmp_path) as reader:  # a reader loads the same from the files
            _assert_same_results(reader.searchers(), _rebuilt(index), rng)
            assert len(reader.vectors().tombstones) == len(vectors.tombstones)


def test_a_new_writer_updates_from_the_files_on_disk_and_readers_reuse_segments(tmp_path):
    rng = np.random.default_rng(2)
    with Index.open_for_write(tmp_path, "fake", DIM, CHUNKING) as index:
        _commit(index, rng, add=[(f"d{i}", 10) for i in range(5)])
        segment = index.keywords().segments[0].name
    reader = Index.open(tmp_path)
    loaded = reader.keywords().segments[0]
    with Index.open_for_write(tmp_path, "fake", DIM, CHUNKING) as index:  # nothing loaded yet
        _commit(index, rng, add=[("e", 5)], remove=["d1"])
        assert [s.name for s in index.keywords().segments] == [segment, index.keywords().segments[1].name]
        _assert_same_results(index.searchers(), _rebuilt(index), rng)
        _assert_same_results(reader.searchers(), _rebuilt(index), rng)
    assert reader.generation == 2 and reader.keywords().segments[0] is loaded  # not read again
    reader.close()


def test_a_store_from_before_rowid_high_gets_it_before_any_deletion(tmp_path):
    rng = np.random.default_rng(6)
    with Index.open_for_write(tmp_path, "fake", DIM, CHUNKING) as index:
        _commit(index, rng, add=[("a", 3), ("b", 3)])
        with index.store.transaction():
            index.store._db.execute("DELETE FROM meta WHERE key = 'rowid_high'")  # an older store
    with Index.open_for_write(tmp_path, "fake", DIM, CHUNKING) as index:
        _commit(index, rng, add=[("b", 3)], remove=["b"])
        assert index.store.snapshot()[1].tolist() == [1, 2, 3, 7, 8, 9]
        _assert_same_results(index.searchers(), _rebuilt(index), rng)


def test_hnsw_is_rebuilt_past_the_tombstone_limit_and_on_crossing_the_threshold(tmp_path, monkeypatch):
    monkeypatch.setattr("rag.index.vectors.LARGE_THRESHOLD", 100)
    monkeypatch.setattr("rag.index.vectors.LARGE_KIND", "hnsw")
    rng = np.random.default_rng(3)
    with Index.open_for_write(tmp_path, "fake", DIM, CHUNKING) as index:
        _commit(index, rng, add=[(f"d{i}", 10) for i in range(9)])
        assert index.vectors().kind == "flat"
        _commit(index, rng, add=[("d9", 10), ("d10", 10)])  # 110 chunks: HNSW
        assert index.vectors().kind == "hnsw" and len(index.vectors().tombstones) == 0
        _commit(index, rng, remove=["d0"])  # 10 of 110: tombstones, under the limit
        assert len(index.vectors().tombstones) == 10 and len(index.vectors()) == 100
        _assert_same_results(index.searchers(), _rebuilt(index), rng)
        _commit(index, rng, add=[("d11", 10), ("d12", 10)], remove=["d1", "d2"])  # 30 of 130 removed: rebuilt
        assert index.vectors().kind == "hnsw" and len(index.vectors().tombstones) == 0
        _assert_same_results(index.searchers(), _rebuilt(index), rng)
        _commit(index, rng, remove=["d3"])  # 90 chunks: back to flat
        assert index.vectors().kind == "flat" and len(index.vectors()) == 90
        _assert_same_results(index.searchers(), _rebuilt(index), rng)


def test_rowids_are_never_reused(tmp_path):
    rng = np.random.default_rng(4)
    with Index.open_for_write(tmp_path, "fake", DIM, CHUNKING) as index:
        _commit(index, rng, add=[("a", 3), ("b", 3)])
        _, before = index.store.snapshot()
        _commit(index, rng, add=[("b", 3)], remove=["b"])  # the last document replaced: new rowids
        _, after = index.store.snapshot()
        assert after.tolist() == before[:3].tolist() + [7, 8, 9]
        _assert_same_results(index.searchers(), _rebuilt(index), rng)


# -- crash safety: a kill at each step of a commit --------------------------------------------
class Killed(Exception):
    pass


def _kill_at(monkeypatch, what):
    """Make the commit die right after ``what`` is written ("segment", "vectors", "keywords")."""
    from rag.index import derived, segments

    if what == "segment":
        real = segments.Segment.save

        def dies(self, directory):
            real(self, directory)
            raise Killed

        monkeypatch.setattr(segments.Segment, "save", dies)
    elif what == "vectors":
        monkeypatch.setattr(KeywordIndex, "save", lambda *a, **k: (_ for _ in ()).throw(Killed()))
    else:
        monkeypatch.setattr(derived.DerivedFiles, "remove_unused", lambda *a: (_ for _ in ()).throw(Killed()))


@pytest.mark.parametrize("what", ["segment", "vectors", "keywords"])
def test_a_commit_killed_at_any_step_leaves_a_searchable_index_that_the_next_writer_repairs(
    tmp_path, monkeypatch, what
):
    rng = np.random.default_rng(5)
    with Index.open_for_write(tmp_path, "fake", DIM, CHUNKING) as index:
        _commit(index, rng, add=[(f"d{i}", 10) for i in range(4)])
    reader = Index.open(tmp_path)
    old_pair = reader.searchers()
    with Index.open_for_write(tmp_path, "fake", DIM, CHUNKING) as index:
        with monkeypatch.context() as patch:
            _kill_at(patch, what)
            with pytest.raises(Killed):
                _commit(index, rng, add=[("e", 10)], remove=["d0"])
        want = _rebuilt(index)
    assert reader.searchers() is not old_pair and reader.generation == 2
    _assert_same_results(reader.searchers(), want, rng)  # the files written, or rebuilt in memory
    assert len(old_pair[1].search_terms(["w0"], 50)) > 0  # the old generation still searches
    with Index.open_for_write(tmp_path, "fake", DIM, CHUNKING) as index:
        assert not index.derived_current()  # the manifest is still the last generation's
        index.refresh_derived({})
        assert index.derived_current()
        _assert_same_results(index.searchers(), want, rng)
        used = {s.name for s in index.keywords().segments}
    assert {p.name for p in tmp_path.glob("kwseg-*")} == used  # what the killed commit left is gone
    assert not list(tmp_path.glob("*.tmp*"))
    with Index.open(tmp_path) as fresh:
        _assert_same_results(fresh.searchers(), want, rng)
    reader.close()
