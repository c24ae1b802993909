"""What an ingestion run did, file by file, and its summary.

Pure data and formatting; the pipeline fills it in. Statuses: ``added``, ``updated``,
``unchanged``, ``removed``, ``skipped`` (deliberately not ingested: unsupported type,
empty file, duplicate) and ``failed`` (could not be ingested: the reason says why).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field

STATUSES = ("added", "updated", "unchanged", "removed", "skipped", "failed")


@dataclass(frozen=True)
class FileOutcome:
    source: str
    status: str
    reason: str = ""
    chunks: int = 0


@dataclass
class IngestReport:
    index_dir: str
    files: list[FileOutcome] = field(default_factory=list)
    chunks_total: int = 0
    chunks_embedded: int = 0
    chunks_reused: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0

    @property
    def counts(self) -> dict[str, int]:
        counts = Counter(f.status for f in self.files)
        return {status: counts.get(status, 0) for status in STATUSES}

    @property
    def chunks_new(self) -> int:
        return sum(f.chunks for f in self.files if f.status in ("added", "updated"))

    @property
    def ok(self) -> bool:
        return self.counts["failed"] == 0

    @property
    def chunks_per_second(self) -> float:
        return self.chunks_new / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict:
        return {
            "index": self.index_dir,
            "ok": self.ok,
            "counts": self.counts,
            "chunks": {
                "total": self.chunks_total,
                "new": self.chunks_new,
                "embedded": self.chunks_embedded,
                "reused": self.chunks_reused,
            },
            "seconds": round(self.seconds, 3),
            "embed_seconds": round(self.embed_seconds, 3),
            "chunks_per_second": round(self.chunks_per_second, 2),
            "files": [asdict(f) for f in self.files],
        }

    def summary(self) -> str:
        c = self.counts
        lines = [
            f"Index: {self.index_dir}",
            f"Files: {c['added']} added, {c['updated']} updated, {c['removed']} removed, "
            f"{c['unchanged']} unchanged, {c['skipped']} skipped, {c['failed']} failed",
            f"Chunks: {self.chunks_new} new ({self.chunks_embedded} embedded, {self.chunks_reused} reused), "
            f"{self.chunks_total} in the index",
            f"Time: {self.seconds:.1f} s ({self.chunks_per_second:.1f} chunks/s)",
        ]
        repaired = [f for f in self.files if f.status in ("added", "updated") and f.reason]
        if repaired:
            lines.append("Read with repairs:")
            lines += [f"  {f.status:7} {printable(f.source)}: {f.reason}" for f in repaired]
        problems = [f for f in self.files if f.status in ("skipped", "failed")]
        if problems:
            lines.append("Not ingested:")
            lines += [f"  {f.status:7} {printable(f.source)}: {f.reason}" for f in problems]
        return "\n".join(lines)


def printable(name: str) -> str:
    """A file name on one line whatever it holds: control characters (a newline, an escape
    sequence) and bytes that were not UTF-8 are shown escaped, ``a\\nb.txt``, ``x\\xff.txt``."""
    if name.isprintable():
        return name
    out = []
    for char in name:
        if 0xDC80 <= ord(char) <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        elif not char.isprintable() and char != " ":
            out.append(char.encode("unicode_escape").decode("ascii"))
        else:
            out.append(char)
    return "".join(out)
