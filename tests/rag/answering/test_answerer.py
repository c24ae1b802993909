"""The answerer's flow with a scripted LLM over a small index: citations checked and fixed,
refusals before and after generation, the stream of events, the second look."""

from __future__ import annotations

from ingest.chunking import ChunkingParams
from rag.answering.prompts import REFUSAL
from rag.service import RagService
from tests.rag.answering.conftest import DOCS, Scripted, _answerer, _indexed, _number_of_text


def test_supported_answer_keeps_its_citation_and_span(service):
    llm = Scripted("")
    answerer = _answerer(service, llm)
    hits = service.search("À quelle heure ouvre le fournil ?", k=3)
    n = next(i for i, h in enumerate(hits, 1) if "sept heures" in h.chunk.text)
    llm.replies = [f"Le fournil ouvre à sept heures [{n}]."]
    answer = answerer.ask("À quelle heure ouvre le fournil ?")
    assert not answer.abstained and answer.mode == "llm"
    assert answer.text == f"Le fournil ouvre à sept heures [{n}]."
    (citation,) = answer.citations
    a, b = citation.span
    assert "sept heures" in citation.hit.chunk.text[a:b]
    assert answer.sentences[0].supported and answer.sentences[0].citations == (n,)
    system, question = (m["content"] for m in llm.prompts[0])
    assert "\n(source : " in system and system.index("[1] ") < system.index("[2] ")
    assert question == "À quelle heure ouvre le fournil ?"


def test_wrong_and_out_of_range_citations_are_fixed(service):
    llm = Scripted("")
    answerer = _answerer(service, llm)
    question = "Combien coûte l'entrée du musée ?"
    hits = service.search(question, k=3)
    right = next(i for i, h in enumerate(hits, 1) if h.chunk.source == "musee.txt")
    wrong = next(i for i in range(1, 4) if i != right)
    llm.replies = [f"L'entrée du musée coûte huit euros [{wrong}][7]."]
    answer = answerer.ask(question)
    assert answer.invalid_markers == (7,)
    sentence = answer.sentences[0]
    assert sentence.cited == (wrong,) and sentence.citations == (right,) and sentence.supported
    assert f"[{right}]" in answer.text and "[7]" not in answer.text


def test_unsupported_sentences_are_flagged_and_too_many_refuse(service):
    llm = Scripted("")
    answerer = _answerer(service, llm)
    question = "Quand se tient le marché des producteurs ?"
    llm.replies = [
        "Le marché se tient le samedi matin sur la place centrale [1]. "
        "Il accueille aussi des girafes venues de Norvège [1]."
    ]
    answer = answerer.ask(question)
    flags = [s.supported for s in answer.sentences]
    assert flags == [True, False] and not answer.abstained
    assert len(answer.unsupported_sentences) == 1
    llm.replies = ["Les girafes norvégiennes dansent le tango [2]. Les licornes volent [1]."]
    refused = answerer.ask(question)
    assert refused.abstained and refused.text == REFUSAL and "not supported" in refused.abstain_reason
    assert refused.hits  # the nearest passages are still shown


def test_model_refusal_is_an_abstention(service):
    answerer = _answerer(service, Scripted("Ce n’est pas dans les documents."))
    answer = answerer.ask("Quand se tient le marché des producteurs ?")
    assert answer.abstained and answer.text == REFUSAL and "model" in answer.abstain_reason


def test_weak_evidence_refuses_before_generating(service):
    llm = Scripted("ne doit pas servir")
    answer = _answerer(service, llm).ask("Quel est le salaire du président de la république ?")
    assert answer.abstained and "weak evidence" in answer.abstain_reason
    named = _answerer(service, llm).ask("Quel est le salaire du président de la Bolivie ?")
    assert named.abstained and named.abstain_reason == "unknown to the documents: none of them writes « Bolivie »"
    assert llm.prompts == []  # the model was never called


def test_stream_yields_hits_tokens_then_answer(service):
    llm = Scripted("Le marché a lieu le samedi matin [1].")
    events = list(_answerer(service, llm).ask_stream("Quand a lieu le marché des producteurs ?"))
    kinds = [e["type"] for e in events]
    assert kinds[0] == "hits" and kinds[-1] == "answer" and "token" in kinds
    streamed = "".join(e["text"] for e in events if e["type"] == "token")
    assert streamed.strip() == "Le marché a lieu le samedi matin [1]."
    assert "first_token" in events[-1]["answer"].timings


def test_a_table_of_contents_is_neither_shown_nor_cited(tmp_path):
    contents = (
        "Sommaire\n1\tLe fournil et ses horaires\t2\n2\tLe pain au levain : combien de temps cuit-il\t4\n"
        "3\tLe four à bois chauffé au chêne\t6\n4\tLe musée et le marché\t9\n"
    )
    index_dir = _indexed(tmp_path, {**DOCS, "sommaire.txt": contents}, ChunkingParams(60, 10))
    question = "Combien de temps cuit le pain au levain ?"
    with RagService.open(index_dir) as svc:
        assert "sommaire.txt" in [h.chunk.source for h in svc.retriever.retrieve(question, 3).hits]
        answer = _answerer(svc, None).ask(question)
    assert "sommaire.txt" not in [h.chunk.source for h in answer.hits] and len(answer.hits) == 3  # refilled
    assert not answer.abstained and "quatre heures" in answer.text


def test_a_draft_that_fails_its_check_gets_a_second_look(service):
    question = "Combien coûte l'entrée du musée ?"
    first = "Le pain au levain cuit quatre heures [1]. Les girafes dansent [2]."
    llm = Scripted(first, "")
    answerer = _answerer(service, llm, second_look=True, second_look_passages=1, k=3)
    hits = service.search(question, k=3)
    n = _number_of_text(hits, "huit euros")
    llm.replies[1] = f"L'entrée du musée coûte huit euros [{n}]."
    events = list(answerer.ask_stream(question))
    kinds = [e["type"] for e in events]
    assert kinds.index("retry") < len(kinds) - 1 and "not supported" in events[kinds.index("retry")]["reason"]
    answer = events[-1]["answer"]
    assert not answer.abstained and "huit euros" in answer.text and f"[{n}]" in answer.text
    assert answer.citations[0].hit.chunk.source == "musee.txt" and answer.draft.startswith("L'entrée")
    second = llm.prompts[1][0]["content"]  # the closest passage alone, under its own number
    assert f"[{n}] " in second and "huit euros" in second and "quatre heures" not in second
    assert "second_look" in answer.timings


def test_a_second_look_that_fails_too_refuses_with_the_first_reason(service):
    llm = Scripted("Les girafes dansent le tango [1].", "Les licornes volent [1].")
    answer = _answerer(service, llm, second_look=True).ask("Combien coûte l'entrée du musée ?")
    assert answer.abstained and "not supported" in answer.abstain_reason
    assert answer.draft.startswith("Les girafes") and len(llm.prompts) == 2


def test_no_second_look_when_the_model_says_it_is_not_there(service):
    llm = Scripted("Ce n'est pas dans les documents.")
    answer = _answerer(service, llm, second_look=True, located_answer=True).ask("Combien coûte l'entrée du musée ?")
    assert answer.abstained and "model" in answer.abstain_reason and len(llm.prompts) == 1
