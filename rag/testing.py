"""Test doubles that go through the same doors as the real models, and the contract suites
every backend must pass.

- ``ScriptedLLM``: canned replies (a list, or a function of the messages); words count as tokens;
  records what it was asked; can score replies when given a scorer.
- ``HashingEmbedder`` (``rag.embedders.hashing``): a deterministic bag-of-words embedder: no
  weights, but similarity is meaningful. ``load_embedder("hashing")`` builds one.
- ``LLMContract`` / ``EmbedderContract``: pytest base classes; a backend's test class subclasses
  one and provides a fixture (``llm`` / ``embedder``), and runs every check of the interface.

Nothing here needs weights, torch or a network.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator

import numpy as np

from rag.embedders.hashing import HashingEmbedder
from rag.errors import ModelError
from rag.llm.base import LLM, Generating, until_stop

__all__ = ["MESSAGES", "EmbedderContract", "HashingEmbedder", "LLMContract", "ScriptedLLM"]


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


# -- contract suites ----------------------------------------------------------------------------
MESSAGES = [
    {"role": "system", "content": "Réponds d'après les passages."},
    {"role": "user", "content": "À quelle heure ouvre le Fournil des Coteaux ?"},
]


class LLMContract:
    """What every LLM backend does, whatever it runs on. A backend's test class subclasses it and
    provides an ``llm`` fixture; pytest collects these methods as its tests."""

    def test_is_an_llm(self, llm):
        assert isinstance(llm, LLM)
        assert isinstance(llm.model_id, str) and llm.model_id
        assert isinstance(llm.context_window, int) and llm.context_window > 0

    def test_stream_yields_text_and_generate_joins_it(self, llm):
        pieces = list(llm.stream(MESSAGES, max_new_tokens=12))
        assert pieces and all(isinstance(p, str) and p for p in pieces)
        assert "".join(pieces) == llm.generate(MESSAGES, max_new_tokens=12)  # greedy: the same twice

    def test_fewer_new_tokens_give_a_prefix(self, llm):
        short = llm.generate(MESSAGES, max_new_tokens=3)
        long = llm.generate(MESSAGES, max_new_tokens=12)
        # a cut inside a multi-byte character shows as U+FFFD in the shorter text
        assert short.strip() and long.startswith(short.rstrip().rstrip("\ufffd"))
        assert len(long) > len(short)

    def test_stop_string_cuts_the_reply_before_it(self, llm):
        full = llm.generate(MESSAGES, max_new_tokens=12)
        words = full.split()
        stop = words[len(words) // 2][:3]
        cut = llm.generate(MESSAGES, max_new_tokens=12, stop=["§never§", stop])
        assert cut == full[: full.find(stop)]
        assert llm.generate(MESSAGES, max_new_tokens=12, stop=["§never§"]) == full

    def test_closing_the_stream_early_leaves_the_model_usable(self, llm):
        stream = llm.stream(MESSAGES, max_new_tokens=12)
        first = next(iter(stream))
        stream.close()
        assert llm.generate(MESSAGES, max_new_tokens=12).startswith(first)

    def test_counts_tokens(self, llm):
        assert llm.count_tokens("") == 0
        short, long = "Le fournil ouvre.", "Le fournil ouvre à sept heures du mardi au dimanche."
        assert 0 < llm.count_tokens(short) < llm.count_tokens(long)
        one = [{"role": "user", "content": short}]
        assert llm.chat_tokens(one) > llm.count_tokens(short)
        assert llm.chat_tokens([{"role": "user", "content": long}]) > llm.chat_tokens(one)
        assert llm.chat_tokens([*MESSAGES, {"role": "user", "content": short}]) > llm.chat_tokens(MESSAGES)

    def test_self_check_reports_speed_and_placement(self, llm):
        report = llm.self_check()
        assert {"device", "dtype", "tokens_per_second", "load_seconds"} <= set(report)
        assert report["tokens_per_second"] > 0


class EmbedderContract:
    """What every embedder does. A backend's test class subclasses it and provides an
    ``embedder`` fixture; pytest collects these methods as its tests."""

    TEXTS = ["Le chat dort sur le canapé.", "La bourse de Paris a clôturé en hausse.", "Un chien joue dans le jardin."]

    def test_is_an_embedder(self, embedder):
        from rag.embedders import Embedder

        assert isinstance(embedder, Embedder)
        assert isinstance(embedder.model_id, str) and embedder.model_id

    def test_passages_are_unit_float32_rows(self, embedder):
        passages = embedder.embed_passages(self.TEXTS)
        assert passages.shape == (3, embedder.dim) and passages.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(passages, axis=1), 1.0, rtol=1e-4)
        assert embedder.embed_passages([]).shape == (0, embedder.dim)

    def test_a_query_finds_its_passage(self, embedder):
        passages = embedder.embed_passages(self.TEXTS)
        query = embedder.embed_query("où dort le chat ?")
        assert query.shape == (embedder.dim,) and query.dtype == np.float32
        assert int(np.argmax(passages @ query)) == 0

    def test_counts_tokens_of_the_text_alone(self, embedder):
        assert embedder.count_tokens("un deux trois quatre") >= 4
        assert embedder.count_tokens("") == 0
