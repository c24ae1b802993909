"""Fixtures for the format readers' tests: read one file, or ingest it end to end (hashing embedder)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.chunking import ChunkingParams
from ingest.pipeline import ingest
from ingest.readers import read_document
from rag.index import Index
from rag.testing import HashingEmbedder

PARAMS = ChunkingParams(max_tokens=60, overlap_tokens=8)
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


@pytest.fixture
def ingest_file(tmp_path):
    """``ingest_file(name, data)`` -> (document record, its chunks in order); the file must be added."""

    def run(name: str, data: bytes):
        root = tmp_path / "docs"
        root.mkdir(exist_ok=True)
        (root / name).write_bytes(data)
        report = ingest([root / name], tmp_path / "index", HashingEmbedder(64), PARAMS, progress=False)
        outcome = next(f for f in report.files if f.source == name)
        assert outcome.status == "added", (outcome.status, outcome.reason)
        with Index.open(tmp_path / "index") as index:
            record = next(d for d in index.store.documents() if d.source == name)
            text = index.store.document_text(record.doc_id)
            chunks = sorted((c for _, c in index.store.iter_chunks() if c.source == name), key=lambda c: c.start)
        for chunk in chunks:
            assert text[chunk.start : chunk.end] == chunk.text
        return record, chunks

    return run


@pytest.fixture
def read_file(tmp_path):
    """``read_file(name, data)`` -> the SourceDoc ``read_document`` makes of it."""

    def run(name: str, data: bytes):
        path = tmp_path / name
        path.write_bytes(data)
        return read_document(path, tmp_path)

    return run


@pytest.fixture
def make_pdf():
    """``make_pdf(pages)``: a PDF with a text layer, one line per entry, one page per list."""
    from tests.ingest.readers import files

    return files.make_pdf
