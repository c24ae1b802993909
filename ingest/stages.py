"""The two stages of a run that may go elsewhere: read+chunk the new or changed files, embed
the new texts. ``LocalEngine`` runs them in this process (the default); ``ingest.distributed``
runs them on a Ray cluster. Everything else (what to read, what to reuse, staging, the one
commit) stays in ``ingest.pipeline``, whatever the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ingest.chunking import ChunkingParams, chunk_document
from ingest.readers import ReadLimits, read_document
from ingest.scan import FoundFile
from rag.embedders import Embedder
from rag.errors import ReadError
from rag.types import Chunk, SourceDoc

EMBED_BATCH = 32


@dataclass(frozen=True)
class ReadResult:
    """One file read (``doc``) and chunked (``chunks``; None: left to the caller), or why not
    (``status`` "skipped"/"failed", ``reason``)."""

    doc: SourceDoc | None
    chunks: list[Chunk] | None = None
    status: str = ""
    reason: str = ""


class Engine(Protocol):
    def read(
        self, items: list[FoundFile], limits: ReadLimits, params: ChunkingParams, embedder: Embedder
    ) -> Iterator[ReadResult]:
        """One result per item, in order; lazily: a file is read when its result is asked for
        (locally) or as soon as a worker is free (on a cluster)."""

    def embed(self, texts: list[str], embedder: Embedder) -> Iterator[tuple[list[int], np.ndarray]]:
        """(positions in ``texts``, their float32 vectors) batch by batch, in any order."""


def read_one(
    item: FoundFile, limits: ReadLimits, params: ChunkingParams, count_tokens: Callable | None = None
) -> ReadResult:
    """Read one file, and chunk it when given ``count_tokens``; its own problems (ReadError,
    OSError) become its result. MissingDependencyError and other errors the user must fix are raised."""
    try:
        doc = read_document(item.path, item.root, limits=limits)
    except ReadError as exc:
        return ReadResult(None, status="skipped" if str(exc).startswith("empty") else "failed", reason=str(exc))
    except OSError as exc:
        return ReadResult(None, status="failed", reason=f"cannot read: {exc.strerror or exc}")
    doc = SourceDoc(doc.doc_id, item.source, doc.text, doc.pages, doc.headings, doc.format, doc.notes)
    return ReadResult(doc, chunk_document(doc, count_tokens, params) if count_tokens else None)


class LocalEngine:
    """Both stages in this process, one file and one batch at a time. Files are chunked by the
    pipeline, after its duplicate check."""

    def read(self, items, limits, params, embedder):
        return (read_one(item, limits, params) for item in items)

    def embed(self, texts, embedder):
        for i in range(0, len(texts), EMBED_BATCH):
            batch = texts[i : i + EMBED_BATCH]
            yield list(range(i, i + len(batch))), np.asarray(embedder.embed_passages(batch), dtype=np.float32)
