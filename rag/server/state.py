"""What one server process holds: its settings, the one service (index, embedder, LLM) opened
at start-up in the background, its readiness, the answer queue and the index writer.

A server may start before its index exists: it is then not ready, answers 503 to searches
and questions, and opens the index once an upload has created it.
"""

from __future__ import annotations

import logging
import threading

from rag.errors import IndexNotFoundError, RagError
from rag.index import STORE_FILE
from rag.server.errors import ApiError
from rag.server.jobs import AnswerQueue, Writer
from rag.service import RagService, embedder_for
from rag.settings import Settings

log = logging.getLogger("rag.server")


class ServerState:
    def __init__(self, settings: Settings, service: RagService | None = None, llm=None):
        """``service``: an opened service (tests inject one, with a scripted LLM); else the
        index of ``settings`` is opened, with ``llm`` or the one ``llm.name`` names."""
        self.settings = settings
        self._service = service
        self._llm = llm
        self._opening = threading.Lock()
        self._warm = threading.Event()
        self.problem: str | None = None  # why the service is not ready, once warming failed
        self.queue = AnswerQueue(settings.server.queue_size)
        self.writer = Writer(settings.server.jobs_kept)
        self._warming: threading.Thread | None = None

    @property
    def index_dir(self):
        return self.settings.index.directory

    # -- the service ----------------------------------------------------------------------
    def service(self) -> RagService:
        """The open service; 503 while there is no index (none yet, or it cannot be opened)."""
        if self._service is not None:
            return self._service
        with self._opening:
            if self._service is None:
                if not (self.index_dir / STORE_FILE).exists():
                    raise ApiError(
                        503,
                        f"No index yet at {self.index_dir}: upload documents (POST /v1/documents) or run `rag ingest`.",
                        "no_index",
                    )
                try:
                    self._service = RagService.open(self.index_dir, settings=self.settings, llm=self._llm)
                except IndexNotFoundError as exc:
                    raise ApiError(503, str(exc), "no_index") from None
        return self._service

    def service_or_none(self) -> RagService | None:
        try:
            return self.service()
        except ApiError:
            return None

    def warm_up(self) -> None:
        """Open the index, load the embedder and the LLM now rather than on the first request
        (run on a thread at start-up; ``ready`` tells when it is done)."""
        try:
            service = self.service()
            service.retriever.warm_up()
            _ = service.llm
            self.problem = None
            self._warm.set()
        except ApiError as exc:
            self.problem = exc.message
        except RagError as exc:
            self.problem = str(exc)
        except Exception as exc:  # noqa: BLE001 - reported by /readyz and the log, the process stays up
            log.error("warming up failed", exc_info=exc)
            self.problem = f"{type(exc).__name__}: {exc}"

    @property
    def ready(self) -> bool:
        return self._warm.is_set()

    def embedder(self):
        """The embedder an ingestion uses: the index's own, or the settings' for a new index."""
        service = self.service_or_none()
        return service.embedder if service is not None else embedder_for(self.settings)

    def start_warm_up(self) -> None:
        self._warming = threading.Thread(target=self.warm_up, name="rag-warm-up", daemon=True)
        self._warming.start()

    def close(self) -> None:
        """Stop taking work, let what runs finish (an ingestion commits or is rolled back), then
        close the index: closing it under a running search would crash the process."""
        self.queue.shutdown()
        self.writer.shutdown()
        if self._warming is not None:
            self._warming.join()
        if self._service is not None:
            self._service.close()
