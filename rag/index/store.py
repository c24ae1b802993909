"""The chunk store: documents, chunks and their vectors in one SQLite file.

SQLite, not pickle: opening an index never executes code from it, and its transactions
make every ingestion all-or-nothing (a killed run leaves the previous state intact).
The store is the source of truth; the FAISS file and keyword index are derived from it.
It also holds ``staged_vectors``: embeddings computed by a run that has not committed
yet, so a run killed while embedding resumes without redoing the work. A chunk's rowid is
never reused (``rowid_high``): the derived files are updated by rowid, commit after commit.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import numpy as np

from rag.types import Chunk

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    source TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL UNIQUE,
    root TEXT NOT NULL,
    format TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    n_pages INTEGER NOT NULL,
    n_chunks INTEGER NOT NULL,
    ingested_at REAL NOT NULL,
    text TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    chunk_id TEXT NOT NULL UNIQUE,
    doc_id TEXT NOT NULL,
    source TEXT NOT NULL,
    ord INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    page INTEGER,
    page_end INTEGER,
    heading_path TEXT NOT NULL,
    text TEXT NOT NULL,
    text_key TEXT NOT NULL,
    terms TEXT NOT NULL,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id, ord);
CREATE INDEX IF NOT EXISTS chunks_text_key ON chunks(text_key);
CREATE TABLE IF NOT EXISTS staged_vectors (text_key TEXT PRIMARY KEY, vector BLOB NOT NULL);
"""

# The meta key holding the highest chunk rowid ever given (``ChunkStore.rowid_high``).
ROWID_HIGH = "rowid_high"
_CHUNK_COLUMNS = 'id, chunk_id, doc_id, source, start, "end", page, page_end, heading_path, text'


@dataclass(frozen=True)
class DocumentRecord:
    """A stored document's bookkeeping (its text is fetched separately: it can be large)."""

    source: str
    doc_id: str
    root: str
    format: str
    size: int
    mtime_ns: int
    n_pages: int
    n_chunks: int
    ingested_at: float


def _chunk_from_row(row: tuple) -> tuple[int, Chunk]:
    rowid, chunk_id, doc_id, source, start, end, page, page_end, heading_path, text = row
    chunk = Chunk(chunk_id, doc_id, source, text, start, end, page, page_end, tuple(json.loads(heading_path)))
    return rowid, chunk


class ChunkStore:
    """Typed access to the SQLite file. Writes happen inside ``transaction()``.

    A reader (``readonly``) opens the file with ``mode=ro`` and never writes to it: no WAL
    pragma, no schema. On a folder nobody can write (read-only media) it opens the file as
    ``immutable``, since SQLite cannot create the WAL's shared-memory file there. A writer
    creates the schema and the identity (``meta``) in one transaction (``initialise``): a
    store either has both or neither, never a schema without an identity.
    """

    def __init__(self, path: Path, readonly: bool = False):
        self.path = path
        if readonly:
            immutable = "&immutable=1" if not os.access(path.parent, os.W_OK) else ""
            uri = f"file:{quote(str(path))}?mode=ro{immutable}"
        else:
            uri = f"file:{quote(str(path))}"
        self._db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        try:
            self._db.execute("PRAGMA busy_timeout = 10000")
            if not readonly:
                self._db.execute("PRAGMA journal_mode = WAL")
                self._db.execute("PRAGMA synchronous = FULL")
        except BaseException:
            self._db.close()
            raise

    def close(self) -> None:
        self._db.close()

    def initialise(self, meta: dict[str, str]) -> None:
        """Create the tables and write ``meta`` in one transaction (a kill leaves neither)."""
        with self.transaction():
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            self.set_meta(meta)

    def initialised(self) -> bool:
        """Whether the store holds an identity (an empty or half-created file does not)."""
        tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "meta" not in tables:
            return False
        return self._db.execute("SELECT 1 FROM meta WHERE key = 'schema_version'").fetchone() is not None

    # -- meta ---------------------------------------------------------------------------
    def get_meta(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT key, value FROM meta"))

    def set_meta(self, values: dict[str, str]) -> None:
        self._db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", list(values.items()))

    # -- transactions -------------------------------------------------------------------
    def transaction(self):
        return _Transaction(self._db)

    # -- documents ----------------------------------------------------------------------
    def documents(self) -> list[DocumentRecord]:
        rows = self._db.execute(
            "SELECT source, doc_id, root, format, size, mtime_ns, n_pages, n_chunks, ingested_at "
            "FROM documents ORDER BY source"
        )
        return [DocumentRecord(*row) for row in rows]

    def document_text(self, doc_id: str) -> str | None:
        row = self._db.execute("SELECT text FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return row[0] if row else None

    def add_document(self, record: DocumentRecord, text: str) -> None:
        self._db.execute(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*(getattr(record, f) for f in DocumentRecord.__dataclass_fields__), text),
        )

    def touch_document(self, source: str, size: int, mtime_ns: int) -> None:
        self._db.execute("UPDATE documents SET size = ?, mtime_ns = ? WHERE source = ?", (size, mtime_ns, source))

    def delete_document(self, source: str) -> None:
        row = self._db.execute("SELECT doc_id FROM documents WHERE source = ?", (source,)).fetchone()
        if row:
            self._db.execute("DELETE FROM chunks WHERE doc_id = ?", (row[0],))
            self._db.execute("DELETE FROM documents WHERE source = ?", (source,))

    # -- chunks -------------------------------------------------------------------------
    def add_chunks(self, chunks: list[Chunk], text_keys: list[str], terms: list[str], vectors: np.ndarray) -> None:
        """Insert chunks with their text keys, per-sentence keyword terms ("t t|t t") and vectors."""
        rows = [
            (
                c.chunk_id, c.doc_id, c.source, int(c.chunk_id.rsplit(":", 1)[1]), c.start, c.end, c.page,
                c.page_end, json.dumps(list(c.heading_path), ensure_ascii=False), c.text, key, term,
                np.asarray(vec, dtype=np.float32).tobytes(),
            )
            for c, key, term, vec in zip(chunks, text_keys, terms, vectors, strict=True)
        ]  # fmt: skip
        first = self.rowid_high() + 1
        self._db.executemany(
            'INSERT INTO chunks (id, chunk_id, doc_id, source, ord, start, "end", page, page_end, heading_path, '
            "text, text_key, terms, vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(first + i, *row) for i, row in enumerate(rows)],
        )
        if rows:
            self.set_meta({ROWID_HIGH: str(first + len(rows) - 1)})

    def rowid_high(self) -> int:
        """The highest chunk rowid ever given. Rowids are never reused (``add_chunks`` numbers
        past it), so the derived files can be updated by rowid: an id means one chunk forever."""
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (ROWID_HIGH,)).fetchone()
        largest = self._db.execute("SELECT MAX(id) FROM chunks").fetchone()[0]
        return max(int(row[0]) if row else 0, largest or 0)

    def keep_rowids_unique(self) -> None:
        """Record the highest rowid (a writer's first step on a store older than ``ROWID_HIGH``),
        before any deletion can lower ``MAX(id)``."""
        if ROWID_HIGH not in self.get_meta():
            with self.transaction():
                self.set_meta({ROWID_HIGH: str(self.rowid_high())})

    def iter_sentence_terms(self, after: int = 0) -> Iterator[tuple[int, list[list[str]]]]:
        """Per chunk (rowid above ``after``), its sentences' analysed terms ("t t|t t t|...")."""
        for rowid, terms in self._db.execute("SELECT id, terms FROM chunks WHERE id > ? ORDER BY id", (after,)):
            yield rowid, [sentence.split() for sentence in terms.split("|")]

    def snapshot(self) -> tuple[int, np.ndarray]:
        """The generation and the sorted rowids of its chunks, read in one transaction: a
        commit meanwhile cannot pair one generation's number with another's chunks."""
        own = not self._db.in_transaction
        if own:
            self._db.execute("BEGIN")
        try:
            generation = self._db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
            # One string from SQLite and one parse: several times faster than a row per id.
            joined = self._db.execute("SELECT group_concat(id) FROM (SELECT id FROM chunks ORDER BY id)").fetchone()[0]
            ids = np.array(joined.split(","), dtype=np.int64) if joined else np.zeros(0, dtype=np.int64)
        finally:
            if own:
                self._db.execute("COMMIT")
        return int(generation[0]) if generation else 0, ids

    def document_slice(self, doc_id: str, start: int, end: int) -> str:
        row = self._db.execute(
            "SELECT substr(text, ?, ?) FROM documents WHERE doc_id = ?", (start + 1, end - start, doc_id)
        ).fetchone()
        return row[0] if row else ""

    def count_documents(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]

    def document_totals(self) -> tuple[int, int, int]:
        """How many documents, their pages and their bytes, summed by SQLite (no list built)."""
        row = self._db.execute("SELECT COUNT(*), SUM(n_pages), SUM(size) FROM documents").fetchone()
        return int(row[0]), int(row[1] or 0), int(row[2] or 0)

    def count_chunks(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]

    def chunks_by_rowid(self, rowids: Iterable[int]) -> dict[int, Chunk]:
        rowids = list(rowids)
        found: dict[int, Chunk] = {}
        for i in range(0, len(rowids), 500):
            batch = rowids[i : i + 500]
            marks = ",".join("?" * len(batch))
            for row in self._db.execute(f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE id IN ({marks})", batch):
                rowid, chunk = _chunk_from_row(row)
                found[rowid] = chunk
        return found

    def iter_chunks(self) -> Iterator[tuple[int, Chunk]]:
        for row in self._db.execute(f"SELECT {_CHUNK_COLUMNS} FROM chunks ORDER BY id"):
            yield _chunk_from_row(row)

    def rowids_where(self, sql_filter: str, params: tuple = ()) -> np.ndarray:
        rows = self._db.execute(f"SELECT id FROM chunks WHERE {sql_filter}", params)
        return np.fromiter((r[0] for r in rows), dtype=np.int64)

    def neighbours(self, doc_id: str, ord_from: int, ord_to: int) -> list[Chunk]:
        rows = self._db.execute(
            f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE doc_id = ? AND ord BETWEEN ? AND ? ORDER BY ord",
            (doc_id, ord_from, ord_to),
        )
        return [_chunk_from_row(row)[1] for row in rows]

    def all_vectors(self, dim: int, after: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Rowids and vectors of the chunks whose rowid is above ``after``, by rowid."""
        ids, blobs = [], []
        for rowid, blob in self._db.execute("SELECT id, vector FROM chunks WHERE id > ? ORDER BY id", (after,)):
            ids.append(rowid)
            blobs.append(blob)
        vectors = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(ids), dim)
        return np.asarray(ids, dtype=np.int64), vectors

    # -- vector reuse -------------------------------------------------------------------
    def known_vectors(self, text_keys: list[str]) -> dict[str, bytes]:
        """Vectors already computed for these texts, from stored chunks or a killed run's staging."""
        found: dict[str, bytes] = {}
        for i in range(0, len(text_keys), 500):
            batch = text_keys[i : i + 500]
            marks = ",".join("?" * len(batch))
            for table in ("staged_vectors", "chunks"):
                query = f"SELECT text_key, vector FROM {table} WHERE text_key IN ({marks})"
                found.update(self._db.execute(query, batch))
        return found

    def stage_vectors(self, text_keys: list[str], vectors: np.ndarray) -> None:
        rows = [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in zip(text_keys, vectors, strict=True)]
        with self.transaction():
            self._db.executemany("INSERT OR REPLACE INTO staged_vectors VALUES (?, ?)", rows)

    def clear_staged(self) -> None:
        self._db.execute("DELETE FROM staged_vectors")


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self._db = db

    def __enter__(self):
        self._db.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            try:
                self._db.execute("COMMIT")
                return False
            except sqlite3.Error:
                self._rollback()
                raise
        self._rollback()
        return False

    def _rollback(self) -> None:
        # SQLite may have rolled back already (a full disk at COMMIT): a second ROLLBACK would
        # raise "no transaction is active" and hide the error that matters.
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")
