"""``load_llm``: the model the settings name, and imports that stay light."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rag.errors import MissingDependencyError
from rag.llm import load_llm
from rag.llm.openai_compat import OpenAICompatLLM
from rag.llm.transformers_llm import TransformersLLM


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
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[3])
