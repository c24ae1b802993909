"""The answer evaluation end to end on the bakery corpus: hashing embedder, scripted LLM, three systems."""

from __future__ import annotations

import json
import re

import pytest

from eval.answers import main, refusal_kind
from rag.answering.prompts import REFUSAL
from rag.testing import HashingEmbedder, ScriptedLLM
from tests.conftest import DEV_SET, LLM_FR
from tests.eval.bakery import DOCS, QUESTIONS

# How rag.answering.prompts.PASSAGE numbers the passages in the system message.
PASSAGE = re.compile(r"^\[(\d+)\] (.+)\n\(source : [^)\n]*\)$", re.MULTILINE)
UNSUPPORTED = "Le boulanger joue du violon sous le pont chaque soir"
STUFF_REPLIES = {  # the LangChain chain sends the bare question as the user message
    "four": "Le four à bois du fournil est allumé chaque matin à cinq heures.",
    "sacs": f"Le meunier livre quarante sacs de farine de blé chaque lundi. {UNSUPPORTED}.",
    "enfants": "Je ne sais pas.",
    "velo": REFUSAL,
}
ROW_FIELDS = {
    "id", "system", "type", "answerable", "question", "answer", "draft", "abstained", "abstain_reason",
    "refusal_kind", "model", "citations", "invalid_markers", "sentences", "timings", "keywords", "citation_scores",
    "draft_rejected",
}  # fmt: skip


def scripted_reply(messages: list[dict]) -> str:
    """Our prompt: cite the passage about the oven with its own first sentence, refuse the flour
    question, invent a sentence for the workshops. The LangChain prompt: STUFF_REPLIES."""
    by_question = {q["question"]: q["id"] for q in QUESTIONS}
    if "Passages :" not in messages[0]["content"]:  # the LangChain prompt
        return STUFF_REPLIES[by_question[messages[-1]["content"]]]
    user = "\n".join(m["content"] for m in messages)
    if "Combien de sacs" in user:
        return REFUSAL
    if "Combien d'enfants" in user:
        return f"{UNSUPPORTED} [1]."
    assert "four à bois" in user, user
    for number, text in PASSAGE.findall(user):
        if "allumé chaque matin" in text:
            return f"{text.split('. ')[0]} [{number}]."
    raise AssertionError("the oven passage was not in the prompt")


def evaluate(tmp_path, corpus, questions, *extra, llm=None):
    argv = ["--questions", str(questions), "--corpus", str(corpus), "--index", str(tmp_path / "index")]
    return main([*argv, "--out", str(tmp_path / "out"), *extra], embedder=HashingEmbedder(256), llm=llm)


@pytest.fixture
def outputs(tmp_path, tiny_corpus, tiny_questions, uncalibrated):
    llm = ScriptedLLM(scripted_reply)
    assert evaluate(tmp_path, tiny_corpus, tiny_questions, "--systems", "rag,extractive,langchain-stuff", llm=llm) == 0
    out = tmp_path / "out"
    rows = [json.loads(line) for line in (out / "answers.jsonl").read_text(encoding="utf-8").splitlines()]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return {
        "rows": {(r["id"], r["system"]): r for r in rows},
        "n_rows": len(rows),
        "summary": summary,
        "report": (out / "report.md").read_text(encoding="utf-8"),
        "llm": llm,
    }


def test_one_row_per_question_and_system_with_the_documented_fields(outputs):
    rows = outputs["rows"]
    assert outputs["n_rows"] == len(rows) == 4 * 3
    assert {q for q, _ in rows} == {q["id"] for q in QUESTIONS}
    for (_, system), row in rows.items():
        assert ROW_FIELDS <= set(row), system
        assert ("hits" in row) == (system != "langchain-stuff")
        assert ("passages" in row) == (system == "langchain-stuff")
        assert row["timings"]["total"] >= 0
    # The weak-evidence refusal comes before generation: the LLM saw 3 of our prompts, a second look
    # at the invented workshop answer, and 4 LangChain prompts.
    assert len(outputs["llm"].calls) == 3 + 1 + 4


def test_a_cited_sentence_from_the_passage_is_scored(outputs):
    row = outputs["rows"][("four", "rag")]
    assert not row["abstained"] and row["model"] == "scripted"
    (citation,) = row["citations"]
    number = citation["number"]
    assert row["draft"].endswith(f"[{number}].")
    assert row["hits"][number - 1]["source"] == citation["source"] == "four.txt"  # [n] is the n-th hit
    assert citation["text"].strip() == DOCS["four.txt"]
    assert [(s["cited"], s["supported"]) for s in row["sentences"]] == [([number], True)]
    assert row["keywords"] == {"all": 1.0, "fraction": 1.0, "found": [True]}
    assert row["citation_scores"]["precision"] == row["citation_scores"]["recall"] == 1.0
    assert row["timings"]["first_token"] >= 0


def test_refusals(outputs):
    rows = outputs["rows"]
    flour = rows[("sacs", "rag")]
    assert flour["abstained"] and flour["answer"] == REFUSAL and flour["draft"] == REFUSAL
    assert flour["refusal_kind"] == "model refused"
    assert flour["keywords"]["all"] == 0.0 and flour["citation_scores"]["cited"] == 0
    invented = rows[("enfants", "rag")]  # two invented drafts, then the passage's own words
    assert not invented["abstained"] and invented["mode"] == "extractive"
    assert "not supported" in invented["draft_rejected"] and invented["draft"].startswith(UNSUPPORTED)
    assert invented["answer"].startswith("Extrait : « ") and [s["quote"] for s in invented["sentences"]] == [True]
    assert invented["keywords"]["all"] == 1.0 and invented["keywords_without_excerpt"]["all"] == 0.0
    assert [c["source"] for c in invented["citations"]] == ["ateliers.txt"]
    for system in ("rag", "extractive"):
        assert rows[("velo", system)]["refusal_kind"] == "weak evidence (before generation)"
    assert rows[("velo", "langchain-stuff")]["abstained"]
    assert rows[("enfants", "langchain-stuff")]["refusal_kind"] == "model refused"  # "Je ne sais pas."


def test_the_langchain_answers_are_checked_against_its_documents(outputs):
    row = outputs["rows"][("sacs", "langchain-stuff")]
    assert row["citations"] is None and row["citation_scores"] is None
    assert len(row["passages"]) == 4 and {p["source"] for p in row["passages"]} == set(DOCS)
    assert [s["supported"] for s in row["sentences"]] == [True, False]
    assert row["keywords"]["all"] == 1.0


def test_summary_per_system(outputs):
    summary = outputs["summary"]
    assert list(summary["systems"]) == ["rag", "extractive", "langchain-stuff"]
    assert summary["config"]["llm"] == "scripted" and summary["config"]["n_questions"] == 4
    assert summary["config"]["embedder"] == "hashing-bow-256"
    rag, extractive, stuff = (summary["systems"][s] for s in ("rag", "extractive", "langchain-stuff"))
    for s in (rag, extractive, stuff):
        assert (s["n"], s["n_answerable"], s["n_unanswerable"]) == (4, 3, 1)
        assert (s["correct_refusals"], s["answered_unanswerable"]) == (1, 0)

    assert rag["keyword_accuracy"] == pytest.approx(2 / 3)  # the refusal scores 0
    assert rag["keyword_accuracy_without_excerpt"] == pytest.approx(1 / 3)  # the located answer is all excerpt
    assert (rag["false_refusals"], rag["false_refusal_rate"]) == (1, pytest.approx(1 / 3))
    assert (rag["citation_precision"], rag["citation_recall"], rag["citations"]) == (1.0, 1.0, 2)
    assert (rag["sentences_checked"], rag["unsupported_sentence_rate"]) == (1, 0.0)
    assert rag["refusal_kinds"] == {"model refused": 1, "weak evidence (before generation)": 1}
    assert rag["located_answers"] == 1
    assert rag["latency"]["n_generated"] == 3

    assert (extractive["keyword_accuracy"], extractive["false_refusals"]) == (1.0, 0)
    assert extractive["citation_precision"] == 1.0 and extractive["latency"]["n_generated"] == 0

    assert stuff["keyword_accuracy"] == pytest.approx(2 / 3)
    assert stuff["citation_precision"] is None and stuff["citation_recall"] is None
    assert (stuff["sentences_checked"], stuff["unsupported_sentence_rate"]) == (3, pytest.approx(1 / 3))
    assert stuff["refusal_kinds"] == {"model refused": 2}


def test_report_has_the_comparison_table(outputs):
    report = outputs["report"]
    assert "| system | n | keywords all | keywords w/o excerpt | keywords frac. | cit. precision |" in report
    table = [line for line in report.splitlines() if line.startswith("| ") and not line.startswith("| system")]
    systems = ["| rag", "| extractive", "| langchain-stuff"]
    assert [line.split(" | ")[0] for line in table][:3] == systems
    # then the same systems on the tune and held-out parts of the questions, when both are present
    parts = [line.split(" | ")[0] for line in table[3:]]
    assert all(any(part.startswith(f"{s} (") for s in systems) for part in parts)
    assert table[0].startswith(
        "| rag | 4 | 66.7% | 33.3% | 66.7% | 100.0% | 100.0% | 66.7% | 1/1 | 1/3 (33.3%) | 0 | 0.0% |"
    )
    assert "| langchain-stuff | 4 | 66.7% | 66.7% | 66.7% | n/a | n/a | n/a | 1/1 | 1/3 (33.3%) | 0 | 33.3% |" in report
    assert "- langchain-stuff: model refused: 2" in report
    assert "- rag: keywords missing: sacs\n" in report
    assert "answered with the located passage words, the drafts rejected: 1" in report


def test_extractive_alone_needs_no_llm(tmp_path, tiny_corpus, tiny_questions, uncalibrated, capsys):
    extra = ["--llm", "none", "--systems", "extractive", "--limit", "2"]
    assert evaluate(tmp_path, tiny_corpus, tiny_questions, *extra) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert list(summary["systems"]) == ["extractive"] and summary["config"]["llm"] is None
    assert summary["systems"]["extractive"]["n"] == 2
    assert len((tmp_path / "out" / "answers.jsonl").read_text(encoding="utf-8").splitlines()) == 2
    assert "| extractive | 2 |" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--systems", "rag,oracle"], "unknown oracle"),
        (["--systems", " , "], "(none given)"),
        (["--llm", "none"], "--llm none leaves only the extractive system"),
        (["--llm", "None", "--systems", "langchain-stuff"], "--llm none"),
        (["--k", "0"], "--k must be at least 1"),
        (["--limit", "0"], "--limit must be at least 1"),
    ],
)
def test_argument_errors_exit_2(tmp_path, extra, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        evaluate(tmp_path, tmp_path / "corpus", tmp_path / "q.jsonl", *extra)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "index").exists()


def test_a_missing_corpus_is_a_clean_error(tmp_path, tiny_questions, capsys):
    assert evaluate(tmp_path, tmp_path / "nowhere", tiny_questions, "--llm", "none", "--systems", "extractive") == 2
    assert "No corpus folder" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("weak evidence: the passages cover 10% of the question's key terms", "weak evidence (before generation)"),
        ("2 of 3 sentences are not supported by the passages", "unsupported sentences"),
        ("the model found no answer in the passages", "model refused"),
        ("the model's sentences cite none of the passages that answer best", "answered elsewhere"),
        (None, "other"),
    ],
)
def test_refusal_kind(reason, kind):
    assert refusal_kind(reason) == kind


@pytest.mark.slow
def test_extractive_answers_keep_their_honesty_on_the_dev_set(request, tmp_path):
    """A regression guard on the real corpus, without an LLM: the extractive mode goes through
    the same checks and refusals as LLM answers. Measured (eval.answers, one run each): when written,
    keywords 47.1%, 6/9 unanswerable refused, 3/51 answerable refused; on 2026-12-03 with the torch
    engine of the default embedder, 49.0%, 7/9, 6/51 (the C engine on the same machine that day:
    47.1%, 7/9, 7/51); later that day with the calibrated answerability gate in front of every
    path, 45.1%, 7/9, 9/51 (the gate refuses 4 of dev's answerable questions, which the threshold
    fitted on both question sets pooled accepts). Each floor sits a question or two below; without
    ``rag.answering.question`` the mode refuses 1/9 and this fails."""
    index = request.getfixturevalue("llm_fr_index")
    out = tmp_path / "out"
    args = ["--questions", str(DEV_SET), "--corpus", str(LLM_FR), "--index", str(index), "--out", str(out)]
    assert main([*args, "--no-ingest", "--llm", "none", "--systems", "extractive"]) == 0
    ours = json.loads((out / "summary.json").read_text(encoding="utf-8"))["systems"]["extractive"]
    assert ours["n_unanswerable"] == 9 and ours["n_answerable"] == 51
    assert ours["correct_refusals"] >= 6 and ours["false_refusals"] <= 10, ours
    assert ours["keyword_accuracy"] >= 0.43 and ours["unsupported_sentence_rate"] == 0.0, ours
