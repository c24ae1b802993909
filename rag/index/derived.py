"""The derived search files of an index directory: loaded, rebuilt, or updated per commit.

Per generation ``<gen>``: ``vectors-<gen>.faiss`` (the whole FAISS index) and
``keyword-<gen>.npz`` (the names of its keyword segments, ``kwseg-<token>.npz``, shared
between generations and never modified). Every file is written to a temporary name and
renamed, and only after all of a generation's files are written are the older ones
removed, so a reader of an older generation that already loaded it is unaffected.

A commit updates the last generation's files rather than rebuilding them (``update``): the
new chunks are the rowids above the highest one the previous files hold (the store never
reuses a rowid), the removed ones are those the store no longer has. Vectors are added to a
copy of the previous index and removed ones deleted (flat) or made tombstones (HNSW, rebuilt
past ``MAX_TOMBSTONES`` or when the flat/HNSW threshold is crossed); keywords get one new
segment, merged by the log policy of ``rag.index.keywords``. Whatever is missing, damaged,
from another store or does not cover the store is rebuilt from the store instead.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from rag.index.keywords import KeywordIndex
from rag.index.segments import SEGMENT_PREFIX, Segment
from rag.index.store import ChunkStore
from rag.index.vectors import MAX_TOMBSTONES, VectorIndex, resolve_index_type

_GENERATION = re.compile(r"^(?:vectors|keyword)-(\d+)\.(?:faiss|npz)$")


class DerivedFiles:
    """The derived files of ``directory``, whose store is ``store``."""

    def __init__(self, directory: Path, store: ChunkStore):
        self.directory = directory
        self.store = store

    def vector_path(self, generation: int) -> Path:
        return self.directory / f"vectors-{generation}.faiss"

    def keyword_path(self, generation: int) -> Path:
        return self.directory / f"keyword-{generation}.npz"

    def names(self) -> list[str]:
        """Every derived file in the directory, sorted."""
        found = [*self.directory.glob("vectors-*.faiss"), *self.directory.glob("keyword-*.npz")]
        return sorted(p.name for p in [*found, *self.directory.glob(f"{SEGMENT_PREFIX}*.npz")])

    def _token(self) -> str:
        """Which store the files come from: a store set aside and started afresh has another."""
        return self.store.get_meta().get("created_at", "")

    def _kind(self, n_live: int) -> str:
        return resolve_index_type(self.store.get_meta().get("index_type", "auto"), n_live)

    def _dim(self) -> int:
        return int(self.store.get_meta()["dim"])

    # -- loading ------------------------------------------------------------------------
    def load_vectors(self, generation: int, live: np.ndarray) -> VectorIndex | None:
        """The generation's vectors when their file loads and covers ``live``, else None."""
        try:
            vectors = VectorIndex.load(self.vector_path(generation), self._kind(len(live)))
        except Exception:  # missing, removed meanwhile, damaged: FAISS raises RuntimeError
            return None
        return vectors if vectors.dim == self._dim() and vectors.restrict(live) else None

    def load_keywords(self, generation: int, live: np.ndarray, known: KeywordIndex | None = None):
        """The generation's keywords when their files load and cover ``live``, else None."""
        try:
            keywords = KeywordIndex.load(
                self.keyword_path(generation), live, self._token(), known.segments if known else ()
            )
        except Exception:  # missing, removed meanwhile, damaged, older format, another store
            return None
        return keywords if keywords.n_chunks == len(live) else None

    def build_vectors(self, live: np.ndarray) -> VectorIndex:
        ids, vectors = self.store.all_vectors(self._dim())
        return VectorIndex.build(ids, vectors, self._dim(), self._kind(len(ids)))

    def build_keywords(self, live: np.ndarray) -> KeywordIndex:
        return KeywordIndex([Segment.build_windows(self.store.iter_sentence_terms())], live)

    # -- committing ---------------------------------------------------------------------
    def update(self, live: np.ndarray, last: tuple | None) -> tuple[VectorIndex, KeywordIndex]:
        """The search indexes for the store's chunks ``live`` (sorted rowids), updated from
        ``last`` (this writer's loaded (generation, vectors, keywords)) or from the newest
        files on disk; built from the store when there is nothing to start from."""
        base_vectors, base_keywords = (last[1], last[2]) if last else self._newest()
        # A loaded index may be in use by searches: updated as a copy; one just read is not.
        return self._next_vectors(base_vectors, live, bool(last)), self._next_keywords(base_keywords, live)

    def _newest(self) -> tuple[VectorIndex | None, KeywordIndex | None]:
        """The newest generation on disk whose keyword file is of this format and store (the
        vector file of that generation was written by the same commit)."""
        generations = sorted({int(m[1]) for p in self.directory.iterdir() if (m := _GENERATION.match(p.name))})
        for generation in reversed(generations):
            try:
                keywords = KeywordIndex.load(self.keyword_path(generation), None, self._token())
            except Exception:
                continue
            try:
                vectors = VectorIndex.load(self.vector_path(generation))
            except Exception:
                vectors = None
            return vectors, keywords
        return None, None

    def _next_vectors(self, base: VectorIndex | None, live: np.ndarray, copy: bool) -> VectorIndex:
        kind = self._kind(len(live))
        if base is None or base.kind != kind or base.dim != self._dim():
            return self.build_vectors(live)
        known = base.ids()
        ids, vectors = self.store.all_vectors(self._dim(), after=int(known.max()) if len(known) else 0)
        updated = base.updated(ids, vectors, live, copy)
        if updated.tombstone_fraction > MAX_TOMBSTONES or not updated.restrict(live):
            return self.build_vectors(live)
        return updated

    def _next_keywords(self, base: KeywordIndex | None, live: np.ndarray) -> KeywordIndex:
        if base is None:
            return self.build_keywords(live)
        high = max((int(s.unique_ids[-1]) for s in base.segments if len(s)), default=0)
        added = Segment.build_windows(self.store.iter_sentence_terms(after=high))
        keywords = base.with_added(added, live)
        return keywords if keywords.n_chunks == len(live) else self.build_keywords(live)

    def save(self, generation: int, vectors: VectorIndex, keywords: KeywordIndex) -> None:
        """Write the generation's files, then remove every other generation's and the
        segments it does not use."""
        vectors.save(self.vector_path(generation))
        keywords.save(self.keyword_path(generation), self._token())
        self.remove_unused(generation, keywords)

    def remove_unused(self, generation: int, keywords: KeywordIndex) -> None:
        """Remove the files of every generation but ``generation``, and unused segments."""
        keep = {self.vector_path(generation).name, self.keyword_path(generation).name}
        keep |= {s.name for s in keywords.segments}
        for name in self.names():
            if name not in keep:
                (self.directory / name).unlink(missing_ok=True)

    def remove_all(self) -> None:
        """Remove every derived file (the store they came from was set aside)."""
        for name in self.names():
            (self.directory / name).unlink(missing_ok=True)
