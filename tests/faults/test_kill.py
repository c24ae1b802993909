"""Crash safety: real ``rag`` commands killed with SIGKILL (a fast subset of ``python -m eval.faults``),
and the states a kill can leave, built deterministically."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

from eval.faults import run_trials, summary
from ingest.chunking import ChunkingParams
from ingest.pipeline import ingest, remove_documents
from rag.index import MANIFEST_FILE, STORE_FILE, Index
from rag.testing import HashingEmbedder
from tests.faults.helpers import rag, small_corpus

PARAMS = ChunkingParams(40, 5)


def test_five_kill_trials_all_pass(tmp_path):
    trials = run_trials(5, seed=1, workdir=tmp_path)
    assert {t.kind for t in trials} == {"first", "incremental", "remove"}
    assert all(t.passed for t in trials), summary(trials)


def test_an_empty_store_file_is_a_new_index_not_a_broken_one(tmp_path):
    """The issue's deterministic reproduction: `touch IDX/chunks.sqlite`, then ingest."""
    corpus, index = small_corpus(tmp_path / "docs"), tmp_path / "index"
    index.mkdir()
    (index / STORE_FILE).touch()
    for command in (["index", "info"], ["search", "pain"]):
        done = rag(*command, "--index", str(index))
        assert done.returncode == 2 and "empty" in done.stderr and "rag ingest" in done.stderr
        assert (index / STORE_FILE).stat().st_size == 0  # readers wrote nothing into it
    done = rag("ingest", str(corpus), "--index", str(index), "--embedder", "hashing-64")
    assert done.returncode == 0, done.stderr
    assert rag("search", "pain", "--index", str(index)).returncode == 0


def test_a_first_run_killed_inside_its_first_transaction_is_a_new_index(tmp_path):
    """Killed before the store switched to WAL, a run leaves a rollback journal that readers may
    not roll back (mode=ro): they say there is no index yet; the next writer rolls it back."""
    index = tmp_path / "index"
    index.mkdir()
    code = (
        "import os, sqlite3, sys; db = sqlite3.connect(sys.argv[1], isolation_level=None); "
        "db.execute('PRAGMA cache_size = 1'); db.execute('BEGIN'); db.execute('CREATE TABLE t (x BLOB)'); "
        "[db.execute('INSERT INTO t VALUES (zeroblob(4096))') for _ in range(200)]; os._exit(9)"
    )
    subprocess.run([sys.executable, "-c", code, str(index / STORE_FILE)], check=False)
    assert (index / f"{STORE_FILE}-journal").stat().st_size > 0  # the hot journal is there
    for command in (["index", "info"], ["search", "pain"]):
        done = rag(*command, "--index", str(index))
        assert done.returncode == 2 and "did not finish" in done.stderr and "rag ingest" in done.stderr, done.stderr
    done = rag("ingest", str(small_corpus(tmp_path / "docs")), "--index", str(index), "--embedder", "hashing-64")
    assert done.returncode == 0 and "3 added" in done.stdout, done.stderr


def test_a_store_with_tables_but_no_identity_is_completed(tmp_path):
    """What the previous version left when killed between creating the tables and the identity."""
    corpus, index = small_corpus(tmp_path / "docs"), tmp_path / "index"
    index.mkdir()
    with sqlite3.connect(index / STORE_FILE) as db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    report = ingest([corpus], index, HashingEmbedder(32), PARAMS, progress=False)
    assert report.ok and report.counts["added"] == 3


def _state(index_dir):
    with Index.open(index_dir) as index:
        return sorted(d.source for d in index.store.documents()), index.generation, index.derived_current()


def test_a_kill_after_the_commit_of_remove_is_repaired_by_the_next_writer(tmp_path, monkeypatch):
    corpus, index_dir = small_corpus(tmp_path / "docs"), tmp_path / "index"
    ingest([corpus], index_dir, HashingEmbedder(32), PARAMS, progress=False)

    def killed(self, stats):
        raise SystemExit("killed between the commit and the derived files")

    with monkeypatch.context() as patch:
        patch.setattr(Index, "commit_generation", killed)
        try:
            remove_documents(index_dir, ["b.txt"])
        except SystemExit:
            pass
    sources, generation, current = _state(index_dir)
    assert sources == ["a.txt", "c.txt"] and generation == 2 and not current
    with Index.open(index_dir) as index:  # a reader rebuilds in memory, never fails
        assert len(index.vectors()) == index.store.count_chunks() == len(index.keywords().unique_ids)
    assert remove_documents(index_dir, ["b.txt"]) == []  # nothing to remove: still repairs
    sources, generation, current = _state(index_dir)
    assert current and generation == 2
    manifest = json.loads((index_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert manifest["generation"] == 2 and manifest["stats"]["documents"] == 2
    assert sorted(p.name for p in index_dir.glob("vectors-*")) == ["vectors-2.faiss"]


def test_a_stale_or_damaged_derived_file_is_rebuilt_from_the_store(tmp_path):
    corpus, index_dir = small_corpus(tmp_path / "docs"), tmp_path / "index"
    ingest([corpus], index_dir, HashingEmbedder(32), PARAMS, progress=False)
    (corpus / "d.txt").write_text("Le moulin broie le seigle. Le meunier livre la farine.", encoding="utf-8")
    old_vectors = (index_dir / "vectors-1.faiss").read_bytes()
    ingest([corpus], index_dir, HashingEmbedder(32), PARAMS, progress=False)
    (index_dir / "vectors-2.faiss").write_bytes(old_vectors)  # stale: one document short
    (index_dir / "keyword-2.npz").write_bytes(b"not a numpy file")  # damaged
    (index_dir / "vectors-9.faiss.tmp").write_bytes(b"half written")  # a killed writer's leftover
    with Index.open(index_dir) as index:
        n = index.store.count_chunks()
        assert len(index.vectors()) == n and len(index.keywords().unique_ids) == n
    report = ingest([corpus], index_dir, HashingEmbedder(32), PARAMS, progress=False)
    assert report.counts["unchanged"] == 4
    assert not (index_dir / "vectors-9.faiss.tmp").exists()
