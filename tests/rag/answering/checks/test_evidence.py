"""Names the documents never write: plain strings, a plain vocabulary, no index and no model."""

from __future__ import annotations

from rag.answering.checks import unwritten_names
from rag.text.analysis import analyze

VOCABULARY = set(analyze("Debian s'installe avec apt. Le modèle GPT-4 et ChatGPT. Le four de Dupont."))


def written(term: str) -> bool:
    return term in VOCABULARY


def test_a_name_no_document_writes_is_found():
    assert unwritten_names("Comment installer et utiliser Docker sur Debian ?", written) == ["Docker"]
    assert unwritten_names("Comment configurer un VPN WireGuard sous Debian ?", written) == ["WireGuard"]
    assert unwritten_names("Comment remplacer PulseAudio par PipeWire ?", written) == ["PulseAudio", "PipeWire"]


def test_names_the_documents_write_and_questions_without_names_pass():
    assert unwritten_names("Quel modèle ChatGPT utilise-t-il, selon Dupont ?", written) == []
    assert unwritten_names("Comment installer un paquet ?", written) == []


def test_acronyms_may_abbreviate_written_words_and_are_left_out():
    assert unwritten_names("Que dit le JDN de ChatGPT ?", written) == []
    assert unwritten_names("Debian démarre-t-elle avec UEFI ?", written) == []


def test_a_name_counts_as_written_when_any_of_its_terms_is():
    assert unwritten_names("Que vaut GPT-5 face à Debian ?", written) == []  # « gpt » and « 5 » are written apart


def test_the_gate_refuses_a_question_naming_what_no_document_writes():
    from rag.answering.answerability import Gate

    class Signals:
        def retrieval_signals(self, question, hits):
            return {"evidence": 0.9, "window_support": 0.9}

    gate = Gate(Signals(), None, min_evidence=0.1, written=written)
    refused = gate.assess("Comment installer Docker sur Debian ?", [], [], None)
    assert refused.unwritten == ("Docker",)
    assert gate.refusal(refused) == "unknown to the documents: none of them writes « Docker »"
    assert gate.refusal(gate.assess("Comment installer ChatGPT sur Debian ?", [], [], None)) is None
    assert Gate(Signals(), None, 0.1).refusal(Gate(Signals(), None, 0.1).assess("Docker ?", [], [], None)) is None
