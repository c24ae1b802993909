"""Where settings come from, as flat {"section.field": value} mappings: a TOML file, the
environment, a JSON hand-over, "section.field=value" strings. ``rag.settings`` merges and converts
them; this module only reads. It is the only one besides ``rag.settings`` that reads the
environment, and only the mapping it is given.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from rag.errors import ConfigError


def env_name(key: str) -> str:
    """The environment variable of a key: "answering.k" -> "RAG_ANSWERING_K"."""
    return "RAG_" + key.replace(".", "_").upper()


def config_file(env: Mapping[str, str]) -> Path | None:
    if env.get("RAG_CONFIG"):
        return Path(env["RAG_CONFIG"]).expanduser()
    home = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    path = home / "rag" / "config.toml"
    return path if path.is_file() else None


def read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"Cannot read the settings file {path}: {exc.strerror or exc}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"The settings file {path} is not valid TOML: {exc}.") from None
    flat = {}
    for section, values in data.items():
        if not isinstance(values, dict):
            raise ConfigError(f"In {path}, '{section}' must be a table ([{section}]) of settings.")
        for name, value in values.items():
            flat[f"{section}.{name}"] = value
    return flat


def from_env(env: Mapping[str, str], keys: Iterable[str], aliases: Mapping[str, str]) -> dict[str, str]:
    """The ``RAG_<SECTION>_<FIELD>`` variables (and the older ``aliases``) that ``env`` sets."""
    values = {key: env[name] for name, key in aliases.items() if name in env}
    for key in keys:
        name = env_name(key)
        if name in env:
            values[key] = env[name]
    return values


def from_json(text: str) -> dict[str, Any]:
    import json

    try:
        data = json.loads(text)
    except ValueError:
        raise ConfigError("RAG_SETTINGS_JSON is not valid JSON.") from None
    return {f"{section}.{name}": value for section, values in data.items() for name, value in values.items()}


def overrides(overrides: Mapping[str, Any] | Iterable[str]) -> dict[str, Any]:
    if isinstance(overrides, Mapping):
        return dict(overrides)
    values = {}
    for item in overrides:
        key, sep, value = str(item).partition("=")
        if not sep:
            raise ConfigError(f"--set {item!r}: write it as section.field=value, e.g. answering.k=8.")
        values[key.strip()] = value.strip()
    return values
