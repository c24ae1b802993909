"""Answer metrics: pure functions over answer texts, cited passages and gold data, no I/O.

Per question:

- **keywords** (``keyword_scores``): a keyword is present when its normalised form is a
  substring of the normalised answer (``normalise_answer``: NFKC, citation markers ``[n]``
  removed so that "[2]" never counts as the number 2, lower case, whitespace runs as one
  space, "," read as "." so that "1,7" and "1.7" are the same decimal, and a space between a
  digit and a group of exactly three digits removed so that the French "1 000" is "1000").
  ``all`` is 1 when every keyword is present, ``fraction`` the share present. An abstained
  answer scores 0 on both. Questions without keywords (the unanswerable ones) have no score.
- **citations** (``citation_scores``): over the distinct cited passages, a citation is
  *correct* when its passage alone covers a gold quote (``eval.metrics.coverage >=
  COVERAGE_THRESHOLD``, 0.6); precision = correct / cited; recall = the share of gold quotes
  covered by the union of the cited passages. A quote split over two cited chunks counts for
  recall but makes neither citation correct: kept simple on purpose.

Over a system's rows (``summarise_answers``):

- keyword accuracy = mean ``all`` over answerable questions (abstentions count 0), and the
  same without the verbatim excerpt that ends an LLM answer (``keyword_accuracy_without_excerpt``);
- citation precision is micro-averaged (all citations of answered answerable questions
  pooled), citation recall the mean over answered answerable questions; "answered with a gold
  citation" the share of answerable questions answered with at least one correct citation;
  all None for a system that does not cite;
- correct refusals = abstentions on unanswerable questions, false refusals = abstentions on
  answerable ones (count and rate), answered unanswerable = the rest of the unanswerable;
  located answers = answers made of the passages' own words because the model's drafts were
  rejected (rows with ``draft_rejected``);
- unsupported-sentence rate = unsupported / checked sentences of the answers not abstained;
- latency percentiles of the per-question timings (seconds in, seconds out).

This module does not run systems or decide what a refusal is: rows carry ``abstained``.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from eval.metrics import COVERAGE_THRESHOLD, coverage, percentile
from rag.text.markers import MARKER

_THOUSANDS = re.compile(r"(?<=\d) (?=\d{3}(?!\d))")


def normalise_answer(text: str) -> str:
    """The form keywords are compared in (both the answer and the keyword go through it)."""
    text = unicodedata.normalize("NFKC", text)  # no-break and thin spaces become spaces
    text = MARKER.sub(" ", text)
    text = " ".join(text.lower().replace(",", ".").split())
    return _THOUSANDS.sub("", text)


def keyword_hits(text: str, keywords: Sequence[str]) -> list[bool]:
    """For each keyword, whether the answer contains it."""
    answer = normalise_answer(text)
    return [normalise_answer(k) in answer for k in keywords]


def keyword_scores(text: str, keywords: Sequence[str], abstained: bool = False) -> dict | None:
    """``{"all": 0|1, "fraction": share, "found": [bool, ...]}``; None without keywords."""
    if not keywords:
        return None
    found = [False] * len(keywords) if abstained else keyword_hits(text, keywords)
    return {"all": float(all(found)), "fraction": sum(found) / len(found), "found": found}


def citation_scores(cited_texts: Sequence[str], quotes: Sequence[str]) -> dict:
    """Citation correctness of one answer; ``cited_texts`` holds each distinct cited passage once.

    Returns ``{"cited", "correct", "precision", "recall", "quotes_covered"}``; precision is
    None without citations, recall None without quotes.
    """
    correct = sum(any(coverage(q, [text]) >= COVERAGE_THRESHOLD for q in quotes) for text in cited_texts)
    covered = [bool(cited_texts) and coverage(q, cited_texts) >= COVERAGE_THRESHOLD for q in quotes]
    return {
        "cited": len(cited_texts),
        "correct": correct,
        "precision": correct / len(cited_texts) if cited_texts else None,
        "recall": sum(covered) / len(covered) if covered else None,
        "quotes_covered": covered,
    }


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _latency(rows: Sequence[Mapping]) -> dict:
    def values(stage: str) -> list[float]:
        return [float(r["timings"][stage]) for r in rows if r.get("timings", {}).get(stage) is not None]

    first, total = values("first_token"), values("total")
    speed = [v for v in values("tokens_per_second") if v > 0]
    return {
        "first_token_p50": percentile(first, 50) if first else None,
        "first_token_p95": percentile(first, 95) if first else None,
        "tokens_per_second_p50": percentile(speed, 50) if speed else None,
        "total_p50": percentile(total, 50) if total else None,
        "total_p95": percentile(total, 95) if total else None,
        "n_generated": len(first),
    }


def summarise_answers(rows: Iterable[Mapping]) -> dict:
    """The metrics of one system over its rows.

    A row holds ``answerable``, ``abstained``, ``keywords`` (``keyword_scores`` or None),
    ``citation_scores`` (``citation_scores``, or None for a system that does not cite),
    ``sentences`` (dicts with ``supported``, or None when the system's sentences are not
    checked), ``timings`` (seconds) and optionally ``refusal_kind`` and
    ``keywords_without_excerpt`` (the keywords of the answer's own sentences when it ends
    with a verbatim excerpt, which is never counted as a checked sentence).
    """
    rows = list(rows)
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    answered = [r for r in answerable if not r["abstained"]]
    scored = [r["keywords"] for r in answerable if r.get("keywords")]
    cites = [r["citation_scores"] for r in answered if r.get("citation_scores") is not None]
    cites_system = any(r.get("citation_scores") is not None for r in rows)
    checked = [s for r in rows if not r["abstained"] for s in (r.get("sentences") or []) if not s.get("quote")]
    own = [(r.get("keywords_without_excerpt") or r["keywords"]) for r in answerable if r.get("keywords")]
    checks_system = any(r.get("sentences") is not None for r in rows)
    n_cited = sum(c["cited"] for c in cites)
    recalls = [c["recall"] for c in cites if c["recall"] is not None]
    correct_refusals = sum(r["abstained"] for r in unanswerable)
    false_refusals = sum(r["abstained"] for r in answerable)
    return {
        "n": len(rows),
        "n_answerable": len(answerable),
        "n_unanswerable": len(unanswerable),
        "keyword_accuracy": _mean([k["all"] for k in scored]),
        "keyword_accuracy_without_excerpt": _mean([k["all"] for k in own]),
        "keyword_fraction": _mean([k["fraction"] for k in scored]),
        "keyword_accuracy_answered": _mean([r["keywords"]["all"] for r in answered if r.get("keywords")]),
        "citation_precision": (sum(c["correct"] for c in cites) / n_cited if n_cited else None)
        if cites_system
        else None,
        "citation_recall": _mean(recalls) if cites_system else None,
        # answerable questions answered with a citation whose passage alone covers a gold quote
        "answered_with_gold_citation": (sum(c["correct"] > 0 for c in cites) / len(answerable) if answerable else None)
        if cites_system
        else None,
        "citations": n_cited if cites_system else None,
        "uncited_answers": sum(c["cited"] == 0 for c in cites) if cites_system else None,
        "correct_refusals": correct_refusals,
        "answered_unanswerable": len(unanswerable) - correct_refusals,
        "false_refusals": false_refusals,
        "false_refusal_rate": false_refusals / len(answerable) if answerable else None,
        "refusal_kinds": dict(Counter(r.get("refusal_kind") or "other" for r in rows if r["abstained"])),
        "located_answers": sum(bool(r.get("draft_rejected")) for r in rows if not r["abstained"]),
        "sentences_checked": len(checked) if checks_system else None,
        "unsupported_sentence_rate": (sum(not s["supported"] for s in checked) / len(checked) if checked else None)
        if checks_system
        else None,
        "latency": _latency(rows),
    }
