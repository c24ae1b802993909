"""The web interface: ask questions about your documents, see every cited passage; manage the documents.

Run with ``rag ui`` (or ``streamlit run ui/app.py``); the index is ``$RAG_INDEX_DIR`` (else the
default location) and the language model ``$RAG_LLM`` (``auto``, ``none`` for extractive
answers, a model id or an http(s) URL).

Two pages, chosen in the sidebar: **Questions** (a conversation; follow-ups are rewritten
into standalone questions; each answer streams in, then its checked version replaces the
draft, with the sources beside it) and **Documents** (list, upload and ingest, delete,
index information). It renders what ``rag.service.RagService`` returns and has no
retrieval or answer logic of its own; all HTML comes from ``ui.render``, which escapes
every piece of document text. One service (index and models) is shared by all sessions.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import datetime
from pathlib import Path

import streamlit as st

if __package__ in (None, "") and str(Path(__file__).resolve().parents[1]) not in sys.path:
    # `streamlit run ui/app.py` from a checkout that is not pip-installed: make `ui`, `rag` importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.readers import SUPPORTED_SUFFIXES
from rag.errors import RagError
from rag.index import STORE_FILE, default_index_dir
from ui import render
from ui.uploads import MAX_UPLOAD_MB, UploadError, delete_upload, save_upload, uploads_dir

PAGE_ASK, PAGE_DOCS = "Questions", "Documents"


def index_dir() -> Path:
    return Path(os.environ.get("RAG_INDEX_DIR") or default_index_dir()).expanduser()


def llm_spec() -> str:
    return os.environ.get("RAG_LLM", "auto").strip() or "auto"


# -- the shared service -------------------------------------------------------------------------
@st.cache_resource(show_spinner="Ouverture de l'index et chargement du modèle d'embedding…")
def get_service(directory: str, llm: str):
    from rag.service import RagService

    service = RagService.open(directory, llm=llm)
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
    from rag.embedders import DEFAULT_EMBEDDER, load_embedder

    return load_embedder(DEFAULT_EMBEDDER)


def open_service():
    """The service, or None when there is no index yet (the error is shown)."""
    directory = index_dir()
    if not (directory / STORE_FILE).exists():
        return None
    try:
        service = get_service(str(directory), llm_spec())
        if service.index.embedder_id != service.embedder.model_id:  # rebuilt elsewhere with another model
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


# -- sidebar ------------------------------------------------------------------------------------
def sidebar(service) -> dict:
    st.sidebar.title("rag-fr")
    page = st.sidebar.radio("Page", [PAGE_ASK, PAGE_DOCS], key="page", label_visibility="collapsed")
    settings = {"page": page, "k": 5, "use_llm": False, "filters": None}
    if service is None:
        st.sidebar.caption(f"Index : {render.md_escape(index_dir())}")
        return settings

    from rag.retriever import Filters

    st.sidebar.header("Réglages")
    settings["k"] = st.sidebar.slider(
        "Nombre de passages (k)", 1, 20, 5, key="k", help="Passages retrouvés et montrés pour chaque question."
    )
    no_llm = llm_spec() == "none"
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
    st.sidebar.caption(f"Index : {render.md_escape(index_dir())}")
    return settings


# -- the Questions page ---------------------------------------------------------------------------
def show_answer(answer, turn: int, extra_timings: dict[str, float] | None = None) -> None:
    """The checked answer on the left, its sources on the right."""
    left, right = st.columns([1, 1], gap="large")
    with left:
        if answer.abstained:
            reason = render.abstain_reason_fr(answer.abstain_reason)
            st.warning(
                f"**{render.md_escape(answer.text)}**\n\nRaison : {render.md_escape(reason)}. "
                "Les passages les plus proches sont à droite.",
                icon=":material/block:",
            )
            if answer.sentences:
                with st.expander("Réponse du modèle, rejetée à la vérification"):
                    html(render.draft_sentences_html(answer, turn))
        else:
            html(render.answer_html(answer, turn))
            unsupported = len(answer.unsupported_sentences)
            if unsupported:
                st.warning(
                    f"{unsupported} phrase{'s' if unsupported > 1 else ''} non étayée{'s' if unsupported > 1 else ''} "
                    "par les passages (marquée ⚠) : à vérifier dans les sources.",
                    icon=":material/warning:",
                )
            if answer.invalid_markers:
                numbers = ", ".join(f"[{n}]" for n in answer.invalid_markers)
                st.caption(f"Citations vers des passages inexistants retirées : {render.md_escape(numbers)}")
        if answer.draft_rejected:
            reason = render.abstain_reason_fr(answer.draft_rejected)
            mode = (
                f"Réponse du modèle {render.md_escape(answer.model)} écartée ({render.md_escape(reason)}) : "
                "voici le passage qui répond le mieux, mot pour mot."
            )
        elif answer.mode == "llm":
            mode = f"Réponse rédigée par {render.md_escape(answer.model)}, citations vérifiées."
        else:
            mode = "Réponse extractive : phrases tirées des passages (sans modèle de langue)."
        st.caption(mode)
        with st.expander("Temps par étape"):
            rows = render.timing_rows({**(extra_timings or {}), **answer.timings})
            st.dataframe(rows, hide_index=True, width="stretch")
    with right:
        cited, others = render.sources_html(answer, turn)
        if cited:
            st.markdown("**Sources citées**")
            html("".join(cited))
        if others:
            st.markdown("**Passages les plus proches**" if not cited else "**Autres passages retrouvés**")
            html("".join(others))
        if not answer.hits:
            st.caption("Aucun passage trouvé (vérifiez les filtres).")


def show_question(question: str, standalone: str) -> None:
    with st.chat_message("user"):
        plain(question)
        if standalone != question:
            st.html(f'<div class="rag-where">Question reformulée : {render.esc(standalone)}</div>')


def show_turn(turn: int, item: dict) -> None:
    show_question(item["question"], item["standalone"])
    with st.chat_message("assistant"):
        show_answer(item["answer"], turn, item.get("timings"))


def ask(service, question: str, settings: dict) -> None:
    turns = st.session_state.turns
    turn = len(turns)
    use_llm = settings["use_llm"]
    if use_llm:
        problem = load_llm(str(index_dir()), llm_spec(), service)
        if problem:
            st.toast(
                f"Modèle de langue indisponible, réponse extractive ({render.md_escape(problem[:200])}).",
                icon=":material/warning:",
            )
            use_llm = False
    history = [(t["standalone"], t["answer"].text) for t in turns]
    extra: dict[str, float] = {}
    standalone = question
    if history:
        started = time.perf_counter()
        try:
            standalone = service.standalone_question(question, history, use_llm=use_llm)
        except RagError as exc:  # e.g. the LLM server is down: ask the question as typed
            st.toast(f"Question non reformulée : {render.md_escape(exc)}", icon=":material/warning:")
        extra["standalone"] = time.perf_counter() - started
    show_question(question, standalone)

    with st.chat_message("assistant"):
        live = st.empty()
        with live.container():
            left, right = st.columns([1, 1], gap="large")
            with left:
                progress = st.status("Recherche des passages…")
                draft_box = st.empty()
            with right:
                st.markdown("**Passages retrouvés**")
                cards_box = st.empty()
        draft, answer = "", None
        try:
            for event in service.ask_stream(standalone, k=settings["k"], filters=settings["filters"], use_llm=use_llm):
                if event["type"] == "hits":
                    cards_box.html("".join(render.hits_html(event["hits"], turn)) or "<div>Aucun passage.</div>")
                    progress.update(
                        label="Rédaction de la réponse…" if use_llm else "Choix des phrases et vérification…"
                    )
                elif event["type"] == "retry":  # the draft failed its check: a second one replaces it
                    draft = ""
                    draft_box.empty()
                    progress.update(label="Brouillon non confirmé par les passages : seconde lecture…")
                elif event["type"] == "token":
                    draft += event["text"]
                    draft_box.html(render.draft_html(draft))
                elif event["type"] == "answer":
                    answer = event["answer"]
        except RagError as exc:
            live.empty()
            st.error(str(exc))
            return
        except Exception as exc:  # the page stays usable; the details are in the server log
            live.empty()
            st.error(f"Erreur inattendue : {type(exc).__name__}: {render.md_escape(exc)}")
            log_error(exc)
            return
        live.empty()  # the checked answer replaces the draft
        if answer is None:
            st.error("Le service n'a pas rendu de réponse.")
            return
        show_answer(answer, turn, extra)
    turns.append({"question": question, "standalone": standalone, "answer": answer, "timings": extra})


def ask_page(service, settings: dict) -> None:
    st.title("Questions sur vos documents")
    if service is None:
        missing_index()
        return
    stats = service.info()["stats"]
    st.caption(
        f"{plural(stats['documents'], 'document')} · {plural(stats['chunks'], 'passage')}. "
        "Chaque affirmation de la réponse renvoie à son passage [n] ; une phrase non étayée est marquée ⚠."
    )
    show_messages("ingest_messages")  # the first upload, made from the "no index" form
    if not stats["documents"]:
        st.info("L'index est vide : ajoutez des documents dans la page « Documents ».")
    for turn, item in enumerate(st.session_state.turns):
        show_turn(turn, item)
    question = st.chat_input("Posez une question sur vos documents…")
    if question and question.strip():
        ask(service, question.strip(), settings)


# -- the Documents page -----------------------------------------------------------------------------
def missing_index() -> None:
    directory = index_dir()
    st.warning(f"Aucun index dans {render.md_escape(directory)}.", icon=":material/folder_open:")
    st.markdown("Créez-le en ligne de commande, à partir d'un dossier de documents :")
    st.code(f"rag ingest DOSSIER --index {directory}", language="bash")
    st.markdown("ou ajoutez des fichiers ici :")
    upload_form(None)


def ingest_settings(service):
    """The embedder and chunking of the index (its identity), or the defaults for a new one."""
    from ingest.chunking import ChunkingParams

    if service is None:
        return default_embedder(), ChunkingParams(), "auto"
    chunking = service.index.chunking
    params = ChunkingParams(max_tokens=chunking["max_tokens"], overlap_tokens=chunking["overlap_tokens"])
    return service.embedder, params, service.index.meta.get("index_type", "auto")


def ingest_uploads(service, files, replace: bool) -> list[tuple[str, str]]:
    """Save the uploaded files in the managed folder and ingest them; (level, message) lines."""
    from ingest.pipeline import ingest

    directory = index_dir()
    messages: list[tuple[str, str]] = []
    with st.status(f"Indexation de {len(files)} fichier{'s' if len(files) > 1 else ''}…", expanded=True) as status:
        st.write("Enregistrement des fichiers…")
        bar = st.progress(0.0)
        taken = {d.source for d in service.documents()} if service else set()
        saved = []
        for i, upload in enumerate(files, 1):
            try:
                item = save_upload(directory, upload.name, upload.getvalue(), taken, replace=replace)
            except UploadError as exc:
                messages.append(("error", f"{upload.name} : refusé, {exc}"))
            else:
                taken.add(item.source)
                saved.append(item)
                if item.source != upload.name:
                    messages.append(("info", f"{upload.name} : enregistré sous le nom {item.source}"))
            bar.progress(i / len(files))
        if saved:
            st.write("Lecture, découpage en passages et calcul des vecteurs…")
            embedder, params, index_type = ingest_settings(service)
            try:
                report = ingest(
                    [s.path for s in saved],
                    directory,
                    embedder,
                    params,
                    index_type=index_type,
                    prune=False,
                    progress=False,
                )
            except RagError as exc:
                for s in saved:
                    if not s.replaced:
                        s.path.unlink(missing_ok=True)
                messages.append(("error", str(exc)))
                report = None
            if report is not None:
                by_source = {s.source: s for s in saved}
                for outcome in report.files:
                    ok = outcome.status in ("added", "updated", "unchanged")
                    line = f"{outcome.source} : {render.outcome_label(outcome.status, outcome.reason, outcome.chunks)}"
                    messages.append(("success" if ok else "error", line))
                    item = by_source.get(outcome.source)
                    if not ok and item is not None and not item.replaced:
                        item.path.unlink(missing_ok=True)  # keep the managed folder in step with the index
        failed = any(level == "error" for level, _ in messages)
        status.update(
            label="Indexation terminée" + (" avec des erreurs" if failed else ""),
            state="error" if failed else "complete",
        )
    return messages


def upload_form(service) -> None:
    show_messages("ingest_messages")
    kinds = sorted(s.lstrip(".") for s in SUPPORTED_SUFFIXES)
    with st.form("upload", clear_on_submit=True):
        files = st.file_uploader(
            f"Ajouter des documents ({', '.join(kinds)} ; {MAX_UPLOAD_MB} Mo au plus)",
            type=kinds,
            accept_multiple_files=True,
            max_upload_size=MAX_UPLOAD_MB,
            key="upload_files",
        )
        replace = st.checkbox(
            "Remplacer un document déjà envoyé sous le même nom",
            key="upload_replace",
            help="Sinon, le fichier est enregistré sous un nouveau nom (ex. rapport-2.pdf). "
            "Un document venu d'un autre dossier n'est jamais remplacé.",
        )
        submitted = st.form_submit_button("Indexer", type="primary")
    if submitted:
        if not files:
            st.warning("Choisissez d'abord un ou plusieurs fichiers.")
            return
        st.session_state.ingest_messages = ingest_uploads(service, files, replace)
        st.rerun()


def delete_form(service, docs) -> None:
    show_messages("delete_messages")
    sources = [d.source for d in docs]
    pending = st.session_state.get("confirm_delete")
    if pending not in sources:
        pending = st.session_state.confirm_delete = None
    if pending is None:
        choice = st.selectbox("Document à retirer de l'index", sources, index=None, placeholder="Choisir un document")
        if st.button("Supprimer…", key="delete", disabled=choice is None):
            st.session_state.confirm_delete = choice
            st.rerun()
        return
    st.warning(
        f"Retirer **{render.md_escape(pending)}** de l'index ? Ses passages ne pourront plus être cités.",
        icon=":material/delete:",
    )
    yes, no, _ = st.columns([1, 1, 3])
    if yes.button("Oui, supprimer", key="delete_yes", type="primary"):
        from ingest.pipeline import remove_documents

        record = next(d for d in docs if d.source == pending)
        try:
            gone = remove_documents(index_dir(), [pending])
        except RagError as exc:
            st.session_state.delete_messages = [("error", str(exc))]
        else:
            if gone:
                delete_upload(index_dir(), record.root, record.source)
                st.session_state.delete_messages = [("success", f"{pending} : retiré de l'index")]
        st.session_state.confirm_delete = None
        st.rerun()
    if no.button("Annuler", key="delete_no"):
        st.session_state.confirm_delete = None
        st.rerun()


def documents_page(service) -> None:
    st.title("Documents")
    if service is None:
        missing_index()
        return
    info = service.info()
    docs = service.documents()
    stats = info["stats"]
    a, b, c, d = st.columns(4)
    a.metric("Documents", stats["documents"])
    b.metric("Passages", stats["chunks"])
    c.metric("Pages (PDF)", stats["pages"])
    d.metric("Taille", render.size_label(stats["bytes"]))
    if docs:
        uploaded = str(uploads_dir(index_dir()).resolve())
        rows = [
            {
                "Nom": doc.source,
                "Format": doc.format,
                "Pages": str(doc.n_pages) if doc.n_pages else "—",
                "Passages": doc.n_chunks,
                "Taille": render.size_label(doc.size),
                "Indexé le": datetime.fromtimestamp(doc.ingested_at).strftime("%d/%m/%Y %H:%M"),
                "Origine": "envoyé ici" if doc.root == uploaded else doc.root,
            }
            for doc in docs
        ]
        st.dataframe(rows, hide_index=True, width="stretch")
    else:
        st.info("Aucun document indexé pour l'instant.")

    st.subheader("Ajouter des documents")
    upload_form(service)
    st.subheader("Retirer un document")
    if docs:
        delete_form(service, docs)
    else:
        st.caption("Rien à retirer.")
    with st.expander("Informations sur l'index"):
        updated = info.get("updated_at") or info.get("created_at")
        st.markdown(
            f"- Dossier : `{info['directory']}`\n"
            f"- Modèle d'embedding : `{info['embedder']['id']}` (dimension {info['embedder']['dim']})\n"
            f"- Découpage : {info['chunking'].get('max_tokens')} jetons par passage, "
            f"chevauchement {info['chunking'].get('overlap_tokens')}\n"
            f"- Index vectoriel : {info['index_type']} · génération {info['generation']}"
            + (f" · mis à jour le {datetime.fromtimestamp(updated).strftime('%d/%m/%Y %H:%M')}" if updated else "")
        )
        st.json(info, expanded=False)


# -- main ---------------------------------------------------------------------------------------
def main() -> None:
    st.set_page_config(page_title="rag-fr — vos documents", page_icon="📚", layout="wide")
    st.session_state.setdefault("turns", [])
    html(render.CSS)
    service = open_service()
    settings = sidebar(service)
    if settings["page"] == PAGE_DOCS:
        documents_page(service)
    else:
        ask_page(service, settings)


main()
