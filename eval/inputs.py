"""What every evaluation command takes: a question file, the corpus it is about and an
index of that corpus, brought in step with it before the run (unless --no-ingest).

This module only declares those options and updates the index; each command adds its own
options and decides what to run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """--questions, --corpus, --index, --no-ingest and --rebuild."""
    parser.add_argument("--questions", type=Path, required=True, help="JSONL question file")
    parser.add_argument("--corpus", type=Path, required=True, help="folder the questions are about")
    parser.add_argument("--index", type=Path, required=True, help="index directory (built or updated here)")
    parser.add_argument("--no-ingest", action="store_true", help="use --index as it is, do not update it")
    parser.add_argument("--rebuild", action="store_true", help="re-create --index from scratch (after a format change)")


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
