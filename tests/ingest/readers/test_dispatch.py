"""Reading one file: its identity (content hash, relative source), the suffix dispatch, and every
refusal as a ReadError with a reason."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import pytest

from ingest.readers import SUPPORTED_SUFFIXES, read_document
from rag.errors import MissingDependencyError
from tests.ingest.readers.files import expect_error, read, write


def test_doc_id_is_a_content_hash(tmp_path):
    a = write(tmp_path, "a.txt", "Bonjour\n")
    b = write(tmp_path, "sub/b.txt", "Bonjour\n")
    c = write(tmp_path, "c.txt", "Bonsoir\n")
    first = read(a).doc_id
    assert first == read(a).doc_id == read(b).doc_id
    assert first == hashlib.sha256(b"Bonjour\n").hexdigest()[:16]
    assert read(c).doc_id != first


def test_source_is_relative_posix_path(tmp_path):
    path = write(tmp_path, "a/b/note.md", "# Titre\n")
    assert read_document(path, tmp_path).source == "a/b/note.md"
    assert read_document(path, path).source == "note.md"  # a single file was given
    assert read_document(path, tmp_path / "elsewhere").source == "note.md"


def test_supported_suffixes():
    assert SUPPORTED_SUFFIXES == {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"} | {
        ".odt", ".odp", ".ods", ".pptx", ".epub", ".xlsx", ".xlsm", ".csv", ".tsv"
    }  # fmt: skip


def test_suffix_is_case_insensitive(tmp_path):
    assert read(write(tmp_path, "NOTE.MD", "# Titre\n")).format == "markdown"


def test_binary_file_with_txt_suffix(tmp_path):
    expect_error(write(tmp_path, "a.txt", bytes(range(256)) * 8), "binary")
    controls = bytes([1, 2, 3, 4, 5, 6, 7, 8, 0x0E, 0x0F]) * 20 + b"some text" * 10
    expect_error(write(tmp_path, "b.md", controls), "binary")


def test_empty_file(tmp_path):
    message = expect_error(write(tmp_path, "a.txt", b""), "empty")
    assert message.startswith("empty")  # the pipeline reports these as skipped
    assert expect_error(write(tmp_path, "b.md", " \n\t\n")).startswith("empty")


def test_unknown_extension(tmp_path):
    message = expect_error(write(tmp_path, "a.xyz", "texte"), "unsupported file type '.xyz'")
    assert ".pdf" in message and ".docx" in message
    expect_error(write(tmp_path, "Makefile", "all:"), "unsupported file type '(none)'")


def test_file_over_the_size_limit(tmp_path):
    path = write(tmp_path, "a.txt", "x" * 100)
    expect_error(path, "larger than the 99 bytes limit", "--max-file-mb", max_bytes=99)
    assert read(path, max_bytes=100).text == "x" * 100
    message = expect_error(write(tmp_path, "b.txt", "x" * 10), max_bytes=0)
    assert "larger than" in message


def test_default_limit_is_20_mb(tmp_path):
    big = write(tmp_path, "big.txt", b"")
    with open(big, "wb") as handle:  # sparse: no 20 MB actually written
        handle.truncate(20 * 1024 * 1024 + 1)
    expect_error(big, "larger than the 20 MB limit; raise it with --max-file-mb")


def test_folder_named_like_a_file(tmp_path):
    (tmp_path / "dossier.txt").mkdir()
    expect_error(tmp_path / "dossier.txt", "not a regular file")


def test_missing_file(tmp_path):
    expect_error(tmp_path / "absent.txt", "no such file")


def test_permission_denied(tmp_path, monkeypatch):
    path = write(tmp_path, "secret.txt", "confidentiel")
    real_open = os.open

    def denying_open(file, *args, **kwargs):
        if Path(file) == path:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", denying_open)
    expect_error(path, "permission denied")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read any file")
def test_permission_denied_for_real(tmp_path):
    path = write(tmp_path, "secret.txt", "confidentiel")
    path.chmod(0)
    try:
        expect_error(path, "permission denied")
    finally:
        path.chmod(0o644)


def test_unexpected_reader_failure_is_wrapped(tmp_path, monkeypatch):
    from ingest.readers import text

    def broken(data):
        raise RuntimeError("bug in a reader")

    monkeypatch.setattr(text, "read_text", broken)
    expect_error(write(tmp_path, "a.txt", "texte"), "could not read", "bug in a reader")


def test_missing_library_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pypdf", None)  # makes "import pypdf" fail
    with pytest.raises(MissingDependencyError, match="pypdf"):
        read(write(tmp_path, "a.pdf", b"%PDF-1.4"))
