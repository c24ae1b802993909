"""Answers without a model: the passages' best sentences, cited."""

from __future__ import annotations

from tests.rag.answering.conftest import _answerer, _number_of


def test_extractive_mode_cites_the_best_sentence(service):
    answer = _answerer(service, None).ask("Combien de temps cuit le pain au levain ?")
    assert answer.mode == "extractive" and not answer.abstained
    assert "quatre heures" in answer.text
    n = _number_of(answer, "fournil.md")
    assert f"[{n}]" in answer.text and answer.citations[0].hit.chunk.source == "fournil.md"


def test_extractive_mode_answers_each_question_of_a_compound_question(service):
    question = "Combien de temps cuit le pain au levain, et combien coûte l'entrée du musée ?"
    answer = _answerer(service, None, min_evidence=0.0, extractive_sentences=1).ask(question)
    assert not answer.abstained and "quatre heures" in answer.text and "huit euros" in answer.text
