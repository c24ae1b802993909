"""Finishing an answer in the passages' own words: excerpts, the located answer, citations.

- ``Finisher.quotes``: after an accepted draft, for each question the question asks, the
  window (one or two passage sentences) that best answers it, as a verbatim « Extrait : … »
  sentence — a small model paraphrases loosely and drops the exact name or figure; the
  excerpt gives the reader the passage's own words. Windows are located by
  ``rag.answering.locate`` with the draft's supported sentences as a third guide;
- ``focused``: the model's sentences that cite none of the excerpts' passages are left out
  (that passage was passed over as an answer to the question, and is usually a tangent);
- ``Finisher.located``: when no draft passes, the window that answers each question best,
  verbatim and cited, provided it gives what the question asks;
- ``Finisher.closest``: the passages whose best windows answer best (for the second look);
- ``citations``: each cited passage once, with its best supporting span.

A question's later part that names nothing of its own (« ..., et quel est le poids de ce
four ? ») is about the names before it (``rag.answering.question.referents``): its window comes
from a passage that writes one of them, and not from after another name. This module does
not generate or refuse.
"""

from __future__ import annotations

import re

from rag.answering.checks import shortfall
from rag.answering.question import referents
from rag.answering.skips import about, either, instructing, introducing, not_answering
from rag.text.markers import strip_markers
from rag.types import Citation, Hit, SentenceCheck


class Finisher:
    def __init__(self, support, locator):
        self.support = support
        self.locator = locator

    def quotes(
        self, question: str, sentences: list[SentenceCheck], shown: list[Hit], at: int
    ) -> tuple[list[SentenceCheck], set[int]]:
        """For each question the question asks, the passage window that best answers it, as an
        added answer sentence; none that the answer already contains, none twice. Also the
        numbers of the passages those windows come from, the ones left out included.

        The question says what is asked (its support and likelihood), the model's answer where
        it found it. ``at``: the draft's length, where the sentences are placed (they are not in
        the draft).
        """
        texts = [h.chunk.text for h in shown]
        claim = " ".join(strip_markers(s.text) for s in sentences if s.supported)
        if not texts or not claim:
            return [], set()
        quotes: list[SentenceCheck] = []
        answering: set[int] = set()
        parts = referents(question)
        prior = standing(shown, parts)
        for part, names in parts:
            skip = either(not_answering(part, texts, question), about(names, texts), instructing(texts))
            ranked = self.locator.rank(part, texts, answer=claim, skip=skip, asked=question, standing=prior)
            if not ranked:
                continue
            n, (a, b) = ranked[0].passage + 1, ranked[0].span
            chosen = [texts[m - 1][x:y] for q in quotes for m, (x, y) in q.spans.items()]
            best = max(w.support for w in ranked)
            if chosen and max(s.score for s in self.support.score_many(part, chosen)) >= best:
                continue  # an excerpt already chosen answers this question as well as any window
            answering.add(n)
            said = claim + " " + " ".join(q.text for q in quotes)
            if words(plain(texts[n - 1][a:b])) in words(said) or quoted(quotes, ranked[0]):
                continue
            quotes.append(quote(n, texts[n - 1], (a, b), at))
        return quotes, answering

    def located(self, question: str, shown: list[Hit]) -> list[SentenceCheck]:
        """The located answer: for each question the question asks, the window that answers it
        best, as verbatim excerpts; none when they do not give what is asked
        (``rag.answering.checks.shortfall``: a restatement, no number for « combien »...)."""
        texts = [h.chunk.text for h in shown]
        quotes: list[SentenceCheck] = []
        parts = referents(question)
        prior = standing(shown, parts)
        for part, names in parts:
            skip = either(introducing(texts), about(names, texts), instructing(texts))
            ranked = self.locator.rank(part, texts, skip=skip, asked=question, standing=prior)
            if ranked and quoted(quotes, ranked[0]):
                # Its best window is quoted already: enough if the quotes give what it asks,
                # else its best window elsewhere that does.
                falls_short = not_answering(part, texts, question)
                ranked = (
                    []
                    if not shortfall(part, as_answered(quotes, texts), question)
                    else [w for w in ranked if not quoted(quotes, w) and not falls_short(w.passage, w.span)]
                )
            if ranked:
                quotes.append(quote(ranked[0].passage + 1, texts[ranked[0].passage], ranked[0].span, at=0))
        if not quotes or shortfall(question, as_answered(quotes, texts)):
            return []
        return quotes

    def closest(self, question: str, shown: list[Hit], wanted: int) -> list[int]:
        """Numbers (1-based) of the ``wanted`` passages whose best window answers the question
        best, taken in turn from each question of a compound question's ranking, so that each
        gets its best passage first."""
        texts = [h.chunk.text for h in shown]
        parts = referents(question)
        prior = standing(shown, parts)
        rankings = [
            [
                w.passage
                for w in self.locator.rank(part, texts, skip=about(names, texts), asked=question, standing=prior)
            ]
            for part, names in parts
        ]
        picked = [n for turn in zip(*rankings) for n in turn]
        picked += [n for ranking in rankings for n in ranking]
        wanted = max(wanted, len(rankings))
        return [i + 1 for i in list(dict.fromkeys(picked))[:wanted]]


def standing(shown: list[Hit], parts: list) -> list[float] | None:
    """Each passage's retrieval score, the locator's passage-level signal, for a question that
    asks one thing. Retrieval ranked the passages for the whole question: for one part of a
    compound question, the ranking does not say which passage answers that part (None)."""
    return [h.score for h in shown] if len(parts) == 1 else None


def focused(sentences: list[SentenceCheck], answering: set[int]) -> list[SentenceCheck]:
    """The model's sentences that cite a passage in ``answering`` (where the excerpts come
    from, or would, had the answer not already said them). The others are backed by a
    passage, but one that the question-weighted excerpt choice passed over: on dev, such a
    passage held the gold evidence 3 times in 10 (the ones shared with an excerpt 31 in 35).
    The draft keeps them (``Answer.draft``)."""
    return [s for s in sentences if set(s.citations) & answering]


def citations(sentences: list[SentenceCheck], shown: list[Hit]) -> tuple[Citation, ...]:
    """Each passage the sentences cite, once, with the span of its best-supported sentence."""
    best: dict[int, tuple[float, tuple[int, int]]] = {}
    for sentence in sentences:
        for n in sentence.citations:
            if n not in best or sentence.support > best[n][0]:
                best[n] = (sentence.support, sentence.spans[n])
    return tuple(Citation(n, shown[n - 1], best[n][1]) for n in sorted(best))


def quote(n: int, passage: str, span: tuple[int, int], at: int) -> SentenceCheck:
    """Passage ``n``'s window at ``span`` as a verbatim excerpt sentence, placed at ``at``."""
    return SentenceCheck(
        text=f"Extrait : « {plain(passage[span[0] : span[1]])} »",
        start=at,
        end=at,
        cited=(),
        citations=(n,),
        support=1.0,  # verbatim
        supported=True,
        spans={n: span},
        quote=True,
    )


def plain(passage_text: str) -> str:
    """Passage text as it reads inside an answer: markdown heading marks and bold asterisks
    out, a title line ended by " —" before the text it heads, whitespace runs as one space,
    and bracketed numbers out (they would read as citations)."""
    lines = []
    for line in passage_text.splitlines():
        line = re.sub(r"^\s{0,3}#{1,6}\s+", "", line).replace("**", "").strip()
        if line:
            lines.append(line)
    heads = [line if re.search(r"[.!?…:;,»)\]]$", line) else f"{line} —" for line in lines[:-1]]
    return re.sub(r" (?=[.,])", "", strip_markers(" ".join([*heads, *lines[-1:]])))


def words(text: str) -> str:
    """Lower-case words between spaces: for "is this text inside that one" without punctuation."""
    return " " + " ".join(re.findall(r"\w+", text.lower())) + " "


def as_answered(quotes: list[SentenceCheck], passages: list[str]) -> list[tuple[str, list[str]]]:
    """``quotes`` as ``shortfall`` reads an answer: each window as it stands in its passage (a
    line's section number is told apart there), with that passage."""
    return [(passages[n - 1][a:b], [passages[n - 1]]) for q in quotes for n, (a, b) in q.spans.items()]


def quoted(quotes: list[SentenceCheck], window) -> bool:
    """Whether ``window`` (a ``rag.answering.locate.Located``) overlaps one of ``quotes``."""
    return any(overlap(q.spans.get(window.passage + 1, (0, 0)), window.span) for q in quotes)


def overlap(x: tuple[int, int], y: tuple[int, int]) -> bool:
    return x[0] < y[1] and y[0] < x[1]
