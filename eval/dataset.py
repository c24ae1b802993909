"""Evaluation questions: one JSON object per line, loaded into frozen ``Question`` objects.

A line holds ``id``, ``question``, ``answer`` (reference), ``answerable``, ``type``
(``single``, ``multi``, ``unanswerable``, ...), ``evidence`` (a list of ``{doc, quote}``,
each quote an exact substring of that document) and ``keywords`` (strings a correct
answer contains). Every problem is reported with its file and line number.

This module only parses and checks the shape of the data; it does not open the corpus
to check that the quotes are there (the runner warns about unknown documents).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from rag.errors import RagError


class DatasetError(RagError):
    """A line of a question file is malformed; the message gives the file and line."""


@dataclass(frozen=True)
class Evidence:
    """A gold passage: ``quote`` is an exact substring of the document ``doc``."""

    doc: str
    quote: str


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answer: str
    answerable: bool
    type: str
    evidence: tuple[Evidence, ...]
    keywords: tuple[str, ...]

    @property
    def quotes(self) -> list[str]:
        return [e.quote for e in self.evidence]

    @property
    def docs(self) -> list[str]:
        """The gold documents, each once, in evidence order."""
        return list(dict.fromkeys(e.doc for e in self.evidence))


_STRING_FIELDS = ("id", "question", "answer", "type")


def parse_question(record: object) -> Question:
    """A ``Question`` from one decoded JSON line; ``ValueError`` says what is wrong."""
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    missing = [name for name in (*_STRING_FIELDS, "answerable", "evidence", "keywords") if name not in record]
    if missing:
        raise ValueError(f"missing field(s): {', '.join(missing)}")
    for name in _STRING_FIELDS:
        if not isinstance(record[name], str):
            raise ValueError(f"field {name!r} must be a string")
    if not record["id"].strip():
        raise ValueError("field 'id' is empty")
    if not isinstance(record["answerable"], bool):
        raise ValueError("field 'answerable' must be true or false")
    if not isinstance(record["evidence"], list):
        raise ValueError("field 'evidence' must be a list of {doc, quote} objects")
    evidence = []
    for i, item in enumerate(record["evidence"]):
        if not isinstance(item, dict) or not isinstance(item.get("doc"), str) or not isinstance(item.get("quote"), str):
            raise ValueError(f"evidence[{i}] must be an object with string fields 'doc' and 'quote'")
        if not item["quote"].strip():
            raise ValueError(f"evidence[{i}] has an empty quote")
        evidence.append(Evidence(item["doc"], item["quote"]))
    if record["answerable"] and not evidence:
        raise ValueError("an answerable question needs at least one evidence quote")
    keywords = record["keywords"]
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        raise ValueError("field 'keywords' must be a list of strings")
    return Question(
        id=record["id"],
        question=record["question"],
        answer=record["answer"],
        answerable=record["answerable"],
        type=record["type"],
        evidence=tuple(evidence),
        keywords=tuple(keywords),
    )


def load_questions(path: Path | str) -> list[Question]:
    """All questions of a JSONL file, in file order; blank lines are skipped."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DatasetError(f"No question file at {path}. Give an existing JSONL file with --questions.") from None
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path} is not UTF-8 ({exc}). Save it as UTF-8.") from None
    questions: list[Question] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            question = parse_question(json.loads(line))
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path}:{number}: invalid JSON ({exc.msg} at column {exc.colno}).") from None
        except ValueError as exc:
            raise DatasetError(f"{path}:{number}: {exc}.") from None
        if question.id in seen:
            raise DatasetError(f"{path}:{number}: duplicate id {question.id!r} (first on line {seen[question.id]}).")
        seen[question.id] = number
        questions.append(question)
    return questions


SPLITS = ("all", "tune", "held-out")
SPLIT_SEED = 20261203  # fixed once: the held-out third must never move


def split_questions(questions: list[Question], part: str = "all", seed: int = SPLIT_SEED) -> list[Question]:
    """The ``part`` of a question set: "tune" (two thirds, for changing code), "held-out" (the
    other third, only ever measured), or "all". Drawn once per set with a fixed seed, apart for
    answerable and unanswerable questions (each half gets its share of both), by sorted id:
    the same question always falls on the same side, whatever the file order."""
    if part not in SPLITS:
        raise DatasetError(f"Unknown split {part!r}: use one of {', '.join(SPLITS)}.")
    if part == "all":
        return list(questions)
    held: set[str] = set()
    for answerable in (True, False):
        ids = sorted(q.id for q in questions if q.answerable == answerable)
        held |= set(random.Random(f"{seed}:{answerable}").sample(ids, round(len(ids) / 3)))
    keep = part == "held-out"
    return [q for q in questions if (q.id in held) == keep]
