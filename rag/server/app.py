"""The FastAPI application: its routes, the key, CORS, health and readiness.

``create_app(settings, service=None, llm=None)`` builds it; tests inject a service over a small
index and a scripted LLM, ``rag serve`` lets it open the index of the settings. With
``server.api_key`` set (``RAG_API_KEY``), every route but ``/healthz``, ``/readyz`` and the
OpenAPI documentation (``/docs``: it holds no data, and its Authorize button takes the key)
requires ``Authorization: Bearer <key>``. CORS is off unless ``server.cors_origins`` names
origins.
"""

from __future__ import annotations

import hmac
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from rag.server import chat, documents, errors, search
from rag.server.errors import ApiError
from rag.server.state import ServerState
from rag.service import RagService
from rag.settings import Settings

bearer = HTTPBearer(auto_error=False, description="the server's key (server.api_key, $RAG_API_KEY)")


def require_key(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
    key = request.app.state.rag.settings.server.api_key
    if not key:
        return
    if credentials is None:
        raise ApiError(
            401,
            "This server needs an API key: send 'Authorization: Bearer <key>'.",
            "missing_api_key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not hmac.compare_digest(credentials.credentials.encode(), key.encode()):
        raise ApiError(401, "Incorrect API key.", "invalid_api_key", headers={"WWW-Authenticate": "Bearer"})


def create_app(
    settings: Settings | None = None, *, service: RagService | None = None, llm=None, warm_up: bool = True
) -> FastAPI:
    """The application. ``service``: an opened ``RagService`` to serve (its settings are used
    unless ``settings`` is given); else the index of ``settings`` is opened at start-up, in
    the background, with ``llm`` or the model ``llm.name`` names. ``warm_up``: load the models
    at start-up (``/readyz`` says when they are loaded) rather than on the first request."""
    settings = settings or (service.settings if service is not None else Settings.load())
    state = ServerState(settings, service=service, llm=llm)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if warm_up:
            state.start_warm_up()
        yield
        state.close()

    app = FastAPI(
        title="rag-fr",
        summary="Questions over your own documents, answered with checked citations; OpenAI-compatible.",
        lifespan=lifespan,
    )
    app.state.rag = state
    errors.install(app)
    if settings.server.origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.server.origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    guarded = [Depends(require_key)]
    for module in (chat, search, documents):
        app.include_router(module.router, dependencies=guarded)

    @app.get("/healthz", summary="The process is up")
    def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/readyz", summary="The index is open and the models are loaded")
    def readyz():
        state.warm_up_if_index_appeared()
        if state.ready:
            service = state.service()
            llm = service.llm
            return {
                "status": "ready",
                "index": str(state.index_dir),
                "documents": len(service.documents()),
                "answers": getattr(llm, "model_id", None) if llm is not None else "extractive",
            }
        status = "not_ready" if state.problem else "starting"
        body = {"status": status, "reason": state.problem or "opening the index and loading the models"}
        return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})

    return app
