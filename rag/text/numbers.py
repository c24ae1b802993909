"""Numbers in French text: written in digits or as simple number words, and what they count.

``numbers("1 800 GPU et cinq nœuds")`` -> ``{"1800", "5"}``; ``counted("1,7 trillion de
paramètres")`` -> ``{"1.7": {"paramet"}}``. Used by the support score (an invented figure is
the commonest hallucination of small models) and by the question reading (« combien » wants a
number). This module does not decide whether a number answers anything.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rag.text.analysis import analyze

# Number words read as their digits, so that « cinq » holds « 5 » and « zéro » meets « 0 ».
# Not "un"/"une" (articles far more often), nor "mille"/"million" (scales after a number).
NUMBER_WORDS = dict(
    zip(
        "zéro deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze seize vingt "
        "trente quarante cinquante soixante cent".split(),
        "0 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 20 30 40 50 60 100".split(),
    )
)
_NUMBER_WORD = re.compile(rf"(?<![\w-])(?:{'|'.join(NUMBER_WORDS)})(?![\w-])", re.IGNORECASE)
NUMBER = re.compile(r"\d+(?:[ \u00a0\u202f]\d{3}(?!\d))*(?:[.,]\d+)?")


def numbers(text: str) -> set[str]:
    """The numbers written in digits, normalised ("1 800" -> "1800", "1,7" -> "1.7"), and
    simple number words as digits ("cinq" -> "5"; not inside "vingt-deux")."""
    found = {normalised(m.group()) for m in NUMBER.finditer(text)}
    return found | {NUMBER_WORDS[m.group().lower()] for m in _NUMBER_WORD.finditer(text)}


@lru_cache(maxsize=1)
def _digit_of_term() -> dict[str, str]:
    return {term: digits for word, digits in NUMBER_WORDS.items() for term in analyze(word)}


def content_terms(text: str, analyzer=analyze) -> set[str]:
    """The analysed terms of ``text``, a number word's as its digits (« zéro » meets « 0 »)."""
    digit = _digit_of_term()
    return {digit.get(term, term) for term in analyzer(text)}


def normalised(number: str) -> str:
    """A number as written in digits, without group separators and with a decimal point."""
    return re.sub(r"[ \u00a0\u202f]", "", number).replace(",", ".")


# What a number counts: the first content word after it, past scale words and "de".
_SCALE = r"(?:%|pour\s*cents?|milliers?|mille|millions?|milliards?|billions?|trillions?|[kMGT]?B\b)"
_COUNTED = re.compile(
    r"(?<![\w.,-])"  # not the digits of a name: GPT-4, V3
    + NUMBER.pattern
    + rf"(?:\s*{_SCALE})*+"  # possessive: a scale word is never what is counted
    + r"(?:\s+(?:de|d'|d’|des))?\s*([^\W\d_]{3,})",
    re.IGNORECASE,
)


def counted(text: str) -> dict[str, set[str]]:
    """For each number written in digits, the (analysed) words it counts: "1,7 trillion de
    paramètres" -> {"1.7": {"paramet"}}. A number followed by no word counts nothing here."""
    found: dict[str, set[str]] = {}
    for match in _COUNTED.finditer(text):
        words = analyze(match.group(1))
        if words:
            found.setdefault(normalised(NUMBER.match(match.group(0)).group()), set()).update(words)
    return found


def same_count(number: str, claimed: dict[str, set[str]], window: dict[str, set[str]]) -> bool:
    """False when the sentence says the number counts one thing and the window says it counts
    only others ("1,7 trillion de couches" against "1,7 trillion de paramètres")."""
    said, there = claimed.get(number), window.get(number)
    return not said or not there or bool(said & there)
