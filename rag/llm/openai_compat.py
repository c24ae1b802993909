"""A model behind an OpenAI-compatible ``/chat/completions`` endpoint (llama.cpp server, vLLM,
Ollama, TGI...), streamed, through the standard library only."""

from __future__ import annotations

import json
import math
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

from rag.errors import ConfigError, ModelError
from rag.llm.base import SELF_CHECK_PROMPT, Generating, until_stop


class OpenAICompatLLM(Generating):
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
                raise ModelError(
                    f"The LLM server at {self.base_url} lists no model; set llm.server_model (RAG_LLM_SERVER_MODEL) to its name."
                )
            self.model = str(models[0]["id"])
        return self.model

    def self_check(self) -> dict:
        started = time.perf_counter()
        first = None
        pieces = []
        for piece in self.stream(SELF_CHECK_PROMPT, max_new_tokens=16):
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
        return " Set llm.api_key (RAG_LLM_API_KEY) to the server's key."
    if code == 404:
        return " Check the URL (the API root, usually ending in /v1) and the model name (llm.server_model, RAG_LLM_SERVER_MODEL)."
    return ""
