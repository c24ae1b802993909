"""What a question asks for, read off its wording: a quantity, a thing counted, the questions
a compound question asks, the names it is about.

Support scores (``rag.answering.support``) say that a passage backs a sentence; they do not say
that the sentence answers the question. ``asked`` reads what is asked: « combien ... » asks for a
quantity, and so does « quel score / quelle taille / quel volume ... » (a measure noun after
« quel »); « combien de X » also names what is counted. ``quantities`` reads the quantities a
text states, ``new_quantities`` those an answer states that the question does not;
``rag.answering.checks`` holds the checks built on them (``shortfall``).

``parts`` splits a compound question (« Quel modèle ..., et combien de paramètres ... ? ») into
the questions it asks, so that each gets its own excerpt; ``referents`` says what a part that
names nothing is about (« ..., et quel est le poids de ce four ? »: the names of the parts
before it), and ``mentions`` whether a passage writes one of those names. The French word lists
are data (``rag.answering.question_words``). This module does not score support or decide.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.answering.question_words import (
    ARTICLES,
    COPULAS,
    HOW_MANY,
    INTERROGATIVES,
    MEASURE_NOUNS,
    PREPOSITIONS,
    QUANTITY_WORDS,
    UNCHECKED_UNITS,
)
from rag.text.analysis import analyze, analyze_question
from rag.text.furniture import strip_non_quantities
from rag.text.numbers import NUMBER, NUMBER_WORDS, normalised
from rag.text.patterns import alternation

_HOW_MANY = re.compile(rf"\b(?:{alternation(HOW_MANY)})\b", re.IGNORECASE)
_MEASURE = re.compile(
    rf"\bquel(?:le)?s?\s+(?:(?:{alternation(COPULAS)})\s+(?:{alternation(ARTICLES)})\s*)?"
    rf"(?:{alternation(MEASURE_NOUNS)})s?\b",
    re.IGNORECASE,
)
_COUNTED = re.compile(rf"\b(?:{alternation(HOW_MANY)})\s+(?:de\s+|d['’]\s*)([^\W\d_][\w-]*)", re.IGNORECASE)
_NUMBER_WORDS = frozenset(NUMBER_WORDS) | QUANTITY_WORDS
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_NAMES = re.compile(r"\b[^\W\d_][\w]*(?:[-.][\w]+)*", re.UNICODE)  # words, and names with digits in them
# ", et" + (a preposition) + an interrogative word: where a second question starts.
_NEXT_QUESTION = re.compile(
    rf",?\s+et\s+(?=(?:(?:{alternation(PREPOSITIONS)})\s*)?(?:{alternation(INTERROGATIVES)})\b)", re.IGNORECASE
)
# After a number: nothing it counts or measures (an end, a bracket, a comma...).
_BARE = re.compile(r"\s*(?:[^\w\s%‰€$£°]|$)")


@dataclass(frozen=True)
class Asked:
    quantity: bool = False  # "combien ...": the answer must state a number
    counted: str | None = None  # "combien de X": X as written

    @property
    def counted_term(self) -> str | None:
        """X analysed, as it must appear in the cited passages."""
        return analyze(self.counted)[0] if self.counted else None


def asked(question: str) -> Asked:
    """What ``question`` asks for: a quantity (« combien », a measure noun after « quel »), and
    what « combien de X » counts (not a generic measure: « combien de temps »)."""
    if _MEASURE.search(question) and not _HOW_MANY.search(question):
        return Asked(quantity=True)
    if not _HOW_MANY.search(question):
        return Asked()
    match = _COUNTED.search(question)
    if match and match.group(1).lower() not in UNCHECKED_UNITS and analyze(match.group(1)):
        return Asked(quantity=True, counted=match.group(1))
    return Asked(quantity=True)


def parts(question: str) -> list[str]:
    """The questions a compound question asks, each ending with "?"; ``[question]`` when it
    asks one thing or when a part would name nothing (no content term of its own)."""
    pieces = [p.strip(" ,;?") for p in _NEXT_QUESTION.split(question)]
    if len(pieces) < 2 or not all(analyze_question(p) for p in pieces):
        return [question]
    return [f"{p[0].upper()}{p[1:]} ?" for p in pieces]


def names(text: str) -> list[str]:
    """The names in ``text``: words mixing letters and digits (« MPT-7B », « GPT-1 ») and words
    with a capital letter, the first word aside (« MosaicML », « PaLM », « LSTM »)."""
    words = _NAMES.findall(text)
    return list(
        dict.fromkeys(
            w
            for i, w in enumerate(words)
            if (re.search(r"\d", w) and re.search(r"[^\W\d_]", w)) or (i > 0 and re.search(r"[A-ZÀ-Ý]", w))
        )
    )


def distinct_names(text: str) -> list[str]:
    """The names of ``text`` that no common word could be: with letters and digits (« GPT-4 »)
    or a capital after a small letter (« DeepSeek », « PaLM »). Capitalised words and acronyms
    (« Modèle », « LLM ») may be anything's."""
    return [w for w in names(text) if re.search(r"\d", w) or re.search(r"[a-zà-ÿ][A-ZÀ-Ý]", w)]


def referents(question: str) -> list[tuple[str, tuple[str, ...]]]:
    """Each part of ``question`` (``parts``) with the names it is about without writing them: a
    later part that names nothing of its own (« ..., et quel est le poids de ce four ? »)
    is about the names of the parts before it; the others, () (they say what they are about)."""
    found, seen = [], []
    for part in parts(question):
        own = names(part)
        found.append((part, () if own else tuple(seen)))
        seen += [n for n in own if n not in seen]
    return found


def mentions(text: str, wanted: Sequence[str]) -> bool:
    """Whether ``text`` writes one of the names ``wanted``, case and separators aside (« GPT-1 »
    in « GPT1 », « PaLM » in « PALM »), as a whole word (« MPT » is not in « compte »)."""
    return any(pattern.search(text) for pattern in map(_name_pattern, wanted) if pattern is not None)


@functools.lru_cache(maxsize=1024)
def _name_pattern(name: str) -> re.Pattern | None:
    """``name`` as a whole word, its letter and digit runs joined by any separators; None
    when it has none."""
    chunks = re.findall(r"[^\W\d_]+|\d+", name)
    if not chunks:
        return None
    return re.compile(r"(?<!\w)" + r"[\s\-–._]*".join(map(re.escape, chunks)) + r"(?!\w)", re.IGNORECASE)


def quantities(text: str) -> set[str]:
    """Numbers in digits (normalised by ``rag.text.numbers.numbers``) and French number words;
    not the numbers that are no quantity (``rag.text.furniture``: the digits of a name, a section
    number heading a line, a figure's or a reference's number)."""
    words = {w for w in _WORD.findall(text.lower()) if w in _NUMBER_WORDS}
    return {normalised(m.group()) for m in NUMBER.finditer(strip_non_quantities(text))} | words


@functools.lru_cache(maxsize=4096)
def new_quantities(text: str, question: str) -> frozenset[str]:
    """The quantities ``text`` states that ``question`` does not.

    A number is the question's own only if the question states it as a quantity. The digits of a
    name the question writes (« XYZ-7B ») cancel an answer's number only where the answer writes
    it as (part of) that name: the name with any separators (« XYZ – 7B »), or the digits alone,
    counting nothing (« (Four Bois 12) » for « FB-12 »); « 7 milliards de paramètres » states a
    quantity, whatever name holds a 7.
    """
    named = [n for n in names(question) if re.search(r"\d", n)]
    for pattern in filter(None, map(_name_pattern, named)):
        text = pattern.sub(lambda m: " " * len(m.group()), text)
    name_digits = {normalised(d) for n in named for d in NUMBER.findall(re.sub(r"[^\d.,]+", " ", n))}
    stripped = strip_non_quantities(text)
    found = {w for w in _WORD.findall(text.lower()) if w in _NUMBER_WORDS}
    for match in NUMBER.finditer(stripped):
        number = normalised(match.group())
        if number not in name_digits or not _BARE.match(stripped, match.end()):
            found.add(number)
    return frozenset(found - quantities(question))
