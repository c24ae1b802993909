"""Where the answer is: the windows of the retrieved passages (one or two sentences,
``rag.text.layout.windows``), ranked by how well each answers a question.

Two signals, each standardised (z-score) over a pool of candidates and added:

- support: the support scorer's score of the window for the question (``rag.answering.support``:
  rarity-weighted French term overlap plus e5 similarity). Cheap, so every window gets it; the
  ``pool`` best go on;
- question likelihood, when the LLM can score replies (``rag.llm.can_score``): the mean
  log-probability of the question as the model's reply to « write the question this passage
  answers » given the window (query likelihood, as in UPR: Sachan et al. 2022, "Improving
  Passage Retrieval with Zero-Shot Question Generation"). A window that holds the answer
  makes the question's specific wording predictable; one that only shares its topic does not.

Given the model's ``answer`` too (the sentences it wrote), a third signal is the window's
support for that answer: where the model found what it says.

Given the passages' ``standing`` (the retriever's score of each: its fused dense and keyword
evidence over the whole passage), a window also carries its passage's standing, standardised
over the windows like the other signals. A window is judged on its own words alone by the two
signals above; the retriever judged its passage against the whole corpus, and is the better
measured of the signals (recall@1 of the passage 0.61 on dev, 0.96 on the Debian FAQ). Without
it, a heading or a neighbouring question of a FAQ, worded much like the question, outranks
the answer in the passage retrieval put first.

A window whose words another window of the pool holds, with more, at another place comes
after that fuller copy (slides shown a line at a time repeat the earlier lines; the last one
says the same and what the others leave out).

On dev (51 answerable questions, the answerer's 5 passages, the windows that introduce left out
as for the located answer; ``python -m eval.locate``), the window ranked first holds every
expected keyword for 22 questions by support alone and 30 with the likelihood (pool of 10
windows; before fuller copies came first and windows holding a question were left out: 19 and
28; 25-27 for pools of 5 to 30 in an earlier trial). With the offline model, scoring 10 windows
takes about 3.5 s on 2 CPU cores. Tried and not kept (no gain on dev): a yes/no relevance
judgement by the same model, removing duplicate windows from the pool, the window's preceding
sentences as context, other reductions of the per-token scores, a later part of a compound
question ranked with the names its earlier parts give (``rag.answering.skips.about`` leaves out
the windows about other names instead). Nor, measured on both sets: leaving out the windows that
lie inside a section title of the hits' heading paths (Debian FAQ: citation precision 56.8% ->
53.3%, answers covering a gold quote 55.4% -> 52.9%, false refusals 4 -> 2 of 121; dev unchanged).

This module does not choose what to show or refuse (``rag.answering.answerer``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from rag.answering import prompts
from rag.llm.base import can_score
from rag.text.layout import windows

_CACHE = 4096  # likelihoods kept (question, window); the whole cache is dropped past it


@dataclass(frozen=True)
class Located:
    """A window of ``passages[passage]`` (0-based) at ``span``, and its signals. ``score`` is
    comparable within one ranking only; ``likelihood`` is None when the window was not scored."""

    passage: int
    span: tuple[int, int]
    score: float
    support: float
    likelihood: float | None = None


def _standardised(values: list[float]) -> list[float]:
    mean = sum(values) / len(values)
    spread = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    return [(v - mean) / spread if spread > 1e-9 else 0.0 for v in values]


class Locator:
    def __init__(self, support, llm=None, pool: int = 10):
        """``support``: a ``rag.answering.support`` scorer; ``llm``: a model that can score replies, or
        None (support alone); ``pool``: windows kept for the likelihood, the best by support."""
        self.support = support
        self.llm = llm if can_score(llm) else None
        self.pool = pool
        self._likelihoods: dict[tuple[str, str], float] = {}  # (question, window): a second look reuses them

    def likelihoods(self, question: str, texts: list[str]) -> list[float]:
        """Mean log-probability of ``question`` as the model's reply to « write the question
        this passage answers » after each window text; computed once per question and window."""
        missing = [t for t in dict.fromkeys(texts) if (question, t) not in self._likelihoods]
        if missing:
            if len(self._likelihoods) > _CACHE:
                self._likelihoods.clear()
            asked = [
                [
                    {"role": "system", "content": prompts.QUESTION_FROM_PASSAGE},
                    {"role": "user", "content": prompts.PASSAGE_TO_QUESTION.format(text=text)},
                ]
                for text in missing
            ]
            self._likelihoods.update(zip(((question, t) for t in missing), self.llm.reply_logprobs(asked, question)))
        return [self._likelihoods[question, t] for t in texts]

    def rank(
        self,
        question: str,
        passages: list[str],
        answer: str | None = None,
        skip=None,
        asked: str | None = None,
        standing: list[float] | None = None,
    ) -> list[Located]:
        """Every window of ``passages``, best first: the pool, by its signals added; then the
        others, by support. ``skip(passage_index, span)``: windows to leave out. ``asked``: the
        whole question when ``question`` is one part of it (« …, et quelle est la taille de ce
        modèle ? »): its likelihood is scored, as a part alone may not name what it is about.
        ``standing``: each passage's retrieval score (see the module), a signal when given."""
        places = [(i, span) for i, text in enumerate(passages) for span in windows(text)]
        if skip is not None:
            places = [(i, span) for i, span in places if not skip(i, span)]
        if not places:
            return []
        texts = [passages[i][a:b] for i, (a, b) in places]
        for_question = [s.score for s in self.support.score_many(question, texts)]
        for_answer = [s.score for s in self.support.score_many(answer, texts, question)] if answer else None
        by_passage = [float(standing[i]) for i, _ in places] if standing is not None else None
        guides = [for_question] + [g for g in (for_answer, by_passage) if g is not None]
        first = for_question if len(guides) == 1 else [sum(v) for v in zip(*map(_standardised, guides))]
        order = sorted(range(len(places)), key=lambda j: -first[j])
        pool, rest = order[: self.pool], order[self.pool :]
        signals = [[guide[j] for j in pool] for guide in guides]
        likelihood: dict[int, float] = {}
        if self.llm is not None and len(pool) > 1:
            scores = self.likelihoods(asked or question, [texts[j] for j in pool])
            likelihood = dict(zip(pool, scores))
            signals.append(scores)
        combined = [sum(values) for values in zip(*map(_standardised, signals))]
        ranked = _fuller_first(sorted(zip(pool, combined), key=lambda item: -item[1]), places, texts)
        located = [
            Located(places[j][0], places[j][1], score, for_question[j], likelihood.get(j)) for j, score in ranked
        ]
        floor = min(combined) if combined else 0.0
        located += [Located(places[j][0], places[j][1], floor - 1 - k, for_question[j]) for k, j in enumerate(rest)]
        return located


def _fuller_first(ranked: list[tuple[int, float]], places, texts) -> list[tuple[int, float]]:
    """``ranked`` with each window preceded by the fuller copies of it elsewhere: a window all of
    whose words another window holds, with more, at another place (slides shown a line at a
    time repeat the earlier lines). The fuller one says the same and what the repeat left out;
    it takes the better score of the two, so scores stay in ranked order."""
    words = {j: frozenset(re.findall(r"\w+", texts[j].lower())) for j, _ in ranked}
    out: list[tuple[int, float]] = []
    placed: set[int] = set()
    for j, score in ranked:
        if j in placed:
            continue
        fuller = [
            k
            for k, _ in ranked
            if k not in placed and k != j and words[j] < words[k] and not _same_place(places[j], places[k])
        ]
        for k in fuller:
            out.append((k, score))
            placed.add(k)
        out.append((j, score))
        placed.add(j)
    return out


def _same_place(x: tuple[int, tuple[int, int]], y: tuple[int, tuple[int, int]]) -> bool:
    """Whether two windows (passage, span) share text."""
    return x[0] == y[0] and x[1][0] < y[1][1] and y[1][0] < x[1][1]
