"""Optional cross-encoder reranking (sentence-transformers ``CrossEncoder``, hub id or local dir).

None ships offline; the default pipeline does without. Loaded lazily, on the GPU when there is one.
"""

from __future__ import annotations

from rag.errors import MissingDependencyError, ModelError


class CrossEncoderReranker:
    def __init__(self, name: str, device: str | None = None):
        try:
            import torch
            from sentence_transformers import CrossEncoder
        except ImportError as exc:
            raise MissingDependencyError("sentence-transformers", extra="st", purpose="reranking") from exc
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        try:
            self._model = CrossEncoder(name, device=device)
        except Exception as exc:  # hub, path and config errors all differ
            raise ModelError(
                f"Could not load the reranker {name!r}: {exc}. Give a local directory or a hub id "
                f"available offline, or run without a reranker."
            ) from exc

    def score(self, query: str, passages: list[str]) -> list[float]:
        if not passages:
            return []
        return [float(s) for s in self._model.predict([(query, p) for p in passages])]
