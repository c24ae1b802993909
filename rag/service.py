"""The one façade the CLI, the UI, the evaluation and Python users go through.

``RagService.open(index_dir, settings=...)`` opens an index and the embedder it was built with;
``search``/``retrieve`` run hybrid retrieval; ``ask``/``ask_stream`` answer with checked
citations, with the local LLM or, without one, extractively. ``ingest`` and ``remove`` change
the index (one writer at a time; readers see the last committed generation). Models load on
first use, once per service; the UI keeps one service per server process.

    with RagService.open("path/to/index") as rag:
        answer = rag.ask("Qui a développé BLOOM ?")

This is the only module of ``rag`` that uses the ingestion package (``ingest``).
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from rag.embedders import Embedder, load_embedder
from rag.errors import IndexMismatchError, IndexNotFoundError, RagError
from rag.index import STORE_FILE, Index
from rag.retrieval import Filters, Retrieval, Retriever
from rag.settings import Settings
from rag.types import Answer, Hit

Progress = bool | Callable[[str, int, int], None] | None


class RagService:
    def __init__(self, index: Index, embedder: Embedder, settings: Settings | None = None, llm=None):
        """``llm``: an LLM object, or None to load the one ``settings.llm.name`` names on first use."""
        self.index = index
        self.embedder = embedder
        self.settings = settings or Settings()
        self.retriever = Retriever(index, embedder, self.settings.retrieval)
        self._llm = llm
        self._llm_loaded = llm is not None
        self._answerers: dict[tuple, object] = {}
        self._lock = threading.Lock()
        self._store_inode = (_file_stamp(index.directory / STORE_FILE) or (None,))[0]

    @classmethod
    def open(
        cls,
        index_dir: Path | str | None = None,
        *,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        llm=None,
        **retrieval,
    ) -> RagService:
        """Open ``index_dir`` (default: ``settings.index.directory``). ``llm``: an LLM object, or a
        ``llm.name`` ("auto", "none", "default", a model id or folder, an http(s) URL); default
        ``settings.llm.name``. ``retrieval``: ``retrieval.*`` settings, as keywords."""
        settings = settings or Settings.load()
        if retrieval:
            settings = settings.merged({f"retrieval.{k}": v for k, v in retrieval.items()}, origin="open()")
        if isinstance(llm, str):
            settings, llm = settings.replace("llm.name", llm), None
        if index_dir is not None:
            settings = settings.replace("index.dir", Path(index_dir))
        index = Index.open(settings.index.directory)
        try:
            embedder = embedder or embedder_for(settings, index.embedder_id)
            if embedder.model_id != index.embedder_id:
                raise IndexMismatchError(
                    f"The index was built with {index.embedder_id!r} but the embedder is {embedder.model_id!r}."
                )
        except BaseException:
            index.close()
            raise
        return cls(index, embedder, settings, llm=llm)

    # -- retrieval ------------------------------------------------------------------------
    def search(self, query: str, k: int = 5, filters: Filters | None = None) -> list[Hit]:
        return self.retriever.search(query, k, filters)

    def retrieve(self, query: str, k: int = 5, filters: Filters | None = None) -> Retrieval:
        return self.retriever.retrieve(query, k, filters)

    # -- answers --------------------------------------------------------------------------
    @property
    def llm(self):
        """The generative model, loaded on first use; None means extractive answers."""
        with self._lock:
            if not self._llm_loaded:
                from rag.llm import load_llm

                self._llm = load_llm(
                    self.settings.llm,
                    models_dir=self.settings.models.dir,
                    export_python=self.settings.models.export_interpreter,
                )
                self._llm_loaded = True
        return self._llm

    def answerer(self, use_llm: bool = True):
        from rag.answering import Answerer
        from rag.answering.calibration import CALIBRATION_FILE

        llm = self.llm if use_llm else None
        # Built again when the index's calibration changes (``eval.calibrate --write`` run meanwhile).
        key = (llm is not None, _file_stamp(self.index.directory / CALIBRATION_FILE))
        if key not in self._answerers:
            self._answerers = {k: a for k, a in self._answerers.items() if k[1] == key[1]}
            self._answerers[key] = Answerer(self.retriever, llm, settings=self.settings.answering)
        return self._answerers[key]

    def ask(self, question: str, k: int | None = None, filters: Filters | None = None, use_llm: bool = True) -> Answer:
        return self.answerer(use_llm).ask(question, k, filters)

    def ask_stream(
        self, question: str, k: int | None = None, filters: Filters | None = None, use_llm: bool = True
    ) -> Iterator[dict]:
        return self.answerer(use_llm).ask_stream(question, k, filters)

    def standalone_question(self, question: str, history: list[tuple[str, str]], use_llm: bool = True) -> str:
        """Rewrite a follow-up ("Et son prix ?") into a question that stands alone, from the
        conversation ``history`` of (question, answer) pairs, before retrieval."""
        from rag.answering.conversation import standalone_question

        return standalone_question(question, history, self.llm if use_llm else None)

    # -- the collection -------------------------------------------------------------------
    def documents(self):
        return self.index.store.documents()

    def info(self) -> dict:
        return self.index.info()

    def stale(self) -> str | None:
        """Why this service no longer serves what its index directory holds, else None: the index
        was rebuilt with another embedder, or its store replaced (a damaged one set aside by a
        rebuild) or removed. A long-lived process (the server, the UI) then opens it again; every
        other change another process commits is seen by the next search."""
        path = self.index.directory / STORE_FILE
        stamp = _file_stamp(path)
        if stamp is None or stamp[0] != self._store_inode:
            return f"{path} was replaced" if stamp else f"{path} is gone"
        if self.index.embedder_id != self.embedder.model_id:
            return f"the index was rebuilt with the embedder {self.index.embedder_id!r}"
        return None

    def ingest(self, paths: list[Path | str], *, progress: Progress = None, **options):
        """Add or update ``paths`` in this index, with its own embedder and identity."""
        return ingest(paths, self.settings, embedder=self.embedder, progress=progress, **options)

    def remove(self, sources: list[str]) -> list[str]:
        return remove(sources, self.settings)

    def close(self) -> None:
        self.index.close()

    def __enter__(self) -> RagService:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _file_stamp(path: Path) -> tuple[int, int, int] | None:
    """(inode, modification time, size) of ``path``, None when it is not there."""
    try:
        found = path.stat()
    except OSError:
        return None
    return found.st_ino, found.st_mtime_ns, found.st_size


def ingest(
    paths: list[Path | str],
    settings: Settings | None = None,
    *,
    embedder: Embedder | None = None,
    rebuild: bool = False,
    progress: Progress = None,
    wait: bool = True,
    on_wait=None,
):
    """Bring the index at ``settings.index.directory`` in step with the files under ``paths``;
    returns the ``ingest.report.IngestReport``. ``progress``: a bar on stderr (None: when it is
    a terminal), or a function ``progress(stage, done, total)`` ("reading", "embedding", "indexing").
    While another process writes the index, it waits (``on_wait(pid)`` is called once) or,
    without ``wait``, raises ``IndexLockedError``.

    An existing index keeps what makes it (embedder, chunking, vector index type) unless
    ``rebuild``: a setting left at its default takes the index's value, a setting changed from
    its default must match it (else ``IndexMismatchError`` says how to rebuild)."""
    from ingest.chunking import ChunkingParams
    from ingest.pipeline import ingest as run

    settings = settings or Settings.load()
    directory = settings.index.directory
    chosen = identity(settings, directory, rebuild)
    try:
        params = ChunkingParams(max_tokens=chosen["chunk_tokens"], overlap_tokens=chosen["overlap_tokens"])
    except ValueError as exc:
        raise RagError(str(exc)) from None
    with ingestion_engine(settings, chosen["embedder"]) as engine:
        return run(
            paths,
            directory,
            embedder or embedder_for(settings, chosen["embedder"]),
            params,
            index_type=chosen["type"],
            max_file_mb=settings.ingestion.max_file_mb,
            rebuild=rebuild,
            prune=settings.ingestion.prune,
            progress=progress,
            follow_symlinks=settings.ingestion.follow_symlinks,
            read_timeout_s=settings.ingestion.read_timeout_s,
            wait=wait,
            on_wait=on_wait,
            engine=engine,
        )


def ingestion_engine(settings: Settings, embedder_name: str):
    """Where ingestion reads and embeds (``ingestion.engine``), as a context manager: None (this
    process), or a connected ``ingest.distributed.RayEngine`` whose workers build the embedder
    ``embedder_for(settings, embedder_name)`` as this process would."""
    if settings.ingestion.engine != "ray":
        return contextlib.nullcontext()
    from ingest.distributed import RayEngine

    make = functools.partial(embedder_for, settings, embedder_name)
    return RayEngine(make, settings.ingestion.ray_address, use_gpus=settings.embedding.device != "cpu")


def identity(settings: Settings, directory: Path, rebuild: bool = False) -> dict:
    """The embedder, chunking and vector index type an ingestion into ``directory`` uses."""
    wanted = {
        "embedder": settings.index.embedder,
        "type": settings.index.type,
        "chunk_tokens": settings.ingestion.chunk_tokens,
        "overlap_tokens": settings.ingestion.overlap_tokens,
    }
    if rebuild or not (directory / STORE_FILE).exists():
        return wanted
    defaults = Settings()
    default = {
        "embedder": defaults.index.embedder,
        "type": defaults.index.type,
        "chunk_tokens": defaults.ingestion.chunk_tokens,
        "overlap_tokens": defaults.ingestion.overlap_tokens,
    }
    try:
        existing = Index.open(directory)
    except IndexNotFoundError:  # a first run killed before its first commit: a new index
        return wanted
    with existing:
        if not existing.store.count_documents():
            return wanted  # nothing in it to keep: it takes the settings asked for
        chunking = existing.chunking
        stored = {
            "embedder": existing.embedder_id,
            "type": existing.meta.get("index_type", "auto"),
            "chunk_tokens": chunking.get("max_tokens"),
            "overlap_tokens": chunking.get("overlap_tokens"),
        }
    return {key: wanted[key] if wanted[key] != default[key] else stored[key] for key in wanted}


def embedder_for(settings: Settings, name: str | None = None) -> Embedder:
    """The embedder called ``name`` (default ``index.embedder``), run as ``embedding.*`` says."""
    e = settings.embedding
    return load_embedder(
        name or settings.index.embedder,
        e.device,
        engine=e.engine,
        models_dir=settings.models.dir,
        batch_size=e.batch_size,
    )


def supported_suffixes() -> frozenset[str]:
    """The file suffixes ingestion reads (``.pdf``, ``.docx``...)."""
    from ingest.readers import SUPPORTED_SUFFIXES

    return SUPPORTED_SUFFIXES


def remove(sources: list[str], settings: Settings | None = None, *, wait: bool = True, on_wait=None) -> list[str]:
    """Delete documents from the index by source path; returns the ones that were indexed.
    ``wait``/``on_wait``: as for ``ingest``."""
    from ingest.pipeline import remove_documents

    settings = settings or Settings.load()
    return remove_documents(settings.index.directory, sources, wait=wait, on_wait=on_wait)
