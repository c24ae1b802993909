"""Retrieval metrics: pure functions over hit texts and gold quotes, no I/O.

Whether a ranked list of hits "finds" a gold quote is decided on the text, not on chunk
ids or offsets, so the metrics hold for any chunking and for systems (the LangChain
baselines) that know nothing of our chunks:

- ``normalise(text)``: lower-case, every run of whitespace (newlines, tabs, no-break
  spaces) becomes one space, stripped.
- ``char_ngrams(text, n=8)``: the set of character n-grams of the normalised text; a text
  shorter than n gives ``{text}`` (an empty one gives the empty set).
- ``coverage(quote, texts)``: the fraction of the quote's 8-grams found in the union of the
  texts' 8-gram sets. A quote shorter than 8 characters counts as covered (1.0) when it
  occurs in one of the normalised texts. An empty quote has coverage 0.
- A set of hits *finds* a quote when its coverage is ``>= COVERAGE_THRESHOLD`` (0.6). A
  quote split across two retrieved chunks is found when their union covers it.
- ``found_rank(quote, hit_texts, k)``: the smallest r <= k such that the top r hits find
  the quote, else None.

Per question, with gold quotes Q and the ranked hit texts (k <= 10 throughout):

- recall@k = 1 if every quote of Q is found within the top k, else 0;
- hit@k = 1 if at least one quote is found within the top k, else 0;
- MRR@10 = 1/r, r the smallest found rank over the quotes (0 if none within 10);
- nDCG@10 with binary gains: hit i is relevant when it contributes to finding a quote,
  i.e. it alone covers ``>= COVERAGE_THRESHOLD`` of some quote, or it covers
  ``>= CONTRIBUTION_THRESHOLD`` (0.2) of some quote whose found rank within 10 is not
  None. DCG = sum over relevant i of 1/log2(i + 1); the ideal DCG puts min(|Q|, 10)
  relevant hits at the top. The ratio is capped at 1: a quote split over two chunks, or a
  passage that appears twice in the corpus, can give more relevant hits than quotes.

Questions without gold quotes (unanswerable ones) have no retrieval metrics:
``summarise`` leaves them out and only counts them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

COVERAGE_THRESHOLD = 0.6
CONTRIBUTION_THRESHOLD = 0.2
NGRAM = 8
MAX_K = 10
KS = tuple(range(1, MAX_K + 1))
REPORTED_KS = (1, 3, 5, 10)


def normalise(text: str) -> str:
    """Lower-cased, whitespace runs collapsed to one space, stripped."""
    return " ".join(text.lower().split())


def char_ngrams(text: str, n: int = NGRAM) -> set[str]:
    """Character n-grams of the normalised text; ``{text}`` when it is shorter than n."""
    text = normalise(text)
    if not text:
        return set()
    if len(text) < n:
        return {text}
    return {text[i : i + n] for i in range(len(text) - n + 1)}


def coverage(quote: str, texts: Sequence[str], n: int = NGRAM) -> float:
    """Fraction of the quote's n-grams present in the union of the texts' n-gram sets."""
    grams = char_ngrams(quote, n)
    if not grams:
        return 0.0
    return _coverage(quote, grams, [char_ngrams(t, n) for t in texts], texts, n)


def _coverage(quote: str, grams: set[str], text_grams: Sequence[set[str]], texts: Sequence[str], n: int) -> float:
    # A quote shorter than n is its own single "gram"; it is found as a substring, since
    # it can never equal an n-gram of a longer text.
    if len(normalise(quote)) < n:
        needle = normalise(quote)
        return 1.0 if any(needle in normalise(t) for t in texts) else 0.0
    union: set[str] = set().union(*text_grams) if text_grams else set()
    return len(grams & union) / len(grams)


def found_rank(quote: str, hit_texts: Sequence[str], k: int = MAX_K, n: int = NGRAM) -> int | None:
    """Smallest r <= k such that the top r hits cover the quote ``>= COVERAGE_THRESHOLD``."""
    grams = char_ngrams(quote, n)
    if not grams:
        return None
    short = len(normalise(quote)) < n
    seen: set[str] = set()
    for r, text in enumerate(hit_texts[:k], start=1):
        if short:
            if normalise(quote) in normalise(text):
                return r
            continue
        seen |= grams & char_ngrams(text, n)
        if len(seen) / len(grams) >= COVERAGE_THRESHOLD:
            return r
    return None


def recall_at(found: Sequence[int | None], k: int) -> float:
    """1.0 when every quote was found within the top k, else 0.0 (needs at least one quote)."""
    return float(bool(found) and all(r is not None and r <= k for r in found))


def hit_at(found: Sequence[int | None], k: int) -> float:
    """1.0 when at least one quote was found within the top k, else 0.0."""
    return float(any(r is not None and r <= k for r in found))


def reciprocal_rank(found: Sequence[int | None], k: int = MAX_K) -> float:
    """1/r for the smallest found rank r <= k, else 0.0."""
    ranks = [r for r in found if r is not None and r <= k]
    return 1.0 / min(ranks) if ranks else 0.0


def relevant_hits(
    quotes: Sequence[str], hit_texts: Sequence[str], found: Sequence[int | None], k: int = MAX_K
) -> list[bool]:
    """For each of the top k hits: does it contribute to finding a quote (see module doc)?"""
    flags = []
    for text in hit_texts[:k]:
        relevant = False
        for quote, rank in zip(quotes, found):
            share = coverage(quote, [text])
            if share >= COVERAGE_THRESHOLD or (share >= CONTRIBUTION_THRESHOLD and rank is not None and rank <= k):
                relevant = True
                break
        flags.append(relevant)
    return flags


def ndcg(relevance: Sequence[bool], n_relevant: int, k: int = MAX_K) -> float:
    """Binary-gain nDCG@k; the ideal ranking has min(n_relevant, k) relevant hits first. Capped at 1."""
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(n_relevant, k) + 1))
    if ideal == 0:
        return 0.0
    dcg = sum(1.0 / math.log2(i + 1) for i, rel in enumerate(relevance[:k], start=1) if rel)
    return min(1.0, dcg / ideal)


def question_metrics(quotes: Sequence[str], hit_texts: Sequence[str], k: int = MAX_K) -> dict:
    """Found ranks, per-hit relevance and every metric of one question.

    Returns ``{"found_ranks": [...], "relevant": [...], "metrics": {"recall@1": ..., ...}}``;
    metrics hold recall@k and hit@k for k = 1..k, ``mrr@10`` and ``ndcg@10``. A question
    without quotes gets empty metrics.
    """
    if not quotes:
        return {"found_ranks": [], "relevant": [False] * min(len(hit_texts), k), "metrics": {}}
    found = [found_rank(q, hit_texts, k) for q in quotes]
    relevant = relevant_hits(quotes, hit_texts, found, k)
    metrics: dict[str, float] = {}
    for cutoff in range(1, k + 1):
        metrics[f"recall@{cutoff}"] = recall_at(found, cutoff)
    for cutoff in range(1, k + 1):
        metrics[f"hit@{cutoff}"] = hit_at(found, cutoff)
    metrics[f"mrr@{k}"] = reciprocal_rank(found, k)
    metrics[f"ndcg@{k}"] = ndcg(relevant, len(quotes), k)
    return {"found_ranks": found, "relevant": relevant, "metrics": metrics}


def _means(rows: Sequence[Mapping]) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for row in rows:
        for name, value in row["metrics"].items():
            totals[name] += value
    return {name: total / len(rows) for name, total in totals.items()}


def summarise(per_question_rows: Iterable[Mapping]) -> dict:
    """Mean metrics over the answerable questions, overall and per question type.

    Each row is a mapping with ``type``, ``answerable`` and ``metrics`` (a dict of floats).
    Returns ``{"n": N, "n_unanswerable": M, "metrics": {...}, "by_type": {type: {"n": n,
    "metrics": {...}}}}``; types are sorted by name.
    """
    rows = list(per_question_rows)
    scored = [row for row in rows if row["answerable"] and row["metrics"]]
    by_type: dict[str, list[Mapping]] = defaultdict(list)
    for row in scored:
        by_type[row["type"]].append(row)
    return {
        "n": len(scored),
        "n_unanswerable": sum(1 for row in rows if not row["answerable"]),
        "metrics": _means(scored) if scored else {},
        "by_type": {t: {"n": len(group), "metrics": _means(group)} for t, group in sorted(by_type.items())},
    }


def percentile(values: Iterable[float], p: float) -> float:
    """The p-th percentile (0..100) with linear interpolation between order statistics (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of an empty list")
    if not 0 <= p <= 100:
        raise ValueError(f"percentile p must be within 0..100, got {p}")
    position = (len(ordered) - 1) * p / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_summary(timings: Sequence[Mapping[str, float]]) -> dict[str, dict[str, float]]:
    """p50, p95 and mean in milliseconds for every stage that appears in the timings (seconds).

    Stages missing from some queries are summarised over the queries that have them.
    """
    stages: dict[str, list[float]] = defaultdict(list)
    for timing in timings:
        for stage, seconds in timing.items():
            stages[stage].append(seconds * 1000)
    return {
        stage: {
            "n": len(values),
            "p50_ms": percentile(values, 50),
            "p95_ms": percentile(values, 95),
            "mean_ms": sum(values) / len(values),
        }
        for stage, values in stages.items()
    }
