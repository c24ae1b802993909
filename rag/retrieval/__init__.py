"""Retrieval: dense (FAISS) + keyword (French BM25) -> fusion -> optional rerank -> Hits.

``retriever.Retriever`` runs the stages; ``filters`` restricts them; ``rerank`` is the optional
cross-encoder. Settings are ``rag.settings.RetrievalSettings``. Nothing here builds prompts.
"""

from rag.retrieval.filters import Filters
from rag.retrieval.retriever import Retrieval, Retriever

__all__ = ["Filters", "Retrieval", "Retriever"]
