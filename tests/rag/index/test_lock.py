"""The writer's lock: the holder's process id, waiting or giving up, released by the kernel
when the holder dies however it dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from rag.errors import IndexLockedError
from rag.index.lock import acquire, holder_pid, release


def test_the_holder_writes_its_pid_and_a_second_writer_is_told(tmp_path):
    handle = acquire(tmp_path)
    try:
        assert holder_pid(tmp_path) == os.getpid()
        with pytest.raises(IndexLockedError, match=rf"\(process {os.getpid()}\) is writing"):
            acquire(tmp_path, wait=False)
        told: list[int | None] = []
        started = time.monotonic()
        with pytest.raises(IndexLockedError):
            acquire(tmp_path, on_wait=told.append, timeout_s=0.3)
        assert told == [os.getpid()] and time.monotonic() - started >= 0.3
    finally:
        release(handle)
    release(acquire(tmp_path, wait=False))


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from rag.index.lock import acquire; "
         f"h = acquire(__import__('pathlib').Path({str(tmp_path)!r})); print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(IndexLockedError, match=f"process {holder.pid}"):
        acquire(tmp_path, wait=False)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    release(acquire(tmp_path, wait=False))  # the kernel released it with the process


def test_no_pid_when_nothing_was_written(tmp_path):
    assert holder_pid(tmp_path) is None
    (tmp_path / ".lock").write_text("garbage", encoding="ascii")
    assert holder_pid(tmp_path) is None
