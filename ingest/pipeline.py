"""The ingestion run: scan -> read -> chunk -> embed -> one atomic commit -> derived files.

Incremental: a file whose size and mtime are unchanged is not even read; one whose bytes
hash to the stored id is only touched; chunks whose exact text was embedded before (in
the index or by a killed run) reuse that vector. An unchanged corpus does no embedding.

Crash-safe: embeddings are staged in their own small transactions while the run goes on;
the documents and chunks change in one transaction at the end, then the derived search
files are written atomically. Killing the process at any moment leaves the previous index
loadable, and the next run picks up the staged work.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.chunking import ChunkingParams, chunk_document
from ingest.readers import DEFAULT_READ_TIMEOUT_S, SUPPORTED_SUFFIXES, ReadLimits
from ingest.report import FileOutcome, IngestReport
from ingest.scan import FoundFile, scan
from ingest.stages import EMBED_BATCH, Engine, LocalEngine
from rag.embedders import Embedder
from rag.index import Index, encode_chunking
from rag.index.failures import storage_errors
from rag.index.store import DocumentRecord
from rag.text.analysis import ANALYZER_ID, analyze
from rag.text.sentences import split_sentences
from rag.types import Chunk, SourceDoc

DEFAULT_MAX_FILE_MB = 20


@dataclass
class _Pending:
    found: FoundFile
    doc: SourceDoc
    chunks: list[Chunk]
    status: str  # "added" or "updated"
    size: int
    mtime_ns: int


def text_key(embedder_id: str, text: str) -> str:
    """Identity of a (model, passage) pair: equal keys mean an equal vector."""
    return hashlib.sha256(f"{embedder_id}\0{text}".encode()).hexdigest()[:32]


def ingest(
    paths: list[Path | str],
    index_dir: Path | str,
    embedder: Embedder,
    params: ChunkingParams | None = None,
    *,
    index_type: str = "auto",
    max_file_mb: float = DEFAULT_MAX_FILE_MB,
    rebuild: bool = False,
    prune: bool = True,
    progress: bool | Callable[[str, int, int], None] | None = None,
    follow_symlinks: bool = False,
    read_timeout_s: float = DEFAULT_READ_TIMEOUT_S,
    wait: bool = True,
    on_wait: Callable[[int | None], None] | None = None,
    engine: Engine | None = None,
) -> IngestReport:
    """Bring the index at ``index_dir`` in step with the files under ``paths``.

    ``prune`` removes indexed documents that were under an ingested folder and are gone.
    ``rebuild`` re-creates the index from these paths (e.g. after changing the embedder):
    the old index stays usable until the new one is committed. ``progress``: a bar on
    stderr (None: when it is a terminal), or a function called as ``progress(stage, done,
    total)`` with stage "reading" (files), "embedding" (chunks), then "indexing".
    ``follow_symlinks``: follow links that lead out of an ingested folder. ``read_timeout_s``:
    the time one file may take to read. ``wait``/``on_wait``: while another process writes
    the index (see ``rag.index.lock``). A full disk or read-only media raise ``IndexWriteError``.
    ``engine``: where files are read and chunked and texts embedded (``ingest.stages``; default
    this process, ``ingest.distributed.RayEngine`` a Ray cluster); the rest is the same.
    """
    params = params or ChunkingParams()
    started = time.perf_counter()
    report = IngestReport(index_dir=str(index_dir))
    notify = progress if callable(progress) else _quiet
    if progress is None:
        progress = sys.stderr.isatty()
    elif callable(progress):
        progress = False
    with storage_errors(Path(index_dir)):
        index = Index.open_for_write(
            index_dir,
            embedder.model_id,
            embedder.dim,
            params.as_dict(),
            index_type,
            rebuild,
            wait=wait,
            on_wait=on_wait,
        )
        try:
            limits = ReadLimits(int(max_file_mb * 1024 * 1024), read_timeout_s)
            found, problems = scan([Path(p) for p in paths], SUPPORTED_SUFFIXES, follow_symlinks=follow_symlinks)
            report.files.extend(problems)
            stored = {d.source: d for d in index.store.documents()}
            roots = {str(f.root) for f in found} | {str(Path(p).resolve()) for p in paths if Path(p).is_dir()}
            seen = {f.source for f in found}
            going = {s for s, d in stored.items() if rebuild or (prune and d.root in roots and s not in seen)}
            pending, unchanged = _read_changed(
                found, stored, going, embedder, params, report, limits, rebuild, notify, engine
            )
            removed = sorted(s for s in going if s not in pending)

            vectors = _embed(pending, index, embedder, report, progress, notify, engine)
            notify("indexing", 0, 1)
            if pending or removed or unchanged or rebuild:
                _commit(index, pending, vectors, removed, unchanged, embedder, params, index_type, rebuild)
            for source in removed:
                report.files.append(FileOutcome(source, "removed"))
            report.chunks_total = index.store.count_chunks()
            report.seconds = time.perf_counter() - started
            if pending or removed or rebuild:
                index.commit_generation(report.to_dict())
            else:  # a killed run may have left the current generation's search files unwritten
                index.refresh_derived(report.to_dict())
            return report
        finally:
            index.close()


def _quiet(stage: str, done: int, total: int) -> None:
    pass


def _read_changed(found, stored, going, embedder, params, report, limits, rebuild, notify=_quiet, engine=None):
    """Read and chunk new or changed files (with ``engine``); return them and the merely-touched ones.

    ``going`` are stored documents this run will remove (so a renamed file is not taken
    for a duplicate of its old self). Files whose size and mtime, or whose bytes, are those
    stored are decided here, without the engine.
    """
    pending: dict[str, _Pending] = {}
    unchanged: list[tuple[str, int, int]] = []
    known_ids = {d.doc_id: d.source for s, d in stored.items() if s not in going}
    plan: list[FileOutcome | tuple[FoundFile, object, object]] = []
    for item in found:
        try:
            stat = item.path.stat()
        except OSError as exc:
            plan.append(FileOutcome(item.source, "failed", f"cannot read: {exc.strerror}"))
            continue
        old = stored.get(item.source)
        if old and not rebuild and (old.size, old.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
            plan.append(FileOutcome(item.source, "unchanged", chunks=old.n_chunks))
            continue
        try:
            if old and not rebuild and stat.st_size <= limits.max_bytes and _file_id(item.path) == old.doc_id:
                unchanged.append((item.source, stat.st_size, stat.st_mtime_ns))
                plan.append(FileOutcome(item.source, "unchanged", chunks=old.n_chunks))
                continue
        except OSError as exc:
            plan.append(FileOutcome(item.source, "failed", f"cannot read: {exc.strerror or exc}"))
            continue
        plan.append((item, stat, old))
    engine = engine or LocalEngine()
    results = engine.read([p[0] for p in plan if isinstance(p, tuple)], limits, params, embedder)
    for done, step in enumerate(plan):
        notify("reading", done, len(found))
        if isinstance(step, FileOutcome):
            report.files.append(step)
            continue
        item, stat, old = step
        read = next(results)
        if read.doc is None:
            report.files.append(FileOutcome(item.source, read.status, read.reason))
            continue
        doc = read.doc
        twin = known_ids.get(doc.doc_id)
        if twin is not None and twin != item.source:
            report.files.append(FileOutcome(item.source, "skipped", f"same content as {twin}"))
            continue
        chunks = read.chunks if read.chunks is not None else chunk_document(doc, embedder.count_tokens, params)
        status = "updated" if old and not rebuild else "added"
        pending[item.source] = _Pending(item, doc, chunks, status, stat.st_size, stat.st_mtime_ns)
        known_ids[doc.doc_id] = item.source
        report.files.append(FileOutcome(item.source, status, "; ".join(doc.notes), chunks=len(chunks)))
    return pending, unchanged


def sentence_terms(text: str) -> str:
    """Keyword terms of each sentence of a chunk, as stored: "t t|t t t"."""
    spans = split_sentences(text) or [(0, len(text))]
    return "|".join(" ".join(analyze(text[a:b])) for a, b in spans)


def _file_id(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def _embed(pending, index, embedder, report, progress, notify=_quiet, engine=None) -> dict[str, bytes]:
    """Vectors for every pending chunk, embedding (with ``engine``) only texts never embedded
    before; each batch is staged in the index as it arrives."""
    keys = {text_key(embedder.model_id, c.text): c.text for p in pending.values() for c in p.chunks}
    vectors = index.store.known_vectors(list(keys))
    todo = embedding_order([k for k in keys if k not in vectors], keys)
    report.chunks_reused = sum(len(p.chunks) for p in pending.values()) - len(todo)
    bar = _progress_bar(len(todo), progress)
    embed_started = time.perf_counter()
    batches = iter((engine or LocalEngine()).embed([keys[k] for k in todo], embedder) if todo else ())
    done = 0
    while done < len(todo):
        notify("embedding", done, len(todo))
        positions, computed = next(batches)
        batch = [todo[i] for i in positions]
        computed = np.asarray(computed, dtype=np.float32)
        index.store.stage_vectors(batch, computed)
        vectors.update((k, v.tobytes()) for k, v in zip(batch, computed))
        done += len(batch)
        if bar is not None:
            bar.update(len(batch))
    if bar is not None:
        bar.close()
    report.embed_seconds = time.perf_counter() - embed_started
    report.chunks_embedded = len(todo)
    return vectors


def embedding_order(todo: list[str], texts: dict[str, str]) -> list[str]:
    """The keys of ``todo`` ordered by their text's length: a batch then holds passages of about
    one length, so the embedder pads little (``python -m eval.bench_ingest``, llm-fr, torch engine:
    37.0 chunks/s against 31.6 in file order, one run each, docs/benchmarks.md). Ties keep file
    order; the vectors do not depend on it."""
    return sorted(todo, key=lambda k: len(texts[k]))


def _progress_bar(total: int, enabled: bool):
    if not enabled or total < EMBED_BATCH:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="chunk", desc="Embedding", file=sys.stderr, smoothing=0.1)


def _commit(index, pending, vectors, removed, unchanged, embedder, params, index_type, rebuild):
    store = index.store
    now = time.time()
    with store.transaction():
        if rebuild:
            store.set_meta(
                {
                    "embedder_id": embedder.model_id,
                    "dim": str(embedder.dim),
                    "chunking": encode_chunking(params.as_dict()),
                    "index_type": index_type,
                    "analyzer": ANALYZER_ID,
                }
            )
        for source in removed:
            store.delete_document(source)
        for source, size, mtime_ns in unchanged:
            store.touch_document(source, size, mtime_ns)
        for source, item in pending.items():
            store.delete_document(source)
            record = DocumentRecord(
                source=source,
                doc_id=item.doc.doc_id,
                root=str(item.found.root),
                format=item.doc.format,
                size=item.size,
                mtime_ns=item.mtime_ns,
                n_pages=len(item.doc.pages),
                n_chunks=len(item.chunks),
                ingested_at=now,
            )
            store.add_document(record, item.doc.text)
            keys = [text_key(embedder.model_id, c.text) for c in item.chunks]
            terms = [sentence_terms(c.text) for c in item.chunks]
            matrix = np.frombuffer(b"".join(vectors[k] for k in keys), dtype=np.float32)
            store.add_chunks(item.chunks, keys, terms, matrix.reshape(len(keys), embedder.dim))
        store.clear_staged()
        if pending or removed or rebuild:
            store.set_meta({"generation": str(index.generation + 1), "updated_at": str(now)})


def remove_documents(
    index_dir: Path | str, sources: list[str], *, wait: bool = True, on_wait: Callable | None = None
) -> list[str]:
    """Delete documents by source path; returns the ones that were indexed. Like ``ingest``,
    it waits for another writer and writes back derived files a killed run left missing."""
    with storage_errors(Path(index_dir)):
        with Index.open(index_dir) as probe:
            identity = (probe.embedder_id, probe.dim, probe.chunking, probe.meta.get("index_type", "auto"))
        index = Index.open_for_write(index_dir, *identity, wait=wait, on_wait=on_wait)
        try:
            indexed = {d.source for d in index.store.documents()}
            gone = [s for s in sources if s in indexed]
            if gone:
                with index.store.transaction():
                    for source in gone:
                        index.store.delete_document(source)
                    index.store.set_meta({"generation": str(index.generation + 1), "updated_at": str(time.time())})
                index.commit_generation({"removed": gone})
            else:
                index.refresh_derived({"removed": []})
            return gone
        finally:
            index.close()
