"""The locator evaluation end to end on the bakery corpus: hashing embedder, a scripted scorer
that finds the question likely after the window holding its answer."""

from __future__ import annotations

import json

from eval.locate import main
from rag.testing import HashingEmbedder, ScriptedLLM
from tests.eval.bakery import QUESTIONS

ANSWERS = [k for q in QUESTIONS for k in q["keywords"]]  # "cinq heures", "quarante", "huit"


def _knows_the_answers(messages, reply):
    return -1.0 if any(k in messages[-1]["content"] for k in ANSWERS) else -6.0


def evaluate(tmp_path, corpus, questions, *extra, llm):
    argv = ["--questions", str(questions), "--corpus", str(corpus), "--index", str(tmp_path / "index")]
    return main([*argv, "--out", str(tmp_path / "out"), *extra], embedder=HashingEmbedder(256), llm=llm)


def test_both_rankings_are_measured_on_the_same_passages(tmp_path, tiny_corpus, tiny_questions, capsys):
    llm = ScriptedLLM([], scorer=_knows_the_answers)
    assert evaluate(tmp_path, tiny_corpus, tiny_questions, "--pool", "4", llm=llm) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["n"] == 3 and summary["config"]["pool"] == 4  # the answerable questions
    likelihood = summary["rankings"]["support+likelihood"]
    assert likelihood["top1_keywords"] == likelihood["top1_gold"] == 1.0
    assert summary["rankings"]["support"]["top3_keywords"] <= 1.0
    rows = [json.loads(line) for line in (tmp_path / "out" / "locate.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["four", "sacs", "enfants"]
    assert all(len(r["support windows"]) == 3 and r["support+likelihood windows"] for r in rows)
    out = capsys.readouterr().out
    assert "| support+likelihood | 100.0% |" in out


def test_a_model_that_cannot_score_is_a_clean_error(tmp_path, tiny_corpus, tiny_questions, capsys):
    assert evaluate(tmp_path, tiny_corpus, tiny_questions, llm=ScriptedLLM(["oui"])) == 2
    assert "can score replies" in capsys.readouterr().err
