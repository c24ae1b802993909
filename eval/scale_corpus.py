"""The scale benchmark's data: Littré entries chunked by the project's chunker, vectors, queries.

Prepared once into a cache SQLite file (``corpus.sqlite`` under ``--cache``, outside the
repository) and extended on demand, so each index size takes the first N chunks of one fixed
order; preparing is not part of any timing.

- Documents. The entries are shuffled (seed 0); the first ``HELD_BACK`` (at most a tenth) are held back for the
  questions, the others are documents of pass 0, one entry each, in that shuffled order (an
  index of any size spans the whole alphabet). The Littré yields about 290,000 chunks that
  way; larger sizes take further passes that recombine entries: pass p >= 1 joins p + 1
  alphabetically consecutive entries into one document (a dictionary "page", boundaries
  shifted by p), in its own shuffled order. The chunker then packs short entries together
  and cuts long ones elsewhere, so most chunks differ, but their text repeats pass 0's.
- Chunks: ``ingest.chunking.chunk_document`` with the default ``ChunkingParams`` and the real
  embedder's ``count_tokens``; terms and keys as ingestion stores them (``sentence_terms``,
  ``text_key``).
- Vectors. The first ``sample`` chunks are embedded with the real embedder. Every other
  chunk's vector is made from them (``VectorMaker``): the mean of the real vectors of
  up to three sample chunks that share its rarest terms, plus Gaussian noise with the sample's
  covariance (x ``NOISE``), renormalised (``describe_vectors`` compares them with real ones).
  Isotropic noise instead would spread vectors over all 384 dimensions, which real ones do not
  use, and make HNSW's task harder than real data's. Vectors thus cluster by content like real
  ones; a chunk sharing no term with the sample takes a random sample vector plus noise.
- Questions: from the held-back entries, alternately "Que signifie le mot X ?" and
  "Quel mot désigne : <the definition's first clause> ?", embedded with the real embedder.
"""

from __future__ import annotations

import random
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from eval.littre import Entry, entries
from ingest.chunking import ChunkingParams, chunk_document
from ingest.pipeline import sentence_terms, text_key
from rag.index.vectors import VectorIndex
from rag.types import SourceDoc

HELD_BACK = 2000
NOISE = 0.75  # calibrated on the real sample: see docs/benchmarks.md, "Scale"
MAX_PASSES = 12
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (seq INTEGER PRIMARY KEY, pass INTEGER NOT NULL, doc_id TEXT NOT NULL,
    source TEXT NOT NULL, text TEXT NOT NULL, n_chunks INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (seq INTEGER PRIMARY KEY, doc_seq INTEGER NOT NULL, ord INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL, text_key TEXT NOT NULL, terms TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_seq);
CREATE TABLE IF NOT EXISTS sample (seq INTEGER PRIMARY KEY, vector BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS queries (i INTEGER PRIMARY KEY, text TEXT NOT NULL, vector BLOB NOT NULL);
"""


class Corpus:
    """The prepared chunks, grown on demand. ``embedder``: the real one (its tokenizer cuts the
    chunks, its id keys them, it embeds the sample and the questions)."""

    def __init__(self, cache: Path, embedder, log: Callable[[str], None] = print):
        self.cache = cache
        self.embedder = embedder
        self.log = log
        cache.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]", "_", embedder.model_id)
        self.db = sqlite3.connect(cache / f"corpus-{name}.sqlite", timeout=120)
        self.db.executescript(_SCHEMA)
        self._entries: list[Entry] | None = None

    def meta(self, key: str, default: str = "") -> str:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def _set_meta(self, key: str, value) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, str(value)))

    def entries(self) -> list[Entry]:
        if self._entries is None:
            found = entries(self.cache)
            random.Random(0).shuffle(found)
            self._entries = found
            self.log(f"Littré: {len(found)} entries, {sum(len(e.text) for e in found) / 1e6:.1f} M characters")
        return self._entries

    def held_back(self) -> int:
        """Entries kept out of the documents for the questions: ``HELD_BACK``, at most a tenth."""
        return min(HELD_BACK, len(self.entries()) // 10)

    def n_chunks(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]

    # -- documents and chunks -------------------------------------------------------------
    def pass_documents(self, p: int) -> list[tuple[str, str]]:
        """(source, text) of pass ``p``'s documents, in their order."""
        kept = self.entries()[self.held_back() :]
        if p == 0:
            return [(f"littre/p0/{i:06d}.txt", e.text) for i, e in enumerate(kept)]
        alphabetical = sorted(kept, key=lambda e: e.headword)
        size = p + 1
        cuts = [0, *range(p % size or size, len(alphabetical), size)]
        docs = [alphabetical[a:b] for a, b in zip(cuts, [*cuts[1:], len(alphabetical)]) if b > a]
        random.Random(p).shuffle(docs)
        return [(f"littre/p{p}/{i:06d}.txt", "\n\n".join(e.text for e in group)) for i, group in enumerate(docs)]

    def ensure_chunks(self, needed: int) -> int:
        """Chunk documents (pass after pass, resuming) until at least ``needed`` chunks exist."""
        params = ChunkingParams()
        count = self.n_chunks()
        while count < needed:
            p = int(self.meta("pass", "0"))
            if p >= MAX_PASSES:
                raise RuntimeError(f"{MAX_PASSES} passes over the Littré give {count} chunks, fewer than {needed}")
            docs = self.pass_documents(p)
            done = int(self.meta(f"pass{p}_docs", "0"))
            started = time.perf_counter()
            for i in range(done, len(docs), 500):
                count += self._chunk_batch(p, docs[i : i + 500], params)
                self._set_meta(f"pass{p}_docs", min(i + 500, len(docs)))
                self.db.commit()
                if count >= needed:
                    break
            if int(self.meta(f"pass{p}_docs")) >= len(docs):
                self._set_meta("pass", p + 1)
                self._set_meta(f"pass{p}_chunks", count)
                self.db.commit()
            self.log(f"chunked pass {p}: {count} chunks so far ({time.perf_counter() - started:.0f} s)")
        return count

    def _chunk_batch(self, p: int, docs: list[tuple[str, str]], params: ChunkingParams) -> int:
        added = 0
        for source, text in docs:
            doc_id = text_key(f"littre-p{p}", source)[:16]
            chunks = chunk_document(SourceDoc(doc_id, source, text), self.embedder.count_tokens, params)
            cursor = self.db.execute(
                "INSERT INTO docs (pass, doc_id, source, text, n_chunks) VALUES (?, ?, ?, ?, ?)",
                (p, doc_id, source, text, len(chunks)),
            )
            self.db.executemany(
                'INSERT INTO chunks (doc_seq, ord, start, "end", text, text_key, terms) VALUES (?, ?, ?, ?, ?, ?, ?)',
                [
                    (cursor.lastrowid, n, c.start, c.end, c.text, text_key(self.embedder.model_id, c.text),
                     sentence_terms(c.text))
                    for n, c in enumerate(chunks)
                ],
            )  # fmt: skip
            added += len(chunks)
        return added

    def documents(self, after_doc: int, n_chunks: int) -> Iterator[tuple[tuple, list[tuple]]]:
        """Whole documents after document ``after_doc`` until at least ``n_chunks`` chunks:
        (seq, doc_id, source, text), [(chunk seq, ord, start, end, text, key, terms)]."""
        taken, last = 0, after_doc
        while taken < n_chunks:
            docs = self.db.execute(
                "SELECT seq, doc_id, source, text FROM docs WHERE seq > ? ORDER BY seq LIMIT 200", (last,)
            ).fetchall()
            if not docs:
                raise RuntimeError(f"the prepared corpus ends after document {last}: run ensure_chunks first")
            for seq, doc_id, source, text in docs:
                rows = self.db.execute(
                    'SELECT seq, ord, start, "end", text, text_key, terms FROM chunks WHERE doc_seq = ? ORDER BY ord',
                    (seq,),
                ).fetchall()
                taken, last = taken + len(rows), seq
                yield (seq, doc_id, source, text), rows
                if taken >= n_chunks:
                    return

    # -- vectors --------------------------------------------------------------------------
    def sample_vectors(self, sample: int, batch: int = 32) -> np.ndarray:
        """Real vectors of chunks 1..``sample`` (embedded once, cached), as a (sample, dim) array."""
        self.ensure_chunks(sample)
        have = self.db.execute("SELECT COUNT(*) FROM sample WHERE seq <= ?", (sample,)).fetchone()[0]
        started = time.perf_counter()
        while have < sample:
            rows = self.db.execute(
                "SELECT seq, text FROM chunks WHERE seq <= ? AND seq NOT IN (SELECT seq FROM sample) "
                "ORDER BY seq LIMIT ?",
                (sample, batch),
            ).fetchall()
            vectors = np.asarray(self.embedder.embed_passages([t for _, t in rows]), dtype=np.float32)
            self.db.executemany(
                "INSERT INTO sample VALUES (?, ?)", [(s, v.tobytes()) for (s, _), v in zip(rows, vectors)]
            )
            self.db.commit()
            have += len(rows)
            if have % (batch * 20) < batch:
                rate = have / max(time.perf_counter() - started, 1e-9)
                self.log(f"embedded {have}/{sample} sample chunks ({rate:.1f}/s)")
        blobs = [b for (b,) in self.db.execute("SELECT vector FROM sample WHERE seq <= ? ORDER BY seq", (sample,))]
        return np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(sample, -1)

    def queries(self, n: int) -> list[tuple[str, np.ndarray]]:
        """``n`` questions about held-back entries with their real query vectors (cached)."""
        have = self.db.execute("SELECT COUNT(*) FROM queries").fetchone()[0]
        if have < n:
            held = self.entries()[: self.held_back()]
            texts = [question(e, i) for i, e in enumerate(held)]
            texts = [t for t in texts if t][:n]
            for i in range(have, len(texts)):
                vector = np.asarray(self.embedder.embed_query(texts[i]), dtype=np.float32)
                self.db.execute("INSERT INTO queries VALUES (?, ?, ?)", (i, texts[i], vector.tobytes()))
            self.db.commit()
        rows = self.db.execute("SELECT text, vector FROM queries ORDER BY i LIMIT ?", (n,))
        return [(t, np.frombuffer(v, dtype=np.float32)) for t, v in rows]

    def describe(self) -> dict:
        passes = {k: int(v) for k, v in self.db.execute("SELECT key, value FROM meta WHERE key LIKE 'pass%_chunks'")}
        distinct = self.db.execute("SELECT COUNT(DISTINCT text_key) FROM chunks").fetchone()[0]
        return {"chunks_prepared": self.n_chunks(), "distinct_chunk_texts": distinct, "chunks_after_pass": passes}


_NUMBERING = re.compile(r"^(\d+°|[IVX]+\.)\s*")


def question(entry: Entry, i: int) -> str | None:
    """A question a reader could ask about ``entry``: its meaning, or the word for its definition."""
    word = entry.headword.split(",")[0].strip().lower()
    if i % 2 == 0 or not word:
        return f"Que signifie le mot {word} ?" if word else None
    lines = [line for line in entry.text.split("\n")[1:] if line.strip()]
    if not lines:
        return f"Que signifie le mot {word} ?"
    clause = re.split(r"[.;:]", _NUMBERING.sub("", lines[0]))[0].strip()
    words = clause.split()
    if len(words) < 3:
        return f"Que signifie le mot {word} ?"
    return f"Quel mot désigne : {' '.join(words[:20]).lower()} ?"


class VectorMaker:
    """Vectors for chunks outside the sample, from the sample's real ones (see the module's doc)."""

    def __init__(self, sample: np.ndarray, sample_terms: list[set[str]]):
        self.sample = sample
        self.postings: dict[str, list[int]] = {}
        for i, chunk_terms in enumerate(sample_terms):
            for term in chunk_terms:
                self.postings.setdefault(term, []).append(i)
        centred = sample - sample.mean(axis=0)
        covariance = centred.T @ centred / max(len(sample) - 1, 1)
        self.noise = np.linalg.cholesky(covariance + 1e-6 * np.eye(sample.shape[1])).T.astype(np.float32) * NOISE

    def make(self, terms: list[str], seed: int) -> np.ndarray:
        """One vector per chunk, from its stored terms ("t t|t t"); deterministic for a ``seed``."""
        postings, sample = self.postings, self.sample
        rng = np.random.default_rng(seed)
        out = np.empty((len(terms), sample.shape[1]), dtype=np.float32)
        for row, stored in enumerate(terms):
            found = sorted(
                {t for t in stored.replace("|", " ").split() if t in postings}, key=lambda t: len(postings[t])
            )
            sources = list(dict.fromkeys(postings[t][int(rng.integers(len(postings[t])))] for t in found[:3]))
            base = sample[sources].mean(axis=0) if sources else sample[int(rng.integers(len(sample)))]
            out[row] = base
        out += rng.standard_normal(out.shape).astype(np.float32) @ self.noise
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def sample_term_sets(corpus: Corpus, sample: int) -> list[set[str]]:
    rows = corpus.db.execute("SELECT terms FROM chunks WHERE seq <= ? ORDER BY seq", (sample,))
    return [set(t.replace("|", " ").split()) for (t,) in rows]


def describe_vectors(
    corpus: Corpus, sample: np.ndarray, sample_terms: list[set[str]], queries: np.ndarray, n: int = 2000
) -> dict:
    """Made vectors against real ones, on sets of equal size: ``n`` real sample vectors, and the
    vectors made for the ``n`` chunks after the sample. Mean cosine between any two vectors of
    the set, each vector's cosine to its nearest neighbour in the set (mean, p10, p90), and the
    recall@10 of an HNSW index over the set (the index's settings) for ``queries``."""
    n = min(n, len(sample))
    rows = corpus.db.execute("SELECT terms FROM chunks WHERE seq > ? ORDER BY seq LIMIT ?", (len(sample), n))
    made = VectorMaker(sample, sample_terms).make([t for (t,) in rows], 1)

    def stats(vectors: np.ndarray) -> dict:
        gram = vectors @ vectors.T
        pairs = (gram.sum() - np.trace(gram)) / max(len(vectors) * (len(vectors) - 1), 1)
        np.fill_diagonal(gram, -1.0)
        nearest = gram.max(axis=1)
        return {
            "mean_cosine": round(float(pairs), 3),
            "nearest_cosine_mean": round(float(nearest.mean()), 3),
            "nearest_cosine_p10_p90": [round(float(np.percentile(nearest, q)), 3) for q in (10, 90)],
            "hnsw_recall_at_10": round(hnsw_recall(vectors, queries), 3),
        }

    return {"set_size": n, "real": stats(sample[:n]), "made": stats(made[:n]), "noise": NOISE}


def hnsw_recall(vectors: np.ndarray, queries: np.ndarray, hnsw: VectorIndex | None = None) -> float:
    """Mean overlap of HNSW's top 10 with the exact top 10 (``hnsw``: built here when None)."""
    ids = np.arange(1, len(vectors) + 1, dtype=np.int64)
    exact = VectorIndex.build(ids, vectors, vectors.shape[1], "flat")
    hnsw = hnsw or VectorIndex.build(ids, vectors, vectors.shape[1], "hnsw")
    found = [{i for i, _ in exact.search(q, 10)} & {i for i, _ in hnsw.search(q, 10)} for q in queries]
    return float(np.mean([len(f) for f in found])) / min(10, len(vectors))
