"""Uploaded files, the rules the two doors that accept them share (the web interface and the
HTTP API): supported types, a size limit, safe names, a managed folder inside the index
directory, no silent overwrite.

A browser sends a file name the server must not trust (``../../etc/passwd``, ``C:\\x\\y.pdf``,
``.hidden.md``, control characters). ``safe_filename`` keeps the base name only, in safe
characters, with a supported suffix; ``check_upload`` adds the size rules; ``save_upload``
writes it under ``<index>/uploads/`` without replacing another document unless asked to, and
never outside that folder. ``ingest_saved`` ingests what was saved through the façade and
deletes the copies that could not be ingested, so the folder stays in step with the index.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from rag.errors import RagError
from rag.service import supported_suffixes
from rag.settings import Settings

UPLOADS_DIR = "uploads"
MAX_UPLOAD_MB = 20
MAX_NAME_CHARS = 100
_UNSAFE = re.compile(r"[^\w.-]+", re.UNICODE)


class UploadError(ValueError):
    """An uploaded file that cannot be accepted; the message (French) says why, ``kind`` what
    rule it broke: "type", "size" or "empty"."""

    def __init__(self, message: str, kind: str = "name"):
        super().__init__(message)
        self.kind = kind


def uploads_dir(index_dir: Path | str) -> Path:
    return Path(index_dir) / UPLOADS_DIR


def safe_filename(name: str) -> str:
    """The base name of ``name`` in safe characters (letters, digits, ``- _ .``), suffix lower-cased.

    Raises UploadError when the type is not supported.
    """
    base = unicodedata.normalize("NFC", name).replace("\\", "/").split("/")[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C")  # control characters
    stem, suffix = os.path.splitext(base)
    suffix = suffix.lower()
    if suffix not in supported_suffixes():
        kinds = ", ".join(sorted(supported_suffixes()))
        message = f"type de fichier non pris en charge « {suffix or '(aucun)'} » (acceptés : {kinds})"
        raise UploadError(message, "type")
    stem = _UNSAFE.sub("-", stem.replace(" ", "_"))
    stem = re.sub(r"-{2,}", "-", stem).strip("._-")[:MAX_NAME_CHARS] or "document"
    return stem + suffix


def check_upload(name: str, size: int, max_mb: float = MAX_UPLOAD_MB) -> str:
    """The safe name of a file of ``size`` bytes called ``name``; UploadError when its type,
    its size (over ``max_mb``) or its emptiness refuses it."""
    if size > max_mb * 1024 * 1024:
        raise UploadError(f"fichier de plus de {max_mb:g} Mo", "size")
    if not size:
        raise UploadError("fichier vide", "empty")
    return safe_filename(name)


def _numbered(name: str, i: int) -> str:
    stem, suffix = os.path.splitext(name)
    return f"{stem}-{i}{suffix}"


@dataclass(frozen=True)
class Saved:
    path: Path
    source: str  # the name the document will have in the index
    replaced: bool  # an earlier upload of the same name was replaced


def save_upload(
    index_dir: Path | str,
    name: str,
    data: bytes,
    taken_sources: set[str],
    replace: bool = False,
    max_mb: float = MAX_UPLOAD_MB,
) -> Saved:
    """Write ``data`` as ``<index_dir>/uploads/<safe name>``.

    ``taken_sources`` are the sources already in the index. A name already used by a
    document from elsewhere, or by an earlier upload when ``replace`` is false, gets a
    number (``rapport-2.pdf``): nothing is overwritten by surprise.
    """
    base = check_upload(name, len(data), max_mb)
    folder = uploads_dir(index_dir)
    folder.mkdir(parents=True, exist_ok=True)
    candidate, i = base, 1
    while True:
        path = folder / candidate
        ours = path.is_file() and not path.is_symlink()
        if ours and replace:
            break
        if not path.exists() and not path.is_symlink() and candidate not in taken_sources:
            break
        i += 1
        candidate = _numbered(base, i)
    if path.resolve().parent != folder.resolve():  # belt and braces: safe_filename has no separator
        raise UploadError("nom de fichier refusé")
    replaced = path.exists()
    tmp = folder / f".{candidate}.part"
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return Saved(path, candidate, replaced)


def delete_upload(index_dir: Path | str, root: str, source: str) -> bool:
    """Delete the managed copy of an uploaded document (only inside the uploads folder)."""
    folder = uploads_dir(index_dir).resolve()
    if Path(root).resolve() != folder:
        return False
    path = (folder / source).resolve()
    if path.parent != folder or not path.is_file():
        return False
    path.unlink()
    return True


INGESTED = ("added", "updated", "unchanged")


def ingest_saved(saved: list[Saved], settings: Settings, embedder=None, progress=None):
    """Ingest the files ``save_upload`` wrote into the index ``settings`` names (other documents
    stay: no pruning); returns the ``IngestReport``. A file that could not be ingested loses its
    managed copy unless it replaced an earlier upload; a RagError (the index is locked...)
    takes every new copy with it before it is raised. ``progress``: as ``rag.service.ingest`` takes it;
    while another process (a ``rag ingest``) writes the index, it waits its turn, reported to
    ``progress`` as the stage "waiting"."""
    from rag.service import ingest

    settings = settings.replace("ingestion.prune", False)
    try:
        report = ingest(
            [s.path for s in saved], settings, embedder=embedder, progress=progress or False, on_wait=_waiting(progress)
        )
    except RagError:
        for item in saved:
            if not item.replaced:
                item.path.unlink(missing_ok=True)
        raise
    kept = {o.source for o in report.files if o.status in INGESTED}
    for item in saved:
        if item.source not in kept and not item.replaced:
            item.path.unlink(missing_ok=True)
    return report


def _waiting(progress):
    if not callable(progress):
        return None
    return lambda pid: progress("waiting", 0, 0)
