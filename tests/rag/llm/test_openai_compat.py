"""The OpenAI-compatible backend against a fake server on 127.0.0.1: the LLM contract, then its
own errors and timeouts."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rag.errors import ConfigError, ModelError
from rag.llm import can_score
from rag.llm.openai_compat import OpenAICompatLLM
from rag.testing import MESSAGES, LLMContract

REPLY = "Le Fournil des Coteaux ouvre à sept heures du mardi au dimanche [1]. Le pain cuit au feu de bois [2]."


# -- OpenAI-compatible server (fake) -------------------------------------------------------------
class FakeOpenAI(ThreadingHTTPServer):
    """An OpenAI-compatible server on 127.0.0.1. The first path segment picks a behaviour:
    /v1 streams REPLY word by word (honouring max_tokens), /fail answers 500 with a JSON error,
    /hang waits before answering, /stall sends headers then waits, /garbage sends non-JSON data,
    /cut ends without [DONE], /oops sends an error event, /plain answers one JSON body."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[str, dict, dict]] = []
        self.release = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"


_MODES = {"v1", "fail", "hang", "stall", "garbage", "cut", "oops", "plain"}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.endswith("/models"):
            self._json(200, {"object": "list", "data": [{"id": "fake-qwen", "object": "model"}]})
        else:
            self._json(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append((self.path, dict(self.headers), body))
        mode = self.path.strip("/").split("/")[0]
        if mode not in _MODES or not self.path.endswith("/chat/completions"):
            return self._json(404, {"error": {"message": "Not Found"}})
        if mode == "fail":
            return self._json(500, {"error": {"message": "CUDA out of memory on the server", "type": "server_error"}})
        if mode == "hang":
            self.server.release.wait(10)
            return  # the client gave up long ago
        words = [w + " " for w in REPLY.split()][: body.get("max_tokens", 1000)]
        words[-1] = words[-1].rstrip()
        if mode == "plain":
            return self._json(200, {"choices": [{"message": {"role": "assistant", "content": "".join(words)}}]})
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        if mode == "stall":
            self._event({"choices": [{"delta": {"role": "assistant"}, "index": 0}]})
            self.server.release.wait(10)
            return
        if mode == "garbage":
            return self._send(b"data: {not json\n\n")
        if mode == "oops":
            return self._event({"error": {"message": "model crashed"}})
        self._send(b": keep-alive\n\n")
        self._event({"choices": [{"delta": {"role": "assistant"}, "index": 0}]})
        for word in words:
            self._event({"choices": [{"delta": {"content": word}, "index": 0, "finish_reason": None}]})
        if mode == "cut":
            return
        self._event({"choices": [{"delta": {}, "index": 0, "finish_reason": "length"}]})
        self._event({"choices": [], "usage": {"completion_tokens": len(words)}})
        self._send(b"data: [DONE]\n\n")

    def _event(self, payload):
        self._send(b"data: " + json.dumps(payload).encode() + b"\n\n")

    def _send(self, data: bytes):
        self.wfile.write(data)
        self.wfile.flush()

    def _json(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="module")
def server():
    fake = FakeOpenAI()
    thread = threading.Thread(target=fake.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.release.set()
    fake.shutdown()
    fake.server_close()


class TestOpenAICompat(LLMContract):
    @pytest.fixture
    def llm(self, server):
        return OpenAICompatLLM(server.url + "/v1", model="fake-qwen", timeout=5)

    def test_cannot_score_a_reply(self, llm):
        assert not can_score(llm)  # chat completions give no log-probabilities of a given reply

    def test_sends_an_openai_streaming_request(self, server):
        llm = OpenAICompatLLM(server.url, api_key="sk-test", timeout=5)  # bare URL -> /v1, model listed
        assert llm.generate(MESSAGES, max_new_tokens=5, stop=["\n\n"]) == "Le Fournil des Coteaux ouvre"
        path, headers, body = server.requests[-1]
        assert path == "/v1/chat/completions"
        assert headers["Authorization"] == "Bearer sk-test"
        assert body == {
            "model": "fake-qwen",
            "messages": MESSAGES,
            "stream": True,
            "max_tokens": 5,
            "temperature": 0,
            "stop": ["\n\n"],
        }
        assert llm.model_id == "fake-qwen"

    def test_a_plain_json_answer_is_accepted(self, server):
        assert OpenAICompatLLM(server.url + "/plain", model="m").generate(MESSAGES) == REPLY

    def test_http_error_carries_the_server_message(self, server):
        with pytest.raises(ModelError, match="HTTP 500: CUDA out of memory on the server"):
            OpenAICompatLLM(server.url + "/fail", model="m").generate(MESSAGES)

    def test_unknown_route_hints_at_the_url(self, server):
        with pytest.raises(ModelError, match="HTTP 404.*Check the URL"):
            OpenAICompatLLM(server.url + "/nowhere/else", model="m", timeout=5).generate(MESSAGES)

    @pytest.mark.parametrize(
        ("mode", "message"),
        [("garbage", "malformed stream"), ("cut", "ended before \\[DONE\\]"), ("oops", "model crashed")],
    )
    def test_broken_streams_are_model_errors(self, server, mode, message):
        with pytest.raises(ModelError, match=message):
            OpenAICompatLLM(f"{server.url}/{mode}", model="m", timeout=5).generate(MESSAGES)

    @pytest.mark.parametrize("mode", ["hang", "stall"])
    def test_a_server_slower_than_the_timeout_is_a_model_error(self, server, mode):
        started = time.perf_counter()
        with pytest.raises(ModelError, match=r"timeout \(0.5 s\)"):
            OpenAICompatLLM(f"{server.url}/{mode}", model="m", timeout=0.5).generate(MESSAGES)
        assert time.perf_counter() - started < 3

    def test_connection_refused_says_how_to_fix_it(self):
        with socket.socket() as probe:  # a port nobody listens on any more
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        started = time.perf_counter()
        with pytest.raises(ModelError, match=r"Cannot reach the LLM server at URL: .*Start it or check --llm-url"):
            OpenAICompatLLM(f"http://127.0.0.1:{port}/v1", model="m", timeout=5).generate(MESSAGES)
        assert time.perf_counter() - started < 3

    def test_token_counts_are_a_documented_estimate(self):
        llm = OpenAICompatLLM("http://127.0.0.1:9/v1", model="m")
        assert llm.count_tokens("a" * 35) == 10
        assert llm.chat_tokens([{"role": "user", "content": "a" * 35}]) == 10 + 4 + 3

    def test_rejects_a_non_http_url(self):
        with pytest.raises(ConfigError):
            OpenAICompatLLM("localhost:8080")
