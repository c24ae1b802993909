"""Finishing answers in the passages' own words: excerpts after a draft, sentences citing
elsewhere left out, located answers when no draft passes."""

from __future__ import annotations

from ingest.chunking import ChunkingParams
from rag.answering.answerer import ELSEWHERE
from rag.answering.finishing import plain
from rag.answering.prompts import REFUSAL
from rag.cli.render import answer_to_text
from rag.service import RagService
from tests.rag.answering.conftest import Scripted, _answerer, _indexed, _number_of_text


def test_an_llm_answer_ends_with_the_passage_words_that_answer(service):
    question = "À quelle heure ouvre le fournil ?"
    llm = Scripted("Le fournil ouvre à sept heures [1].")
    answer = _answerer(service, llm, quote=True).ask(question)
    assert not answer.abstained
    *own, quote = answer.sentences
    assert [s.quote for s in own] == [False] and quote.quote and quote.supported
    (n,) = quote.citations
    a, b = quote.spans[n]
    passage = answer.hits[n - 1].chunk.text
    assert "sept heures du mardi au dimanche" in passage[a:b]
    assert answer.text.startswith("Le fournil ouvre à sept heures [")
    assert answer.text.endswith(f"Extrait : « {plain(passage[a:b])} » [{n}]")
    assert "mardi au dimanche" in answer.text  # the passage's words, which the model left out
    # Refusals and extractive answers (already the passages' words) get no excerpt.
    llm.replies = ["Ce n'est pas dans les documents."]
    assert _answerer(service, llm, quote=True).ask(question).sentences == ()
    extractive = _answerer(service, None, quote=True).ask(question)
    assert not any(s.quote for s in extractive.sentences) and "Extrait" not in extractive.text


def test_a_compound_question_gets_an_excerpt_for_each_of_its_questions(service):
    question = "À quelle heure ouvre le fournil, et combien coûte l'entrée du musée ?"
    llm = Scripted("Le fournil ouvre à sept heures [1].")  # the model answered half
    answer = _answerer(service, llm, quote=True, min_evidence=0.0, k=3).ask(question)
    assert not answer.abstained
    quotes = [s for s in answer.sentences if s.quote]
    sources = [answer.hits[s.citations[0] - 1].chunk.source for s in quotes]
    assert sources == ["fournil.md", "musee.txt"] and "huit euros" in answer.text


def test_an_excerpt_that_answers_both_questions_is_not_followed_by_a_second_one(service):
    question = "Combien coûte l'entrée du musée, et combien de tableaux flamands expose-t-il ?"
    llm = Scripted("L'entrée du musée coûte huit euros [1].")
    answer = _answerer(service, llm, quote=True, min_evidence=0.0, k=3).ask(question)
    quotes = [s for s in answer.sentences if s.quote]
    assert quotes and "trois cents tableaux" in answer.text
    assert answer.text.count("trois cents") == 1 and answer.text.count("huit euros") <= 2


def test_a_compound_located_answer_quotes_each_part_where_its_subject_is(tmp_path):
    fours = (
        "Le FB-12 (Four Bois 12) est le four phare de Dupont. Il pèse neuf cents kilos.\n\n"
        "Le BrasEro est un autre four. Sa taille et son poids : douze cents kilos pour cinq mètres de taille."
    )
    index_dir = _indexed(tmp_path, {"fours.txt": fours}, ChunkingParams(200, 10))
    question = "Que veut dire FB dans FB-12, et quel est le poids de ce four ?"
    llm = Scripted("Les girafes dansent le tango [1].")
    with RagService.open(index_dir) as svc:
        answer = _answerer(svc, llm, min_evidence=0.0, located_answer=True).ask(question)
    assert not answer.abstained and answer.mode == "extractive"
    assert "Four Bois 12" in answer.text and "neuf cents kilos" in answer.text
    assert "douze cents" not in answer.text  # the BrasEro's weight, well matched by « poids », is not the FB-12's


def test_a_sentence_citing_none_of_the_excerpts_passages_is_left_out(service):
    question = "À quelle heure ouvre le fournil ?"
    hits = service.search(question, k=3)
    n, m = _number_of_text(hits, "sept heures"), _number_of_text(hits, "marché")
    draft = f"Le fournil ouvre à sept heures [{n}]. Le marché des producteurs se tient le samedi matin [{m}]."
    focused = _answerer(service, Scripted(draft), quote=True).ask(question)
    assert [s.supported for s in focused.sentences] == [True, True]  # the marché sentence is not there
    assert "marché" not in focused.text and focused.draft == draft
    assert focused.sentences[-1].quote and focused.sentences[-1].citations == (n,)
    everything = _answerer(service, Scripted(draft), quote=True, focus=False).ask(question)
    assert "marché" in everything.text and len(everything.sentences) == 3
    # The model's words are the best excerpt already: none is added, the tangent still goes.
    draft = f"Le fournil ouvre à sept heures du mardi au dimanche [{n}]. Le marché se tient le samedi matin [{m}]."
    quoted = _answerer(service, Scripted(draft), quote=True).ask(question)
    assert quoted.text == f"Le fournil ouvre à sept heures du mardi au dimanche [{n}]."


def test_a_model_answering_only_from_elsewhere_gives_way_to_the_located_answer(service):
    question = "À quelle heure ouvre le fournil ?"
    m = _number_of_text(service.search(question, k=3), "marché")
    draft = f"Le marché des producteurs se tient le samedi matin [{m}]."  # a tangent, taken as supported here
    loose = {"quote": True, "support_threshold": 0.1}
    answer = _answerer(service, Scripted(draft), located_answer=True, **loose).ask(question)
    assert not answer.abstained and answer.mode == "extractive" and answer.draft_rejected == ELSEWHERE
    assert "marché" not in answer.text and "sept heures" in answer.text and answer.draft == draft
    refused = _answerer(service, Scripted(draft), **loose).ask(question)  # no located answer: refused
    assert refused.abstained and refused.abstain_reason == ELSEWHERE and refused.sentences[0].text == draft
    printed = "\n".join(answer_to_text(answer))  # what `rag ask` prints says the draft was set aside
    assert f"the model's answer was set aside: {ELSEWHERE}" in printed and "fournil.md" in printed
    assert "set aside" not in "\n".join(answer_to_text(refused)) and ELSEWHERE in "\n".join(answer_to_text(refused))


def test_no_excerpt_when_the_answer_already_quotes_it(service):
    said = "Le musée municipal expose trois cents tableaux flamands [1]. L'entrée coûte huit euros [1]."
    answer = _answerer(service, Scripted(said), quote=True).ask("Combien coûte l'entrée du musée municipal ?")
    assert not answer.abstained and answer.text == said


def test_drafts_that_fail_their_check_give_way_to_the_window_that_answers(service):
    question = "Combien coûte l'entrée du musée ?"
    llm = Scripted("Les girafes dansent le tango [1].", "Les licornes volent [2].")
    events = list(_answerer(service, llm, second_look=True, located_answer=True).ask_stream(question))
    answer = events[-1]["answer"]
    assert not answer.abstained and answer.mode == "extractive" and len(llm.prompts) == 2
    assert "not supported" in answer.draft_rejected and answer.draft.startswith("Les girafes")
    (sentence,) = answer.sentences
    assert sentence.quote and answer.text.startswith("Extrait : « ") and "huit euros" in answer.text
    (citation,) = answer.citations
    assert citation.hit.chunk.source == "musee.txt" and f"[{citation.number}]" in answer.text
    chunk = citation.hit.chunk.text
    assert "huit euros" in chunk[citation.span[0] : citation.span[1]]
    assert "locate" in answer.timings and [e["type"] for e in events].count("retry") == 1


def test_the_located_answer_is_the_best_window_not_any_window_that_would_pass(service):
    # The market passage answers best and holds no figure: refused, though the museum's
    # passage holds one (« huit euros »): a figure about something else is no answer.
    question = "Combien coûte une place au marché des producteurs le samedi matin ?"
    llm = Scripted("Une place coûte douze euros [1].")
    answer = _answerer(service, llm, min_evidence=0.0, located_answer=True).ask(question)
    assert answer.abstained and "huit euros" not in answer.text


def test_a_window_that_does_not_give_what_is_asked_is_no_answer(service):
    # The passages never count girafes: the best window has no number of them, so: refused.
    question = "Combien de girafes accueille le marché des producteurs ?"
    llm = Scripted("Le marché accueille douze girafes [1].")
    answer = _answerer(service, llm, min_evidence=0.0, located_answer=True).ask(question)
    assert answer.abstained and answer.draft_rejected is None and answer.text == REFUSAL
