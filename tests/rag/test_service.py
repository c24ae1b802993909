"""The façade: opened with settings, it answers with them; ingest and remove go through it and an
existing index keeps its identity."""

from __future__ import annotations

import os
import shutil

import pytest

from rag.errors import IndexMismatchError, IndexNotFoundError
from rag.service import RagService, identity, ingest, remove, supported_suffixes
from rag.settings import Settings

DOCS = {
    "fournil.md": "# Le fournil\n\nLe fournil ouvre à sept heures du mardi au dimanche.\n",
    "musee.txt": "Le musée municipal expose trois cents tableaux flamands. L'entrée coûte huit euros.",
    "marche.txt": "Le marché des producteurs se tient chaque samedi matin sur la place centrale.",
}


@pytest.fixture
def corpus(tmp_path):
    root = tmp_path / "docs"
    root.mkdir()
    for name, text in DOCS.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def _settings(tmp_path, **values) -> Settings:
    base = {"index.dir": tmp_path / "index", "index.embedder": "hashing-64", "llm.name": "none"}
    return Settings.load(env={}, overrides={**base, **values})


def test_ingest_ask_and_remove_through_the_facade(tmp_path, corpus):
    settings = _settings(tmp_path, **{"ingestion.chunk_tokens": 40, "ingestion.overlap_tokens": 5})
    report = ingest([corpus], settings, progress=False)
    assert report.ok and {f.status for f in report.files} == {"added"}
    with RagService.open(settings=settings) as service:
        assert service.index.embedder_id == "hashing-bow-64" and service.index.chunking["max_tokens"] == 40
        assert len(service.documents()) == 3
        assert service.llm is None  # llm.name = none: extractive answers
        answer = service.ask("À quelle heure ouvre le fournil ?")
        assert answer.mode == "extractive" and "sept heures" in answer.text
        assert service.remove(["musee.txt"]) == ["musee.txt"]
        assert {d.source for d in service.documents()} == {"fournil.md", "marche.txt"}  # the open service sees it
    assert remove(["musee.txt"], settings) == []


def test_answering_settings_reach_the_answerer(tmp_path, corpus):
    ingest([corpus], _settings(tmp_path), progress=False)
    with RagService.open(settings=_settings(tmp_path, **{"answering.k": 2, "answering.min_evidence": 0.0})) as svc:
        assert svc.answerer(use_llm=False).settings.k == 2
        assert len(svc.ask("Quand se tient le marché ?").hits) == 2
    with RagService.open(tmp_path / "index", settings=_settings(tmp_path), neighbours=0) as svc:
        assert svc.retriever.settings.neighbours == 0  # retrieval settings as keywords, too


def test_an_existing_index_keeps_its_identity_unless_told_otherwise(tmp_path, corpus):
    ingest(
        [corpus], _settings(tmp_path, **{"ingestion.chunk_tokens": 40, "ingestion.overlap_tokens": 5}), progress=False
    )
    # defaults take the index's own values
    chosen = identity(Settings.load(env={}, overrides={"index.dir": tmp_path / "index"}), tmp_path / "index")
    assert chosen == {"embedder": "hashing-bow-64", "type": "auto", "chunk_tokens": 40, "overlap_tokens": 5}
    assert ingest([corpus], Settings.load(env={}, overrides={"index.dir": tmp_path / "index"}), progress=False).ok
    # a value changed from its default must match, else the message says how to rebuild
    other = _settings(tmp_path, **{"ingestion.chunk_tokens": 60, "ingestion.overlap_tokens": 5})
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        ingest([corpus], other, progress=False)
    report = ingest([corpus], other, rebuild=True, progress=False)
    assert report.ok
    with RagService.open(settings=_settings(tmp_path)) as service:
        assert service.index.chunking["max_tokens"] == 60


def test_opening_nothing_says_how_to_create_it(tmp_path):
    with pytest.raises(IndexNotFoundError, match="rag ingest"):
        RagService.open(settings=_settings(tmp_path))


def test_supported_suffixes_come_from_the_readers():
    assert {".pdf", ".docx", ".md", ".html", ".txt"} <= supported_suffixes()


def test_a_calibration_written_meanwhile_reaches_the_next_answer(tmp_path, corpus):
    """``eval.calibrate --write`` run while a server holds the service: its next answer uses it."""
    from rag.answering.calibration import write

    ingest([corpus], _settings(tmp_path), progress=False)
    with RagService.open(settings=_settings(tmp_path)) as service:
        before = service.answerer(use_llm=False)
        assert service.answerer(use_llm=False) is before  # built once while nothing changes
        write(tmp_path / "index", "hashing-bow-64", {"min_evidence": 0.93, "support_threshold": 0.41}, {})
        after = service.answerer(use_llm=False)
        assert after is not before and after.settings.min_evidence == 0.93
        assert service.answerer(use_llm=False) is after


def test_a_service_knows_when_its_index_was_rebuilt_under_it(tmp_path, corpus):
    """What a long-lived process must open again: the index rebuilt with another embedder, or
    its store replaced; a plain ingestion is only a new generation, seen by the next search."""
    ingest([corpus], _settings(tmp_path), progress=False)
    with RagService.open(settings=_settings(tmp_path)) as service:
        (corpus / "gare.txt").write_text("La gare de Lyon accueille les trains de nuit.", encoding="utf-8")
        ingest([corpus], _settings(tmp_path), progress=False)
        assert service.stale() is None and service.search("trains de nuit", k=1)[0].chunk.source == "gare.txt"
        ingest([corpus], _settings(tmp_path, **{"index.embedder": "hashing-32"}), rebuild=True, progress=False)
        assert "hashing-bow-32" in service.stale()
    with RagService.open(settings=_settings(tmp_path)) as service:
        assert service.stale() is None
        index = tmp_path / "index" / "chunks.sqlite"
        os.replace(index, tmp_path / "aside.sqlite")
        assert "is gone" in service.stale()
        shutil.copy(tmp_path / "aside.sqlite", index)
        assert "was replaced" in service.stale()
