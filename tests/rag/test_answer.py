"""Cited answers with a scripted LLM over a small hashing-embedder index: citations checked,
re-attributed, flagged; refusals before and after generation; extractive mode."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ingest.chunking import ChunkingParams
from ingest.pipeline import ingest
from rag.answering import Answerer
from rag.answering.answerer import ELSEWHERE
from rag.answering.checks import evidence_score, is_refusal
from rag.answering.finishing import plain
from rag.answering.prompts import REFUSAL
from rag.answering.skips import about as _about
from rag.answering.skips import introducing
from rag.answering.skips import not_answering as _not_answering
from rag.cli.render import answer_to_text
from rag.errors import RagError
from rag.service import RagService
from rag.settings import AnswerSettings
from rag.testing import HashingEmbedder
from rag.text.layout import windows
from rag.text.markers import answer_sentences, parse_markers, with_markers

DOCS = {
    "fournil.md": "# Le fournil\n\nLe fournil ouvre à sept heures du mardi au dimanche.\n\n"
    "## Pain\n\nLe pain au levain cuit quatre heures dans un four à bois chauffé au chêne.\n",
    "musee.txt": "Le musée municipal expose trois cents tableaux flamands. L'entrée coûte huit euros.",
    "marche.txt": "Le marché des producteurs se tient chaque samedi matin sur la place centrale.",
}


class Scripted:
    """The smallest LLM the answerer needs: replies in order, records the prompts."""

    model_id = "scripted"
    context_window = 4096

    def __init__(self, *replies):
        self.replies = list(replies)
        self.prompts = []

    def count_tokens(self, text):
        return len(text.split())

    def chat_tokens(self, messages):
        return sum(len(m["content"].split()) + 4 for m in messages)

    def stream(self, messages, max_new_tokens=256, stop=None):
        self.prompts.append(messages)
        for word in self.replies.pop(0).split(" "):
            yield word + " "


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


def test_which_windows_may_end_an_answer_as_its_excerpt():
    passage = (
        "Combien de temps cuit le pain au levain ? La question revient souvent.\n\n"
        "Le pain au levain cuit quarante minutes.\n\n## Le four\n"
    )
    question = "Combien de temps cuit le pain au levain ?"
    spans = {passage[a:b].strip(): (a, b) for a, b in windows(passage)}
    skip_quote, skip_located = _not_answering(question, [passage]), introducing([passage])
    asking = spans["Combien de temps cuit le pain au levain ?"]
    restating = spans["La question revient souvent."]
    answering = spans["Le pain au levain cuit quarante minutes."]
    heading = next(span for text, span in spans.items() if text.endswith("## Le four"))
    assert skip_quote(0, asking) and skip_located(0, asking)  # a question introduces, answers nothing
    assert skip_quote(0, heading) and skip_located(0, heading)  # so does a heading
    assert skip_quote(0, restating) and not skip_located(0, restating)  # no number for « combien »
    assert not skip_quote(0, answering) and not skip_located(0, answering)
    numbered = "Le four chauffe au bois.\n\n4.2 Historique du fournil"
    assert introducing([numbered])(0, (0, len(numbered)))  # a section number and a title: a heading
    assert not introducing(["Le four a 4.2 mètres."])(0, (0, 21))


def test_a_window_holding_the_documents_question_is_no_answer():
    # « Q ? A. »: the question's words make it rank first whatever A says; A has its own window
    passage = "8 -1 - Combien de temps cuit le pain au levain ?\n\nLe pain cuit quarante minutes."
    skip = introducing([passage])
    assert skip(0, (0, len(passage)))
    start = passage.index("Le pain")
    assert not skip(0, (start, len(passage)))
    url = "Le tarif est sur https://fournil.example/prix?pain=levain : trois euros."
    assert not introducing([url])(0, (0, len(url)))  # a link's « ? » asks nothing


def test_a_part_about_an_earlier_name_is_answered_from_what_writes_that_name():
    # « ..., et quelle est la taille de ce four ? » is about the FB-12: not the Brasero's size,
    # nor a passage that never writes FB-12, nor a sentence whose last named subject is another.
    fb12 = "Le FB-12 est le four de Dupont. Il mesure deux mètres. Le BrasEro mesure trois mètres. Sa taille étonne."
    other = "La taille des fours varie de un à quatre mètres."
    spans = {fb12[a:b]: (a, b) for a, b in windows(fb12)}
    skip = _about(("FB", "FB-12"), [fb12, other])
    assert skip(1, (0, len(other)))  # never writes FB-12
    assert not skip(0, spans["Le FB-12 est le four de Dupont."])
    assert not skip(0, spans["Il mesure deux mètres."])  # after a sentence about the FB-12
    assert skip(0, spans["Le BrasEro mesure trois mètres."])
    assert skip(0, spans["Sa taille étonne."])  # after a sentence about the BrasEro
    assert _about((), [fb12]) is None and _about(("Dupont-9",), [other]) is None  # nothing to go by


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
    answer = _answerer(service, llm).ask("Quel est le salaire du président de la Bolivie ?")
    assert answer.abstained and "weak evidence" in answer.abstain_reason
    assert llm.prompts == []  # the model was never called


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


def test_stream_yields_hits_tokens_then_answer(service):
    llm = Scripted("Le marché a lieu le samedi matin [1].")
    events = list(_answerer(service, llm).ask_stream("Quand a lieu le marché des producteurs ?"))
    kinds = [e["type"] for e in events]
    assert kinds[0] == "hits" and kinds[-1] == "answer" and "token" in kinds
    streamed = "".join(e["text"] for e in events if e["type"] == "token")
    assert streamed.strip() == "Le marché a lieu le samedi matin [1]."
    assert "first_token" in events[-1]["answer"].timings


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


def test_parsing_helpers():
    markers, invalid = parse_markers("Un [1]. Deux [2, 9]. Trois [0].", 3)
    assert [m[2] for m in markers] == [[1], [2], []] and invalid == [9, 0]
    text = "Première phrase [1]. Seconde phrase. [2]"
    assert [text[a:b] for a, b in answer_sentences(text)] == ["Première phrase [1].", "Seconde phrase. [2]"]
    assert with_markers("Il pleut [3].", (1, 2)) == "Il pleut [1][2]."
    assert with_markers("Extrait : « Il pleut. »", (2,)) == "Extrait : « Il pleut. » [2]"
    assert plain("# Pain\n\nIl cuit **quatre** heures [3].") == "Pain — Il cuit quatre heures."
    assert is_refusal("Je ne sais pas.") and not is_refusal("Le pain cuit quatre heures.")


def test_evidence_score_weights_rare_terms():
    from rag.types import Chunk, Hit

    hit = Hit(Chunk("d:0", "d", "s", "Le fournil ouvre à sept heures.", 0, 31), 1.0, 1)
    idf = {"fournil": 3.0, "ouvr": 1.0, "heur": 1.0, "girafl": 5.0}.get
    assert evidence_score("À quelle heure ouvre le fournil ?", [hit], lambda t: idf(t, 1.0)) == 1.0
    assert evidence_score("heure de la girafle", [hit], lambda t: idf(t, 1.0)) < 0.5


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
