"""LangChain adapter: a ``BaseRetriever`` over ``RagService`` returning ``Document``s.

Each Document's metadata carries what a citation needs: source, page, page_end, start,
end, heading_path, chunk_id, doc_id, rank, score and the score of every stage.
Needs ``langchain-core`` (``pip install "rag-fr[langchain]"``).
"""

from __future__ import annotations

from typing import Any

from rag.errors import MissingDependencyError

try:
    from langchain_core.callbacks import CallbackManagerForRetrieverRun
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingDependencyError("langchain-core", extra="langchain", purpose="the LangChain retriever") from exc

from rag.retrieval import Filters
from rag.types import Hit


def hit_to_document(hit: Hit) -> Document:
    chunk = hit.chunk
    return Document(
        page_content=chunk.text,
        id=chunk.chunk_id,
        metadata={
            "source": chunk.source,
            "page": chunk.page,
            "page_end": chunk.page_end,
            "start": chunk.start,
            "end": chunk.end,
            "heading_path": list(chunk.heading_path),
            "chunk_id": chunk.chunk_id,
            "doc_id": chunk.doc_id,
            "rank": hit.rank,
            "score": hit.score,
            "scores": dict(hit.scores),
        },
    )


class RagRetriever(BaseRetriever):
    """``RagRetriever(service=RagService.open(dir), k=5)``; usable in any LangChain chain."""

    service: Any
    k: int = 5
    filters: Filters | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [hit_to_document(hit) for hit in self.service.search(query, k=self.k, filters=self.filters)]
