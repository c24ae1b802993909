"""The Questions page: a conversation; each answer streams in, then its checked version
replaces the draft, with the cited passages beside it. Follow-ups are rewritten into
standalone questions. Renders what ``rag.service.RagService`` returns; all HTML comes from
``ui.render``, which escapes every piece of document text."""

from __future__ import annotations

import time

import streamlit as st

from rag.errors import RagError
from ui import render, state
from ui.documents_page import missing_index


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
                    state.html(render.draft_sentences_html(answer, turn))
        else:
            state.html(render.answer_html(answer, turn))
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
            state.html("".join(cited))
        if others:
            st.markdown("**Passages les plus proches**" if not cited else "**Autres passages retrouvés**")
            state.html("".join(others))
        if not answer.hits:
            st.caption("Aucun passage trouvé (vérifiez les filtres).")


def show_question(question: str, standalone: str) -> None:
    with st.chat_message("user"):
        state.plain(question)
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
        problem = state.load_llm(str(state.index_dir()), state.llm_spec(), service)
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
            state.log_error(exc)
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
        f"{state.plural(stats['documents'], 'document')} · {state.plural(stats['chunks'], 'passage')}. "
        "Chaque affirmation de la réponse renvoie à son passage [n] ; une phrase non étayée est marquée ⚠."
    )
    state.show_messages("ingest_messages")  # the first upload, made from the "no index" form
    if not stats["documents"]:
        st.info("L'index est vide : ajoutez des documents dans la page « Documents ».")
    for turn, item in enumerate(st.session_state.turns):
        show_turn(turn, item)
    question = st.chat_input("Posez une question sur vos documents…")
    if question and question.strip():
        ask(service, question.strip(), settings)
