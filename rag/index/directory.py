"""The on-disk index: one directory holding the chunk store, derived search files and a manifest.

Layout of ``DIR``::

    chunks.sqlite          documents, chunks, vectors (source of truth, transactional)
    vectors-<gen>.faiss    FAISS index of generation <gen>, derived from chunks.sqlite
    keyword-<gen>.npz      BM25 postings of generation <gen>, derived from chunks.sqlite
    manifest.json          human-readable mirror of the identity and statistics
    .lock                  held by the one process allowed to write

The identity (embedder id and dimension, chunking parameters, schema version) is
stored with the data; opening with a different identity raises ``IndexMismatchError``
that says how to rebuild. A derived file that is missing or stale (a crash between the
commit and its write) is rebuilt from the store, so a crash never leaves an unloadable index.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from pathlib import Path

import numpy as np

from rag.errors import IndexLockedError, IndexMismatchError, IndexNotFoundError
from rag.index.keywords import KeywordIndex
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
        self._loaded: dict[str, tuple[int, VectorIndex | KeywordIndex]] = {}
        self._loading = threading.Lock()

    # -- opening ------------------------------------------------------------------------
    @classmethod
    def open(cls, directory: Path | str, embedder_id: str | None = None, chunking: dict | None = None) -> Index:
        directory = Path(directory)
        if not (directory / STORE_FILE).exists():
            raise IndexNotFoundError(f"No index at {directory}. Create one with: rag ingest PATH --index {directory}")
        index = cls(directory, ChunkStore(directory / STORE_FILE))
        index._check_identity(embedder_id, None, chunking)
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
    ) -> Index:
        """Open or create ``directory`` for ingestion, holding its write lock until ``close``.

        ``replace_identity`` skips the identity check: the caller is rebuilding the index
        and writes the new identity in the same transaction as the new chunks.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        handle = open(directory / ".lock", "w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise IndexLockedError(
                f"Another ingestion is writing {directory}. Wait for it to finish, or use another --index."
            ) from None
        index = cls(directory, ChunkStore(directory / STORE_FILE), lock_handle=handle)
        meta = index.store.get_meta()
        if not meta:
            with index.store.transaction():
                index.store.set_meta(
                    {
                        "schema_version": str(SCHEMA_VERSION),
                        "embedder_id": embedder_id,
                        "dim": str(dim),
                        "chunking": encode_chunking(chunking),
                        "index_type": index_type,
                        "analyzer": ANALYZER_ID,
                        "generation": "0",
                        "created_at": str(time.time()),
                    }
                )
        if not replace_identity:
            index._check_identity(embedder_id, dim, chunking)
        return index

    def close(self) -> None:
        self.store.close()
        if self._lock_handle is not None:
            fcntl.flock(self._lock_handle, fcntl.LOCK_UN)
            self._lock_handle.close()
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
        docs = self.store.documents()
        n_chunks = self.store.count_chunks()
        derived = sorted(
            p.name for p in [*self.directory.glob("vectors-*.faiss"), *self.directory.glob("keyword-*.npz")]
        )
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
                "documents": len(docs),
                "chunks": n_chunks,
                "pages": sum(d.n_pages for d in docs),
                "bytes": sum(d.size for d in docs),
            },
            "analyzer": meta.get("analyzer"),
            "files": [STORE_FILE, *derived],
        }

    # -- derived files ------------------------------------------------------------------
    def _vector_path(self, generation: int) -> Path:
        return self.directory / f"vectors-{generation}.faiss"

    def vectors(self) -> VectorIndex:
        """The FAISS index of the current generation, loaded once, rebuilt if missing."""
        return self._derived("vectors", self.generation)

    def keywords(self) -> KeywordIndex:
        """The BM25 index of the current generation, loaded once, rebuilt if missing."""
        return self._derived("keywords", self.generation)

    def searchers(self) -> tuple[VectorIndex, KeywordIndex]:
        """The vector and keyword indexes of one generation, the last committed. A search uses
        this pair throughout: an ingestion committing meanwhile cannot mix two generations."""
        for _ in range(5):
            generation = self.generation
            pair = self._derived("vectors", generation), self._derived("keywords", generation)
            if self.generation == generation:
                break
        return pair

    def _keyword_path(self, generation: int) -> Path:
        return self.directory / f"keyword-{generation}.npz"

    def vector_file_current(self) -> bool:
        generation = self.generation
        return self._vector_path(generation).exists() and self._keyword_path(generation).exists()

    def _derived(self, kind: str, generation: int):
        """The derived index ``kind`` of ``generation``, cached as one (generation, index) pair so
        that threads reading it never see one generation's number with another's index."""
        cached = self._loaded.get(kind)
        if cached is not None and cached[0] == generation:
            return cached[1]
        with self._loading:  # one thread loads; the others then find it cached
            cached = self._loaded.get(kind)
            if cached is not None and cached[0] == generation:
                return cached[1]
            if kind == "vectors":
                path = self._vector_path(generation)
                vector_kind = resolve_index_type(self.meta.get("index_type", "auto"), self.store.count_chunks())
                load, build = lambda: VectorIndex.load(path, vector_kind), lambda: self._build_vectors(vector_kind)
            else:
                path = self._keyword_path(generation)
                load, build = lambda: KeywordIndex.load(path), self._build_keywords
            try:
                value = load() if path.exists() else None
            except (OSError, RuntimeError):  # replaced by a newer generation since exists()
                value = None
            if value is None:
                # Not written yet (a writer between its commit and its files), or already replaced:
                # built from the store, the source of truth.
                value = build()
                if self._lock_handle is not None:
                    value.save(path)
            self._loaded[kind] = (generation, value)
            return value

    def _build_keywords(self) -> KeywordIndex:
        return KeywordIndex.build_windows(self.store.iter_sentence_terms())

    def _build_vectors(self, kind: str) -> VectorIndex:
        ids, vectors = self.store.all_vectors(self.dim)
        return VectorIndex.build(ids, vectors, self.dim, kind)

    def commit_generation(self, stats: dict) -> None:
        """After the store's transaction: write derived files for the new generation, drop old ones."""
        generation = self.generation
        kind = resolve_index_type(self.meta.get("index_type", "auto"), self.store.count_chunks())
        vectors, keywords = self._build_vectors(kind), self._build_keywords()
        vectors.save(self._vector_path(generation))
        keywords.save(self._keyword_path(generation))
        self._loaded = {"vectors": (generation, vectors), "keywords": (generation, keywords)}
        keep = {self._vector_path(generation).name, self._keyword_path(generation).name}
        for old in [*self.directory.glob("vectors-*.faiss"), *self.directory.glob("keyword-*.npz")]:
            if old.name not in keep:
                old.unlink(missing_ok=True)
        self.write_manifest(stats)

    def write_manifest(self, last_run: dict | None = None) -> None:
        manifest = self.info()
        if last_run is not None:
            manifest["last_run"] = last_run
        tmp = self.directory / (MANIFEST_FILE + ".tmp")
        tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, self.directory / MANIFEST_FILE)

    def search_dense(self, query: np.ndarray, k: int, allowed_ids: np.ndarray | None = None):
        return self.vectors().search(query, k, allowed_ids)
