"""The transformers backend on a tiny random Qwen2 (CPU; CUDA on the device machine): the LLM
contract, then scoring, context limits, devices, dtypes, compiled decoding."""

from __future__ import annotations

import json
import os
import threading

import pytest

from rag.errors import ConfigError, ModelError
from rag.llm import can_score, load_llm
from rag.llm.transformers_llm import TransformersLLM
from rag.testing import MESSAGES, LLMContract
from tests.rag.llm.conftest import SENTENCES, _tiny_model, _tiny_tokenizer


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
        from rag.hardware import native_cpu_dtype

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
