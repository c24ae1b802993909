"""FAISS vector index over chunk row ids: exact inner product, or HNSW for large corpora.

The vectors' source of truth is the chunk store; this file is a derived, rebuildable
artefact written atomically next to it. It does not know about chunks or documents.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from rag.errors import MissingDependencyError

# Past this many vectors an exact scan costs more than HNSW's small recall loss.
HNSW_THRESHOLD = 200_000
# How many stored vectors (evenly spread) estimate the spread of a query's scores.
STATS_SAMPLE = 4096
INDEX_TYPES = ("auto", "flat", "hnsw")


def _faiss():
    try:
        import faiss
    except ImportError as exc:
        raise MissingDependencyError("faiss-cpu", purpose="vector search") from exc
    return faiss


def resolve_index_type(requested: str, n_vectors: int) -> str:
    if requested not in INDEX_TYPES:
        raise ValueError(f"index type must be one of {INDEX_TYPES}, not {requested!r}")
    if requested == "auto":
        return "hnsw" if n_vectors >= HNSW_THRESHOLD else "flat"
    return requested


class VectorIndex:
    """Inner-product search over unit vectors keyed by int64 ids."""

    def __init__(self, index, kind: str):
        self._index = index
        self.kind = kind
        self._sample: np.ndarray | None = None

    @classmethod
    def build(cls, ids: np.ndarray, vectors: np.ndarray, dim: int, kind: str = "flat") -> VectorIndex:
        faiss = _faiss()
        if kind == "hnsw":
            base = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
            base.hnsw.efConstruction = 80
            base.hnsw.efSearch = 128
        else:
            base = faiss.IndexFlatIP(dim)
        index = faiss.IndexIDMap2(base)
        if len(ids):
            index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))
        return cls(index, kind)

    @classmethod
    def load(cls, path: Path, kind: str) -> VectorIndex:
        return cls(_faiss().read_index(str(path)), kind)

    def save(self, path: Path) -> None:
        """Write to ``path`` atomically: a crash leaves either the old file or the new one."""
        tmp = path.with_name(path.name + ".tmp")
        _faiss().write_index(self._index, str(tmp))
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def search(self, query: np.ndarray, k: int, allowed_ids: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top ``k`` (id, score) by inner product, best first; ``allowed_ids`` restricts the ids."""
        if k <= 0 or len(self) == 0:
            return []
        faiss = _faiss()
        params = None
        if allowed_ids is not None:
            if len(allowed_ids) == 0:
                return []
            selector = faiss.IDSelectorBatch(np.asarray(allowed_ids, dtype=np.int64))
            params = (
                faiss.SearchParametersHNSW(sel=selector, efSearch=max(128, k))
                if self.kind == "hnsw"
                else faiss.SearchParameters(sel=selector)
            )
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        scores, ids = self._index.search(query, min(k, len(self)), params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def scores(self, query: np.ndarray, ids) -> dict[int, float]:
        """Exact inner product of ``query`` with the vectors of ``ids`` (unknown ids left out)."""
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        found: dict[int, float] = {}
        for i in ids:
            try:
                found[int(i)] = float(self._index.reconstruct(int(i)) @ query)
            except RuntimeError:  # not in the index
                continue
        return found

    def score_stats(self, query: np.ndarray) -> tuple[float, float]:
        """Mean and standard deviation of the query's scores over the corpus (over an even
        sample of at most ``STATS_SAMPLE`` vectors): the scale for score fusion."""
        if self._sample is None:
            n = len(self)
            inner = _faiss().downcast_index(self._index.index)
            positions = np.unique(np.linspace(0, n - 1, min(n, STATS_SAMPLE)).astype(np.int64)) if n else []
            self._sample = (
                np.stack([inner.reconstruct(int(p)) for p in positions]).astype(np.float32)
                if len(positions)
                else np.zeros((0, inner.d), dtype=np.float32)
            )
        if not len(self._sample):
            return 0.0, 0.0
        values = self._sample @ np.asarray(query, dtype=np.float32).reshape(-1)
        return float(values.mean()), float(values.std())
