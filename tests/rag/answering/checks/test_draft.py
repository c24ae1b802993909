"""Checks: the evidence score, refusals in the model's words, drafts that miss what is asked."""

from __future__ import annotations

from dataclasses import replace

from rag.answering import Answerer
from rag.answering.checks import evidence_score
from tests.rag.answering.conftest import SETTINGS, Scripted, _answerer


def test_evidence_score_weights_rare_terms():
    from rag.types import Chunk, Hit

    hit = Hit(Chunk("d:0", "d", "s", "Le fournil ouvre à sept heures.", 0, 31), 1.0, 1)
    idf = {"fournil": 3.0, "ouvr": 1.0, "heur": 1.0, "girafl": 5.0}.get
    assert evidence_score("À quelle heure ouvre le fournil ?", [hit], lambda t: idf(t, 1.0)) == 1.0
    assert evidence_score("heure de la girafle", [hit], lambda t: idf(t, 1.0)) < 0.5


def test_an_answer_that_counts_something_else_is_refused(service):
    question = "Combien de boulangers travaillent au fournil ?"
    hits = service.search(question, k=3)
    n = next(i for i, h in enumerate(hits, 1) if "sept heures" in h.chunk.text)
    # supported by its passage, but no passage counts bakers: the model answered another question
    llm = Scripted(f"Le fournil ouvre à sept heures du mardi au dimanche [{n}].")
    answerer = Answerer(service.retriever, llm, settings=replace(SETTINGS, min_evidence=0.0))
    answer = answerer.ask(question)
    assert answer.abstained and "boulangers" in answer.abstain_reason
    assert answer.sentences and answer.sentences[0].supported  # the check is kept for display


def test_restating_the_question_is_refused(service):
    question = "Quel bois chauffe le four du pain au levain ?"
    llm = Scripted("Le bois chauffe le four du pain au levain [1].")
    answer = _answerer(service, llm).ask(question)
    assert answer.abstained and "restates" in answer.abstain_reason
