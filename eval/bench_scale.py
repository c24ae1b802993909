"""Scale benchmark: indexes of about 10k, 100k and 1M chunks of real French text (the Littré).

Usage: python -m eval.bench_scale [--sizes 10000,100000,1000000] [--cache DIR] [--sample N]
                                  [--queries N] [--force-approx-max N] [--json PATH]

Per size, through the project's public write path (``Index.open_for_write``, the store's
``add_document``/``add_chunks`` in transactions, the generation set in the last one, then
``Index.commit_generation``), with terms and text keys as ingestion writes them:
- build time: store inserts, then derived files (FAISS + BM25);
- disk: the store (with its WAL) and the derived files;
- a serving process (``eval.scale_serve``: ``Index.open`` + ``Retriever``): resident memory,
  and p50/p95 of each retrieval stage excluding query embedding (precomputed query vectors),
  with the libraries' default threads and again with one (OMP_NUM_THREADS=1): on a busy machine
  FAISS's OpenMP threads alone can cost milliseconds per search;
- recall@10 of the approximate vector index (the kind ``auto`` picks for large corpora,
  ``rag.index.vectors.LARGE_KIND``: pq) against an exact inner-product search over the same
  vectors, where the index uses it (from ``rag.index.vectors.LARGE_THRESHOLD`` chunks) and,
  built here with the same settings, at sizes up to ``--force-approx-max``;
- adding 1% more documents (one transaction + ``commit_generation``), against the full build.

Data and vectors: see ``eval.scale_corpus`` (chunks by the project's chunker; a sample embedded
with the real default embedder, the other vectors made from it). Everything heavy lives under
``--cache`` (default ~/.cache/rag/bench-scale), never in the repository. Bars at 1M chunks:
fused retrieval p50 <= 20 ms without query embedding, recall@10 >= 0.95, adding 1% of
documents <= 5% of a full rebuild.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from eval.scale_corpus import Corpus, VectorMaker, describe_vectors, sample_term_sets
from ingest.chunking import ChunkingParams
from rag.index import STORE_FILE, Index
from rag.index.store import DocumentRecord
from rag.index.vectors import LARGE_KIND, LARGE_THRESHOLD, VectorIndex, resolve_index_type
from rag.types import Chunk

DEFAULT_CACHE = Path.home() / ".cache" / "rag" / "bench-scale"
BATCH_CHUNKS = 20_000
BARS = {"fused_p50_ms": 20.0, "recall_at_10": 0.95, "add_1pct_over_full_build": 0.05}


def log(message: str) -> None:
    print(time.strftime("%H:%M:%S"), message, file=sys.stderr, flush=True)


def _reset_peak_rss() -> None:
    try:  # Linux: writing 5 resets VmHWM
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def _mb(paths) -> float:
    return round(sum(p.stat().st_size for p in paths if p.exists()) / 1e6, 1)


def disk(directory: Path) -> dict[str, float]:
    store = [directory / (STORE_FILE + suffix) for suffix in ("", "-wal", "-shm")]
    derived = [*directory.glob("vectors-*.faiss"), *directory.glob("keyword-*.npz"), *directory.glob("kwseg-*.npz")]
    return {"store_mb": _mb(store), "derived_mb": _mb(derived), "vectors_mb": _mb(directory.glob("vectors-*.faiss"))}


class Builder:
    """Writes the corpus's documents into an index, with their (real or made) vectors."""

    def __init__(self, corpus: Corpus, sample: np.ndarray, maker: VectorMaker):
        self.corpus, self.sample, self.maker = corpus, sample, maker
        self.model_id, self.dim = corpus.embedder.model_id, sample.shape[1]

    def open(self, directory: Path) -> Index:
        return Index.open_for_write(directory, self.model_id, self.dim, ChunkingParams().as_dict())

    def vectors(self, rows: list[tuple]) -> np.ndarray:
        seqs = np.array([r[0] for r in rows])
        out = np.empty((len(rows), self.dim), dtype=np.float32)
        real = seqs <= len(self.sample)
        out[real] = self.sample[seqs[real] - 1]
        if (~real).any():
            made = [r[6] for r, is_real in zip(rows, real) if not is_real]
            out[~real] = self.maker.make(made, int(seqs[~real][0]))
        return out

    def add(self, index: Index, after_doc: int, n_chunks: int) -> dict:
        """Add documents after ``after_doc`` until ``n_chunks`` chunks, in transactions of about
        ``BATCH_CHUNKS`` chunks, the last one setting the next generation (as ingestion does)."""
        store, now = index.store, time.time()
        seconds, chunks_added, docs_added, batch, last = 0.0, 0, 0, [], after_doc
        documents = self.corpus.documents(after_doc, n_chunks)
        pending = next(documents, None)
        while pending is not None:
            batch.append(pending)
            chunks_added += len(pending[1])
            pending = next(documents, None)
            if sum(len(rows) for _, rows in batch) < BATCH_CHUNKS and pending is not None:
                continue
            prepared = [(doc, rows, self.vectors(rows)) for doc, rows in batch]  # stands for embedding
            started = time.perf_counter()
            with store.transaction():
                for (seq, doc_id, source, text), rows, vectors in prepared:
                    record = DocumentRecord(source, doc_id, "littre", "text", len(text.encode()), 0, 0, len(rows), now)
                    store.add_document(record, text)
                    chunks = [Chunk(f"{doc_id}:{r[1]}", doc_id, source, r[4], r[2], r[3]) for r in rows]
                    store.add_chunks(chunks, [r[5] for r in rows], [r[6] for r in rows], vectors)
                    last = seq
                if pending is None:
                    store.set_meta({"generation": str(index.generation + 1), "updated_at": str(now)})
            seconds += time.perf_counter() - started
            docs_added += len(batch)
            batch = []
        return {"documents": docs_added, "chunks": chunks_added, "store_s": seconds, "last_doc": last}


def commit(index: Index, stats: dict) -> float:
    started = time.perf_counter()
    index.commit_generation(stats)
    return time.perf_counter() - started


def recall_at_10(index: Index, queries: np.ndarray, force: bool) -> dict:
    """The approximate index's top 10 against the exact top 10 over the same vectors, mean overlap."""
    ids, vectors = index.store.all_vectors(index.dim)
    exact = VectorIndex.build(ids, vectors, index.dim, "flat")
    result: dict = {}
    if index.vectors().kind != "flat":
        approximate = index.vectors()
        result["approximate"] = f"{approximate.kind}: the index's own (auto)"
    elif force:
        started = time.perf_counter()
        approximate = VectorIndex.build(ids, vectors, index.dim, resolve_index_type(LARGE_KIND, len(ids)))
        result["approximate"] = f"{approximate.kind}: built here (forced)"
        result["build_s"] = round(time.perf_counter() - started, 2)
    else:
        return {"approximate": None}
    overlaps = []
    for query in queries:
        truth = {i for i, _ in exact.search(query, 10)}
        found = {i for i, _ in approximate.search(query, 10)}
        overlaps.append(len(truth & found) / max(len(truth), 1))
    result["recall_at_10"] = round(float(np.mean(overlaps)), 4)
    result["recall_at_10_min"] = round(float(np.min(overlaps)), 2)
    return result


def serve(directory: Path, query_file: Path, threads: int | None = None) -> dict:
    """Run ``eval.scale_serve`` in a fresh process (its memory is a server's alone); ``threads``:
    its OpenMP/BLAS threads (None: the libraries' default, one per core)."""
    env = dict(os.environ)
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    done = subprocess.run(
        [sys.executable, "-m", "eval.scale_serve", str(directory), str(query_file)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        env=env,
    )
    if done.returncode:
        raise RuntimeError(f"eval.scale_serve failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def build(builder: Builder, size: int, directory: Path, queries: np.ndarray, force_max: int) -> dict:
    """A fresh index of ``size`` chunks: build times, then recall (its memory freed on return)."""
    shutil.rmtree(directory, ignore_errors=True)
    _reset_peak_rss()
    log(f"size {size}: building in {directory}")
    with builder.open(directory) as index:
        added = builder.add(index, 0, size)
        derived_s = commit(index, {"bench": "scale", "chunks": added["chunks"]})
        times = {"store_insert_s": round(added["store_s"], 2), "derived_s": round(derived_s, 2)}
        times["total_s"] = round(added["store_s"] + derived_s, 2)
        log(f"size {size}: {added['chunks']} chunks built {times}; recall")
        recall = recall_at_10(index, queries, force=size <= force_max)
    times["builder_peak_rss_mb"] = _peak_rss_mb()
    result = {"size": size, "chunks": added["chunks"], "documents": added["documents"], "build": times}
    full_s = added["store_s"] + derived_s  # unrounded: the ratios below divide by it
    return {**result, "recall": recall, "last_doc": added["last_doc"], "derived_s": derived_s, "full_s": full_s}


def run_size(builder: Builder, size: int, directory: Path, query_file: Path, queries, force_max: int) -> dict:
    result = build(builder, size, directory, queries, force_max)
    last_doc, derived_s, build_s = result.pop("last_doc"), result.pop("derived_s"), result.pop("full_s")
    result["disk"] = disk(directory)
    log(f"size {size}: serving")
    result["serve"] = serve(directory, query_file)
    result["serve_1_thread"] = serve(directory, query_file, threads=1)
    log(f"size {size}: adding 1%")
    with builder.open(directory) as index:
        more = builder.add(index, last_doc, max(1, size // 100))
        more_derived = commit(index, {"bench": "scale", "chunks": more["chunks"]})
    add_total = more["store_s"] + more_derived
    result["add_1pct"] = {
        "documents": more["documents"],
        "chunks": more["chunks"],
        "store_s": round(more["store_s"], 3),
        "derived_s": round(more_derived, 2),
        "total_s": round(add_total, 3),
        "over_full_build": round(add_total / build_s, 4),
        "derived_over_full_derived": round(more_derived / derived_s, 4),
    }
    log(f"size {size}: done")
    return result


def markdown(results: list[dict]) -> str:
    lines = [
        "| chunks | docs | store insert s | derived s | store MB | derived MB | serve RSS MB steady/peak |"
        " vectors | recall@10 (approximate) | +1% docs s (store+derived) | +1% / full build |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        b, d, s, a, rc = r["build"], r["disk"], r["serve"], r["add_1pct"], r["recall"]
        how = str(rc.get("approximate"))
        recall = f"{rc.get('recall_at_10', 0):.3f} ({how.split(':')[0]}{', forced' if 'forced' in how else ''})"
        lines.append(
            f"| {r['chunks']:,} | {r['documents']:,} | {b['store_insert_s']} | {b['derived_s']} | {d['store_mb']} |"
            f" {d['derived_mb']} | {s['rss_mb']['steady']:.0f} / {s['rss_mb']['peak']:.0f} | {s['vector_index']} |"
            f" {recall if 'recall_at_10' in rc else '–'} | {a['store_s']:.2f} + {a['derived_s']:.2f} |"
            f" {a['over_full_build']:.1%} |"
        )
    lines += [
        "",
        "| chunks | threads | dense p50/p95 ms | keyword | fuse | fetch | total − embed |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for threads, key in (("default", "serve"), ("1", "serve_1_thread")):
            cells = [f"{v['p50']:.1f} / {v['p95']:.1f}" for v in r[key]["latency_ms"].values()]
            lines.append(f"| {r['chunks']:,} | {threads} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run(sizes: list[int], cache: Path, sample: int, n_queries: int, embedder, force_max: int = 100_000) -> dict:
    corpus = Corpus(cache, embedder, log)
    corpus.ensure_chunks(max(sizes) + max(sizes) // 100 + 200)  # the sizes, their 1% and a last document
    sample_vectors = corpus.sample_vectors(sample)
    terms = sample_term_sets(corpus, sample)
    queries = corpus.queries(n_queries)
    query_file = cache / "queries.npz"
    np.savez(query_file, texts=np.array([t for t, _ in queries]), vectors=np.stack([v for _, v in queries]))
    builder = Builder(corpus, sample_vectors, VectorMaker(sample_vectors, terms))
    results = []
    for size in sizes:
        vectors = np.stack([v for _, v in queries])
        results.append(run_size(builder, size, cache / "indexes" / str(size), query_file, vectors, force_max))
    return {
        "embedder": embedder.model_id,
        "sample": sample,
        "queries": len(queries),
        "query_examples": [t for t, _ in queries[:4]],
        "large_threshold": LARGE_THRESHOLD,
        "large_kind": LARGE_KIND,
        "corpus": corpus.describe(),
        "vectors": describe_vectors(corpus, sample_vectors, terms, np.stack([v for _, v in queries])),
        "bars_at_1m": BARS,
        "results": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--sample", type=int, default=5000, help="chunks embedded with the real embedder")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--force-approx-max", type=int, default=100_000, help="build the approximate index for recall up to this size"
    )
    parser.add_argument("--embedder", help="embedder name (default: the index's default, Settings().index.embedder)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    from rag.service import embedder_for
    from rag.settings import Settings

    embedder = embedder_for(Settings(), args.embedder)
    sizes = [int(s) for s in args.sizes.split(",")]
    report = run(sizes, args.cache.expanduser(), args.sample, args.queries, embedder, args.force_approx_max)
    report["command"] = "python -m eval.bench_scale " + " ".join(sys.argv[1:])
    print(f"`{report['command']}`: embedder {report['embedder']}, {report['sample']} chunks embedded, rest made")
    print(markdown(report["results"]))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
