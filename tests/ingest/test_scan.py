"""What the scan finds and what it passes over, with a reason: links that leave the ingested
folder (unless followed on purpose), loops, pipes and sockets, names that are not text."""

from __future__ import annotations

import os
import socket

from ingest.scan import scan

SUPPORTED = frozenset({".txt", ".md"})


def _scan(root, **kwargs):
    found, problems = scan([root], SUPPORTED, **kwargs)
    return sorted(f.source for f in found), {p.source: (p.status, p.reason) for p in problems}


def test_links_out_of_the_folder_are_not_followed_unless_asked(tmp_path):
    corpus, outside = tmp_path / "corpus", tmp_path / "outside"
    corpus.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("secret", encoding="utf-8")
    (corpus / "a.txt").write_text("a", encoding="utf-8")
    (corpus / "lien.txt").symlink_to(outside / "secret.txt")
    (corpus / "dossier").symlink_to(outside)
    (corpus / "interne.txt").symlink_to(corpus / "a.txt")  # stays inside: fine (a.txt read once)
    found, problems = _scan(corpus)
    assert found == ["a.txt"] and "interne.txt" not in problems
    assert problems["lien.txt"][0] == "skipped" and "outside the ingested folder" in problems["lien.txt"][1]
    assert problems["dossier"][0] == "skipped" and "a folder outside" in problems["dossier"][1]
    found, problems = _scan(corpus, follow_symlinks=True)
    assert len(found) == 2 and found[1] in ("dossier/secret.txt", "lien.txt") and not problems  # read once


def test_a_file_named_on_the_command_line_is_read_even_through_a_link(tmp_path):
    (tmp_path / "vrai.txt").write_text("x", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "lien.txt").symlink_to(tmp_path / "vrai.txt")
    found, problems = scan([tmp_path / "sub" / "lien.txt"], SUPPORTED)
    assert [f.source for f in found] == ["lien.txt"] and not problems


def test_loops_are_reported_not_followed_forever(tmp_path):
    (tmp_path / "a.txt").write_text("a", encoding="utf-8")
    (tmp_path / "boucle").symlink_to(".")
    (tmp_path / "moi.txt").symlink_to("moi.txt")
    found, problems = _scan(tmp_path)
    assert found == ["a.txt"]
    assert problems["boucle"] == ("skipped", "symbolic link loop (folder already visited)")
    assert problems["moi.txt"][0] == "failed" and "loop" in problems["moi.txt"][1]


def test_pipes_and_sockets_are_passed_over_without_being_opened(tmp_path):
    os.mkfifo(tmp_path / "tube.txt")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tmp_path / "prise.txt"))
    server.close()
    found, problems = _scan(tmp_path)
    assert found == []
    for name in ("tube.txt", "prise.txt"):
        assert problems[name][0] == "skipped" and "not a regular file" in problems[name][1]


def test_names_that_are_not_text_are_refused_and_shown_escaped(tmp_path):
    (tmp_path / "bon.txt").write_text("ok", encoding="utf-8")
    (tmp_path / os.fsdecode(b"octets_\xff.txt")).write_text("x", encoding="utf-8")
    (tmp_path / "ligne\nneuve.txt").write_text("x", encoding="utf-8")
    found, problems = _scan(tmp_path)
    assert found == ["bon.txt"]
    assert problems["octets_\\xff.txt"] == ("failed", "file name is not valid UTF-8; rename the file to ingest it")
    assert problems["ligne\\nneuve.txt"][1].startswith("file name holds control characters")
    assert all(name.isprintable() for name in problems)
