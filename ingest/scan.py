"""Find the files to ingest under the given paths, safely.

Symbolic links are followed inside an ingested folder, never out of it (like git and
ripgrep): a link to ``/etc/passwd`` or to ``/etc`` is reported, not read, unless
``follow_symlinks``. A real directory is never entered twice (a symlink loop is reported,
not followed forever). Pipes, sockets and devices are reported, never opened. A name that
is not valid UTF-8 or holds control characters (a newline) is reported, shown escaped,
and the run goes on. Hidden files and folders (``.git``, ``.DS_Store``) are ignored.
Reading and judging file contents is the readers' job, not this module's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ingest.report import FileOutcome, printable


@dataclass(frozen=True)
class FoundFile:
    path: Path
    root: Path
    source: str  # path relative to root, POSIX separators


OUTSIDE = "symbolic link to {what} outside the ingested folder: not followed (--follow-symlinks follows it)"


def scan(
    paths: list[Path], supported: frozenset[str], follow_symlinks: bool = False
) -> tuple[list[FoundFile], list[FileOutcome]]:
    """Files with a supported suffix, and outcomes for everything that was passed over."""
    found: list[FoundFile] = []
    problems: list[FileOutcome] = []
    seen_files: set[str] = set()
    for given in paths:
        path = Path(given).expanduser()
        if not path.exists() and not path.is_symlink():
            problems.append(FileOutcome(printable(str(given)), "failed", "no such file or directory"))
            continue
        if not path.is_dir():  # a file named on the command line is read, link or not
            root = path.parent.resolve()
            candidates = [(path, path.name)]
        else:
            root = path.resolve()
            candidates = list(_walk(root, problems, follow_symlinks))
        for file_path, source in candidates:
            outcome = _judge(file_path, source, supported, None if file_path is path or follow_symlinks else root)
            if outcome is not None:
                problems.append(outcome)
                continue
            real = os.path.realpath(file_path)
            if real in seen_files:
                continue  # the same file reached twice (overlapping arguments or a file symlink)
            seen_files.add(real)
            found.append(FoundFile(Path(file_path), root, source))
    return found, problems


def _inside(path: str | Path, root: Path) -> bool:
    real = os.path.realpath(path)
    return real == str(root) or real.startswith(str(root).rstrip(os.sep) + os.sep)


def _walk(root: Path, problems: list[FileOutcome], follow_symlinks: bool):
    visited: set[tuple[int, int]] = set()

    def on_error(error: OSError) -> None:
        where = os.path.relpath(error.filename, root) if error.filename else str(root)
        problems.append(FileOutcome(printable(where), "failed", f"cannot list folder: {error.strerror}"))

    for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=on_error):
        rel = os.path.relpath(dirpath, root)
        try:
            stat = os.stat(dirpath)
        except OSError as exc:
            problems.append(FileOutcome(printable(rel), "failed", f"cannot list folder: {exc.strerror}"))
            dirnames[:] = []
            continue
        key = (stat.st_dev, stat.st_ino)
        if key in visited:
            problems.append(FileOutcome(printable(rel), "skipped", "symbolic link loop (folder already visited)"))
            dirnames[:] = []
            continue
        visited.add(key)
        kept = []
        for name in sorted(d for d in dirnames if not d.startswith(".")):
            full = os.path.join(dirpath, name)
            if os.path.islink(full) and not follow_symlinks and not _inside(full, root):
                source = Path(os.path.relpath(full, root)).as_posix()
                problems.append(FileOutcome(printable(source), "skipped", OUTSIDE.format(what="a folder")))
                continue
            kept.append(name)
        dirnames[:] = kept
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            full = Path(dirpath) / name
            yield full, Path(os.path.relpath(full, root)).as_posix()


def _judge(path: Path, source: str, supported: frozenset[str], root: Path | None) -> FileOutcome | None:
    """Why ``path`` is passed over, or None; ``root``: links must stay inside it."""
    shown = printable(source)
    if path.is_symlink() and not path.exists():
        return FileOutcome(shown, "failed", "broken symbolic link (or a symbolic link loop)")
    if path.is_symlink() and root is not None and not _inside(path, root):
        return FileOutcome(shown, "skipped", OUTSIDE.format(what="a file"))
    if not path.is_file():
        return FileOutcome(shown, "skipped", "not a regular file (a pipe, socket or device): not read")
    suffix = path.suffix.lower()
    if suffix not in supported:
        kinds = ", ".join(sorted(supported))
        return FileOutcome(shown, "skipped", f"unsupported file type '{suffix or '(none)'}' (supported: {kinds})")
    if shown != source:
        what = "is not valid UTF-8" if any(0xDC80 <= ord(c) <= 0xDCFF for c in source) else "holds control characters"
        return FileOutcome(shown, "failed", f"file name {what}; rename the file to ingest it")
    return None
