"""A weightless embedder: bag-of-words feature hashing whose cosine reflects shared words.

For tests and demos (``load_embedder("hashing")``, ``rag.testing``): deterministic, instant,
no download; similarity is meaningful but shallow (no synonyms, no word order).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import numpy as np

from rag.embedders.base import normalise

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
        return normalise(np.stack([self._vector(t) for t in texts]))

    def embed_query(self, text: str) -> np.ndarray:
        return normalise(self._vector(text))

    def count_tokens(self, text: str) -> int:
        return len(text.split())
