"""The scale benchmark end to end on a tiny fake StarDict dictionary and the hashing embedder."""

from __future__ import annotations

import gzip
import struct

import pytest

from eval import bench_scale
from eval.littre import read_stardict, strip_markup
from rag.testing import HashingEmbedder

WORDS = ["pain", "levain", "farine", "four", "croûte", "mie", "pétrin", "boulanger", "seigle", "froment"]


def write_stardict(cache, n_entries: int = 160) -> None:
    folder = cache / "littre-deb" / "usr" / "share" / "stardict" / "dic"
    folder.mkdir(parents=True)
    body, index = b"", b""
    for i in range(n_entries):
        head = f"MOT{i:03d}"
        w = [WORDS[(i + j) % len(WORDS)] for j in range(6)]
        article = (
            f"<i><small>(mo-{i}) s. m.</small></i>\n    Ce qui sert au {w[0]} et au {w[1]} &amp; du {w[2]}.\n\n"
            f"<b>2°</b> Le {w[3]} du {w[4]} est fait de {w[5]}. Il faut du {w[0]} pour la {w[2]}.\n\n"
            f"<b><big>ÉTYMOLOGIE</big></b>\n\n    Du latin {w[1]}{i}."
        ).encode()
        index += head.encode() + b"\0" + struct.pack(">II", len(body), len(article))
        body += article
    (folder / "fake.ifo").write_text("StarDict's dict ifo file\nversion=2.4.2\nbookname=fake\n")
    (folder / "fake.idx").write_bytes(index)
    with gzip.open(folder / "fake.dict.dz", "wb") as handle:
        handle.write(body)


def test_reads_stardict_and_strips_markup(tmp_path):
    write_stardict(tmp_path, 3)
    folder = tmp_path / "littre-deb" / "usr" / "share" / "stardict" / "dic"
    entries = read_stardict(folder / "fake.idx", folder / "fake.dict.dz")
    assert [h for h, _ in entries] == ["MOT000", "MOT001", "MOT002"]
    text = strip_markup(entries[0][1].decode())
    assert text.startswith("(mo-0) s. m.\nCe qui sert au pain") and "&" in text and "<" not in text
    assert "\n\nÉTYMOLOGIE\n\nDu latin levain0." in text


def test_harness_reports_every_measure(tmp_path):
    write_stardict(tmp_path)
    embedder = HashingEmbedder(64)
    report = bench_scale.run([150], tmp_path, sample=40, n_queries=12, embedder=embedder, force_max=1000)
    assert report["corpus"]["chunks_prepared"] >= 150 and report["queries"] == 12
    (result,) = report["results"]
    assert result["chunks"] >= 150 and result["documents"] > 0
    build = result["build"]  # seconds rounded to 0.01: 150 chunks may insert in less
    assert build["total_s"] >= build["store_insert_s"] >= 0 and build["total_s"] >= build["derived_s"] > 0
    assert result["disk"]["store_mb"] > 0 and result["disk"]["derived_mb"] > 0
    # 150 chunks are too few to train pq's codebooks: the forced approximate index stays exact
    assert result["recall"]["approximate"] == "flat: built here (forced)" and result["recall"]["recall_at_10"] == 1.0
    serve = result["serve"]
    assert serve["queries"] == 12 and serve["vector_index"] == "flat"
    assert set(serve["latency_ms"]) == {"dense", "keyword", "fuse", "fetch", "total_minus_embed"}
    for stage in serve["latency_ms"].values():
        assert 0 <= stage["p50"] <= stage["p95"] < 5000
    assert serve["rss_mb"]["peak"] >= serve["rss_mb"]["steady"] > 0
    added = result["add_1pct"]
    assert added["chunks"] >= 1 and added["total_s"] > 0 and added["over_full_build"] > 0
    vectors = report["vectors"]
    assert (
        vectors["set_size"] == 40
        and -1 <= vectors["made"]["mean_cosine"] <= vectors["made"]["nearest_cosine_mean"] <= 1
    )
    table = bench_scale.markdown(report["results"])
    assert table.count("\n| 1") >= 2 or table.count("| 15") >= 2


@pytest.mark.parametrize("n", [0, 5])
def test_question_forms(n):
    from eval.littre import Entry
    from eval.scale_corpus import question

    entry = Entry("ACIÉRER", "ACIÉRER (a-sié-ré) v. a.\n1° Convertir en acier du fer doux.\nÉTYMOLOGIE")
    asked = question(entry, n)
    assert asked in ("Que signifie le mot aciérer ?", "Quel mot désigne : convertir en acier du fer doux ?")


def test_vector_index_comparison_reports_recall_and_time(tmp_path, monkeypatch):
    """``eval.bench_ann`` on the same prepared corpus: every kind and setting gets recall@10,
    recall@50 and times; pq with every vector re-scored finds the exact top."""
    from eval import bench_ann

    monkeypatch.setattr("rag.index.vectors.PQ_MIN_VECTORS", 32)
    write_stardict(tmp_path)
    embedder = HashingEmbedder(64)
    bench_scale.run([150], tmp_path, sample=40, n_queries=12, embedder=embedder, force_max=0)
    report = bench_ann.run(150, tmp_path, 40, 12, candidates=[20, 1000], ef=[16], embedder=embedder)
    assert report["size"] == 150 and report["queries"] == 12
    assert [(r["kind"], r.get("candidates", r.get("ef_search"))) for r in report["rows"]] == [
        ("pq", 20),
        ("pq", 1000),
        ("hnsw", 16),
    ]
    for row in report["rows"]:
        for k in ("k10", "k50"):
            assert 0 <= row[k]["recall"] <= 1 and 0 <= row[k]["p50_ms"] <= row[k]["p95_ms"]
    # 1000 candidates: every vector re-scored, in half precision (near ties may swap)
    assert report["rows"][1]["k10"]["recall"] >= 0.97
    assert "| pq | 20 candidates |" in bench_ann.markdown(report)
