"""Bytes -> text for the text-based formats (.txt, .md, .html).

Order: a byte-order mark wins; then the encoding the document declares (HTML); then
strict UTF-8; then UTF-8 with its few invalid bytes replaced by U+FFFD, when the file
holds more valid multi-byte UTF-8 characters than invalid sequences (one bad byte in a
UTF-8 file spoils one character, not every accent: the count is reported); then
detection with charset_normalizer limited to the single-byte encodings French text
realistically comes in (Windows-1252, Latin-1/9, Mac Roman, DOS 850). Unrestricted
detection turns short French cp1252 text into Central-European or EBCDIC mojibake, so it
is never used. Binary files are refused before any guessing.
Newlines come out as ``\\n`` so offsets computed afterwards are offsets into the final text.
"""

from __future__ import annotations

import codecs
import re

from rag.errors import ReadError

BINARY_REASON = "looks like a binary file, not text"

_BOMS = (  # UTF-32 before UTF-16: the UTF-32-LE mark starts with the UTF-16-LE one
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_CANDIDATES = ["cp1252", "latin_1", "iso8859_15", "mac_roman", "cp850"]
# C0 controls other than tab, newline, vertical tab, form feed, carriage return, escape; and DEL.
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])
_MAX_CONTROL_RATIO = 0.05
_C1 = re.compile(rb"[\x80-\x9f]")


def decode_text(data: bytes, declared: str | None = None) -> str:
    """Decode ``data`` to text with ``\\n`` newlines; ReadError if it is binary."""
    return decode_counted(data, declared)[0]


def decode_counted(data: bytes, declared: str | None = None) -> tuple[str, int]:
    """``decode_text``, and how many invalid UTF-8 sequences were replaced by U+FFFD."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return normalize_newlines(data[len(bom) :].decode(encoding)), 0
            except UnicodeDecodeError as exc:
                raise ReadError(f"the file starts with a {encoding} mark but is not valid {encoding}") from exc
    if _looks_binary(data):
        raise ReadError(BINARY_REASON)
    text = _decode_declared(data, declared) if declared else None
    replaced = 0
    if text is None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text, replaced = _decode_mostly_utf8(data)
            if text is None:
                text = _decode_detected(data)
    return normalize_newlines(text), replaced


def replaced_note(replaced: int) -> tuple[str, ...]:
    """The report's note for a text read with ``replaced`` invalid sequences, if any."""
    if not replaced:
        return ()
    return (f"read as UTF-8 with {replaced} invalid byte sequence{'s' if replaced > 1 else ''} replaced by �",)


def _decode_mostly_utf8(data: bytes) -> tuple[str | None, int]:
    """UTF-8 with replacements when valid multi-byte characters outnumber invalid sequences
    (a cp1252 file has almost none: each of its accents is an invalid sequence)."""
    text = data.decode("utf-8", errors="replace")
    replaced = text.count("\ufffd") - data.count("\ufffd".encode())
    multibyte = len(text) - len(text.encode("ascii", errors="ignore")) - text.count("\ufffd")
    return (text, replaced) if multibyte > replaced else (None, 0)


def normalize_newlines(text: str) -> str:
    """CRLF and lone CR (old Mac files) -> LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _looks_binary(data: bytes) -> bool:
    sample = data[: 1 << 16]
    if b"\x00" in sample:
        return True
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls > _MAX_CONTROL_RATIO * len(sample)


def _decode_declared(data: bytes, declared: str) -> str | None:
    try:
        name = codecs.lookup(declared).name
    except LookupError:
        return None
    # Browsers read a declared Latin-1 or ASCII as Windows-1252 (WHATWG Encoding), and so
    # do the authors who wrote "€" in a page declared iso-8859-1.
    if name in ("latin-1", "iso8859-1", "ascii"):
        name = "cp1252"
    try:
        return data.decode(name)
    except UnicodeDecodeError:
        return None  # the declaration is wrong; fall back to UTF-8 and detection


def _decode_detected(data: bytes) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=_CANDIDATES).best()
    encoding = best.encoding if best is not None else "cp1252"
    has_c1 = _C1.search(data) is not None
    # In Latin-1 the bytes 0x80-0x9F are invisible control codes nobody types; their
    # presence means Windows-1252 (€, œ, curly quotes, dashes). Without them the two agree.
    if encoding in ("latin_1", "iso8859_15") and has_c1:
        encoding = "cp1252"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; Latin-1 decodes anything, keeping the rest right.
        return data.decode("cp1252", errors="replace") if has_c1 else data.decode("latin_1")
