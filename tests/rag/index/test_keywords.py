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
