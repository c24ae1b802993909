"""Hostile files against a real ``rag ingest``: the reason each gets, and the peak memory.

Every case of ``eval.fixtures`` is ingested in its own folder beside a good file, by a
real ``rag ingest`` subprocess whose peak resident memory is read from the kernel
(``os.wait4``). A case passes when the report gives it the expected status and reason,
the good file is added, nothing from outside the corpus is indexed (``SECRET``, the
content of /etc/passwd), the run ends (no hang) and its peak memory is under 2 GB.
Run as root, the commands run as ``nobody`` (``setpriv``) so that an unreadable file is
unreadable. The time limit per file is set to 5 s (``ingestion.read_timeout_s``) for
the page-tree bomb to show it; the default is 120 s.

    python -m eval.hostile [--bomb-mb 1024] [--markdown]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from eval.fixtures import GOOD, SECRET, Fixture, fixtures, write_corpus

REPO = Path(__file__).resolve().parents[1]
MEMORY_LIMIT_MB = 2048
TIMEOUT_S = 5
NOBODY = 65534


@dataclass
class Outcome:
    fixture: Fixture
    status: str
    reason: str
    good_added: bool
    leaked: bool
    peak_mb: float
    seconds: float
    exit_code: int

    @property
    def passed(self) -> bool:
        expected = self.status == self.fixture.status and self.fixture.word.lower() in self.reason.lower()
        return expected and self.good_added and not self.leaked and self.peak_mb < MEMORY_LIMIT_MB


def private_dir() -> Path:
    """A folder the ingesting user can use (``nobody`` when this runs as root)."""
    folder = Path(tempfile.mkdtemp(prefix="rag-hostile-"))
    folder.chmod(0o755)
    return folder


def ingest(folder: Path, index: Path, home: Path) -> tuple[dict | None, float, float, int, str]:
    """One ``rag ingest --json``: (report, peak MB, seconds, exit code, stderr)."""
    command = [
        sys.executable, "-m", "rag.cli", "--set", f"ingestion.read_timeout_s={TIMEOUT_S}",
        "ingest", str(folder), "--index", str(index), "--embedder", "hashing-64", "--json",
    ]  # fmt: skip
    drop = unprivileged()
    if drop:
        command = [*drop, *command]
        index.parent.chmod(0o777)
    env = {**os.environ, "HOME": str(home)}
    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.TemporaryDirectory() as tmp:
        peak_file = Path(tmp) / "peak"
        measured = [sys.executable, "-c", _PEAK, str(peak_file), *command]
        child = subprocess.Popen(measured, cwd=REPO, stdout=out, stderr=err, env=env)
        child.wait()
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode(errors="replace")
        peak_kb = int(peak_file.read_text()) if peak_file.exists() else 0
    try:
        report = json.loads(stdout)
    except ValueError:
        report = None
    return report, peak_kb / 1024, seconds, child.returncode, stderr


@functools.lru_cache(maxsize=1)
def unprivileged() -> tuple[str, ...]:
    """The prefix that runs a command as ``nobody`` when this process is root and ``nobody`` can
    run the project from where it is (a checkout in a private folder cannot be imported by
    ``nobody``); () otherwise: commands then run as this user."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        return ()
    prefix = ("setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups")
    probe = subprocess.run([*prefix, sys.executable, "-c", "import rag.cli"], cwd="/", capture_output=True)
    return prefix if probe.returncode == 0 else ()


# The peak memory of a command, measured by a small process that starts it: a process's
# ru_maxrss counts the memory of the process it was forked from until it execs, so a command
# started straight from a large process (a test session holding models) reads as that large.
_PEAK = """import os, subprocess, sys
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
open(sys.argv[1], "w").write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def indexed_text(index: Path) -> str:
    from rag.index import Index

    try:
        with Index.open(index) as opened:
            return "\n".join(chunk.text for _, chunk in opened.store.iter_chunks())
    except Exception:
        return ""


def run_case(fixture: Fixture, where: Path) -> Outcome | None:
    folder, index, home = where / "corpus", where / "index", where / "home"
    home.mkdir(parents=True)
    home.chmod(0o777)
    written = write_corpus(folder, where / "secret.txt", [fixture])
    if not written:
        return None
    report, peak, seconds, code, stderr = ingest(folder, index, home)
    files = {f["source"]: f for f in (report or {}).get("files", [])}
    mine = files.get(fixture.name, {"status": "missing", "reason": stderr.strip()[-200:]})
    text = indexed_text(index)
    leaked = SECRET in text or "root:x:0:0" in text
    good = files.get(GOOD, {}).get("status") == "added"
    return Outcome(fixture, mine["status"], mine.get("reason", ""), good, leaked, peak, seconds, code)


def run_all(bomb_mb: int) -> list[Outcome]:
    outcomes = []
    base = private_dir()
    try:
        for i, fixture in enumerate(fixtures(bomb_mb)):
            outcome = run_case(fixture, base / f"case-{i:02d}")
            if outcome is not None:
                outcomes.append(outcome)
    finally:
        for path in base.rglob("*"):  # the unreadable file, as root or not
            if path.is_file() and not path.is_symlink():
                path.chmod(0o644)
        shutil.rmtree(base, ignore_errors=True)
    return outcomes


def table(outcomes: list[Outcome]) -> str:
    lines = [
        "| case | file | status | reason | peak memory | time | ok |",
        "|---|---|---|---|---:|---:|---|",
    ]
    for o in outcomes:
        reason = o.reason.replace("|", "\\|") or "(added; nothing from outside indexed)"
        lines.append(
            f"| {o.fixture.why} | `{o.fixture.name}` | {o.status} | {reason} | {o.peak_mb:.0f} MB | "
            f"{o.seconds:.1f} s | {'yes' if o.passed else 'NO'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bomb-mb", type=int, default=128, help="decompressed size of the zip bombs' part")
    parser.add_argument("--markdown", action="store_true", help="print the table only")
    args = parser.parse_args(argv)
    outcomes = run_all(args.bomb_mb)
    print(table(outcomes))
    if not args.markdown:
        print(f"\n{sum(o.passed for o in outcomes)}/{len(outcomes)} cases as expected")
    return 0 if all(o.passed for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
