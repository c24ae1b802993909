"""Ingestion on Ray (``--engine ray``) gives what a local run gives: the same documents and
chunks, vectors at cosine >= 0.999, the same report; incremental, a failing file reported, a dead
worker retried. The Ray tests start a 2-CPU cluster in this process (about 15 s) and are marked
``ray``; the command line's checks need no cluster."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ingest.chunking import ChunkingParams
from ingest.pipeline import ingest as run
from rag.cli import main
from rag.errors import MissingDependencyError
from rag.index import Index
from rag.service import embedder_for, ingest
from rag.settings import Settings
from rag.testing import HashingEmbedder

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "corpora" / "sample"
HAS_RAY = importlib.util.find_spec("ray") is not None
NO_RAY = "ray is not installed (pip install 'rag-fr[ray]')"


# -- the command line and the settings, first: the cluster (a module fixture) starts after them ----
def test_unknown_engine_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["ingest", str(SAMPLE), "--index", str(tmp_path / "i"), "--engine", "spark"])
    assert exit_.value.code == 2 and "invalid choice: 'spark'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, env, says",
    [
        (["--engine", "ray", "--ray-address", "not an address"], {}, "ingestion.ray_address"),
        (["--engine", "ray", "--ray-address", "localhost:port"], {}, "ingestion.ray_address"),
        ([], {"RAG_INGESTION_ENGINE": "spark"}, "ingestion.engine must be one of local, ray"),
    ],
)
def test_bad_engine_settings_are_one_line_errors(tmp_path, capsys, monkeypatch, argv, env, says):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    code = main(["ingest", str(SAMPLE), "--index", str(tmp_path / "i"), *argv])
    err = capsys.readouterr().err
    assert code == 2 and says in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "i").exists()


def test_settings_name_the_engine_and_its_address():
    assert Settings().ingestion.engine == "local" and Settings().ingestion.ray_address is None
    loaded = Settings.load(env={"RAG_INGESTION_ENGINE": "ray", "RAG_INGESTION_RAY_ADDRESS": "10.0.0.2:6379"})
    assert (loaded.ingestion.engine, loaded.ingestion.ray_address) == ("ray", "10.0.0.2:6379")
    assert Settings.load(env={"RAG_INGESTION_RAY_ADDRESS": "auto"}).ingestion.ray_address == "auto"
    assert Settings.load(env={"RAG_INGESTION_RAY_ADDRESS": "ray://head:10001"}).ingestion.ray_address


@pytest.mark.skipif(not HAS_RAY, reason=NO_RAY)
def test_an_unreachable_cluster_is_a_one_line_error(tmp_path, capsys):
    argv = ["ingest", str(SAMPLE), "--index", str(tmp_path / "i"), "--engine", "ray", "--ray-address", "127.0.0.1:9"]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and "Cannot reach the Ray cluster at 127.0.0.1:9" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "i").exists()


def test_without_ray_the_error_names_the_extra(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails
    with pytest.raises(MissingDependencyError, match=r"rag-fr\[ray\]"):
        from ingest.distributed import RayEngine

        RayEngine(lambda: HashingEmbedder(64))
    code = main(["ingest", str(SAMPLE), "--index", str(tmp_path / "i"), "--engine", "ray"])
    assert code == 2 and "rag-fr[ray]" in capsys.readouterr().err


def test_nothing_imports_ray_until_an_engine_is_made():
    code = (
        "import sys, rag, ingest.pipeline, rag.service, rag.cli, ingest.distributed; rag.cli.build_parser(); "
        "rag.service.embedder_for(rag.settings.Settings(), 'hashing-8'); assert 'ray' not in sys.modules, 'ray'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


def test_the_factory_the_workers_get_builds_the_runs_embedder():
    import pickle

    from rag.service import ingestion_engine

    settings = Settings().merged({"index.embedder": "hashing-64"})
    assert ingestion_engine(settings, "hashing-64").__enter__() is None  # local: no engine
    if HAS_RAY:
        engine = ingestion_engine(settings.replace("ingestion.engine", "ray"), "hashing-64")
        made = pickle.loads(pickle.dumps(engine.make_embedder))()
        assert made.model_id == embedder_for(settings, "hashing-64").model_id


# -- on a cluster ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cluster():
    import ray

    # Ray 2.60 turns token authentication on for a new local cluster unless told: off for a test cluster.
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RAY_AUTH_MODE", "disabled")
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="warning")
        yield ray
        ray.shutdown()


def _corpus(tmp_path) -> Path:
    root = tmp_path / "docs"
    shutil.copytree(SAMPLE, root)
    return root


def _contents(index_dir: Path):
    with Index.open(index_dir) as index:
        docs = sorted((d.source, d.doc_id, d.format, d.n_pages, d.n_chunks) for d in index.store.documents())
        ids, vectors = index.store.all_vectors(index.dim)
        chunks = index.store.chunks_by_rowid(ids.tolist())
        rows = [chunks[i] for i in ids.tolist()]
        spans = [(c.chunk_id, c.doc_id, c.source, c.start, c.end, c.page, c.page_end, c.heading_path) for c in rows]
        by_chunk = {c.chunk_id: v for c, v in zip(rows, vectors)}
    return docs, sorted(spans), by_chunk


def _outcomes(report):
    return sorted((f.source, f.status, f.reason, f.chunks) for f in report.files)


@pytest.mark.ray
@pytest.mark.skipif(not HAS_RAY, reason=NO_RAY)
def test_ray_gives_what_a_local_run_gives(tmp_path, cluster):
    """The real default embedder (multilingual-e5-small), as a local run would use it."""
    root = _corpus(tmp_path)
    local = Settings().merged({"index.dir": tmp_path / "local"})
    on_ray = local.merged({"index.dir": tmp_path / "ray", "ingestion.engine": "ray"})

    expected = ingest([root], local, progress=False)
    report = ingest([root], on_ray, progress=False)
    assert report.ok and _outcomes(report) == _outcomes(expected)
    assert report.chunks_embedded == expected.chunks_embedded > 0
    docs, spans, vectors = _contents(tmp_path / "ray")
    want_docs, want_spans, want_vectors = _contents(tmp_path / "local")
    assert docs == want_docs and spans == want_spans
    cosines = [float(np.dot(vectors[c], want_vectors[c])) for c in want_vectors]
    assert min(cosines) >= 0.999, min(cosines)


def _hashing(tmp_path, name: str, **more) -> Settings:
    values = {"index.dir": tmp_path / name, "index.embedder": "hashing-64", "ingestion.read_timeout_s": 5.0}
    return Settings().merged({**values, **more})


@pytest.mark.ray
@pytest.mark.skipif(not HAS_RAY, reason=NO_RAY)
def test_ray_runs_are_incremental(tmp_path, monkeypatch, cluster):
    root = _corpus(tmp_path)
    on_ray = _hashing(tmp_path, "ray", **{"ingestion.engine": "ray"})
    assert ingest([root], on_ray, progress=False).counts["added"] == 5
    from ingest.distributed import RayEngine

    read = []
    original = RayEngine.read

    def spy(self, items, *args):
        read.extend(item.source for item in items)
        return original(self, items, *args)

    monkeypatch.setattr(RayEngine, "read", spy)
    again = ingest([root], on_ray, progress=False)
    assert again.chunks_embedded == 0 and again.counts["unchanged"] == 5 and read == []

    changed = root / "commandes-et-livraisons.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + "\nLivraison gratuite le jeudi.\n", encoding="utf-8")
    third = ingest([root], on_ray, progress=False)
    assert read == ["commandes-et-livraisons.txt"]
    assert third.counts["updated"] == 1 and third.counts["unchanged"] == 4
    assert 0 < third.chunks_embedded < third.chunks_new  # the unchanged passages reuse their vectors


@pytest.mark.ray
@pytest.mark.skipif(not HAS_RAY, reason=NO_RAY)
def test_a_failing_file_is_reported_as_locally(tmp_path, cluster):
    root = _corpus(tmp_path)
    (root / "broken.pdf").write_bytes(b"%PDF-1.7\nnot really a pdf\n")
    (root / "broken.docx").write_bytes(b"PK\x03\x04 not a zip")
    (root / "empty.txt").write_text("   \n", encoding="utf-8")
    expected = ingest([root], _hashing(tmp_path, "local"), progress=False)
    report = ingest([root], _hashing(tmp_path, "ray", **{"ingestion.engine": "ray"}), progress=False)
    assert not report.ok and _outcomes(report) == _outcomes(expected)
    statuses = {f.source: f.status for f in report.files}
    assert statuses["broken.pdf"] == statuses["broken.docx"] == "failed" and statuses["empty.txt"] == "skipped"
    assert _contents(tmp_path / "ray")[:2] == _contents(tmp_path / "local")[:2]


class DiesOnce:
    """An embedder factory whose first read task and first embedding actor kill their worker."""

    def __init__(self, flags: Path):
        self.flags = flags

    def __call__(self):
        import ray

        where = "actor" if ray.get_runtime_context().get_actor_id() else "task"
        flag = self.flags / where
        if not flag.exists():
            flag.touch()
            os._exit(1)
        return HashingEmbedder(64)


@pytest.mark.ray
@pytest.mark.skipif(not HAS_RAY, reason=NO_RAY)
def test_a_dead_worker_is_retried(tmp_path, cluster):
    from ray import cloudpickle

    from ingest.distributed import RayEngine

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import the tests
    root, params = _corpus(tmp_path), ChunkingParams(60, 10)
    expected = run([root], tmp_path / "local", HashingEmbedder(64), params, progress=False)
    with RayEngine(DiesOnce(tmp_path)) as engine:
        report = run([root], tmp_path / "ray", HashingEmbedder(64), params, progress=False, engine=engine)
    assert (tmp_path / "task").exists() and (tmp_path / "actor").exists()  # both died once
    assert report.ok and _outcomes(report) == _outcomes(expected)
    assert _contents(tmp_path / "ray")[:2] == _contents(tmp_path / "local")[:2]
