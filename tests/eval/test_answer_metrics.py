"""Answer metrics on hand-built answers, passages and rows; every expected value is computed by hand."""

from __future__ import annotations

import pytest

from eval.answer_metrics import (
    citation_scores,
    keyword_hits,
    keyword_scores,
    normalise_answer,
    summarise_answers,
    summarise_by_split,
)
from eval.metrics import COVERAGE_THRESHOLD, coverage

# Gold quotes and passages: OVEN is covered by P_OVEN alone; FLOUR_LEVAIN is split over two passages.
OVEN = "Le four à bois est allumé chaque matin à cinq heures."
P_OVEN = "Au fournil, le four à bois\nest allumé chaque matin à cinq heures. Les baguettes sortent à sept heures."
FLOUR_LEVAIN = (
    "la farine vient d'un moulin situé à douze kilomètres du village et le levain est nourri deux fois par jour"
)
P_FLOUR = "La farine vient d'un moulin situé à douze kilomètres du village."
P_LEVAIN = "Depuis dix ans, le levain est nourri deux fois par jour."
NOISE = "Le marché du samedi accueille une quarantaine de producteurs locaux."


# -- normalise_answer / keywords ------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Il en faut 2 [2].", "il en faut 2 ."),
        ("Voir [ 1 , 3 ] et [2-4] ; fin", "voir et ; fin"),
        ("1,7 million", "1.7 million"),
        ("1 000 €", "1000 €"),
        ("1\u00a0000 et 2\u202f500 000", "1000 et 2500000"),  # no-break and narrow no-break spaces
        ("12 345,67", "12345.67"),
        ("  Deux\tlignes\n ici ", "deux lignes ici"),
        ("ﬁn", "fin"),  # NFKC folds the ligature
    ],
)
def test_normalise_answer(text, expected):
    assert normalise_answer(text) == expected


def test_a_citation_marker_is_not_a_number():
    assert keyword_hits("Le fournil a trois fours [2].", ["2"]) == [False]
    assert keyword_hits("Le fournil a 2 fours [1].", ["2"]) == [True]
    assert keyword_hits("Voir [1, 2] et [3-4].", ["1", "2", "3", "4"]) == [False] * 4


def test_keyword_forms_match_across_conventions():
    answer = "La production atteint 1\u00a0000 pains et 1,7 tonne de farine [1]."
    assert keyword_hits(answer, ["1000", "1 000", "1.7 tonne", "1,7", "PAINS", "2 000"]) == [
        True,
        True,
        True,
        True,
        True,
        False,
    ]
    # Three digits after a space are a thousands group only when no fourth digit follows.
    assert normalise_answer("en 1 0000 fois") == "en 1 0000 fois"


def test_keyword_scores():
    scores = keyword_scores("Ouvert à sept heures, fermé le lundi [1].", ["sept heures", "lundi", "dimanche"])
    assert scores == {"all": 0.0, "fraction": pytest.approx(2 / 3), "found": [True, True, False]}
    assert keyword_scores("Sept heures, le lundi.", ["sept heures", "lundi"])["all"] == 1.0


def test_an_abstained_answer_scores_zero_even_if_the_words_are_there():
    scores = keyword_scores("Ce n'est pas dans les documents, ni sept heures.", ["sept heures"], abstained=True)
    assert scores == {"all": 0.0, "fraction": 0.0, "found": [False]}


def test_no_keywords_no_score():
    assert keyword_scores("Peu importe.", []) is None
    assert keyword_scores("Peu importe.", (), abstained=True) is None


# -- citation_scores ------------------------------------------------------------------------
def test_the_fixture_passages_cover_what_they_should():
    assert coverage(OVEN, [P_OVEN]) == 1.0
    assert coverage(OVEN, [NOISE]) < COVERAGE_THRESHOLD
    for half in (P_FLOUR, P_LEVAIN):
        assert coverage(FLOUR_LEVAIN, [half]) < COVERAGE_THRESHOLD
    assert coverage(FLOUR_LEVAIN, [P_FLOUR, P_LEVAIN]) >= COVERAGE_THRESHOLD


def test_citation_precision_and_recall():
    assert citation_scores([P_OVEN, NOISE], [OVEN]) == {
        "cited": 2,
        "correct": 1,
        "precision": 0.5,
        "recall": 1.0,
        "quotes_covered": [True],
    }
    assert citation_scores([P_OVEN], [OVEN, FLOUR_LEVAIN]) == {
        "cited": 1,
        "correct": 1,
        "precision": 1.0,
        "recall": 0.5,
        "quotes_covered": [True, False],
    }


def test_a_quote_split_over_two_passages_counts_for_recall_only():
    scores = citation_scores([P_FLOUR, P_LEVAIN], [FLOUR_LEVAIN])
    assert (scores["correct"], scores["precision"], scores["recall"]) == (0, 0.0, 1.0)
    # One half alone covers neither the quote nor the recall.
    assert citation_scores([P_FLOUR], [FLOUR_LEVAIN])["recall"] == 0.0


def test_citation_scores_without_citations_or_quotes():
    assert citation_scores([], [OVEN]) == {
        "cited": 0,
        "correct": 0,
        "precision": None,
        "recall": 0.0,
        "quotes_covered": [False],
    }
    assert citation_scores([P_OVEN], [])["recall"] is None


# -- summarise_answers ----------------------------------------------------------------------
def row(answerable, abstained, keywords=None, cites=None, sentences=(), timings=None, kind=None):
    return {
        "answerable": answerable,
        "abstained": abstained,
        "keywords": keywords,
        "citation_scores": cites,
        "sentences": None if sentences is None else [{"supported": s} for s in sentences],
        "timings": timings or {},
        "refusal_kind": kind,
    }


def cites(cited, correct, recall):
    return {"cited": cited, "correct": correct, "precision": correct / cited if cited else None, "recall": recall}


def timed(first_token, tokens_per_second, total):
    return {"first_token": first_token, "tokens_per_second": tokens_per_second, "total": total}


NOTHING_FOUND = {"all": 0.0, "fraction": 0.0}
ROWS = [
    # answered, every keyword, 2 citations of which 1 correct
    row(True, False, {"all": 1.0, "fraction": 1.0}, cites(2, 1, 1.0), [True, True], timed(0.2, 10.0, 1.0)),
    # answered, half the keywords, 1 correct citation, one unsupported sentence
    row(True, False, {"all": 0.0, "fraction": 0.5}, cites(1, 1, 0.5), [True, False], timed(0.4, 20.0, 2.0)),
    # false refusal after generation: its citations and sentences no longer count
    row(True, True, NOTHING_FOUND, cites(0, 0, 0.0), [False], timed(0.6, 0.0, 3.0), "unsupported sentences"),
    # correct refusal before generation
    row(False, True, timings={"total": 0.1}, kind="weak evidence (before generation)"),
    # unanswerable question answered with one unsupported sentence
    row(False, False, sentences=[False], timings=timed(0.3, 30.0, 1.5)),
]


def test_summarise_answers_by_hand():
    s = summarise_answers(ROWS)
    assert (s["n"], s["n_answerable"], s["n_unanswerable"]) == (5, 3, 2)
    assert s["keyword_accuracy"] == pytest.approx(1 / 3)  # (1 + 0 + 0) / 3: the abstention counts 0
    assert s["keyword_fraction"] == pytest.approx(0.5)  # (1 + 0.5 + 0) / 3
    assert s["keyword_accuracy_answered"] == pytest.approx(0.5)
    assert s["citation_precision"] == pytest.approx(2 / 3)  # (1 + 1) correct / (2 + 1) cited
    assert s["citation_recall"] == pytest.approx(0.75)  # mean(1.0, 0.5)
    assert (s["citations"], s["uncited_answers"]) == (3, 0)
    assert (s["correct_refusals"], s["answered_unanswerable"]) == (1, 1)
    assert (s["false_refusals"], s["false_refusal_rate"]) == (1, pytest.approx(1 / 3))
    assert s["refusal_kinds"] == {"unsupported sentences": 1, "weak evidence (before generation)": 1}
    assert s["sentences_checked"] == 5  # 2 + 2 + 1: not the refused answer's sentence
    assert s["unsupported_sentence_rate"] == pytest.approx(2 / 5)


def test_the_excerpt_ending_an_answer_is_counted_apart():
    with_excerpt = row(True, False, {"all": 1.0, "fraction": 1.0}, cites(1, 1, 1.0), [False])
    with_excerpt["sentences"].append({"supported": True, "quote": True})
    with_excerpt["keywords_without_excerpt"] = {"all": 0.0, "fraction": 0.0}  # the fact was in the excerpt only
    plain = row(True, False, {"all": 1.0, "fraction": 1.0}, cites(1, 1, 1.0), [True])
    s = summarise_answers([with_excerpt, plain])
    assert s["keyword_accuracy"] == 1.0 and s["keyword_accuracy_without_excerpt"] == 0.5
    assert (s["sentences_checked"], s["unsupported_sentence_rate"]) == (2, 0.5)  # the verbatim excerpt is not one


def test_latency_percentiles():
    latency = summarise_answers(ROWS)["latency"]
    assert latency["n_generated"] == 4
    assert latency["first_token_p50"] == pytest.approx(0.35)  # 0.2 0.3 | 0.4 0.6
    assert latency["first_token_p95"] == pytest.approx(0.57)  # 0.4 + 0.85 * 0.2
    assert latency["tokens_per_second_p50"] == pytest.approx(20.0)  # the 0.0 of the refusal is left out
    assert latency["total_p50"] == pytest.approx(1.5)
    assert latency["total_p95"] == pytest.approx(2.8)  # 2.0 + 0.8 * 1.0


def test_a_system_that_does_not_cite_or_check_has_none():
    rows = [
        row(True, False, {"all": 1.0, "fraction": 1.0}, sentences=None),
        row(False, True, sentences=None, kind=None),
    ]
    s = summarise_answers(rows)
    for name in ("citation_precision", "citation_recall", "citations", "uncited_answers"):
        assert s[name] is None, name
    assert s["sentences_checked"] is None and s["unsupported_sentence_rate"] is None
    assert s["refusal_kinds"] == {"other": 1}
    assert s["latency"]["first_token_p50"] is None and s["latency"]["n_generated"] == 0


def test_a_citing_system_whose_answers_cite_nothing():
    rows = [row(True, False, {"all": 0.0, "fraction": 0.0}, cites(0, 0, 0.0), [False])]
    s = summarise_answers(rows)
    assert (s["citations"], s["uncited_answers"], s["citation_precision"], s["citation_recall"]) == (0, 1, None, 0.0)
    assert s["unsupported_sentence_rate"] == 1.0


def test_only_unanswerable_questions():
    s = summarise_answers([row(False, True), row(False, True)])
    assert s["keyword_accuracy"] is None and s["false_refusal_rate"] is None
    assert (s["correct_refusals"], s["answered_unanswerable"]) == (2, 0)
    assert s["unsupported_sentence_rate"] is None  # a checking system with nothing answered


def test_summaries_by_split_need_both_parts():
    def row(system, split, abstained):
        return {
            "system": system,
            "split": split,
            "answerable": True,
            "abstained": abstained,
            "keywords": None,
            "citation_scores": None,
            "sentences": None,
            "timings": {},
        }

    rows = [row("rag", "tune", False), row("rag", "held-out", True), row("rag", "held-out", False)]
    parts = summarise_by_split(rows, ["rag"])
    assert parts["rag (tune)"]["false_refusals"] == 0 and parts["rag (held-out)"]["false_refusals"] == 1
    assert summarise_by_split(rows[:1], ["rag"]) == {}
