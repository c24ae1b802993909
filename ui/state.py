"""What the web interface's pages share: the settings, the one service per server process
(index, embedder, LLM), and small display helpers.

Settings come from ``rag.settings.Settings.load()``: ``rag ui`` hands its resolved settings
over in ``RAG_SETTINGS_JSON``; ``streamlit run ui/app.py`` alone reads the usual layers.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import streamlit as st

from rag.errors import RagError
from rag.index import STORE_FILE
from rag.settings import Settings
from ui import render


def settings() -> Settings:
    return Settings.load()


def index_dir() -> Path:
    return settings().index.directory


def llm_spec() -> str:
    return settings().llm.name.strip() or "auto"


@st.cache_resource(show_spinner="Ouverture de l'index et chargement du modèle d'embedding…")
def get_service(directory: str, llm: str):
    from rag.service import RagService

    chosen = dataclasses.replace(settings(), llm=dataclasses.replace(settings().llm, name=llm))
    service = RagService.open(directory, settings=chosen)
    service.retriever.warm_up()  # the embedder loads now, not on the first question
    return service


@st.cache_resource(show_spinner="Chargement du modèle de langue (une seule fois)…")
def load_llm(directory: str, llm: str, _service) -> str | None:
    """Load the service's LLM once per server; the reason when it cannot be loaded."""
    try:
        _ = _service.llm
    except Exception as exc:  # a missing package or model must not take the page down
        return f"{type(exc).__name__}: {exc}"
    return None


@st.cache_resource(show_spinner="Chargement du modèle d'embedding…")
def default_embedder():
    from rag.service import embedder_for

    return embedder_for(settings())


def open_service():
    """The service, or None when there is no index yet (the error is shown)."""
    directory = index_dir()
    if not (directory / STORE_FILE).exists():
        return None
    try:
        service = get_service(str(directory), llm_spec())
        if service.stale() is not None:  # rebuilt elsewhere with another model, or its store replaced
            get_service.clear()
            service = get_service(str(directory), llm_spec())
        return service
    except RagError as exc:
        st.error(str(exc))
        st.stop()


def log_error(exc: BaseException) -> None:
    import logging

    logging.getLogger("rag.ui").error("question failed", exc_info=exc)


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n > 1 else ''}"


def show_messages(key: str) -> None:
    """Messages a previous run left before ``st.rerun()`` (ingestion, removal), shown once."""
    for level, line in st.session_state.pop(key, []):
        getattr(st, level)(render.md_escape(line))


def html(body: str) -> None:
    st.html(body)


def plain(text: str, css_class: str = "") -> None:
    """Untrusted text (a question, a rewrite) shown as is."""
    st.html(f'<div class="{css_class}">{render.esc(text)}</div>')
