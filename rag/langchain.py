"""LangChain adapter: a ``BaseRetriever`` over ``RagService`` returning ``Document``s.

Each Document's metadata carries what a citation needs: source, page, page_end, start,
end, heading_path, chunk_id, doc_id, rank, score and the score of every stage.
``k`` and ``filters`` set at construction can be overridden per call:
``retriever.invoke(query, k=1, filters=Filters(...))``, as LangChain's standard retriever
tests expect. Needs ``langchain-core`` (``pip install "rag-fr[langchain]"``).
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
from rag.serialize import hit_to_json
from rag.types import Hit


def hit_to_document(hit: Hit) -> Document:
    """The hit's passage, its metadata the same fields as ``rag.serialize.hit_to_json`` gives."""
    metadata = hit_to_json(hit)
    return Document(page_content=metadata.pop("text"), id=hit.chunk.chunk_id, metadata=metadata)


class RagRetriever(BaseRetriever):
    """``RagRetriever(service=RagService.open(dir), k=5)``; usable in any LangChain chain."""

    service: Any
    k: int = 5
    filters: Filters | None = None

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None,
        filters: Filters | None = None,
    ) -> list[Document]:
        """``k`` and ``filters`` given to ``invoke`` win over the retriever's own."""
        k = self.k if k is None else k
        filters = self.filters if filters is None else filters
        return [hit_to_document(hit) for hit in self.service.search(query, k=k, filters=filters)]
