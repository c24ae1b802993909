"""Retrieval metrics on small made-up strings, with expected values computed by hand."""

from __future__ import annotations

import math

import pytest

from eval.metrics import (
    COVERAGE_THRESHOLD,
    char_ngrams,
    coverage,
    found_rank,
    hit_at,
    latency_summary,
    ndcg,
    normalise,
    percentile,
    question_metrics,
    recall_at,
    reciprocal_rank,
    relevant_hits,
    summarise,
)

# 48 characters -> 41 distinct 8-grams (grams 0..40).
QUOTE = "le modèle apprend la langue en lisant des livres"
# Holds QUOTE[:24]: grams 0..16, i.e. 17 of 41 (0.415).
PART_A = "Introduction. " + QUOTE[:24]
# Holds QUOTE[21:]: grams 21..40, i.e. 20 of 41 (0.488). Together: 37 of 41 (0.902).
PART_B = QUOTE[21:] + " Fin du chapitre."
OTHER_QUOTE = "Les jetons sont découpés par un tokeniseur."
NOISE = "Chapitre sans rapport : recettes de cuisine provençale."
# 107 characters, 100 distinct 8-grams: a prefix of m + 7 characters holds exactly m grams.
HUNDRED = "un texte de cent sept caractères pour mesurer la couverture exacte des 8-grammes, ni plus ni moins, voilà !"


def test_fixtures_are_what_the_hand_computations_assume():
    assert len(char_ngrams(QUOTE)) == 41
    assert len(char_ngrams(HUNDRED)) == 100
    assert coverage(QUOTE, [NOISE]) == 0.0
    assert coverage(OTHER_QUOTE, [NOISE, QUOTE, PART_A, PART_B]) == 0.0


def test_normalise_lowercases_and_collapses_every_whitespace():
    assert normalise("  Le  Modèle\n\tde\u202fLangue\u00a0 ") == "le modèle de langue"
    assert normalise("") == ""


def test_char_ngrams():
    assert char_ngrams("ABCDEFGHIJ") == {"abcdefgh", "bcdefghi", "cdefghij"}
    assert char_ngrams("abcdefgh") == {"abcdefgh"}
    assert char_ngrams("Court") == {"court"}
    assert char_ngrams("  ") == set()
    assert char_ngrams("abcd", n=3) == {"abc", "bcd"}


def test_coverage_counts_grams_of_the_quote():
    assert coverage(QUOTE, [PART_A]) == pytest.approx(17 / 41)
    assert coverage(QUOTE, [PART_B]) == pytest.approx(20 / 41)
    assert coverage(QUOTE, [PART_A, PART_B]) == pytest.approx(37 / 41)
    assert coverage(QUOTE, [f"Avant.\n{QUOTE.upper()}  après."]) == 1.0
    assert coverage(QUOTE, []) == 0.0
    assert coverage("", [QUOTE]) == 0.0


def test_coverage_ignores_case_and_line_breaks_of_the_conversion():
    broken = QUOTE.replace(" la ", "\nla\t").replace("livres", "Livres")
    assert coverage(QUOTE, [broken]) == 1.0


def test_coverage_just_below_and_just_above_the_threshold():
    below, above = HUNDRED[: 59 + 7], HUNDRED[: 61 + 7]
    assert coverage(HUNDRED, [below]) == pytest.approx(0.59)
    assert coverage(HUNDRED, [above]) == pytest.approx(0.61)
    assert found_rank(HUNDRED, [below]) is None
    assert found_rank(HUNDRED, [above]) == 1
    assert COVERAGE_THRESHOLD == 0.6


def test_short_quote_is_found_as_a_substring():
    assert coverage("GPT-4", ["le modèle gpt-4 est sorti"]) == 1.0
    assert coverage("GPT-4", ["le modèle gpt-3 est sorti"]) == 0.0
    assert found_rank("GPT-4", [NOISE, "Avec GPT-4."]) == 2


def test_split_quote_is_found_only_by_the_union_of_two_hits():
    assert found_rank(QUOTE, [PART_A]) is None
    assert found_rank(QUOTE, [PART_B]) is None
    assert found_rank(QUOTE, [PART_A, PART_B]) == 2
    assert found_rank(QUOTE, [PART_B, NOISE, PART_A]) == 3
    assert found_rank(QUOTE, [NOISE, PART_A, PART_B], k=2) is None


def test_recall_hit_and_reciprocal_rank_from_found_ranks():
    found = [2, 5]
    assert [recall_at(found, k) for k in (1, 3, 5, 10)] == [0.0, 0.0, 1.0, 1.0]
    assert [hit_at(found, k) for k in (1, 3, 5, 10)] == [0.0, 1.0, 1.0, 1.0]
    assert reciprocal_rank(found) == 0.5
    assert recall_at([3, None], 10) == 0.0
    assert hit_at([None, 3], 3) == 1.0
    assert reciprocal_rank([None, 4]) == 0.25
    assert reciprocal_rank([None]) == 0.0
    assert reciprocal_rank([11], k=10) == 0.0
    assert recall_at([], 10) == 0.0


def test_two_quotes_mrr_and_ndcg_by_hand():
    # OTHER_QUOTE is whole at rank 2; QUOTE is split over ranks 4 and 5.
    hits = [NOISE, f"Rappel : {OTHER_QUOTE}", NOISE, PART_A, PART_B]
    result = question_metrics([QUOTE, OTHER_QUOTE], hits)
    assert result["found_ranks"] == [5, 2]
    metrics = result["metrics"]
    assert (metrics["recall@1"], metrics["recall@3"], metrics["recall@5"], metrics["recall@10"]) == (0, 0, 1, 1)
    assert (metrics["hit@1"], metrics["hit@3"], metrics["hit@5"]) == (0, 1, 1)
    assert metrics["mrr@10"] == 0.5
    # Relevant: rank 2 (whole quote), ranks 4 and 5 (each >= 0.2 of a found quote).
    assert result["relevant"] == [False, True, False, True, True]
    dcg = 1 / math.log2(3) + 1 / math.log2(5) + 1 / math.log2(6)
    ideal = 1 + 1 / math.log2(3)  # two quotes -> two relevant hits at ranks 1 and 2
    assert metrics["ndcg@10"] == pytest.approx(dcg / ideal)
    assert metrics["ndcg@10"] == pytest.approx(0.8882, abs=1e-4)


def test_partial_hit_of_an_unfound_quote_is_not_relevant():
    # PART_A covers 0.415 of QUOTE, but QUOTE is never found: no credit.
    result = question_metrics([QUOTE], [PART_A, NOISE])
    assert result["found_ranks"] == [None]
    assert result["relevant"] == [False, False]
    assert result["metrics"]["ndcg@10"] == 0.0
    assert result["metrics"]["mrr@10"] == 0.0


def test_relevant_when_alone_it_covers_enough_even_beyond_found_rank():
    hits = [QUOTE, NOISE, f"Encore : {QUOTE}"]
    assert relevant_hits([QUOTE], hits, [1]) == [True, False, True]


def test_ndcg_values_and_cap():
    assert ndcg([True], 1) == 1.0
    assert ndcg([False, True], 1) == pytest.approx(1 / math.log2(3))
    assert ndcg([False, False, True], 2) == pytest.approx(0.5 / (1 + 1 / math.log2(3)))
    # The same passage twice: more relevant hits than quotes, capped at 1.
    assert ndcg([True, True], 1) == 1.0
    assert ndcg([], 0) == 0.0
    assert ndcg([True] * 12, 12) == 1.0


def test_question_without_quotes_has_no_metrics():
    assert question_metrics([], [NOISE])["metrics"] == {}


def test_summarise_means_per_type_without_unanswerable():
    rows = [
        {"type": "single", "answerable": True, "metrics": {"recall@5": 1.0, "mrr@10": 1.0}},
        {"type": "single", "answerable": True, "metrics": {"recall@5": 0.0, "mrr@10": 0.25}},
        {"type": "multi", "answerable": True, "metrics": {"recall@5": 1.0, "mrr@10": 0.5}},
        {"type": "unanswerable", "answerable": False, "metrics": {}},
    ]
    summary = summarise(rows)
    assert summary["n"] == 3
    assert summary["n_unanswerable"] == 1
    assert summary["metrics"] == pytest.approx({"recall@5": 2 / 3, "mrr@10": 1.75 / 3})
    assert set(summary["by_type"]) == {"single", "multi"}
    assert summary["by_type"]["single"] == {"n": 2, "metrics": pytest.approx({"recall@5": 0.5, "mrr@10": 0.625})}
    assert summary["by_type"]["multi"]["metrics"] == {"recall@5": 1.0, "mrr@10": 0.5}
    assert summarise([])["metrics"] == {}


def test_percentile_interpolates_linearly():
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 50) == 2.5
    assert percentile(values, 95) == pytest.approx(3.85)  # position 2.85 between 3 and 4
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile([7.0], 95) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_latency_summary_in_milliseconds_per_stage():
    timings = [{"total": 0.010, "embed": 0.004}, {"total": 0.020}, {"total": 0.030, "embed": 0.006}]
    summary = latency_summary(timings)
    assert summary["total"]["n"] == 3
    assert summary["total"]["p50_ms"] == pytest.approx(20.0)
    assert summary["total"]["p95_ms"] == pytest.approx(29.0)  # position 1.9 between 20 and 30
    assert summary["embed"]["n"] == 2
    assert summary["embed"]["mean_ms"] == pytest.approx(5.0)
