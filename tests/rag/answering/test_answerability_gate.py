"""The answerability gate: one calibrated decision before any path answers, and where its
calibration is looked up (the index's own, then the shipped one, per embedder and model)."""

from __future__ import annotations

import json

from rag.answering import calibration as calibration_module
from rag.answering.answerability import Assessment, Calibration, Gate
from rag.answering.calibration import RETRIEVAL_ONLY, answerability, model_key, write, write_answerability
from tests.rag.answering.conftest import Scripted, _answerer

RETRIEVAL = Calibration(
    weights={"evidence": 2.0, "window_support": 1.0},
    means={"evidence": 0.5, "window_support": 0.5},
    scales={"evidence": 0.2, "window_support": 0.2},
    threshold=0.5,
)


class _Signals:
    """An assessor that returns fixed retrieval signals and records which model signals are asked."""

    def __init__(self, signals, model=None):
        self.signals, self.model, self.asked = signals, model or {}, []

    def retrieval_signals(self, question, hits):
        return dict(self.signals)

    def model_signals(self, question, hits, messages=None, wanted=()):
        self.asked.append(tuple(wanted))
        return {k: v for k, v in self.model.items() if k in wanted}


def test_confidence_rises_with_each_signal_and_the_weakest_is_named():
    low = RETRIEVAL.confidence({"evidence": 0.1, "window_support": 0.6})
    high = RETRIEVAL.confidence({"evidence": 0.9, "window_support": 0.6})
    assert 0 < low < 0.5 < high < 1
    assert Assessment({"evidence": 0.1, "window_support": 0.6}).weakest(RETRIEVAL) == "evidence"


def test_the_gate_refuses_below_the_threshold_with_the_weakest_signal_as_reason():
    gate = Gate(_Signals({"evidence": 0.1, "window_support": 0.4}), RETRIEVAL, min_evidence=0.0)
    assessment = gate.assess("q", [], [], None)
    reason = gate.refusal(assessment)
    assert assessment.confidence < 0.5
    assert reason.startswith("low answerability") and "evidence" in reason
    passing = Gate(_Signals({"evidence": 0.9, "window_support": 0.7}), RETRIEVAL, min_evidence=0.0)
    assert passing.refusal(passing.assess("q", [], [], None)) is None


def test_model_signals_are_computed_only_when_the_calibration_weighs_them():
    assessor = _Signals({"evidence": 0.5, "window_support": 0.5}, {"likelihood_gain": 1.0, "refusal_gain": 9.0})
    Gate(assessor, RETRIEVAL, 0.0).assess("q", [], [], None)
    assert assessor.asked == []
    with_model = Calibration(
        weights={**RETRIEVAL.weights, "likelihood_gain": 1.0},
        means={**RETRIEVAL.means, "likelihood_gain": 0.0},
        scales={**RETRIEVAL.scales, "likelihood_gain": 1.0},
    )
    assessment = Gate(assessor, with_model, 0.0).assess("q", [], [], None)
    assert assessor.asked == [("evidence", "window_support", "likelihood_gain")]
    assert "refusal_gain" not in assessment.signals and assessment.signals["likelihood_gain"] == 1.0


def test_without_a_calibration_the_evidence_score_alone_decides():
    gate = Gate(_Signals({"evidence": 0.2, "window_support": 0.9}), None, min_evidence=0.3)
    assert gate.refusal(gate.assess("q", [], [], None)).startswith("weak evidence")
    assert (
        Gate(_Signals({"evidence": 0.4, "window_support": 0.0}), None, 0.3).refusal(Assessment({"evidence": 0.4}))
        is None
    )


def test_calibrations_are_keyed_by_embedder_and_model_the_index_before_the_shipped(tmp_path, monkeypatch):
    assert model_key("/models/qwen2.5-coder-1.5b-instruct-openvino-int8/") == "qwen2.5-coder-1.5b-instruct"
    assert model_key(None) == RETRIEVAL_ONLY
    shipped = {"emb": {RETRIEVAL_ONLY: {"threshold": 0.1}, "m": {"threshold": 0.2}}}
    monkeypatch.setattr(calibration_module, "SHIPPED_ANSWERABILITY", shipped)
    assert answerability("emb", None, tmp_path)["threshold"] == 0.1
    assert answerability("emb", "m-openvino-int8", tmp_path)["threshold"] == 0.2
    assert answerability("other", "m", tmp_path) is None
    write_answerability(tmp_path, "emb", {"m": {"threshold": 0.3}})
    write(tmp_path, "emb", {"min_evidence": 0.2}, {})  # the thresholds' writer keeps the answerability
    assert answerability("emb", "m", tmp_path)["threshold"] == 0.3
    assert answerability("emb", None, tmp_path)["threshold"] == 0.1
    assert answerability("other", "m", tmp_path) is None  # measured with another embedder
    assert json.loads((tmp_path / "calibration.json").read_text())["thresholds"] == {"min_evidence": 0.2}


def test_an_answerer_refuses_before_generating_when_the_index_calibration_says_so(service, tmp_path, monkeypatch):
    strict = {**RETRIEVAL.to_dict(), "threshold": 0.999}
    monkeypatch.setattr(
        calibration_module, "SHIPPED_ANSWERABILITY", {service.index.embedder_id: {RETRIEVAL_ONLY: strict}}
    )
    llm = Scripted("Le fournil ouvre à sept heures [1].")
    answer = _answerer(service, llm, min_evidence=0.0).ask("À quelle heure ouvre le fournil ?")
    assert answer.abstained and answer.abstain_reason.startswith("low answerability")
    assert llm.prompts == [] and 0 <= answer.timings["answerability"] < 0.999
    lenient = {**RETRIEVAL.to_dict(), "threshold": 0.0}
    monkeypatch.setattr(
        calibration_module, "SHIPPED_ANSWERABILITY", {service.index.embedder_id: {RETRIEVAL_ONLY: lenient}}
    )
    answer = _answerer(service, Scripted("Le fournil ouvre à sept heures [1].")).ask(
        "À quelle heure ouvre le fournil ?"
    )
    assert not answer.abstained
    off = _answerer(service, Scripted("x"), answerability=False, min_evidence=0.0)
    assert off.gate.calibration is None
