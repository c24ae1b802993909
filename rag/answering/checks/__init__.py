"""Checks on the evidence, on a draft and on an answer, each a small unit with one interface
(``verdict.Check``: the question and the answer's sentences in, a ``Verdict`` with a reason
code out, or None):

- ``evidence``: enough evidence to answer from (``evidence_score``), names the documents
  never write (``unwritten_names``), the model's refusal (``is_refusal``);
- ``support_share``: the answer's sentences are supported by their passages;
- ``restatement``, ``quantity``, ``counted``: the answer gives what the question asks
  (``shortfall`` runs them in order, ``answer.ANSWER_CHECKS``);
- ``draft``: a draft's sentences checked against the passages (``DraftChecker``).

This package does not generate, retrieve or choose excerpts.
"""

from rag.answering.checks.answer import ANSWER_CHECKS, shortfall
from rag.answering.checks.counted import Counted
from rag.answering.checks.draft import DraftCheck, DraftChecker
from rag.answering.checks.evidence import evidence_score, is_refusal, unwritten_names
from rag.answering.checks.quantity import Quantity
from rag.answering.checks.restatement import Restatement
from rag.answering.checks.support_share import SupportShare
from rag.answering.checks.verdict import Check, Sentence, Verdict

__all__ = [
    "ANSWER_CHECKS",
    "Check",
    "Counted",
    "DraftCheck",
    "DraftChecker",
    "Quantity",
    "Restatement",
    "Sentence",
    "SupportShare",
    "Verdict",
    "evidence_score",
    "is_refusal",
    "shortfall",
    "unwritten_names",
]
