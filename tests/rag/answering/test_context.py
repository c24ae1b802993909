"""The context the model reads: passages fitted to its window, each an excerpt around its best match."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rag.answering import Answerer
from rag.errors import RagError
from rag.settings import AnswerSettings
from tests.rag.answering.conftest import SETTINGS, Scripted, _answerer


def test_passages_fit_the_context_window(service):
    llm = Scripted("Le fournil ouvre à sept heures [1].")
    answerer = _answerer(service, llm)
    question = "À quelle heure ouvre le fournil ?"
    one_passage, _ = answerer.context.prompt(question, service.search(question, k=1))
    llm.context_window = SETTINGS.max_new_tokens + llm.chat_tokens(one_passage)  # room for exactly one
    answer = answerer.ask(question)
    system, question = (m["content"] for m in llm.prompts[0])
    assert "[1] " in system and "[2] " not in system
    assert question == "À quelle heure ouvre le fournil ?"
    assert not answer.abstained
    llm.context_window = SETTINGS.max_new_tokens + 10
    with pytest.raises(RagError, match="too long"):
        answerer.ask(question)


def test_the_llm_reads_an_excerpt_around_the_best_match_and_the_check_reads_the_whole_passage(service):
    long_text = " ".join(f"Phrase de remplissage numéro {n} sur les horaires." for n in range(30))
    long_text += " Le four à bois est chauffé au chêne depuis 1920. " + long_text
    hit = service.search("fournil", k=1)[0]
    hit = replace(hit, chunk=replace(hit.chunk, text=long_text))
    llm = Scripted("unused")
    answerer = Answerer(service.retriever, llm, settings=AnswerSettings(excerpt_tokens=30))
    (excerpt,) = answerer.context.excerpts("Avec quel bois chauffe-t-on le four ?", [hit])
    assert "chauffé au chêne depuis 1920" in excerpt
    assert excerpt.startswith("… ") and excerpt.endswith(" …")
    assert llm.count_tokens(excerpt) <= 30 + 2  # the two "…" marks
    whole = Answerer(service.retriever, llm, settings=AnswerSettings(excerpt_tokens=0))
    assert whole.context.excerpts("Avec quel bois ?", [hit]) == [long_text]
