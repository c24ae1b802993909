"""The LLM the settings name (``llm.name``), built and self-checked; None means extractive answers.

- "none": no model. "auto": the offline default when its packages are installed, else none.
- "default": the offline default (converted on first use, ``rag.llm.default_model``).
- "http(s)://...": an OpenAI-compatible server (``llm.server_model``, ``llm.api_key``).
- anything else: a transformers hub id or local folder.
"""

from __future__ import annotations

import dataclasses
import sys

from rag.llm.base import LLM
from rag.settings import LLMSettings


def load_llm(settings: LLMSettings | str | None = None, *, models_dir=None, **kw) -> LLM | None:
    """The model ``settings`` (or a bare ``llm.name`` string) names; offline models are prepared
    in ``models_dir`` (setting ``models.dir``); ``kw`` go to the backend."""
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
    if lowered in ("default", default_model.DEFAULT_LLM):
        path = default_model.prepare_default_model(
            progress=lambda message: print(message, file=sys.stderr),
            directory=default_model.default_model_dir(models_dir),
        )
        llm = TransformersLLM(path, model_id=default_model.DEFAULT_LLM, **options)
    else:
        llm = TransformersLLM(name, **options)
    report_self_check(llm)
    return llm


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
