"""An offline model's transformers folder exported once to an OpenVINO IR folder (int8 or int4
weights), for ``rag.llm.openvino_llm``.

The export runs ``optimum-cli export openvino --task text-generation-with-past`` in an environment
of its own (optimum-intel 2.2.0 pins an older transformers than the project's:
``scripts/setup-openvino-export.sh`` makes it once, at ``models.export_python``). int8 is the
default: on the lab's prompts the 1.5B model in int8 gave the same greedy answers as bf16 on all
three at nearly int4's speed, while int4 changed answers (an invented figure for the 0.5B);
int4 is ``--weight-format int4`` (symmetric, group 64, every linear layer). The folder appears
atomically: exported into a temporary directory beside the target, checked, marked
(``rag-openvino.json``, with the source's sha256 and the format), then renamed into place.

    python -m rag.llm.openvino_export [--model NAME] [--weight-format int8|int4]
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rag.errors import ModelError
from rag.llm import default_model

MARKER = "rag-openvino.json"
MARKER_VERSION = 1
REQUIRED = ("openvino_model.xml", "openvino_model.bin", "tokenizer.json", "config.json")
OPTIONS = {
    "int4": ["--weight-format", "int4", "--group-size", "64", "--ratio", "1.0", "--sym"],
    "int8": ["--weight-format", "int8"],
}


def export_dir(source: Path, weight_format: str) -> Path:
    """Where the export of the transformers folder ``source`` lives: beside it."""
    return source.parent / f"{source.name}-openvino-{weight_format}"


def read_marker(folder: Path | str) -> dict | None:
    try:
        marker = json.loads((Path(folder) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if marker.get("version") == MARKER_VERSION else None


def is_exported(target: Path, source_sha256: str | None, weight_format: str) -> bool:
    marker = read_marker(target)
    return bool(
        marker and marker.get("weight_format") == weight_format and marker.get("source_sha256") == source_sha256
    )


def export_openvino(source: Path | str, weight_format: str, python: Path | str, progress=print, timeout=3600) -> Path:
    """The OpenVINO folder of the transformers folder ``source``, exported the first time (0.5B:
    about 3 minutes, 1.5B: about 5 on 2 cores), returned at once after."""
    source = Path(source).expanduser()
    if weight_format not in OPTIONS:
        raise ModelError(f"Unknown weight format {weight_format!r}: use one of {', '.join(OPTIONS)}.")
    source_sha256 = (default_model.read_json(source / default_model.MARKER) or {}).get("source_sha256")
    target = export_dir(source, weight_format)
    if is_exported(target, source_sha256, weight_format):
        return target
    if not (source / "config.json").is_file():
        raise ModelError(f"No transformers model folder at {source} (config.json missing).")
    interpreter = Path(python).expanduser()
    if not interpreter.exists():
        raise ModelError(
            f"The OpenVINO export environment is missing ({interpreter}). Make it once with: "
            f"bash scripts/setup-openvino-export.sh {interpreter.parent.parent} (the setup does), "
            "or use llm.engine=transformers."
        )
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    started = time.perf_counter()
    try:
        command = [
            str(interpreter), "-m", "optimum.commands.optimum_cli", "export", "openvino",
            "--model", str(source), "--task", "text-generation-with-past", *OPTIONS[weight_format], str(work),
        ]  # fmt: skip
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
        _say(progress, f"Exporting {source.name} to OpenVINO {weight_format} (one time, a few minutes)")
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
        missing = [name for name in REQUIRED if not (work / name).is_file()]
        if done.returncode != 0 or missing:
            tail = (done.stderr or done.stdout)[-1500:]
            raise ModelError(f"The OpenVINO export failed (exit {done.returncode}, missing {missing}):\n{tail}")
        record = {
            "version": MARKER_VERSION,
            "source_model": source.name,
            "source_sha256": source_sha256,
            "weight_format": weight_format,
            "options": OPTIONS[weight_format],
            "seconds": round(time.perf_counter() - started, 1),
            "bytes": sum(p.stat().st_size for p in work.iterdir() if p.is_file()),
        }
        (work / MARKER).write_text(json.dumps(record, indent=2), encoding="utf-8")
        default_model.make_readable(work)
        if target.exists():
            if is_exported(target, source_sha256, weight_format):  # another process finished first
                shutil.rmtree(work, ignore_errors=True)
                return target
            shutil.rmtree(target)  # incomplete, or from other weights
        os.replace(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    _say(progress, f"OpenVINO {weight_format} model ready in {time.perf_counter() - started:.0f} s: {target}")
    return target


def _say(progress, message: str) -> None:
    if progress is not None:
        progress(message)


def main(argv: list[str] | None = None) -> int:
    import argparse

    from rag.errors import RagError
    from rag.settings import Settings

    parser = argparse.ArgumentParser(prog="python -m rag.llm.openvino_export", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="default", choices=["default", *default_model.OFFLINE_MODELS])
    parser.add_argument("--weight-format", default=None, choices=list(OPTIONS), help="default: llm.weight_format")
    args = parser.parse_args(argv)
    settings = Settings.load()
    say = lambda message: print(message, file=sys.stderr)  # noqa: E731
    try:
        model = default_model.offline_model(args.model)
        source = default_model.prepare_default_model(
            say, default_model.default_model_dir(settings.models.dir, model), model
        )
        target = export_openvino(
            source, args.weight_format or settings.llm.weight_format, settings.models.export_interpreter, say
        )
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(json.dumps({"path": str(target), **(read_marker(target) or {})}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
