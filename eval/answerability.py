"""Answerability: how well each signal of ``rag.answering.answerability`` separates answerable
from unanswerable questions, the calibrated combination, and its coverage/precision curve.

    python -m eval.answerability --set dev ../shared/eval/dev.jsonl ../shared/corpora/llm-fr /tmp/idx-dev \\
        --set faq ../shared/eval/debian-faq.jsonl ../shared/corpora/debian-faq /tmp/idx-faq \\
        --out /tmp/answerability [--llm default] [--fit-split tune] [--write]

For every question of every set: the answerer's passages (``RagService.answerer().passages``),
the retrieval signals, and with a model that scores replies the model's signals (the answer
prompt is built as the answerer builds it). Then, per signal and per set, the ROC AUC
(answerable vs unanswerable; 0.5 = no separation). A logistic model over the standardised
signals is fitted on the ``--fit-split`` part of ALL sets pooled (never one set alone: a
threshold fitted to one corpus is fitted to that corpus), and its threshold chosen by one rule:
the most unanswerable questions refused with at most ``--max-false-refusals`` of the answerable
ones refused. The report shows each set's tune and held-out parts apart (a gap between them is a
fit), the curve over thresholds (coverage: share of questions answered; precision: share of the
answered that are answerable), and marks the chosen point. ``--write`` stores the calibration
in each index directory (``answerability`` in calibration.json).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from eval.dataset import load_questions, split_questions
from rag.answering.answerability import SIGNALS, Assessor, Calibration


def auc(positives: list[float], negatives: list[float]) -> float | None:
    """P(a random positive scores above a random negative), ties counting half."""
    if not positives or not negatives:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 500) -> tuple[np.ndarray, float]:
    """Weights and bias of a logistic model on standardised features (Newton steps, L2 on weights)."""
    n, d = x.shape
    a = np.hstack([x, np.ones((n, 1))])
    w = np.zeros(d + 1)
    penalty = np.diag([l2] * d + [0.0])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(a @ w)))
        gradient = a.T @ (p - y) + penalty @ w
        hessian = a.T @ (a * (p * (1 - p))[:, None]) + penalty + 1e-9 * np.eye(d + 1)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:d], float(w[d])


def choose_threshold(scores: list[float], answerable: list[bool], max_false: float) -> float:
    """The threshold refusing the most unanswerable questions with at most ``max_false`` of the
    answerable ones refused (refused = below the threshold); the widest gap among ties."""
    pos = sorted(s for s, a in zip(scores, answerable) if a)
    budget = int(max_false * len(pos))
    # refusing below t refuses the answerable ones under t: t at most the (budget+1)-th lowest answerable score
    limit = pos[budget] if budget < len(pos) else max(scores) + 1
    below = sorted({s for s in scores if s < limit})
    candidates = [(a + b) / 2 for a, b in zip(below, below[1:] + [limit])]
    return max(candidates, key=lambda t: sum(s < t for s, a in zip(scores, answerable) if not a)) if candidates else 0.0


def curve(scores: list[float], answerable: list[bool]) -> list[dict]:
    """Coverage and precision of answering at or above each distinct score."""
    rows = []
    for t in sorted(set(scores)):
        answered = [a for s, a in zip(scores, answerable) if s >= t]
        rows.append(
            {
                "threshold": round(t, 4),
                "coverage": len(answered) / len(scores),
                "precision": sum(answered) / len(answered) if answered else 1.0,
                "refused_unanswerable": sum(s < t for s, a in zip(scores, answerable) if not a),
                "refused_answerable": sum(s < t for s, a in zip(scores, answerable) if a),
            }
        )
    return rows


def measure(name: str, questions_path: Path, corpus: Path, index: Path, llm: str) -> list[dict]:
    """One row per question: id, set, split, answerable, signals."""
    from eval.inputs import update_index
    from rag.service import RagService

    args = argparse.Namespace(corpus=corpus, index=index, no_ingest=False, rebuild=False)
    questions = load_questions(questions_path)
    held = {q.id for q in split_questions(questions, "held-out")}
    from eval.inputs import input_embedder

    update_index(args, input_embedder(argparse.Namespace(embedder=None, index=index)), progress=False)
    rows = []
    with RagService.open(index, llm=llm) as service:
        answerer = service.answerer(use_llm=service.llm is not None)
        assessor = Assessor(answerer.support, answerer.locator, service.llm)
        for i, q in enumerate(questions, 1):
            hits, _ = answerer.passages(q.question)
            signals = assessor.retrieval_signals(q.question, hits)
            if answerer.context is not None and hits:
                messages, shown = answerer.context.prompt(q.question, hits)
                signals |= assessor.model_signals(q.question, shown, messages)
            rows.append(
                {
                    "id": q.id,
                    "embedder": service.index.embedder_id,
                    "model": getattr(assessor.llm, "model_id", None),
                    "set": name,
                    "split": "held-out" if q.id in held else "tune",
                    "answerable": q.answerable,
                    "signals": signals,
                }
            )
            print(f"[{name} {i}/{len(questions)}] {q.id} {json.dumps(signals)}", file=sys.stderr, flush=True)
    return rows


def calibrate(rows: list[dict], fit_split: str, max_false: float, signals=SIGNALS) -> Calibration:
    names = [s for s in signals if all(s in r["signals"] for r in rows)]
    fit = [r for r in rows if fit_split == "all" or r["split"] == fit_split]
    x = np.array([[r["signals"][s] for s in names] for r in fit])
    means, scales = x.mean(axis=0), x.std(axis=0) + 1e-9
    weights, bias = fit_logistic((x - means) / scales, np.array([r["answerable"] for r in fit], dtype=float))
    calibration = Calibration(
        dict(zip(names, map(float, weights))),
        dict(zip(names, map(float, means))),
        dict(zip(names, map(float, scales))),
        bias,
    )
    scores = [calibration.confidence(r["signals"]) for r in fit]
    threshold = choose_threshold(scores, [r["answerable"] for r in fit], max_false)
    return Calibration(calibration.weights, calibration.means, calibration.scales, bias, threshold)


def report(rows: list[dict], calibration: Calibration) -> list[str]:
    lines = ["## Separation of each signal (ROC AUC, answerable vs unanswerable)", ""]
    groups = sorted({(r["set"], r["split"]) for r in rows})
    lines += ["| signal | " + " | ".join(f"{s} {p}" for s, p in groups) + " |", "|---" * (len(groups) + 1) + "|"]
    for name in [*SIGNALS, "confidence"]:
        cells = []
        for s, p in groups:
            part = [r for r in rows if (r["set"], r["split"]) == (s, p)]
            value = (lambda r: r["confidence"]) if name == "confidence" else (lambda r, n=name: r["signals"].get(n))
            pos = [value(r) for r in part if r["answerable"] and value(r) is not None]
            neg = [value(r) for r in part if not r["answerable"] and value(r) is not None]
            a = auc(pos, neg)
            cells.append("–" if a is None else f"{a:.3f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", f"calibration: {json.dumps(calibration.to_dict())}", ""]
    lines += [
        "## At the chosen threshold",
        "",
        "| set | split | unanswerable refused | answerable refused |",
        "|---|---|---|---|",
    ]
    for s, p in groups:
        part = [r for r in rows if (r["set"], r["split"]) == (s, p)]
        un = [r for r in part if not r["answerable"]]
        an = [r for r in part if r["answerable"]]
        t = calibration.threshold
        lines.append(
            f"| {s} | {p} | {sum(r['confidence'] < t for r in un)}/{len(un)} | {sum(r['confidence'] < t for r in an)}/{len(an)} |"
        )
    lines += ["", "## Coverage and precision over thresholds (all sets, both splits; * the chosen point)", ""]
    lines += [
        "| threshold | coverage | precision | unanswerable refused | answerable refused |",
        "|---|---|---|---|---|",
    ]
    points = curve([r["confidence"] for r in rows], [r["answerable"] for r in rows])
    step = max(1, len(points) // 12)
    shown = {id(p) for p in points[::step]}
    chosen = next((p for p in points if p["threshold"] >= calibration.threshold), None)
    for p in points:
        if id(p) in shown or p is chosen:
            mark = " *" if p is chosen else ""
            lines.append(
                f"| {p['threshold']:.3f}{mark} | {p['coverage']:.2f} | {p['precision']:.3f} "
                f"| {p['refused_unanswerable']} | {p['refused_answerable']} |"
            )
    return lines


def plot(rows: list[dict], calibration: Calibration, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4))
    for s in sorted({r["set"] for r in rows}):
        part = [r for r in rows if r["set"] == s]
        points = curve([r["confidence"] for r in part], [r["answerable"] for r in part])
        axis.plot([p["coverage"] for p in points], [p["precision"] for p in points], label=s)
        chosen = [p for p in points if p["threshold"] >= calibration.threshold][:1]
        if chosen:
            axis.scatter([chosen[0]["coverage"]], [chosen[0]["precision"]], marker="o", zorder=3)
    axis.set_xlabel("coverage (share of questions answered)")
    axis.set_ylabel("precision (share of answered that are answerable)")
    axis.set_title(f"answerability, threshold {calibration.threshold:.3f} (dots)")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.answerability", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--set", nargs=4, action="append", required=True, metavar=("NAME", "QUESTIONS", "CORPUS", "INDEX")
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--llm", default="default")
    parser.add_argument("--fit-split", default="tune", choices=["tune", "all"])
    parser.add_argument("--max-false-refusals", type=float, default=0.03)
    parser.add_argument(
        "--signals",
        default="evidence,window_support,likelihood_gain",
        help="signals of the model's calibration (refusal_gain costs one more pass over the whole prompt)",
    )
    parser.add_argument("--rows", type=Path, help="reuse the rows of an earlier run (rows.jsonl) instead of measuring")
    parser.add_argument("--write", action="store_true", help="store the calibration in each index directory")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.rows:
        rows = [json.loads(line) for line in args.rows.read_text(encoding="utf-8").splitlines()]
    else:
        rows = [row for name, q, c, i in args.set for row in measure(name, Path(q), Path(c), Path(i), args.llm)]
        (args.out / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    from rag.answering.calibration import RETRIEVAL_ONLY, model_key

    chosen = [s for s in args.signals.split(",") if s]
    fits = {model_key(rows[0].get("model")): chosen, RETRIEVAL_ONLY: ["evidence", "window_support"]}
    calibrations, lines = {}, []
    for key, names in fits.items():
        if key == RETRIEVAL_ONLY or all(n in r["signals"] for r in rows for n in names):
            calibration = calibrate(rows, args.fit_split, args.max_false_refusals, names)
            for r in rows:
                r["confidence"] = calibration.confidence(r["signals"])
            lines += [f"# Calibration « {key} » (signals: {', '.join(calibration.weights)})", ""]
            lines += report(rows, calibration)
            plot(rows, calibration, args.out / f"coverage_precision-{key}.png")
            calibrations[key] = calibration.to_dict()
    (args.out / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (args.out / "calibration.json").write_text(json.dumps(calibrations, indent=2) + "\n", encoding="utf-8")
    print("\n".join(lines))
    if args.write:
        from rag.answering.calibration import write_answerability

        for _, _, _, index in args.set:
            write_answerability(Path(index), rows[0]["embedder"], calibrations)
    return 0


if __name__ == "__main__":
    sys.exit(main())
