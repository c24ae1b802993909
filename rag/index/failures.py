"""What went wrong with the disk or the store, said so that a user can act on it.

SQLite and the operating system report a full disk, read-only media or a damaged file as
``sqlite3.OperationalError``/``DatabaseError`` or ``OSError`` with an errno; ``storage_error``
turns them into the ``RagError`` that says what to do (and None for anything else, which the
caller lets through). Every write is a transaction or a rename, so each message can say the
index is as the last completed run left it.
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.errors import IndexCorruptError, IndexWriteError, RagError

_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)


def storage_error(exc: BaseException, directory: Path) -> RagError | None:
    """The user-facing error for ``exc`` raised while using the index at ``directory``."""
    store = Path(directory) / "chunks.sqlite"
    intact = "The index is as the last completed run left it."
    message = str(exc).lower()
    if isinstance(exc, OSError) and exc.errno in _FULL or "disk is full" in message or "disk full" in message:
        return IndexWriteError(
            f"No space left on the disk holding {directory}. Free some space and run again. {intact}"
        )
    if isinstance(exc, OSError) and exc.errno in _READ_ONLY or "readonly database" in message:
        return IndexWriteError(
            f"Cannot write to {directory} (read-only media or no permission). Searching it still works; "
            f"to change it, copy the folder somewhere writable and use --index there. {intact}"
        )
    if isinstance(exc, sqlite3.DatabaseError) and (
        "not a database" in message or "malformed" in message or "corrupt" in message
    ):
        return IndexCorruptError(
            f"The index store {store} is damaged ({exc}). Rebuild it with: "
            f"rag ingest PATH --index {directory} --rebuild (the damaged file is set aside)."
        )
    if isinstance(exc, sqlite3.OperationalError) and "unable to open database" in message:
        return IndexWriteError(f"Cannot open the index store {store}: check that the folder can be read ({exc}).")
    return None


@contextmanager
def storage_errors(directory: Path) -> Iterator[None]:
    """Raise ``storage_error``'s message instead of a full disk's, a damaged store's... OSError."""
    try:
        yield
    except (sqlite3.Error, OSError) as exc:
        error = storage_error(exc, directory)
        if error is None:
            raise
        raise error from exc
