"""``POST /v1/search``: the hits as ``rag search --json`` gives them, with k and filters, and
every bad input a 400 that names the field."""

from __future__ import annotations

import json

import pytest

from rag.cli import main


def test_search_gives_what_the_cli_gives(client, index_dir, capsys):
    response = client.post("/v1/search", json={"query": "À quelle heure ouvre le fournil ?", "k": 2})
    assert response.status_code == 200
    body = response.json()
    assert len(body["hits"]) == 2 and body["hits"][0]["source"] == "fournil.md"
    assert main(["search", "À quelle heure ouvre le fournil ?", "--k", "2", "--index", str(index_dir), "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert set(cli) == set(body) and [h["chunk_id"] for h in cli["hits"]] == [h["chunk_id"] for h in body["hits"]]
    assert set(cli["hits"][0]) == set(body["hits"][0])


def test_filters_restrict_the_hits(client):
    doc_id = client.get("/v1/documents").json()["documents"][1]["doc_id"]
    by_source = client.post("/v1/search", json={"query": "heures", "k": 5, "filters": {"sources": ["marche*"]}})
    assert {h["source"] for h in by_source.json()["hits"]} == {"marche.txt"}
    by_id = client.post("/v1/search", json={"query": "heures", "k": 5, "filters": {"doc_ids": [doc_id]}})
    assert {h["doc_id"] for h in by_id.json()["hits"]} == {doc_id}
    none = client.post("/v1/search", json={"query": "heures", "filters": {"sources": ["nulle-part/*"]}})
    assert none.status_code == 200 and none.json()["hits"] == []


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"query": "  "}, "empty_query", "query"),
        ({}, "invalid_request", "query"),
        ({"query": "pain", "k": 0}, "k_out_of_range", "k"),
        ({"query": "pain", "k": 1000}, "k_out_of_range", "k"),
        ({"query": "pain", "k": 2.5}, "invalid_request", "k"),
        ({"query": "pain", "kk": 3}, "invalid_request", "kk"),
        ({"query": ["pain"]}, "invalid_request", "query"),
        ({"query": "pain", "filters": {"sources": "*.pdf"}}, "invalid_request", "filters.sources"),
    ],
)
def test_bad_searches_are_400_with_what_was_wrong(client, body, code, param):
    response = client.post("/v1/search", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["code"], error["param"]) == (code, param) and error["message"]
