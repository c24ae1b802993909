"""The collection over HTTP: ``GET /v1/documents``, ``POST /v1/documents`` (multipart upload,
ingested as a background job), ``GET /v1/jobs/{id}``, ``DELETE /v1/documents/{id}``,
``GET /v1/index``.

Uploads follow the web interface's rules (``rag.uploads``: supported types, ``ui.max_upload_mb``
per file, safe names, no silent overwrite); every file of a request is checked before any is
saved, so a refused request changes nothing. Ingestion and removal run one at a time on the
server's writer thread; until a job commits, searches and questions see the index as it was.
"""

from __future__ import annotations

from asyncio import wrap_future

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from rag.serialize import document_to_json, index_to_json
from rag.server.errors import ApiError
from rag.server.jobs import Job
from rag.service import remove
from rag.uploads import UploadError, check_upload, delete_upload, ingest_saved, save_upload

router = APIRouter()
MB = 1024 * 1024
UPLOAD_STATUS = {"type": 415, "size": 413, "empty": 400}


@router.get("/v1/documents", summary="The indexed documents")
def documents(request: Request) -> dict:
    service = request.app.state.rag.service_or_none()
    return {"documents": [document_to_json(d) for d in service.documents()] if service else []}


@router.get("/v1/index", summary="The index: embedder, chunking, statistics, documents")
def index(request: Request) -> dict:
    service = request.app.state.rag.service()
    return index_to_json(service.info(), service.documents())


@router.post(
    "/v1/documents",
    status_code=202,
    summary="Upload documents (multipart field 'files'); ingested by a background job",
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["files"],
                        "properties": {
                            "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                            "replace": {"type": "boolean", "description": "replace an earlier upload of that name"},
                        },
                    }
                }
            }
        }
    },
)
async def upload(request: Request):
    state = request.app.state.rag
    max_mb, max_files = state.settings.ui.max_upload_mb, state.settings.server.max_upload_files
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_files * max_mb * MB + MB:
        raise ApiError(413, f"The request is over {max_files} files of {max_mb} MB.", "request_too_large")
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ApiError(415, "Send the files as multipart/form-data, in the field 'files'.", "not_multipart")
    try:
        form = await request.form(max_files=max_files, max_fields=8)
    except HTTPException as exc:  # too many files, a malformed body
        raise ApiError(400, str(exc.detail), "invalid_multipart") from None
    files = [value for key, value in form.multi_items() if key in ("files", "file") and isinstance(value, UploadFile)]
    if not files:
        raise ApiError(400, "No file: send them in the multipart field 'files'.", "no_file", "files")
    replace = str(form.get("replace", "")).strip().lower() in ("1", "true", "yes", "on")
    received = []
    for upload in files:
        name, data = upload.filename or "", await upload.read(max_mb * MB + 1)
        try:
            check_upload(name, len(data), max_mb)
        except UploadError as exc:
            status = UPLOAD_STATUS.get(exc.kind, 400)
            raise ApiError(status, f"{name or '(no name)'}: {exc}", f"file_{exc.kind}", "files") from None
        received.append((name, data))
    job = await run_in_threadpool(start_ingestion, state, received, replace)
    return JSONResponse(job.to_json(), status_code=202, headers={"Location": f"/v1/jobs/{job.id}"})


def start_ingestion(state, received: list[tuple[str, bytes]], replace: bool) -> Job:
    """Save the files in the managed folder and queue their ingestion."""
    service = state.service_or_none()
    taken = {d.source for d in service.documents()} if service else set()
    saved = []
    for name, data in received:
        item = save_upload(state.index_dir, name, data, taken, replace=replace, max_mb=state.settings.ui.max_upload_mb)
        taken.add(item.source)
        saved.append(item)
    files = [
        {"name": name, "source": item.source, "bytes": len(data), "replaced": item.replaced}
        for (name, data), item in zip(received, saved)
    ]

    def work(job: Job) -> dict:
        report = ingest_saved(saved, state.settings, embedder=state.embedder(), progress=job.progress)
        failed = [f"{f.source}: {f.reason}" for f in report.files if f.status == "failed"]
        if failed:
            job.error = "Not ingested: " + "; ".join(failed)
        if not state.ready:
            state.warm_up()  # this upload may have created the index
        return report.to_dict()

    return state.writer.submit(Job(files), work)


@router.get("/v1/jobs/{job_id}", summary="An ingestion job: status, progress, report")
def job(job_id: str, request: Request) -> dict:
    found = request.app.state.rag.writer.get(job_id)
    if found is None:
        raise ApiError(404, f"No job '{job_id}' (finished jobs are kept while the server runs).", "job_not_found")
    return found.to_json()


@router.delete("/v1/documents/{document_id:path}", summary="Remove a document, by id or by source")
async def delete(document_id: str, request: Request) -> dict:
    state = request.app.state.rag
    service = state.service_or_none()
    records = service.documents() if service else []
    record = next((d for d in records if document_id in (d.doc_id, d.source)), None)
    if record is None:
        raise unknown_document(document_id)

    def drop() -> bool:
        gone = remove([record.source], state.settings, wait=False)  # 409 while a `rag ingest` writes
        if gone:
            delete_upload(state.index_dir, record.root, record.source)
        return bool(gone)

    if not await wrap_future(state.writer.call(drop)):  # removed meanwhile by another request
        raise unknown_document(document_id)
    return {"id": record.doc_id, "object": "document.deleted", "deleted": True, **document_to_json(record)}


def unknown_document(document_id: str) -> ApiError:
    return ApiError(404, f"No document '{document_id}' in the index (GET /v1/documents).", "document_not_found")
