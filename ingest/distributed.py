"""Ingestion's two heavy stages on a Ray cluster (``rag ingest --engine ray``; docs/ray.md).

- read+chunk: one Ray task per new or changed file (``READ_RETRIES`` retries when its worker
  dies), on any node; a file's own problem (unreadable, too slow, corrupt) comes back as its
  result, reported like a local run's, and a worker that keeps dying fails that file alone;
- embed: Ray Data ``map_batches`` over a pool of actors, each building the embedder once from
  the same factory the driver uses (``rag.service.embedder_for`` with the run's settings): one
  GPU per actor when the cluster has GPUs (the torch embedder then runs fp16), else
  ``CPUS_PER_ACTOR`` cores each. Actors that die are restarted (``ACTOR_RESTARTS``).

What to read, what to reuse, staging and the one commit stay with the driver
(``ingest.pipeline``): the index has one writer, and the run is as crash-safe and incremental
as a local one. Workers import this project from the packages shipped with each task
(``runtime_env`` ``py_modules``), so an editable install, a clean clone and a remote cluster
all run the driver's code; the files must be at the same path on every node (a shared folder).

Ray is imported here only, when an engine is made: ``MissingDependencyError`` without it.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

import rag.errors
from ingest.stages import EMBED_BATCH, ReadResult, read_one
from rag.embedders import Embedder
from rag.errors import MissingDependencyError, RagError

READ_RETRIES = 3
ACTOR_RESTARTS = 3
CPUS_PER_ACTOR = 4  # an embedder on CPUs: its torch threads (fewer when a node has fewer)
CONNECT_TIMEOUT_S = 5.0
HELP = "start one with `ray start --head` (docs/ray.md) or give --ray-address"

_WORKER_EMBEDDERS: dict[str, Embedder] = {}  # per worker process, by engine


def import_ray():
    """The ``ray`` module with Ray Data, or MissingDependencyError naming the extra."""
    try:
        import ray
        import ray.data  # noqa: F401  (needs pandas and pyarrow: the [data] extra)
    except ImportError:
        raise MissingDependencyError("ray", "ray", "ingestion on a Ray cluster") from None
    return ray


def project_packages() -> list[str]:
    """The folders of this project's packages, shipped to the workers with each task."""
    here = Path(__file__).resolve().parent
    return [str(Path(rag.errors.__file__).resolve().parent), str(here)]


class RayEngine:
    """Reads, chunks and embeds on a Ray cluster; use it as a context manager (connects, and
    disconnects what it connected). An already initialised Ray (``ray.init`` by the caller) is used
    as it is. ``make_embedder``: a picklable factory of the run's embedder; ``use_gpus``: give each
    embedding actor a GPU when the cluster has them."""

    def __init__(self, make_embedder: Callable[[], Embedder], address: str | None = None, *, use_gpus: bool = True):
        self._ray = import_ray()
        self.make_embedder = make_embedder
        self.address = address
        self.use_gpus = use_gpus
        self.token = uuid.uuid4().hex
        self._connected = False

    def __enter__(self) -> RayEngine:
        self.connect()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def connect(self) -> None:
        ray = self._ray
        if ray.is_initialized():
            return
        check_reachable(self.address)
        try:
            ray.init(
                address=self.address,
                runtime_env={"py_modules": project_packages()},
                include_dashboard=False,
                log_to_driver=False,
                logging_level="warning",
            )
        except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
            where = f"at {self.address}" if self.address else "(RAY_ADDRESS or a new local one)"
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise RagError(f"Cannot use the Ray cluster {where}: {first} ({HELP}).") from None
        self._connected = True
        ray.data.DataContext.get_current().enable_progress_bars = False
        for name in ("ray.data", "ray.data._internal.progress"):  # its plan and timings; "progress bars off"
            logging.getLogger(name).setLevel(logging.WARNING if name == "ray.data" else logging.ERROR)

    @property
    def runtime_env(self) -> dict | None:
        """Each task's: nothing when this engine connected (the job ships the packages); else (Ray
        initialised by the caller) this checkout on the workers' path, which a cluster on this
        machine can import. A caller on a remote cluster passes ``runtime_env={"py_modules":
        project_packages()}`` to ``ray.init``."""
        if self._connected:
            return None
        paths = [str(Path(project_packages()[1]).parent), os.environ.get("PYTHONPATH", "")]
        return {"env_vars": {"PYTHONPATH": os.pathsep.join(p for p in paths if p)}}

    def close(self) -> None:
        if self._connected:
            self._ray.shutdown()
            self._connected = False

    # -- stages ------------------------------------------------------------------------
    def read(self, items, limits, params, embedder):
        ray = self._ray
        task = ray.remote(read_task).options(
            num_cpus=1, max_retries=READ_RETRIES, retry_exceptions=False, runtime_env=self.runtime_env
        )
        factory = ray.put(self.make_embedder)
        refs = [task.remote(factory, self.token, item, limits, params) for item in items]
        return self._results(refs)

    def _results(self, refs):
        ray = self._ray
        for n, ref in enumerate(refs):
            try:
                result = ray.get(ref)
            except ray.exceptions.RayTaskError:
                self._cancel(refs[n + 1 :])
                raise
            except ray.exceptions.RayError as exc:  # its worker died READ_RETRIES + 1 times, or its node left
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                result = ReadResult(None, status="failed", reason=f"the Ray worker reading it failed: {reason}")
            if isinstance(result, RagError):
                self._cancel(refs[n + 1 :])
                raise result
            yield result

    def _cancel(self, refs) -> None:
        for ref in refs:
            self._ray.cancel(ref, force=True)

    def embed(self, texts, embedder):
        ray = self._ray
        batches = math.ceil(len(texts) / EMBED_BATCH)
        nodes = [n["Resources"] for n in ray.nodes() if n.get("Alive")] or [ray.cluster_resources()]
        gpus = sum(int(n.get("GPU", 0)) for n in nodes) if self.use_gpus else 0
        if gpus:
            size, resources = min(gpus, batches), {"num_gpus": 1, "num_cpus": 1}
        else:  # an actor fits on one node: at most the CPUs of the largest
            per_actor = max(1, min(CPUS_PER_ACTOR, max(int(n.get("CPU", 1)) for n in nodes)))
            fit = sum(int(n.get("CPU", 0)) // per_actor for n in nodes)
            size, resources = max(1, min(fit, batches)), {"num_cpus": per_actor}
        rows = ray.data.from_items([{"i": i, "text": text} for i, text in enumerate(texts)])
        with warnings.catch_warnings():
            # Ray Data's own default is endless restarts; 2.60 takes a bound only as a remote argument,
            # which it calls deprecated (to go in 2.64) without naming a replacement.
            warnings.simplefilter("ignore", DeprecationWarning)
            vectors = rows.map_batches(
                EmbedActor,
                fn_constructor_args=(self.make_embedder, self.token, embedder.model_id),
                batch_size=EMBED_BATCH,
                batch_format="numpy",
                compute=ray.data.ActorPoolStrategy(size=size),
                runtime_env=self.runtime_env,
                max_restarts=ACTOR_RESTARTS,
                max_task_retries=ACTOR_RESTARTS,
                **resources,
            )
        for batch in vectors.iter_batches(batch_size=None, batch_format="numpy"):
            yield batch["i"].tolist(), np.asarray(batch["vector"], dtype=np.float32)


def read_task(make_embedder, token: str, item, limits, params) -> ReadResult | RagError:
    """On a worker: read and chunk one file with the run's tokenizer. An error the user must fix
    (a missing reader library, a model that will not load) is returned, and raised by the driver."""
    try:
        return read_one(item, limits, params, worker_embedder(make_embedder, token).count_tokens)
    except RagError as exc:
        return exc


def worker_embedder(make_embedder, token: str) -> Embedder:
    """The run's embedder in this worker process, built on its first task."""
    if token not in _WORKER_EMBEDDERS:
        _WORKER_EMBEDDERS[token] = make_embedder()
    return _WORKER_EMBEDDERS[token]


class EmbedActor:
    """One embedding model per actor, loaded once; called with batches {"i", "text"}."""

    def __init__(self, make_embedder, token: str, model_id: str):
        self.embedder = worker_embedder(make_embedder, token)
        if self.embedder.model_id != model_id:
            raise RagError(f"The Ray workers built the embedder {self.embedder.model_id!r}, not {model_id!r}.")

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.embedder.embed_passages([str(t) for t in batch["text"]])
        return {"i": batch["i"], "vector": np.asarray(vectors, dtype=np.float32)}


def check_reachable(address: str | None) -> None:
    """A quick TCP check of HOST:PORT, so an unreachable cluster is said in seconds."""
    if address in (None, "auto"):
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except (OSError, ValueError) as exc:
        why = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise RagError(f"Cannot reach the Ray cluster at {address}: {why} ({HELP}).") from None
