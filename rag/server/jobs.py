"""Background work of the HTTP API: the one writer thread that changes the index (ingestion jobs
and removals, one at a time, as the index takes one writer), and the bounded queue of answers
(one model instance per process: one answer at a time, ``size`` more waiting, then refusals).

Jobs are kept in memory: a restarted server forgets them (the index keeps what they did).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field


@dataclass
class Job:
    """An ingestion of uploaded files; ``status`` goes queued -> running -> succeeded | failed."""

    files: list[dict]
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    status: str = "queued"
    stage: str | None = None  # "waiting" (for a `rag ingest`), "reading", "embedding", "indexing"
    done: int = 0
    total: int = 0
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    report: dict | None = None
    error: str | None = None

    def progress(self, stage: str, done: int, total: int) -> None:
        self.stage, self.done, self.total = stage, done, total

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "object": "ingestion.job",
            "status": self.status,
            "progress": {"stage": self.stage, "done": self.done, "total": self.total},
            "files": self.files,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "report": self.report,
            "error": self.error,
        }


class Writer:
    """The one thread that writes the index, and the jobs it ran (the last ``kept`` finished)."""

    def __init__(self, kept: int = 200):
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rag-writer")
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._kept = kept
        self._lock = threading.Lock()

    def submit(self, job: Job, work: Callable[[Job], dict]) -> Job:
        """Run ``work(job)`` (it returns the report, and may set ``job.error``) after the writes
        queued before it."""
        with self._lock:
            self._jobs[job.id] = job
            finished = [j for j in self._jobs.values() if j.finished_at is not None]
            for old in finished[: max(0, len(finished) - self._kept)]:
                del self._jobs[old.id]
        self._pool.submit(self._run, job, work)
        return job

    def _run(self, job: Job, work: Callable[[Job], dict]) -> None:
        job.status, job.started_at = "running", time.time()
        try:
            job.report = work(job)  # it may set job.error: the run went through, some files did not
            job.status = "failed" if job.error else "succeeded"
        except Exception as exc:  # noqa: BLE001 - a failed job says why; the server goes on
            job.status, job.error = "failed", str(exc) or type(exc).__name__
        finally:
            job.finished_at = time.time()

    def call(self, work: Callable, *args) -> Future:
        """Run a short write (a removal) in turn with the jobs."""
        return self._pool.submit(work, *args)

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    @property
    def busy(self) -> bool:
        with self._lock:
            return any(j.finished_at is None for j in self._jobs.values())

    def shutdown(self) -> None:
        """Drop the queued jobs, wait for the running one."""
        self._pool.shutdown(wait=True, cancel_futures=True)


class QueueFull(Exception):
    """More questions are waiting than the queue takes."""


class AnswerQueue:
    """Answers run one at a time on one thread (the model is one instance); up to ``size`` wait."""

    def __init__(self, size: int):
        self.size = size
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rag-answer")
        self._pending = 0
        self._lock = threading.Lock()

    def submit(self, work: Callable, *args) -> Future:
        """``work(*args)`` in turn; QueueFull when ``size`` questions already wait."""
        with self._lock:
            if self._pending > self.size:  # the one answering, plus ``size`` waiting
                raise QueueFull(f"{self._pending - 1} questions are already waiting (server.queue_size = {self.size})")
            self._pending += 1
        try:
            future = self._pool.submit(work, *args)
        except BaseException:
            self._release()
            raise
        future.add_done_callback(lambda _: self._release())
        return future

    def _release(self) -> None:
        with self._lock:
            self._pending -= 1

    @property
    def pending(self) -> int:
        return self._pending

    def shutdown(self) -> None:
        """Drop the waiting questions, wait for the one being answered."""
        self._pool.shutdown(wait=True, cancel_futures=True)
