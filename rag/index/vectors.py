"""FAISS vector index over chunk row ids: exact inner product, or approximate for large corpora.

Three kinds: ``flat`` (exact), ``pq`` and ``hnsw``. ``pq`` scans 4-bit product-quantised
codes of every vector (FAISS fast scan, two dimensions per sub-quantiser: dim/2 bytes a
vector) and re-scores the ``REFINE_CANDIDATES`` best with the full vectors, kept in half
precision (half the file and memory of float32; scores within 1e-4 of exact), so only the
candidate list is approximate. It is the default past ``LARGE_THRESHOLD`` because it was measured better than HNSW on the scale
benchmark's million 384-d vectors (docs/benchmarks.md, "Scale"): recall@10 0.992 of exact at
7 ms a query on one core, where HNSW (M 32, efConstruction 160) reached 0.918 at 17 ms
(efSearch 2048); and it builds in seconds where the graph took about twenty minutes.

The vectors' source of truth is the chunk store; this file is a derived, rebuildable
artefact written atomically next to it. It does not know about chunks or documents.

A commit updates the previous generation's index (``updated``) rather than rebuilding it:
new rowids are added; removed ones are deleted from a flat index, and kept in an HNSW graph
or a pq index (which cannot delete) as tombstones, excluded from every search (by an ID
selector for HNSW; pq's search is widened and filtered, as FAISS ignores selectors there). The
tombstones are not stored: they are the index's ids the store no longer has (``restrict``;
rowids are never reused). Past ``MAX_TOMBSTONES`` of the graph the caller rebuilds it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from rag.errors import MissingDependencyError
from rag.index.segments import isin_sorted

# Past this many vectors an exact scan costs more than an approximate index's small recall loss.
LARGE_THRESHOLD = 200_000
LARGE_KIND = "pq"
# How many stored vectors (evenly spread) estimate the spread of a query's scores.
STATS_SAMPLE = 4096
INDEX_TYPES = ("auto", "flat", "hnsw", "pq")
# pq: how many candidates of the quantised scan are re-scored with the full vectors (per search, whatever k:
# recall@10 0.967 / 0.980 / 0.992 for 2,000 / 3,000 / 5,000 at a million vectors, eval.bench_ann); how many
# vectors it trains its codebooks on (evenly spread); below PQ_MIN_VECTORS it stays exact.
REFINE_CANDIDATES = 5000
PQ_TRAIN = 65_536
PQ_MIN_VECTORS = 4096
# pq with a filter: up to this many allowed vectors are scored exactly rather than searched.
EXACT_ALLOWED = 4096
# HNSW parameters, measured against exact search on 100k synthetic 384-d unit vectors, clustered
# and anisotropic like E5's (mean cosine of two random vectors 0.74): recall@10 0.981 (efC 80:
# 0.960; efSearch 128: 0.969), 2 ms a query on one core; 1.000 on tighter clusters (cosine 0.87).
HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 32, 160, 256
# Past this fraction of removed vectors in an HNSW graph, a commit rebuilds it.
MAX_TOMBSTONES = 0.1


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
        requested = LARGE_KIND if n_vectors >= LARGE_THRESHOLD else "flat"
    if requested == "pq" and n_vectors < PQ_MIN_VECTORS:  # too few to train its codebooks
        return "flat"
    return requested


class VectorIndex:
    """Inner-product search over unit vectors keyed by int64 ids."""

    def __init__(self, index, kind: str, tombstones: np.ndarray | None = None):
        self._index = index
        self.kind = kind
        self.tombstones = np.zeros(0, dtype=np.int64) if tombstones is None else np.unique(tombstones)
        self._sample: np.ndarray | None = None
        self._live_selector: tuple | None = None

    @classmethod
    def build(cls, ids: np.ndarray, vectors: np.ndarray, dim: int, kind: str = "flat") -> VectorIndex:
        faiss = _faiss()
        if kind == "hnsw":
            base = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            base.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            base.hnsw.efSearch = HNSW_EF_SEARCH
        elif kind == "pq":
            vectors = np.ascontiguousarray(vectors, dtype=np.float32)
            if len(vectors) < PQ_MIN_VECTORS:
                raise ValueError(f"a pq index needs at least {PQ_MIN_VECTORS} vectors to train on")
            quantiser = faiss.IndexPQFastScan(dim, dim // 2 if dim % 2 == 0 else dim, 4, faiss.METRIC_INNER_PRODUCT)
            train = np.unique(np.linspace(0, len(vectors) - 1, min(len(vectors), PQ_TRAIN)).astype(np.int64))
            quantiser.train(vectors[train])
            full = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
            base = faiss.IndexRefine(quantiser, full)
        else:
            base = faiss.IndexFlatIP(dim)
        index = faiss.IndexIDMap2(base)
        if len(ids):
            index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))
        return cls(index, kind)

    @classmethod
    def load(cls, path: Path, kind: str | None = None) -> VectorIndex:
        """The index saved at ``path``; ValueError when it is not of ``kind`` (when given)."""
        faiss = _faiss()
        index = faiss.read_index(str(path))
        inner = faiss.downcast_index(index.index) if hasattr(index, "id_map") else None
        kinds = (("hnsw", faiss.IndexHNSW), ("flat", faiss.IndexFlat), ("pq", faiss.IndexRefine))
        found = next((name for name, cls in kinds if isinstance(inner, cls)), None)
        if found is None or (kind is not None and found != kind):
            raise ValueError(f"{path.name} holds a {found or 'foreign'} index, not {kind}")
        return cls(index, found)

    @property
    def dim(self) -> int:
        return int(self._index.d)

    def ids(self) -> np.ndarray:
        """Every rowid in the index, tombstones included, in insertion order."""
        return _faiss().vector_to_array(self._index.id_map).astype(np.int64)

    def restrict(self, live_ids: np.ndarray) -> bool:
        """Take the store's sorted ``live_ids`` as the live ones (the others become tombstones);
        False when some live id is missing from the index (it is stale)."""
        ids = self.ids()
        live = isin_sorted(ids, live_ids)
        self.tombstones = np.sort(ids[~live])
        self._sample, self._live_selector = None, None
        return int(live.sum()) == len(live_ids)

    def updated(
        self, new_ids: np.ndarray, new_vectors: np.ndarray, live_ids: np.ndarray, copy: bool = True
    ) -> VectorIndex:
        """This index with ``new_ids`` added and every id not in the sorted ``live_ids`` removed
        (a flat index deletes them; HNSW and pq keep them as tombstones), as a copy unless
        ``copy`` is False: searches may be using this one."""
        faiss = _faiss()
        index = faiss.clone_index(self._index) if copy else self._index
        gone = self.ids()
        gone = gone[~isin_sorted(gone, live_ids)]
        tombstones = gone
        if self.kind == "flat" and len(gone):
            index.remove_ids(faiss.IDSelectorBatch(gone))
            tombstones = None
        if len(new_ids):
            index.add_with_ids(np.ascontiguousarray(new_vectors, dtype=np.float32), np.asarray(new_ids, np.int64))
        return VectorIndex(index, self.kind, tombstones)

    @property
    def tombstone_fraction(self) -> float:
        return len(self.tombstones) / self._index.ntotal if self._index.ntotal else 0.0

    def save(self, path: Path) -> None:
        """Write to ``path`` atomically: a crash leaves either the old file or the new one."""
        tmp = path.with_name(path.name + ".tmp")
        _faiss().write_index(self._index, str(tmp))
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    def __len__(self) -> int:
        """The number of live vectors (tombstones left out)."""
        return int(self._index.ntotal) - len(self.tombstones)

    def search(self, query: np.ndarray, k: int, allowed_ids: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top ``k`` (id, score) by inner product, best first; ``allowed_ids`` restricts the ids."""
        if k <= 0 or len(self) == 0:
            return []
        if self.kind == "pq":
            return self._search_pq(query, k, allowed_ids)
        faiss = _faiss()
        params, selectors = None, []
        if allowed_ids is not None:
            allowed = np.asarray(allowed_ids, dtype=np.int64)
            if len(self.tombstones):
                allowed = allowed[~isin_sorted(allowed, self.tombstones)]
            if len(allowed) == 0:
                return []
            selectors.append(faiss.IDSelectorBatch(allowed))
        elif len(self.tombstones):
            if self._live_selector is None:  # built once per generation, not per search
                removed = faiss.IDSelectorBatch(self.tombstones)
                self._live_selector = (removed, faiss.IDSelectorNot(removed))  # the inner one kept alive
            selectors.extend(self._live_selector)
        if self.kind == "hnsw":  # efSearch from here, not from the file: files of older settings too
            params = faiss.SearchParametersHNSW()
            params.efSearch = max(HNSW_EF_SEARCH, k)
        elif selectors:
            params = faiss.SearchParameters()
        if selectors:
            params.sel = selectors[-1]
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        scores, ids = self._index.search(query, min(k, len(self)), params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def _search_pq(self, query: np.ndarray, k: int, allowed_ids: np.ndarray | None) -> list[tuple[int, float]]:
        """pq search: the quantised scan's best ``REFINE_CANDIDATES`` re-scored with the full
        (half-precision) vectors. A few allowed ids are scored directly instead; otherwise tombstones and ids not allowed are
        filtered out of a search widened until it yields ``k`` or covers the whole index."""
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        dead = self.tombstones
        if allowed_ids is not None:
            allowed = np.unique(np.asarray(allowed_ids, dtype=np.int64))
            allowed = allowed[~isin_sorted(allowed, dead)] if len(dead) else allowed
            if len(allowed) <= EXACT_ALLOWED:
                found = sorted(self.scores(query, allowed.tolist()).items(), key=lambda item: (-item[1], item[0]))
                return found[:k]
        total = int(self._index.ntotal)
        params = _faiss().IndexRefineSearchParameters()
        wanted = min(total, k + int(np.ceil(k * 2 * self.tombstone_fraction)) + (k if allowed_ids is not None else 0))
        while True:
            params.k_factor = max(REFINE_CANDIDATES / wanted, 1.0)
            scores, ids = self._index.search(query, wanted, params=params)
            keep = ids[0] >= 0
            if len(dead):
                keep &= ~isin_sorted(ids[0], dead)
            if allowed_ids is not None:
                keep &= isin_sorted(ids[0], allowed)
            if int(keep.sum()) >= k or wanted >= total:
                return [(int(i), float(s)) for i, s in zip(ids[0][keep][:k], scores[0][keep][:k])]
            wanted = min(total, wanted * 4)

    def scores(self, query: np.ndarray, ids) -> dict[int, float]:
        """Exact inner product of ``query`` with the vectors of ``ids`` (unknown ids left out)."""
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        found: dict[int, float] = {}
        for i in ids:
            if len(self.tombstones) and isin_sorted(np.asarray([int(i)]), self.tombstones)[0]:
                continue
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
            live = np.flatnonzero(~isin_sorted(self.ids(), self.tombstones)) if len(self.tombstones) else np.arange(n)
            positions = live[np.unique(np.linspace(0, n - 1, min(n, STATS_SAMPLE)).astype(np.int64))] if n else []
            self._sample = (
                np.stack([inner.reconstruct(int(p)) for p in positions]).astype(np.float32)
                if len(positions)
                else np.zeros((0, inner.d), dtype=np.float32)
            )
        if not len(self._sample):
            return 0.0, 0.0
        values = self._sample @ np.asarray(query, dtype=np.float32).reshape(-1)
        return float(values.mean()), float(values.std())
