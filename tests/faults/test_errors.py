"""Errors a user can act on: one line saying what to do, never a traceback, the index intact.

A full disk (a real 1 MB tmpfs when this runs as root, else the OSError injected), ``--index``
naming a file, a damaged store, read-only media (a read-only bind mount as root, else a
folder without write permission), and a closed stdout pipe."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys

import pytest

from ingest.chunking import ChunkingParams
from ingest.pipeline import ingest
from rag.cli import main
from rag.errors import IndexWriteError
from rag.index import STORE_FILE, Index
from rag.index.store import ChunkStore
from rag.testing import HashingEmbedder
from tests.faults.helpers import REPO, rag, small_corpus


def _one_line_error(done: subprocess.CompletedProcess, *words: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
    assert "Traceback" not in done.stderr and "Unexpected" not in done.stderr
    for word in words:
        assert word in lines[0], lines[0]


@contextlib.contextmanager
def _mounted(target, *options: str):
    """``mount`` as root, else skip: the caller falls back to a simulation."""
    target.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or subprocess.run(["mount", *options, str(target)], capture_output=True).returncode:
        yield False
        return
    try:
        yield True
    finally:
        subprocess.run(["umount", "-l", str(target)], capture_output=True)


def _sources(index_dir):
    with Index.open(index_dir) as index:
        return sorted(d.source for d in index.store.documents()), index.store.count_chunks()


def test_disk_full_on_a_real_small_tmpfs(tmp_path):
    with _mounted(tmp_path / "small", "-t", "tmpfs", "-o", "size=600k", "tmpfs") as mounted:
        if not mounted:
            pytest.skip("mounting a tmpfs needs root: test_disk_full_injected covers it")
        index = tmp_path / "small" / "index"
        done = rag("ingest", str(small_corpus(tmp_path / "docs")), "--index", str(index), "--embedder", "hashing-64")
        assert done.returncode == 0, done.stderr
        before = _sources(index)
        big = tmp_path / "big"
        big.mkdir()
        for i in range(40):  # far more than 600 kB of chunks, vectors and keyword terms
            words = " ".join(f"mot{i}x{j} farine{j} levain{i * j}" for j in range(600))
            (big / f"gros{i}.txt").write_text(words + ".", encoding="utf-8")
        done = rag("ingest", str(big), "--index", str(index), "--embedder", "hashing-64")
        _one_line_error(done, "No space left", "as the last completed run left it")
        assert _sources(index) == before
        assert rag("search", "pain de seigle", "--index", str(index)).returncode == 0


def test_disk_full_injected(tmp_path, monkeypatch, capsys):
    corpus, index = small_corpus(tmp_path / "docs"), tmp_path / "index"
    ingest([corpus], index, HashingEmbedder(64), ChunkingParams(40, 5), progress=False)
    before = _sources(index)
    (corpus / "d.txt").write_text("Un nouveau document sur le moulin à vent.", encoding="utf-8")

    def full(self, *args):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(ChunkStore, "add_chunks", full)
    code = main(["ingest", str(corpus), "--index", str(index), "--embedder", "hashing-64"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "No space left" in err
    assert _sources(index) == before
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    with pytest.raises(IndexWriteError, match="No space left"):
        ingest([corpus], index, HashingEmbedder(64), ChunkingParams(40, 5), progress=False)


def test_index_naming_a_file(tmp_path):
    corpus, index = small_corpus(tmp_path / "docs"), tmp_path / "index.txt"
    index.write_text("not an index", encoding="utf-8")
    _one_line_error(rag("ingest", str(corpus), "--index", str(index), "--embedder", "hashing-64"), "is a file")
    for command in (["index", "info"], ["search", "pain"], ["remove", "a.txt"]):
        _one_line_error(rag(*command, "--index", str(index)), "is a file")
    _one_line_error(rag("ingest", str(corpus), "--index", str(index / "sub")), "is a file")
    assert index.read_text(encoding="utf-8") == "not an index"


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_damaged_store(tmp_path, damage):
    corpus, index = small_corpus(tmp_path / "docs"), tmp_path / "index"
    assert rag("ingest", str(corpus), "--index", str(index), "--embedder", "hashing-64").returncode == 0
    store = index / STORE_FILE
    data = store.read_bytes()
    store.write_bytes(os.urandom(len(data)) if damage == "garbage" else data[:4096])
    for command in (["index", "info"], ["search", "pain"]):
        _one_line_error(rag(*command, "--index", str(index)), "damaged", "--rebuild")
    _one_line_error(rag("ingest", str(corpus), "--index", str(index), "--embedder", "hashing-64"), "damaged")
    done = rag("ingest", str(corpus), "--index", str(index), "--embedder", "hashing-64", "--rebuild")
    assert done.returncode == 0, done.stderr
    assert list(index.glob(f"{STORE_FILE}.damaged-*"))  # set aside, not deleted
    assert rag("search", "pain", "--index", str(index)).returncode == 0


def test_an_index_on_read_only_media_answers_searches(tmp_path):
    corpus, index = small_corpus(tmp_path / "docs"), tmp_path / "media" / "index"
    assert rag("ingest", str(corpus), "--index", str(index), "--embedder", "hashing-64").returncode == 0
    with _mounted(tmp_path / "ro", "--bind", "-o", "ro", str(tmp_path / "media")) as mounted:
        if mounted:
            subprocess.run(["mount", "-o", "remount,bind,ro", str(tmp_path / "ro")], check=True)
            readonly = tmp_path / "ro" / "index"
        elif os.geteuid() == 0:
            pytest.skip("cannot mount, and root writes through permissions")
        else:
            readonly = index
            index.chmod(0o555)
        try:
            done = rag("search", "pain de seigle", "--index", str(readonly))
            assert done.returncode == 0 and "a.txt" in done.stdout, done.stderr
            assert rag("index", "info", "--index", str(readonly)).returncode == 0
            done = rag("ingest", str(corpus), "--index", str(readonly), "--embedder", "hashing-64")
            _one_line_error(done, "read-only media", "Searching it still works")
        finally:
            index.chmod(0o755)


def test_readers_never_write_the_store(tmp_path):
    corpus, index = small_corpus(tmp_path / "docs"), tmp_path / "index"
    assert rag("ingest", str(corpus), "--index", str(index), "--embedder", "hashing-64").returncode == 0
    before = (index / STORE_FILE).read_bytes()
    for command in (["index", "info"], ["search", "pain"], ["ask", "Que cuit le fournil ?", "--llm", "none"]):
        assert rag(*command, "--index", str(index)).returncode == 0
    assert (index / STORE_FILE).read_bytes() == before


def test_a_closed_stdout_pipe_exits_quietly(tmp_path):
    corpus, index = small_corpus(tmp_path / "docs"), tmp_path / "index"
    assert rag("ingest", str(corpus), "--index", str(index), "--embedder", "hashing-64").returncode == 0
    read, write = os.pipe()
    os.close(read)  # like `| head -1` once head has gone
    child = subprocess.run(
        [sys.executable, "-m", "rag.cli", "search", "pain", "--index", str(index), "--k", "3"],
        cwd=REPO, stdout=write, stderr=subprocess.PIPE, text=True, timeout=60,
    )  # fmt: skip
    os.close(write)
    assert child.returncode in (0, 141) and child.stderr == ""
    shell = subprocess.run(
        f"'{sys.executable}' -m rag.cli search pain --index '{index}' | head -1; exit ${{PIPESTATUS[0]}}",
        shell=True, executable="/bin/bash", cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert shell.returncode in (0, 141) and shell.stderr == "" and shell.stdout.startswith("[1]")
