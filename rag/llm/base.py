"""The generative model's interface (``LLM``) and what every backend shares: stop strings cut
on the client side (``until_stop``), ``generate`` from ``stream``, the self-check prompt.

Backends, one file each: ``transformers_llm`` (any local causal LM, CPU or CUDA),
``openai_compat`` (an OpenAI-compatible server). ``rag.llm.factory.load_llm`` builds one from
the settings; ``rag.testing.ScriptedLLM`` is the test double. This module imports only the
standard library.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol, runtime_checkable

MAX_CONTEXT = 32768
SELF_CHECK_PROMPT = [{"role": "user", "content": "Écris une phrase sur le pain au levain."}]


@runtime_checkable
class LLM(Protocol):
    """What the answerer needs from a generative model."""

    model_id: str
    context_window: int  # tokens, prompt + answer

    def count_tokens(self, text: str) -> int: ...

    def chat_tokens(self, messages: list[dict]) -> int:
        """Tokens of the rendered chat prompt, generation prompt included."""

    def stream(
        self, messages: list[dict[str, str]], *, max_new_tokens: int = 256, stop: list[str] | None = None
    ) -> Iterator[str]:
        """Greedy decoding; yields text pieces; ends before the first stop string."""

    def generate(self, messages: list[dict[str, str]], **kw) -> str: ...

    def self_check(self) -> dict:
        """{'device', 'dtype', 'tokens_per_second', 'load_seconds', ...} from a short generation."""


class Generating:
    """``generate`` as the joined pieces of ``stream``."""

    def generate(self, messages: list[dict[str, str]], **kw) -> str:
        return "".join(self.stream(messages, **kw))


def can_score(llm) -> bool:
    """Whether ``llm`` can say how likely a reply is (``reply_logprobs``): local transformers
    models can; a chat-completions server gives no log-probabilities of a given reply."""
    return callable(getattr(llm, "reply_logprobs", None))


def until_stop(pieces: Iterator[str], stop: Iterable[str] | None) -> Iterator[str]:
    """``pieces`` up to (excluding) the first stop string, which may span pieces.

    Text that could be the start of a stop string is held back until it is decided. When a stop
    string is found the source is closed, so a generating backend stops working.
    """
    stops = [s for s in (stop or ()) if s]
    if not stops:
        yield from pieces
        return
    buffer = ""
    try:
        for piece in pieces:
            buffer += piece
            found = [i for i in (buffer.find(s) for s in stops) if i >= 0]
            if found:
                if min(found) > 0:
                    yield buffer[: min(found)]
                return
            keep = _partial_stop(buffer, stops)
            if len(buffer) > keep:
                yield buffer[: len(buffer) - keep]
                buffer = buffer[len(buffer) - keep :]
        if buffer:
            yield buffer
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()


def _partial_stop(buffer: str, stops: list[str]) -> int:
    """Length of the longest end of ``buffer`` that begins some stop string."""
    best = 0
    for stop in stops:
        for k in range(min(len(stop) - 1, len(buffer)), best, -1):
            if buffer.endswith(stop[:k]):
                best = k
                break
    return best
