"""Citation markers: the ``[n]``, ``[1, 2]``, ``[1-3]`` that tie an answer's sentences to passages.

One pattern (``MARKER``) for every reader of markers: the answerer that checks them, the
support score that ignores them, the UI that links them, the evaluation that counts them.
A range ``[1-3]`` cites passages 1, 2 and 3. This module does not decide which passage a
sentence should cite (``rag.answering``).
"""

from __future__ import annotations

import re

from rag.text.sentences import split_sentences

MARKER = re.compile(r"\[\s*(\d+(?:\s*[,;-]\s*\d+)*)\s*\]")
_SEPARATOR = re.compile(r"\s*([,;-])\s*")
_RANGE_LIMIT = 50  # « [1-100000] » is no citation worth expanding


def marker_numbers(inside: str) -> list[int]:
    """The passage numbers of a marker's inside: "1, 3" -> [1, 3]; "2-4" -> [2, 3, 4]."""
    pieces = _SEPARATOR.split(inside.strip())
    found = [int(pieces[0])]
    for separator, value in zip(pieces[1::2], pieces[2::2]):
        n = int(value)
        if separator == "-" and found[-1] < n <= found[-1] + _RANGE_LIMIT:
            found += range(found[-1] + 1, n + 1)
        else:
            found.append(n)
    return list(dict.fromkeys(found))


def parse_markers(text: str, n_passages: int) -> tuple[list[tuple[int, int, list[int]]], list[int]]:
    """Markers as (start, end, valid numbers) and the invalid numbers (outside 1..n)."""
    found, invalid = [], []
    for m in MARKER.finditer(text):
        numbers = marker_numbers(m.group(1))
        invalid += [n for n in numbers if not 1 <= n <= n_passages]
        found.append((m.start(), m.end(), [n for n in numbers if 1 <= n <= n_passages]))
    return found, invalid


def strip_markers(text: str) -> str:
    """``text`` without its markers, whitespace runs as one space."""
    return " ".join(MARKER.sub(" ", text).split())


def with_markers(sentence: str, numbers: tuple[int, ...]) -> str:
    """The sentence without its old markers, the checked ones put before the final punctuation."""
    content = strip_markers(sentence)
    if not numbers:
        return content
    marks = "".join(f"[{n}]" for n in numbers)
    match = re.search(r"[.!?…\s]+$", content)
    if match:
        return f"{content[: match.start()]} {marks}{content[match.start() :].strip()}"
    return f"{content} {marks}"


def answer_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of an answer, a trailing marker-only piece ("... fin. [2]") joined to its sentence."""
    spans: list[tuple[int, int]] = []
    for start, end in split_sentences(text):
        if spans and not strip_markers(text[start:end]).strip(" .;,"):
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans
