"""Calibrate the answerer's thresholds on a question set; ``--write`` stores them with the index.

Usage::

    python -m eval.calibrate --questions ../shared/eval/dev.jsonl --corpus ../shared/corpora/llm-fr \\
        --index /tmp/llm-fr-index [--write] [--no-ingest | --rebuild]

Two thresholds of ``rag.settings.AnswerSettings``, each measured as the answerer computes it:

- ``min_evidence`` (refuse before generating below it): ``rag.answering.checks.evidence_score`` of every
  question over its top ``--k`` hits. Positives are the answerable questions, negatives the
  unanswerable ones; the threshold refuses as many unanswerable questions as possible while
  refusing at most 5% of the answerable ones (the rest of a 10% false-refusal budget is left
  to the refusals after generation).
- ``support_threshold`` (a sentence is supported at or above it): positives are the sentences
  of the reference answers scored by ``LexicalSemanticSupport.score_many`` against their gold
  passages (the retrieved hits, within 10, that alone cover a gold quote; questions whose
  quotes are not all found are skipped); negatives are the same sentences against the top 5
  passages of the next question in the file, minus any that touch a gold quote of this one.
  A score is the best over the passages, as the answerer re-attributes a sentence to its
  best passage. The threshold keeps at least 90% of the positives and rejects as many
  negatives as possible; among those, the strictest (these negatives are easy: another
  topic; a small model's invented sentences share the topic, so the margin goes to them).

``choose_threshold`` does both: candidates are the midpoints between neighbouring distinct
scores; it maximises the negatives rejected within the positives' budget, then minimises
the positives rejected, then takes the widest gap (the largest margin). The other settings
(``max_unsupported``, ``reattribute_margin``) keep their defaults. This module changes no
code: ``--write`` stores the values in the index directory (``rag.answering.calibration``), keyed
by the embedder they were measured with; the answerer reads them from there.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from eval.dataset import Question
from eval.inputs import command_parser, load_split
from eval.metrics import CONTRIBUTION_THRESHOLD, COVERAGE_THRESHOLD, coverage, percentile
from rag.errors import RagError

MAX_FALSE_REFUSALS = 0.05
MIN_SUPPORTED = 0.90
GOLD_K = 10
OTHER_K = 5


@dataclass(frozen=True)
class Choice:
    """A threshold: scores below it are rejected (refused / unsupported)."""

    threshold: float
    positives: int
    negatives: int
    positives_rejected: int
    negatives_rejected: int
    margin: float  # width of the gap between the neighbouring scores it sits in

    @property
    def recall(self) -> float:
        """Share of positives kept."""
        return 1 - self.positives_rejected / self.positives if self.positives else 0.0

    @property
    def precision(self) -> float:
        """Share of positives among the kept scores."""
        kept = self.positives - self.positives_rejected + self.negatives - self.negatives_rejected
        return (self.positives - self.positives_rejected) / kept if kept else 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "recall": self.recall, "precision": self.precision}


def choose_threshold(
    positives: Sequence[float], negatives: Sequence[float], max_positive_loss: float, strict: bool = False
) -> Choice:
    """The threshold rejecting (score < threshold) the most negatives while rejecting at most
    ``max_positive_loss`` of the positives; ties: fewer positives rejected, then the widest gap.
    ``strict`` breaks ties the other way: the highest threshold within the budget (for the
    support check, where the easy negatives measured leave harder, unmeasured ones to catch)."""
    if not positives:
        raise ValueError("no positive scores to calibrate on")
    scores = [*positives, *negatives]
    points = sorted(set(scores) | {min(0.0, *scores), max(1.0, *scores)})
    candidates = [(points[0], 0.0)] + [((a + b) / 2, b - a) for a, b in zip(points, points[1:])]
    budget = int(max_positive_loss * len(positives) + 1e-9)
    best: Choice | None = None
    for threshold, margin in candidates:
        choice = Choice(
            threshold=threshold,
            positives=len(positives),
            negatives=len(negatives),
            positives_rejected=sum(s < threshold for s in positives),
            negatives_rejected=sum(s < threshold for s in negatives),
            margin=margin,
        )
        if choice.positives_rejected > budget:
            continue
        if best is None or _key(choice, strict) > _key(best, strict):
            best = choice
    return best


def _key(choice: Choice, strict: bool) -> tuple:
    if strict:
        return (choice.negatives_rejected, choice.threshold)
    return (choice.negatives_rejected, -choice.positives_rejected, choice.margin)


def histogram(positives: Sequence[float], negatives: Sequence[float], bins: int = 10) -> list[str]:
    """Text histogram of both classes over [0, 1] in ``bins`` bins."""

    def counts(values):
        found = [0] * bins
        for v in values:
            found[min(bins - 1, max(0, int(v * bins)))] += 1
        return found

    pos, neg = counts(positives), counts(negatives)
    lines = ["  bin         positives  negatives"]
    for i in range(bins):
        close = "]" if i == bins - 1 else ")"
        lines.append(f"  [{i / bins:.1f}, {(i + 1) / bins:.1f}{close}  {pos[i]:>9}  {neg[i]:>9}")
    return lines


def quantiles(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {}
    return {f"p{p}": round(percentile(values, p), 4) for p in (0, 5, 10, 25, 50, 75, 90, 95, 100)}


# -- measuring --------------------------------------------------------------------------------
def evidence_scores(service, questions: Sequence[Question], k: int) -> list[float]:
    """``evidence_score`` of each question exactly as ``Answerer.ask_stream`` computes it."""
    from rag.answering.checks import evidence_score

    idf = service.index.keywords().idf
    scores = []
    for question in questions:
        text = " ".join(question.question.split())
        scores.append(evidence_score(text, service.retrieve(text, k=k).hits, idf))
    return scores


def reference_sentences(answer: str) -> list[str]:
    from rag.text.sentences import split_sentences

    sentences = [answer[a:b].strip() for a, b in split_sentences(answer)] or [answer.strip()]
    return [s for s in sentences if re.search(r"\w", s)]


def support_samples(service, support, questions: Sequence[Question]) -> dict:
    """Support scores of reference sentences: gold passages (positives), another question's
    passages (negatives), and, for information only, this question's non-gold top passages."""
    hits = {q.id: service.retrieve(" ".join(q.question.split()), k=GOLD_K).hits for q in questions}
    positives, negatives, related, skipped = [], [], [], []
    for i, question in enumerate(questions):
        if not question.answerable:
            continue
        texts = [h.chunk.text for h in hits[question.id]]
        gold = [next((t for t in texts if coverage(q, [t]) >= COVERAGE_THRESHOLD), None) for q in question.quotes]
        if not all(gold):
            skipped.append(question.id)
            continue

        def unrelated(text: str) -> bool:
            return all(coverage(q, [text]) < CONTRIBUTION_THRESHOLD for q in question.quotes)  # noqa: B023

        other = questions[(i + 1) % len(questions)]
        others = [h.chunk.text for h in hits[other.id][:OTHER_K] if unrelated(h.chunk.text)]
        own = [t for t in texts[:OTHER_K] if unrelated(t)]
        for sentence in reference_sentences(question.answer):
            positives.append(
                max(s.score for s in support.score_many(sentence, list(dict.fromkeys(gold)), question.question))
            )
            if others:
                negatives.append(max(s.score for s in support.score_many(sentence, others, question.question)))
            if own:
                related.append(max(s.score for s in support.score_many(sentence, own, question.question)))
    return {"positives": positives, "negatives": negatives, "related": related, "skipped": skipped}


def calibrate(service, questions: Sequence[Question], k: int = 5) -> dict:
    """Both thresholds and what they were measured on; prints the distributions."""
    scores = evidence_scores(service, questions, k)
    answerable = [s for s, q in zip(scores, questions) if q.answerable]
    unanswerable = [s for s, q in zip(scores, questions) if not q.answerable]
    evidence = choose_threshold(answerable, unanswerable, MAX_FALSE_REFUSALS)
    print("\n== min_evidence: evidence score (refuse below) ==")
    print("answerable:  ", " ".join(f"{s:.2f}" for s in sorted(answerable)))
    print(
        "unanswerable:",
        " ".join(
            f"{q.id}={s:.2f}" for s, q in sorted(zip(scores, questions), key=lambda pair: pair[0]) if not q.answerable
        ),
    )
    print("\n".join(histogram(answerable, unanswerable)))
    print(
        f"chosen min_evidence = {evidence.threshold:.4f} (margin {evidence.margin:.4f}): correct refusals "
        f"{evidence.negatives_rejected}/{evidence.negatives}, false refusals "
        f"{evidence.positives_rejected}/{evidence.positives}"
    )

    support = service.answerer(use_llm=False).support
    samples = support_samples(service, support, questions)
    if not samples["positives"]:
        raise RagError(
            "No answerable question had its gold passages retrieved, so support_threshold has nothing to "
            "calibrate on. Check that --corpus (and --index) hold the documents the questions are about."
        )
    chosen = choose_threshold(samples["positives"], samples["negatives"], 1 - MIN_SUPPORTED, strict=True)
    related_kept = sum(s >= chosen.threshold for s in samples["related"])
    print("\n== support_threshold: support score (supported at or above) ==")
    print(
        f"positives: {len(samples['positives'])} reference sentences vs their gold passages; negatives: "
        f"{len(samples['negatives'])} vs the next question's passages; skipped (gold not retrieved): "
        f"{', '.join(samples['skipped']) or 'none'}"
    )
    print("\n".join(histogram(samples["positives"], samples["negatives"])))
    print(f"positives {quantiles(samples['positives'])}")
    print(f"negatives {quantiles(samples['negatives'])}")
    print(
        f"chosen support_threshold = {chosen.threshold:.4f} (margin {chosen.margin:.4f}): positives kept "
        f"{chosen.recall:.1%}, negatives rejected {chosen.negatives_rejected}/{chosen.negatives}, "
        f"precision {chosen.precision:.1%}; this question's non-gold passages would support "
        f"{related_kept}/{len(samples['related'])} sentences (some legitimately)"
    )
    return {
        "thresholds": {"min_evidence": round(evidence.threshold, 4), "support_threshold": round(chosen.threshold, 4)},
        "measured": {
            "min_evidence": {
                **evidence.as_dict(),
                "rule": f"max correct refusals with false refusals <= {MAX_FALSE_REFUSALS:.0%}",
                "answerable": quantiles(answerable),
                "unanswerable": sorted(round(s, 4) for s in unanswerable),
                "k": k,
            },
            "support_threshold": {
                **chosen.as_dict(),
                "rule": f"max negatives rejected, then strictest, with >= {MIN_SUPPORTED:.0%} of positives supported",
                "positive_scores": quantiles(samples["positives"]),
                "negative_scores": quantiles(samples["negatives"]),
                "related_passages_supported": [related_kept, len(samples["related"])],
                "skipped_questions": len(samples["skipped"]),
            },
            "embedder": service.embedder.model_id,
            "n_questions": len(questions),
        },
    }


# -- command line ---------------------------------------------------------------------------
def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = command_parser("python -m eval.calibrate", __doc__, out=False)
    parser.add_argument("--k", type=int, default=5, help="passages the answerer retrieves (AnswerSettings.k)")
    parser.add_argument("--write", action="store_true", help="store the thresholds in the index directory")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, *, embedder=None) -> int:
    args = _parse_args(argv)
    from eval.answers import prepare_service

    try:
        questions = load_split(args)
        if not any(not q.answerable for q in questions):
            raise RagError(f"{args.questions} has no unanswerable question: min_evidence cannot be calibrated.")
        if not any(q.answerable for q in questions):
            raise RagError(f"{args.questions} has no answerable question: the thresholds cannot be calibrated.")
        service = prepare_service(args, embedder, llm="none")
        try:
            result = calibrate(service, questions, args.k)
        finally:
            service.close()
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    result["dataset"] = args.questions.name
    result["date"] = datetime.date.today().isoformat()
    print(f"\nthresholds: {json.dumps(result['thresholds'])}")
    if args.write:
        from rag.answering.calibration import write

        measured = {**result["measured"], "dataset": result["dataset"], "date": result["date"]}
        path = write(args.index, result["measured"]["embedder"], result["thresholds"], measured)
        print(f"written: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
