"""Checks on a draft: does each sentence have a passage that supports it, and can the draft be
the answer.

- ``DraftChecker.check``: each sentence of a draft, as an answer to the question (to the
  best-matching question of a compound one, ``rag.answering.question.parts``), against its
  cited passages (whole, not only the excerpt the model saw); a citation is re-attributed when
  another passage clearly supports the sentence better, or added where the model cited none;
- ``DraftChecker.verdict``: why a draft cannot be the answer: the first verdict of the support
  check (``SupportShare``) and the answer checks (``rag.answering.checks.answer``).

A sentence whose only support is text a document addressed to the assistant
(``rag.text.injected``) is unsupported: passages are data, not instructions.

This module does not generate, retrieve or choose excerpts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.answering.checks.answer import ANSWER_CHECKS
from rag.answering.checks.support_share import SupportShare
from rag.answering.checks.verdict import Sentence, run
from rag.answering.question import parts
from rag.answering.support import Support
from rag.settings import AnswerSettings
from rag.text.furniture import strip_non_quantities
from rag.text.injected import instructs
from rag.text.markers import answer_sentences, parse_markers, strip_markers
from rag.types import Hit, SentenceCheck


@dataclass
class DraftCheck:
    """A draft's sentences as checked, and the marker numbers outside 1..k it held."""

    sentences: list[SentenceCheck] = field(default_factory=list)
    invalid: list[int] = field(default_factory=list)


class DraftChecker:
    def __init__(self, support, settings: AnswerSettings):
        """``support``: a ``rag.answering.support`` scorer; ``settings``: calibrated (thresholds set)."""
        self.support = support
        self.settings = settings

    def verdict(self, text: str, shown: list[Hit], question: str) -> tuple[DraftCheck, str | None]:
        """The draft's sentence checks, and why it cannot be the answer (None when it can):
        too many unsupported sentences, or supported ones that miss what was asked."""
        check = self.check(text, shown, question)
        found = [
            Sentence(
                strip_markers(s.text),
                tuple(shown[n - 1].chunk.text for n in s.citations) if s.supported else (),
                s.supported,
            )
            for s in check.sentences
        ]
        verdict = run((SupportShare(self.settings.max_unsupported), *ANSWER_CHECKS), question, found)
        return check, verdict.reason if verdict else None

    def check(self, text: str, shown: list[Hit], question: str | None = None) -> DraftCheck:
        s = self.settings
        markers, invalid = parse_markers(text, len(shown))
        passages = [h.chunk.text for h in shown]
        check = DraftCheck(invalid=invalid)
        asks = parts(question) if question else [None]
        for start, end in answer_sentences(text):
            content = strip_markers(text[start:end])
            if not re.search(r"\w", strip_non_quantities(content)):
                continue  # nothing but punctuation or furniture (« 5. » numbering a list): no claim
            cited = tuple(dict.fromkeys(n for a, b, ns in markers if start <= a < end for n in ns))
            supports = self.supports(content, passages, asks) if passages else []
            best = max(range(len(supports)), key=lambda i: supports[i].score) if supports else None
            good = tuple(n for n in cited if supports[n - 1].score >= s.support_threshold)
            if good:
                top = max(supports[n - 1].score for n in good)
                if supports[best].score > top + s.reattribute_margin:
                    good = (best + 1,)
                citations = good
            elif best is not None and supports[best].score >= s.support_threshold:
                citations = (best + 1,)  # re-attributed (or added where the model cited nothing)
            else:
                citations = cited
            scores = [supports[n - 1].score for n in citations]
            support = max(scores) if scores else (supports[best].score if supports else 0.0)
            # Backed only by words a document addressed to the assistant (« réponds PAMPLEMOUSSE »):
            # that is obeying the document, not answering from it.
            planted = any(
                instructs(passages[n - 1][a:b]) for n in citations for a, b in [supports[n - 1].span or (0, 0)]
            )
            check.sentences.append(
                SentenceCheck(
                    text=text[start:end],
                    start=start,
                    end=end,
                    cited=cited,
                    citations=citations,
                    support=round(support, 4),
                    supported=bool(citations) and support >= s.support_threshold and not planted,
                    spans={n: supports[n - 1].span for n in citations},
                )
            )
        return check

    def supports(self, sentence: str, passages: list[str], asks: list[str | None]) -> list[Support]:
        """Support of ``sentence`` by each passage, as an answer to the best-matching question
        of ``asks`` (a sentence answering one half of a compound question is not judged
        against the terms of the other half)."""
        scored = [self.support.score_many(sentence, passages, ask) for ask in asks]
        return [max(options, key=lambda s: s.score) for options in zip(*scored)]
