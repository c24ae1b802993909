"""Filters that restrict every retrieval stage: source path globs and document ids."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Filters:
    """Restrict results to sources matching any of ``source_globs`` and/or to ``doc_ids``."""

    source_globs: tuple[str, ...] = ()
    doc_ids: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.source_globs or self.doc_ids)


def allowed_ids(store, filters: Filters) -> np.ndarray:
    """Row ids of the chunks ``filters`` lets through (``store``: a ``rag.index.store.ChunkStore``)."""
    docs = store.documents()
    keep = {
        d.doc_id
        for d in docs
        if (not filters.source_globs or any(fnmatch.fnmatchcase(d.source, g) for g in filters.source_globs))
        and (not filters.doc_ids or d.doc_id in filters.doc_ids)
    }
    if not keep:
        return np.zeros(0, dtype=np.int64)
    marks = ",".join("?" * len(keep))
    return store.rowids_where(f"doc_id IN ({marks})", tuple(sorted(keep)))
