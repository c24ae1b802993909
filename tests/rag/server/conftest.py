"""A small hashing-embedder index per test, the settings that serve it, and the app over it
with an in-process client (``TestClient``): no model, no network."""

from __future__ import annotations

import re

import pytest

from rag.service import RagService
from rag.settings import Settings
from rag.testing import ScriptedLLM

DOCS = {
    "fournil.md": "# Le fournil\n\nLe fournil ouvre à sept heures du mardi au dimanche.\n\n"
    "## Pain\n\nLe pain au levain cuit quatre heures dans un four à bois chauffé au chêne.\n",
    "musee.txt": "Le musée municipal expose trois cents tableaux flamands. L'entrée coûte huit euros.",
    "marche.txt": "Le marché des producteurs se tient chaque samedi matin sur la place centrale.",
}
QUESTION = "À quelle heure ouvre le fournil ?"


def server_settings(index_dir, **values) -> Settings:
    base = {
        "index.dir": index_dir,
        "index.embedder": "hashing-128",
        "llm.name": "none",
        "ingestion.chunk_tokens": 40,
        "ingestion.overlap_tokens": 8,
    }
    return Settings.load(env={}, overrides={**base, **values})


@pytest.fixture
def index_dir(hashing_index):
    """A fresh index of ``DOCS`` (tests upload to it and delete from it)."""
    return hashing_index(DOCS)


def cites_the_opening_hour(messages: list[dict]) -> str:
    """A scripted model that answers from the passage giving the hour, citing its number, and
    rewrites follow-ups the way the condensing prompt asks."""
    prompt = "\n".join(m["content"] for m in messages)
    if "Utilisateur :" in prompt:  # the follow-up rewrite
        return "À quelle heure ouvre le fournil le dimanche ?"
    found = re.search(r"\[(\d+)\][^\[]*sept heures", prompt)
    return f"Le fournil ouvre à sept heures [{found.group(1)}]." if found else "Ce n'est pas dans les documents."


@pytest.fixture
def make_client(index_dir):
    """``make_client(llm=None, **settings)``: a TestClient over the app serving ``index_dir``
    (with ``llm``, a scripted model; else extractive answers), started and stopped with the test."""
    from fastapi.testclient import TestClient

    from rag.server import create_app

    opened = []

    def make(llm=None, **values):
        settings = server_settings(index_dir, **values)
        service = RagService.open(index_dir, settings=settings, llm=llm)
        client = TestClient(create_app(settings, service=service))
        opened.append(client.__enter__())
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client):
    return make_client(ScriptedLLM(cites_the_opening_hour))
