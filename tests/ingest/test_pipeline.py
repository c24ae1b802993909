"""Ingestion end to end with the hashing embedder: incremental runs, identity checks, bad input."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from ingest.chunking import ChunkingParams
from ingest.pipeline import ingest, remove_documents
from rag.cli import main
from rag.errors import IndexMismatchError, IndexNotFoundError
from rag.index import Index
from rag.testing import HashingEmbedder

PARAMS = ChunkingParams(max_tokens=40, overlap_tokens=8)


def _write_corpus(root):
    (root / "sub").mkdir(parents=True)
    (root / "a.md").write_text(
        "# Le fournil\n\nLe pain est cuit chaque matin à six heures. La farine vient du moulin voisin.\n\n"
        "## Horaires\n\nLa boutique ouvre du mardi au dimanche. Elle ferme le lundi.\n",
        encoding="utf-8",
    )
    (root / "b.txt").write_text(
        " ".join(f"Phrase numéro {i} sur la bibliothèque municipale et ses lecteurs." for i in range(40)),
        encoding="utf-8",
    )
    (root / "sub" / "c.txt").write_text("Le marché a lieu le samedi sur la place de l'église.", encoding="utf-8")


def _run(root, index_dir, **kwargs):
    return ingest([root], index_dir, HashingEmbedder(64), PARAMS, progress=False, **kwargs)


def _snapshot(index_dir):
    with Index.open(index_dir) as index:
        return {c.chunk_id: (c.source, c.text) for _, c in index.store.iter_chunks()}


def test_first_run_indexes_every_file_with_exact_offsets(tmp_path):
    root, index_dir = tmp_path / "docs", tmp_path / "index"
    _write_corpus(root)
    report = _run(root, index_dir)
    assert report.ok and report.counts["added"] == 3
    with Index.open(index_dir) as index:
        docs = {d.source: d for d in index.store.documents()}
        assert set(docs) == {"a.md", "b.txt", "sub/c.txt"}
        for _, chunk in index.store.iter_chunks():
            text = index.store.document_text(chunk.doc_id)
            assert text[chunk.start : chunk.end] == chunk.text
        assert len(index.vectors()) == index.store.count_chunks() == report.chunks_total
        manifest = json.loads((index_dir / "manifest.json").read_text())
        assert manifest["embedder"] == {"id": "hashing-bow-64", "dim": 64}
        assert manifest["chunking"] == PARAMS.as_dict()
        assert manifest["stats"]["chunks"] == report.chunks_total


def test_unchanged_corpus_does_no_embedding(tmp_path):
    root, index_dir = tmp_path / "docs", tmp_path / "index"
    _write_corpus(root)
    _run(root, index_dir)
    before = _snapshot(index_dir)
    generation = Index.open(index_dir).generation
    again = _run(root, index_dir)
    assert again.chunks_embedded == 0 and again.counts["unchanged"] == 3
    assert _snapshot(index_dir) == before
    assert Index.open(index_dir).generation == generation


def test_touched_file_with_same_bytes_is_not_reembedded(tmp_path):
    root, index_dir = tmp_path / "docs", tmp_path / "index"
    _write_corpus(root)
    _run(root, index_dir)
    os.utime(root / "b.txt", ns=(1, 1))
    again = _run(root, index_dir)
    assert again.chunks_embedded == 0 and again.counts["unchanged"] == 3


def test_add_change_delete(tmp_path):
    root, index_dir = tmp_path / "docs", tmp_path / "index"
    _write_corpus(root)
    first = _run(root, index_dir)
    (root / "sub" / "c.txt").unlink()
    (root / "d.txt").write_text("Le musée est gratuit le premier dimanche du mois.", encoding="utf-8")
    with open(root / "b.txt", "a", encoding="utf-8") as handle:
        handle.write(" Une dernière phrase ajoutée sur les horaires d'été.")
    report = _run(root, index_dir)
    assert report.counts == {**report.counts, "added": 1, "updated": 1, "removed": 1, "unchanged": 1}
    # Only the changed tail of b.txt and the new file need new vectors.
    assert 0 < report.chunks_embedded < first.chunks_embedded
    assert report.chunks_reused > 0
    sources = {source for source, _ in _snapshot(index_dir).values()}
    assert sources == {"a.md", "b.txt", "d.txt"}
    with Index.open(index_dir) as index:
        assert len(index.vectors()) == index.store.count_chunks()
        assert any(
            "musée" in c.text for c in index.store.chunks_by_rowid(i for i, _ in index.store.iter_chunks()).values()
        )


def test_renamed_file_is_moved_not_duplicated(tmp_path):
    root, index_dir = tmp_path / "docs", tmp_path / "index"
    _write_corpus(root)
    _run(root, index_dir)
    shutil.move(root / "a.md", root / "renamed.md")
    report = _run(root, index_dir)
    assert report.counts["added"] == 1 and report.counts["removed"] == 1
    assert report.chunks_embedded == 0  # same texts, vectors reused


def test_identical_files_are_indexed_once(tmp_path):
    root, index_dir = tmp_path / "docs", tmp_path / "index"
    _write_corpus(root)
    shutil.copy(root / "a.md", root / "copy.md")
    report = _run(root, index_dir)
    skipped = [f for f in report.files if f.status == "skipped"]
    assert len(skipped) == 1 and "same content" in skipped[0].reason


def test_dense_search_finds_the_relevant_chunk(tmp_path):
    root, index_dir = tmp_path / "docs", tmp_path / "index"
    _write_corpus(root)
    _run(root, index_dir)
    embedder = HashingEmbedder(64)
    with Index.open(index_dir, embedder_id=embedder.model_id) as index:
        (rowid, _score), *_ = index.search_dense(embedder.embed_query("marché samedi place église"), 3)
        assert index.store.chunks_by_rowid([rowid])[rowid].source == "sub/c.txt"


def test_other_embedder_or_chunking_is_refused_with_rebuild_hint(tmp_path):
    root, index_dir = tmp_path / "docs", tmp_path / "index"
    _write_corpus(root)
    _run(root, index_dir)
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        ingest([root], index_dir, HashingEmbedder(32), PARAMS, progress=False)
    with pytest.raises(IndexMismatchError, match="chunking"):
        ingest([root], index_dir, HashingEmbedder(64), ChunkingParams(60, 10), progress=False)
    with pytest.raises(IndexMismatchError):
        Index.open(index_dir, embedder_id="other-model")
    rebuilt = ingest([root], index_dir, HashingEmbedder(32), PARAMS, progress=False, rebuild=True)
    assert rebuilt.ok and rebuilt.counts["added"] == 3
    with Index.open(index_dir, embedder_id="hashing-bow-32") as index:
        assert index.dim == 32 and len(index.vectors()) == index.store.count_chunks()


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(IndexNotFoundError, match="rag ingest"):
        Index.open(tmp_path / "nothing")


def test_derived_vector_file_is_rebuilt_when_missing(tmp_path):
    root, index_dir = tmp_path / "docs", tmp_path / "index"
    _write_corpus(root)
    _run(root, index_dir)
    for path in index_dir.glob("vectors-*.faiss"):
        path.unlink()
    with Index.open(index_dir) as index:
        assert len(index.vectors()) == index.store.count_chunks()


def test_remove_documents(tmp_path):
    root, index_dir = tmp_path / "docs", tmp_path / "index"
    _write_corpus(root)
    _run(root, index_dir)
    assert remove_documents(index_dir, ["b.txt", "nope.txt"]) == ["b.txt"]
    assert {s for s, _ in _snapshot(index_dir).values()} == {"a.md", "sub/c.txt"}
    with Index.open(index_dir) as index:
        assert len(index.vectors()) == index.store.count_chunks()


def test_loading_never_unpickles(tmp_path):
    root, index_dir = tmp_path / "docs", tmp_path / "index"
    _write_corpus(root)
    _run(root, index_dir)
    assert not list(index_dir.glob("*.pkl")) and not list(index_dir.glob("*.pickle"))


# -- bad input ---------------------------------------------------------------------------


def _bad_corpus(root):
    from pypdf import PdfWriter

    root.mkdir()
    (root / "good.txt").write_text("Un texte tout à fait lisible sur les abeilles.", encoding="utf-8")
    (root / "corrupt.pdf").write_bytes(b"%PDF-1.4\n" + os.urandom(2000))
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt("secret")
    with open(root / "encrypted.pdf", "wb") as handle:
        writer.write(handle)
    (root / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (root / "empty.md").write_bytes(b"")
    os.mkfifo(root / "pipe.txt")  # a name that says text, but reading it would block forever
    (root / "photo.xyz").write_bytes(b"\x00\x01")
    (root / "latin.txt").write_bytes("Œuvre déjà notée : 15 € à l'entrée.".encode("cp1252"))
    with open(root / "huge.txt", "wb") as handle:  # 50 MB, over the default 20 MB limit
        handle.write(b"mot " * (50 * 1024 * 1024 // 4))
    os.symlink(root, root / "loop")


def test_bad_inputs_are_reported_and_the_run_goes_on(tmp_path, capsys):
    root, index_dir = tmp_path / "bad", tmp_path / "index"
    _bad_corpus(root)
    code = main(["ingest", str(root), "--index", str(index_dir), "--embedder", "hashing-64", "--json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    report = json.loads(out)
    assert code == 1 and not report["ok"]
    by_source = {f["source"]: f for f in report["files"]}
    assert by_source["good.txt"]["status"] == "added"
    assert by_source["latin.txt"]["status"] == "added"
    expected = {
        "corrupt.pdf": ("failed", "corrupt"),
        "encrypted.pdf": ("failed", "encrypted"),
        "binary.txt": ("failed", "binary"),
        "empty.md": ("skipped", "empty"),
        "pipe.txt": ("skipped", "not a regular file"),
        "photo.xyz": ("skipped", "unsupported"),
        "huge.txt": ("failed", "larger"),
    }
    for source, (status, word) in expected.items():
        assert by_source[source]["status"] == status, by_source[source]
        assert word in by_source[source]["reason"].lower(), by_source[source]
    assert any("loop" in f["reason"] for f in report["files"])
    with Index.open(index_dir) as index:
        text = index.store.document_text(next(d.doc_id for d in index.store.documents() if d.source == "latin.txt"))
        assert "Œuvre" in text and "€" in text


def test_unreadable_file_is_reported(tmp_path, monkeypatch):
    root, index_dir = tmp_path / "docs", tmp_path / "index"
    _write_corpus(root)
    import ingest.stages as stages

    real = stages.read_document

    def deny(path, *args, **kwargs):
        if path.name == "b.txt":
            raise PermissionError(13, "Permission denied")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(stages, "read_document", deny)
    report = _run(root, index_dir)
    failed = [f for f in report.files if f.status == "failed"]
    assert [f.source for f in failed] == ["b.txt"] and "permission" in failed[0].reason.lower()


def test_vectors_in_store_match_embedder(tmp_path):
    root, index_dir = tmp_path / "docs", tmp_path / "index"
    _write_corpus(root)
    _run(root, index_dir)
    embedder = HashingEmbedder(64)
    with Index.open(index_dir) as index:
        ids, vectors = index.store.all_vectors(64)
        chunks = index.store.chunks_by_rowid(ids.tolist())
        expected = embedder.embed_passages([chunks[i].text for i in ids.tolist()])
        np.testing.assert_allclose(vectors, expected, atol=1e-6)


def test_progress_function_hears_every_stage(tmp_path):
    root, index_dir = tmp_path / "docs", tmp_path / "index"
    _write_corpus(root)
    heard = []
    report = ingest([root], index_dir, HashingEmbedder(64), PARAMS, progress=lambda *event: heard.append(event))
    stages = [stage for stage, _, _ in heard]
    assert stages[0] == "reading" and stages[-1] == "indexing" and "embedding" in stages
    assert [done for stage, done, _ in heard if stage == "reading"] == [0, 1, 2]
    assert all(total == report.chunks_embedded for stage, _, total in heard if stage == "embedding")
