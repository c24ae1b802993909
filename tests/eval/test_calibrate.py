"""Threshold choice on hand-made scores, and the calibration command end to end on a tiny corpus."""

from __future__ import annotations

import json

import pytest

from eval.calibrate import choose_threshold, histogram, main
from rag.answering.calibration import CALIBRATION_FILE
from rag.answering.calibration import thresholds as calibrated_thresholds
from rag.testing import HashingEmbedder
from tests.eval.bakery import QUESTIONS, write_questions


# -- choose_threshold -----------------------------------------------------------------------
def test_separable_scores_put_the_threshold_in_the_middle_of_the_gap():
    choice = choose_threshold([0.6, 0.7, 0.8, 0.9], [0.1, 0.2, 0.3], 0.05)
    assert choice.threshold == pytest.approx(0.45)  # (0.3 + 0.6) / 2
    assert choice.margin == pytest.approx(0.3)
    assert (choice.positives_rejected, choice.negatives_rejected) == (0, 3)
    assert (choice.positives, choice.negatives) == (4, 3)
    assert (choice.recall, choice.precision) == (1.0, 1.0)


# Ten positives, five negatives mixed in with them.
POSITIVES = [0.2, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.96, 0.97, 0.98]
NEGATIVES = [0.1, 0.3, 0.4, 0.55, 0.65]


def test_overlapping_scores_spend_the_budget_on_negatives():
    # 10% of 10 positives: one may be rejected (0.2); rejecting 0.5 too would exceed the budget.
    choice = choose_threshold(POSITIVES, NEGATIVES, 0.10)
    assert choice.threshold == pytest.approx(0.45)  # between 0.4 and 0.5
    assert (choice.positives_rejected, choice.negatives_rejected) == (1, 3)
    assert choice.recall == pytest.approx(0.9)
    assert choice.precision == pytest.approx(9 / 11)  # 9 positives and 2 negatives kept
    assert choice.as_dict()["recall"] == pytest.approx(0.9)


def test_no_budget_rejects_no_positive():
    choice = choose_threshold(POSITIVES, NEGATIVES, 0.0)
    assert choice.threshold == pytest.approx(0.15)  # below the lowest positive, above 0.1
    assert (choice.positives_rejected, choice.negatives_rejected) == (0, 1)


@pytest.mark.parametrize("loss", [0.0, 0.05, 0.1, 0.2, 0.3, 0.5])
def test_the_budget_is_respected_and_no_other_threshold_does_better(loss):
    choice = choose_threshold(POSITIVES, NEGATIVES, loss)
    budget = int(loss * len(POSITIVES) + 1e-9)
    assert choice.positives_rejected <= budget
    for threshold in [i / 100 for i in range(102)]:  # brute force over a fine grid
        if sum(p < threshold for p in POSITIVES) <= budget:
            assert sum(n < threshold for n in NEGATIVES) <= choice.negatives_rejected


def test_ties_prefer_fewer_positives_rejected_then_the_wider_gap():
    # 0.2 and 0.6 both reject the negative; 0.6 (wider gap) also rejects a positive.
    choice = choose_threshold([0.3, 0.9], [0.1], 0.5)
    assert choice.threshold == pytest.approx(0.2) and choice.positives_rejected == 0
    # Nothing to reject: the widest gap below the positives (0 .. 0.8), not the threshold 0.
    choice = choose_threshold([0.8, 0.9], [], 0.05)
    assert choice.threshold == pytest.approx(0.4) and choice.margin == pytest.approx(0.8)


def test_strict_takes_the_highest_threshold_within_the_budget():
    positives = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.96, 0.97, 0.98, 0.99]
    negatives = [0.1, 0.2]
    loose = choose_threshold(positives, negatives, 0.10)
    strict = choose_threshold(positives, negatives, 0.10, strict=True)
    assert loose.negatives_rejected == strict.negatives_rejected == 2
    assert loose.positives_rejected == 0 and loose.threshold < 0.5
    assert strict.positives_rejected == 1 and strict.threshold == pytest.approx(0.55)


def test_no_positives_is_an_error():
    with pytest.raises(ValueError, match="no positive"):
        choose_threshold([], [0.1, 0.2], 0.05)


def test_histogram_counts_both_classes():
    lines = histogram([0.95, 1.0, 0.5], [0.0, 0.05, 0.5])
    assert len(lines) == 11
    assert lines[1].split()[-2:] == ["0", "2"]  # [0.0, 0.1)
    assert lines[6].split()[-2:] == ["1", "1"]  # [0.5, 0.6)
    assert lines[10].split()[-2:] == ["2", "0"]  # [0.9, 1.0] holds 1.0


# -- the command ----------------------------------------------------------------------------
def run(tmp_path, questions, corpus, *extra):
    argv = ["--questions", str(questions), "--corpus", str(corpus), "--index", str(tmp_path / "index"), *extra]
    return main(argv, embedder=HashingEmbedder(256))


def test_calibrate_writes_thresholds_the_answerer_reads(tmp_path, tiny_corpus, tiny_questions, capsys):
    path = tmp_path / "index" / CALIBRATION_FILE
    assert run(tmp_path, tiny_questions, tiny_corpus, "--write") == 0
    written = json.loads(path.read_text(encoding="utf-8"))
    thresholds = written["thresholds"]
    assert set(thresholds) == {"min_evidence", "support_threshold"}
    assert all(0.0 <= v <= 1.0 for v in thresholds.values())
    assert written["embedder"] == "hashing-bow-256"
    # kept with the index, for the embedder it was measured with only
    assert calibrated_thresholds("hashing-bow-256", tmp_path / "index") == thresholds
    assert calibrated_thresholds("hashing-bow-128", tmp_path / "index") != thresholds

    # Every answerable question's terms are in its document (score 1), the unanswerable's nowhere (0).
    evidence = written["measured"]["min_evidence"]
    assert thresholds["min_evidence"] == pytest.approx(0.5)
    assert (evidence["negatives_rejected"], evidence["positives_rejected"]) == (1, 0)
    assert (evidence["positives"], evidence["negatives"], evidence["k"]) == (3, 1, 5)

    support = written["measured"]["support_threshold"]
    assert support["positives"] == 3 and support["skipped_questions"] == 0
    low_positive, high_negative = support["positive_scores"]["p0"], support["negative_scores"]["p100"]
    assert high_negative < thresholds["support_threshold"] < low_positive
    assert thresholds["support_threshold"] == pytest.approx((low_positive + high_negative) / 2, abs=1e-3)
    assert written["measured"]["embedder"] == "hashing-bow-256"
    assert written["measured"]["n_questions"] == len(QUESTIONS)
    assert written["measured"]["dataset"] == "questions.jsonl"

    out = capsys.readouterr().out
    assert "chosen min_evidence = 0.5000" in out and f"written: {path}" in out


def test_without_write_nothing_is_written(tmp_path, tiny_corpus, tiny_questions, capsys):
    path = tmp_path / "index" / CALIBRATION_FILE
    assert run(tmp_path, tiny_questions, tiny_corpus) == 0
    assert not path.exists()
    assert "thresholds: {" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("keep", "message"),
    [
        (lambda q: q["answerable"], "no unanswerable question"),
        (lambda q: not q["answerable"], "no answerable question"),
    ],
)
def test_a_question_set_missing_a_class_is_a_clean_error(tmp_path, tiny_corpus, capsys, keep, message):
    questions = write_questions(tmp_path / "q.jsonl", [q for q in QUESTIONS if keep(q)])
    assert run(tmp_path, questions, tiny_corpus, "--write") == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "index" / CALIBRATION_FILE).exists()


def test_questions_about_another_corpus_are_a_clean_error(tmp_path, tiny_corpus, capsys):
    elsewhere = {
        **QUESTIONS[0],
        "id": "phare",
        "evidence": [{"doc": "phare.txt", "quote": "Le phare de la pointe est repeint tous les dix ans"}],
    }
    questions = write_questions(tmp_path / "q.jsonl", [elsewhere, QUESTIONS[-1]])
    assert run(tmp_path, questions, tiny_corpus) == 2
    assert "gold passages" in capsys.readouterr().err
