"""The collection over HTTP: upload -> job -> searchable -> delete, the upload rules of the web
interface as 4xx errors, jobs and documents that do not exist, the index, a server started
before its index."""

from __future__ import annotations

import os
import time

import pytest

from rag.uploads import uploads_dir
from tests.rag.server.conftest import server_settings

LYON = "Le train pour Lyon part à huit heures du quai trois.".encode()


def wait_for(client, job: dict) -> dict:
    for _ in range(500):
        job = client.get(f"/v1/jobs/{job['id']}").json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.02)
    raise AssertionError(f"job still {job['status']}")


def upload(client, *files, **form):
    return client.post("/v1/documents", files=[("files", f) for f in files], data=form)


def test_upload_job_searchable_then_delete(client, index_dir):
    response = upload(client, ("../gare lyon.txt", LYON, "text/plain"))
    assert response.status_code == 202 and response.headers["location"] == f"/v1/jobs/{response.json()['id']}"
    job = wait_for(client, response.json())
    assert job["status"] == "succeeded" and job["error"] is None
    assert job["files"] == [
        {"name": "../gare lyon.txt", "source": "gare_lyon.txt", "bytes": len(LYON), "replaced": False}
    ]
    assert job["report"]["counts"]["added"] == 1 and job["progress"]["stage"] == "indexing"
    hits = client.post("/v1/search", json={"query": "train pour Lyon", "k": 1}).json()["hits"]
    assert hits[0]["source"] == "gare_lyon.txt"
    listed = {d["source"]: d for d in client.get("/v1/documents").json()["documents"]}
    assert set(listed) == {"fournil.md", "musee.txt", "marche.txt", "gare_lyon.txt"}
    assert (uploads_dir(index_dir) / "gare_lyon.txt").read_bytes() == LYON

    gone = client.delete(f"/v1/documents/{listed['gare_lyon.txt']['doc_id']}")
    assert gone.status_code == 200 and gone.json()["deleted"] and gone.json()["source"] == "gare_lyon.txt"
    assert not (uploads_dir(index_dir) / "gare_lyon.txt").exists()  # the managed copy goes too
    hits = client.post("/v1/search", json={"query": "train pour Lyon", "k": 5}).json()["hits"]
    assert "gare_lyon.txt" not in {h["source"] for h in hits}
    assert client.delete("/v1/documents/marche.txt").status_code == 200  # by source, too
    assert client.delete("/v1/documents/marche.txt").json()["error"]["code"] == "document_not_found"


def test_a_file_that_cannot_be_read_fails_its_job_and_leaves_nothing(client, index_dir):
    job = wait_for(client, upload(client, ("rapport.pdf", b"%PDF-1.4 not really", "application/pdf")).json())
    assert job["status"] == "failed" and "rapport.pdf" in job["error"]
    assert not (uploads_dir(index_dir) / "rapport.pdf").exists()


def test_the_same_name_gets_a_number_unless_replace(client):
    first = wait_for(client, upload(client, ("notes.txt", b"Le marche du jeudi.", "text/plain")).json())
    second = wait_for(client, upload(client, ("notes.txt", b"La foire du vendredi.", "text/plain")).json())
    assert (first["files"][0]["source"], second["files"][0]["source"]) == ("notes.txt", "notes-2.txt")
    third = upload(client, ("notes.txt", b"La fete du samedi.", "text/plain"), replace="true").json()
    assert third["files"][0]["replaced"] and wait_for(client, third)["report"]["counts"]["updated"] == 1


@pytest.mark.parametrize(
    ("files", "status", "code"),
    [
        ([("virus.exe", b"MZ", "application/octet-stream")], 415, "file_type"),
        ([("sans-extension", b"x", "text/plain")], 415, "file_type"),
        ([("ok.txt", b"du texte", "text/plain"), ("x.sh", b"rm", "text/plain")], 415, "file_type"),
        ([("gros.txt", b"x" * (1024 * 1024 + 1), "text/plain")], 413, "file_size"),
        ([("vide.txt", b"", "text/plain")], 400, "file_empty"),
    ],
)
def test_refused_uploads_say_why_and_save_nothing(make_client, index_dir, files, status, code):
    client = make_client(**{"ui.max_upload_mb": 1})
    response = upload(client, *files)
    assert response.status_code == status and response.json()["error"]["code"] == code
    assert response.json()["error"]["message"].startswith(files[-1][0])
    assert not uploads_dir(index_dir).exists() or not list(uploads_dir(index_dir).iterdir())


def test_malformed_uploads(make_client):
    client = make_client(**{"server.max_upload_files": 2})
    assert client.post("/v1/documents", json={"files": []}).json()["error"]["code"] == "not_multipart"
    no_file = client.post("/v1/documents", files={"other": ("a.txt", b"x")})
    assert no_file.status_code == 400 and no_file.json()["error"]["code"] == "no_file"
    three = upload(client, *[(f"{i}.txt", b"x", "text/plain") for i in range(3)])
    assert three.status_code == 400 and three.json()["error"]["code"] == "invalid_multipart"
    huge = client.post(
        "/v1/documents",
        content=b"x",
        headers={"content-length": str(10**9), "content-type": "multipart/form-data; boundary=x"},
    )
    assert huge.status_code == 413


def test_unknown_jobs_and_documents_are_404(client):
    assert client.get("/v1/jobs/0123456789abcdef").json()["error"]["code"] == "job_not_found"
    response = client.delete("/v1/documents/nothing-here")
    assert response.status_code == 404 and response.json()["error"]["code"] == "document_not_found"


def test_index_information(client):
    info = client.get("/v1/index").json()
    assert info["embedder"]["id"] == "hashing-bow-128" and info["stats"]["documents"] == 3
    assert len(info["documents"]) == 3 and info["generation"] == 1


def test_a_server_started_without_an_index_creates_it_from_an_upload(tmp_path):
    from fastapi.testclient import TestClient

    from rag.server import create_app

    with TestClient(create_app(server_settings(tmp_path / "new-index"))) as client:
        for _ in range(100):  # the warm-up thread finds no index
            if client.get("/readyz").json()["status"] != "starting":
                break
            time.sleep(0.02)
        not_ready = client.get("/readyz")
        assert not_ready.status_code == 503 and "upload documents" in not_ready.json()["reason"]
        assert client.get("/v1/documents").json() == {"documents": []}
        search = client.post("/v1/search", json={"query": "train"})
        assert search.status_code == 503 and search.json()["error"]["code"] == "no_index"
        assert client.get("/v1/index").status_code == 503
        job = wait_for(client, upload(client, ("gare.txt", LYON, "text/plain")).json())
        assert job["status"] == "succeeded"
        assert client.get("/readyz").json()["status"] == "ready"
        assert client.post("/v1/search", json={"query": "train"}).json()["hits"][0]["source"] == "gare.txt"


def test_while_another_process_writes_a_delete_is_409_and_an_upload_waits_its_turn(client, index_dir):
    """A `rag ingest` holding the index's lock: a removal says so at once, an upload's job says
    it waits, then runs when the lock is released; never a 500."""
    from rag.index.lock import acquire, release

    handle = acquire(index_dir)
    try:
        locked = client.delete("/v1/documents/marche.txt")
        assert locked.status_code == 409 and locked.json()["error"]["code"] == "index_locked"
        assert f"(process {os.getpid()}) is writing" in locked.json()["error"]["message"]
        job = upload(client, ("gare.txt", LYON, "text/plain")).json()
        for _ in range(500):
            job = client.get(f"/v1/jobs/{job['id']}").json()
            if job["progress"]["stage"] == "waiting":
                break
            time.sleep(0.02)
        assert job["status"] == "running" and job["progress"]["stage"] == "waiting", job
    finally:
        release(handle)
    assert wait_for(client, job)["status"] == "succeeded"
    assert client.delete("/v1/documents/marche.txt").status_code == 200
