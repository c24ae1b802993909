"""The on-disk index: one directory holding the chunk store, derived search files and a manifest.

Layout of ``DIR``::

    chunks.sqlite          documents, chunks, vectors (source of truth, transactional)
    vectors-<gen>.faiss    FAISS index of generation <gen>, derived from chunks.sqlite
    keyword-<gen>.npz      the keyword segments of generation <gen> (their names)
    kwseg-<token>.npz      a keyword segment: BM25 postings of some chunks, shared by generations
    manifest.json          human-readable mirror of the identity and statistics
    .lock                  held by the one process allowed to write (``rag.index.lock``)

The identity (embedder id and dimension, chunking parameters, schema version) is
stored with the data, created in the same transaction as the tables; opening with a
different identity raises ``IndexMismatchError`` that says how to rebuild. A store a
first run left without identity reads as "no index yet" and is completed by the next
writer. A derived file that is missing, unreadable or stale (a crash between the commit
and its write) is rebuilt from the store on open and written back by the next writer,
so a crash never leaves an unloadable index. Readers open the store read-only.
A commit updates the previous generation's files rather than rebuilding them
(``rag.index.derived``: new rowids added, removed ones deleted or made tombstones).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from rag.errors import IndexCorruptError, IndexLocationError, IndexMismatchError, IndexNotFoundError
from rag.index.derived import DerivedFiles
from rag.index.failures import storage_errors
from rag.index.keywords import KeywordIndex
from rag.index.lock import acquire as acquire_lock
from rag.index.lock import release as release_lock
from rag.index.store import ChunkStore
from rag.index.vectors import VectorIndex, resolve_index_type
from rag.text.analysis import ANALYZER_ID

SCHEMA_VERSION = 1
STORE_FILE = "chunks.sqlite"
MANIFEST_FILE = "manifest.json"


def encode_chunking(chunking: dict) -> str:
    return json.dumps(chunking, sort_keys=True)


class Index:
    """An opened index directory. Use ``open`` to read and ``open_for_write`` to ingest."""

    def __init__(self, directory: Path, store: ChunkStore, lock_handle=None):
        self.directory = directory
        self.store = store
        self._lock_handle = lock_handle
        self._files = DerivedFiles(directory, store)
        # The last loaded generation: (generation, vectors, keywords), replaced as one.
        self._loaded: tuple[int, VectorIndex, KeywordIndex] | None = None
        self._loading = threading.Lock()

    # -- opening ------------------------------------------------------------------------
    @classmethod
    def open(cls, directory: Path | str, embedder_id: str | None = None, chunking: dict | None = None) -> Index:
        """Open ``directory`` to read it: the store read-only, never written, no lock taken."""
        directory = Path(directory)
        _refuse_a_file(directory)
        if not (directory / STORE_FILE).exists():
            raise IndexNotFoundError(f"No index at {directory}. Create one with: rag ingest PATH --index {directory}")
        store = _open_store(directory, readonly=True)
        index = cls(directory, store)
        try:
            if not _initialised(store, directory):
                raise IndexNotFoundError(
                    f"The index at {directory} is empty (its first ingestion did not finish). "
                    f"Create it with: rag ingest PATH --index {directory}"
                )
            index._check_identity(embedder_id, None, chunking)
        except BaseException:
            store.close()
            raise
        return index

    @classmethod
    def open_for_write(
        cls,
        directory: Path | str,
        embedder_id: str,
        dim: int,
        chunking: dict,
        index_type: str = "auto",
        replace_identity: bool = False,
        *,
        wait: bool = True,
        on_wait: Callable[[int | None], None] | None = None,
    ) -> Index:
        """Open or create ``directory`` for ingestion, holding its write lock until ``close``.

        ``replace_identity`` skips the identity check: the caller is rebuilding the index
        and writes the new identity in the same transaction as the new chunks (a damaged
        store is then set aside and started afresh). A store without identity (a first run
        killed at once) or without documents takes the identity asked for: there is nothing
        in it to lose. ``wait``/``on_wait``: what to do while another writer holds the lock.
        """
        directory = Path(directory)
        _refuse_a_file(directory)
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise IndexLocationError(
                f"--index {directory}: a part of this path is a file. Give a folder for the index."
            ) from None
        handle = acquire_lock(directory, wait=wait, on_wait=on_wait)
        try:
            index = cls(directory, _open_for_write(directory, replace_identity), lock_handle=handle)
        except BaseException:
            release_lock(handle)
            raise
        try:
            identity = {
                "schema_version": str(SCHEMA_VERSION),
                "embedder_id": embedder_id,
                "dim": str(dim),
                "chunking": encode_chunking(chunking),
                "index_type": index_type,
                "analyzer": ANALYZER_ID,
            }
            if not index.store.initialised():
                index.store.initialise({**identity, "generation": "0", "created_at": str(time.time())})
            elif not replace_identity and not index.store.count_documents():
                with index.store.transaction():
                    index.store.set_meta(identity)
            if not replace_identity:
                index._check_identity(embedder_id, dim, chunking)
            index.store.keep_rowids_unique()
            _remove_temporary_files(directory)
        except BaseException:
            index.close()
            raise
        return index

    def close(self) -> None:
        self.store.close()
        if self._lock_handle is not None:
            release_lock(self._lock_handle)
            self._lock_handle = None

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _check_identity(self, embedder_id: str | None, dim: int | None, chunking: dict | None) -> None:
        meta = self.store.get_meta()
        rebuild = (
            f"Rebuild it with: rag ingest PATH --index {self.directory} --rebuild "
            f"(or choose another directory with --index)."
        )
        if int(meta.get("schema_version", "0")) != SCHEMA_VERSION:
            raise IndexMismatchError(
                f"The index at {self.directory} has schema version {meta.get('schema_version')}, "
                f"this program reads version {SCHEMA_VERSION}. {rebuild}"
            )
        wanted = {"embedder": embedder_id, "dimension": dim, "chunking": chunking, "keyword analyzer": ANALYZER_ID}
        stored = {
            "embedder": meta["embedder_id"],
            "dimension": int(meta["dim"]),
            "chunking": self.chunking,
            "keyword analyzer": meta.get("analyzer"),
        }
        for what, value in wanted.items():
            if value is not None and value != stored[what]:
                raise IndexMismatchError(
                    f"The index at {self.directory} was built with {what} {stored[what]!r}, "
                    f"but {value!r} was asked for. {rebuild}"
                )

    # -- identity and statistics --------------------------------------------------------
    @property
    def meta(self) -> dict[str, str]:
        return self.store.get_meta()

    @property
    def embedder_id(self) -> str:
        return self.meta["embedder_id"]

    @property
    def dim(self) -> int:
        return int(self.meta["dim"])

    @property
    def chunking(self) -> dict:
        return json.loads(self.meta["chunking"])

    @property
    def generation(self) -> int:
        return int(self.meta["generation"])

    def info(self) -> dict:
        meta = self.meta
        n_docs, n_pages, n_bytes = self.store.document_totals()
        n_chunks = self.store.count_chunks()
        derived = self._files.names()
        return {
            "directory": str(self.directory),
            "schema_version": int(meta["schema_version"]),
            "embedder": {"id": meta["embedder_id"], "dim": int(meta["dim"])},
            "chunking": self.chunking,
            "index_type": resolve_index_type(meta.get("index_type", "auto"), n_chunks),
            "generation": int(meta["generation"]),
            "created_at": float(meta.get("created_at", 0)),
            "updated_at": float(meta.get("updated_at", 0) or 0),
            "stats": {
                "documents": n_docs,
                "chunks": n_chunks,
                "pages": n_pages,
                "bytes": n_bytes,
            },
            "analyzer": meta.get("analyzer"),
            "files": [STORE_FILE, *derived],
        }

    # -- derived files ------------------------------------------------------------------
    def _vector_path(self, generation: int) -> Path:
        return self._files.vector_path(generation)

    def _keyword_path(self, generation: int) -> Path:
        return self._files.keyword_path(generation)

    def vectors(self) -> VectorIndex:
        """The FAISS index of the current generation, loaded once; rebuilt from the store
        when its file is missing, unreadable or stale (and then written by a writer)."""
        return self.searchers()[0]

    def keywords(self) -> KeywordIndex:
        """The BM25 index of the current generation, like ``vectors``."""
        return self.searchers()[1]

    def searchers(self) -> tuple[VectorIndex, KeywordIndex]:
        """The vector and keyword indexes of one generation, the last committed. A search uses
        this pair throughout: an ingestion committing meanwhile cannot mix two generations."""
        loaded = self._loaded
        if loaded is not None and loaded[0] == self.generation:
            return loaded[1], loaded[2]
        with self._loading:  # one thread loads; the others then find it cached
            for attempt in range(5):
                generation, live = self.store.snapshot()
                loaded = self._loaded
                if loaded is not None and loaded[0] == generation:
                    return loaded[1], loaded[2]
                known = loaded[2] if loaded is not None else None  # its segments are reused
                vectors = self._files.load_vectors(generation, live)
                keywords = self._files.load_keywords(generation, live, known)
                if vectors is None or keywords is None:
                    if attempt < 4 and self.generation != generation:
                        continue  # a commit replaced the files meanwhile: load the new ones
                    # Not written yet (a writer between its commit and its files, or killed
                    # there), damaged or stale: built from the store, the source of truth.
                    if vectors is None:
                        vectors = self._files.build_vectors(live)
                        vectors.restrict(live)  # a commit since the snapshot: its chunks left out
                    if keywords is None:
                        keywords = self._files.build_keywords(live)
                    if self._lock_handle is not None:
                        self._files.save(generation, vectors, keywords)
                self._loaded = (generation, vectors, keywords)
                return vectors, keywords
        raise AssertionError("unreachable")

    def derived_current(self) -> bool:
        """Whether the current generation's search files and manifest are all on disk."""
        generation = self.generation
        if not (self._vector_path(generation).exists() and self._keyword_path(generation).exists()):
            return False
        try:
            manifest = json.loads((self.directory / MANIFEST_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return manifest.get("generation") == generation

    def commit_generation(self, stats: dict) -> None:
        """After the store's transaction: write derived files for the new generation, drop old
        ones. They are updated from the previous generation's (``rag.index.derived``), each
        written to a temporary name and renamed, so a kill leaves no half file."""
        generation, live = self.store.snapshot()
        vectors, keywords = self._files.update(live, self._loaded)
        self._files.save(generation, vectors, keywords)
        self._loaded = (generation, vectors, keywords)
        self.write_manifest(stats)

    def refresh_derived(self, stats: dict) -> None:
        """A writer's last step: write whatever derived file a killed run left missing or stale."""
        if not self.derived_current():
            self.commit_generation(stats)

    def write_manifest(self, last_run: dict | None = None) -> None:
        manifest = self.info()
        if last_run is not None:
            manifest["last_run"] = last_run
        tmp = self.directory / (MANIFEST_FILE + ".tmp")
        tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, self.directory / MANIFEST_FILE)

    def search_dense(self, query: np.ndarray, k: int, allowed_ids: np.ndarray | None = None):
        return self.vectors().search(query, k, allowed_ids)


def _refuse_a_file(directory: Path) -> None:
    if directory.is_file():
        raise IndexLocationError(
            f"--index {directory} is a file, not a folder. Give the folder that holds (or will hold) the index."
        )


def _open_store(directory: Path, readonly: bool) -> ChunkStore:
    with storage_errors(directory):
        return ChunkStore(directory / STORE_FILE, readonly=readonly)


def _initialised(store: ChunkStore, directory: Path) -> bool:
    with storage_errors(directory):
        try:
            return store.initialised()
        except sqlite3.OperationalError as exc:
            # A first run killed inside its first transaction, before the store was in WAL mode,
            # leaves a rollback journal that only a writer may roll back: no index yet.
            if getattr(exc, "sqlite_errorname", "") == "SQLITE_READONLY_ROLLBACK":
                return False
            raise


def _open_for_write(directory: Path, replace_identity: bool) -> ChunkStore:
    """The store, for writing; a damaged one is set aside (``chunks.sqlite.damaged-<time>``)
    when the caller rebuilds, and refused with the rebuild command otherwise."""
    try:
        store = _open_store(directory, readonly=False)
        _initialised(store, directory)
        return store
    except IndexCorruptError:
        if not replace_identity:
            raise
    aside = directory / f"{STORE_FILE}.damaged-{int(time.time())}"
    os.replace(directory / STORE_FILE, aside)
    for suffix in ("-wal", "-shm"):
        (directory / (STORE_FILE + suffix)).unlink(missing_ok=True)
    store = _open_store(directory, readonly=False)
    DerivedFiles(directory, store).remove_all()  # derived from the store set aside: never a base
    return store


def _remove_temporary_files(directory: Path) -> None:
    """What a writer killed while writing a derived file left: never read, safe to delete."""
    for tmp in [*directory.glob("*.faiss.tmp"), *directory.glob("*.tmp.npz"), directory / (MANIFEST_FILE + ".tmp")]:
        tmp.unlink(missing_ok=True)
