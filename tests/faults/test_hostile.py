"""Hostile files (``eval.fixtures``) through one real ``rag ingest``: each refused alone with its
reason, the good file added, nothing from outside the corpus indexed, peak memory under 2 GB."""

from __future__ import annotations

import os
import shutil

import pytest

from eval.fixtures import GOOD, SECRET, Fixture, _bomb, fixtures, write_corpus
from eval.hostile import MEMORY_LIMIT_MB, indexed_text, ingest, private_dir, unprivileged
from tests.faults.helpers import rag


@pytest.fixture(scope="module")
def hostile_run():
    if os.geteuid() == 0 and not unprivileged():
        pytest.skip(
            "as root, the unreadable-file case needs `nobody` to run the checkout: clone it where others can read"
        )
    base = private_dir()
    home = base / "home"
    home.mkdir()
    home.chmod(0o777)
    cases = [
        *fixtures(128),
        Fixture("bombe-1024M.docx", "1 GiB zip bomb", "failed", "zip bomb", _bomb("docx", 1 << 30)),
    ]
    written = write_corpus(base / "corpus", base / "secret.txt", cases)
    report, peak_mb, seconds, code, stderr = ingest(base / "corpus", base / "index", home)
    yield base, written, report, peak_mb, code, stderr
    for path in base.rglob("*"):
        if path.is_file() and not path.is_symlink():
            path.chmod(0o644)
    shutil.rmtree(base, ignore_errors=True)


def test_every_hostile_file_is_reported_with_its_reason(hostile_run):
    base, written, report, peak_mb, code, stderr = hostile_run
    assert report is not None, stderr
    assert code == 1 and "Traceback" not in stderr  # some files failed; the run went on
    files = {f["source"]: f for f in report["files"]}
    assert files[GOOD]["status"] == "added"
    wrong = [
        (case.name, files.get(case.name))
        for case in written
        if case.name not in files
        or files[case.name]["status"] != case.status
        or case.word.lower() not in files[case.name]["reason"].lower()
    ]
    assert not wrong, wrong


def test_nothing_from_outside_the_corpus_is_indexed(hostile_run):
    base = hostile_run[0]
    text = indexed_text(base / "index")
    assert "fournil" in text  # the good file is there
    assert SECRET not in text and "root:x:0:0" not in text


def test_peak_memory_stays_under_2_gb(hostile_run):
    assert hostile_run[3] < MEMORY_LIMIT_MB


def test_follow_symlinks_follows_links_out_of_the_folder(tmp_path):
    corpus, secret = tmp_path / "corpus", tmp_path / "secret.txt"
    write_corpus(corpus, secret, [])
    (corpus / "lien.txt").symlink_to(secret)
    done = rag("ingest", str(corpus), "--index", str(tmp_path / "i1"), "--embedder", "hashing-64")
    assert done.returncode == 0 and "outside the ingested folder" in done.stdout
    done = rag("ingest", str(corpus), "--index", str(tmp_path / "i2"), "--embedder", "hashing-64", "--follow-symlinks")
    assert done.returncode == 0 and "2 added" in done.stdout
    assert SECRET in indexed_text(tmp_path / "i2")
