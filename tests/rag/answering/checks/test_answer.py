"""The answer checks run in order behind ``shortfall``: the first failing check gives the reason."""

from __future__ import annotations

from rag.answering.checks import ANSWER_CHECKS, Sentence, Verdict, shortfall
from rag.answering.checks.verdict import run


def test_the_first_failing_check_decides():
    assert [c.code for c in ANSWER_CHECKS] == ["restatement", "no_quantity", "uncounted"]
    question = "Combien de fours a le fournil ?"
    assert shortfall(question, [("Le fournil a des fours à bois [1].", ["Le fournil a trois fours."])]) == (
        "the question asks how many and the answer gives no number"
    )
    assert shortfall(question, [("Le fournil a trois fours [1].", ["Le fournil a trois fours."])]) is None


def test_run_returns_the_first_verdict():
    class Fails:
        code = "fails"

        def __call__(self, question, sentences, whole=None):
            return Verdict(self.code, "no")

    assert run([*ANSWER_CHECKS, Fails()], "Quel bois ?", [Sentence("Du chêne.")]) == Verdict("fails", "no")
    assert run(ANSWER_CHECKS, "Quel bois ?", [Sentence("Du chêne.")]) is None
