"""``POST /v1/chat/completions``, OpenAI-compatible, streamed (server-sent events in OpenAI's chunk
format) or not, and ``GET /v1/models``.

The last user message is the question; earlier user/assistant turns make a follow-up standalone
(``RagService.standalone_question``, as the web interface does). The message content is the
checked answer, its ``[n]`` markers kept; the citations (source, page, character span, passage,
supporting span), the refusal flag and reason, the per-stage timings and the rest of
``rag.serialize.answer_to_json`` ride in extra top-level fields that OpenAI clients ignore and
keep (``completion.citations`` with the ``openai`` package).

Streaming sends what a chat front end can show as it comes, and only what was checked: the
passages found and the model's draft travel as ``rag_event`` chunks with an empty delta; the
content delta is the checked answer, so the streamed text equals the non-streamed one. The
request's own ``k`` and ``filters`` (``{"sources": [globs], "doc_ids": [...]}``) are extra
fields too; sampling parameters (temperature...) are accepted and ignored: answers are greedy.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from rag.errors import RagError
from rag.retrieval import Filters
from rag.serialize import answer_to_json, hit_to_json
from rag.server.errors import ApiError, error_body, from_rag_error, log
from rag.server.jobs import QueueFull
from rag.server.search import FilterSpec, check_k

router = APIRouter()
_END = object()


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # OpenAI's other parameters are accepted and ignored
    model: str | None = None
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    n: int = 1
    k: int | None = Field(None, description="passages the answer is drawn from (default answering.k)")
    filters: FilterSpec | None = None


def text_of(message: Message, where: str) -> str:
    if message.content is None or isinstance(message.content, str):
        return message.content or ""
    if any(part.type != "text" for part in message.content):
        raise ApiError(
            400, "Only text content is understood (no images, audio or files).", "unsupported_content", where
        )
    return "".join(part.text or "" for part in message.content)


def conversation(messages: list[Message]) -> tuple[str, list[tuple[str, str]]]:
    """The question (the last message, the user's) and the earlier (question, answer) turns."""
    turns = [(m.role, text_of(m, f"messages.{i}.content")) for i, m in enumerate(messages)]
    turns = [(role, text) for role, text in turns if role in ("user", "assistant")]
    if not turns or turns[-1][0] != "user":
        raise ApiError(400, "The last message must be the user's question.", "last_message_not_user", "messages")
    question = " ".join(turns[-1][1].split())
    if not question:
        raise ApiError(400, "The question is empty: ask something about the documents.", "empty_question", "messages")
    history, asked = [], None
    for role, text in turns[:-1]:
        if role == "user":
            asked = text
        elif asked is not None:
            history.append((asked, text))
            asked = None
    return question, history


def answer(service, question: str, history, k, filters, emit, cancelled: threading.Event):
    """On the answer thread: rewrite a follow-up, then answer, passing every event to ``emit``;
    returns (answer, standalone question, seconds the rewrite took). Stops early once
    ``cancelled`` (the client went away)."""
    started = time.perf_counter()
    standalone = service.standalone_question(question, history) if history else question
    rewrite = time.perf_counter() - started
    if standalone != question:
        emit({"type": "question", "standalone": standalone})
    events = service.ask_stream(standalone, k=k, filters=filters)
    try:
        for event in events:
            if cancelled.is_set():
                return None
            if event["type"] == "answer":
                return event["answer"], standalone, rewrite
            emit(event)
    finally:
        events.close()
    raise RagError("The service gave no answer.")


def completion_fields(result) -> dict:
    """The extra fields of a completion: the answer's JSON but its text (the message) and model."""
    checked, standalone, rewrite = result
    body = answer_to_json(checked)
    extra = {key: value for key, value in body.items() if key not in ("answer", "model")}
    if rewrite:
        extra["timings"] = {"standalone": rewrite, **extra["timings"]}
    return {**extra, "question": standalone, "generator": body["model"]}


@router.get("/v1/models", summary="The one model: answers with checked citations")
def models(request: Request) -> dict:
    return {"object": "list", "data": [model_card(request)]}


@router.get("/v1/models/{model_id}", summary="One model")
def model(model_id: str, request: Request) -> dict:
    card = model_card(request)
    if model_id != card["id"]:
        raise ApiError(404, f"No model '{model_id}': this server has one, '{card['id']}'.", "model_not_found", "model")
    return card


def model_card(request: Request) -> dict:
    state = request.app.state.rag
    return {"id": state.settings.server.model_name, "object": "model", "created": 0, "owned_by": "rag-fr"}


@router.post("/v1/chat/completions", summary="Answer the last user message, with checked citations")
async def chat_completions(body: ChatRequest, request: Request):
    state = request.app.state.rag
    if body.n != 1:
        raise ApiError(400, "n must be 1: there is one checked answer per question.", "invalid_n", "n")
    question, history = conversation(body.messages)
    if body.k is not None:
        check_k(body.k, state.settings.server.max_k)
    filters = body.filters.to_filters() if body.filters else Filters()
    service = state.service()
    loop = asyncio.get_running_loop()
    events: asyncio.Queue = asyncio.Queue()
    cancelled = threading.Event()

    def emit(item) -> None:
        try:
            loop.call_soon_threadsafe(events.put_nowait, item)
        except RuntimeError:  # the loop is gone: the server is stopping
            cancelled.set()

    def work():
        return answer(service, question, history, body.k, filters, emit if body.stream else _ignore, cancelled)

    def streamed_work():
        try:
            emit(work())
        except Exception as exc:  # noqa: BLE001 - sent to the client as an error event
            if not isinstance(exc, RagError):
                log.error("a streamed answer failed", exc_info=exc)
            emit(exc)
        finally:
            emit(_END)

    try:
        future = state.queue.submit(streamed_work if body.stream else work)
    except QueueFull as exc:
        message = f"Too many questions at once: {exc}. Retry in a few seconds."
        raise ApiError(429, message, "queue_full", headers={"Retry-After": "5"}) from None
    ids = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "created": int(time.time()),
        "model": state.settings.server.model_name,
    }
    if not body.stream:
        result = await asyncio.wrap_future(future)
        checked = result[0]
        return {
            **ids,
            "object": "chat.completion",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": checked.text}, "finish_reason": "stop"}
            ],
            **completion_fields(result),
        }
    return StreamingResponse(
        sse(ids, events, cancelled),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _ignore(event) -> None:
    pass


async def sse(ids: dict, events: asyncio.Queue, cancelled: threading.Event):
    """OpenAI's chunks as server-sent events: the role, ``rag_event`` chunks (question rewrite,
    passages, draft tokens, retry), the checked answer as content, the closing chunk with the
    answer's fields, ``[DONE]``. An error after the start is an ``error`` event."""

    def chunk(delta: dict, finish: str | None = None, **extra) -> str:
        body = {
            **ids,
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps({**body, **extra}, ensure_ascii=False)}\n\n"

    try:
        yield chunk({"role": "assistant", "content": ""})
        while (item := await events.get()) is not _END:
            if isinstance(item, Exception):
                error = from_rag_error(item) if isinstance(item, RagError) else None
                body = (
                    error_body(error.message, error.code, error.status)
                    if error
                    else error_body(f"The server failed ({type(item).__name__}); see its log.", "server_error", 500)
                )
                yield f"data: {json.dumps(body, ensure_ascii=False)}\n\n"
            elif isinstance(item, tuple):  # the checked answer
                yield chunk({"content": item[0].text})
                yield chunk({}, "stop", **completion_fields(item))
            elif item is not None:
                yield chunk({}, rag_event=event_json(item))
        yield "data: [DONE]\n\n"
    finally:
        cancelled.set()  # the client went away, or all is sent: the answer thread stops either way


def event_json(event: dict) -> dict:
    """An ``ask_stream`` event as JSON: hits serialised, a token called a draft (it is unchecked)."""
    if event["type"] == "hits":
        return {"type": "hits", "hits": [hit_to_json(h) for h in event["hits"]]}
    if event["type"] == "token":
        return {"type": "draft", "text": event["text"]}
    return event
