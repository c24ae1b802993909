"""The index directory: created for writing under a lock, its identity checked on every open,
derived files per generation, the manifest, and a clear error when there is nothing."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from rag.errors import IndexLockedError, IndexMismatchError, IndexNotFoundError
from rag.index import MANIFEST_FILE, STORE_FILE, Index

CHUNKING = {"chunker": "test", "max_tokens": 50, "overlap_tokens": 5}


def _write(directory):
    """An index of two small documents, committed as generation 1 (the pipeline writes it)."""
    from ingest.chunking import ChunkingParams
    from ingest.pipeline import ingest
    from rag.testing import HashingEmbedder

    docs = directory / "docs"
    docs.mkdir(parents=True)
    (docs / "a.txt").write_text("Un chat dort sur le canapé.", encoding="utf-8")
    (docs / "b.txt").write_text("Le pain cuit dans un four à bois.", encoding="utf-8")
    ingest([docs], directory / "index", HashingEmbedder(16), ChunkingParams(50, 5), progress=False)
    return directory / "index"


def test_nothing_there_says_how_to_create_it(tmp_path):
    with pytest.raises(IndexNotFoundError, match="rag ingest"):
        Index.open(tmp_path / "none")


def test_one_writer_at_a_time(tmp_path):
    with Index.open_for_write(tmp_path, "fake-2", 2, CHUNKING):
        with pytest.raises(IndexLockedError, match=rf"Another ingestion \(process {os.getpid()}\)"):
            Index.open_for_write(tmp_path, "fake-2", 2, CHUNKING, wait=False)
    Index.open_for_write(tmp_path, "fake-2", 2, CHUNKING, wait=False).close()  # released


def test_a_second_writer_waits_its_turn(tmp_path):
    first = Index.open_for_write(tmp_path, "fake-2", 2, CHUNKING)
    waited: list[int | None] = []
    timer = threading.Timer(0.5, first.close)
    timer.start()
    started = time.monotonic()
    with Index.open_for_write(tmp_path, "fake-2", 2, CHUNKING, on_wait=waited.append):
        assert time.monotonic() - started >= 0.4
    timer.join()
    assert waited == [os.getpid()]  # told once, with the holder's process id


def test_identity_is_checked_on_open(tmp_path):
    Index.open_for_write(tmp_path, "fake-2", 2, CHUNKING).close()
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        Index.open(tmp_path, embedder_id="other")
    with Index.open(tmp_path) as index:
        assert (index.embedder_id, index.dim, index.chunking) == ("fake-2", 2, CHUNKING)
    directory = _write(tmp_path / "full")
    with pytest.raises(IndexMismatchError, match="chunking"):
        Index.open_for_write(directory, "hashing-bow-16", 16, {**CHUNKING, "max_tokens": 60})


def test_an_empty_index_takes_the_identity_asked_for(tmp_path):
    """Nothing to lose: a first run killed before its first commit does not pin an identity."""
    Index.open_for_write(tmp_path, "fake-2", 2, CHUNKING).close()
    Index.open_for_write(tmp_path, "fake-3", 3, {**CHUNKING, "max_tokens": 60}).close()
    with Index.open(tmp_path) as index:
        assert (index.embedder_id, index.dim, index.chunking["max_tokens"]) == ("fake-3", 3, 60)


def test_a_commit_writes_the_generations_files_and_the_manifest(tmp_path):
    directory = _write(tmp_path)
    names = {p.name for p in directory.iterdir()}
    assert {STORE_FILE, MANIFEST_FILE, "vectors-1.faiss", "keyword-1.npz"} <= names
    manifest = json.loads((directory / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert manifest["generation"] == 1 and manifest["stats"]["chunks"] == 2
    with Index.open(directory) as index:
        assert index.derived_current()
        ids, vectors = index.store.all_vectors(16)
        (directory / "vectors-1.faiss").unlink()  # a crash between the commit and the write
        best = index.search_dense(vectors[1], 1)  # rebuilt from the store, same answer
        assert best[0][0] == ids[1] and best[0][1] == pytest.approx(1.0, abs=1e-5)


def test_searchers_are_one_generation_and_follow_commits(tmp_path):
    from ingest.chunking import ChunkingParams
    from ingest.pipeline import ingest
    from rag.testing import HashingEmbedder

    directory = _write(tmp_path)
    with Index.open(directory) as reader:
        vectors, keywords = reader.searchers()
        assert len(vectors) == len(keywords.unique_ids) == 2
        assert reader.searchers()[0] is vectors  # cached while the generation stands
        (tmp_path / "docs" / "c.txt").write_text("Le marché se tient le samedi.", encoding="utf-8")
        ingest([tmp_path / "docs"], directory, HashingEmbedder(16), ChunkingParams(50, 5), progress=False)
        vectors, keywords = reader.searchers()  # the reader opened before sees the commit
        assert reader.generation == 2 and len(vectors) == len(keywords.unique_ids) == 3
