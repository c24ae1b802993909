"""``POST /v1/chat/completions`` and ``GET /v1/models`` through an in-process client: the answer
and its checked citations in OpenAI's shape, streamed and not, follow-ups, every bad input as
a 4xx JSON error, and the bounded queue answering 429."""

from __future__ import annotations

import json
import threading

import pytest

from rag.testing import ScriptedLLM
from tests.rag.server.conftest import QUESTION, cites_the_opening_hour


def ask(client, *messages, **extra):
    body = {"model": "rag-fr", "messages": [{"role": r, "content": c} for r, c in messages], **extra}
    return client.post("/v1/chat/completions", json=body)


def events_of(response) -> list:
    lines = [line[len("data: ") :] for line in response.text.splitlines() if line.startswith("data: ")]
    assert lines[-1] == "[DONE]"
    return [json.loads(line) for line in lines[:-1]]


def test_an_answer_in_openais_shape_with_its_checked_citations(client):
    response = ask(client, ("system", "Tu es utile."), ("user", QUESTION))
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion" and body["model"] == "rag-fr" and body["id"].startswith("chatcmpl-")
    (choice,) = body["choices"]
    assert choice["message"]["role"] == "assistant" and choice["finish_reason"] == "stop"
    text = choice["message"]["content"]
    assert text.startswith("Le fournil ouvre à sept heures [") and not body["abstained"]
    citation = body["citations"][0]
    assert f"[{citation['number']}]" in text and citation["source"] == "fournil.md"
    start, end = citation["span"]
    assert "sept heures" in citation["text"][start:end]  # the supporting span inside the passage
    assert {"start", "end", "page", "heading_path", "doc_id"} <= set(citation)
    assert {"retrieve", "generate", "total"} <= set(body["timings"]) and body["generator"] == "scripted"
    assert body["abstain_reason"] is None and body["mode"] == "llm" and body["question"] == QUESTION


def test_the_stream_sends_openai_chunks_and_only_checked_text(client):
    with_stream = ask(client, ("user", QUESTION), stream=True)
    assert with_stream.status_code == 200 and with_stream.headers["content-type"].startswith("text/event-stream")
    chunks = events_of(with_stream)
    assert all(c["object"] == "chat.completion.chunk" and c["choices"][0]["index"] == 0 for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    kinds = [c["rag_event"]["type"] for c in chunks if "rag_event" in c]
    assert kinds[0] == "hits" and "draft" in kinds
    content = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    last = chunks[-1]
    assert last["choices"][0]["finish_reason"] == "stop" and last["citations"] and not last["abstained"]
    plain = ask(client, ("user", QUESTION)).json()
    assert content == plain["choices"][0]["message"]["content"]  # the same checked answer either way


def test_a_follow_up_is_made_standalone_from_the_earlier_turns(client):
    response = ask(
        client, ("user", QUESTION), ("assistant", "Le fournil ouvre à sept heures [1]."), ("user", "Et le dimanche ?")
    )
    body = response.json()
    assert body["question"] == "À quelle heure ouvre le fournil le dimanche ?" and "standalone" in body["timings"]


def test_a_question_the_documents_do_not_answer_is_refused_with_its_reason(make_client):
    client = make_client(ScriptedLLM(lambda messages: "Ce n'est pas dans les documents."))
    body = ask(client, ("user", "Quel est le prix du billet de train pour Lyon ?")).json()
    assert body["abstained"] and body["abstain_reason"] and body["citations"] == []
    assert body["choices"][0]["message"]["content"] == "Ce n'est pas dans les documents."


def test_extractive_answers_need_no_model(make_client):
    body = ask(make_client(), ("user", QUESTION), k=2, filters={"sources": ["fournil.md"]}).json()
    assert body["mode"] == "extractive" and "sept heures" in body["choices"][0]["message"]["content"]
    assert len(body["hits"]) <= 2 and {h["source"] for h in body["hits"]} == {"fournil.md"}


def test_models_lists_the_one_model(client):
    assert client.get("/v1/models").json() == {
        "object": "list",
        "data": [{"id": "rag-fr", "object": "model", "created": 0, "owned_by": "rag-fr"}],
    }
    assert client.get("/v1/models/rag-fr").json()["id"] == "rag-fr"
    assert client.get("/v1/models/gpt-4").status_code == 404


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"messages": []}, "invalid_request", "messages"),
        ({}, "invalid_request", "messages"),
        ({"messages": [{"role": "user", "content": "   "}]}, "empty_question", "messages"),
        (
            {"messages": [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": "x"}]},
            "last_message_not_user",
            "messages",
        ),
        ({"messages": [{"role": "system", "content": "Sois bref."}]}, "last_message_not_user", "messages"),
        ({"messages": [{"role": "user", "content": QUESTION}], "k": 0}, "k_out_of_range", "k"),
        ({"messages": [{"role": "user", "content": QUESTION}], "k": 51}, "k_out_of_range", "k"),
        ({"messages": [{"role": "user", "content": QUESTION}], "k": "cinq"}, "invalid_request", "k"),
        ({"messages": [{"role": "user", "content": QUESTION}], "n": 2}, "invalid_n", "n"),
        ({"messages": [{"role": "robot", "content": QUESTION}]}, "invalid_request", "messages.0.role"),
        (
            {"messages": [{"role": "user", "content": QUESTION}], "filters": {"source": "x"}},
            "invalid_request",
            "filters.source",
        ),
        (
            {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]},
            "unsupported_content",
            "messages.0.content",
        ),
    ],
)
def test_bad_requests_are_400_with_what_was_wrong(client, body, code, param):
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["param"] == param and error["message"]
    assert error["type"] == "invalid_request_error"


def test_text_parts_are_read_and_other_parameters_ignored(client):
    parts = [{"type": "text", "text": "À quelle heure "}, {"type": "text", "text": "ouvre le fournil ?"}]
    body = {"messages": [{"role": "user", "content": parts}], "temperature": 0.2, "max_tokens": 50, "top_p": 1}
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 200 and response.json()["question"] == QUESTION


def test_a_body_that_is_not_json_is_400(client):
    response = client.post("/v1/chat/completions", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.json()["error"]["message"] == "The body is not valid JSON."


def test_questions_past_the_queue_get_429_and_the_model_keeps_answering(make_client):
    """One answer runs and ``queue_size`` wait; the next is refused at once, never a crash."""
    release, started = threading.Event(), threading.Event()

    def slow(messages):
        started.set()
        release.wait(10)
        return cites_the_opening_hour(messages)

    client = make_client(ScriptedLLM(slow), **{"server.queue_size": 1})
    results = []
    threads = [threading.Thread(target=lambda: results.append(ask(client, ("user", QUESTION)))) for _ in range(2)]
    threads[0].start()
    assert started.wait(10)  # the first is generating
    threads[1].start()  # the second waits in the queue
    for _ in range(200):
        if client.app.state.rag.queue.pending == 2:
            break
        threading.Event().wait(0.01)
    refused = ask(client, ("user", QUESTION))
    assert refused.status_code == 429 and refused.headers["retry-after"] == "5"
    assert refused.json()["error"]["code"] == "queue_full"
    assert client.post("/v1/search", json={"query": "fournil"}).status_code == 200  # searches still run
    release.set()
    for thread in threads:
        thread.join(10)
    assert [r.status_code for r in results] == [200, 200]
    assert ask(client, ("user", QUESTION)).status_code == 200  # the queue empties


def test_a_model_failing_mid_stream_ends_with_an_error_event(make_client):
    from rag.errors import ModelError

    def broken(messages):
        raise ModelError("The model server went away.")

    client = make_client(ScriptedLLM(broken))
    chunks = events_of(ask(client, ("user", QUESTION), stream=True))
    assert chunks[-1]["error"] == {
        "message": "The model server went away.",
        "type": "service_unavailable",
        "param": None,
        "code": "model_unavailable",
    }
    plain = ask(client, ("user", QUESTION))
    assert plain.status_code == 503 and plain.json()["error"]["code"] == "model_unavailable"
