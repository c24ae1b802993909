"""Answering: from a question and retrieved passages to a cited, checked answer or a refusal.

``Answerer`` (``answerer.py``) only orchestrates; each step is its own module: ``context``
(the prompt), ``support`` (does a passage back a sentence), ``question`` (what a question asks),
``checks`` (evidence, refusals, draft checks), ``locate`` and ``skips`` (which window answers),
``finishing`` (excerpts, located answers, citations), ``extractive`` (answers without a model),
``calibration`` (thresholds per embedder), ``conversation`` (follow-up questions) and
``prompts``. Nothing here retrieves (``rag.retrieval``) or loads models (``rag.llm``).
"""

from rag.answering.answerer import Answerer
from rag.answering.checks import is_refusal

__all__ = ["Answerer", "is_refusal"]
