"""A local causal LM through transformers (hub id or folder): greedy decoding streamed from a
background thread; CUDA in bf16 with SDPA (FlashAttention-2 when installed) and a compiled
static-cache decode step (``compile``); CPU in bf16 where the CPU computes it natively, else fp32
(``rag.llm.devices``). ``reply_logprobs`` scores a given reply after many prompts in one batched
forward pass (the locator's question likelihood).

torch and transformers are imported when a model is loaded, never at import time. This module
does not build prompts or download weights.
"""

from __future__ import annotations

import copy
import importlib.util
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from rag.errors import MissingDependencyError, ModelError
from rag.hardware import usable_cores
from rag.llm.base import MAX_CONTEXT, SELF_CHECK_PROMPT, Generating, until_stop
from rag.llm.devices import resolve_device, resolve_dtype
from rag.llm.generation import COMPILED_WORKER, Progress, run_in_thread

# Turn-ending tokens of common chat templates; generation stops at any that the tokenizer knows.
_END_OF_TURN = ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end|>", "<end_of_turn>", "</s>")


class TransformersLLM(Generating):
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
        threads: int | None = None,
    ):
        """``compile``: decode with a static KV cache and a compiled forward (CUDA graphs). On a GPU
        an eager decode step is bound by kernel launches (measured on an H200: ~15 tokens/s eager,
        ~300 compiled, for Qwen2.5-0.5B); compiling costs ~30 s once, at load. None (default) means
        on CUDA (setting ``llm.compile``); it is never used on CPU. ``threads``: CPU threads
        (default: every usable core)."""
        started = time.perf_counter()
        torch, transformers = _import_transformers()
        name = str(name_or_dir)
        path = Path(name).expanduser()
        if not path.exists() and name.startswith((".", "/", "~")):
            raise ModelError(f"No model folder at {path}. Give an existing folder or a hub id.")
        source = str(path) if path.exists() else name
        device = resolve_device(torch, device)
        torch_dtype = resolve_dtype(torch, dtype, device)
        if device == "cpu":
            torch.set_num_threads(threads or usable_cores())  # process-wide: the model is the heavy user
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
            self.generate(SELF_CHECK_PROMPT, max_new_tokens=4, min_new_tokens=4)
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
        progress = Progress(len(prompt))
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
            done = (
                COMPILED_WORKER.submit(run) if self._generation.cache_implementation == "static" else run_in_thread(run)
            )
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
        text = "".join(self.stream(SELF_CHECK_PROMPT, max_new_tokens=new_tokens, min_new_tokens=new_tokens))
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


def _wants_compile(compile: bool | None, device: str) -> bool:
    # CPU decode is bound by arithmetic, not kernel launches: nothing to win there
    return (compile is None or compile) and device.startswith("cuda")


def _import_transformers():
    try:
        import torch
        import transformers
    except ImportError as exc:
        missing = "torch" if (exc.name or "").split(".")[0] == "torch" else "transformers"
        raise MissingDependencyError(missing, extra="llm", purpose="local LLMs") from exc
    return torch, transformers


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
