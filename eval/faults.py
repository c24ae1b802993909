"""Crash safety, measured: real ``rag`` processes killed with SIGKILL at random moments.

Each trial starts one real command in a subprocess, kills it with ``kill -9`` and checks
what a user would find:

- ``first``: ``rag ingest`` into an empty folder (no previous index);
- ``incremental``: ``rag ingest`` after one file of an indexed corpus changed and one was added;
- ``remove``: ``rag remove`` of one indexed document.

Half of the trials kill within 10 ms of the store file appearing (``chunks.sqlite`` for a
first run, the WAL ``chunks.sqlite-wal`` otherwise: the writer's first write), polled for;
the others after a random delay up to the command's own duration. After the kill:

1. the index opens (``rag index info``; after a first run, "no index yet" is also fine);
2. search works (``rag search``);
3. nothing indexed before the killed run is lost (every document other than the changed
   or removed one, with its chunks);
4. the next plain ``rag ingest`` (never ``--rebuild``) completes and the index then has the
   reference chunk count (a fresh ingestion of the same files) and its search files.

"lost" counts the trials where 3 failed, or where the next run completed with another
chunk count; "next ingest failed" those where it did not complete (a bricked index).

A trial "needed repair" when the kill left something for the next run to finish (a
current search file or manifest missing, staged vectors): passed all the same. Ingestion
uses the hashing embedder (``--embedder hashing-64``) so that a trial takes about a second;
the crash paths (store, lock, derived files) are the same for every embedder.

    python -m eval.faults --trials 50 [--seed 0] [--json OUT]
    python -m eval.faults --injection [--llm none|obedient|default]   (the prompt-injection set)
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EMBEDDER = "hashing-64"
KINDS = ("first", "incremental", "remove")
QUERY = "Quel fournil cuit le pain de seigle ?"


@dataclass
class Trial:
    kind: str
    mode: str  # "store" (within 10 ms of the store file appearing) or "random"
    delay_ms: float
    killed: bool = False  # the command was still running when killed
    opens: bool = False
    searched: bool = False
    lost: list[str] = field(default_factory=list)
    next_ok: bool = False
    next_exit: int | None = None
    chunks: int = 0
    repaired: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.opens and self.searched and not self.lost and self.next_ok and not self.problems


def rag(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """One ``rag`` command of this checkout, run as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "rag.cli", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout
    )


def make_corpus(root: Path, n_files: int = 30, tag: str = "doc") -> None:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n_files):
        sentences = " ".join(
            f"Le fournil {tag}{i} cuit le pain numéro {j} au levain de seigle, le marché {i * j} l'achète."
            for j in range(80)
        )
        (root / f"{tag}{i:02d}.txt").write_text(sentences, encoding="utf-8")


def documents(index: Path) -> dict[str, int] | None:
    """Source -> chunks of the index, or None when there is no index (yet)."""
    done = rag("index", "info", "--index", str(index), "--json")
    if done.returncode != 0:
        return None
    return {d["source"]: d["chunks"] for d in json.loads(done.stdout)["documents"]}


def _spawn(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "rag.cli", *args], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _kill(child: subprocess.Popen, trial: Trial, watch: Path, duration: float, rng: random.Random) -> None:
    started = time.monotonic()
    if trial.mode == "store":
        while not watch.exists() and child.poll() is None and time.monotonic() - started < 60:
            time.sleep(0.0002)
        pause = rng.uniform(0, 0.010)
    else:
        pause = rng.uniform(0, duration)
    time.sleep(pause)
    trial.delay_ms = round((time.monotonic() - started) * 1000, 1)
    trial.killed = child.poll() is None
    child.send_signal(signal.SIGKILL)
    child.wait()


class Bench:
    """The corpora, the reference index and the commands' durations, prepared once."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.corpus = workdir / "corpus"
        make_corpus(self.corpus)
        self.template = workdir / "template"
        self._timed(["ingest", str(self.corpus), "--index", str(self.template), "--embedder", EMBEDDER])
        self.before = documents(self.template)
        self.changed, self.removed = "doc03.txt", "doc07.txt"
        reference = workdir / "reference"
        self.after = self._incremental_corpus(workdir / "corpus-after")
        self._timed(["ingest", str(self.after), "--index", str(reference), "--embedder", EMBEDDER])
        self.reference = {"first": sum(self.before.values()), "remove": sum(self.before.values())}
        self.reference["incremental"] = sum(documents(reference).values())
        self.duration = {}
        for kind in KINDS:
            index, args = self.setup(kind, workdir / f"time-{kind}")
            with self.changed_corpus(kind == "incremental"):
                self.duration[kind] = self._timed(args)

    def _timed(self, args: list[str]) -> float:
        started = time.monotonic()
        done = rag(*args)
        if done.returncode != 0:
            raise RuntimeError(f"rag {' '.join(args)} failed:\n{done.stderr}")
        return time.monotonic() - started

    def _incremental_corpus(self, root: Path) -> Path:
        shutil.copytree(self.corpus, root)
        path = root / self.changed
        path.write_text(path.read_text(encoding="utf-8") + " Une phrase ajoutée change ce fichier.", "utf-8")
        make_corpus(root, 2, tag="new")
        return root

    def setup(self, kind: str, where: Path) -> tuple[Path, list[str]]:
        """The index and the command of a trial of this kind, in a fresh folder ``where``.
        An incremental trial runs while ``changed_corpus`` holds the changed files."""
        where.mkdir(parents=True)
        index = where / "index"
        if kind == "first":
            return index, ["ingest", str(self.corpus), "--index", str(index), "--embedder", EMBEDDER]
        shutil.copytree(self.template, index)
        if kind == "remove":
            return index, ["remove", self.removed, "--index", str(index)]
        return index, ["ingest", str(self.corpus), "--index", str(index), "--embedder", EMBEDDER]

    def trial(self, number: int, kind: str, mode: str, rng: random.Random) -> Trial:
        trial = Trial(kind, mode, 0.0)
        where = self.workdir / f"trial-{number:03d}-{kind}"
        index, args = self.setup(kind, where)
        watch = index / ("chunks.sqlite" if kind == "first" else "chunks.sqlite-wal")
        with self.changed_corpus(kind == "incremental"):
            _kill(_spawn(args), trial, watch, self.duration[kind], rng)
            self.check(trial, index, kind)
        return trial

    @contextmanager
    def changed_corpus(self, changed: bool = True) -> Iterator[None]:
        """The changed files at the indexed corpus's path (its root is part of each document's
        identity), then the original ones back."""
        if not changed:
            yield
            return
        saved = self.workdir / "original-corpus"
        shutil.move(self.corpus, saved)
        shutil.copytree(self.after, self.corpus)
        try:
            yield
        finally:
            shutil.rmtree(self.corpus)
            shutil.move(saved, self.corpus)

    def check(self, trial: Trial, index: Path, kind: str) -> None:
        trial.repaired = _needs_repair(index)
        found = documents(index)
        no_index = found is None and kind == "first"
        info = rag("index", "info", "--index", str(index))
        said_none = info.returncode == 2 and "rag ingest PATH" in info.stderr and "Traceback" not in info.stderr
        trial.opens = found is not None or (no_index and said_none)  # "no index yet: create it with..."
        search = rag("search", QUERY, "--index", str(index))
        trial.searched = search.returncode == 0 or (no_index and "Traceback" not in search.stderr)
        if kind != "first":
            spared = {self.changed} if kind == "incremental" else {self.removed}
            found = found or {}
            trial.lost = sorted(s for s, n in self.before.items() if s not in spared and found.get(s) != n)
        done = rag("ingest", str(self.corpus), "--index", str(index), "--embedder", EMBEDDER)
        after = documents(index) or {}
        trial.chunks = sum(after.values())
        trial.next_exit = done.returncode
        trial.next_ok = done.returncode == 0 and trial.chunks == self.reference[kind]
        if not trial.next_ok:
            trial.problems.append(f"next ingest: exit {done.returncode}, {trial.chunks} chunks: {done.stderr[-300:]}")
        if _needs_repair(index):
            trial.problems.append("the next run left a search file or the manifest out of date")


def _needs_repair(index: Path) -> bool:
    """Whether the index lacks its current generation's search files or manifest."""
    import sqlite3

    store = index / "chunks.sqlite"
    if not store.exists():
        return False
    try:
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
            meta = dict(db.execute("SELECT key, value FROM meta"))
            staged = db.execute("SELECT COUNT(*) FROM staged_vectors").fetchone()[0]
    except sqlite3.Error:
        return True  # half-created: the next writer completes it
    if "generation" not in meta:
        return True
    generation = int(meta["generation"])
    try:
        manifest = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    files = [index / f"vectors-{generation}.faiss", index / f"keyword-{generation}.npz"]
    return bool(staged) or manifest.get("generation") != generation or not all(f.exists() for f in files)


def run_trials(n: int, seed: int = 0, workdir: Path | None = None) -> list[Trial]:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="rag-faults-") as tmp:
        bench = Bench(Path(workdir or tmp))
        plan = [(KINDS[i % len(KINDS)], "store" if (i // len(KINDS)) % 2 == 0 else "random") for i in range(n)]
        return [bench.trial(i, kind, mode, rng) for i, (kind, mode) in enumerate(plan)]


def summary(trials: list[Trial]) -> str:
    passed = sum(t.passed for t in trials)
    lines = [
        f"trials: {len(trials)}",
        f"passed: {passed}",
        f"needed repair: {sum(t.repaired for t in trials)}",
        f"lost: {sum(bool(t.lost) or (t.next_exit == 0 and not t.next_ok) for t in trials)}",
        f"next ingest failed: {sum(t.next_exit != 0 for t in trials)}",
        f"killed while running: {sum(t.killed for t in trials)}",
    ]
    for kind in KINDS:
        of_kind = [t for t in trials if t.kind == kind]
        if of_kind:
            lines.append(f"  {kind}: {sum(t.passed for t in of_kind)}/{len(of_kind)} passed")
    for t in trials:
        if not t.passed:
            lines.append(f"FAILED {t.kind} ({t.mode}, {t.delay_ms} ms): {asdict(t)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="write every trial as JSON here")
    parser.add_argument(
        "--injection", action="store_true", help="run the prompt-injection set instead (eval.injection; --llm ...)"
    )
    args, rest = parser.parse_known_args(argv)
    if args.injection:
        from eval.injection import main as injection

        return injection([*rest, *(["--json", str(args.json)] if args.json else [])])
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    started = time.monotonic()
    trials = run_trials(args.trials, args.seed)
    print(summary(trials))
    print(f"time: {time.monotonic() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps([asdict(t) for t in trials], indent=2), encoding="utf-8")
    return 0 if all(t.passed for t in trials) else 1


if __name__ == "__main__":
    sys.exit(main())
