"""The web interface: ask questions about your documents, see every cited passage; manage the documents.

Run with ``rag ui`` (or ``streamlit run ui/app.py``); the settings (index, language model...)
come from ``rag.settings`` (``ui.state``). Two pages, chosen in the sidebar: **Questions**
(``ui.ask_page``) and **Documents** (``ui.documents_page``). The interface has no retrieval
or answer logic of its own. One service (index and models) is shared by all sessions.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

if __package__ in (None, "") and str(Path(__file__).resolve().parents[1]) not in sys.path:
    # `streamlit run ui/app.py` from a checkout that is not pip-installed: make `ui`, `rag` importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ui import render, state  # noqa: E402
from ui.ask_page import ask_page  # noqa: E402
from ui.documents_page import documents_page  # noqa: E402

PAGE_ASK, PAGE_DOCS = "Questions", "Documents"


# -- sidebar ------------------------------------------------------------------------------------
def sidebar(service) -> dict:
    st.sidebar.title("rag-fr")
    page = st.sidebar.radio("Page", [PAGE_ASK, PAGE_DOCS], key="page", label_visibility="collapsed")
    settings = {"page": page, "k": 5, "use_llm": False, "filters": None}
    if service is None:
        st.sidebar.caption(f"Index : {render.md_escape(state.index_dir())}")
        return settings

    from rag.retrieval import Filters

    st.sidebar.header("Réglages")
    settings["k"] = st.sidebar.slider(
        "Nombre de passages (k)", 1, 20, 5, key="k", help="Passages retrouvés et montrés pour chaque question."
    )
    no_llm = state.llm_spec() == "none"
    settings["use_llm"] = st.sidebar.toggle(
        "Réponse rédigée par le modèle de langue",
        value=not no_llm,
        key="use_llm",
        disabled=no_llm,
        help="Désactivé : réponse extractive (les phrases des passages qui répondent le mieux, citées). "
        + ("Le serveur a été lancé sans modèle de langue (RAG_LLM=none)." if no_llm else ""),
    )
    if no_llm:
        settings["use_llm"] = False

    docs = service.documents()
    sources = [d.source for d in docs]
    if "filter_docs" in st.session_state:  # a deleted document leaves the selection
        st.session_state.filter_docs = [s for s in st.session_state.filter_docs if s in sources]
    chosen = st.sidebar.multiselect(
        "Chercher seulement dans",
        sources,
        key="filter_docs",
        placeholder="Tous les documents",
        help="Limiter la recherche à ces documents.",
    )
    pattern = st.sidebar.text_input(
        "Motif de nom de fichier",
        key="filter_glob",
        placeholder="ex. *.pdf",
        help="Motif « glob » sur le chemin du document (* et ?). Combiné avec la liste ci-dessus.",
    ).strip()
    ids = {d.source: d.doc_id for d in docs}
    settings["filters"] = Filters(source_globs=(pattern,) if pattern else (), doc_ids=tuple(ids[s] for s in chosen))
    if settings["filters"]:
        st.sidebar.caption("🔎 Recherche filtrée.")

    st.sidebar.divider()
    if st.sidebar.button("Nouvelle conversation", key="new_conversation", width="stretch"):
        st.session_state.turns = []
    st.sidebar.caption(f"Index : {render.md_escape(state.index_dir())}")
    return settings


def main() -> None:
    st.set_page_config(page_title="rag-fr — vos documents", page_icon="📚", layout="wide")
    st.session_state.setdefault("turns", [])
    state.html(render.CSS)
    service = state.open_service()
    settings = sidebar(service)
    if settings["page"] == PAGE_DOCS:
        documents_page(service)
    else:
        ask_page(service, settings)


main()
