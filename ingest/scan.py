"""Find the files to ingest under the given paths, safely.

Follows directory symlinks but never twice into the same real directory (a symlink
loop is reported, not followed forever). Hidden files and folders (``.git``, ``.DS_Store``)
are ignored. Reading and judging file contents is the readers' job, not this module's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ingest.report import FileOutcome


@dataclass(frozen=True)
class FoundFile:
    path: Path
    root: Path
    source: str  # path relative to root, POSIX separators


def scan(paths: list[Path], supported: frozenset[str]) -> tuple[list[FoundFile], list[FileOutcome]]:
    """Files with a supported suffix, and outcomes for everything that was passed over."""
    found: list[FoundFile] = []
    problems: list[FileOutcome] = []
    seen_files: set[str] = set()
    for given in paths:
        path = Path(given).expanduser()
        if not path.exists() and not path.is_symlink():
            problems.append(FileOutcome(str(given), "failed", "no such file or directory"))
            continue
        if path.is_file() or (path.is_symlink() and not path.is_dir()):
            root = path.parent.resolve()
            candidates = [(path, path.name)]
        else:
            root = path.resolve()
            candidates = list(_walk(root, problems))
        for file_path, source in candidates:
            outcome = _judge(file_path, source, supported)
            if outcome is not None:
                problems.append(outcome)
                continue
            real = os.path.realpath(file_path)
            if real in seen_files:
                continue  # the same file reached twice (overlapping arguments or a file symlink)
            seen_files.add(real)
            found.append(FoundFile(Path(file_path), root, source))
    return found, problems


def _walk(root: Path, problems: list[FileOutcome]):
    visited: set[tuple[int, int]] = set()

    def on_error(error: OSError) -> None:
        where = os.path.relpath(error.filename, root) if error.filename else str(root)
        problems.append(FileOutcome(where, "failed", f"cannot list folder: {error.strerror}"))

    for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=on_error):
        stat = os.stat(dirpath)
        key = (stat.st_dev, stat.st_ino)
        if key in visited:
            rel = os.path.relpath(dirpath, root)
            problems.append(FileOutcome(rel, "skipped", "symbolic link loop (folder already visited)"))
            dirnames[:] = []
            continue
        visited.add(key)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            full = Path(dirpath) / name
            yield full, Path(os.path.relpath(full, root)).as_posix()


def _judge(path: Path, source: str, supported: frozenset[str]) -> FileOutcome | None:
    if path.is_symlink() and not path.exists():
        return FileOutcome(source, "failed", "broken symbolic link")
    if not path.is_file():
        return FileOutcome(source, "skipped", "not a regular file")
    suffix = path.suffix.lower()
    if suffix not in supported:
        kinds = ", ".join(sorted(supported))
        return FileOutcome(source, "skipped", f"unsupported file type '{suffix or '(none)'}' (supported: {kinds})")
    return None
