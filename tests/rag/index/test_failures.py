"""Storage failures turned into messages a user can act on; anything else passes through."""

from __future__ import annotations

import errno
import sqlite3

import pytest

from rag.errors import IndexCorruptError, IndexWriteError
from rag.index.failures import storage_error, storage_errors


@pytest.mark.parametrize(
    ("exc", "kind", "words"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), IndexWriteError, "No space left"),
        (sqlite3.OperationalError("database or disk is full"), IndexWriteError, "No space left"),
        (OSError(errno.EROFS, "Read-only file system"), IndexWriteError, "read-only media"),
        (sqlite3.OperationalError("attempt to write a readonly database"), IndexWriteError, "read-only media"),
        (sqlite3.DatabaseError("file is not a database"), IndexCorruptError, "--rebuild"),
        (sqlite3.DatabaseError("database disk image is malformed"), IndexCorruptError, "damaged"),
        (sqlite3.OperationalError("unable to open database file"), IndexWriteError, "can be read"),
    ],
)
def test_each_failure_says_what_to_do(tmp_path, exc, kind, words):
    error = storage_error(exc, tmp_path)
    assert isinstance(error, kind) and words in str(error) and str(tmp_path) in str(error)
    assert "\n" not in str(error)


def test_other_errors_pass_through(tmp_path):
    assert storage_error(ValueError("bug"), tmp_path) is None
    assert storage_error(OSError(errno.ENOENT, "gone"), tmp_path) is None
    with pytest.raises(IndexWriteError, match="No space left"):
        with storage_errors(tmp_path):
            raise OSError(errno.ENOSPC, "No space left on device")
    with pytest.raises(KeyError):
        with storage_errors(tmp_path):
            raise KeyError("not a storage error")
