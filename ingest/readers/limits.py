"""What one file may cost to read: bytes on disk, bytes once unzipped, seconds.

A hostile or broken file must be refused alone, with a reason, while the run goes on:
- ``open_regular`` opens without blocking and refuses anything but a regular file, so a
  FIFO, socket or device that replaced a file after the scan is never read from;
- ``check_archive`` reads a zip's central directory (not its contents) and refuses a zip
  bomb before any library inflates it: too many bytes once decompressed, or a part that
  decompresses more than ``MAX_RATIO`` times (real office files stay well under both);
  Python's ``zipfile``, which every reader here uses, never inflates past the declared
  size, so a lying directory only makes the part fail its CRC check;
- ``time_limit`` interrupts a reader after ``seconds`` (a PDF whose page tree never ends).
  In the main thread (the command line) SIGALRM interrupts it anywhere; in any thread (the
  web interface, the HTTP API's upload jobs) readers call ``check_time`` between pages, so
  a long PDF stops at the next page once its time is up.
"""

from __future__ import annotations

import io
import os
import signal
import stat
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from rag.errors import ReadError

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_READ_TIMEOUT_S = 120.0
MAX_UNZIPPED_BYTES = 100 * 1024 * 1024
MAX_RATIO = 100
_RATIO_FROM_BYTES = 1024 * 1024  # a small part may compress any amount (a run of spaces)
ZIP_FORMATS = frozenset({"docx", "odt", "odp", "ods", "pptx", "epub", "xlsx"})


@dataclass(frozen=True)
class ReadLimits:
    """``max_bytes``: the file's size on disk; ``timeout_s``: seconds to read it (0: none)."""

    max_bytes: int = DEFAULT_MAX_BYTES
    timeout_s: float = DEFAULT_READ_TIMEOUT_S


def open_regular(path) -> io.BufferedReader:
    """Open ``path`` for reading, refusing (ReadError) anything but a regular file."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a folder" if stat.S_ISDIR(mode) else "a pipe, socket or device"
            raise ReadError(f"not a regular file (it is {kind}); not read")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def check_archive(data: bytes, max_bytes: int = MAX_UNZIPPED_BYTES, max_ratio: float = MAX_RATIO) -> None:
    """Refuse a zip whose parts would decompress to more than ``max_bytes`` in all, or a part
    that decompresses more than ``max_ratio`` times; a file that is not a zip passes (its
    reader says what is wrong with it)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    total = sum(m.file_size for m in members)
    if total > max_bytes:
        raise ReadError(
            f"refused: its parts would take {total / 2**20:.0f} MB once decompressed "
            f"(limit {max_bytes / 2**20:.0f} MB; a zip bomb?)"
        )
    for m in members:
        if m.file_size > _RATIO_FROM_BYTES and m.file_size > max_ratio * max(m.compress_size, 1):
            raise ReadError(
                f"refused: its part {m.filename!r} decompresses {m.file_size / max(m.compress_size, 1):.0f} times "
                f"(limit {max_ratio:g}; a zip bomb?)"
            )


class ReadTimeout(BaseException):
    """Raised inside a reader when its time is up. A BaseException, like KeyboardInterrupt,
    so that a library's ``except Exception`` cannot swallow it."""


_deadline = threading.local()


def check_time() -> None:
    """Raise ReadTimeout when the ``time_limit`` this thread runs under is over (else nothing)."""
    deadline = getattr(_deadline, "at", None)
    if deadline is not None and time.monotonic() > deadline:
        if threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGALRM"):
            signal.setitimer(signal.ITIMER_REAL, 0)  # this timeout is the one: no alarm may follow it
        raise ReadTimeout


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise ReadError if the block runs longer than ``seconds``: interrupted by SIGALRM in the
    main thread, at the next ``check_time`` in any thread."""
    if seconds <= 0:
        yield
        return
    previous_deadline = getattr(_deadline, "at", None)
    _deadline.at = time.monotonic() + seconds
    try:
        with _alarm(seconds):
            yield
    except ReadTimeout:
        raise timed_out(seconds) from None
    finally:
        _deadline.at = previous_deadline


def timed_out(seconds: float) -> ReadError:
    """The error of a file whose time is up. The caller of ``time_limit`` converts a
    ``ReadTimeout`` too: the alarm can go off while the block's own timeout is being handled,
    in the context manager's exit, where the block's ``except`` no longer reaches."""
    return ReadError(f"took longer than {seconds:g} s to read; skipped (raise ingestion.read_timeout_s to allow more)")


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    """SIGALRM raising ReadTimeout after ``seconds``, then every second (main thread only)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGALRM"):
        yield
        return

    armed = [True]

    def expire(signum, frame):
        if armed[0]:  # not once the block is over, however late the signal comes
            raise ReadTimeout

    previous = signal.signal(signal.SIGALRM, expire)
    # Re-armed every second: a library that caught the first one gets another.
    signal.setitimer(signal.ITIMER_REAL, seconds, 1.0)
    try:
        yield
    finally:
        armed[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
