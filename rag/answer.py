"""Cited answers: prompt -> LLM -> parse [n] -> check every sentence -> abstain or answer.

The flow of ``Answerer.ask_stream`` (``ask`` is the same, collected):

1. retrieve passages, passing over those made mostly of a table of contents (``rag.support.
   is_navigation``: headings match many questions and answer none); if the evidence is weak (the question's rare terms are missing from
   the best passages), refuse before generating — the calibrated ``min_evidence``;
2. number the passages [1]..[k] with their source and page, each shown as its excerpt
   around the sentences that best match the question (``excerpt_tokens``: a small model
   answers better from a few focused sentences than from long passages), and fit them to
   the model's context window by counting tokens (passages are dropped from the end, the
   question is never truncated);
3. stream the model's answer; markers outside 1..k are dropped and recorded;
4. check each sentence, as an answer to the question (to the best-matching one of a
   compound question's, ``rag.asked.parts``), against its cited passage(s) (whole,
   not only the excerpt) with ``rag.support``; re-attribute a
   citation when another passage clearly supports the sentence better; flag unsupported
   sentences; keep the supporting span in each passage for highlighting;
5. refuse after generation when the model says so, when most sentences are unsupported, or
   when the supported ones do not give what the question asks (``rag.asked``: a restatement
   of the question, no number for "combien", a count of something the cited passages never
   mention). Before refusing a draft that failed the check (not one where the model said
   the answer is not there), take a second look (``second_look``): the model answers again
   from the ``second_look_passages`` passages whose best window answers the question best
   (``rag.locate``), each cut closer around it; that draft is checked the same way and
   answers if it passes. If it fails too, the answer is the located window itself, verbatim
   and cited (``located_answer``; ``mode`` "extractive", ``draft_rejected`` says why the
   drafts were not used), provided it gives what the question asks (``rag.asked``); else
   the refusal stands;
6. end the answer with a verbatim excerpt, « Extrait : « ... » [n] »: the one or two passage
   sentences that best answer the question (one excerpt per question of a compound
   question), located (``rag.locate``: support, the LLM's question likelihood) with the
   model's answer as a third guide. A small model paraphrases loosely and drops the exact
   name or figure; the excerpt gives the reader the passage's own words.
   The model's sentences that cite none of the excerpts' passages are left out (``focus``):
   that passage was passed over as an answer to the question, and is usually a tangent.
   When that leaves none of the model's sentences, the model and the excerpts disagree on
   where the answer is: the answer is then the located one (step 5), judged alone.
   A question's later part that names nothing of its own (« ..., et quel est le poids de
   ce four ? ») is about the names before it (``rag.asked.referents``): its window comes
   from a passage that writes one of them, and not from after another name (« Le BrasEro
   pèse douze cents kilos. »): the figure of another thing is no answer.

With no LLM (``llm=None``) the answer is extractive: the best-supported sentences of the
passages, cited the same way. This module does not retrieve (``rag.retriever``) or load
models (``rag.llms``).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from rag import prompts
from rag.analysis import analyze, analyze_question
from rag.asked import SECTION_NUMBER, distinct_names, mentions, parts, referents, shortfall
from rag.errors import RagError
from rag.locate import Locator
from rag.retriever import Filters, Retriever
from rag.support import LexicalSemanticSupport, Support, is_navigation, split_sentences, strip_markers
from rag.types import Answer, Citation, Hit, SentenceCheck

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
_MARKER = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
_NAVIGATION_SLACK = 3  # passages retrieved beyond k, to replace tables of contents
# A last line that is a heading: markdown's, or a section number and a title (« 4.2 Historique des LLM »).
_ENDS_WITH_HEADING = re.compile(
    r"(?:^|\n)(?:\s{0,3}#{1,6}\s[^\n]*"
    rf"|[ \t]*{SECTION_NUMBER}[ \t]*[-–.]?[ \t]+[^\W\d_][^\n]*[^\s.!?…:;,])\s*$"
)
_QUESTION_END = re.compile(r"\?[\s»\"'*)]*(?=\s|$)")  # a question's end (not a URL's « ?q= »)
_REFUSAL = re.compile("|".join(prompts.REFUSAL_PATTERNS), re.IGNORECASE)
ELSEWHERE = "the model's sentences cite none of the passages that answer best"


def load_calibration(path: Path = CALIBRATION_FILE) -> dict:
    """Thresholds written by ``python -m eval.calibrate``; empty when never calibrated."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))["thresholds"]
    except (OSError, ValueError, KeyError):
        return {}


@dataclass(frozen=True)
class AnswerSettings:
    k: int = 5
    max_new_tokens: int = 120
    excerpt_tokens: int = 160  # per passage shown to the LLM; 0 shows whole passages
    min_evidence: float = 0.5  # refuse before generating below this evidence score
    support_threshold: float = 0.5  # a sentence is supported at or above this score
    reattribute_margin: float = 0.15  # another passage must beat the cited one by this much
    max_unsupported: float = 0.5  # refuse when a larger share of sentences is unsupported
    extractive_sentences: int = 2
    quote: bool = True  # after an LLM answer, the passage excerpt that best answers, verbatim
    focus: bool = True  # leave out the model's sentences citing none of the excerpts' passages
    second_look: bool = True  # a draft that fails its check: one more, from the closest passages alone
    second_look_passages: int = 2
    second_look_tokens: int = 80  # excerpt per passage on the second look
    located_answer: bool = True  # no draft passes: the window that answers best, if it gives what is asked
    locate_pool: int = 10  # windows the LLM scores by question likelihood (rag.locate); 0: support alone

    @classmethod
    def calibrated(cls, **overrides) -> AnswerSettings:
        known = {k: v for k, v in load_calibration().items() if k in cls.__dataclass_fields__}
        return cls(**{**known, **overrides})


def evidence_score(question: str, hits: list[Hit], idf, top: int = 3) -> float:
    """How much of the question the best passages cover: the rarity-weighted share of its
    content terms found in the best single passage among the ``top`` first."""
    terms = set(analyze_question(question))
    if not terms or not hits:
        return 0.0
    total = sum(idf(t) for t in terms)
    best = 0.0
    for hit in hits[:top]:
        present = terms & set(analyze(hit.chunk.text))
        best = max(best, sum(idf(t) for t in present) / total)
    return best


def is_refusal(text: str) -> bool:
    return bool(_REFUSAL.search(text.replace("’", "'")))


def parse_markers(text: str, n_passages: int) -> tuple[list[tuple[int, int, list[int]]], list[int]]:
    """Markers as (start, end, valid numbers) and the invalid numbers (outside 1..n)."""
    found, invalid = [], []
    for m in _MARKER.finditer(text):
        numbers = [int(x) for x in re.split(r"\s*[,;]\s*", m.group(1))]
        invalid += [n for n in numbers if not 1 <= n <= n_passages]
        found.append((m.start(), m.end(), [n for n in numbers if 1 <= n <= n_passages]))
    return found, invalid


def answer_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of an answer, a trailing marker-only piece ("... fin. [2]") joined to its sentence."""
    spans: list[tuple[int, int]] = []
    for start, end in split_sentences(text):
        if spans and not strip_markers(text[start:end]).strip(" .;,"):
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


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


@dataclass
class _Check:
    sentences: list[SentenceCheck] = field(default_factory=list)
    invalid: list[int] = field(default_factory=list)


class Answerer:
    def __init__(self, retriever: Retriever, llm=None, support=None, settings: AnswerSettings | None = None):
        self.retriever = retriever
        self.llm = llm
        self.settings = settings or AnswerSettings.calibrated()
        # Looked up through the index each time: ingestion may have changed the word weights.
        self.support = support or LexicalSemanticSupport(
            retriever.embedder, idf=lambda t: retriever.index.keywords().idf(t)
        )
        self.locator = Locator(self.support, llm if self.settings.locate_pool else None, self.settings.locate_pool)

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
        question = " ".join(question.split())
        if not question:
            raise RagError("The question is empty. Type a question about your documents.")
        hits, timings = self.passages(question, k, filters)
        yield {"type": "hits", "hits": hits}

        evidence = evidence_score(question, hits, self.support.idf)
        timings["evidence"] = evidence
        if evidence < self.settings.min_evidence:
            reason = f"weak evidence: the passages cover {evidence:.0%} of the question's key terms"
            yield {"type": "answer", "answer": self._refusal(question, hits, reason, timings, started)}
            return

        if self.llm is None:
            text, shown = self._extractive(question, hits), hits
            timings["generate"] = 0.0
        else:
            messages, shown = self._prompt(question, hits)
            text = yield from self._generate(messages, timings)

        t = time.perf_counter()
        if not text or is_refusal(text) and not _MARKER.search(text):
            answer = self._refusal(question, hits, "the model found no answer in the passages", timings, started)
            yield {"type": "answer", "answer": replace(answer, draft=text)}
            return
        check, reason = self._verdict(text, shown, question)
        timings["check"] = time.perf_counter() - t
        if reason and self.llm is not None and self.settings.second_look:
            # The draft failed its check: read again, the closest passages alone, closer up.
            yield {"type": "retry", "reason": reason}
            messages = self._second_prompt(question, shown)
            second: dict = {}
            again = yield from self._generate(messages, second)
            timings["second_look"] = second["generate"]
            if again and not is_refusal(again):
                check_again, reason_again = self._verdict(again, shown, question)
                if not reason_again:
                    text, check, reason = again, check_again, None
        sentences = check.sentences
        mode, rejected = self.mode, None
        if not reason and self.llm is not None and self.settings.quote:
            t = time.perf_counter()
            quotes, answering = self._quotes(question, sentences, shown, len(text))
            if answering and self.settings.focus:
                sentences = _focused(sentences, answering)
                if not sentences:  # the excerpts and the model disagree on where the answer is
                    reason = ELSEWHERE
            sentences = sentences + quotes
            timings["quote"] = time.perf_counter() - t
        if reason and self.llm is not None and self.settings.located_answer:
            # No draft to keep: answer with the passage's own words where they give what is asked.
            t = time.perf_counter()
            located = self._located(question, shown)
            timings["locate"] = time.perf_counter() - t
            if located:
                check, mode, rejected, sentences, reason = _Check(), "extractive", reason, located, None
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
                citations=self._citations(sentences, shown),
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

    # -- steps ------------------------------------------------------------------------------
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

    def _verdict(self, text: str, shown: list[Hit], question: str) -> tuple[_Check, str | None]:
        """The draft's sentence checks, and why it cannot be the answer (None when it can):
        too many unsupported sentences, or supported ones that miss what was asked."""
        check = self._check(text, shown, question)
        sentences = check.sentences
        unsupported = sum(not s.supported for s in sentences)
        if not sentences or unsupported / len(sentences) > self.settings.max_unsupported:
            return check, f"{unsupported} of {len(sentences)} sentences are not supported by the passages"
        answered = [(s.text, [shown[n - 1].chunk.text for n in s.citations]) for s in sentences if s.supported]
        return check, shortfall(question, answered)

    def _second_prompt(self, question: str, shown: list[Hit]) -> list[dict]:
        """Messages with the closest passages alone (``_closest``), each keeping its number and
        cut to ``second_look_tokens``. They fitted the first time, whole excerpts and all."""
        picked = self._closest(question, shown)
        texts = self._excerpts(question, [shown[n - 1] for n in picked], self.settings.second_look_tokens)
        return _messages(question, [(n, shown[n - 1], text) for n, text in zip(picked, texts)])

    def _closest(self, question: str, shown: list[Hit]) -> list[int]:
        """Numbers (1-based) of the ``second_look_passages`` passages whose best window answers
        the question best (``rag.locate``), taken in turn from each question of a compound
        question's ranking, so that each gets its best passage first."""
        texts = [h.chunk.text for h in shown]
        rankings = [
            [w.passage for w in self.locator.rank(part, texts, skip=_about(about, texts), asked=question)]
            for part, about in referents(question)
        ]
        picked = [n for turn in zip(*rankings) for n in turn]
        picked += [n for ranking in rankings for n in ranking]
        wanted = max(self.settings.second_look_passages, len(rankings))
        return [i + 1 for i in list(dict.fromkeys(picked))[:wanted]]

    def _located(self, question: str, shown: list[Hit]) -> list[SentenceCheck]:
        """The located answer: for each question the question asks, the window that answers it
        best (``rag.locate``), as verbatim excerpts; none when they do not give what is asked
        (``rag.asked.shortfall``: a restatement, no number for « combien »...)."""
        texts = [h.chunk.text for h in shown]
        quotes: list[SentenceCheck] = []
        for part, about in referents(question):
            skip = _either(introducing(texts), _about(about, texts))
            ranked = self.locator.rank(part, texts, skip=skip, asked=question)
            if ranked and _quoted(quotes, ranked[0]):
                # Its best window is quoted already: enough if the quotes give what it asks,
                # else its best window elsewhere that does.
                falls_short = _not_answering(part, texts, question)
                ranked = (
                    []
                    if not shortfall(part, _as_answered(quotes, texts), question)
                    else [w for w in ranked if not _quoted(quotes, w) and not falls_short(w.passage, w.span)]
                )
            if ranked:
                quotes.append(_quote(ranked[0].passage + 1, texts[ranked[0].passage], ranked[0].span, at=0))
        if not quotes or shortfall(question, _as_answered(quotes, texts)):
            return []
        return quotes

    def _refusal(self, question, hits, reason, timings, started) -> Answer:
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

    def _prompt(self, question: str, hits: list[Hit]) -> tuple[list[dict], list[Hit]]:
        """Messages with as many passages as fit in the context window, in rank order."""
        budget = self.llm.context_window - self.settings.max_new_tokens
        texts = self._excerpts(question, hits)

        def messages(shown: list[Hit]) -> list[dict]:
            return _messages(question, [(i, h, texts[i - 1]) for i, h in enumerate(shown, 1)])

        if self.llm.chat_tokens(messages([])) > budget:
            raise RagError(
                f"The question is too long for the model's context window ({self.llm.context_window} tokens). "
                "Shorten it."
            )
        shown: list[Hit] = []
        for hit in hits:
            if self.llm.chat_tokens(messages([*shown, hit])) > budget:
                break
            shown.append(hit)
        return messages(shown), shown

    def _excerpts(self, question: str, hits: list[Hit], limit: int | None = None) -> list[str]:
        """Each passage cut to about ``limit`` (default ``excerpt_tokens``) tokens around its best
        match for the question, grown a sentence at a time on both sides; "…" marks a cut."""
        limit = limit or self.settings.excerpt_tokens
        if not limit or not hits:
            return [h.chunk.text for h in hits]
        supports = self.support.score_many(question, [h.chunk.text for h in hits])
        excerpts = []
        for hit, support in zip(hits, supports):
            text = hit.chunk.text
            spans = split_sentences(text) or [(0, len(text))]
            inside = [i for i, (a, b) in enumerate(spans) if a < support.span[1] and b > support.span[0]] or [0]
            lo, hi = inside[0], inside[-1]
            while True:
                grown = False
                for candidate in ((lo, hi + 1), (lo - 1, hi)):
                    a, b = candidate
                    if 0 <= a and b < len(spans):
                        if self.llm.count_tokens(text[spans[a][0] : spans[b][1]]) <= limit:
                            lo, hi, grown = a, b, True
                if not grown:
                    break
            excerpt = text[spans[lo][0] : spans[hi][1]].strip()
            excerpts.append(("… " if lo > 0 else "") + excerpt + (" …" if hi < len(spans) - 1 else ""))
        return excerpts

    def _check(self, text: str, shown: list[Hit], question: str | None = None) -> _Check:
        s = self.settings
        markers, invalid = parse_markers(text, len(shown))
        passages = [h.chunk.text for h in shown]
        check = _Check(invalid=invalid)
        asks = parts(question) if question else [None]
        for start, end in answer_sentences(text):
            content = strip_markers(text[start:end])
            if not re.search(r"\w", content):
                continue
            cited = tuple(dict.fromkeys(n for a, b, ns in markers if start <= a < end for n in ns))
            supports = self._supports(content, passages, asks) if passages else []
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
            check.sentences.append(
                SentenceCheck(
                    text=text[start:end],
                    start=start,
                    end=end,
                    cited=cited,
                    citations=citations,
                    support=round(support, 4),
                    supported=bool(citations) and support >= s.support_threshold,
                    spans={n: supports[n - 1].span for n in citations},
                )
            )
        return check

    def _quotes(
        self, question: str, sentences: list[SentenceCheck], shown: list[Hit], at: int
    ) -> tuple[list[SentenceCheck], set[int]]:
        """For each question the question asks (``rag.asked.parts``: a compound question asks
        several), the passage window (one or two sentences) that best answers it, as an added
        answer sentence; none that the answer already contains, none twice. Also the numbers
        of the passages those windows come from, the ones left out included.

        Windows are ranked by ``rag.locate`` with the answer's supported sentences as a third
        signal: the question says what is asked (its support and likelihood), the model's
        answer where it found it. ``at``: the draft's length, where the sentences are placed
        (they are not in the draft).
        """
        texts = [h.chunk.text for h in shown]
        claim = " ".join(strip_markers(s.text) for s in sentences if s.supported)
        if not texts or not claim:
            return [], set()
        quotes: list[SentenceCheck] = []
        answering: set[int] = set()
        for part, about in referents(question):
            skip = _either(_not_answering(part, texts, question), _about(about, texts))
            ranked = self.locator.rank(part, texts, answer=claim, skip=skip, asked=question)
            if not ranked:
                continue
            n, (a, b) = ranked[0].passage + 1, ranked[0].span
            chosen = [texts[m - 1][x:y] for q in quotes for m, (x, y) in q.spans.items()]
            best = max(w.support for w in ranked)
            if chosen and max(s.score for s in self.support.score_many(part, chosen)) >= best:
                continue  # an excerpt already chosen answers this question as well as any window
            answering.add(n)
            said = claim + " " + " ".join(q.text for q in quotes)
            if _words(plain(texts[n - 1][a:b])) in _words(said) or _quoted(quotes, ranked[0]):
                continue
            quotes.append(_quote(n, texts[n - 1], (a, b), at))
        return quotes, answering

    def _supports(self, sentence: str, passages: list[str], asks: list[str | None]) -> list[Support]:
        """Support of ``sentence`` by each passage, as an answer to the best-matching question
        of ``asks`` (a sentence answering one half of a compound question is not judged
        against the terms of the other half)."""
        scored = [self.support.score_many(sentence, passages, ask) for ask in asks]
        return [max(options, key=lambda s: s.score) for options in zip(*scored)]

    def _citations(self, sentences: list[SentenceCheck], shown: list[Hit]) -> tuple[Citation, ...]:
        best: dict[int, tuple[float, tuple[int, int]]] = {}
        for sentence in sentences:
            for n in sentence.citations:
                if n not in best or sentence.support > best[n][0]:
                    best[n] = (sentence.support, sentence.spans[n])
        return tuple(Citation(n, shown[n - 1], best[n][1]) for n in sorted(best))

    def _extractive(self, question: str, hits: list[Hit]) -> str:
        """The passages' sentences that best match the question, each cited: the best
        ``extractive_sentences`` passages' best windows (within 80% of the top score), or for
        a compound question the best one for each question it asks."""
        if not hits:
            return ""
        texts = [h.chunk.text for h in hits]
        asks = parts(question)
        per_ask = self.settings.extractive_sentences if len(asks) == 1 else 1
        chosen: list[tuple[int, tuple[int, int]]] = []
        for ask in asks:
            supports = self.support.score_many(ask, texts)
            order = sorted(range(len(hits)), key=lambda i: -supports[i].score)
            top = supports[order[0]].score
            for i in order[:per_ask]:
                span = supports[i].span
                if supports[i].score >= 0.8 * top and not any(i == j and _overlap(span, s) for j, s in chosen):
                    chosen.append((i, span))
        return " ".join(with_markers(" ".join(texts[i][a:b].split()), (i + 1,)) for i, (a, b) in chosen)


def _messages(question: str, numbered: list[tuple[int, Hit, str]]) -> list[dict]:
    """The system message with each (number, hit, text) as a numbered passage, then the question."""
    passages = "\n\n".join(prompts.PASSAGE.format(number=n, where=_where(h), text=text) for n, h, text in numbered)
    return [
        {"role": "system", "content": prompts.SYSTEM.format(passages=passages)},
        {"role": "user", "content": prompts.USER.format(question=question)},
    ]


def introducing(passages: list[str]):
    """``skip`` for ``Locator.rank``: windows ending with a heading, or holding a question (a
    document's question heads its answer: « Comment est calculé le score ELO ? »). They
    introduce what they leave out, and they match the question's words better than the answer
    does: the likelihood of a question after a window that holds it is high, whatever follows."""
    return lambda i, span: _introduces(passages[i][span[0] : span[1]])


def _introduces(window: str) -> bool:
    return bool(_ENDS_WITH_HEADING.search(window) or _QUESTION_END.search(window))


def _not_answering(question: str, passages: list[str], whole: str | None = None):
    """``skip`` for ``Locator.rank``, for the excerpt that ends an accepted answer: windows that
    introduce (``introducing``) or that do not give what ``question`` asks (``rag.asked.shortfall``:
    no number for « combien »...; ``whole``: the compound question ``question`` is part of).
    Not for the located answer, which has no accepted draft behind it: there, the best window
    must give what is asked, not merely some window."""
    return lambda i, span: (
        _introduces(passages[i][span[0] : span[1]])
        or bool(shortfall(question, [(passages[i][span[0] : span[1]], [passages[i]])], whole))
    )


def _about(wanted: tuple[str, ...], passages: list[str]):
    """``skip`` for ``Locator.rank``, for a part of a question that is about names it does not
    write (``rag.asked.referents``: « ..., et quel est le poids de ce four ? »): the windows
    of the passages that write none of them, when some passage writes one; else None. The
    figure of another thing is no answer, however well its window matches « poids »."""
    if not wanted:
        return None
    writing = [mentions(text, wanted) for text in passages]
    if not any(writing):
        return None

    sentences = [split_sentences(text) for text in passages]

    def elsewhere(i: int, span: tuple[int, int]) -> bool:
        if not writing[i]:
            return True
        text = passages[i]
        # What the window is about: the names it writes, or else those of the last sentence
        # before it that writes some (« Le BrasEro pèse ... . Son poids ... »).
        for a, b in [span] + [(a, b) for a, b in reversed(sentences[i]) if b <= span[0]]:
            if mentions(text[a:b], wanted):
                return False
            if distinct_names(text[a:b]):
                return True
        return False

    return elsewhere


def _either(*skips):
    """The ``skip`` that leaves out what any of ``skips`` (None: nothing) leaves out."""
    live = [s for s in skips if s is not None]
    return (lambda i, span: any(s(i, span) for s in live)) if live else None


def _quote(n: int, passage: str, span: tuple[int, int], at: int) -> SentenceCheck:
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


def _words(text: str) -> str:
    """Lower-case words between spaces: for "is this text inside that one" without punctuation."""
    return " " + " ".join(re.findall(r"\w+", text.lower())) + " "


def _focused(sentences: list[SentenceCheck], answering: set[int]) -> list[SentenceCheck]:
    """The model's sentences that cite a passage in ``answering`` (where the excerpts come
    from, or would, had the answer not already said them). The others are backed by a
    passage, but one that the question-weighted excerpt choice passed over: on dev, such a
    passage held the gold evidence 3 times in 10 (the ones shared with an excerpt 31 in 35).
    The draft keeps them (``Answer.draft``)."""
    return [s for s in sentences if set(s.citations) & answering]


def _as_answered(quotes: list[SentenceCheck], passages: list[str]) -> list[tuple[str, list[str]]]:
    """``quotes`` as ``rag.asked.shortfall`` reads an answer: each window as it stands in its
    passage (a line's section number is told apart there), with that passage."""
    return [(passages[n - 1][a:b], [passages[n - 1]]) for q in quotes for n, (a, b) in q.spans.items()]


def _quoted(quotes: list[SentenceCheck], window) -> bool:
    """Whether ``window`` (a ``rag.locate.Located``) overlaps one of ``quotes``."""
    return any(_overlap(q.spans.get(window.passage + 1, (0, 0)), window.span) for q in quotes)


def _overlap(x: tuple[int, int], y: tuple[int, int]) -> bool:
    return x[0] < y[1] and y[0] < x[1]


def _where(hit: Hit) -> str:
    chunk = hit.chunk
    where = chunk.source
    if chunk.page:
        where += f", page {chunk.page}" + (
            f"-{chunk.page_end}" if chunk.page_end and chunk.page_end != chunk.page else ""
        )
    if chunk.heading_path:
        where += ", " + " > ".join(chunk.heading_path)
    return where
