"""The Documents page: list, upload and ingest, delete, index information. Uploads land in
the managed folder inside the index directory (``rag.uploads``) and are ingested through the
façade with the index's own identity."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from rag.errors import RagError
from rag.service import supported_suffixes
from rag.uploads import INGESTED, UploadError, delete_upload, ingest_saved, save_upload, uploads_dir
from ui import render, state


def missing_index() -> None:
    directory = state.index_dir()
    st.warning(f"Aucun index dans {render.md_escape(directory)}.", icon=":material/folder_open:")
    st.markdown("Créez-le en ligne de commande, à partir d'un dossier de documents :")
    st.code(f"rag ingest DOSSIER --index {directory}", language="bash")
    st.markdown("ou ajoutez des fichiers ici :")
    upload_form(None)


def ingest_uploads(service, files, replace: bool) -> list[tuple[str, str]]:
    """Save the uploaded files in the managed folder and ingest them; (level, message) lines."""
    directory = state.index_dir()
    messages: list[tuple[str, str]] = []
    with st.status(f"Indexation de {len(files)} fichier{'s' if len(files) > 1 else ''}…", expanded=True) as status:
        st.write("Enregistrement des fichiers…")
        bar = st.progress(0.0)
        taken = {d.source for d in service.documents()} if service else set()
        saved = []
        for i, upload in enumerate(files, 1):
            try:
                item = save_upload(
                    directory,
                    upload.name,
                    upload.getvalue(),
                    taken,
                    replace=replace,
                    max_mb=state.settings().ui.max_upload_mb,
                )
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
            # A new index takes the settings' identity; an existing one keeps its own.
            embedder = service.embedder if service else state.default_embedder()
            try:
                report = ingest_saved(saved, state.settings(), embedder=embedder)
            except RagError as exc:
                messages.append(("error", str(exc)))
            else:
                for outcome in report.files:
                    ok = outcome.status in INGESTED
                    line = f"{outcome.source} : {render.outcome_label(outcome.status, outcome.reason, outcome.chunks)}"
                    messages.append(("success" if ok else "error", line))
        failed = any(level == "error" for level, _ in messages)
        status.update(
            label="Indexation terminée" + (" avec des erreurs" if failed else ""),
            state="error" if failed else "complete",
        )
    return messages


def upload_form(service) -> None:
    state.show_messages("ingest_messages")
    kinds = sorted(s.lstrip(".") for s in supported_suffixes())
    with st.form("upload", clear_on_submit=True):
        files = st.file_uploader(
            f"Ajouter des documents ({', '.join(kinds)} ; {state.settings().ui.max_upload_mb} Mo au plus)",
            type=kinds,
            accept_multiple_files=True,
            max_upload_size=state.settings().ui.max_upload_mb,
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
    state.show_messages("delete_messages")
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
        from rag.service import remove

        record = next(d for d in docs if d.source == pending)
        try:
            gone = remove([pending], state.settings())
        except RagError as exc:
            st.session_state.delete_messages = [("error", str(exc))]
        else:
            if gone:
                delete_upload(state.index_dir(), record.root, record.source)
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
        uploaded = str(uploads_dir(state.index_dir()).resolve())
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
