"""The chunk store's own guarantees: the schema and the identity come in one transaction,
a reader never writes, a file on a folder nobody can write is still read."""

from __future__ import annotations

import os
import sqlite3

import pytest

from rag.index.store import ChunkStore


def test_schema_and_identity_are_one_transaction(tmp_path):
    path = tmp_path / "chunks.sqlite"
    path.touch()  # what a first run killed at once leaves
    store = ChunkStore(path)
    assert not store.initialised()

    def broken(meta):
        raise OSError("killed between the tables and the identity")

    store.set_meta = broken
    with pytest.raises(OSError):
        store.initialise({"schema_version": "1"})
    del store.set_meta
    assert not store.initialised()
    tables = store._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    assert tables == []  # rolled back whole: no schema without an identity
    store.initialise({"schema_version": "1", "generation": "0"})
    assert store.initialised() and store.get_meta()["generation"] == "0"
    store.close()


def test_a_reader_never_writes(tmp_path):
    path = tmp_path / "chunks.sqlite"
    writer = ChunkStore(path)
    writer.initialise({"schema_version": "1", "generation": "0"})
    writer.close()
    before = path.read_bytes()
    reader = ChunkStore(path, readonly=True)
    assert reader.get_meta()["generation"] == "0"
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        with reader.transaction():
            reader.set_meta({"generation": "1"})
    reader.close()
    assert path.read_bytes() == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through permissions")
def test_a_store_in_a_folder_nobody_can_write_is_read(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    writer = ChunkStore(folder / "chunks.sqlite")
    writer.initialise({"schema_version": "1", "generation": "3"})
    writer.close()
    folder.chmod(0o555)
    try:
        reader = ChunkStore(folder / "chunks.sqlite", readonly=True)
        assert reader.initialised() and reader.get_meta()["generation"] == "3"
        reader.close()
    finally:
        folder.chmod(0o755)
