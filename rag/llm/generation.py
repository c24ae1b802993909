"""Generation threads for ``TransformersLLM``: a stopping criterion that times tokens and
cancels on request, and the threads ``generate`` runs on while the caller reads the streamer.

CUDA graphs (a compiled decode) belong to the thread that captured them, so compiled models
generate on one long-lived thread (``COMPILED_WORKER``); eager ones on a fresh thread per call.
"""

from __future__ import annotations

import queue
import statistics
import threading
import time
from collections.abc import Callable


class Progress:
    """A stopping criterion that cancels on request and times the tokens as they come."""

    def __init__(self, prompt_tokens: int):
        self.prompt_tokens = prompt_tokens
        self.cancel = threading.Event()
        self.started = time.perf_counter()
        self.first = self.last = None
        self.new_tokens = 0
        self.steps: list[float] = []

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        now = time.perf_counter()
        if self.last is not None:
            self.steps.append(now - self.last)
        self.first = self.first or now
        self.last = now
        self.new_tokens = int(input_ids.shape[-1]) - self.prompt_tokens
        return torch.full((input_ids.shape[0],), self.cancel.is_set(), dtype=torch.bool, device=input_ids.device)

    def stats(self) -> dict:
        return decode_stats(self)


def decode_stats(clock) -> dict:
    """Token counts and speeds of one generation, from a clock's ``prompt_tokens``, ``new_tokens``,
    ``started``, ``first`` and ``last`` (token times) and ``steps`` (seconds between tokens)."""
    decode = (clock.last - clock.first) if clock.first else 0.0
    return {
        "prompt_tokens": clock.prompt_tokens,
        "new_tokens": clock.new_tokens,
        "time_to_first_token": round(clock.first - clock.started, 4) if clock.first else None,
        "tokens_per_second": round((clock.new_tokens - 1) / decode, 2) if clock.new_tokens > 1 and decode else 0.0,
        # the median step resists bursts of load from other processes; the mean above does not
        "median_tokens_per_second": round(1 / statistics.median(clock.steps), 2) if clock.steps else 0.0,
    }


class Worker:
    """One daemon thread running submitted calls in order (see ``rag.llm.transformers_llm``)."""

    def __init__(self, name: str):
        self._name = name
        self._calls: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    def submit(self, call: Callable[[], None]) -> threading.Event:
        done = threading.Event()
        with self._start:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self._thread.start()
        self._calls.put((call, done))
        return done

    def _loop(self) -> None:
        while True:
            call, done = self._calls.get()
            try:
                call()  # calls catch their own errors (``_stream``'s run)
            finally:
                done.set()


def run_in_thread(call: Callable[[], None]) -> threading.Event:
    done = threading.Event()

    def target() -> None:
        try:
            call()
        finally:
            done.set()

    threading.Thread(target=target, name="rag-llm-generate", daemon=True).start()
    return done


COMPILED_WORKER = Worker("rag-llm-generate-compiled")
