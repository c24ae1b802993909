"""The vector index kinds compared on the scale benchmark's vectors: recall@10 and time per query.

Usage: python -m eval.bench_ann [--size 1000000] [--cache DIR] [--sample 5000] [--queries 200]
                                [--candidates 2000,3000,5000] [--hnsw 128,256,512,1024,2048] [--json PATH]

The vectors are those of ``eval.bench_scale`` (its prepared corpus under ``--cache``: the
first ``--sample`` chunks' real vectors, the others made from them, ``eval.scale_corpus``),
the questions its 200 real query vectors. The truth is an exact inner-product search
(FAISS ``IndexFlatIP``) over the same vectors. Each kind is built with the project's own
``VectorIndex.build`` and searched through ``VectorIndex.search`` (one thread, as the
retriever searches), for k = 10 (recall@10) and k = 50 (the retriever's candidates:
recall@50 and its time):

- ``pq`` once per ``--candidates`` value (``rag.index.vectors.REFINE_CANDIDATES``);
- ``hnsw`` once built, searched at each ``--hnsw`` efSearch (empty: not built; at 1M on
  2 cores the graph takes about twenty minutes).

Build times are printed too. Nothing is written to the repository.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

import rag.index.vectors as vector_module
from eval.bench_scale import DEFAULT_CACHE
from eval.scale_corpus import Corpus, VectorMaker, sample_term_sets
from rag.index.vectors import VectorIndex
from rag.retrieval.threads import one_thread


def made_vectors(corpus: Corpus, size: int, sample: np.ndarray, batch: int = 20_000) -> np.ndarray:
    """The vectors of the first ``size`` chunks, as ``eval.bench_scale`` gives them."""
    maker = VectorMaker(sample, sample_term_sets(corpus, len(sample)))
    out = np.empty((size, sample.shape[1]), dtype=np.float32)
    out[: min(size, len(sample))] = sample[:size]
    cursor = corpus.db.execute(
        "SELECT seq, terms FROM chunks WHERE seq > ? ORDER BY seq LIMIT ?", (len(sample), max(size - len(sample), 0))
    )
    at = len(sample)
    while rows := cursor.fetchmany(batch):
        out[at : at + len(rows)] = maker.make([terms for _, terms in rows], int(rows[0][0]))
        at += len(rows)
    return out[:at]


def measure(index: VectorIndex, queries: np.ndarray, truth: dict[int, np.ndarray]) -> dict:
    """Recall@k against ``truth`` (exact ids per k) and ms per search (p50, p95), one thread."""
    result = {}
    with one_thread():
        for k, exact in truth.items():
            took, found = [], []
            for query in queries:
                started = time.perf_counter()
                hits = index.search(query, k)
                took.append(time.perf_counter() - started)
                found.append({i for i, _ in hits})
            recall = np.mean([len(f & set(e.tolist())) / k for f, e in zip(found, exact)])
            ms = np.asarray(took) * 1000
            result[f"k{k}"] = {
                "recall": round(float(recall), 4),
                "p50_ms": round(float(np.percentile(ms, 50)), 2),
                "p95_ms": round(float(np.percentile(ms, 95)), 2),
            }
    return result


def run(size: int, cache: Path, sample_n: int, n_queries: int, candidates: list[int], ef: list[int], embedder) -> dict:
    corpus = Corpus(cache, embedder, log=print)
    if corpus.n_chunks() < size:
        raise SystemExit(f"the prepared corpus has {corpus.n_chunks()} chunks: run eval.bench_scale at this size first")
    sample = corpus.sample_vectors(sample_n)
    queries = np.stack([v for _, v in corpus.queries(n_queries)])
    vectors = made_vectors(corpus, size, sample)
    ids = np.arange(1, len(vectors) + 1, dtype=np.int64)
    exact = VectorIndex.build(ids, vectors, vectors.shape[1], "flat")
    truth = {k: np.stack([np.array([i for i, _ in exact.search(q, k)]) for q in queries]) for k in (10, 50)}
    del exact
    saved = vector_module.REFINE_CANDIDATES, vector_module.HNSW_EF_SEARCH
    try:
        return {
            "size": len(vectors),
            "queries": len(queries),
            "rows": _rows(ids, vectors, queries, truth, candidates, ef),
        }
    finally:
        vector_module.REFINE_CANDIDATES, vector_module.HNSW_EF_SEARCH = saved


def _rows(ids, vectors, queries, truth, candidates: list[int], ef: list[int]) -> list[dict]:
    rows = []
    started = time.perf_counter()
    pq = VectorIndex.build(ids, vectors, vectors.shape[1], "pq")
    pq_build = time.perf_counter() - started
    for n in candidates:
        vector_module.REFINE_CANDIDATES = n
        rows.append({"kind": "pq", "candidates": n, "build_s": round(pq_build, 1), **measure(pq, queries, truth)})
        print(rows[-1], flush=True)
    del pq
    if ef:
        started = time.perf_counter()
        hnsw = VectorIndex.build(ids, vectors, vectors.shape[1], "hnsw")
        hnsw_build = time.perf_counter() - started
        for value in ef:
            vector_module.HNSW_EF_SEARCH = value
            rows.append(
                {"kind": "hnsw", "ef_search": value, "build_s": round(hnsw_build, 1), **measure(hnsw, queries, truth)}
            )
            print(rows[-1], flush=True)
    return rows


def markdown(report: dict) -> str:
    lines = [
        "| kind | setting | build s | recall@10 | ms p50 / p95 (k 10) | recall@50 | ms p50 / p95 (k 50) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in report["rows"]:
        setting = f"{row['candidates']} candidates" if row["kind"] == "pq" else f"efSearch {row['ef_search']}"
        a, b = row["k10"], row["k50"]
        lines.append(
            f"| {row['kind']} | {setting} | {row['build_s']} | {a['recall']:.3f} | {a['p50_ms']} / {a['p95_ms']} |"
            f" {b['recall']:.3f} | {b['p50_ms']} / {b['p95_ms']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--sample", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--candidates", default="2000,3000,5000")
    parser.add_argument("--hnsw", default="", help="efSearch values (empty: HNSW not built)")
    parser.add_argument("--embedder", help="as eval.bench_scale's (default: the index's default)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    from rag.service import embedder_for
    from rag.settings import Settings

    numbers = lambda text: [int(v) for v in text.split(",") if v]  # noqa: E731
    report = run(
        args.size,
        args.cache.expanduser(),
        args.sample,
        args.queries,
        numbers(args.candidates),
        numbers(args.hnsw),
        embedder_for(Settings(), args.embedder),
    )
    report["command"] = "python -m eval.bench_ann " + " ".join(sys.argv[1:])
    print(f"`{report['command']}`: {report['size']:,} vectors, {report['queries']} queries, one thread")
    print(markdown(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
