"""Test doubles that go through the same doors as the real models, and the contract suites
every backend must pass.

- ``ScriptedLLM``: canned replies (a list, or a function of the messages); words count as tokens;
  records what it was asked; can score replies when given a scorer.
- ``HashingEmbedder``: a deterministic bag-of-words embedder: no weights, but similarity is
  meaningful (shared words -> higher cosine). ``load_embedder("hashing")`` builds one.
- ``LLMContract`` / ``EmbedderContract``: pytest base classes; a backend's test class subclasses
  one and provides a fixture (``llm`` / ``embedder``), and runs every check of the interface.

Nothing here needs weights, torch or a network.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Callable, Iterator

import numpy as np

from rag.embedders.base import normalise
from rag.errors import ModelError
from rag.llm.base import Generating, until_stop


class ScriptedLLM(Generating):
    """Replies from a list (in order) or a function of the messages; words count as tokens.

    ``calls`` holds every message list it received (a copy), for assertions.
    """

    model_id = "scripted"

    def __init__(
        self,
        replies: list[str] | Callable[[list[dict]], str],
        context_window: int = 4096,
        scorer: Callable[[list[dict], str], float] | None = None,
    ):
        """``scorer(messages, reply)``: the mean log-probability ``reply_logprobs`` reports; without
        it the scripted model cannot score (``can_score`` is False)."""
        self.replies = replies if callable(replies) else list(replies)
        self.context_window = context_window
        self.calls: list[list[dict]] = []
        if scorer is not None:
            self.reply_logprobs = lambda prompts, reply: [scorer(m, reply) for m in prompts]

    @property
    def prompts(self) -> list[list[dict]]:
        return self.calls

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def chat_tokens(self, messages: list[dict]) -> int:
        return sum(self.count_tokens(m["content"]) + 4 for m in messages) + 2

    def stream(
        self, messages: list[dict[str, str]], *, max_new_tokens: int = 256, stop: list[str] | None = None
    ) -> Iterator[str]:
        self.calls.append([dict(m) for m in messages])
        if callable(self.replies):
            reply = self.replies(messages)
        elif self.replies:
            reply = self.replies.pop(0)
        else:
            raise ModelError("ScriptedLLM has no reply left: give it one reply per expected call.")
        words = re.findall(r"\s*\S+", reply)[:max_new_tokens]
        return until_stop(iter(words), stop)

    def self_check(self) -> dict:
        return {
            "backend": "scripted",
            "model_id": self.model_id,
            "device": "none",
            "dtype": None,
            "tokens_per_second": math.inf,
            "load_seconds": 0.0,
        }


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
