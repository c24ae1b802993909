"""BM25 against a direct NumPy implementation of the same formula."""

import math
from collections import Counter

import numpy as np
import pytest

from rag.index.keywords import KeywordIndex
from rag.text.analysis import analyze

DOCS = [
    "Le chat dort sur le canapé du salon.",
    "Les chats et les chiens jouent dans le jardin.",
    "La bourse de Paris a clôturé en hausse, portée par le luxe.",
    "Un chien aboie. Le chien du voisin aboie encore.",
    "Le salon de l'agriculture ouvre ses portes à Paris.",
]


def _oracle(query, docs, k1=1.2, b=0.75):
    terms = [analyze(d) for d in docs]
    n, avgdl = len(docs), sum(map(len, terms)) / len(docs)
    scores = np.zeros(n)
    for term, qtf in Counter(analyze(query)).items():
        df = sum(term in t for t in terms)
        if not df:
            continue
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        for i, t in enumerate(terms):
            tf = t.count(term)
            scores[i] += qtf * idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(t) / avgdl))
    return scores


@pytest.mark.parametrize("query", ["chien", "le chat du salon", "Paris bourse", "aboie chiens jardin", "absent"])
def test_bm25_matches_oracle(query):
    index = KeywordIndex.build((100 + i, analyze(d)) for i, d in enumerate(DOCS))
    want = _oracle(query, DOCS)
    got = index.search(query, 10)
    expected = [(100 + i, want[i]) for i in np.argsort(-want, kind="stable") if want[i] > 0]
    assert [i for i, _ in got] == [i for i, _ in expected]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in expected], rtol=1e-5)


def test_filter_and_k(tmp_path):
    index = KeywordIndex.build((i, analyze(d)) for i, d in enumerate(DOCS))
    assert [i for i, _ in index.search("chien", 10, allowed_ids=np.array([3]))] == [3]
    assert len(index.search("le chien chat salon paris", 2)) == 2
    path = tmp_path / "k.npz"
    index.save(path)
    loaded = KeywordIndex.load(path)
    assert loaded.search("chien", 5) == index.search("chien", 5)


def test_empty_index():
    assert KeywordIndex.build([]).search("chat", 3) == []


def test_id_scores_take_each_ids_best_entry_in_any_order():
    entries = [(7, "le chat dort"), (7, "chat noir et chat gris"), (2, "un chien"), (9, "chat"), (2, "chat")]
    for order in (entries, entries[::-1], [entries[i] for i in (2, 0, 3, 1, 4)]):
        index = KeywordIndex.build((i, analyze(text)) for i, text in order)
        per_entry = [index.search_terms(analyze("chat"), 10, np.array([i])) for i in (2, 7, 9)]
        scores = index.id_scores(analyze("chat"))
        assert index.unique_ids.tolist() == [2, 7, 9]
        assert scores.tolist() == pytest.approx([found[0][1] for found in per_entry])
        assert index.id_scores(analyze("absent")).tolist() == [0.0, 0.0, 0.0]
    assert KeywordIndex.build([]).id_scores(analyze("chat")).size == 0


# -- sparse scoring and segments, against the dense implementation this module replaced --------
def _dense_reference(entries, terms, k1=1.2, b=0.75):
    """The previous dense BM25: every entry scored, each id's best entry; (unique ids, scores)."""
    ids = np.asarray([i for i, _ in entries], dtype=np.int64)
    doc_len = np.asarray([len(t) for _, t in entries], dtype=np.float64)
    n, avgdl = len(entries), doc_len.mean()
    scores = np.zeros(n)
    for term, qtf in Counter(terms).items():
        docs = np.asarray([p for p, (_, t) in enumerate(entries) if term in t], dtype=np.int64)
        if not len(docs):
            continue
        tf = np.asarray([entries[p][1].count(term) for p in docs], dtype=np.float32)
        idf = np.log(1.0 + (n - len(docs) + 0.5) / (len(docs) + 0.5))
        norm = k1 * (1.0 - b + b * doc_len[docs] / avgdl)
        scores[docs] += qtf * idf * tf * (k1 + 1.0) / (tf + norm)
    unique = np.unique(ids)
    best = np.zeros(len(unique))
    np.maximum.at(best, np.searchsorted(unique, ids), scores)
    return unique, best


VOCAB = [f"t{i}" for i in range(40)]


def _random_chunks(rng, first_id, n):
    """(rowid, per-sentence terms) of ``n`` chunks; Zipf-like term use, some empty sentences."""
    weights = 1.0 / np.arange(1, len(VOCAB) + 1)
    weights /= weights.sum()
    return [
        (first_id + i, [list(rng.choice(VOCAB, rng.integers(0, 6), p=weights)) for _ in range(rng.integers(1, 6))])
        for i in range(n)
    ]


def _windows(rows, window=3):
    return [
        (rowid, [t for s in sentences[i : i + window] for t in s])
        for rowid, sentences in rows
        for i in range(max(1, len(sentences) - window + 1))
    ]


def _queries(rng, n=12):
    return [list(rng.choice(VOCAB + ["absent"], rng.integers(1, 6))) for _ in range(n)]


def _assert_same_as_reference(index, rows, queries):
    live = [(rowid, sentences) for rowid, sentences in rows]
    unique, _ = _dense_reference(_windows(live), [])
    assert index.unique_ids.tolist() == unique.tolist() and index.n_chunks == len(unique)
    for terms in queries:
        ref_ids, ref = _dense_reference(_windows(live), terms)
        sparse = index.sparse_scores(terms)
        touched = ref > 0
        assert sparse.ids.tolist() == ref_ids[touched].tolist()
        np.testing.assert_allclose(sparse.scores, ref[touched], rtol=1e-12)
        np.testing.assert_allclose(index.id_scores(terms), ref, rtol=1e-12)
        np.testing.assert_allclose(sparse.mean_std(), (ref.mean(), ref.std()), rtol=1e-9, atol=1e-12)
        order = sorted(np.flatnonzero(touched), key=lambda p: (-ref[p], ref_ids[p]))[:7]
        got = index.search_terms(terms, 7)
        assert [i for i, _ in got] == [int(ref_ids[p]) for p in order]
        np.testing.assert_allclose([s for _, s in got], ref[order], rtol=1e-12)


@pytest.fixture(params=["sorted", "dense"], autouse=False)
def summing(request, monkeypatch):
    """Both ways of summing an entry's terms: sorting the touched entries, or one array."""
    monkeypatch.setattr("rag.index.keywords.DENSE_FRACTION", 0 if request.param == "sorted" else 10**9)
    return request.param


@pytest.mark.parametrize("seed", range(6))
def test_sparse_scores_equal_the_dense_reference(seed, summing):
    rng = np.random.default_rng(seed)
    rows = _random_chunks(rng, 1, int(rng.integers(1, 80)))
    _assert_same_as_reference(KeywordIndex.build_windows(rows), rows, _queries(rng))


@pytest.mark.parametrize("seed", range(6))
def test_segments_with_deletions_score_as_one_index_rebuilt_from_scratch(seed, summing):
    """Commit after commit (new segment, deletions, merges): the scores stay those of one
    index built over the live chunks only, and the statistics are global."""
    from rag.index.segments import Segment

    rng = np.random.default_rng(100 + seed)
    rows = _random_chunks(rng, 1, 30)
    index, next_id = KeywordIndex.build_windows(rows), 31
    n_segments = []
    for _ in range(12):
        added = _random_chunks(rng, next_id, int(rng.integers(0, 15)))
        next_id += len(added) + int(rng.integers(0, 3))  # gaps: rowids of chunks never committed
        gone = set(rng.choice([r for r, _ in rows], int(rng.integers(0, 6)), replace=False).tolist()) if rows else set()
        rows = [r for r in rows if r[0] not in gone] + added
        live = np.asarray(sorted(r for r, _ in rows), dtype=np.int64)
        index = index.with_added(Segment.build_windows(added), live)
        n_segments.append(len(index.segments))
        _assert_same_as_reference(index, rows, _queries(rng, 4))
        rebuilt = KeywordIndex.build_windows(sorted(rows))
        for term in VOCAB[:5] + ["absent"]:
            assert index.idf(term) == pytest.approx(rebuilt.idf(term), rel=1e-12)
    assert max(n_segments) > 1  # segments did accumulate, and were merged
    assert n_segments[-1] < 12


def test_allowed_ids_restrict_sparse_results():
    rng = np.random.default_rng(9)
    rows = _random_chunks(rng, 1, 60)
    index = KeywordIndex.build_windows(rows)
    terms = ["t0", "t3"]
    everything = index.search_terms(terms, 100)
    allowed = np.asarray([r for r, _ in everything[::3]] + [10_000], dtype=np.int64)
    assert index.search_terms(terms, 100, allowed) == everything[::3]
    assert index.search_terms(terms, 100, np.zeros(0, dtype=np.int64)) == []


def test_generation_file_names_its_segments_and_reuses_loaded_ones(tmp_path):
    from rag.index.segments import Segment

    rng = np.random.default_rng(11)
    rows = _random_chunks(rng, 1, 20)
    first = KeywordIndex.build_windows(rows)
    first.save(tmp_path / "keyword-1.npz", store="s1")
    live = np.arange(1, 31, dtype=np.int64)
    second = first.with_added(Segment.build_windows(_random_chunks(rng, 21, 10)), live)
    second.save(tmp_path / "keyword-2.npz", store="s1")
    assert len(list(tmp_path.glob("kwseg-*.npz"))) == 2  # the first segment was not written again
    loaded = KeywordIndex.load(tmp_path / "keyword-2.npz", live, "s1", known=first.segments)
    assert loaded.segments[0] is first.segments[0] and loaded.segments[1] is not second.segments[1]
    assert loaded.search_terms(["t1", "t2"], 10) == second.search_terms(["t1", "t2"], 10)
    with pytest.raises(ValueError, match="another store"):
        KeywordIndex.load(tmp_path / "keyword-2.npz", live, "s2")
