"""Uploaded file names: base name only, safe characters, supported types, no silent overwrite,
never a write or a delete outside the managed folder."""

from __future__ import annotations

import pytest

from rag.uploads import UploadError, check_upload, delete_upload, ingest_saved, safe_filename, save_upload, uploads_dir


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("rapport.pdf", "rapport.pdf"),
        ("Rapport Annuel 2023.PDF", "Rapport_Annuel_2023.pdf"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\moi\\notes.md", "notes.md"),
        ("..\\..\\x.html", "x.html"),
        (".bashrc.md", "bashrc.md"),
        ("e\u0301te\u0301 été.docx", "été_été.docx"),  # NFC
        ("a<b>|c;rm -rf.txt", "a-b-c-rm_-rf.txt"),
        ("nul\x00\x1fname.md", "nulname.md"),
        ("--.md", "document.md"),
        ("x" * 300 + ".txt", "x" * 100 + ".txt"),
    ],
)
def test_safe_filename(name, expected):
    assert safe_filename(name) == expected


@pytest.mark.parametrize("name", ["virus.exe", "archive.tar.gz", "sans-extension", "page.php", "x.pdf.sh"])
def test_safe_filename_refuses_unsupported_types(name):
    with pytest.raises(UploadError):
        safe_filename(name)


def test_save_upload_writes_in_the_managed_folder_only(tmp_path):
    saved = save_upload(tmp_path, "../../../evil.md", b"# Bonjour\n", set())
    assert saved.path == uploads_dir(tmp_path) / "evil.md" and saved.source == "evil.md"
    assert saved.path.read_bytes() == b"# Bonjour\n"
    assert not (tmp_path.parent / "evil.md").exists()
    assert not list(uploads_dir(tmp_path).glob(".*"))  # no temporary file left behind


def test_save_upload_never_overwrites_by_surprise(tmp_path):
    first = save_upload(tmp_path, "notes.md", b"un", set())
    second = save_upload(tmp_path, "notes.md", b"deux", {"notes.md"})
    assert second.source == "notes-2.md" and first.path.read_bytes() == b"un"
    # a document of that name ingested from another folder is never replaced, even when asked
    elsewhere = save_upload(tmp_path, "ateliers.html", b"<p>x</p>", {"ateliers.html"}, replace=True)
    assert elsewhere.source == "ateliers-2.html" and not elsewhere.replaced
    replaced = save_upload(tmp_path, "notes.md", b"trois", {"notes.md", "notes-2.md"}, replace=True)
    assert replaced.source == "notes.md" and replaced.replaced and first.path.read_bytes() == b"trois"


def test_save_upload_size_and_empty(tmp_path):
    with pytest.raises(UploadError, match="Mo"):
        save_upload(tmp_path, "gros.txt", b"x" * 2048, set(), max_mb=1 / 1024)
    with pytest.raises(UploadError, match="vide"):
        save_upload(tmp_path, "vide.txt", b"", set())


def test_delete_upload_only_inside_the_managed_folder(tmp_path):
    saved = save_upload(tmp_path, "notes.md", b"un", set())
    outside = tmp_path / "garder.md"
    outside.write_text("x")
    folder = str(uploads_dir(tmp_path))
    assert not delete_upload(tmp_path, str(tmp_path), "garder.md")  # another root: not ours
    assert not delete_upload(tmp_path, folder, "../garder.md")
    assert outside.exists()
    assert delete_upload(tmp_path, folder, "notes.md") and not saved.path.exists()


def test_check_upload_names_the_rule_broken():
    assert check_upload("Rapport 2023.PDF", 10) == "Rapport_2023.pdf"
    for name, size, kind in [("x.exe", 10, "type"), ("x.txt", 2 * 1024 * 1024, "size"), ("x.txt", 0, "empty")]:
        with pytest.raises(UploadError) as caught:
            check_upload(name, size, max_mb=1)
        assert caught.value.kind == kind


def test_ingest_saved_keeps_the_folder_in_step_with_the_index(tmp_path):
    from rag.index import Index
    from rag.settings import Settings

    settings = Settings.load(env={}, overrides={"index.dir": tmp_path, "index.embedder": "hashing-64"})
    good = save_upload(tmp_path, "horaires.md", "Le fournil ouvre à sept heures.".encode(), set())
    bad = save_upload(tmp_path, "casse.pdf", b"not a pdf at all", set())
    report = ingest_saved([good, bad], settings)
    assert {o.source: o.status for o in report.files} == {"horaires.md": "added", "casse.pdf": "failed"}
    assert good.path.exists() and not bad.path.exists()  # what failed leaves no copy behind
    with Index.open(tmp_path) as index:
        assert [d.source for d in index.store.documents()] == ["horaires.md"]
