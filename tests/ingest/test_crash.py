"""Kill a real ingestion process mid-way: the previous index must still load, and the next run completes."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from ingest.chunking import ChunkingParams
from ingest.pipeline import ingest
from rag.index import Index
from rag.testing import HashingEmbedder

PARAMS = ChunkingParams(max_tokens=30, overlap_tokens=5)

# The child ingests with an embedder slowed down so that there is a "mid-way" to kill it in.
CHILD = """
import sys, time
from ingest.chunking import ChunkingParams
from ingest.pipeline import ingest
from rag.testing import HashingEmbedder

class Slow(HashingEmbedder):
    def embed_passages(self, texts):
        time.sleep(0.02 * len(texts))
        return super().embed_passages(texts)

ingest([sys.argv[1]], sys.argv[2], Slow(64), ChunkingParams(30, 5), progress=False)
"""


def _corpus(root, n_files, tag):
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n_files):
        sentences = " ".join(f"Le document {tag}{i} parle du sujet {j} et de la ville {i * j}." for j in range(60))
        (root / f"{tag}{i}.txt").write_text(sentences, encoding="utf-8")


def _state(index_dir):
    with Index.open(index_dir) as index:
        sources = sorted(d.source for d in index.store.documents())
        n_chunks = index.store.count_chunks()
        assert len(index.vectors()) == n_chunks
        return sources, n_chunks


def _staged(index_dir) -> int:
    try:
        with sqlite3.connect(index_dir / "chunks.sqlite", timeout=1) as db:
            return db.execute("SELECT COUNT(*) FROM staged_vectors").fetchone()[0]
    except sqlite3.Error:
        return 0


def _spawn(root, index_dir):
    return subprocess.Popen([sys.executable, "-c", CHILD, str(root), str(index_dir)])


@pytest.mark.parametrize("kill_after", ["staged", "early", "late"])
def test_kill_mid_ingestion_keeps_old_index_and_next_run_completes(tmp_path, kill_after):
    root, index_dir = tmp_path / "docs", tmp_path / "index"
    _corpus(root, 2, "old")
    ingest([root], index_dir, HashingEmbedder(64), PARAMS, progress=False)
    before = _state(index_dir)

    _corpus(root, 6, "new")
    child = _spawn(root, index_dir)
    deadline = time.monotonic() + 60
    if kill_after == "staged":  # while embedding, once some vectors are staged
        while _staged(index_dir) == 0 and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.01)
    elif kill_after == "early":  # while scanning, reading or chunking
        time.sleep(0.3)
    else:  # as late as possible: near the end of embedding
        while _staged(index_dir) < 60 and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.01)
    assert child.poll() is None, "the ingestion finished before it could be killed; make the corpus larger"
    child.send_signal(signal.SIGKILL)
    child.wait()

    assert _state(index_dir) == before  # the old index loads and is unchanged

    report = ingest([root], index_dir, HashingEmbedder(64), PARAMS, progress=False)
    assert report.ok and report.counts["added"] == 6
    sources, n_chunks = _state(index_dir)
    assert len(sources) == 8 and n_chunks > before[1]
    if kill_after != "early":
        assert report.chunks_reused > 0  # the killed run's staged vectors were not thrown away
    assert _staged(index_dir) == 0
