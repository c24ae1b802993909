"""The one façade the CLI, the UI, the evaluation and Python users go through.

``RagService.open(index_dir)`` opens an index and the embedder it was built with;
``search``/``retrieve`` run hybrid retrieval; ``ask``/``ask_stream`` answer with checked
citations, with the local LLM or, without one, extractively. Models load on first use,
once per service; the UI keeps one service per server process.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

from rag.embedders import Embedder, load_embedder
from rag.errors import IndexMismatchError
from rag.index import Index, default_index_dir
from rag.retriever import Filters, Retrieval, RetrievalSettings, Retriever
from rag.types import Answer, Hit

# "auto": the offline default model when it is installed, else extractive answers.
DEFAULT_LLM = os.environ.get("RAG_LLM", "auto")


class RagService:
    def __init__(self, index: Index, embedder: Embedder, settings: RetrievalSettings | None = None, llm="auto"):
        self.index = index
        self.embedder = embedder
        self.retriever = Retriever(index, embedder, settings)
        self._llm_spec = llm
        self._llm = None if isinstance(llm, str) else llm
        self._llm_loaded = not isinstance(llm, str)
        self._answerers: dict[bool, object] = {}
        self._lock = threading.Lock()

    @classmethod
    def open(
        cls,
        index_dir: Path | str | None = None,
        embedder: Embedder | None = None,
        llm=DEFAULT_LLM,
        **settings,
    ) -> RagService:
        """Open ``index_dir`` (default location if None). ``settings`` are RetrievalSettings fields;
        ``llm`` is "auto", "default", "none", a model id/dir, an http(s) URL, or an LLM object."""
        known = {f.name for f in fields(RetrievalSettings)}
        unknown = set(settings) - known
        if unknown:
            raise TypeError(f"unknown retrieval settings {sorted(unknown)}; known: {sorted(known)}")
        index = Index.open(index_dir or default_index_dir())
        embedder = embedder or load_embedder(index.embedder_id)
        if embedder.model_id != index.embedder_id:
            index.close()
            raise IndexMismatchError(
                f"The index was built with {index.embedder_id!r} but the embedder is {embedder.model_id!r}."
            )
        return cls(index, embedder, RetrievalSettings(**settings), llm=llm)

    # -- retrieval ------------------------------------------------------------------------
    def search(self, query: str, k: int = 5, filters: Filters | None = None) -> list[Hit]:
        return self.retriever.search(query, k, filters)

    def retrieve(self, query: str, k: int = 5, filters: Filters | None = None) -> Retrieval:
        return self.retriever.retrieve(query, k, filters)

    # -- answers --------------------------------------------------------------------------
    @property
    def llm(self):
        """The generative model, loaded on first use; None means extractive answers."""
        with self._lock:
            if not self._llm_loaded:
                from rag.llms import load_llm

                self._llm = load_llm(self._llm_spec)
                self._llm_loaded = True
        return self._llm

    def answerer(self, use_llm: bool = True):
        from rag.answer import Answerer

        llm = self.llm if use_llm else None
        key = llm is not None
        if key not in self._answerers:
            self._answerers[key] = Answerer(self.retriever, llm)
        return self._answerers[key]

    def ask(self, question: str, k: int | None = None, filters: Filters | None = None, use_llm: bool = True) -> Answer:
        return self.answerer(use_llm).ask(question, k, filters)

    def ask_stream(
        self, question: str, k: int | None = None, filters: Filters | None = None, use_llm: bool = True
    ) -> Iterator[dict]:
        return self.answerer(use_llm).ask_stream(question, k, filters)

    def standalone_question(self, question: str, history: list[tuple[str, str]], use_llm: bool = True) -> str:
        """Rewrite a follow-up ("Et son prix ?") into a question that stands alone, from the
        conversation ``history`` of (question, answer) pairs, before retrieval."""
        from rag.conversation import standalone_question

        return standalone_question(question, history, self.llm if use_llm else None)

    # -- the collection -------------------------------------------------------------------
    def documents(self):
        return self.index.store.documents()

    def info(self) -> dict:
        return self.index.info()

    def close(self) -> None:
        self.index.close()

    def __enter__(self) -> RagService:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
