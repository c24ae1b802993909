"""LLM backends: one contract suite run against the scripted, HTTP and transformers backends
(a fake OpenAI-compatible server on 127.0.0.1; a tiny random Qwen2 built offline), then each
backend's own behaviour: errors, timeouts, devices, dtypes, ``load_llm``."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from rag.errors import ConfigError, MissingDependencyError, ModelError
from rag.llm import LLM, can_score, load_llm, until_stop
from rag.llm.openai_compat import OpenAICompatLLM
from rag.llm.transformers_llm import TransformersLLM
from rag.testing import ScriptedLLM

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

MESSAGES = [
    {"role": "system", "content": "Réponds d'après les passages."},
    {"role": "user", "content": "À quelle heure ouvre le Fournil des Coteaux ?"},
]
REPLY = "Le Fournil des Coteaux ouvre à sept heures du mardi au dimanche [1]. Le pain cuit au feu de bois [2]."
SENTENCES = [
    "Le Fournil des Coteaux ouvre à sept heures du mardi au dimanche.",
    "Le pain au levain cuit quatre heures dans un four à bois chauffé au chêne.",
    "Le musée municipal expose trois cents tableaux flamands et l'entrée coûte huit euros.",
    "Le marché des producteurs se tient chaque samedi matin sur la place centrale.",
    "Réponds d'après les passages. À quelle heure ouvre le Fournil ? Quand a lieu le marché ?",
]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


# -- the contract every backend meets ----------------------------------------------------------
class LLMContract:
    """Backend-independent behaviour. Subclasses provide the ``llm`` fixture."""

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
        assert llm.chat_tokens(MESSAGES) > llm.chat_tokens(MESSAGES[1:])

    def test_self_check_reports_speed_and_placement(self, llm):
        report = llm.self_check()
        assert {"device", "dtype", "tokens_per_second", "load_seconds"} <= set(report)
        assert report["tokens_per_second"] > 0


# -- scripted -------------------------------------------------------------------------------------
class TestScripted(LLMContract):
    @pytest.fixture
    def llm(self):
        return ScriptedLLM(lambda messages: REPLY)

    def test_replies_in_order_and_records_messages(self):
        llm = ScriptedLLM(["Un.", "Deux trois."])
        assert llm.generate(MESSAGES) == "Un."
        assert list(llm.stream(MESSAGES[1:])) == ["Deux", " trois."]
        assert llm.calls == [MESSAGES, MESSAGES[1:]] and llm.prompts is llm.calls
        with pytest.raises(ModelError, match="no reply left"):
            llm.generate(MESSAGES)

    def test_scores_only_with_a_scorer(self):
        assert not can_score(ScriptedLLM([REPLY]))
        llm = ScriptedLLM([REPLY], scorer=lambda messages, reply: -float(len(messages)))
        assert can_score(llm) and llm.reply_logprobs([MESSAGES, MESSAGES[:1]], "Oui.") == [-2.0, -1.0]

    def test_max_new_tokens_counts_words(self):
        assert ScriptedLLM([REPLY]).generate(MESSAGES, max_new_tokens=4) == "Le Fournil des Coteaux"


@pytest.mark.parametrize(
    ("pieces", "stop", "expected"),
    [
        (["ab", "c<", "/s", ">d"], ["</s>"], "abc"),  # spans three pieces
        (["ab", "c<", "x"], ["</s>"], "abc<x"),  # a false start is released
        (["<", "/s>"], ["</s>"], ""),
        (["ab", "cd"], ["zz", "c"], "ab"),  # the earliest of several
        (["ab"], [""], "ab"),  # empty stop strings are ignored
    ],
)
def test_until_stop(pieces, stop, expected):
    assert "".join(until_stop(iter(pieces), stop)) == expected


def test_until_stop_never_yields_a_stop_prefix_it_may_need_back():
    out = list(until_stop(iter(["Réponse : 7 h", ".\n\nQuestion", " suivante"]), ["\n\nQuestion"]))
    assert out == ["Réponse : 7 h", "."]


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


# -- transformers on a tiny random Qwen2 --------------------------------------------------------
def _tiny_tokenizer():
    """A byte-level BPE like Qwen's, trained on a few French sentences, with a ChatML template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    core.train_from_iterator(SENTENCES + [m["content"] for m in MESSAGES], trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    tokenizer.add_special_tokens({"additional_special_tokens": ["<|im_start|>"]})
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def _tiny_model(vocab_size: int, eos: int, pad: int, max_positions: int = 512):
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=vocab_size,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=max_positions,
        eos_token_id=eos,
        pad_token_id=pad,
        tie_word_embeddings=False,
    )
    model = Qwen2ForCausalLM(config)
    with torch.no_grad():  # never pick a special token (ids 0-2): random weights would end turns at random
        model.lm_head.weight[:3] = 0.0
    return model


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    pytest.importorskip("transformers")
    tokenizer = _tiny_tokenizer()
    model = _tiny_model(len(tokenizer), tokenizer.eos_token_id, tokenizer.pad_token_id)
    directory = tmp_path_factory.mktemp("tiny-qwen2")
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


class TestTransformers(LLMContract):
    @pytest.fixture(scope="class")
    @classmethod
    def llm(cls, tiny_dir):
        return TransformersLLM(tiny_dir, device="cpu")

    def test_loads_on_cpu_with_all_cores(self, llm, tiny_dir):
        import torch

        report = llm.self_check()
        assert report["device"] == "cpu" and report["new_tokens"] == 16
        assert report["dtype"] in ("bfloat16", "float32")
        assert report["threads"] == torch.get_num_threads() == len(os.sched_getaffinity(0))
        assert llm.context_window == 512 and llm.model_id == str(tiny_dir)

    def test_stops_at_max_new_tokens(self, llm):
        llm.generate(MESSAGES, max_new_tokens=5)
        assert 1 <= llm.last_stats["new_tokens"] <= 5
        llm.generate(MESSAGES, max_new_tokens=5, min_new_tokens=5)
        assert llm.last_stats["new_tokens"] == 5
        assert llm.last_stats["prompt_tokens"] == llm.chat_tokens(MESSAGES)

    def test_counts_with_its_tokenizer(self, llm):
        reference = _tiny_tokenizer()
        text = "Le fournil ouvre à sept heures"
        assert llm.count_tokens(text) == len(reference(text, add_special_tokens=False)["input_ids"]) > 1
        rendered = reference.apply_chat_template(MESSAGES, add_generation_prompt=True, tokenize=False)
        assert llm.chat_tokens(MESSAGES) == len(reference(rendered, add_special_tokens=False)["input_ids"])

    def test_scores_a_reply_alone_as_in_a_padded_batch_and_as_a_plain_forward_pass(self, llm):
        import torch

        longer = [{"role": "user", "content": " ".join(SENTENCES)}]
        reply = "Le fournil ouvre à sept heures."
        alone = llm.reply_logprobs([MESSAGES], reply)
        batch = llm.reply_logprobs([longer, MESSAGES], reply)  # MESSAGES is padded on the left here
        prompt = llm._prompt_ids(MESSAGES)
        answer = llm._tokenizer(reply, add_special_tokens=False)["input_ids"]
        with torch.inference_mode():
            logits = llm._model(input_ids=torch.tensor([prompt + answer])).logits[0].float()
        logprobs = torch.log_softmax(logits[len(prompt) - 1 : -1], dim=-1)
        expected = float(logprobs.gather(1, torch.tensor(answer)[:, None]).mean())
        assert alone[0] == pytest.approx(expected, abs=0.02) and batch[1] == pytest.approx(expected, abs=0.02)
        assert batch[0] != pytest.approx(batch[1], abs=1e-6) and all(v < 0 for v in batch)
        assert llm.reply_logprobs([], reply) == [] and can_score(llm)

    def test_scoring_past_the_context_window_is_refused(self, llm):
        with pytest.raises(ModelError, match="context window"):
            llm.reply_logprobs([[{"role": "user", "content": "pain " * 600}]], "Le pain.")

    def test_a_prompt_longer_than_the_window_is_refused(self, llm):
        long = [{"role": "user", "content": "pain " * 600}]
        with pytest.raises(ModelError, match="context window"):
            llm.generate(long)

    def test_explicit_dtypes_and_the_cpus_capability(self, tiny_dir):
        from rag.llm.devices import native_cpu_dtype

        assert TransformersLLM(tiny_dir, device="cpu", dtype="float32").dtype == "float32"
        assert TransformersLLM(tiny_dir, device="cpu", dtype="bfloat16").dtype == "bfloat16"
        # no timing decides: a stale measured choice in the folder is not read
        (tiny_dir / "rag-model.json").write_text(json.dumps({"cpu_dtype": "float16"}))
        try:
            assert TransformersLLM(tiny_dir, device="cpu").dtype == native_cpu_dtype()
        finally:
            (tiny_dir / "rag-model.json").unlink()
        with pytest.raises(ConfigError, match="Unknown dtype"):
            TransformersLLM(tiny_dir, device="cpu", dtype="float12")

    def test_from_model_caps_the_context_window(self):
        tokenizer = _tiny_tokenizer()
        model = _tiny_model(len(tokenizer), tokenizer.eos_token_id, tokenizer.pad_token_id, max_positions=131072)
        llm = TransformersLLM.from_model(model, tokenizer, model_id="tiny")
        assert llm.context_window == 32768 and llm.model_id == "tiny" and llm.device == "cpu"
        assert llm.generate(MESSAGES, max_new_tokens=4)

    def test_never_compiles_on_cpu_and_checks_the_setting(self, tiny_dir):
        from rag.settings import Settings

        assert TransformersLLM(tiny_dir, device="cpu", compile=True).compiled is False
        with pytest.raises(ConfigError, match="llm.compile"):
            Settings.load(env={"RAG_LLM_COMPILE": "sometimes"})

    def test_a_static_cache_generates_on_one_long_lived_thread(self, tiny_dir, monkeypatch):
        # CUDA graphs are per thread: compiled decoding must keep to the thread that captured them.
        llm = TransformersLLM(tiny_dir, device="cpu")
        eager = llm.generate(MESSAGES, max_new_tokens=8)
        llm._generation.cache_implementation = "static"
        threads = []
        original = llm._model.generate

        def spy(*args, **kwargs):
            threads.append(threading.current_thread())
            return original(*args, **kwargs)

        monkeypatch.setattr(llm._model, "generate", spy)
        assert llm.generate(MESSAGES, max_new_tokens=8) == eager == llm.generate(MESSAGES, max_new_tokens=8)
        assert len(threads) == 2 and threads[0] is threads[1] and threads[0].name == "rag-llm-generate-compiled"

    def test_a_compiled_decode_that_breaks_later_falls_back_to_eager(self, tiny_dir, monkeypatch, capsys):
        llm = TransformersLLM(tiny_dir, device="cpu")
        eager = llm.generate(MESSAGES, max_new_tokens=8)
        llm._generation.cache_implementation, llm.compiled = "static", True  # as after a successful compile
        original, calls = llm._model.generate, []

        def breaks_once(*args, **kwargs):
            calls.append(kwargs["generation_config"].cache_implementation)
            if len(calls) == 1:
                raise RuntimeError("cudagraph capture failed")
            return original(*args, **kwargs)

        monkeypatch.setattr(llm._model, "generate", breaks_once)
        assert llm.generate(MESSAGES, max_new_tokens=8) == eager
        assert calls == ["static", None] and llm.compiled is False
        assert "compiled decoding failed (cudagraph capture failed); decoding eagerly" in capsys.readouterr().err
        monkeypatch.setattr(
            llm._model, "generate", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("out of memory"))
        )
        with pytest.raises(ModelError, match="out of memory"):  # an eager failure is the caller's to see
            llm.generate(MESSAGES, max_new_tokens=8)

    def test_a_failed_compilation_says_so_and_decodes_eagerly(self, llm, monkeypatch, capsys):
        def broken(*args, **kwargs):
            raise ModelError("no C compiler for the compiled kernels")

        monkeypatch.setattr(llm, "generate", broken)
        llm._compile()
        monkeypatch.undo()
        assert llm.compiled is False and llm._generation.cache_implementation is None
        assert "compiled decoding failed" in capsys.readouterr().err
        assert llm.generate(MESSAGES, max_new_tokens=4)

    def test_cuda_without_a_gpu_is_a_loud_error(self, tiny_dir):
        import torch

        if torch.cuda.is_available():
            pytest.skip("this machine has a GPU")
        with pytest.raises(ModelError, match="CUDA is not usable"):
            TransformersLLM(tiny_dir, device="cuda")

    def test_missing_folder_and_offline_hub_id_are_model_errors(self, tmp_path):
        with pytest.raises(ModelError, match="No model folder"):
            TransformersLLM(tmp_path / "absent", device="cpu")
        with pytest.raises(ModelError, match="Could not load the LLM"):
            TransformersLLM("no-such-org/no-such-model-xyz", device="cpu")


def _cuda_usable() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


@pytest.mark.skipif(not _cuda_usable(), reason="needs a CUDA GPU (run on the device machine)")
class TestTransformersOnCuda(LLMContract):
    """The same contract on a GPU, through the folder-loading path users take: bf16, SDPA or better."""

    @pytest.fixture(scope="class")
    @classmethod
    def llm(cls, tiny_dir):
        return TransformersLLM(tiny_dir, device="cuda")

    def test_loads_in_bf16_with_fused_attention(self, llm):
        import torch

        report = llm.self_check()
        assert report["device"].startswith("cuda") and report["new_tokens"] == 16
        assert report["dtype"] == ("bfloat16" if torch.cuda.is_bf16_supported() else "float16")
        assert report["attn_implementation"] in ("sdpa", "flash_attention_2")
        assert next(llm._model.parameters()).device.type == "cuda"

    def test_decodes_compiled_unless_told_not_to(self, llm, tiny_dir, monkeypatch):
        assert llm.compiled is True and llm.self_check()["compiled"] is True
        eager = TransformersLLM(tiny_dir, device="cuda", compile=False)
        assert eager.compiled is False and eager.generate(MESSAGES, max_new_tokens=6)
        from rag.llm import load_llm
        from rag.settings import Settings

        settings = Settings.load(env={"RAG_LLM_COMPILE": "0", "RAG_LLM_NAME": str(tiny_dir)})
        assert load_llm(settings.llm).compiled is False

    def test_auto_picks_the_gpu(self, tiny_dir):
        assert TransformersLLM(tiny_dir, compile=False).device.startswith("cuda")

    def test_explicit_dtype_is_kept_on_the_gpu(self, tiny_dir):
        assert TransformersLLM(tiny_dir, device="cuda", dtype="float32", compile=False).dtype == "float32"

    def test_an_absent_gpu_index_is_a_loud_error(self, tiny_dir):
        import torch

        with pytest.raises(ModelError, match="CUDA failed to start"):
            TransformersLLM(tiny_dir, device=f"cuda:{torch.cuda.device_count()}")


# -- load_llm and imports --------------------------------------------------------------------------
def test_load_llm_dispatches_on_the_spec(monkeypatch, tiny_dir, capsys):
    import rag.llm.default_model as default_model
    from rag.settings import Settings

    assert load_llm("none") is None
    served = Settings.load(env={"RAG_LLM_NAME": "http://127.0.0.1:9/v1", "RAG_LLM_MODEL": "served-name"})
    remote = load_llm(served.llm, timeout=3)
    assert isinstance(remote, OpenAICompatLLM) and remote.model == "served-name" and remote.timeout == 3
    local = load_llm(str(tiny_dir), device="cpu")
    assert isinstance(local, TransformersLLM)
    # the load-time self-check: kept on the model and said on stderr
    assert local.checked["device"] == "cpu" and local.checked["tokens_per_second"] > 0
    assert "cpu" in capsys.readouterr().err
    monkeypatch.setattr(default_model, "is_prepared", lambda directory=None: False)
    monkeypatch.setattr(default_model, "defaults_installed", lambda: False)
    assert load_llm("auto") is None


def test_missing_transformers_names_the_extra(monkeypatch, tiny_dir):
    monkeypatch.setitem(sys.modules, "transformers", None)
    with pytest.raises(MissingDependencyError, match=r'pip install "rag-fr\[llm\]"'):
        TransformersLLM(tiny_dir)


def test_importing_the_module_does_not_import_torch():
    code = "import sys, rag.llm, rag.llm.default_model; assert 'torch' not in sys.modules and 'transformers' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])
