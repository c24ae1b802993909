"""The load test: 20 concurrent searches and 4 concurrent questions (extractive answers) while
an upload is ingested, against the live server on a loopback port: no 5xx, every answer well
formed, the upload searchable afterwards. Bounded: two rounds, a timeout on every call."""

from __future__ import annotations

import httpx

from eval.bench_api import UPLOAD, answer_problem, percentile, run_load
from rag.server import create_app, running
from rag.service import RagService
from tests.rag.server.conftest import DOCS, QUESTION, server_settings

QUERIES = [QUESTION, "Combien coûte l'entrée du musée ?", "Quand se tient le marché ?", "pain au levain"]


def test_searches_and_questions_during_an_ingestion(hashing_index):
    index_dir = hashing_index(DOCS)
    settings = server_settings(index_dir)  # llm.name = none: extractive answers
    with running(create_app(settings, service=RagService.open(index_dir, settings=settings))) as url:
        report = run_load(url, QUERIES, searches=20, questions=4, rounds=2, upload=UPLOAD, timeout=60)
        summary = report.summary()
        assert summary["server_errors"] == 0 and not summary["problems"], summary
        assert summary["by_kind"]["search"]["statuses"] == {"200": 40}
        assert summary["by_kind"]["question"]["statuses"] == {"200": 8}
        assert report.job["status"] == "succeeded" and summary["requests_per_second"] > 0
        hits = httpx.post(f"{url}/v1/search", json={"query": "Fournil des Coteaux", "k": 3}).json()["hits"]
        assert UPLOAD.name in {h["source"] for h in hits}


def test_answer_problems_are_named():
    good = {
        "choices": [{"message": {"content": "Il ouvre à sept heures [1]."}}],
        "abstained": False,
        "abstain_reason": None,
        "citations": [{"number": 1, "span": [0, 5], "text": "Il ouvre à sept heures."}],
    }
    assert answer_problem(good) is None
    assert "not in the text" in answer_problem({**good, "citations": [{**good["citations"][0], "number": 2}]})
    assert answer_problem({**good, "abstained": True}) == "a refusal without its reason"
    assert answer_problem({"choices": []}).startswith("malformed")


def test_percentiles_by_nearest_rank():
    values = [float(v) for v in range(1, 21)]
    assert (percentile(values, 50), percentile(values, 95), percentile([], 50)) == (10.0, 19.0, 0.0)
