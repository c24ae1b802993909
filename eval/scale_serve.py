"""The serving side of the scale benchmark, run in its own process so that its memory is a
server's: ``python -m eval.scale_serve INDEX QUERIES.npz`` prints one JSON object.

It opens the index as a server does (``Index.open`` + ``Retriever``, default retrieval
settings), answers every question once to warm up, then once more timed. Query vectors
come precomputed (``QUERIES.npz``: ``texts`` and ``vectors``) through ``CachedQueries``, so
the stage timings exclude query embedding: "total - embed" is reported. Memory: resident
size after opening, after loading the search files, after the questions (steady), and the
peak (VmHWM).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from rag.index import Index
from rag.retrieval import Retriever

STAGES = ("dense", "keyword", "fuse", "fetch", "total_minus_embed")


class CachedQueries:
    """An embedder that returns precomputed query vectors (any other text: the first one)."""

    def __init__(self, model_id: str, texts: list[str], vectors: np.ndarray):
        self.model_id = model_id
        self.dim = int(vectors.shape[1])
        self._vectors = {t: v for t, v in zip(texts, vectors)}
        self._default = vectors[0]

    def embed_query(self, text: str) -> np.ndarray:
        return self._vectors.get(text, self._default)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.embed_query(t) for t in texts])

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def memory_mb() -> dict[str, float]:
    """Resident and peak resident size of this process, MB (Linux /proc)."""
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = round(int(value.split()[0]) / 1024, 1)
    return found


def percentiles(values: list[float]) -> dict[str, float]:
    """p50 and p95 in milliseconds."""
    array = np.asarray(values, dtype=np.float64) * 1000
    return {"p50": round(float(np.percentile(array, 50)), 3), "p95": round(float(np.percentile(array, 95)), 3)}


def serve(index_dir: Path, queries: Path, k: int = 5) -> dict:
    data = np.load(queries, allow_pickle=False)
    texts, vectors = [str(t) for t in data["texts"]], data["vectors"]
    before = memory_mb()["VmRSS"]
    with Index.open(index_dir) as index:
        opened = memory_mb()["VmRSS"]
        retriever = Retriever(index, CachedQueries(index.embedder_id, texts, vectors))
        retriever.warm_up()
        loaded = memory_mb()["VmRSS"]
        for text in texts:
            retriever.retrieve(text, k)
        timings: dict[str, list[float]] = {stage: [] for stage in STAGES}
        for text in texts:
            took = retriever.retrieve(text, k).timings
            took["total_minus_embed"] = took["total"] - took.get("embed", 0.0)
            for stage in STAGES:
                timings[stage].append(took.get(stage, 0.0))
        memory = memory_mb()
        kind = index.vectors().kind
    return {
        "queries": len(texts),
        "k": k,
        "vector_index": kind,
        "latency_ms": {stage: percentiles(values) for stage, values in timings.items()},
        "rss_mb": {
            "before_open": before,
            "opened": opened,
            "loaded": loaded,
            "steady": memory["VmRSS"],
            "peak": memory["VmHWM"],
        },
    }


def main() -> None:
    index_dir, queries = Path(sys.argv[1]), Path(sys.argv[2])
    print(json.dumps(serve(index_dir, queries)))


if __name__ == "__main__":
    main()
