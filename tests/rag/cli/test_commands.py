"""The ``rag`` command line over a small hashing-embedder index: every command, its JSON, the
settings it passes down (--set, --config, flags), and errors as one line with an exit code."""

from __future__ import annotations

import json

import pytest

from rag.cli import main

DOCS = {
    "fournil.md": "# Le fournil\n\nLe fournil ouvre à sept heures du mardi au dimanche.\n",
    "musee.txt": "Le musée municipal expose trois cents tableaux flamands. L'entrée coûte huit euros.",
    "marche.txt": "Le marché des producteurs se tient chaque samedi matin sur la place centrale.",
}


@pytest.fixture
def index(tmp_path, capsys):
    root = tmp_path / "docs"
    root.mkdir()
    for name, text in DOCS.items():
        (root / name).write_text(text, encoding="utf-8")
    directory = tmp_path / "index"
    assert main(["ingest", str(root), "--index", str(directory), "--embedder", "hashing-64"]) == 0
    out = capsys.readouterr().out
    assert "3 added" in out and "chunks/s" in out
    return directory


def test_ingest_again_reuses_the_index_identity_and_info_reports_it(index, capsys):
    assert main(["ingest", str(index.parent / "docs"), "--index", str(index)]) == 0  # no --embedder
    assert "3 unchanged" in capsys.readouterr().out
    assert main(["index", "info", "--index", str(index), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["stats"]["documents"] == 3 and info["embedder"]["id"] == "hashing-bow-64"
    assert {d["source"] for d in info["documents"]} == set(DOCS)
    assert main(["index", "info", "--index", str(index)]) == 0
    assert "Documents: 3" in capsys.readouterr().out


def test_search_text_and_json(index, capsys):
    assert main(["search", "marché samedi", "--k", "2", "--json", "--index", str(index)]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert len(payload["hits"]) == 2 and payload["hits"][0]["source"] == "marche.txt"
    assert {"text", "source", "page", "start", "end", "score", "scores"} <= set(payload["hits"][0])
    assert main(["search", "marché samedi", "--source", "mus*", "--index", str(index)]) == 0
    out = capsys.readouterr().out
    assert "[1] musee.txt" in out and "marche.txt" not in out


def test_ask_extractive_with_settings_from_set_and_config(index, tmp_path, capsys):
    assert (
        main(
            [
                "--set",
                "answering.k=2",
                "ask",
                "Quand se tient le marché ?",
                "--llm",
                "none",
                "--index",
                str(index),
                "--json",
            ]
        )
        == 0
    )
    answer = json.loads(capsys.readouterr().out)
    assert answer["mode"] == "extractive" and len(answer["hits"]) == 2 and "samedi" in answer["answer"]
    config = tmp_path / "rag.toml"
    config.write_text(f'[index]\ndir = "{index}"\n[llm]\nname = "none"\n[answering]\nk = 1\n', encoding="utf-8")
    assert main(["--config", str(config), "ask", "Quand se tient le marché ?", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["hits"]) == 1
    assert main(["--config", str(config), "ask", "Quand se tient le marché ?"]) == 0
    out = capsys.readouterr().out
    assert "samedi" in out and "Sources:" in out


def test_remove_says_what_was_there(index, capsys):
    assert main(["remove", "musee.txt", "absent.txt", "--index", str(index)]) == 1
    out = capsys.readouterr().out
    assert "removed: musee.txt" in out and "not in the index: absent.txt" in out


def test_settings_lists_every_field_with_its_environment_name(capsys, monkeypatch):
    monkeypatch.setenv("RAG_RETRIEVAL_NEIGHBOURS", "3")
    assert main(["settings"]) == 0
    out = capsys.readouterr().out
    assert "retrieval.neighbours = 3    (RAG_RETRIEVAL_NEIGHBOURS)" in out and "answering.k = 5" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--set", "answering.kay=3", "settings"], "Unknown setting 'answering.kay'"),
        (["--set", "answering.k=cinq", "settings"], "not a valid int"),
        (["--config", "/nonexistent/rag.toml", "settings"], "Cannot read the settings file"),
        (["search", "x", "--k", "0", "--index", "/nonexistent"], "--k must be at least 1"),
        (["index", "info", "--index", "/nonexistent/index"], "rag ingest"),
    ],
)
def test_errors_are_one_line_with_exit_code_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_a_missing_path_is_reported_and_the_exit_code_says_so(tmp_path, capsys):
    code = main(["ingest", str(tmp_path / "nope"), "--index", str(tmp_path / "i"), "--embedder", "hashing"])
    assert code == 1 and "no such file" in capsys.readouterr().out


def test_ingest_help_lists_the_formats(capsys):
    with pytest.raises(SystemExit):
        main(["ingest", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert all(suffix in out for suffix in (".pdf", ".docx", ".odt", ".pptx", ".epub", ".xlsx", ".csv", ".html"))


def test_help_imports_no_model_library():
    import subprocess
    import sys

    code = (
        "import sys, rag.cli; rag.cli.build_parser(); assert not {'torch', 'faiss', 'transformers'} & set(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
