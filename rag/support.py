"""Does a passage support an answer sentence? A score in [0, 1] and the span that supports it,
without an NLI model.

The score mixes two signals, each computed against windows of one or two consecutive
sentences of the passage, keeping the best window (that window is the highlighted span):

- lexical: the share of the sentence's French content terms (``rag.analysis``: stemmed,
  accent-folded, stop words out) that the window contains, weighted by how rare each term
  is in the index (a shared "modèle" proves less than a shared "MosaicML");
- semantic: the embedder's cosine between the sentence and the window, rescaled from
  e5's narrow band of useful values to [0, 1].

Given the ``question`` the sentence answers, the claim checked is the question's terms plus
the sentence's, the sentence's *new* terms (not in the question) weighing double: a window
must hold what the answer adds and what it is about, so a terse answer ("17") is supported
by a window naming both the consortium and 17 members, not by any window containing "17". A number the sentence
adds that the window does not contain scales the score down in proportion: invented figures
are the commonest hallucination of small models, and they share every other word with the
passage. So does a number the window holds but counting something else: the model's « 1,7
trillion de couches » is not the passage's « 1,7 trillion de paramètres ».

When an NLI cross-encoder is configured, ``NLISupport`` scores entailment instead.
Thresholds on these scores are calibrated by ``eval`` and stored, not set here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from rag.analysis import analyze, analyze_question
from rag.embedders import Embedder
from rag.errors import MissingDependencyError, ModelError

# e5 cosines between unrelated French sentences sit near 0.75 and paraphrases near 0.92.
SEM_LOW, SEM_HIGH = 0.76, 0.93
_MARKERS = re.compile(r"\[\s*\d+(?:\s*[,;-]\s*\d+)*\s*\]")
_NUMBER = re.compile(r"\d+(?:[ \u00a0\u202f]\d{3}(?!\d))*(?:[.,]\d+)?")
# Answers with fewer content terms than this are embedded together with their question.
TERSE = 4


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


def numbers(text: str) -> set[str]:
    """The numbers written in digits, normalised ("1 800" -> "1800", "1,7" -> "1.7"), and
    simple number words as digits ("cinq" -> "5"; not inside "vingt-deux")."""
    found = {_normalised(m.group()) for m in _NUMBER.finditer(text)}
    return found | {NUMBER_WORDS[m.group().lower()] for m in _NUMBER_WORD.finditer(text)}


@lru_cache(maxsize=1)
def _digit_of_term() -> dict[str, str]:
    return {term: digits for word, digits in NUMBER_WORDS.items() for term in analyze(word)}


def _terms(text: str, analyzer=analyze) -> set[str]:
    """The analysed terms of ``text``, a number word's as its digits (« zéro » meets « 0 »)."""
    digit = _digit_of_term()
    return {digit.get(term, term) for term in analyzer(text)}


def _normalised(number: str) -> str:
    return re.sub(r"[ \u00a0\u202f]", "", number).replace(",", ".")


# What a number counts: the first content word after it, past scale words and "de".
_SCALE = r"(?:%|pour\s*cents?|milliers?|mille|millions?|milliards?|billions?|trillions?|[kMGT]?B\b)"
_COUNTED = re.compile(
    r"(?<![\w.,-])"  # not the digits of a name: GPT-4, V3
    + _NUMBER.pattern
    + rf"(?:\s*{_SCALE})*+"  # possessive: a scale word is never what is counted
    + r"(?:\s+(?:de|d'|d’|des))?\s*([^\W\d_]{3,})",
    re.IGNORECASE,
)


def counted(text: str) -> dict[str, set[str]]:
    """For each number written in digits, the (analysed) words it counts: "1,7 trillion de
    paramètres" -> {"1.7": {"paramet"}}. A number followed by no word counts nothing here."""
    found: dict[str, set[str]] = {}
    for match in _COUNTED.finditer(text):
        terms = analyze(match.group(1))
        if terms:
            found.setdefault(_normalised(_NUMBER.match(match.group(0)).group()), set()).update(terms)
    return found


def _same_count(number: str, claimed: dict[str, set[str]], window: dict[str, set[str]]) -> bool:
    """False when the sentence says the number counts one thing and the window says it counts
    only others ("1,7 trillion de couches" against "1,7 trillion de paramètres")."""
    said, there = claimed.get(number), window.get(number)
    return not said or not there or bool(said & there)


def split_sentences(text: str) -> list[tuple[int, int]]:
    from ingest.sentences import split_sentences as split

    return split(text)


# A table-of-contents entry: a section number, a title, a page number (after spaces, a tab or
# dot leaders); or any title followed by dot leaders and a page number.
_TOC_ENTRY = re.compile(
    r"^[ \t]*(?:(?:\d+(?:\.\d+)*\.?|[IVXLCDM]+\.|[A-Z]\.)[ \t]+(?P<title>\S[^\n]*?)(?:[ \t]*(?:\.[ \t]?){3,}|…+|[ \t]+)"
    r"|\S[^\n]*?[ \t]*(?:(?:\.[ \t]?){3,}|…{2,})[ \t]*)(?P<page>\d{1,4})[ \t]*$",
    re.MULTILINE,
)
_TOC_RUN = 3


def table_of_contents(passage: str) -> list[tuple[int, int]]:
    """Offsets of the passage's table-of-contents lines: runs of at least three consecutive
    entries whose page numbers never decrease (a table whose rows end with a number rarely
    does both; a row with tab-separated numbers inside is not an entry)."""
    runs: list[list[tuple[int, int, int]]] = [[]]
    position = 0
    for line in passage.splitlines(keepends=True):
        end = position + len(line.rstrip("\r\n"))
        entry = _TOC_ENTRY.match(passage, position, end) if line.strip() else None
        if entry and entry.end() == end and not re.search(r"\t\d+\t", entry.group("title") or ""):
            page = int(entry.group("page"))
            if runs[-1] and page < runs[-1][-1][2]:
                runs.append([])
            runs[-1].append((position, end, page))
        elif line.strip():
            runs.append([])
        position += len(line)
    return [(a, b) for run in runs if len(run) >= _TOC_RUN for a, b, _ in run]


# A numbered entry of a reference list: "- 30) Author. *Title*. <https://...>", "[12] ... 2020,
# http://...", "13. Cemantix : <https://...>": a list marker and a number, then a line holding
# a link and few words besides (a numbered footnote that explains something is longer).
_REFERENCE_ENTRY = re.compile(r"^[ \t]*(?:[-*•][ \t]*)?(?:\d{1,4}[).]|\[\d{1,4}\])[ \t]+[^\n]*$", re.MULTILINE)
_LINK = re.compile(r"<?(?:https?://|www\.)[^\s>]+>?")
_REFERENCE_WORDS = 30


def references(passage: str) -> list[tuple[int, int]]:
    """Offsets of the passage's reference-list entries (numbered lines with a link and at most
    ``_REFERENCE_WORDS`` other words): a bibliography says where something was read, not what
    it says."""
    found = []
    for match in _REFERENCE_ENTRY.finditer(passage):
        line = match.group()
        if _LINK.search(line) and len(_LINK.sub(" ", line).split()) <= _REFERENCE_WORDS:
            found.append(match.span())
    return found


def _listing(passage: str) -> list[tuple[int, int]]:
    """Table-of-contents lines and reference-list entries, in passage order."""
    return sorted(table_of_contents(passage) + references(passage))


def is_navigation(passage: str) -> bool:
    """Whether table-of-contents lines and reference entries make up most of the passage's
    non-blank characters: such a passage lists where things are said, it says none of them."""
    lines = _listing(passage)
    if not lines:
        return False
    listed = sum(len("".join(passage[a:b].split())) for a, b in lines)
    return listed > len("".join(passage.split())) / 2


def windows(passage: str) -> list[tuple[int, int]]:
    """The passage's windows of one sentence, then of two consecutive sentences, as offsets;
    none made only of table-of-contents lines or reference entries (a heading listed with its
    page, a title listed with its link, answers nothing)."""
    spans = split_sentences(passage) or [(0, len(passage))]
    found = spans + [(a[0], b[1]) for a, b in zip(spans, spans[1:])]
    lines = _listing(passage)
    if not lines:
        return found
    return [(a, b) for a, b in found if not _inside_lines(passage, a, b, lines)]


def _inside_lines(passage: str, start: int, end: int, lines: list[tuple[int, int]]) -> bool:
    """Whether every non-blank character of passage[start:end] lies on one of ``lines``."""
    covered = [False] * (end - start)
    for a, b in lines:
        for i in range(max(a, start), min(b, end)):
            covered[i - start] = True
    return all(covered[i] or passage[start + i].isspace() for i in range(end - start))


def strip_markers(text: str) -> str:
    return " ".join(_MARKERS.sub(" ", text).split())


@dataclass(frozen=True)
class Support:
    score: float
    span: tuple[int, int]  # inside the passage text
    lexical: float
    semantic: float


class LexicalSemanticSupport:
    """Support from weighted term overlap plus embedding similarity; caches embeddings per text."""

    def __init__(self, embedder: Embedder | None, idf: Callable[[str], float] | None = None, lexical_weight=0.5):
        self.embedder = embedder
        self.idf = idf or (lambda term: 1.0)
        self.lexical_weight = lexical_weight if embedder is not None else 1.0
        self._vectors: dict[str, np.ndarray] = {}

    def _embed(self, texts: list[str]) -> list[np.ndarray]:
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            for text, vector in zip(missing, self.embedder.embed_passages(missing)):
                self._vectors[text] = vector
        return [self._vectors[t] for t in texts]

    def lexical(self, sentence_terms: set[str], window_terms: set[str], double: set[str] = frozenset()) -> float:
        """Rarity-weighted share of ``sentence_terms`` in the window; terms in ``double`` weigh twice."""

        def weight(term: str) -> float:
            return self.idf(term) * (2.0 if term in double else 1.0)

        total = sum(weight(t) for t in sentence_terms)
        if total == 0:
            return 0.0
        return sum(weight(t) for t in sentence_terms & window_terms) / total

    def score_many(self, sentence: str, passages: list[str], question: str | None = None) -> list[Support]:
        """Support of ``sentence`` (an answer to ``question``, when given) by each passage, in
        one embedding call."""
        sentence = strip_markers(sentence)
        terms = _terms(sentence)
        asked = _terms(question, analyze_question) if question else set()
        new_terms = terms - asked
        new_numbers = numbers(sentence) - (numbers(question) if question else set())
        claimed = counted(sentence) if new_numbers else {}
        claim = f"{question} {sentence}" if question and len(terms) < TERSE else sentence
        all_windows = [windows(p) for p in passages]
        texts = [p[a:b] for p, ws in zip(passages, all_windows) for a, b in ws]
        sims: list[float] = []
        if self.embedder is not None and texts:
            vectors = self._embed([claim, *texts])
            sims = [float(vectors[0] @ v) for v in vectors[1:]]
        results, position = [], 0
        for passage, spans in zip(passages, all_windows):
            best: Support | None = None
            for a, b in spans:
                window = passage[a:b]
                window_terms = _terms(window)
                if asked:  # the claim is the question's terms plus the sentence's, the new ones counting double
                    lex = self.lexical(terms | asked, window_terms, double=new_terms)
                else:
                    lex = self.lexical(terms, window_terms)
                sem = 0.0
                if sims:
                    sem = min(1.0, max(0.0, (sims[position] - SEM_LOW) / (SEM_HIGH - SEM_LOW)))
                position += 1
                score = self.lexical_weight * lex + (1 - self.lexical_weight) * sem
                if new_numbers:
                    window_counts = counted(window)
                    held = {n for n in new_numbers & numbers(window) if _same_count(n, claimed, window_counts)}
                    score *= len(held) / len(new_numbers)
                # Prefer the shorter window on ties: a tighter highlight.
                if best is None or score > best.score + 1e-9:
                    best = Support(score, (a, b), lex, sem)
            results.append(best or Support(0.0, (0, 0), 0.0, 0.0))
        return results


class NLISupport:
    """Entailment probability from a sentence-transformers NLI ``CrossEncoder`` (hub id or dir)."""

    def __init__(self, name: str):
        try:
            from sentence_transformers import CrossEncoder
        except ImportError as exc:
            raise MissingDependencyError("sentence-transformers", extra="st", purpose="NLI checking") from exc
        try:
            self._model = CrossEncoder(name)
        except Exception as exc:
            raise ModelError(f"Could not load the NLI model {name!r}: {exc}") from exc
        labels = {v.lower(): k for k, v in self._model.config.id2label.items()}
        self._entail = labels.get("entailment", 0)

    def score_many(self, sentence: str, passages: list[str], question: str | None = None) -> list[Support]:
        sentence = strip_markers(sentence)
        if question and len(analyze(sentence)) < TERSE:  # a terse answer means little without its question
            sentence = f"{question} {sentence}"
        results = []
        for passage in passages:
            spans = split_sentences(passage) or [(0, len(passage))]
            pairs = [(passage, sentence)] + [(passage[a:b], sentence) for a, b in spans]
            logits = np.asarray(self._model.predict(pairs))
            probs = np.exp(logits - logits.max(axis=1, keepdims=True))
            probs = probs / probs.sum(axis=1, keepdims=True)
            entail = probs[:, self._entail]
            best = int(np.argmax(entail[1:])) if len(spans) else 0
            results.append(Support(float(entail[0]), spans[best], math.nan, float(entail[0])))
        return results
