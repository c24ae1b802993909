"""The quantity check: a question that asks how much gets a number."""

from __future__ import annotations

from collections.abc import Sequence

from rag.answering.checks.verdict import Sentence, Verdict, answering, asking
from rag.answering.question import asked, new_quantities


class Quantity:
    """A question that asks for a quantity (« combien ... », « quelle est la taille ... »: a
    measure noun after « quel ») is answered only by a sentence that states one the question
    does not (``rag.answering.question.new_quantities``): a description with no figure, the
    question's own numbers or the numbers of the text's furniture (a figure's, a reference's,
    a name's digits) answer nothing."""

    code = "no_quantity"

    def __call__(self, question: str, sentences: Sequence[Sentence], whole: str | None = None) -> Verdict | None:
        said = answering(sentences)
        if not said or not asked(question).quantity:
            return None
        full = asking(question, whole)
        if any(new_quantities(s.text, full) for s in said):
            return None
        return Verdict(self.code, "the question asks how many and the answer gives no number")
