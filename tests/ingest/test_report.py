"""The ingestion report: file names on one line whatever they hold, repairs listed."""

from __future__ import annotations

from ingest.report import FileOutcome, IngestReport, printable


def test_printable_escapes_control_characters_and_undecodable_bytes():
    assert printable("été/notes.txt") == "été/notes.txt"
    assert printable("a\nb\tc.txt") == "a\\nb\\tc.txt"
    assert printable("x\udcff.txt") == "x\\xff.txt"
    assert printable("\x1b[31mrouge.txt") == "\\x1b[31mrouge.txt"


def test_the_summary_lists_repairs_and_problems_readably():
    report = IngestReport(index_dir="idx")
    report.files += [
        FileOutcome("presque.txt", "added", "read as UTF-8 with 2 invalid byte sequences replaced by \ufffd", 3),
        FileOutcome("bon.txt", "added", chunks=1),
        FileOutcome("a\nb.txt", "failed", "file name holds control characters; rename the file to ingest it"),
    ]
    lines = report.summary().splitlines()
    assert "Read with repairs:" in lines and "  added   presque.txt: read as UTF-8 with 2 invalid" in "\n".join(lines)
    assert any(line.startswith("  failed  a\\nb.txt:") for line in lines)
    assert not any("bon.txt" in line for line in lines[lines.index("Read with repairs:") :])
