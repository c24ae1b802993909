"""The Streamlit app driven by AppTest over a small hashing-embedder index: in extractive mode
(RAG_LLM=none: no model) answers with source cards, refusals, settings, follow-ups, the
documents page (list, upload, delete) and the message shown when there is no index; with a
scripted OpenAI-compatible server as the LLM, streamed answers with a flagged sentence, a
draft rejected at checking, and a follow-up rewritten by the model."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytest.importorskip("streamlit")

from streamlit.testing.v1 import AppTest  # noqa: E402

from ingest.chunking import ChunkingParams  # noqa: E402
from ingest.pipeline import ingest  # noqa: E402
from rag.testing import HashingEmbedder  # noqa: E402

APP = str(Path(__file__).resolve().parents[2] / "ui" / "app.py")
TIMEOUT = 60

DOCS = {
    "fournil.md": "# Le fournil\n\nLe fournil ouvre à sept heures du mardi au dimanche.\n\n"
    "## Pain\n\nLe pain au levain cuit quatre heures dans un four à bois chauffé au chêne.\n\n"
    "## Viennoiseries\n\nLe croissant pur beurre coûte un euro vingt.\n",
    "musee.txt": "Le musée municipal expose trois cents tableaux flamands.\n\nL'entrée du musée coûte huit euros.\n\n"
    "Le musée ferme le lundi et le premier mai.",
    "marche.txt": "Le marché des producteurs se tient chaque samedi matin sur la place centrale.\n\n"
    "Les maraîchers arrivent à six heures pour installer leurs étals.",
    "piscine.txt": "La piscine intercommunale propose un bassin de vingt-cinq mètres.\n\n"
    "Les leçons de natation ont lieu le mercredi après-midi.",
}


def _build(root: Path, index_dir: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in DOCS.items():
        (root / name).write_text(text, encoding="utf-8")
    report = ingest([root], index_dir, HashingEmbedder(256), ChunkingParams(20, 4), progress=False)
    assert report.ok, report.summary()
    return index_dir


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("ui-app")
    return _build(base / "docs", base / "index")


@pytest.fixture
def app(index_dir, monkeypatch):
    monkeypatch.setenv("RAG_INDEX_DIR", str(index_dir))
    monkeypatch.setenv("RAG_LLM", "none")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


def _ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def _html(at: AppTest) -> list[str]:
    return [h.value for h in at.html]


def _cards(at: AppTest, turn: int | None = None) -> list[str]:
    prefix = 'class="rag-source' if turn is None else f'id="source-{turn}-'
    return [h for h in _html(at) if prefix in h]


def _texts(elements) -> str:
    """What alert/caption elements show: their markdown source with the escapes removed."""
    return " | ".join(re.sub(r"\\(.)", r"\1", e.value) for e in elements)


def _n_cards(html: str) -> int:
    return len(re.findall(r'class="rag-source[ "]', html))


def test_question_shows_a_checked_answer_and_its_source_cards(app):
    _ask(app, "À quelle heure ouvre le fournil ?")
    answers = [h for h in _html(app) if 'class="rag-answer"' in h]
    assert len(answers) == 1 and "sept heures" in answers[0]
    assert 'href="#source-0-1"' in answers[0] or 'href="#source-0-' in answers[0]
    cited = _cards(app, 0)[0]
    assert "rag-cited" in cited and "<mark>" in cited and "fournil.md" in cited
    assert "dense" in cited and "mots-clés" in cited and "fusion" in cited
    assert "Sources citées" in _texts(app.markdown)
    assert "Réponse extractive" in _texts(app.caption)
    assert any(e.label == "Temps par étape" for e in app.expander)
    assert app.chat_message[0].name == "user" and app.chat_message[1].name == "assistant"


def test_unanswerable_question_is_refused_with_the_nearest_passages(app):
    _ask(app, "Qui a inventé la machine à vapeur ?")
    warnings = _texts(app.warning)
    assert "Ce n'est pas dans les documents" in warnings and "Raison" in warnings
    assert not [h for h in _html(app) if 'class="rag-answer"' in h]
    assert "Passages les plus proches" in _texts(app.markdown) and "Sources citées" not in _texts(app.markdown)
    assert _cards(app, 0) and "<mark>" not in _cards(app, 0)[0]


def test_k_setting_changes_the_number_of_passages(app):
    app.sidebar.slider(key="k").set_value(2).run()
    _ask(app, "Combien coûte l'entrée du musée ?")
    assert sum(_n_cards(c) for c in _cards(app, 0)) == 2
    app.sidebar.slider(key="k").set_value(6).run()
    _ask(app, "Combien coûte l'entrée du musée ?")
    # the retriever may merge neighbouring chunks into one passage: at most k, more than before
    assert 2 < sum(_n_cards(c) for c in _cards(app, 1)) <= 6


def test_document_filter_restricts_the_sources(app):
    app.sidebar.multiselect(key="filter_docs").set_value(["piscine.txt"]).run()
    _ask(app, "Combien coûte l'entrée du musée ?")
    cards = "".join(_cards(app, 0))
    assert "piscine.txt" in cards and "musee.txt" not in cards
    app.sidebar.multiselect(key="filter_docs").set_value([]).run()
    app.sidebar.text_input(key="filter_glob").set_value("mus*").run()
    _ask(app, "Combien coûte l'entrée du musée ?")
    cards = "".join(_cards(app, 1))
    assert "musee.txt" in cards and "piscine.txt" not in cards


def test_follow_up_is_rewritten_and_the_conversation_kept(app):
    _ask(app, "À quelle heure ouvre le fournil ?")
    _ask(app, "Et le croissant ?")
    rewritten = [h for h in _html(app) if "Question reformulée" in h]
    assert len(rewritten) == 1 and "fournil" in rewritten[0] and "croissant" in rewritten[0]
    assert [m.name for m in app.chat_message] == ["user", "assistant", "user", "assistant"]
    assert _cards(app, 0) and _cards(app, 1)
    app.sidebar.button(key="new_conversation").click().run()
    assert not app.chat_message


# -- with an LLM: a scripted OpenAI-compatible server ---------------------------------------------
def _passage_number(prompt: str, phrase: str) -> int:
    for match in re.finditer(r"^\[(\d+)\] (.*?)\n\(source : [^\n]*\)$", prompt, re.M | re.S):
        if phrase in match.group(2):
            return int(match.group(1))
    raise AssertionError(f"no passage with {phrase!r} in the prompt")


def _reply(messages: list[dict]) -> str:
    """What the fake model says, from the prompt it was given."""
    prompt = "\n".join(m["content"] for m in messages)  # passages in the system message, then the question
    if "Question réécrite" in prompt:
        return "À quelle heure ouvre le fournil le dimanche ?"
    if "tableaux" in messages[-1]["content"]:
        return "Le musée a été fondé par Napoléon en 1802 [1]. Il reçoit dix mille visiteurs par jour [1]."
    n, m = _passage_number(prompt, "sept heures"), _passage_number(prompt, "four à bois")
    return (
        f"Le fournil ouvre à sept heures du mardi au dimanche [{n}]. "
        f"Le pain au levain cuit quatre heures dans un four à bois [{m}]. "
        f"Le fournil livre aussi des pizzas chaque jeudi soir [{n}]."
    )


@pytest.fixture
def llm_server():
    requests: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            requests.append(body)
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for word in _reply(body["messages"]).split(" "):
                event = {"choices": [{"delta": {"content": word + " "}, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def llm_app(index_dir, monkeypatch, llm_server):
    url, requests = llm_server
    monkeypatch.setenv("RAG_INDEX_DIR", str(index_dir))
    monkeypatch.setenv("RAG_LLM", url)
    monkeypatch.setenv("RAG_LLM_MODEL", "modele-scripte")
    # The hashing embedder has no calibration of its own: the evidence bar that the offline
    # embedder's calibration sets, given as a setting.
    monkeypatch.setenv("RAG_ANSWERING_MIN_EVIDENCE", "0.16")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at, requests


def test_llm_answer_is_streamed_checked_and_its_unsupported_sentence_flagged(llm_app):
    at, requests = llm_app
    assert at.sidebar.toggle(key="use_llm").value
    _ask(at, "À quelle heure ouvre le fournil ?")
    assert requests and requests[-1]["stream"] is True
    (answer,) = [h for h in _html(at) if 'class="rag-answer"' in h]
    assert answer.count("rag-unsupported") == 1
    flagged = answer[answer.index("rag-unsupported") :]
    assert "pizzas" in flagged and "sept heures" not in flagged
    assert 'title="non étayée par les passages"' in answer
    assert "1 phrase non étayée par les passages" in _texts(at.warning)
    assert "Réponse rédigée par modele-scripte" in _texts(at.caption)
    assert "<mark>" in "".join(_cards(at, 0))


def test_llm_drafts_rejected_give_way_to_the_passage_that_answers(llm_app):
    at, requests = llm_app
    before = len(requests)
    _ask(at, "Combien de tableaux expose le musée ?")
    assert len(requests) == before + 2  # the draft, then the second look: both invented
    (answer,) = [h for h in _html(at) if 'class="rag-answer"' in h]
    assert "trois cents tableaux flamands" in answer and "rag-quote" in answer and "Napoléon" not in answer
    caption = _texts(at.caption)
    assert "Réponse du modèle modele-scripte écartée" in caption and "ne sont pas étayées" in caption
    assert "voici le passage qui répond le mieux" in caption


def test_llm_draft_mostly_unsupported_is_refused_and_shown_apart(llm_app):
    at, _ = llm_app
    _ask(at, "Combien de girafes peintes comptent les tableaux du musée ?")  # the passages count none
    assert "Ce n'est pas dans les documents" in _texts(at.warning)
    assert "2 phrase(s) sur 2 ne sont pas étayées" in _texts(at.warning)
    assert any(e.label == "Réponse du modèle, rejetée à la vérification" for e in at.expander)
    rejected = [h for h in _html(at) if 'class="rag-answer"' in h]
    assert len(rejected) == 1 and rejected[0].count("rag-unsupported") == 2 and "Napoléon" in rejected[0]


def test_llm_rewrites_the_follow_up_and_can_be_switched_off(llm_app):
    at, requests = llm_app
    _ask(at, "À quelle heure ouvre le fournil ?")
    _ask(at, "Et le dimanche ?")
    assert any("Question réécrite" in r["messages"][-1]["content"] for r in requests)
    rewritten = [h for h in _html(at) if "Question reformulée" in h]
    assert rewritten == [
        '<div class="rag-where">Question reformulée : À quelle heure ouvre le fournil le dimanche ?</div>'
    ]
    before = len(requests)
    at.sidebar.toggle(key="use_llm").set_value(False).run()
    _ask(at, "Combien coûte l'entrée du musée ?")
    assert len(requests) == before  # extractive: the model was not called
    assert "Réponse extractive" in _texts(at.caption)


def test_documents_page_lists_the_documents_and_index_information(app):
    app.sidebar.radio(key="page").set_value("Documents").run()
    assert not app.exception
    table = app.dataframe[0].value
    assert sorted(table["Nom"]) == sorted(DOCS)
    assert set(table.columns) >= {"Nom", "Format", "Pages", "Passages", "Indexé le"}
    assert {m.label: m.value for m in app.metric}["Documents"] == "4"
    assert any(e.label == "Informations sur l'index" for e in app.expander)
    assert app.file_uploader


def test_upload_ingest_ask_then_delete(tmp_path, monkeypatch):
    index_dir = _build(tmp_path / "docs", tmp_path / "index")
    monkeypatch.setenv("RAG_INDEX_DIR", str(index_dir))
    monkeypatch.setenv("RAG_LLM", "none")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.sidebar.radio(key="page").set_value("Documents").run()
    text = "La médiathèque prête des livres audio pendant trois semaines.".encode()
    at.file_uploader(key="upload_files").set_value(
        [("../../Médiathèque horaires.md", text, "text/markdown"), ("vide.txt", b"", "text/plain")]
    )
    at.button[0].click().run()  # the form's "Indexer"
    assert not at.exception, at.exception
    assert "Médiathèque_horaires.md : ajouté (1 passage)" in _texts(at.success)
    assert "vide.txt : refusé, fichier vide" in _texts(at.error)
    assert "enregistré sous le nom Médiathèque_horaires.md" in _texts(at.info)
    assert (index_dir / "uploads" / "Médiathèque_horaires.md").is_file()
    assert not (index_dir / "uploads" / "vide.txt").exists()
    assert "Médiathèque_horaires.md" in list(at.dataframe[0].value["Nom"])

    # the service picks up the new generation: the new document answers questions
    at.sidebar.radio(key="page").set_value("Questions").run()
    _ask(at, "Combien de temps la médiathèque prête-t-elle les livres audio ?")
    assert "Médiathèque_horaires.md" in "".join(_cards(at, 0))

    at.sidebar.radio(key="page").set_value("Documents").run()
    at.selectbox[0].set_value("Médiathèque_horaires.md").run()
    at.button(key="delete").click().run()
    assert "Retirer Médiathèque_horaires.md de l'index" in _texts(at.warning).replace("*", "")
    at.button(key="delete_no").click().run()
    assert "Médiathèque_horaires.md" in list(at.dataframe[0].value["Nom"])
    at.selectbox[0].set_value("Médiathèque_horaires.md").run()
    at.button(key="delete").click().run()
    at.button(key="delete_yes").click().run()
    assert not at.exception, at.exception
    assert "Médiathèque_horaires.md" not in list(at.dataframe[0].value["Nom"])
    assert not (index_dir / "uploads" / "Médiathèque_horaires.md").exists()
    assert "Médiathèque_horaires.md : retiré de l'index" in _texts(at.success)
    # ... and retrieval no longer sees it
    at.sidebar.radio(key="page").set_value("Questions").run()
    _ask(at, "Combien de temps la médiathèque prête-t-elle les livres audio ?")
    assert _cards(at, 1) and "Médiathèque" not in "".join(_cards(at, 1))


def test_missing_index_says_how_to_ingest_and_offers_the_upload(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setenv("RAG_LLM", "none")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    assert "Aucun index" in _texts(at.warning)
    assert "rag ingest" in at.code[0].value and str(tmp_path / "nowhere") in at.code[0].value
    assert at.file_uploader and not at.chat_input
    at.sidebar.radio(key="page").set_value("Documents").run()
    assert "Aucun index" in _texts(at.warning) and at.file_uploader


def test_rag_ui_command_line(tmp_path, monkeypatch):
    from rag.cli import build_parser
    from rag.cli.commands import ui_command

    monkeypatch.delenv("RAG_LLM", raising=False)
    args = build_parser().parse_args(["ui", "--index", str(tmp_path), "--port", "8600", "--llm", "none"])
    argv, env = ui_command(args)
    assert argv[1:4] == ["-m", "streamlit", "run"] and Path(argv[4]) == Path(APP)
    assert argv[argv.index("--server.port") + 1] == "8600"
    assert argv[argv.index("--server.address") + 1] == "127.0.0.1"
    assert argv[argv.index("--server.headless") + 1] == "true"
    assert argv[argv.index("--browser.gatherUsageStats") + 1] == "false"
    assert env["RAG_INDEX_DIR"] == str(tmp_path.resolve())
    handed = json.loads(env["RAG_SETTINGS_JSON"])  # what the server process's Settings.load() applies last
    assert handed["llm"]["name"] == "none" and handed["index"]["dir"] == str(tmp_path.resolve())
    assert handed["ui"]["port"] == 8600
