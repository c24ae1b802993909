"""eval.hostile measures the peak memory of the ``rag ingest`` it starts, not of the process
that started it (ru_maxrss counts the parent's memory until the child execs)."""

from __future__ import annotations

import shutil

import numpy as np

from eval.hostile import ingest, private_dir


def test_the_peak_is_the_commands_own_even_from_a_large_parent():
    ballast = np.ones(400 * 2**20, dtype=np.uint8)  # 400 MB resident in this process
    base = private_dir()  # readable by the unprivileged user the command runs as under root
    corpus, home = base / "corpus", base / "home"
    corpus.mkdir()
    home.mkdir()
    home.chmod(0o777)
    (corpus / "a.txt").write_text("Le fournil ouvre à sept heures.", encoding="utf-8")
    (corpus / "a.txt").chmod(0o644)
    corpus.chmod(0o755)
    try:
        report, peak_mb, _, code, stderr = ingest(corpus, base / "index", home)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    assert code == 0 and report is not None, stderr
    assert 10 < peak_mb < 300, peak_mb
    assert ballast.sum() == ballast.size
