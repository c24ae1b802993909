"""Cited answers, orchestrated: retrieve -> build the context -> draft -> check -> decide
(answer, fall back, or refuse) -> finish (excerpt, citations, spans).

The flow of ``Answerer.ask_stream`` (``ask`` is the same, collected):

1. retrieve passages, passing over those made mostly of a table of contents or reference
   list (``rag.text.layout.is_navigation``: headings match many questions and answer none);
2. number the passages [1]..[k], each as an excerpt around its best match, fitted to the
   model's context window (``rag.answering.context``);
   decide once whether the passages can answer (``rag.answering.answerability.Gate``: a
   calibrated confidence from retrieval evidence, the best window's support and the model's
   likelihoods; without a calibration, the evidence score against ``min_evidence``): below it,
   refuse before generating, whatever path the answer would take;
3. stream the model's draft; markers outside 1..k are dropped and recorded;
4. check each sentence against its cited passages (``rag.answering.checks``);
5. refuse when the model says so; when the draft fails its check, take a second look from
   the closest passages alone, cut closer (``second_look``); if that fails too, answer with
   the located window itself, verbatim and cited (``located_answer``; ``mode`` "extractive",
   ``draft_rejected`` says why), provided it gives what the question asks; else refuse;
6. finish an accepted draft with the verbatim excerpt that best answers each question
   (``rag.answering.finishing``), leaving out the model's sentences that cite none of the
   excerpts' passages (``focus``); when none remain, the located answer is tried instead.

With no LLM (``llm=None``) the draft is extractive (``rag.answering.extractive``), checked the
same way. This module only orchestrates; each step lives in its own module.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

from rag.answering import prompts
from rag.answering.answerability import Assessor, Calibration, Gate
from rag.answering.calibration import answerability, calibrated
from rag.answering.checks import DraftCheck, DraftChecker, is_refusal
from rag.answering.context import ContextBuilder
from rag.answering.extractive import extractive_answer
from rag.answering.finishing import Finisher, citations, focused
from rag.answering.locate import Locator
from rag.answering.support import LexicalSemanticSupport
from rag.errors import RagError
from rag.llm.base import can_score
from rag.retrieval import Filters, Retriever
from rag.settings import AnswerSettings
from rag.text.layout import is_navigation
from rag.text.markers import MARKER, with_markers
from rag.types import Answer, Hit

_NAVIGATION_SLACK = 3  # passages retrieved beyond k, to replace tables of contents
ELSEWHERE = "the model's sentences cite none of the passages that answer best"


class Answerer:
    def __init__(self, retriever: Retriever, llm=None, support=None, settings: AnswerSettings | None = None):
        """``settings``: thresholds left unset (None) are the calibrated ones for the index's embedder."""
        self.retriever = retriever
        self.llm = llm
        index = retriever.index
        self.settings = calibrated(settings or AnswerSettings(), index.embedder_id, index.directory)
        s = self.settings
        # Looked up through the index each time: ingestion may have changed the word weights.
        self.support = support or LexicalSemanticSupport(retriever.embedder, idf=lambda t: index.keywords().idf(t))
        self.locator = Locator(self.support, llm if s.locate_pool else None, s.locate_pool)
        self.checker = DraftChecker(self.support, s)
        self.finisher = Finisher(self.support, self.locator)
        self.context = ContextBuilder(self.support, llm, s.excerpt_tokens, s.max_new_tokens) if llm else None
        scorer = llm if can_score(llm) else None
        found = answerability(index.embedder_id, getattr(scorer, "model_id", None), index.directory)
        calibration = Calibration.from_dict(found) if found and s.answerability else None
        written = lambda term: index.keywords().document_frequency(term) > 0  # noqa: E731
        self.gate = Gate(Assessor(self.support, self.locator, scorer), calibration, s.min_evidence, written)

    @property
    def mode(self) -> str:
        return "llm" if self.llm is not None else "extractive"

    def ask(self, question: str, k: int | None = None, filters: Filters | None = None) -> Answer:
        answer = None
        for event in self.ask_stream(question, k, filters):
            if event["type"] == "answer":
                answer = event["answer"]
        return answer

    def ask_stream(self, question: str, k: int | None = None, filters: Filters | None = None) -> Iterator[dict]:
        """Events: {"type": "hits", "hits"}, {"type": "token", "text"}..., {"type": "answer", "answer"};
        a draft that fails its check is followed by {"type": "retry", "reason"} and the tokens of
        the second look, which replace it."""
        started = time.perf_counter()
        s = self.settings
        question = " ".join(question.split())
        if not question:
            raise RagError("The question is empty. Type a question about your documents.")
        hits, timings = self.passages(question, k, filters)
        yield {"type": "hits", "hits": hits}

        messages, shown = self.context.prompt(question, hits) if self.llm is not None else (None, hits)
        t = time.perf_counter()
        assessment = self.gate.assess(question, hits, shown, messages)
        timings["evidence"] = assessment.signals["evidence"]
        if assessment.confidence is not None:
            timings["answerability"] = assessment.confidence
        timings["assess"] = time.perf_counter() - t
        reason = self.gate.refusal(assessment)
        if reason:  # the one decision: every path below answers only questions that pass it
            yield {"type": "answer", "answer": self._refusal(question, hits, reason, timings, started)}
            return

        if self.llm is None:
            text = extractive_answer(question, hits, self.support, s.extractive_sentences)
            timings["generate"] = 0.0
        else:
            text = yield from self._generate(messages, timings)

        t = time.perf_counter()
        if not text or is_refusal(text) and not MARKER.search(text):
            answer = self._refusal(question, hits, "the model found no answer in the passages", timings, started)
            yield {"type": "answer", "answer": replace(answer, draft=text)}
            return
        check, reason = self.checker.verdict(text, shown, question)
        timings["check"] = time.perf_counter() - t
        if reason and self.llm is not None and s.second_look:
            # The draft failed its check: read again, the closest passages alone, closer up.
            yield {"type": "retry", "reason": reason}
            picked = self.finisher.closest(question, shown, s.second_look_passages)
            messages = self.context.focused_prompt(question, shown, picked, s.second_look_tokens)
            second: dict = {}
            again = yield from self._generate(messages, second)
            timings["second_look"] = second["generate"]
            if again and not is_refusal(again):
                check_again, reason_again = self.checker.verdict(again, shown, question)
                if not reason_again:
                    text, check, reason = again, check_again, None
        sentences = check.sentences
        mode, rejected = self.mode, None
        if not reason and self.llm is not None and s.quote:
            t = time.perf_counter()
            quotes, answering = self.finisher.quotes(question, sentences, shown, len(text))
            if answering and s.focus:
                sentences = focused(sentences, answering)
                if not sentences:  # the excerpts and the model disagree on where the answer is
                    reason = ELSEWHERE
            sentences = sentences + quotes
            timings["quote"] = time.perf_counter() - t
        if reason and self.llm is not None and s.located_answer:
            # No draft to keep: answer with the passage's own words where they give what is asked.
            t = time.perf_counter()
            located = self.finisher.located(question, shown)
            timings["locate"] = time.perf_counter() - t
            if located:
                check, mode, rejected, sentences, reason = DraftCheck(), "extractive", reason, located, None
        if reason:
            answer = self._refusal(question, hits, reason, timings, started)
            yield {"type": "answer", "answer": replace(answer, sentences=tuple(check.sentences), draft=text)}
            return
        final_text = " ".join(with_markers(s.text, s.citations) for s in sentences)
        timings["total"] = time.perf_counter() - started
        yield {
            "type": "answer",
            "answer": Answer(
                question=question,
                text=final_text,
                citations=citations(sentences, shown),
                hits=tuple(hits),
                sentences=tuple(sentences),
                invalid_markers=tuple(check.invalid),
                mode=mode,
                model=getattr(self.llm, "model_id", "extractive"),
                timings=timings,
                draft=text,
                draft_rejected=rejected,
            ),
        }

    def passages(self, question: str, k: int | None = None, filters: Filters | None = None):
        """The ``k`` passages an answer is drawn from, and the retrieval timings. A table of
        contents or a bibliography matches many questions by its headings and answers none of
        them: such passages are left out, the next ones take their places."""
        k = k or self.settings.k
        retrieval = self.retriever.retrieve(question, k + _NAVIGATION_SLACK, filters)
        hits = [hit for hit in retrieval.hits if not is_navigation(hit.chunk.text)][:k]
        return hits, {"retrieve": retrieval.timings.get("total", 0.0)}

    def _generate(self, messages: list[dict], timings: dict) -> Iterator[dict]:
        """Stream the model's reply as token events; return its text. Fills ``timings``."""
        pieces: list[str] = []
        t = time.perf_counter()
        for piece in self.llm.stream(messages, max_new_tokens=self.settings.max_new_tokens):
            if not pieces:
                timings["first_token"] = time.perf_counter() - t
            pieces.append(piece)
            yield {"type": "token", "text": piece}
        timings["generate"] = time.perf_counter() - t
        text = "".join(pieces).strip()
        decode = timings["generate"] - timings.get("first_token", 0.0)
        n_tokens = self.llm.count_tokens(text) if text else 0
        timings["tokens"] = n_tokens
        timings["tokens_per_second"] = (n_tokens - 1) / decode if n_tokens > 1 and decode > 0 else 0.0
        return text

    def _refusal(self, question: str, hits: list[Hit], reason: str, timings: dict, started: float) -> Answer:
        timings["total"] = time.perf_counter() - started
        return Answer(
            question=question,
            text=prompts.REFUSAL,
            citations=(),
            hits=tuple(hits),
            abstained=True,
            abstain_reason=reason,
            mode=self.mode,
            model=getattr(self.llm, "model_id", "extractive"),
            timings=timings,
        )
