"""The restatement check: an answer must add something to its question."""

from __future__ import annotations

from collections.abc import Sequence

from rag.answering.checks.verdict import Sentence, Verdict, answering, asking
from rag.answering.question import new_quantities
from rag.text.analysis import analyze


class Restatement:
    """An answer must say something its question does not: some answering sentence holds a
    content term or a quantity of its own. A sentence whose terms and numbers are all the
    question's (« Le bois chauffe le four » for « Quel bois chauffe le four ? ») only restates
    it, however well a passage supports it."""

    code = "restatement"

    def __call__(self, question: str, sentences: Sequence[Sentence], whole: str | None = None) -> Verdict | None:
        said = answering(sentences)
        if not said:
            return None
        terms, full = set(analyze(question)), asking(question, whole)
        if any(set(analyze(s.text)) - terms or new_quantities(s.text, full) for s in said):
            return None
        return Verdict(self.code, "the answer only restates the question")
