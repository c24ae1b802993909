"""The writer's lock on an index directory: one writer at a time, readers never blocked.

An exclusive ``fcntl.flock`` on ``DIR/.lock``, which holds the writer's process id. The
kernel releases it when the process ends, however it ends (``kill -9`` included), so a
crashed writer never leaves a stale lock behind. A second writer waits its turn, told
who holds the lock, or gives up at once when asked not to wait. Readers never take it:
SQLite's WAL gives them the last committed generation while a writer works.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path

from rag.errors import IndexLockedError

LOCK_FILE = ".lock"
POLL_S = 0.1


def holder_pid(directory: Path) -> int | None:
    """The process id written by the current (or last) holder, when there is one."""
    try:
        text = (directory / LOCK_FILE).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def acquire(
    directory: Path,
    wait: bool = True,
    on_wait: Callable[[int | None], None] | None = None,
    timeout_s: float | None = None,
):
    """Take the lock on ``directory``; returns the open lock file (``release`` it).

    ``wait``: poll until the holder is done (``on_wait(pid)`` is called once, when the wait
    starts); otherwise, and after ``timeout_s``, raise ``IndexLockedError`` naming the holder.
    """
    handle = open(directory / LOCK_FILE, "a+")
    started = time.monotonic()
    told = False
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            pid = holder_pid(directory)
            late = timeout_s is not None and time.monotonic() - started > timeout_s
            if not wait or late:
                handle.close()
                who = f" (process {pid})" if pid else ""
                raise IndexLockedError(
                    f"Another ingestion{who} is writing {directory}. Wait for it to finish "
                    f"(run again without --no-wait to wait), or use another --index."
                ) from None
            if not told and on_wait is not None:
                on_wait(pid)
            told = True
            time.sleep(POLL_S)
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def release(handle) -> None:
    fcntl.flock(handle, fcntl.LOCK_UN)
    handle.close()
