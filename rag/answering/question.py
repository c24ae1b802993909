"""What a question asks for, read off its wording, and whether a checked answer gives it.

Support scores (``rag.answering.support``) say that a passage backs a sentence; they do not say that the
sentence answers the question. Asked something the documents do not say, a small model
answers a neighbouring question the passages do answer: "175 milliards de paramètres" for
"Combien de GPU ... ?", a restatement of the question, a description with no figure. Three
checks catch that without a model:

- an answer must add something to the question: a sentence whose content terms and numbers
  are all the question's own only restates it;
- "combien ..." asks for a quantity, and so does « quel score / quelle taille / quel volume
  ... » (a measure noun after "quel"): some answering sentence must state a number (digits or
  a French number word) that the question does not already contain; the digits of a name
  ("GPT-3.5") are no quantity;
- "combien de X" also names what is counted: the passages cited by the sentences that give a
  number must mention X (stemmed). Generic measures ("combien de temps", "de fois") name
  nothing a passage must repeat and are not checked.

``shortfall`` returns why an answer falls short, or None. ``parts`` splits a compound
question ("Quel modèle ..., et combien de paramètres ... ?") into the questions it asks, so
that each gets its own excerpt; ``referents`` says what a part that names nothing is about
(« ..., et quel est le poids de ce four ? »: the names of the parts before it), and
``mentions`` whether a passage writes one of those names. This module does not score support
or decide thresholds; ``rag.answering`` refuses when ``shortfall`` returns a reason.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.text.analysis import analyze, analyze_question
from rag.text.layout import OUTLINE
from rag.text.markers import strip_markers
from rag.text.numbers import NUMBER_WORDS, numbers

_HOW_MANY = re.compile(r"\bcombien\b", re.IGNORECASE)
# "Quel score ...", "Quelle est la taille ...", "quel volume de données": a measure is asked for,
# as with "combien", but nothing is counted by name.
_MEASURE = re.compile(
    r"\bquel(?:le)?s?\s+(?:(?:est|sont|était|étaient|serait|fut)\s+(?:le|la|les|l['’])\s*)?"
    r"(?:score|taille|nombre|prix|coût|montant|quantité|volume|pourcentage|proportion|part|durée|âge|poids|"
    r"probabilité|gain|fréquence|budget|chiffre|valeur|vitesse|débit|superficie|longueur|hauteur|distance)s?\b",
    re.IGNORECASE,
)
_COUNTED = re.compile(r"\bcombien\s+(?:de\s+|d['’]\s*)([^\W\d_][\w-]*)", re.IGNORECASE)
_UNCHECKED_UNITS = frozenset({"temps", "fois", "plus", "moins"})
# Number words: those ``rag.answering.support`` reads as digits, and the ones that say « about so many »
# or a scale; "un"/"une" are left out: they are articles far more often than quantities.
_NUMBER_WORDS = frozenset(NUMBER_WORDS) | frozenset(
    """vingts cents mille million millions milliard milliards septante huitante nonante dizaine dizaines
    douzaine douzaines centaine centaines millier milliers moitié tiers quart quarts""".split()
)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_NAMES = re.compile(r"\b[^\W\d_][\w]*(?:[-.][\w]+)*", re.UNICODE)  # words, and names with digits in them
# ", et" + (a preposition) + an interrogative word: where a second question starts.
_NEXT_QUESTION = re.compile(
    r",?\s+et\s+(?=(?:(?:à|de|d['’]|dans|sur|par|pour|en|avec|selon)\s*)?"
    r"(?:quel|quelle|quels|quelles|combien|comment|qui|où|quand|que|qu['’]|pourquoi|quoi|lequel|laquelle)\b)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Asked:
    quantity: bool = False  # "combien ...": the answer must state a number
    counted: str | None = None  # "combien de X": X as written

    @property
    def counted_term(self) -> str | None:
        """X analysed, as it must appear in the cited passages."""
        return analyze(self.counted)[0] if self.counted else None


def asked(question: str) -> Asked:
    if _MEASURE.search(question) and not _HOW_MANY.search(question):
        return Asked(quantity=True)
    if not _HOW_MANY.search(question):
        return Asked()
    match = _COUNTED.search(question)
    if match and match.group(1).lower() not in _UNCHECKED_UNITS and analyze(match.group(1)):
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
    """Numbers in digits (normalised by ``rag.text.numbers.numbers``) and French number words; not
    the digits of a name ("GPT-3.5", "V3", "Llama3": a word that starts with a letter), nor a
    section number heading a line (« 8 -3 -17 - Comparaison ... »)."""
    words = {w for w in _WORD.findall(text.lower()) if w in _NUMBER_WORDS}
    return numbers(_NAMES.sub(" ", OUTLINE.sub(" ", text))) | words


def _named_numbers(text: str) -> set[str]:
    """The numbers inside the names of ``text`` ("GPT-4" -> "4"): an answer that writes the name
    apart (« GPT – 4 ») gives no new quantity by it."""
    return {n for name in _NAMES.findall(text) for n in numbers(re.sub(r"[^\d.,]+", " ", name))}


def shortfall(question: str, answered: Sequence[tuple[str, Sequence[str]]], whole: str | None = None) -> str | None:
    """Why the answer does not give what ``question`` asks, or None when it may.

    ``answered``: each supported answer sentence with the texts of the passages it cites.
    ``whole``: the compound question ``question`` is a part of; its numbers are no new ones
    either (« FB-12 » named in one part, « (Four Bois 12) » answers no « combien » of another).
    """
    if not answered:
        return None
    question_terms = set(analyze(question))
    asking = f"{question} {whole}" if whole else question
    question_quantities = quantities(asking) | _named_numbers(asking)
    adding = [
        (sentence, passages)
        for sentence, passages in ((strip_markers(s), p) for s, p in answered)
        if set(analyze(sentence)) - question_terms or quantities(sentence) - question_quantities
    ]
    if not adding:
        return "the answer only restates the question"
    want = asked(question)
    if not want.quantity:
        return None
    counting = [(s, p) for s, p in adding if quantities(s) - question_quantities]
    if not counting:
        return "the question asks how many and the answer gives no number"
    if want.counted_term is not None:
        cited = " ".join(text for _, passages in counting for text in passages)
        if want.counted_term not in set(analyze(cited)):
            return f"the question counts « {want.counted} », which the cited passages never mention"
    return None
