"""The application around the routes: health and readiness, the API key, CORS, errors as JSON
(never a traceback), and the refusal to listen beyond loopback without a key."""

from __future__ import annotations

import pytest

from rag.cli import main
from rag.errors import ConfigError, IndexLockedError
from rag.server import check_exposure, is_loopback
from rag.settings import Settings

KEY = "cle-de-test"


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert ready.json()["documents"] == 3 and ready.json()["answers"] == "scripted"


def test_the_openapi_documentation_is_served(client):
    schema = client.get("/openapi.json").json()
    assert {"/v1/chat/completions", "/v1/search", "/v1/documents", "/v1/jobs/{job_id}", "/v1/index"} <= set(
        schema["paths"]
    )
    assert client.get("/docs").status_code == 200


def test_with_a_key_every_route_but_health_needs_it(make_client):
    client = make_client(**{"server.api_key": KEY})
    routes = [
        ("get", "/v1/models", None),
        ("post", "/v1/search", {"query": "pain"}),
        ("post", "/v1/chat/completions", {"messages": [{"role": "user", "content": "Quand ouvre le fournil ?"}]}),
        ("get", "/v1/documents", None),
        ("get", "/v1/index", None),
        ("get", "/v1/jobs/abc", None),
        ("delete", "/v1/documents/marche.txt", None),
    ]
    for method, path, body in routes:
        kwargs = {"json": body} if body else {}
        missing = getattr(client, method)(path, **kwargs)
        assert missing.status_code == 401 and missing.json()["error"]["code"] == "missing_api_key", path
        assert missing.headers["www-authenticate"] == "Bearer"
        wrong = getattr(client, method)(path, headers={"Authorization": "Bearer autre"}, **kwargs)
        assert wrong.status_code == 401 and wrong.json()["error"]["type"] == "authentication_error", path
    ok = client.post("/v1/search", json={"query": "pain"}, headers={"Authorization": f"Bearer {KEY}"})
    assert ok.status_code == 200
    assert client.get("/healthz").status_code == 200 and client.get("/readyz").status_code == 200


def test_cors_is_off_by_default_and_set_by_origins(make_client):
    preflight = {"Origin": "https://chat.example", "Access-Control-Request-Method": "POST"}
    off = make_client()
    assert (
        "access-control-allow-origin" not in off.get("/v1/models", headers={"Origin": "https://chat.example"}).headers
    )
    assert off.options("/v1/search", headers=preflight).status_code == 405
    on = make_client(**{"server.cors_origins": "https://chat.example", "server.api_key": KEY})
    answer = on.options("/v1/search", headers={**preflight, "Access-Control-Request-Headers": "authorization"})
    assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == "https://chat.example"
    other = on.options("/v1/search", headers={**preflight, "Origin": "https://evil.example"})
    assert other.status_code == 400


def test_routing_errors_are_json(client):
    assert client.get("/v2/nothing").json()["error"]["code"] == "not_found"
    wrong_method = client.get("/v1/search")
    assert wrong_method.status_code == 405 and wrong_method.json()["error"]["code"] == "method_not_allowed"


def test_a_failure_is_json_without_a_traceback_and_a_busy_index_is_409(client, monkeypatch):
    service = client.app.state.rag.service()

    def broken(*args, **kwargs):
        raise ValueError("secret internals")

    monkeypatch.setattr(service, "retrieve", broken)
    client_500 = type(client)(client.app, raise_server_exceptions=False)
    failed = client_500.post("/v1/search", json={"query": "pain"})
    assert failed.status_code == 500 and failed.json()["error"]["code"] == "server_error"
    assert "secret" not in failed.text and "Traceback" not in failed.text

    def locked(*args, **kwargs):
        raise IndexLockedError("Another ingestion is writing the index.")

    monkeypatch.setattr(service, "retrieve", locked)
    busy = client.post("/v1/search", json={"query": "pain"})
    assert busy.status_code == 409 and busy.json()["error"]["message"] == "Another ingestion is writing the index."


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.0.1.1", True), ("::1", True), ("[::1]", True), ("localhost", True),
     ("0.0.0.0", False), ("::", False), ("192.168.1.5", False), ("rag.example", False)],
)  # fmt: skip
def test_loopback_addresses(host, loopback):
    assert is_loopback(host) is loopback


def test_no_key_beyond_loopback_unless_insecure(capsys):
    exposed = Settings.load(env={}, overrides={"server.host": "0.0.0.0"})
    with pytest.raises(ConfigError, match="RAG_API_KEY"):
        check_exposure(exposed)
    check_exposure(exposed, insecure=True)
    check_exposure(exposed.replace("server.api_key", KEY))
    check_exposure(Settings.load(env={}))
    assert main(["serve", "--host", "0.0.0.0", "--port", "8123"]) == 2
    assert "Refusing to listen on 0.0.0.0 without an API key" in capsys.readouterr().err
