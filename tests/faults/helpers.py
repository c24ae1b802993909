"""Helpers of the fault-injection tests: run the checkout's ``rag`` as a user would, small corpora."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def rag(*args: str, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rag.cli", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout, **kwargs
    )


def small_corpus(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    texts = {
        "a.txt": "Le fournil cuit le pain de seigle chaque matin. La boulangère vend des croissants.",
        "b.txt": "Le verger donne des pommes en automne. Le cidre fermente dans des fûts de chêne.",
        "c.txt": "La fromagerie affine le comté dix-huit mois. Les meules reposent en cave humide.",
    }
    for name, text in texts.items():
        (root / name).write_text(text, encoding="utf-8")
    return root
