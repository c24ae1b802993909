"""The LLM the settings name (``llm.name``), built and self-checked; None means extractive answers.

- "none": no model. "auto": the offline default when its packages are installed, else none.
- "default" or an offline model's name: prepared on first use (``rag.llm.default_model``), run by
  OpenVINO on CPU (``rag.llm.openvino_llm``, exported once by ``rag.llm.openvino_export``) or by
  transformers (on GPUs, or ``llm.engine=transformers``).
- "http(s)://...": an OpenAI-compatible server (``llm.server_model``, ``llm.api_key``).
- anything else: a transformers hub id or local folder.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path

from rag.errors import ConfigError, ModelError
from rag.llm.base import LLM
from rag.settings import LLMSettings, ModelsSettings


def load_llm(settings: LLMSettings | str | None = None, *, models_dir=None, export_python=None, **kw) -> LLM | None:
    """The model ``settings`` (or a bare ``llm.name`` string) names; offline models are prepared
    in ``models_dir`` (setting ``models.dir``) and exported to OpenVINO with ``export_python``
    (``models.export_python``); ``kw`` go to the backend."""
    if not isinstance(settings, LLMSettings):
        settings = LLMSettings(name=settings or "none")
    if kw.get("model") is not None or kw.get("api_key") is not None:  # the server's, as keywords
        settings = dataclasses.replace(
            settings, server_model=kw.pop("model", None) or settings.server_model, api_key=kw.pop("api_key", None)
        )
    kw.pop("model", None)
    kw.pop("api_key", None)
    name = (settings.name or "none").strip()
    lowered = name.lower()
    if lowered in ("none", "off", "extractive"):
        return None
    from rag.llm import default_model

    if lowered == "auto":
        if not (
            default_model.is_prepared(default_model.default_model_dir(models_dir)) or default_model.defaults_installed()
        ):
            return None
        lowered = "default"
    if lowered.startswith(("http://", "https://")):
        from rag.llm.openai_compat import OpenAICompatLLM

        options = {"timeout": settings.timeout, "context_window": settings.server_context_window, **kw}
        return OpenAICompatLLM(name, model=settings.server_model, api_key=settings.api_key, **options)
    from rag.llm.transformers_llm import TransformersLLM

    options = {
        "device": settings.device,
        "dtype": settings.dtype,
        "compile": settings.compile,
        "threads": settings.threads,
        **kw,
    }
    if lowered == "default" or lowered in default_model.OFFLINE_MODELS:
        model = default_model.offline_model(lowered)
        path = default_model.prepare_default_model(_say, default_model.default_model_dir(models_dir, model), model)
        openvino = _openvino_folder(settings, path, export_python)
        if openvino is not None:
            from rag.llm.openvino_llm import OpenVINOLLM

            llm = OpenVINOLLM(openvino, model_id=model.name, threads=settings.threads)
        else:
            llm = TransformersLLM(path, model_id=model.name, **options)
    elif settings.engine == "openvino":
        raise ConfigError(
            f"llm.engine=openvino runs the offline models ({', '.join(default_model.OFFLINE_MODELS)}); "
            f"{name!r} runs with llm.engine=transformers (or auto)."
        )
    else:
        llm = TransformersLLM(name, **options)
    report_self_check(llm)
    return llm


def _openvino_folder(settings: LLMSettings, source: Path, export_python) -> Path | None:
    """The OpenVINO export of the offline model at ``source``, when OpenVINO runs it: asked
    (``llm.engine=openvino``), or ``auto`` on a CPU with openvino-genai installed; None means
    transformers. ``auto`` falls back to transformers, said on stderr, when no export can be made."""
    engine = settings.engine
    if engine == "transformers":
        return None
    if engine == "auto":
        if settings.device.startswith("cuda") or importlib.util.find_spec("openvino_genai") is None:
            return None
        if settings.device == "auto" and _cuda_available():
            return None  # transformers is the GPU backend
    from rag.llm import openvino_export

    python = export_python or ModelsSettings().export_interpreter
    try:
        return openvino_export.export_openvino(source, settings.weight_format, python, _say)
    except ModelError as exc:
        if engine == "openvino":
            raise
        _say(f"OpenVINO unavailable ({exc}); running {source.name} with transformers.")
        return None


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def report_self_check(llm) -> dict:
    """Run the load-time self-check (16 greedy tokens), keep it on ``llm.checked`` and say on
    stderr where the model runs and how fast, so a slow CPU fallback is never a surprise."""
    check = llm.self_check()
    llm.checked = check
    print(
        f"LLM {check['model_id']}: {check['device']}, {check['dtype']}, attention {check.get('attn_implementation')}"
        f"{', compiled decode' if check.get('compiled') else ''}, "
        f"{check['tokens_per_second']:.1f} tokens/s, first token {check.get('time_to_first_token') or 0:.2f} s, "
        f"loaded in {check['load_seconds']:.1f} s",
        file=sys.stderr,
    )
    return check
