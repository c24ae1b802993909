"""The HTTP API (``rag serve``): an OpenAI-compatible endpoint and the collection over HTTP.

- ``POST /v1/chat/completions`` (streamed or not) and ``GET /v1/models``: ``chat``;
- ``POST /v1/search``: ``search``;
- ``GET|POST /v1/documents``, ``DELETE /v1/documents/{id}``, ``GET /v1/jobs/{id}``,
  ``GET /v1/index``: ``documents``;
- ``GET /healthz``, ``GET /readyz``, the key and CORS: ``app``; errors as JSON: ``errors``;
- the writer thread and the answer queue: ``jobs``; the process's service: ``state``;
- ``serve`` (with its refusal to listen beyond loopback without a key) and ``running``: ``run``.

Everything goes through the façade (``rag.service``) and the shared JSON (``rag.serialize``);
no retrieval or answer logic lives here. Needs the ``api`` extra (``pip install "rag-fr[api]"``).
"""

from __future__ import annotations

from rag.errors import MissingDependencyError

try:
    import fastapi  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingDependencyError("fastapi", extra="api", purpose="the HTTP API") from exc

from rag.server.app import create_app
from rag.server.run import check_exposure, is_loopback, running, serve

__all__ = ["check_exposure", "create_app", "is_loopback", "running", "serve"]
