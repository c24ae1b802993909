"""Retrieval evaluation: our retriever against two LangChain baselines on a question set.

Usage::

    python -m eval.retrieval --questions ../shared/eval/dev.jsonl --corpus ../shared/corpora/llm-fr \\
        --index /tmp/llm-fr-index --out /tmp/eval-retrieval [--k 10] [--no-baselines] [--limit N] \\
        [--config '{"option": value}'] [--embedder NAME] [--no-ingest | --rebuild]

Steps: bring the index at --index in step with --corpus (incremental ingestion with the
index's embedder, or the one --embedder names for a new index, cheap when nothing changed;
--rebuild re-creates it, e.g. after an index format change or to change the embedder;
--no-ingest uses the index as it is), open
``RagService.open(index, **config)``, retrieve the top k for every question, then run the
baselines of ``eval.baselines`` on the same questions. ``--config`` is a JSON object passed
as keyword arguments to ``RagService.open`` (``retrieval.*`` settings, ``rag.settings.RetrievalSettings``), so
that retrieval settings can be compared run against run, one --out per setting, e.g.
``--config '{"fusion": "dense"}'`` or ``--config '{"fusion": "keyword"}'`` for ablations.

Writes to --out (which holds corpus text: keep it outside the repository):

- ``retrieval.jsonl``: one line per question and system: ranked hits (rank, full text,
  source, page, offsets, scores), found rank of each gold quote, metrics, timings;
- ``summary.json``: per system, metrics overall and per question type, latency
  percentiles per stage, plus the run's configuration and the index manifest;
- ``report.md``: the comparison tables and the answerable questions our system misses at
  k=5 (ids, gold documents, rank found if any) for error analysis;
- ``recall_at_k.png``: recall@k for k = 1..10, one curve per system.

Metrics are defined in ``eval.metrics``; they are computed on the top 10 hits whatever
``--k`` is. Unanswerable questions are retrieved and written, but excluded from metrics.
This module does not judge answers (no LLM here), only which passages come back.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from eval.dataset import Question
from eval.inputs import command_parser, input_embedder, load_split, update_index
from eval.metrics import KS, MAX_K, REPORTED_KS, latency_summary, question_metrics, summarise
from rag.errors import RagError

SYSTEM = "rag-fr"
MISS_CUTOFF = 5
WARMUP_QUERY = "Qu'est-ce qu'un modèle de langage ?"
TABLE_METRICS = (*(f"recall@{k}" for k in REPORTED_KS), *(f"hit@{k}" for k in REPORTED_KS), "mrr@10", "ndcg@10")
TYPE_METRICS = ("recall@1", "recall@5", "recall@10", "hit@5", "mrr@10", "ndcg@10")

SearchFn = Callable[[str], tuple[list[dict], dict[str, float]]]


# -- running systems --------------------------------------------------------------------
def hit_record(hit) -> dict:
    """A ``rag.types.Hit`` as a JSON-ready dict (full chunk text included)."""
    chunk = hit.chunk
    return {
        "rank": int(hit.rank),
        "text": chunk.text,
        "source": chunk.source,
        "page": chunk.page,
        "start": chunk.start,
        "end": chunk.end,
        "chunk_id": chunk.chunk_id,
        "score": float(hit.score),
        "scores": {stage: float(value) for stage, value in (hit.scores or {}).items()},
    }


def evaluate_system(
    system: str, search: SearchFn, questions: Sequence[Question], progress: bool = False
) -> tuple[list[dict], dict]:
    """Run ``search`` on every question; per-question rows and the system's summary."""
    rows: list[dict] = []
    timings: list[dict[str, float]] = []
    for i, question in enumerate(questions, start=1):
        hits, timing = search(question.question)
        scored = question_metrics(question.quotes, [h["text"] for h in hits], MAX_K) if question.answerable else None
        rows.append(
            {
                "id": question.id,
                "system": system,
                "type": question.type,
                "answerable": question.answerable,
                "gold_docs": question.docs,
                "hits": hits,
                "found_ranks": scored["found_ranks"] if scored else [],
                "relevant": scored["relevant"] if scored else [],
                "metrics": scored["metrics"] if scored else {},
                "timings": timing,
            }
        )
        timings.append(timing)
        if progress and (i % 10 == 0 or i == len(questions)):
            print(f"  {system}: {i}/{len(questions)} questions", file=sys.stderr)
    summary = summarise(rows)
    summary["n_questions"] = len(rows)
    summary["latency"] = latency_summary(timings) if timings else {}
    return rows, summary


def _stage_timings(timings: dict) -> dict[str, float]:
    stages = {stage: float(seconds) for stage, seconds in timings.items()}
    if "total" in stages and "embed" in stages:
        stages["total_excl_embed"] = stages["total"] - stages["embed"]
    return stages


def evaluate_retrieval(
    service, questions: Sequence[Question], k: int = 10, system: str = SYSTEM, progress: bool = False
) -> tuple[list[dict], dict]:
    """Evaluate anything with ``retrieve(question, k=k) -> Retrieval(hits, timings)``.

    One warm-up query (not from the question set) runs first so that loading the model is
    not counted as latency. Latency is summarised per stage, plus ``total_excl_embed``.
    """
    service.retrieve(WARMUP_QUERY, k=k)

    def search(text: str) -> tuple[list[dict], dict[str, float]]:
        result = service.retrieve(text, k=k)
        return [hit_record(hit) for hit in result.hits], _stage_timings(result.timings)

    return evaluate_system(system, search, questions, progress)


def evaluate_baseline(baseline, questions: Sequence[Question], k: int = 10, progress: bool = False):
    """Evaluate a baseline of ``eval.baselines``; its latency is the wall time of ``search``."""
    baseline.search(WARMUP_QUERY, k)

    def search(text: str) -> tuple[list[dict], dict[str, float]]:
        started = time.perf_counter()
        found = baseline.search(text, k)
        seconds = time.perf_counter() - started
        hits = [
            {"rank": r, "text": h.text, "source": h.source, "page": None, "start": None, "end": None, "scores": {}}
            for r, h in enumerate(found, start=1)
        ]
        return hits, {"total": seconds}

    return evaluate_system(baseline.name, search, questions, progress)


# -- writing results --------------------------------------------------------------------
def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def metrics_table(summary: dict) -> list[str]:
    """Markdown lines: one row per system, the headline metrics as columns."""
    rows = []
    for name, system in summary["systems"].items():
        metrics = system["metrics"]
        rows.append([name, str(system["n"]), *(_fmt(metrics.get(m)) for m in TABLE_METRICS)])
    return _table(["system", "n", *TABLE_METRICS], rows)


def _type_table(summary: dict) -> list[str]:
    rows = []
    for name, system in summary["systems"].items():
        for qtype, group in system["by_type"].items():
            rows.append([name, qtype, str(group["n"]), *(_fmt(group["metrics"].get(m)) for m in TYPE_METRICS)])
    return _table(["system", "type", "n", *TYPE_METRICS], rows)


def _latency_table(summary: dict) -> list[str]:
    rows = []
    for name, system in summary["systems"].items():
        for stage, stats in system["latency"].items():
            rows.append(
                [
                    name,
                    stage,
                    str(stats["n"]),
                    f"{stats['p50_ms']:.1f}",
                    f"{stats['p95_ms']:.1f}",
                    f"{stats['mean_ms']:.1f}",
                ]
            )
    return _table(["system", "stage", "n", "p50 ms", "p95 ms", "mean ms"], rows)


def _misses(rows: Sequence[dict], system: str, cutoff: int = MISS_CUTOFF) -> list[str]:
    lines = []
    for row in rows:
        if row["system"] != system or not row["answerable"] or row["metrics"].get(f"recall@{cutoff}", 1.0) == 1.0:
            continue
        ranks = ", ".join("–" if r is None else str(r) for r in row["found_ranks"])
        lines.append(
            f"- {row['id']} ({row['type']}): gold {', '.join(row['gold_docs'])}; found ranks per quote: {ranks}"
        )
    return lines


def render_report(rows: Sequence[dict], summary: dict, system: str = SYSTEM) -> str:
    config = summary.get("config", {})
    manifest = config.get("manifest") or {}
    lines = ["# Retrieval evaluation", ""]
    if config:
        lines.append(
            f"- questions: `{config.get('questions')}` ({config.get('n_questions')} run), k = {config.get('k')}"
        )
        lines.append(f"- corpus: `{config.get('corpus')}`, index: `{config.get('index')}`")
        if manifest:
            stats = manifest.get("stats", {})
            lines.append(
                f"- index: embedder `{manifest.get('embedder', {}).get('id')}`, chunking "
                f"`{json.dumps(manifest.get('chunking'), sort_keys=True)}`, {stats.get('chunks')} chunks "
                f"from {stats.get('documents')} documents"
            )
        if config.get("service_config"):
            lines.append(f"- RagService.open options: `{json.dumps(config['service_config'], sort_keys=True)}`")
        lines.append("")
    lines += [
        "Metrics over answerable questions (definitions in `eval/metrics.py`: a quote is found when the "
        "top-r hits cover >= 60% of its character 8-grams).",
        "",
        "## Systems",
        "",
        *metrics_table(summary),
        "",
        "## Per question type",
        "",
        *_type_table(summary),
        "",
        "## Latency",
        "",
        "`total` includes query embedding; `total_excl_embed` is `total - embed`. Baselines: wall time of one search.",
        "",
        *_latency_table(summary),
        "",
        f"## Answerable questions {system} misses at k={MISS_CUTOFF}",
        "",
    ]
    misses = _misses(rows, system)
    lines += misses or ["None."]
    return "\n".join(lines) + "\n"


def plot_recall(summary: dict, path: Path) -> None:
    """recall@k for k = 1..10, one line per system (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, system in summary["systems"].items():
        ax.plot(KS, [system["metrics"].get(f"recall@{k}", 0.0) for k in KS], marker="o", label=name)
    ax.set_xlabel("k")
    ax.set_ylabel("recall@k (all gold quotes found)")
    ax.set_xticks(KS)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_outputs(out_dir: Path | str, rows: Sequence[dict], summary: dict, system: str = SYSTEM) -> dict[str, Path]:
    """Write retrieval.jsonl, summary.json, report.md and recall_at_k.png; returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "rows": out_dir / "retrieval.jsonl",
        "summary": out_dir / "summary.json",
        "report": out_dir / "report.md",
        "plot": out_dir / "recall_at_k.png",
    }
    with paths["rows"].open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    paths["summary"].write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    paths["report"].write_text(render_report(rows, summary, system), encoding="utf-8")
    plot_recall(summary, paths["plot"])
    return paths


# -- command line -----------------------------------------------------------------------
def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = command_parser("python -m eval.retrieval", __doc__)
    parser.add_argument("--k", type=int, default=10, help="hits retrieved per question (metrics use the top 10)")
    parser.add_argument("--no-baselines", action="store_true", help="skip the LangChain baselines")
    parser.add_argument("--limit", type=int, help="only the first N questions")
    parser.add_argument("--config", default="{}", help="JSON object of keyword arguments for RagService.open")
    args = parser.parse_args(argv)
    if args.k < 1:
        parser.error("--k must be at least 1")
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")
    try:
        args.config = json.loads(args.config)
    except json.JSONDecodeError as exc:
        parser.error(f"--config is not valid JSON: {exc}")
    if not isinstance(args.config, dict):
        parser.error("--config must be a JSON object, e.g. '{\"option\": 1}'")
    return args


def _manifest(index_dir: Path) -> dict | None:
    path = index_dir / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _check_corpus(questions: Sequence[Question], corpus: Path) -> None:
    if not corpus.is_dir():
        raise RagError(f"No corpus folder at {corpus}. Give the folder the questions are about with --corpus.")
    missing = sorted({doc for q in questions for doc in q.docs if not (corpus / doc).is_file()})
    if missing:
        print(f"warning: gold documents not in {corpus}: {', '.join(missing)}", file=sys.stderr)


def run(args: argparse.Namespace) -> tuple[list[dict], dict]:
    questions = load_split(args)[: args.limit]
    _check_corpus(questions, args.corpus)
    embedder = input_embedder(args)
    update_index(args, embedder, progress=True)
    try:
        from rag.service import RagService
    except ImportError as exc:
        raise RagError(f"rag.service cannot be imported ({exc}); the retriever is needed for this evaluation.") from exc

    print(f"{SYSTEM}: {len(questions)} questions, k={args.k}", file=sys.stderr)
    try:
        service = RagService.open(args.index, embedder=embedder, **args.config)
    except (TypeError, ValueError) as exc:  # unknown or invalid retrieval settings
        raise RagError(f"--config {json.dumps(args.config)} was refused: {exc}") from None
    try:
        rows, ours = evaluate_retrieval(service, questions, k=args.k, progress=True)
    finally:
        service.close()
    systems = {SYSTEM: ours}
    baseline_info = {}
    if not args.no_baselines:
        from eval.baselines import build_baselines

        for baseline in build_baselines(args.corpus, embedder, k=args.k):
            baseline_rows, systems[baseline.name] = evaluate_baseline(baseline, questions, k=args.k, progress=True)
            rows += baseline_rows
            baseline_info[baseline.name] = {"chunks": baseline.n_chunks, "build_seconds": baseline.build_seconds}
    summary = {
        "config": {
            "questions": str(args.questions),
            "n_questions": len(questions),
            "corpus": str(args.corpus),
            "index": str(args.index),
            "k": args.k,
            "metrics_depth": MAX_K,
            "service_config": args.config,
            "manifest": _manifest(args.index),
            "baselines": baseline_info,
        },
        "systems": systems,
    }
    return rows, summary


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    try:
        rows, summary = run(args)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    paths = write_outputs(args.out, rows, summary)
    print("\n".join(metrics_table(summary)))
    print(f"\nwritten: {', '.join(str(p) for p in paths.values())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
