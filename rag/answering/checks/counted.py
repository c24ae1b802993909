"""The counted check: a count is of what the question counts."""

from __future__ import annotations

from collections.abc import Sequence

from rag.answering.checks.verdict import Sentence, Verdict, answering, asking
from rag.answering.question import asked, new_quantities
from rag.text.analysis import analyze


class Counted:
    """« Combien de X » names what is counted: the passages cited by the sentences that give a
    number must mention X. A supported figure that counts something else (« douze salles » for
    « combien de fours ») answers a neighbouring question. Generic measures (« combien de
    temps », « de fois ») name nothing a passage must repeat and are not checked; a draft with
    no number is the quantity check's business."""

    code = "uncounted"

    def __call__(self, question: str, sentences: Sequence[Sentence], whole: str | None = None) -> Verdict | None:
        want = asked(question)
        if want.counted_term is None:
            return None
        full = asking(question, whole)
        counting = [s for s in answering(sentences) if new_quantities(s.text, full)]
        if not counting:
            return None
        cited = " ".join(text for s in counting for text in s.passages)
        if want.counted_term in set(analyze(cited)):
            return None
        return Verdict(self.code, f"the question counts « {want.counted} », which the cited passages never mention")
