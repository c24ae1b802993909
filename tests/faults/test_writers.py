"""One writer at a time, readers never blocked: a second ``rag ingest`` waits its turn (or fails at
once with ``--no-wait``), two ingests started together both land, searches never fail meanwhile."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from eval.faults import make_corpus
from rag.index import Index
from rag.index.lock import acquire, release
from rag.service import RagService
from tests.faults.helpers import REPO, rag, small_corpus


def _spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "rag.cli", *args], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_two_ingests_started_together_both_land(tmp_path):
    """Two ingests of disjoint folders at once: the one that finds the index being written
    waits its turn, saying so, and both folders end up in the index. The test holds the lock
    until both have said they wait, so that neither can finish before the other starts."""
    index = tmp_path / "index"
    index.mkdir()
    make_corpus(tmp_path / "one", 12, tag="un")
    make_corpus(tmp_path / "two", 12, tag="deux")
    held = acquire(index, wait=False)
    logs = [tmp_path / "one.err", tmp_path / "two.err"]
    children = []
    for folder, log in zip(("one", "two"), logs):
        with log.open("w") as err:
            command = [sys.executable, "-m", "rag.cli", "ingest", str(tmp_path / folder), "--index", str(index)]
            children.append(
                subprocess.Popen(
                    [*command, "--embedder", "hashing-64"], cwd=REPO, stdout=subprocess.DEVNULL, stderr=err
                )
            )
    try:
        deadline = time.monotonic() + 120
        while not all("Waiting for another ingestion (process" in log.read_text() for log in logs):
            assert time.monotonic() < deadline, [log.read_text() for log in logs]
            assert all(child.poll() is None for child in children), [log.read_text() for log in logs]
            time.sleep(0.1)
    finally:
        release(held)
    assert [child.wait(timeout=300) for child in children] == [0, 0], [log.read_text() for log in logs]
    with Index.open(index) as opened:
        sources = {d.source for d in opened.store.documents()}
    assert sources == {f"un{i:02d}.txt" for i in range(12)} | {f"deux{i:02d}.txt" for i in range(12)}


def test_no_wait_fails_at_once_naming_the_holder(tmp_path):
    corpus, index = small_corpus(tmp_path / "docs"), tmp_path / "index"
    with Index.open_for_write(index, "hashing-bow-64", 64, {"chunker": "x"}):
        started = time.monotonic()
        done = rag("ingest", str(corpus), "--index", str(index), "--embedder", "hashing-64", "--no-wait")
        assert time.monotonic() - started < 30
        assert done.returncode == 2 and f"(process {os.getpid()})" in done.stderr, done.stderr
        done = rag("remove", "a.txt", "--index", str(index), "--no-wait")
        assert done.returncode == 2 and "--no-wait" in done.stderr


def test_searches_during_an_ingestion_never_fail(tmp_path):
    index = tmp_path / "index"
    make_corpus(tmp_path / "base", 4, tag="base")
    assert rag("ingest", str(tmp_path / "base"), "--index", str(index), "--embedder", "hashing-64").returncode == 0
    make_corpus(tmp_path / "more", 40, tag="plus")
    writer = _spawn("ingest", str(tmp_path / "more"), "--index", str(index), "--embedder", "hashing-64")
    searches, failures, generations = 0, [], set()
    with RagService.open(index, llm="none") as kept:  # one long-lived reader, and fresh ones
        while writer.poll() is None or searches < 20:
            try:
                assert kept.search("pain de seigle", k=3)
                with RagService.open(index, llm="none") as fresh:
                    assert fresh.search("levain du fournil", k=3)
                    generations.add(fresh.index.generation)
            except Exception as exc:  # noqa: BLE001 (any failure is one)
                failures.append(repr(exc))
            searches += 1
    assert writer.returncode == 0, writer.communicate()
    assert not failures, failures[:3]
    assert generations == {1, 2} and searches >= 20  # it saw the commit happen
