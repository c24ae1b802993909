"""``POST /v1/search``: hybrid retrieval with ``k`` and filters; the hits as ``rag search --json``
gives them (``rag.serialize.search_to_json``). Searches run on the request threads, beside an
answer being generated, and each sees the last committed index."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from rag.retrieval import Filters
from rag.serialize import search_to_json
from rag.server.errors import ApiError

router = APIRouter()


class FilterSpec(BaseModel):
    """Restrict passages to sources matching any of ``sources`` (globs) and/or to ``doc_ids``."""

    model_config = ConfigDict(extra="forbid")
    sources: list[str] = Field(default_factory=list, description="source path globs, e.g. 'rapports/*.pdf'")
    doc_ids: list[str] = Field(default_factory=list, description="document ids (GET /v1/documents)")

    def to_filters(self) -> Filters:
        return Filters(tuple(self.sources), tuple(self.doc_ids))


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(description="the question or keywords")
    k: int = Field(5, description="number of passages (1 to server.max_k)")
    filters: FilterSpec | None = None


def check_k(k: int, max_k: int) -> None:
    if not 1 <= k <= max_k:
        raise ApiError(400, f"k must be between 1 and {max_k}, not {k}.", "k_out_of_range", "k")


@router.post("/v1/search", summary="The passages that best match a query (hybrid retrieval)")
def search(body: SearchRequest, request: Request) -> dict:
    state = request.app.state.rag
    query = " ".join(body.query.split())
    if not query:
        raise ApiError(400, "The query is empty.", "empty_query", "query")
    check_k(body.k, state.settings.server.max_k)
    filters = body.filters.to_filters() if body.filters else None
    result = state.service().retrieve(query, k=body.k, filters=filters)
    return search_to_json(query, result.hits, result.timings)
