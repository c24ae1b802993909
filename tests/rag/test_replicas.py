"""Several serving processes over one index: a reader that another process's ingestions and
removals overtake sees each committed generation whole, soon after its commit, and never an
error.

The main process writes (ingests new files, updates one, removes files, through the folder's
pruning and through ``remove``); a reader process searches in a loop, either a ``RagService``
opened once as a server opens it, or a real ``rag serve`` over HTTP started before the index
existed. Every document is one chunk whose text carries its version, and every search asks for
more passages than there are documents, so a result is the whole collection of the generation
it was served from: it must equal, exactly, the collection of one generation committed while
the search ran (a result mixing two, or served from a generation already replaced when the
search started, matches none).
"""

from __future__ import annotations

import json
import math
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from rag.index import Index
from rag.service import ingest, remove
from rag.settings import Settings

REPO = Path(__file__).resolve().parents[2]
QUERY = "fournil pain de seigle"
K = 50  # more passages than documents: a result is the whole collection (server.max_k is 50)
ROUNDS = 3
PICKUP_S = 30.0  # a commit is seen by the reader within this (in practice: its next search)


def text(name: str, version: int) -> str:
    return f"Le fournil {name} cuit le pain de seigle chaque matin, version {version}." + " Encore." * version


def identity(source: str, passage: str) -> str:
    found = re.search(r"version (\d+)", passage)
    return f"{source}@{found.group(1) if found else '?'}"


def writer_settings(index_dir: Path) -> Settings:
    return Settings.load(env={}, overrides={"index.dir": index_dir, "index.embedder": "hashing-64", "llm.name": "none"})


# -- the reader (run in its own process) ----------------------------------------------------
def read_in_a_loop(how: str, where: str, out: str, stop: str) -> None:
    """Search until ``stop`` exists, one JSON line per search in ``out``: when it started and
    ended (wall clock), the documents found (``identity``), the generation before and after
    (``service`` only), or the error. ``how``: "service" (``where``: the index) or "http" (the URL)."""
    if how == "service":
        from rag.service import RagService

        settings = Settings.load(env={}, overrides={"llm.name": "none"})
        service = RagService.open(where, settings=settings)
    with open(out, "a", encoding="utf-8") as log:
        while not os.path.exists(stop):
            record: dict = {"start": time.time()}
            try:
                if how == "service":
                    record["before"] = service.index.generation
                    hits = [(h.chunk.source, h.chunk.text) for h in service.search(QUERY, k=K)]
                    record["after"] = service.index.generation
                else:
                    status, body = post(f"{where}/v1/search", {"query": QUERY, "k": K})
                    if status == 503 and body["error"]["code"] == "no_index":
                        hits = None
                    elif status != 200:
                        raise AssertionError(f"HTTP {status}: {body}")
                    else:
                        hits = [(h["source"], h["text"]) for h in body["hits"]]
                record["found"] = None if hits is None else sorted(identity(s, t) for s, t in hits)
            except Exception as exc:  # noqa: BLE001 - every failure is reported to the test
                record["error"] = f"{type(exc).__name__}: {exc}"
            record["end"] = time.time()
            log.write(json.dumps(record) + "\n")
            log.flush()


def post(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    return _call(request)


def get(url: str) -> tuple[int, dict]:
    return _call(urllib.request.Request(url))


def _call(request) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _python(code: str, *args: str, env: dict | None = None, log: Path) -> subprocess.Popen:
    with log.open("w") as err:
        return subprocess.Popen(
            [sys.executable, "-c", code, *args],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env={**os.environ, **(env or {})},
        )


def start_reader(how: str, where: str, tmp_path: Path) -> tuple[subprocess.Popen, Path, Path]:
    out, stop = tmp_path / f"{how}-reads.jsonl", tmp_path / f"{how}-stop"
    out.touch()
    code = "import sys; from tests.rag.test_replicas import read_in_a_loop; read_in_a_loop(*sys.argv[1:])"
    reader = _python(code, how, where, str(out), str(stop), log=tmp_path / f"{how}-reader.err")
    return reader, out, stop


def start_server(index_dir: Path, tmp_path: Path) -> tuple[subprocess.Popen, str]:
    """``rag serve`` over ``index_dir`` (which need not exist yet) on a free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code = "import sys; from rag.cli import main; sys.exit(main(sys.argv[1:]))"
    args = ("serve", "--index", str(index_dir), "--port", str(port), "--llm", "none")
    env = {"RAG_INDEX_EMBEDDER": "hashing-64", "XDG_CONFIG_HOME": str(tmp_path / "no-config")}
    server = _python(code, *args, env=env, log=tmp_path / "server.err")
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert server.poll() is None, (tmp_path / "server.err").read_text()
        try:
            if get(f"{url}/healthz")[0] == 200:
                return server, url
        except OSError:
            pass
        assert time.monotonic() < deadline, "rag serve did not start"
        time.sleep(0.1)


def reads(out: Path) -> list[dict]:
    """The reader's records so far (a line it is still writing is left for later)."""
    return [json.loads(line) for line in out.read_text(encoding="utf-8").split("\n")[:-1]]


# -- the writer -----------------------------------------------------------------------------
class History:
    """Each committed generation: when its writer started, when it had returned (the commit lies
    between), and its collection (``identity`` of every document; None: no index yet)."""

    def __init__(self, index_dir: Path):
        self.index_dir = index_dir
        self.generations: dict[int, tuple[float, float, frozenset[str] | None]] = {0: (-math.inf, -math.inf, None)}

    def change(self, write) -> int:
        started = time.time()
        write()
        done = time.time()
        with Index.open(self.index_dir) as index:
            generation = index.generation
            collection = frozenset(
                identity(d.source, index.store.document_text(d.doc_id) or "") for d in index.store.documents()
            )
        assert generation == max(self.generations) + 1, "each change commits exactly one generation"
        self.generations[generation] = (started, done, collection)
        return generation

    def possible(self, start: float, end: float) -> list[int]:
        """The generations a search that ran from ``start`` to ``end`` may have been served from:
        committed before it ended, and not yet replaced when it began."""
        last = max(self.generations)
        return [
            g
            for g, (started, _, _) in self.generations.items()
            if started < end and (g == last or self.generations[g + 1][1] > start)
        ]

    def check(self, record: dict) -> None:
        assert "error" not in record, record["error"]
        found = None if record["found"] is None else frozenset(record["found"])
        matching = [g for g in self.possible(record["start"], record["end"]) if self.generations[g][2] == found]
        assert matching, (
            f"a search from {record['start']:.3f} to {record['end']:.3f} found {sorted(found or [])}, the collection"
            f" of no generation committed meanwhile: {self.describe(record)}"
        )
        if "before" in record:  # the generation the reader says it read lies around the one it served
            assert any(record["before"] <= g <= record["after"] for g in matching), (record, matching)

    def describe(self, record: dict) -> str:
        return "; ".join(
            f"generation {g} written {s:.3f}-{d:.3f}: {sorted(c or [])}"
            for g, (s, d, c) in self.generations.items()
            if g in self.possible(record["start"] - 5, record["end"] + 5)
        )


def wait_for_pickup(out: Path, reader: subprocess.Popen, history: History, generation: int, log: Path) -> None:
    """Until the reader has done two searches begun after ``generation`` was committed (each is
    checked later against the history); fails after ``PICKUP_S``."""
    committed = history.generations[generation][1]
    deadline = time.monotonic() + PICKUP_S
    while sum(r["start"] > committed for r in reads(out)) < 2:
        assert reader.poll() is None, f"the reader stopped: {log.read_text()}"
        assert time.monotonic() < deadline, f"the reader did no search after generation {generation} for {PICKUP_S}s"
        time.sleep(0.05)


def write_rounds(docs: Path, settings: Settings, history: History, after_each) -> None:
    """Rounds of: three new files ingested; one file updated and one deleted, in one ingestion
    (the folder is pruned); one document removed with ``remove``. Each change is one commit."""
    versions = {name: 1 for name in sorted(p.name for p in docs.iterdir())}
    for round_ in range(ROUNDS):

        def add(round_=round_):
            for i in range(3):
                name = f"r{round_}-{i}.txt"
                (docs / name).write_text(text(name, 1), encoding="utf-8")
                versions[name] = 1
            ingest([docs], settings, progress=False)

        def update_and_delete(round_=round_):
            updated, deleted = sorted(versions)[round_], sorted(versions)[-1]
            versions[updated] += 1
            (docs / updated).write_text(text(updated, versions[updated]), encoding="utf-8")
            (docs / deleted).unlink()
            del versions[deleted]
            ingest([docs], settings, progress=False)

        def remove_one():
            gone = sorted(versions)[0]
            assert remove([gone], settings) == [gone]
            (docs / gone).unlink()
            del versions[gone]

        for change in (add, update_and_delete, remove_one):
            after_each(history.change(change))


def first_files(docs: Path) -> None:
    docs.mkdir()
    for i in range(5):
        (docs / f"base-{i}.txt").write_text(text(f"base-{i}.txt", 1), encoding="utf-8")


def stop_reader(reader: subprocess.Popen, stop: Path, log: Path) -> None:
    stop.touch()
    try:
        assert reader.wait(timeout=60) == 0, log.read_text()
    finally:
        if reader.poll() is None:
            reader.kill()


# -- the tests ------------------------------------------------------------------------------
def test_a_service_opened_once_sees_every_generation_whole_and_soon(tmp_path):
    docs, index_dir = tmp_path / "docs", tmp_path / "index"
    first_files(docs)
    settings, history = writer_settings(index_dir), History(index_dir)
    history.change(lambda: ingest([docs], settings, progress=False))
    reader, out, stop = start_reader("service", str(index_dir), tmp_path)
    log = tmp_path / "service-reader.err"
    try:
        wait_for_pickup(out, reader, history, 1, log)
        write_rounds(docs, settings, history, lambda g: wait_for_pickup(out, reader, history, g, log))
    finally:
        stop_reader(reader, stop, log)
    records = reads(out)
    for record in records:
        history.check(record)
    seen = {g for r in records for g in (r["before"], r["after"])}
    assert seen == set(history.generations) - {0}, "the reader searched in every generation"


def test_a_server_started_before_the_index_serves_each_generation_ingested_by_another_process(tmp_path):
    """``rag serve`` started on an empty folder: it turns ready once another process has created
    the index (a load balancer waits for /readyz), then serves every later generation, whole."""
    docs, index_dir = tmp_path / "docs", tmp_path / "index"
    first_files(docs)
    settings, history = writer_settings(index_dir), History(index_dir)
    server, url = start_server(index_dir, tmp_path)
    reader = None
    try:
        assert get(f"{url}/readyz")[0] == 503
        reader, out, stop = start_reader("http", url, tmp_path)
        log = tmp_path / "http-reader.err"
        wait_for_pickup(out, reader, history, 0, log)  # it searches before the index exists
        history.change(lambda: ingest([docs], settings, progress=False))
        deadline = time.monotonic() + PICKUP_S
        while (ready := get(f"{url}/readyz"))[0] != 200:
            assert time.monotonic() < deadline, f"not ready after the index was created: {ready}"
            time.sleep(0.1)
        assert ready[1]["documents"] == 5
        wait_for_pickup(out, reader, history, 1, log)
        write_rounds(docs, settings, history, lambda g: wait_for_pickup(out, reader, history, g, log))
        stop_reader(reader, stop, log)
        assert get(f"{url}/v1/index")[1]["generation"] == max(history.generations)
    finally:
        if reader is not None and reader.poll() is None:
            reader.kill()
        server.terminate()
        server.wait(timeout=30)
    records = reads(out)
    for record in records:
        history.check(record)
    assert any(r["found"] is None for r in records) and records[-1]["found"], "it served before and after"


@pytest.mark.parametrize("start,end,expected", [(0.5, 0.6, [0]), (1.5, 2.5, [0, 1]), (3.5, 3.6, [1])])
def test_the_history_allows_only_the_generations_committed_while_a_search_ran(tmp_path, start, end, expected):
    history = History(tmp_path)
    history.generations[1] = (1.0, 3.0, frozenset({"a@1"}))
    assert history.possible(start, end) == expected


def test_a_commit_between_a_searchs_rankings_and_its_passages_is_not_mixed_in(tmp_path):
    """The race the loops above may or may not hit, made certain: another process commits (one
    document updated, one deleted, one added: the store reuses the deleted chunks' row ids) just
    after a search has taken its generation's rankings and before it reads the passages."""
    from rag.service import RagService

    docs, index_dir = tmp_path / "docs", tmp_path / "index"
    first_files(docs)
    settings, history = writer_settings(index_dir), History(index_dir)
    history.change(lambda: ingest([docs], settings, progress=False))

    def change():
        (docs / "base-1.txt").write_text(text("base-1.txt", 2), encoding="utf-8")
        (docs / "base-4.txt").unlink()
        (docs / "new.txt").write_text(text("new.txt", 1), encoding="utf-8")
        ingest([docs], settings, progress=False)

    with RagService.open(index_dir, settings=Settings.load(env={}, overrides={"llm.name": "none"})) as reader:
        searchers, overtaken = reader.index.searchers, []

        def overtaking():
            pair = searchers()
            if not overtaken:
                overtaken.append(history.change(change))
            return pair

        reader.index.searchers = overtaking
        found = frozenset(identity(h.chunk.source, h.chunk.text) for h in reader.search(QUERY, k=K))
    assert overtaken == [2]
    assert found in (history.generations[1][2], history.generations[2][2]), (found, history.generations)


def test_a_server_opens_an_index_rebuilt_with_another_embedder_again(tmp_path):
    """A rebuild with another embedder, by another process: the server's next search uses the
    new embedder rather than failing on the old one's dimension."""
    from fastapi.testclient import TestClient

    from rag.server import create_app

    docs, index_dir = tmp_path / "docs", tmp_path / "index"
    first_files(docs)
    ingest([docs], writer_settings(index_dir), progress=False)
    with TestClient(create_app(writer_settings(index_dir), warm_up=False)) as client:
        assert len(client.post("/v1/search", json={"query": QUERY, "k": K}).json()["hits"]) == 5
        rebuilt = writer_settings(index_dir).replace("index.embedder", "hashing-32")
        (docs / "base-0.txt").unlink()
        ingest([docs], rebuilt, rebuild=True, progress=False)
        response = client.post("/v1/search", json={"query": QUERY, "k": K})
        assert response.status_code == 200, response.text
        assert len(response.json()["hits"]) == 4
        assert client.get("/v1/index").json()["embedder"]["id"] == "hashing-bow-32"
