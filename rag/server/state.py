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
        self._no_index = False  # warming failed for want of an index, which another process may create
        self._retired: list[RagService] = []  # services replaced while requests may still use them
        self.queue = AnswerQueue(settings.server.queue_size)
        self.writer = Writer(settings.server.jobs_kept)
        self._warming: threading.Thread | None = None

    @property
    def index_dir(self):
        return self.settings.index.directory

    # -- the service ----------------------------------------------------------------------
    def service(self) -> RagService:
        """The open service; 503 while there is no index (none yet, or it cannot be opened).

        Each generation another process commits is seen by the next search (the index reads
        its last committed generation); an index rebuilt with another embedder, or whose store
        was replaced, is opened again here, with the models already loaded kept."""
        service = self._service
        if service is not None and service.stale() is None:
            return service
        with self._opening:
            if self._service is not None and (why := self._service.stale()) is not None:
                log.warning("opening the index again: %s", why)
                self._llm = self._service.llm
                self._retired.append(self._service)  # a request may still be searching it
                self._service = None
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
            self.problem, self._no_index = exc.message, exc.code == "no_index"
        except RagError as exc:
            self.problem = str(exc)
        except Exception as exc:  # noqa: BLE001 - reported by /readyz and the log, the process stays up
            log.error("warming up failed", exc_info=exc)
            self.problem = f"{type(exc).__name__}: {exc}"

    @property
    def ready(self) -> bool:
        return self._warm.is_set()

    def warm_up_if_index_appeared(self) -> None:
        """A server started before its index warms up again, in the background, once another
        process (``rag ingest``, another replica) has created it: called by ``/readyz``, which a
        load balancer polls."""
        warming = self._warming
        if self.ready or not self._no_index or warming is None or warming.is_alive():
            return
        if (self.index_dir / STORE_FILE).exists():
            self._no_index, self.problem = False, None
            self.start_warm_up()

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
        for service in [*self._retired, self._service]:
            if service is not None:
                service.close()
