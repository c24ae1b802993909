"""The OpenVINO backend: the engine choice (no model needed), then the LLM contract and scoring
on the real offline model's export (skipped where the setup has not made it)."""

from __future__ import annotations

import pytest

from rag.errors import ModelError
from rag.llm import factory
from rag.settings import LLMSettings
from rag.testing import MESSAGES, LLMContract


@pytest.fixture
def source(tmp_path):
    folder = tmp_path / "qwen2.5-coder-0.5b-instruct"
    folder.mkdir()
    (folder / "config.json").write_text("{}", encoding="utf-8")
    return folder


def test_transformers_engine_or_a_gpu_means_no_export(source, tmp_path):
    assert factory._openvino_folder(LLMSettings(engine="transformers"), source, tmp_path / "py") is None
    assert factory._openvino_folder(LLMSettings(device="cuda"), source, tmp_path / "py") is None


def test_openvino_asked_without_the_export_environment_says_how_to_make_it(source, tmp_path, monkeypatch):
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *a: object())
    with pytest.raises(ModelError, match="setup-openvino-export.sh"):
        factory._openvino_folder(LLMSettings(engine="openvino", device="cpu"), source, tmp_path / "no" / "python")


def test_auto_falls_back_to_transformers_and_says_so(source, tmp_path, capsys):
    pytest.importorskip("openvino_genai")
    assert factory._openvino_folder(LLMSettings(device="cpu"), source, tmp_path / "no" / "python") is None
    assert "running qwen2.5-coder-0.5b-instruct with transformers" in capsys.readouterr().err


def test_a_hub_model_cannot_run_on_openvino():
    from rag.errors import ConfigError

    with pytest.raises(ConfigError, match="llm.engine=transformers"):
        factory.load_llm(LLMSettings(name="some/hub-model", engine="openvino"))


# -- the real export ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def exported():
    pytest.importorskip("openvino_genai")
    from rag.llm import default_model
    from rag.llm.openvino_export import export_dir, read_marker
    from rag.settings import Settings

    source = default_model.default_model_dir(Settings.load().models.dir)
    folder = export_dir(source, "int8")
    if read_marker(folder) is None:
        pytest.skip(f"no OpenVINO export at {folder} (python -m rag.llm.openvino_export makes it)")
    return folder


@pytest.fixture(scope="module")
def openvino_llm(exported):
    from rag.llm.openvino_llm import OpenVINOLLM

    return OpenVINOLLM(exported, model_id="qwen2.5-coder-0.5b-instruct")


class TestOpenVINO(LLMContract):
    @pytest.fixture
    def llm(self, openvino_llm):
        return openvino_llm

    def test_counts_like_the_transformers_backend(self, llm, exported):
        from transformers import AutoTokenizer

        from rag.llm import default_model
        from rag.settings import Settings

        reference = AutoTokenizer.from_pretrained(str(default_model.default_model_dir(Settings.load().models.dir)))
        text = "Le Fournil des Coteaux ouvre à sept heures ; « pain » au levain."
        assert llm.count_tokens(text) == len(reference(text, add_special_tokens=False)["input_ids"])

    def test_scores_the_passage_that_answers_first(self, llm):
        prompts = [
            [{"role": "user", "content": "Passage : Le musée expose trois cents tableaux flamands."}],
            [{"role": "user", "content": "Passage : Le Fournil des Coteaux ouvre à sept heures du matin."}],
        ]
        scores = llm.reply_logprobs(prompts, "À quelle heure ouvre le Fournil des Coteaux ?")
        assert len(scores) == 2 and scores[1] > scores[0]

    def test_answers_from_the_passages(self, llm):
        reply = llm.generate(MESSAGES[:1] + [{"role": "user", "content": "Le Fournil ouvre à 7 h. À quelle heure ?"}])
        assert "7" in reply or "sept" in reply
