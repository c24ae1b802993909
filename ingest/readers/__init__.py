"""Read one file from disk into a SourceDoc, dispatching on its suffix.

Each format has its own module (``text``, ``html``, ``pdf``, ``docx``, ``odf``, ``pptx``,
``epub``, ``xlsx``, ``delimited``; docs/formats.md says what each keeps) that turns the
file's bytes into text plus page and heading offsets into that exact text; this module
reads the bytes, enforces the size limit, computes the content id and the relative
source, and makes sure every failure reaches the caller as a ``ReadError`` with a reason
a person can act on. It does not walk folders (``ingest.scan``) or chunk (``ingest.chunking``).
Format modules are imported on first use, so reading a .txt never loads pypdf.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from pathlib import Path
from typing import NamedTuple

from ingest.readers.limits import (
    DEFAULT_MAX_BYTES,
    DEFAULT_READ_TIMEOUT_S,
    ZIP_FORMATS,
    ReadLimits,
    ReadTimeout,
    check_archive,
    open_regular,
    time_limit,
    timed_out,
)
from rag.errors import MissingDependencyError, ReadError
from rag.types import Heading, Page, SourceDoc

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_READ_TIMEOUT_S", "SUPPORTED_SUFFIXES", "Extracted", "ReadLimits"]

# suffix -> (module in this package, function in it, SourceDoc.format)
_READERS: dict[str, tuple[str, str, str]] = {
    ".txt": ("text", "read_text", "text"),
    ".md": ("text", "read_markdown", "markdown"),
    ".markdown": ("text", "read_markdown", "markdown"),
    ".html": ("html", "read_html", "html"),
    ".htm": ("html", "read_html", "html"),
    ".pdf": ("pdf", "read_pdf", "pdf"),
    ".docx": ("docx", "read_docx", "docx"),
    ".odt": ("odf", "read_odt", "odt"),
    ".odp": ("odf", "read_odp", "odp"),
    ".ods": ("odf", "read_ods", "ods"),
    ".pptx": ("pptx", "read_pptx", "pptx"),
    ".epub": ("epub", "read_epub", "epub"),
    ".xlsx": ("xlsx", "read_xlsx", "xlsx"),
    ".xlsm": ("xlsx", "read_xlsx", "xlsx"),
    ".csv": ("delimited", "read_csv", "csv"),
    ".tsv": ("delimited", "read_tsv", "tsv"),
}

SUPPORTED_SUFFIXES: frozenset[str] = frozenset(_READERS)


class Extracted(NamedTuple):
    """What a format module returns: offsets in ``pages`` and ``headings`` index ``text``.

    ``ocr_pages`` are the numbers of the pages whose text was recognised from an image;
    the document's format then gets "+ocr" ("pdf+ocr"), the one place a SourceDoc can say so.
    ``notes``: what the reader had to repair (invalid bytes replaced), for the report.
    """

    text: str
    pages: tuple[Page, ...] = ()
    headings: tuple[Heading, ...] = ()
    ocr_pages: tuple[int, ...] = ()
    notes: tuple[str, ...] = ()


def read_document(
    path: Path, root: Path, *, max_bytes: int | None = None, limits: ReadLimits | None = None
) -> SourceDoc:
    """Read ``path`` into a SourceDoc whose ``source`` is relative to ``root``.

    Raises ReadError (unsupported type, empty, too large, not a regular file, unreadable,
    a zip bomb, too slow, corrupt, no text) and MissingDependencyError when the library for
    this format is not installed. ``limits``: size and time (``max_bytes`` overrides its size).
    """
    limits = limits or ReadLimits()
    if max_bytes is not None:
        limits = ReadLimits(max_bytes, limits.timeout_s)
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _READERS:
        kinds = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise ReadError(f"unsupported file type '{suffix or '(none)'}' (supported: {kinds})")
    module_name, function_name, fmt = _READERS[suffix]
    data = _read_bytes(path, limits.max_bytes)
    if fmt in ZIP_FORMATS:
        check_archive(data)
    reader = getattr(importlib.import_module(f"{__name__}.{module_name}"), function_name)
    try:
        with time_limit(limits.timeout_s):
            extracted: Extracted = reader(data)
    except (ReadError, MissingDependencyError):
        raise
    except ReadTimeout:  # the alarm went off again while the first timeout was being handled
        raise timed_out(limits.timeout_s) from None
    except RecursionError as exc:
        raise ReadError(f"could not read this {fmt} file: nested too deeply") from exc
    except Exception as exc:  # a parser bug on one odd file must not stop an ingest
        raise ReadError(f"could not read this {fmt} file: {short_reason(exc)}") from exc
    return SourceDoc(
        doc_id=hashlib.sha256(data).hexdigest()[:16],
        source=_relative_source(path, root),
        text=extracted.text,
        pages=extracted.pages,
        headings=tuple(sorted(extracted.headings, key=lambda h: h.offset)),
        format=f"{fmt}+ocr" if extracted.ocr_pages else fmt,
        notes=extracted.notes,
    )


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        with open_regular(path) as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > max_bytes:
                raise ReadError(_too_large(max_bytes))
            # Read one byte past the limit: the file may have grown since fstat.
            data = handle.read(max_bytes + 1)
    except PermissionError as exc:
        raise ReadError("permission denied") from exc
    except IsADirectoryError as exc:
        raise ReadError("not a regular file (it is a folder)") from exc
    except FileNotFoundError as exc:
        raise ReadError("no such file") from exc
    except OSError as exc:
        raise ReadError(f"cannot read the file: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        raise ReadError(_too_large(max_bytes))
    if not data:
        # The pipeline reports reasons starting with "empty" as skipped, not failed.
        raise ReadError("empty file")
    return data


def _too_large(max_bytes: int) -> str:
    mb = 1024 * 1024
    limit = f"{max_bytes / mb:g} MB" if max_bytes >= mb else f"{max_bytes} bytes"
    return f"file is larger than the {limit} limit; raise it with --max-file-mb"


def _relative_source(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` with POSIX separators; the file name when not under it."""
    # abspath, not resolve: a file reached through a symlinked folder keeps the linked name.
    try:
        rel = Path(os.path.relpath(os.path.abspath(path), os.path.abspath(root)))
    except ValueError:  # different drives on Windows
        return path.name
    if rel == Path(".") or rel.parts[0] == "..":
        return path.name
    return rel.as_posix()


def short_reason(exc: BaseException, limit: int = 160) -> str:
    """One line about ``exc``, for a report: library messages can be long or multi-line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
