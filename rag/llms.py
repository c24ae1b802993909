"""Generative models behind one small interface: ``LLM``.

- ``TransformersLLM``: any causal LM with a chat template, by hub id or local folder (the offline
  default is ``rag.models``' converted Qwen2.5-Coder-0.5B-Instruct). Greedy decoding streamed from
  a background thread; CUDA in bf16 with SDPA (FlashAttention-2 when installed) and a compiled
  static-cache decode step (``compile``), CPU in the dtype measured fastest, all cores.
- ``OpenAICompatLLM``: any server speaking the OpenAI ``/chat/completions`` API with streaming
  (llama.cpp server, vLLM, Ollama, TGI...), through the standard library only.
- ``ScriptedLLM``: canned replies, for tests and demos; records what it was asked.

``load_llm(spec)`` turns the ``--llm`` / ``RAG_LLM`` setting into one of these, or None for
extractive answers. Every backend honours ``stop`` strings on the client side with the same
code (``until_stop``), so they all cut a reply at the same place.

This module does not build prompts (``rag.prompts``, ``rag.answer``) and does not download
weights. torch and transformers are imported when a transformers model is loaded, never at
import time: ``import rag.llms`` costs only the standard library.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import math
import os
import queue
import re
import statistics
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable

from rag.errors import ConfigError, MissingDependencyError, ModelError

MAX_CONTEXT = 32768
# Turn-ending tokens of common chat templates; generation stops at any that the tokenizer knows.
_END_OF_TURN = ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end|>", "<end_of_turn>", "</s>")
_SELF_CHECK_PROMPT = [{"role": "user", "content": "Écris une phrase sur le pain au levain."}]


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


class _Generate:
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


# -- scripted ---------------------------------------------------------------------------------
class ScriptedLLM(_Generate):
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


# -- transformers -----------------------------------------------------------------------------
class TransformersLLM(_Generate):
    """A local causal LM through transformers (hub id or folder), greedy and streamed."""

    def __init__(
        self,
        name_or_dir: str | Path,
        device: str = "auto",
        dtype=None,
        *,
        model_id: str | None = None,
        repetition_penalty: float = 1.0,
        compile: bool | None = None,
    ):
        """``compile``: decode with a static KV cache and a compiled forward (CUDA graphs). On a GPU
        an eager decode step is bound by kernel launches (measured on an H200: ~15 tokens/s eager,
        ~300 compiled, for Qwen2.5-0.5B); compiling costs ~30 s once, at load. None (default) means
        on CUDA unless ``$RAG_LLM_COMPILE`` is 0; it is never used on CPU."""
        started = time.perf_counter()
        torch, transformers = _import_transformers()
        name = str(name_or_dir)
        path = Path(name).expanduser()
        if not path.exists() and name.startswith((".", "/", "~")):
            raise ModelError(f"No model folder at {path}. Give an existing folder or a hub id.")
        source = str(path) if path.exists() else name
        device = _resolve_device(torch, device)
        torch_dtype = _resolve_dtype(torch, dtype, device, path if path.is_dir() else None)
        if device == "cpu":
            torch.set_num_threads(_cores())  # process-wide: the model is the heavy user
        try:
            tokenizer = transformers.AutoTokenizer.from_pretrained(source)
            model = _load_model(transformers, source, torch_dtype, device)
        except ModelError:
            raise
        except Exception as exc:  # hub errors, missing files and bad configs all look different
            raise ModelError(
                f"Could not load the LLM {name!r}: {exc}. Give a local folder or a hub id already in the "
                "Hugging Face cache (this machine may be offline), or use --llm default."
            ) from exc
        model.to(device).eval()
        self._setup(model, tokenizer, model_id or name, repetition_penalty, compile)
        self.load_seconds = time.perf_counter() - started

    @classmethod
    def from_model(
        cls,
        model,
        tokenizer,
        *,
        model_id: str | None = None,
        repetition_penalty: float = 1.0,
        compile: bool | None = None,
    ) -> TransformersLLM:
        """Wrap an already-built model and tokenizer (benchmarks, tests, custom loading)."""
        self = cls.__new__(cls)
        started = time.perf_counter()
        model_id = model_id or getattr(model.config, "_name_or_path", "") or type(model).__name__
        self._setup(model.eval(), tokenizer, model_id, repetition_penalty, compile)
        self.load_seconds = time.perf_counter() - started
        return self

    def _setup(self, model, tokenizer, model_id: str, repetition_penalty: float, compile: bool | None) -> None:
        import torch

        self._torch = torch
        self._model = model
        self._tokenizer = tokenizer
        self.model_id = model_id
        self.device = str(model.device)
        self.dtype = str(model.dtype).removeprefix("torch.")
        config = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
        window = getattr(config, "max_position_embeddings", None) or getattr(tokenizer, "model_max_length", 0)
        self.context_window = min(int(window), MAX_CONTEXT) if window and window < 10**9 else 2048
        self._eos = _end_of_turn_ids(model, tokenizer)
        generation = copy.deepcopy(model.generation_config)
        # Greedy: drop the sampling knobs a hub config may carry, or generate() warns on every call.
        generation.do_sample = False
        generation.temperature = generation.top_p = generation.top_k = None
        generation.repetition_penalty = repetition_penalty
        generation.eos_token_id = self._eos
        if generation.pad_token_id is None:
            generation.pad_token_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else self._eos[0]
        self._generation = generation
        self._lock = threading.RLock()  # one generation at a time: two would just share the cores
        self.last_stats: dict = {}
        self.compiled = False
        if _wants_compile(compile, self.device):
            self._compile()

    def _compile(self) -> None:
        """Switch to a static cache, whose decode step transformers compiles on first use, and pay
        that compilation now. A toolchain that cannot compile leaves the eager decode, said on stderr."""
        self._generation.cache_implementation = "static"
        try:
            self.generate(_SELF_CHECK_PROMPT, max_new_tokens=4, min_new_tokens=4)
        except ModelError as exc:
            self._decode_eagerly(exc)
            return
        self.compiled = True

    def _decode_eagerly(self, failure: BaseException) -> None:
        print(f"LLM {self.model_id}: compiled decoding failed ({failure}); decoding eagerly.", file=sys.stderr)
        self._generation.cache_implementation = None
        self.compiled = False

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer(text, add_special_tokens=False)["input_ids"])

    def chat_tokens(self, messages: list[dict]) -> int:
        return len(self._prompt_ids(messages))

    def _prompt_ids(self, messages: list[dict]) -> list[int]:
        if getattr(self._tokenizer, "chat_template", None):
            ids = self._tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
            if isinstance(ids, Mapping):
                ids = ids["input_ids"]
        else:  # a base model: a plain transcript is the best it can follow
            text = "".join(f"{m['role'].capitalize()}: {m['content']}\n" for m in messages) + "Assistant:"
            ids = self._tokenizer(text)["input_ids"]
        if ids and isinstance(ids[0], list):
            ids = ids[0]
        return [int(i) for i in ids]

    def stream(
        self,
        messages: list[dict[str, str]],
        *,
        max_new_tokens: int = 256,
        stop: list[str] | None = None,
        min_new_tokens: int = 0,
    ) -> Iterator[str]:
        """Greedy pieces of the reply. ``min_new_tokens`` (benchmarks) suppresses end-of-turn."""
        prompt = self._prompt_ids(messages)
        if len(prompt) + max_new_tokens > self.context_window:
            raise ModelError(
                f"The prompt has {len(prompt)} tokens; with {max_new_tokens} new tokens it exceeds the "
                f"model's context window ({self.context_window}). Give fewer or shorter passages."
            )
        return until_stop(self._stream(prompt, max_new_tokens, min_new_tokens), stop)

    def _stream(self, prompt: list[int], max_new_tokens: int, min_new_tokens: int) -> Iterator[str]:
        from transformers import StoppingCriteriaList, TextIteratorStreamer

        torch = self._torch
        input_ids = torch.tensor([prompt], device=self._model.device)
        streamer = TextIteratorStreamer(self._tokenizer, skip_prompt=True, skip_special_tokens=True)
        progress = _Progress(len(prompt))
        generation = copy.copy(self._generation)
        generation.max_new_tokens = max_new_tokens
        generation.min_new_tokens = min(min_new_tokens, max_new_tokens) or None
        kwargs = {
            "input_ids": input_ids,
            "attention_mask": torch.ones_like(input_ids),
            "generation_config": generation,
            "streamer": streamer,
            "stopping_criteria": StoppingCriteriaList([progress]),
        }
        failure: list[BaseException] = []

        def run() -> None:
            try:
                with torch.inference_mode():
                    progress.started = time.perf_counter()
                    self._model.generate(**kwargs)
            except BaseException as exc:  # re-raised in the consumer's thread below
                failure.append(exc)
                streamer.end()

        with self._lock:
            # CUDA graphs (compiled decode) belong to the thread that captured them: compiled models
            # generate on one long-lived thread; eager ones on a fresh thread per call.
            done = _COMPILED_WORKER.submit(run) if self._generation.cache_implementation == "static" else _thread(run)
            yielded = False
            try:
                for piece in streamer:
                    if piece:
                        yielded = True
                        yield piece
            finally:
                progress.cancel.set()  # the consumer stopped early: stop after the current token
                done.wait()
                self.last_stats = progress.stats()
        if failure and isinstance(failure[0], Exception) and self.compiled and not yielded:
            # A compiled decode that breaks later (a shape it could not capture, say) costs the
            # speed-up, not the answer: say so and decode eagerly from now on.
            self._decode_eagerly(failure[0])
            yield from self._stream(prompt, max_new_tokens, min_new_tokens)
            return
        if failure:
            raise ModelError(f"Generation failed with {self.model_id!r}: {failure[0]}") from failure[0]

    def reply_logprobs(self, prompts: list[list[dict]], reply: str, batch_tokens: int = 2048) -> list[float]:
        """For each prompt (a message list), the mean log-probability per token of ``reply`` as the
        model's answer to it: one forward pass per batch, no generation.

        Prompts are padded on the left, so that the reply's tokens sit at the same positions in
        every row and only their logits are computed (a full vocabulary row per prompt token
        would cost gigabytes). A prompt plus reply longer than the context window is an error."""
        torch = self._torch
        answer = self._tokenizer(reply, add_special_tokens=False)["input_ids"]
        if not prompts or not answer:
            return [0.0] * len(prompts)
        rows = [self._prompt_ids(messages) + answer for messages in prompts]
        longest = max(map(len, rows))
        if longest > self.context_window:
            raise ModelError(
                f"A prompt to score has {longest} tokens, over the model's context window ({self.context_window})."
            )
        pad = self._generation.pad_token_id
        per_batch = max(1, batch_tokens // longest)
        target = torch.tensor(answer, device=self._model.device)
        scores: list[float] = []
        with self._lock, torch.inference_mode():
            for i in range(0, len(rows), per_batch):
                batch = rows[i : i + per_batch]
                width = max(map(len, batch))
                ids = torch.tensor([[pad] * (width - len(r)) + r for r in batch], device=self._model.device)
                mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in batch], device=self._model.device)
                positions = (mask.cumsum(-1) - 1).clamp(min=0)
                keep = len(answer) + 1  # the logits that predict each reply token, and one past it
                try:
                    out = self._model(input_ids=ids, attention_mask=mask, position_ids=positions, logits_to_keep=keep)
                except TypeError:  # an architecture without logits_to_keep computes them all
                    out = self._model(input_ids=ids, attention_mask=mask, position_ids=positions)
                logits = out.logits[:, -keep:-1].float()
                chosen = logits.gather(-1, target.expand(len(batch), -1)[..., None]).squeeze(-1)
                logprobs = chosen - torch.logsumexp(logits, dim=-1)
                scores += [float(v) for v in logprobs.mean(dim=-1)]
        return scores

    def self_check(self, new_tokens: int = 16) -> dict:
        """Generate ``new_tokens`` tokens (end-of-turn suppressed) and report speed and placement."""
        text = "".join(self.stream(_SELF_CHECK_PROMPT, max_new_tokens=new_tokens, min_new_tokens=new_tokens))
        stats = self.last_stats
        return {
            "backend": "transformers",
            "model_id": self.model_id,
            "device": self.device,
            "dtype": self.dtype,
            "tokens_per_second": stats.get("tokens_per_second", 0.0),
            "time_to_first_token": stats.get("time_to_first_token"),
            "load_seconds": round(self.load_seconds, 2),
            "new_tokens": stats.get("new_tokens", 0),
            "threads": self._torch.get_num_threads(),
            "attn_implementation": getattr(self._model.config, "_attn_implementation", None),
            "compiled": self.compiled,
            "context_window": self.context_window,
            "sample": text,
        }


class _Progress:
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
        decode = (self.last - self.first) if self.first else 0.0
        return {
            "prompt_tokens": self.prompt_tokens,
            "new_tokens": self.new_tokens,
            "time_to_first_token": round(self.first - self.started, 4) if self.first else None,
            "tokens_per_second": round((self.new_tokens - 1) / decode, 2) if self.new_tokens > 1 and decode else 0.0,
            # the median step resists bursts of load from other processes; the mean above does not
            "median_tokens_per_second": round(1 / statistics.median(self.steps), 2) if self.steps else 0.0,
        }


class _Worker:
    """One daemon thread running submitted calls in order (see ``TransformersLLM._stream``)."""

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


def _thread(call: Callable[[], None]) -> threading.Event:
    done = threading.Event()

    def target() -> None:
        try:
            call()
        finally:
            done.set()

    threading.Thread(target=target, name="rag-llm-generate", daemon=True).start()
    return done


_COMPILED_WORKER = _Worker("rag-llm-generate-compiled")


def _wants_compile(compile: bool | None, device: str) -> bool:
    if compile is None:
        setting = os.environ.get("RAG_LLM_COMPILE", "auto").strip().lower()
        if setting not in ("auto", "1", "0", "true", "false", "yes", "no", "on", "off"):
            raise ConfigError(f"RAG_LLM_COMPILE={setting!r}: use 1 (compile on CUDA), 0 (never) or auto.")
        compile = setting not in ("0", "false", "no", "off")
    # CPU decode is bound by arithmetic, not kernel launches: nothing to win there
    return compile and device.startswith("cuda")


def _import_transformers():
    try:
        import torch
        import transformers
    except ImportError as exc:
        missing = "torch" if (exc.name or "").split(".")[0] == "torch" else "transformers"
        raise MissingDependencyError(missing, extra="llm", purpose="local LLMs") from exc
    return torch, transformers


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _resolve_device(torch, device: str | None) -> str:
    device = (device or "auto").lower()
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        return device
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ModelError(
                f"device={device!r} was asked but CUDA is not usable here (torch {torch.__version__}, "
                f"built for CUDA {torch.version.cuda}). Check the driver (nvidia-smi) and install a CUDA build "
                "of torch, or use --device cpu."
            )
        try:
            torch.zeros(1, device=device)
        except Exception as exc:
            raise ModelError(f"device={device!r} was asked but CUDA failed to start: {exc}") from exc
        return device
    raise ConfigError(f"Unknown device {device!r}: use 'auto', 'cpu' or 'cuda'.")


def _resolve_dtype(torch, dtype, device: str, folder: Path | None):
    if dtype is not None:
        if isinstance(dtype, str):
            resolved = getattr(torch, dtype.removeprefix("torch."), None)
            if not isinstance(resolved, torch.dtype):
                raise ConfigError(f"Unknown dtype {dtype!r}: use bfloat16, float16 or float32.")
            return resolved
        return dtype
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    from rag.models import MARKER, native_cpu_dtype

    if folder is not None:  # rag.models measured both dtypes on this machine when it converted the model
        try:
            return getattr(torch, json.loads((folder / MARKER).read_text(encoding="utf-8"))["cpu_dtype"])
        except (OSError, ValueError, KeyError, AttributeError):
            pass
    return getattr(torch, native_cpu_dtype())


def _load_model(transformers, source: str, dtype, device: str):
    auto = transformers.AutoModelForCausalLM
    if device.startswith("cuda") and importlib.util.find_spec("flash_attn") is not None:
        try:
            return auto.from_pretrained(source, dtype=dtype, attn_implementation="flash_attention_2")
        except (ImportError, ValueError) as exc:  # the model or the installed flash-attn does not fit
            print(f"FlashAttention-2 unavailable for {source} ({exc}); using SDPA.", file=sys.stderr)
    return auto.from_pretrained(source, dtype=dtype, attn_implementation="sdpa")


def _end_of_turn_ids(model, tokenizer) -> list[int]:
    ids: list[int] = []
    configured = model.generation_config.eos_token_id
    for value in configured if isinstance(configured, list) else [configured]:
        if value is not None:
            ids.append(int(value))
    if tokenizer.eos_token_id is not None:
        ids.append(int(tokenizer.eos_token_id))
    vocab = tokenizer.get_vocab()
    ids += [vocab[t] for t in _END_OF_TURN if t in vocab and t in tokenizer.all_special_tokens]
    return list(dict.fromkeys(ids)) or [0]


# -- OpenAI-compatible HTTP -------------------------------------------------------------------
class OpenAICompatLLM(_Generate):
    """A model behind an OpenAI-compatible ``/chat/completions`` endpoint, streamed (SSE).

    ``base_url`` is the API root, e.g. ``http://localhost:8080/v1``; a bare ``http://host:port``
    gets ``/v1``. Without ``model`` the server's first listed model is used. The remote
    tokenizer is unknown, so ``count_tokens`` estimates 1 token per 3.5 characters (close for
    French and English with ~150k-entry vocabularies; it errs towards more tokens for code);
    give ``context_window`` as the server's real limit.
    """

    CHARS_PER_TOKEN = 3.5

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        api_key: str | None = None,
        timeout: float = 60,
        context_window: int = 8192,
    ):
        parts = urllib.parse.urlsplit(base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"The LLM URL {base_url!r} is not an http(s) URL like http://localhost:8080/v1.")
        self.base_url = urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") or "/v1", "", ""))
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.context_window = context_window

    @property
    def model_id(self) -> str:
        return self.model or f"openai-compatible@{self.base_url}"

    def count_tokens(self, text: str) -> int:
        return math.ceil(len(text) / self.CHARS_PER_TOKEN)

    def chat_tokens(self, messages: list[dict]) -> int:
        # ~4 tokens of role markers per message and 3 for the assistant prompt (ChatML-like).
        return sum(self.count_tokens(m["content"]) + 4 for m in messages) + 3

    def stream(
        self, messages: list[dict[str, str]], *, max_new_tokens: int = 256, stop: list[str] | None = None
    ) -> Iterator[str]:
        body = {
            "model": self._model_name(),
            "messages": messages,
            "stream": True,
            "max_tokens": max_new_tokens,
            "temperature": 0,
        }
        if stop:
            body["stop"] = list(stop)[:4]  # the OpenAI API takes at most 4; until_stop covers the rest
        return until_stop(self._events(body), stop)

    def _events(self, body: dict) -> Iterator[str]:
        url = self.base_url + "/chat/completions"
        with self._open(url, body) as response:
            if response.headers.get_content_type() == "application/json":  # a server that ignores stream=true
                reply = self._json(response.read(), url)
                yield from self._texts(reply, url, key="message")
                return
            done = finished = False
            for line in self._lines(response, url):
                if not line.startswith("data:"):
                    continue  # blank separators, ": keep-alive" comments, event:/id: fields
                data = line[5:].strip()
                if data == "[DONE]":
                    done = True
                    break
                event = self._json(data, url)
                texts = list(self._texts(event, url, key="delta"))
                yield from texts
                finished = finished or any(c.get("finish_reason") for c in event.get("choices") or [])
            if not (done or finished):
                raise ModelError(
                    f"The stream from {url} ended before [DONE]: the server closed the connection mid-answer."
                )

    def _texts(self, event, url: str, key: str) -> Iterator[str]:
        if not isinstance(event, dict):
            raise ModelError(f"The LLM server at {url} sent a malformed stream: {str(event)[:200]!r}.")
        if event.get("error"):
            raise ModelError(f"The LLM server at {url} reported an error: {_error_message(event)}")
        choices = event.get("choices")
        if not isinstance(choices, list):
            raise ModelError(
                f"The LLM server at {url} sent a malformed stream: no 'choices' in {json.dumps(event)[:200]}."
            )
        for choice in choices[:1]:
            text = (choice.get(key) or {}).get("content") or choice.get("text")
            if text:
                yield text

    def _json(self, data: str | bytes, url: str):
        try:
            return json.loads(data)
        except ValueError:
            raise ModelError(f"The LLM server at {url} sent a malformed stream: {data[:200]!r} is not JSON.") from None

    def _lines(self, response, url: str) -> Iterator[str]:
        import http.client

        try:
            for raw in response:
                yield raw.decode("utf-8", errors="replace").rstrip("\r\n")
        except TimeoutError:
            raise self._timeout(url) from None
        except (OSError, http.client.HTTPException) as exc:
            raise ModelError(f"The connection to the LLM server at {url} broke mid-answer: {exc}") from exc

    def _open(self, url: str, body: dict | None = None):
        headers = {"Accept": "text/event-stream" if body else "application/json"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode("utf-8")
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(url, data=data, headers=headers, method="POST" if body else "GET")
        try:
            return urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            raise ModelError(
                f"The LLM server at {url} answered HTTP {exc.code}: {_http_message(exc)}{_http_hint(exc.code)}"
            ) from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise self._timeout(url) from None
            raise ModelError(
                f"Cannot reach the LLM server at URL: {self.base_url} ({exc.reason}). Start it or check --llm-url."
            ) from None
        except TimeoutError:
            raise self._timeout(url) from None
        except OSError as exc:
            raise ModelError(
                f"Cannot reach the LLM server at URL: {self.base_url} ({exc}). Start it or check --llm-url."
            ) from None

    def _timeout(self, url: str) -> ModelError:
        return ModelError(
            f"The LLM server at {url} did not answer within the timeout ({self.timeout:g} s). "
            "It may be overloaded or still loading its model; retry, or raise the timeout."
        )

    def _model_name(self) -> str:
        if self.model is None:
            url = self.base_url + "/models"
            with self._open(url) as response:
                listing = self._json(response.read(), url)
            models = listing.get("data") if isinstance(listing, dict) else None
            if not models or not isinstance(models[0], dict) or not models[0].get("id"):
                raise ModelError(f"The LLM server at {self.base_url} lists no model; set RAG_LLM_MODEL to its name.")
            self.model = str(models[0]["id"])
        return self.model

    def self_check(self) -> dict:
        started = time.perf_counter()
        first = None
        pieces = []
        for piece in self.stream(_SELF_CHECK_PROMPT, max_new_tokens=16):
            first = first or time.perf_counter()
            pieces.append(piece)
        elapsed = time.perf_counter() - started
        text = "".join(pieces)
        return {
            "backend": "openai-compatible",
            "model_id": self.model_id,
            "device": f"remote {self.base_url}",
            "dtype": None,
            "tokens_per_second": round(self.count_tokens(text) / elapsed, 2) if elapsed else 0.0,  # estimated
            "time_to_first_token": round(first - started, 4) if first else None,
            "load_seconds": 0.0,
            "sample": text,
        }


def _http_message(exc: urllib.error.HTTPError) -> str:
    try:
        raw = exc.read().decode("utf-8", errors="replace")
    except OSError:
        raw = ""
    try:
        return _error_message(json.loads(raw))
    except ValueError:
        return raw.strip()[:500] or exc.reason or "no message"


def _error_message(payload) -> str:
    error = payload.get("error", payload) if isinstance(payload, dict) else payload
    if isinstance(error, dict):
        return str(error.get("message") or error.get("detail") or json.dumps(error))[:500]
    return str(error)[:500]


def _http_hint(code: int) -> str:
    if code in (401, 403):
        return " Set RAG_LLM_API_KEY to the server's key."
    if code == 404:
        return " Check the URL (the API root, usually ending in /v1) and the model name (RAG_LLM_MODEL)."
    return ""


# -- from a setting -------------------------------------------------------------------------------
def load_llm(spec: str = "auto", **kw) -> LLM | None:
    """The LLM a ``--llm`` / ``RAG_LLM`` value names; None means extractive answers.

    - "none": no model. "auto": the offline default when its packages are installed, else none.
    - "default": the offline default (converted on first use, see ``rag.models``).
    - "http(s)://...": an OpenAI-compatible server; ``model`` from kw or ``RAG_LLM_MODEL``,
      ``api_key`` from kw or ``RAG_LLM_API_KEY``.
    - anything else: a transformers hub id or local folder; kw go to ``TransformersLLM``.
    """
    spec = (spec or "none").strip()
    lowered = spec.lower()
    if lowered in ("none", "off", "extractive"):
        return None
    if lowered == "auto":
        from rag.models import defaults_installed, is_prepared

        if not (is_prepared() or defaults_installed()):
            return None
        lowered = "default"
    if lowered.startswith(("http://", "https://")):
        model = kw.pop("model", None) or os.environ.get("RAG_LLM_MODEL") or None
        api_key = kw.pop("api_key", None) or os.environ.get("RAG_LLM_API_KEY") or None
        return OpenAICompatLLM(spec, model=model, api_key=api_key, **kw)
    from rag.models import DEFAULT_LLM, prepare_default_model

    if lowered in ("default", DEFAULT_LLM):
        path = prepare_default_model(progress=lambda message: print(message, file=sys.stderr))
        llm = TransformersLLM(path, model_id=DEFAULT_LLM, **kw)
    else:
        llm = TransformersLLM(spec, **kw)
    report_self_check(llm)
    return llm


def report_self_check(llm: TransformersLLM) -> dict:
    """Run the load-time self-check (16 greedy tokens), keep it on ``llm.checked`` and say on
    stderr where the model runs and how fast, so a slow CPU fallback is never a surprise."""
    check = llm.self_check()
    llm.checked = check
    print(
        f"LLM {check['model_id']}: {check['device']}, {check['dtype']}, attention {check['attn_implementation']}"
        f"{', compiled decode' if check.get('compiled') else ''}, "
        f"{check['tokens_per_second']:.1f} tokens/s, first token {check['time_to_first_token'] or 0:.2f} s, "
        f"loaded in {check['load_seconds']:.1f} s",
        file=sys.stderr,
    )
    return check
