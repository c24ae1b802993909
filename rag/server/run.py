"""Running the application: ``serve`` (what ``rag serve`` calls) refuses to listen beyond this
machine without a key, then hands the app to uvicorn, one process (one model instance);
``running`` serves it on a free loopback port in a thread, for tests and the load benchmark."""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from rag.errors import ConfigError
from rag.settings import Settings


def is_loopback(host: str) -> bool:
    """Whether ``host`` is only reachable from this machine (a name other than localhost may
    resolve to anything: it counts as reachable)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(settings: Settings, insecure: bool = False) -> None:
    """ConfigError when the server would listen beyond loopback without a key and without
    ``insecure``: anyone reaching the port could read, upload and delete documents."""
    host = settings.server.host
    if is_loopback(host) or settings.server.api_key or insecure:
        return
    raise ConfigError(
        f"Refusing to listen on {host} without an API key: anyone who can reach the port could read, "
        "upload and delete documents. Set RAG_API_KEY (or server.api_key), or pass --insecure "
        "if everyone on that network may."
    )


def serve(settings: Settings, *, insecure: bool = False, llm=None, log_level: str = "info") -> None:
    """Serve the HTTP API on ``server.host``:``server.port`` until interrupted."""
    check_exposure(settings, insecure)
    import uvicorn

    from rag.server.app import create_app

    app = create_app(settings, llm=llm)
    uvicorn.run(app, host=settings.server.host, port=settings.server.port, log_level=log_level, workers=1)


@contextmanager
def running(app, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``app`` on a free port of ``host`` in a thread; yields its base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="rag-http", daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the HTTP server did not start")
            threading.Event().wait(0.02)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
