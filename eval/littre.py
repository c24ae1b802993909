"""The Littré (Émile Littré's French dictionary, 1863-1877) as plain-text entries, for the
scale benchmark (``eval.bench_scale``): real French text, about 100 MB, public domain.

It comes from Debian's ``stardict-xmlittre`` package, downloaded with ``apt-get download``
and unpacked with ``dpkg-deb -x`` into a cache folder (never installed, never copied into
the repository). A StarDict dictionary is three files: ``.ifo`` (key=value header), ``.idx``
(per entry: the headword, a NUL, then its offset and size in ``.dict`` as two big-endian
32-bit integers) and ``.dict`` or ``.dict.dz`` (gzip/dictzip: readable with ``gzip``). The
entries are Pango markup (``<b>``, ``<i>``, ``<big>``...), stripped here to text.
"""

from __future__ import annotations

import gzip
import html
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "stardict-xmlittre"
_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"[ \t]+")
_BLANKS = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class Entry:
    headword: str
    text: str  # the headword's line, then the article, markup stripped


class LittreUnavailable(RuntimeError):
    """The dictionary is not in the cache and cannot be fetched here."""


def dictionary_files(cache: Path) -> tuple[Path, Path]:
    """The ``.idx`` and ``.dict(.dz)`` files under ``cache``, fetched and unpacked when missing."""
    found = _find(cache)
    if found:
        return found
    debs = sorted(cache.glob(f"{PACKAGE}_*.deb")) or sorted(Path("/tmp").glob(f"{PACKAGE}_*.deb"))
    if not debs:
        debs = [_download(cache)]
    if shutil.which("dpkg-deb") is None:
        raise LittreUnavailable(f"dpkg-deb is needed to unpack {debs[-1]} (Debian/Ubuntu's dpkg package).")
    subprocess.run(["dpkg-deb", "-x", str(debs[-1]), str(cache / "littre-deb")], check=True)
    found = _find(cache)
    if not found:
        raise LittreUnavailable(f"{debs[-1]} holds no StarDict .idx/.dict files.")
    return found


def _find(cache: Path) -> tuple[Path, Path] | None:
    for idx in sorted(cache.glob("littre-deb/usr/share/stardict/dic/*.idx")):
        for suffix in (".dict.dz", ".dict"):
            data = idx.with_suffix(suffix)
            if data.exists():
                return idx, data
    return None


def _download(cache: Path) -> Path:
    if shutil.which("apt-get") is None:
        raise LittreUnavailable(
            f"The Littré comes from Debian's {PACKAGE} package, and apt-get is not available here. "
            f"Download {PACKAGE}_*.deb (https://packages.debian.org/{PACKAGE}) into {cache} and run again."
        )
    cache.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["apt-get", "download", PACKAGE], cwd=cache, capture_output=True, text=True)
    debs = sorted(cache.glob(f"{PACKAGE}_*.deb"))
    if done.returncode or not debs:
        raise LittreUnavailable(
            f"`apt-get download {PACKAGE}` failed ({done.stderr.strip() or done.returncode}); "
            f"an `apt-get update` may be needed, or put the .deb in {cache} by hand."
        )
    return debs[-1]


def read_stardict(idx: Path, data: Path) -> list[tuple[str, bytes]]:
    """(headword, raw article bytes) for every entry, in the dictionary's order."""
    index = idx.read_bytes()
    body = gzip.open(data).read() if data.suffix == ".dz" else data.read_bytes()
    entries, pos = [], 0
    while pos < len(index):
        end = index.index(b"\0", pos)
        offset, size = struct.unpack(">II", index[end + 1 : end + 9])
        entries.append((index[pos:end].decode("utf-8"), body[offset : offset + size]))
        pos = end + 9
    return entries


def strip_markup(markup: str) -> str:
    """Pango/HTML markup to text: tags removed, entities decoded, lines trimmed, paragraphs
    (blank lines) kept since the chunker cuts at them."""
    text = html.unescape(_TAG.sub("", markup.replace("<br>", "\n").replace("<br/>", "\n")))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def entries(cache: Path) -> list[Entry]:
    """Every entry of the Littré as text (about 123,000)."""
    found = []
    for headword, raw in read_stardict(*dictionary_files(cache)):
        text = strip_markup(raw.decode("utf-8", errors="replace"))
        if text:
            found.append(Entry(headword, f"{headword} {text}"))
    return found
