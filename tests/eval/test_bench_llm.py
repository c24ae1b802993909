"""The LLM benchmark: its architecture lookup and prompt sizing, then a --tiny run as a script on CPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from eval.bench_llm import QWEN25_05B, TINY, architecture, prompt_of
from rag.llm.default_model import DEFAULT_LLM
from rag.testing import ScriptedLLM

REPO = Path(__file__).resolve().parents[2]


def test_architecture_without_a_converted_model_is_the_built_in_one(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_MODELS_DIR", str(tmp_path))
    values, source = architecture()
    assert values == QWEN25_05B and values is not QWEN25_05B
    assert source == "built-in Qwen2.5-0.5B values"


def test_architecture_reads_the_converted_models_config(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_MODELS_DIR", str(tmp_path))
    config = tmp_path / DEFAULT_LLM / "config.json"
    config.parent.mkdir()
    # transformers 5 writes rope_theta inside rope_parameters; unknown keys are not architecture.
    found = {"num_hidden_layers": 12, "hidden_size": 512, "rope_parameters": {"rope_theta": 50000.0}, "x": 1}
    config.write_text(json.dumps(found), encoding="utf-8")
    values, source = architecture()
    assert source == str(config)
    assert (values["num_hidden_layers"], values["hidden_size"], values["rope_theta"]) == (12, 512, 50000.0)
    assert values["vocab_size"] == QWEN25_05B["vocab_size"] and "x" not in values


def test_tiny_keeps_the_vocabulary_and_special_tokens():
    assert set(TINY) <= set(QWEN25_05B) and "vocab_size" not in TINY
    assert TINY["hidden_size"] % TINY["num_attention_heads"] == 0
    assert TINY["num_attention_heads"] % TINY["num_key_value_heads"] == 0


@pytest.mark.parametrize("synthetic", [True, False])
@pytest.mark.parametrize("target", [40, 300])
def test_prompt_of_takes_the_fewest_words_that_reach_the_target(synthetic, target):
    llm = ScriptedLLM([])  # counts words as tokens
    messages = prompt_of(llm, target, synthetic)
    assert llm.chat_tokens(messages) >= target
    user = messages[1]["content"]
    words = user.split("\n")[1].split()  # "Passages :\n<words>\nQuestion : ..."
    shorter = [messages[0], {**messages[1], "content": user.replace(" ".join(words), " ".join(words[:-1]))}]
    assert llm.chat_tokens(shorter) == llm.chat_tokens(messages) - 1 < target
    assert words[0] == ("w1000" if synthetic else "Le")


def test_tiny_run_prints_one_json_object(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    env = {**os.environ, "RAG_MODELS_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    report_file = tmp_path / "bench.json"
    argv = ["--device", "cpu", "--tiny", "--prompt-tokens", "48", "--new-tokens", "6", "--repeats", "2"]
    done = subprocess.run(
        [sys.executable, str(REPO / "eval" / "bench_llm.py"), *argv, "--json", str(report_file)],
        cwd=tmp_path,  # as a script from elsewhere: it must find the repository itself
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # the whole of stdout is one JSON object
    assert json.loads(report_file.read_text(encoding="utf-8")) == report
    assert (report["benchmark"], report["device"]) == ("llm-stream", "cpu")
    assert report["config_source"] == "built-in Qwen2.5-0.5B values, shrunk by --tiny"
    assert report["tokenizer"].startswith("synthetic")
    assert report["prompt_tokens"] >= 48 and report["new_tokens"] == 6
    assert len(report["runs"]) == 2
    for run in report["runs"]:
        assert run["new_tokens"] == 6  # end-of-turn suppressed: every run decodes the same count
        assert run["time_to_first_token_s"] > 0 and run["decode_tokens_per_second"] > 0
    assert report["median"]["time_to_first_token_s"] > 0
    assert report["median"]["decode_tokens_per_second"] > 0
    assert report["parameters"] < 25_000_000  # the two vocabulary matrices, little else
