"""The answerability measurement's pure parts: AUC, the logistic fit, the threshold rule, the curve."""

from __future__ import annotations

import numpy as np
import pytest

from eval.answerability import auc, choose_threshold, curve, fit_logistic
from rag.answering.answerability import Calibration


def test_auc_by_hand():
    assert auc([3, 4], [1, 2]) == 1.0
    assert auc([1], [2]) == 0.0
    assert auc([1, 3], [2, 2]) == 0.5
    assert auc([2], [2]) == 0.5
    assert auc([], [1]) is None


def test_the_logistic_fit_separates_a_separable_signal():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(1, 0.5, 50), rng.normal(-1, 0.5, 50)])[:, None]
    y = np.array([1.0] * 50 + [0.0] * 50)
    weights, bias = fit_logistic(x, y)
    assert weights[0] > 1 and abs(bias) < 1


def test_the_threshold_refuses_most_unanswerable_within_the_budget():
    scores = [0.9, 0.8, 0.7, 0.3, 0.6, 0.1, 0.2]
    answerable = [True, True, True, True, True, False, False]
    # no answerable question may be refused (budget 0 of 5): refuse below 0.3 only
    t = choose_threshold(scores, answerable, 0.0)
    assert 0.2 < t <= 0.3
    # one answerable may go (0.3): both unanswerable still refused, not more
    t = choose_threshold(scores, answerable, 0.2)
    assert sum(s < t for s, a in zip(scores, answerable) if a) <= 1
    assert sum(s < t for s, a in zip(scores, answerable) if not a) == 2


def test_the_curve_goes_from_answering_all_to_few():
    points = curve([0.9, 0.1, 0.5], [True, False, True])
    assert points[0]["coverage"] == 1.0 and points[0]["precision"] == pytest.approx(2 / 3)
    assert points[-1]["coverage"] == pytest.approx(1 / 3) and points[-1]["precision"] == 1.0


def test_a_calibration_scores_and_names_its_weakest_signal():
    from rag.answering.answerability import Assessment

    calibration = Calibration({"a": 2.0, "b": 1.0}, {"a": 0.0, "b": 0.0}, {"a": 1.0, "b": 1.0}, 0.0, 0.5)
    assert calibration.confidence({"a": 1.0, "b": 1.0}) > 0.9 > 0.1 > calibration.confidence({"a": -1, "b": -1})
    assert Assessment({"a": -1.0, "b": 0.5}).weakest(calibration) == "a"
    assert Calibration.from_dict(calibration.to_dict()) == calibration
