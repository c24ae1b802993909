"""One Settings object: its layers (defaults < TOML < environment < explicit), its conversions,
its errors, and every kind of field reached through each door (Python API, environment, CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.errors import ConfigError
from rag.settings import Settings, env_name, keys

# One field of each kind, with a value that is not its default.
KINDS = {
    "answering.k": ("8", 8),  # int
    "retrieval.dense_weight": ("0.7", 0.7),  # float
    "answering.quote": ("false", False),  # bool
    "llm.name": ("none", "none"),  # str
    "retrieval.rerank_model": ("some/cross-encoder", "some/cross-encoder"),  # optional str
    "llm.compile": ("0", False),  # optional bool
    "index.dir": ("/tmp/rag-settings-test", Path("/tmp/rag-settings-test")),  # optional path
}


def test_every_field_is_described_and_has_an_environment_name():
    rows = Settings().describe()
    assert len(rows) == len(keys()) > 40
    assert all(help and len(help) < 120 for _, _, help in rows)
    assert env_name("answering.k") == "RAG_ANSWERING_K" and env_name("index.dir") == "RAG_INDEX_DIR"


@pytest.mark.parametrize("key", KINDS)
def test_python_api_reaches_every_kind(key):
    text, value = KINDS[key]
    assert Settings().replace(key, value).get(key) == value
    assert Settings().replace(key, text).get(key) == value  # strings are parsed as the field's type
    assert Settings.load(env={}, overrides={key: value}).get(key) == value


@pytest.mark.parametrize("key", KINDS)
def test_environment_reaches_every_kind(key):
    text, value = KINDS[key]
    assert Settings.load(env={env_name(key): text}).get(key) == value


@pytest.mark.parametrize("key", KINDS)
def test_cli_reaches_every_kind(key, capsys):
    from rag.cli import main

    text, value = KINDS[key]
    assert main(["--set", f"{key}={text}", "settings", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    section, name = key.split(".")
    assert shown[section][name] == (str(value) if isinstance(value, Path) else value)


def test_layers_override_in_order(tmp_path):
    config = tmp_path / "rag.toml"
    config.write_text('[answering]\nk = 3\nmax_new_tokens = 90\n[llm]\nname = "none"\n', encoding="utf-8")
    settings = Settings.load(file=config, env={})
    assert (settings.answering.k, settings.answering.max_new_tokens, settings.llm.name) == (3, 90, "none")
    settings = Settings.load(file=config, env={"RAG_ANSWERING_K": "4"})
    assert (settings.answering.k, settings.answering.max_new_tokens) == (4, 90)  # env over file
    settings = Settings.load(file=config, env={"RAG_ANSWERING_K": "4"}, overrides=["answering.k=6"])
    assert settings.answering.k == 6  # explicit over env
    assert Settings.load(env={"RAG_CONFIG": str(config)}).answering.k == 3  # the file named by the environment


def test_the_users_config_file_is_read_when_it_exists(tmp_path):
    (tmp_path / "rag").mkdir()
    (tmp_path / "rag" / "config.toml").write_text("[retrieval]\nneighbours = 2\n", encoding="utf-8")
    assert Settings.load(env={"XDG_CONFIG_HOME": str(tmp_path)}).retrieval.neighbours == 2
    assert Settings.load(env={"XDG_CONFIG_HOME": str(tmp_path / "none")}).retrieval.neighbours == 1


def test_older_environment_names_still_work_and_newer_ones_win():
    settings = Settings.load(env={"RAG_LLM": "none", "RAG_LLM_MODEL": "served", "RAG_MODELS_DIR": "/m"})
    assert (settings.llm.name, settings.llm.server_model, settings.models.dir) == ("none", "served", Path("/m"))
    assert Settings.load(env={"RAG_LLM": "none", "RAG_LLM_NAME": "default"}).llm.name == "default"


def test_unset_optional_values_read_as_none():
    assert Settings.load(env={"RAG_ANSWERING_MIN_EVIDENCE": "none"}).answering.min_evidence is None
    assert Settings.load(env={"RAG_LLM_COMPILE": "auto"}).llm.compile is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["answering.kk=3"], "the answering settings are"),
        (["nowhere.k=3"], "section one of"),
        (["answering.k=huit"], "not a valid int"),
        (["answering.quote=peut-être"], "not a valid bool"),
        (["retrieval.fusion=magic"], "retrieval.fusion must be one of"),
        (["ui.port=0"], "ui.port must be between"),
        (["server.max_k=0"], "max_k"),
        (["answering.k"], "section.field=value"),
    ],
)
def test_bad_values_are_clear_errors(overrides, message):
    with pytest.raises(ConfigError, match=message):
        Settings.load(env={}, overrides=overrides)


def test_a_broken_config_file_says_where(tmp_path):
    config = tmp_path / "rag.toml"
    config.write_text("[answering\nk = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        Settings.load(file=config, env={})
    with pytest.raises(ConfigError, match="Cannot read"):
        Settings.load(file=tmp_path / "missing.toml", env={})


def test_the_index_location_defaults_to_the_data_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert Settings().index.directory == tmp_path / "rag" / "index"
    assert Settings.load(env={"RAG_INDEX_DIR": "~/idx"}).index.directory == Path.home() / "idx"


def test_a_round_trip_through_json_keeps_every_value():
    settings = Settings.load(env={}, overrides={k: v for k, (_, v) in KINDS.items()})
    again = Settings.load(env={"RAG_SETTINGS_JSON": json.dumps(settings.to_dict())})
    assert again == settings


def test_the_api_key_reads_rag_api_key_and_is_never_printed(monkeypatch, capsys):
    from rag.cli import main

    assert Settings.load(env={"RAG_API_KEY": "s3cret"}).server.api_key == "s3cret"
    assert Settings.load(env={"RAG_API_KEY": "old", "RAG_SERVER_API_KEY": "new"}).server.api_key == "new"
    monkeypatch.setenv("RAG_API_KEY", "s3cret")
    assert main(["settings"]) == 0 and main(["settings", "--json"]) == 0
    out = capsys.readouterr().out
    assert "s3cret" not in out and "(set, not shown)" in out
