"""Every error the HTTP API answers, as JSON in OpenAI's shape, so that OpenAI clients raise it
with its message: ``{"error": {"message", "type", "param", "code"}}``.

Bad input is a 4xx that says what was wrong (``param`` names the field); a problem a user can
act on (``rag.errors.RagError``) keeps its message; anything else is a 500 whose body says only
that the server failed (the traceback goes to the log, never to the client).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from rag.errors import (
    ConfigError,
    IndexLockedError,
    IndexMismatchError,
    IndexNotFoundError,
    MissingDependencyError,
    ModelError,
    RagError,
)

log = logging.getLogger("rag.server")

TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    409: "conflict_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    429: "rate_limit_error",
    503: "service_unavailable",
}

# The façade's errors a user can act on, by status: what is missing or busy is not bad input.
RAG_STATUS = [
    (IndexNotFoundError, 503, "no_index"),
    (IndexLockedError, 409, "index_locked"),
    (IndexMismatchError, 409, "index_mismatch"),
    (MissingDependencyError, 503, "missing_dependency"),
    (ModelError, 503, "model_unavailable"),
    (ConfigError, 400, "invalid_setting"),
]


class ApiError(Exception):
    """An answer other than success: ``status``, a message for people, a ``code`` for programs,
    the request field at fault (``param``) and extra ``headers`` (Retry-After...)."""

    def __init__(self, status: int, message: str, code: str, param: str | None = None, headers=None):
        super().__init__(message)
        self.status, self.message, self.code, self.param = status, message, code, param
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        body = error_body(self.message, self.code, self.status, self.param)
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def error_body(message: str, code: str, status: int, param: str | None = None) -> dict:
    kind = TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def from_rag_error(exc: RagError) -> ApiError:
    for kind, status, code in RAG_STATUS:
        if isinstance(exc, kind):
            return ApiError(status, str(exc), code)
    return ApiError(400, str(exc), "invalid_request")


def install(app: FastAPI) -> None:
    """Answer every error as JSON: ours, the façade's, FastAPI's validation, routing, the rest."""

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError):
        return exc.response()

    @app.exception_handler(RagError)
    async def rag_error(request: Request, exc: RagError):
        return from_rag_error(exc).response()

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        return validation_error(exc.errors()).response()

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return ApiError(exc.status_code, str(exc.detail), code, headers=exc.headers).response()

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return ApiError(500, f"The server failed ({type(exc).__name__}); see its log.", "server_error").response()


def validation_error(errors) -> ApiError:
    """FastAPI's validation errors as one 400 that names the first field at fault."""
    first = errors[0] if errors else {}
    where = [str(part) for part in first.get("loc", ())]
    if where and where[0] in ("body", "query", "path", "header", "cookie"):  # where it was, not what
        where = where[1:]
    param = ".".join(where) or None
    message = first.get("msg", "Invalid request.")
    if first.get("type") == "json_invalid":
        message, param = "The body is not valid JSON.", None
    elif first.get("type") == "missing":
        message = f"The field '{param}' is required."
    elif param:
        message = f"{param}: {message}"
    extra = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return ApiError(400, message + extra, "invalid_request", param)
