"""Tokens for the OpenVINO backend: the folder's Hugging Face tokenizer (the same ids and chat
template as the transformers backend; OpenVINO GenAI's own tokenizer when transformers is absent),
token ids decoded into text pieces as they stream, and the timings of the tokens.
"""

from __future__ import annotations

import time
from pathlib import Path

from rag.llm.generation import decode_stats


class FolderTokenizer:
    """The folder's Hugging Face tokenizer (transformers), else OpenVINO GenAI's."""

    def __init__(self, folder: Path, ov_genai):
        try:
            from transformers import AutoTokenizer
        except ImportError:
            AutoTokenizer = None
        self._hf = AutoTokenizer.from_pretrained(str(folder)) if AutoTokenizer is not None else None
        self._ov = None if self._hf is not None else ov_genai.Tokenizer(str(folder))
        if self._hf is not None:
            self.eos_token_id = self._hf.eos_token_id
            self.pad_token_id = self._hf.pad_token_id
        else:
            self.eos_token_id = self._ov.get_eos_token_id() if self._ov.get_eos_token_id() >= 0 else None
            self.pad_token_id = self._ov.get_pad_token_id() if self._ov.get_pad_token_id() >= 0 else None

    def encode(self, text: str) -> list[int]:
        if self._hf is not None:
            return list(self._hf(text, add_special_tokens=False)["input_ids"])
        return [int(i) for i in self._ov.encode(text, add_special_tokens=False).input_ids.data[0]]

    def decode(self, ids: list[int]) -> str:
        if self._hf is not None:
            return self._hf.decode(ids, skip_special_tokens=True)
        return self._ov.decode(ids, skip_special_tokens=True)

    def chat_ids(self, messages: list[dict]) -> list[int]:
        if self._hf is not None:
            if getattr(self._hf, "chat_template", None):
                ids = self._hf.apply_chat_template(
                    messages, add_generation_prompt=True, tokenize=True, return_dict=True
                )
                ids = ids["input_ids"]
            else:  # a base model: a plain transcript is the best it can follow
                text = "".join(f"{m['role'].capitalize()}: {m['content']}\n" for m in messages) + "Assistant:"
                ids = self._hf(text)["input_ids"]
            if ids and isinstance(ids[0], list):
                ids = ids[0]
            return [int(i) for i in ids]
        text = self._ov.apply_chat_template(messages, add_generation_prompt=True)
        return [int(i) for i in self._ov.encode(text, add_special_tokens=False).input_ids.data[0]]

    def special_ids(self, names) -> list[int]:
        if self._hf is not None:
            vocab = self._hf.get_vocab()
            return [vocab[t] for t in names if t in vocab and t in self._hf.all_special_tokens]
        vocab = self._ov.get_vocab()
        return [vocab[t] for t in names if t in vocab]


class TokenClock:
    """Token timings, with the same keys as ``rag.llm.generation.Progress.stats``."""

    def __init__(self, prompt_tokens: int):
        self.prompt_tokens = prompt_tokens
        self.started = time.perf_counter()
        self.first = self.last = None
        self.new_tokens = 0
        self.steps: list[float] = []

    def start(self) -> None:
        self.started = time.perf_counter()

    def tick(self) -> None:
        now = time.perf_counter()
        if self.last is not None:
            self.steps.append(now - self.last)
        self.first = self.first or now
        self.last = now
        self.new_tokens += 1

    def stats(self) -> dict:
        return decode_stats(self)


class IncrementalDecoder:
    """Token ids -> text pieces, holding back an incomplete UTF-8 character (U+FFFD at the end)
    as transformers' TextIteratorStreamer does; end-of-turn tokens are not text."""

    def __init__(self, tokenizer: FolderTokenizer, skip: set[int]):
        self._tokenizer = tokenizer
        self._skip = skip
        self._ids: list[int] = []
        self._sent = 0

    def add(self, token: int) -> str:
        if token in self._skip:
            return ""
        self._ids.append(token)
        text = self._tokenizer.decode(self._ids)
        if text.endswith("\ufffd"):
            return ""
        piece, self._sent = text[self._sent :], len(text)
        if len(self._ids) > 64 and not piece.endswith("\ufffd"):  # keep decoding cost flat on long replies
            self._ids, self._sent = [], 0
        return piece

    def flush(self) -> str:
        text = self._tokenizer.decode(self._ids) if self._ids else ""
        return text[self._sent :]
