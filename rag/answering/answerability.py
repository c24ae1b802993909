"""Can the passages answer the question? Signals that do not depend on how the question is
worded, and one calibrated confidence that every answer goes through.

Signals (each a number, higher = more answerable):

- ``evidence``: the rarity-weighted share of the question's content terms found in the best of
  the first three passages (``rag.answering.checks.evidence_score``): a question about something
  the documents never name (« Docker ») finds none of its rare terms;
- ``window_support``: the support score (``rag.answering.support``) of the best window of the
  passages for the question: lexical and semantic closeness of one or two sentences;
- ``likelihood_gain`` (needs a model that scores replies): how much more likely the model finds
  the question after the best window than after an empty passage (mean log-probability per
  token, question likelihood as in ``rag.answering.locate``). A window that answers makes the
  question's precise words predictable; one that only shares its topic barely does. The gain,
  not the likelihood itself, so that a question's own fluency does not count;
- ``refusal_gain`` (same): how much less likely the model finds « Ce n'est pas dans les
  documents. » as its reply after the passages than after no passage: the model's own reading
  of whether the passages hold the answer, scored, not generated.

``Calibration`` combines them (standardised, weighted, a logistic curve) into a confidence in
[0, 1]; the weights, scales and threshold are measured on question sets by
``python -m eval.answerability`` and stored like the other calibrated values
(``rag.answering.calibration``). This module does not refuse: the answerer does, below the
threshold, whatever path the answer took.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from rag.answering import prompts
from rag.answering.checks import evidence_score, unwritten_names
from rag.llm.base import can_score
from rag.types import Hit

SIGNALS = ("evidence", "window_support", "likelihood_gain", "refusal_gain")
EMPTY_PASSAGE = "(aucun passage)"


@dataclass(frozen=True)
class Calibration:
    """A logistic model over standardised signals; ``threshold`` is on its output."""

    weights: dict[str, float]
    means: dict[str, float]
    scales: dict[str, float]
    bias: float = 0.0
    threshold: float = 0.5

    def confidence(self, signals: dict[str, float]) -> float:
        z = self.bias + sum(
            w * (signals[name] - self.means[name]) / (self.scales[name] or 1.0)
            for name, w in self.weights.items()
            if signals.get(name) is not None
        )
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def to_dict(self) -> dict:
        return {
            "weights": self.weights,
            "means": self.means,
            "scales": self.scales,
            "bias": self.bias,
            "threshold": self.threshold,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Calibration:
        return cls(
            weights=dict(data["weights"]),
            means=dict(data["means"]),
            scales=dict(data["scales"]),
            bias=float(data.get("bias", 0.0)),
            threshold=float(data.get("threshold", 0.5)),
        )


@dataclass
class Assessment:
    """The signals of one question over its passages, and the confidence once calibrated."""

    signals: dict[str, float] = field(default_factory=dict)
    confidence: float | None = None
    unwritten: tuple[str, ...] = ()  # names of the question that no document writes

    def weakest(self, calibration: Calibration) -> str | None:
        """The signal that pulls the confidence down most: what a refusal's reason names."""
        pulls = {
            name: w * (self.signals[name] - calibration.means[name]) / (calibration.scales[name] or 1.0)
            for name, w in calibration.weights.items()
            if self.signals.get(name) is not None
        }
        return min(pulls, key=pulls.get) if pulls else None


class Assessor:
    def __init__(self, support, locator, llm=None):
        """``support``: the support scorer; ``locator``: ranks the windows; ``llm``: scores
        replies (optional: without it the model's signals are left out)."""
        self.support = support
        self.locator = locator
        self.llm = llm if can_score(llm) else None

    def retrieval_signals(self, question: str, hits: list[Hit]) -> dict[str, float]:
        texts = [h.chunk.text for h in hits]
        supports = self.support.score_many(question, texts) if texts else []
        return {
            "evidence": evidence_score(question, hits, self.support.idf),
            "window_support": max((s.score for s in supports), default=0.0),
        }

    def model_signals(
        self, question: str, hits: list[Hit], messages: list[dict] | None = None, wanted=SIGNALS
    ) -> dict[str, float]:
        """The scored signals among ``wanted``; ``messages``: the answer prompt with the
        passages, when built (``refusal_gain`` needs it: one more pass over the whole prompt)."""
        if self.llm is None or not hits:
            return {}
        signals = {}
        if "likelihood_gain" in wanted:
            texts = [h.chunk.text for h in hits]
            ranked = self.locator.rank(question, texts)
            best = texts[ranked[0].passage][ranked[0].span[0] : ranked[0].span[1]] if ranked else texts[0]
            with_window, empty = self.locator.likelihoods(question, [best, EMPTY_PASSAGE])
            signals["likelihood_gain"] = with_window - empty
        if messages is not None and "refusal_gain" in wanted:
            bare = [messages[0] | {"content": prompts.SYSTEM.format(passages=EMPTY_PASSAGE)}, *messages[1:]]
            refusal_after_passages, refusal_alone = self.llm.reply_logprobs([messages, bare], prompts.REFUSAL)
            signals["refusal_gain"] = refusal_alone - refusal_after_passages
        return signals


class Gate:
    """The one answerability decision every answer goes through, whatever path it then takes
    (the model's draft, the second look, the located window, the extractive answer): below
    the calibrated confidence the answer is a refusal, with the weakest signal as its reason.

    Principle: whether the documents answer a question is decided from how well the passages
    meet it (signals measured on question sets, combined by a fitted model), never from the
    question's wording. Without a calibration for this embedder (and model), the decision is
    the evidence score against the calibrated ``min_evidence`` alone. Before either, a
    question that names something no document ever writes is refused
    (``checks.unwritten_names``; ``written``: whether the index holds an analysed term).
    """

    def __init__(self, assessor: Assessor, calibration: Calibration | None, min_evidence: float, written=None):
        self.assessor = assessor
        self.calibration = calibration
        self.min_evidence = min_evidence
        self.written = written

    def assess(self, question: str, hits: list[Hit], shown: list[Hit], messages: list[dict] | None) -> Assessment:
        assessment = Assessment(self.assessor.retrieval_signals(question, hits))
        if self.written is not None:
            assessment.unwritten = tuple(unwritten_names(question, self.written))
        if self.calibration is None:
            return assessment
        wanted = [name for name, weight in self.calibration.weights.items() if weight]
        if set(wanted) - set(assessment.signals):
            assessment.signals |= self.assessor.model_signals(question, shown, messages, wanted)
        assessment.confidence = self.calibration.confidence(assessment.signals)
        return assessment

    def refusal(self, assessment: Assessment) -> str | None:
        """Why the passages do not answer, or None when they may."""
        if assessment.unwritten:
            named = ", ".join(f"« {name} »" for name in assessment.unwritten)
            return f"unknown to the documents: none of them writes {named}"
        if self.calibration is None or assessment.confidence is None:
            evidence = assessment.signals.get("evidence", 0.0)
            if evidence < self.min_evidence:
                return f"weak evidence: the passages cover {evidence:.0%} of the question's key terms"
            return None
        if assessment.confidence >= self.calibration.threshold:
            return None
        return (
            f"low answerability: confidence {assessment.confidence:.2f} below {self.calibration.threshold:.2f}"
            f" (weakest signal: {assessment.weakest(self.calibration)})"
        )
