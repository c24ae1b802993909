"""A small hashing-embedder index and answerer settings for the answering tests; the scripted
LLM replies in order and records its prompts."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ingest.chunking import ChunkingParams
from ingest.pipeline import ingest
from rag.answering import Answerer
from rag.service import RagService
from rag.settings import AnswerSettings
from rag.testing import HashingEmbedder, ScriptedLLM

DOCS = {
    "fournil.md": "# Le fournil\n\nLe fournil ouvre à sept heures du mardi au dimanche.\n\n"
    "## Pain\n\nLe pain au levain cuit quatre heures dans un four à bois chauffé au chêne.\n",
    "musee.txt": "Le musée municipal expose trois cents tableaux flamands. L'entrée coûte huit euros.",
    "marche.txt": "Le marché des producteurs se tient chaque samedi matin sur la place centrale.",
}


def Scripted(*replies):  # noqa: N802 - reads like the class it stands for
    """The scripted LLM: replies in order, records the prompts."""
    return ScriptedLLM(list(replies))


def _indexed(tmp_path, docs: dict[str, str], params: ChunkingParams):
    """An index of ``docs`` (name: text) under ``tmp_path``, with the hashing embedder."""
    root = tmp_path / "docs"
    root.mkdir()
    for name, text in docs.items():
        (root / name).write_text(text, encoding="utf-8")
    ingest([root], tmp_path / "index", HashingEmbedder(256), params, progress=False)
    return tmp_path / "index"


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    with RagService.open(_indexed(tmp_path_factory.mktemp("service"), DOCS, ChunkingParams(60, 10))) as svc:
        yield svc


SETTINGS = AnswerSettings(
    k=3, min_evidence=0.5, support_threshold=0.5, quote=False, second_look=False, located_answer=False
)


def _answerer(service, llm, **settings):
    return Answerer(service.retriever, llm, settings=replace(SETTINGS, **settings))


def _number_of_text(hits, phrase):
    return next(i for i, h in enumerate(hits, 1) if phrase in h.chunk.text)


def _number_of(answer, source):
    return next(i for i, h in enumerate(answer.hits, 1) if h.chunk.source == source)
