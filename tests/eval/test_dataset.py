"""The held-out split: fixed, disjoint, a third of each kind aside, whatever the file order."""

from __future__ import annotations

import random

import pytest

from eval.dataset import DatasetError, Question, split_questions


def _questions(answerable: int, unanswerable: int) -> list[Question]:
    return [Question(f"a{i}", "q", "r", True, "single", (), ()) for i in range(answerable)] + [
        Question(f"u{i}", "q", "", False, "unanswerable", (), ()) for i in range(unanswerable)
    ]


def test_a_third_of_each_kind_is_held_out_and_the_halves_are_disjoint():
    questions = _questions(51, 9)
    tune, held = split_questions(questions, "tune"), split_questions(questions, "held-out")
    assert {q.id for q in tune} | {q.id for q in held} == {q.id for q in questions}
    assert not {q.id for q in tune} & {q.id for q in held}
    assert (sum(q.answerable for q in held), sum(not q.answerable for q in held)) == (17, 3)
    assert split_questions(questions, "all") == questions


def test_the_split_does_not_depend_on_file_order():
    questions = _questions(30, 6)
    shuffled = questions[:]
    random.Random(1).shuffle(shuffled)
    assert {q.id for q in split_questions(shuffled, "held-out")} == {
        q.id for q in split_questions(questions, "held-out")
    }


def test_an_unknown_part_is_an_error():
    with pytest.raises(DatasetError, match="Unknown split"):
        split_questions(_questions(3, 1), "test")
