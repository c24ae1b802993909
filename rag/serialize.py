"""The JSON the CLI (``--json``), the evaluation and the HTTP API share: hits, searches, answers,
documents, the index.

Plain dicts of JSON types, one shape per object, so that every door reports the same fields.
This module only converts; it does not print or decide.
"""

from __future__ import annotations

from rag.types import Answer, Hit


def hit_to_json(hit: Hit) -> dict:
    chunk = hit.chunk
    return {
        "rank": hit.rank,
        "score": hit.score,
        "scores": hit.scores,
        "text": chunk.text,
        "source": chunk.source,
        "page": chunk.page,
        "page_end": chunk.page_end,
        "start": chunk.start,
        "end": chunk.end,
        "heading_path": list(chunk.heading_path),
        "chunk_id": chunk.chunk_id,
        "doc_id": chunk.doc_id,
    }


def search_to_json(query: str, hits: list[Hit], timings: dict[str, float]) -> dict:
    """A search (``rag search --json``, ``POST /v1/search``): the hits and each stage's milliseconds."""
    timings_ms = {stage: round(seconds * 1000, 2) for stage, seconds in timings.items()}
    return {"query": query, "hits": [hit_to_json(h) for h in hits], "timings_ms": timings_ms}


def answer_to_json(answer: Answer) -> dict:
    return {
        "question": answer.question,
        "answer": answer.text,
        "abstained": answer.abstained,
        "abstain_reason": answer.abstain_reason,
        "mode": answer.mode,
        "model": answer.model,
        "citations": [{"number": c.number, "span": c.span, **hit_to_json(c.hit)} for c in answer.citations],
        "sentences": [
            {
                "text": s.text,
                "cited": list(s.cited),
                "citations": list(s.citations),
                "support": s.support,
                "supported": s.supported,
                "spans": {str(n): span for n, span in s.spans.items()},
                "quote": s.quote,
            }
            for s in answer.sentences
        ],
        "invalid_markers": list(answer.invalid_markers),
        "hits": [hit_to_json(h) for h in answer.hits],
        "draft": answer.draft,
        "draft_rejected": answer.draft_rejected,
        "timings": answer.timings,
    }


def document_to_json(document) -> dict:
    """A ``rag.index.store.DocumentRecord`` as listed by ``rag index info --json``."""
    return {
        "source": document.source,
        "doc_id": document.doc_id,
        "format": document.format,
        "pages": document.n_pages,
        "chunks": document.n_chunks,
    }


def index_to_json(info: dict, documents) -> dict:
    """``Index.info()`` with its documents (``rag index info --json``, ``GET /v1/index``)."""
    return {**info, "documents": [document_to_json(d) for d in documents]}
