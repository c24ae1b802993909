"""Fixtures for the runners' tests: the bakery corpus and questions in tmp_path, default thresholds."""

from __future__ import annotations

import pytest

from tests.eval.bakery import DOCS, QUESTIONS, write_questions


@pytest.fixture
def tiny_corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def tiny_questions(tmp_path):
    return write_questions(tmp_path / "questions.jsonl", QUESTIONS)


@pytest.fixture
def uncalibrated(monkeypatch):
    """The answerer's uncalibrated thresholds, whatever the embedder: the tests' hashing embedder
    has none of its own, but an index calibration file must not leak in either."""
    monkeypatch.setattr("rag.answering.calibration.SHIPPED", {})
