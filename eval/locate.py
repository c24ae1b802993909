"""Locating the answer: does the window ranked first hold it? Support alone against support
plus the LLM's question likelihood (``rag.answering.locate``), over the same passages, in one run.

Usage::

    python -m eval.locate --questions ../shared/eval/dev.jsonl --corpus ../shared/corpora/llm-fr \\
        --index /tmp/llm-fr-index --out /tmp/eval-locate [--llm default] [--pool 10] [--limit N]

For each answerable question, the passages are the answerer's (``Answerer.passages``: k hits,
tables of contents and bibliographies passed over); every window of them is ranked for the
whole question, once by support alone and once with the likelihood, leaving out the windows
that introduce rather than answer, as the located answer does (``rag.answering.skips.introducing``).
Per ranking:

- ``top1_keywords``: the share of questions whose first window holds every expected keyword
  (``eval.answer_metrics.keyword_hits``); ``top3_keywords``: the same for the first three
  windows together (a compound question may need two);
- ``top1_gold``: the share whose first window lies in a passage that covers a gold quote
  (what citation precision counts);
- ``seconds_p50``: time to rank one question's windows, once they are embedded (both rankings
  share the embeddings): the likelihood's extra cost.

Writes ``locate.jsonl`` (per question: the first windows of each ranking) and ``summary.json``
to --out (corpus text inside: keep it outside the repository) and prints the comparison.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence

from eval.answer_metrics import keyword_hits
from eval.inputs import command_parser, load_split, run_command
from eval.metrics import COVERAGE_THRESHOLD, coverage, percentile
from rag.answering.skips import introducing
from rag.errors import RagError

RANKINGS = ("support", "support+likelihood")


def _measure(locator, question, hits) -> tuple[dict, list]:
    texts = [h.chunk.text for h in hits]
    started = time.perf_counter()
    ranked = locator.rank(question.question, texts, skip=introducing(texts))
    seconds = time.perf_counter() - started
    first = [texts[w.passage][w.span[0] : w.span[1]] for w in ranked[:3]]
    gold = bool(ranked) and any(coverage(q, [texts[ranked[0].passage]]) >= COVERAGE_THRESHOLD for q in question.quotes)
    row = {
        "top1_keywords": bool(first) and all(keyword_hits(first[0], question.keywords)),
        "top3_keywords": all(keyword_hits(" ".join(first), question.keywords)),
        "top1_gold": gold,
        "seconds": seconds,
    }
    return row, first


def run(args: argparse.Namespace, *, embedder=None, llm=None) -> dict:
    from eval.answers import prepare_service
    from rag.answering.locate import Locator
    from rag.llm import can_score

    questions = [q for q in load_split(args) if q.answerable][: args.limit]
    if not questions:
        raise RagError(f"{args.questions} has no answerable question to locate answers for.")
    service = prepare_service(args, embedder, llm if llm is not None else args.llm)
    try:
        model = service.llm
        if not can_score(model):
            raise RagError("The likelihood needs a local model that can score replies: use --llm default.")
        answerer = service.answerer(use_llm=False)
        locators = {
            "support": Locator(answerer.support, None, args.pool),
            "support+likelihood": Locator(answerer.support, model, args.pool),
        }
        args.out.mkdir(parents=True, exist_ok=True)
        rows = []
        with (args.out / "locate.jsonl").open("w", encoding="utf-8") as handle:
            for i, question in enumerate(questions, 1):
                hits, _ = answerer.passages(question.question, args.k)
                answerer.support.score_many(question.question, [h.chunk.text for h in hits])  # embeds the windows once
                row = {"id": question.id, "question": question.question}
                for name, locator in locators.items():
                    row[name], row[f"{name} windows"] = _measure(locator, question, hits)
                rows.append(row)
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
                marks = " ".join(f"{n}: {'yes' if row[n]['top1_keywords'] else 'no'}" for n in RANKINGS)
                print(f"[{i}/{len(questions)}] {question.id} first window holds the keywords? {marks}", file=sys.stderr)
    finally:
        service.close()
    summary = {
        "config": {"questions": str(args.questions), "k": args.k, "pool": args.pool, "llm": model.model_id},
        "n": len(rows),
        "rankings": {
            name: {
                **{
                    m: sum(r[name][m] for r in rows) / len(rows)
                    for m in ("top1_keywords", "top3_keywords", "top1_gold")
                },
                "seconds_p50": percentile([r[name]["seconds"] for r in rows], 50),
            }
            for name in RANKINGS
        },
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def table(summary: dict) -> list[str]:
    lines = [
        f"| ranking ({summary['n']} answerable) | first window holds the keywords | first 3 do | "
        "first window's passage covers a gold quote | seconds p50 |",
        "|---|---|---|---|---|",
    ]
    for name, s in summary["rankings"].items():
        lines.append(
            f"| {name} | {s['top1_keywords']:.1%} | {s['top3_keywords']:.1%} | {s['top1_gold']:.1%} | "
            f"{s['seconds_p50']:.2f} |"
        )
    return lines


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = command_parser("python -m eval.locate", __doc__)
    parser.add_argument("--llm", default="default", help="a local model that can score (default, a model id/dir)")
    parser.add_argument("--k", type=int, default=5, help="passages per question (AnswerSettings.k)")
    parser.add_argument(
        "--pool", type=int, default=10, help="windows scored by likelihood (AnswerSettings.locate_pool)"
    )
    parser.add_argument("--limit", type=int, help="only the first N answerable questions")
    args = parser.parse_args(argv)
    if args.k < 1 or args.pool < 2 or (args.limit is not None and args.limit < 1):
        parser.error("--k and --limit must be at least 1, --pool at least 2")
    return args


def main(argv: Sequence[str] | None = None, *, embedder=None, llm=None) -> int:
    args = _parse_args(argv)
    return run_command(run, args, table, ["locate.jsonl", "summary.json"], embedder=embedder, llm=llm)


if __name__ == "__main__":
    sys.exit(main())
