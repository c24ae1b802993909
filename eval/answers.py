"""Answer evaluation: cited answers, extractive answers and a textbook LangChain chain, compared.

Usage::

    python -m eval.answers --questions ../shared/eval/dev.jsonl --corpus ../shared/corpora/llm-fr \\
        --index /tmp/llm-fr-index --out /tmp/eval-answers [--llm default|none|URL] \\
        [--systems rag,extractive,langchain-stuff] [--limit N] [--k 5] [--no-ingest | --rebuild]

Systems, all over the same questions:

- ``rag``: ``RagService.ask(question, use_llm=True)``: hybrid retrieval, numbered passages,
  the LLM, checked citations, refusals before and after generation;
- ``extractive``: the same with ``use_llm=False`` (the best-supported passage sentences);
- ``langchain-stuff``: the textbook LangChain recipe (``eval.stuff_chain``): ``eval.baselines.NaiveBaseline``
  (1000/200-character chunks, FAISS, the same embedder) returning 4 documents, stuffed by
  ``create_stuff_documents_chain`` into the LangChain documentation's prompt (translated to
  French), answered by the SAME LLM. It does not cite; it abstains when its text is a refusal
  (``rag.answering.is_refusal``). Its sentences are checked afterwards with our support scorer
  against the 4 documents, so that its unsupported-sentence rate compares with ours.

Steps: bring --index in step with --corpus (incremental ingestion, cheap when nothing
changed), then every question through every system, question by question, so that a run
cut short holds comparable results for all systems. Writes to --out (corpus text inside:
keep it outside the repository), after every question:

- ``answers.jsonl``: one line per question and system: answer text, the model's draft,
  citations (number, source, page, chunk id, span, passage text), abstention and why,
  sentence checks, timings (first_token, tokens_per_second, total, ...) and the metrics;
- ``summary.json``: per system, the metrics of ``eval.answer_metrics``, plus the run's config;
- ``report.md``: the comparison table, refusals by kind, the questions each system misses.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from eval.answer_metrics import citation_scores, keyword_scores, summarise_answers, summarise_by_split
from eval.dataset import Question, load_questions, split_questions
from eval.inputs import command_parser, input_embedder, load_split, run_command, update_index
from eval.stuff_chain import STUFF_K, STUFF_SYSTEM, StuffSystem
from rag.errors import RagError
from rag.testing import ScriptedLLM

SYSTEMS = ("rag", "extractive", "langchain-stuff")
LLM_SYSTEMS = ("rag", "langchain-stuff")
WARMUP_QUERY = "Qu'est-ce qu'un modèle de langage ?"


# -- rows -----------------------------------------------------------------------------------
def refusal_kind(reason: str | None) -> str:
    """Which of the answerer's refusals this is, from its reason."""
    reason = (reason or "").lower()
    if "unknown to the documents" in reason:
        return "names unknown to the documents (before generation)"
    if "answerability" in reason:
        return "low answerability (before generation)"
    if "evidence" in reason:
        return "weak evidence (before generation)"
    if "not supported" in reason:
        return "unsupported sentences"
    if "answer best" in reason:
        return "answered elsewhere"
    if "model" in reason:
        return "model refused"
    if "question" in reason:
        return "not what was asked"
    return "other"


def _base_row(question: Question, system: str) -> dict:
    return {
        "id": question.id,
        "system": system,
        "type": question.type,
        "answerable": question.answerable,
        "question": question.question,
    }


def _score(row: dict, question: Question, cited_texts: list[str] | None) -> dict:
    row["keywords"] = keyword_scores(row["answer"], question.keywords, row["abstained"])
    if any(s.get("quote") for s in row.get("sentences") or ()):  # the model's own words, the excerpt left out
        own = " ".join(s["text"] for s in row["sentences"] if not s.get("quote"))
        row["keywords_without_excerpt"] = keyword_scores(own, question.keywords, row["abstained"])
    row["citation_scores"] = (
        citation_scores(cited_texts, question.quotes) if cited_texts is not None and question.answerable else None
    )
    return row


def answer_row(question: Question, system: str, answer) -> dict:
    """A ``rag.types.Answer`` as a row: ``rag ask --json``'s fields, the question's, and the scores."""
    from rag.serialize import answer_to_json

    data = answer_to_json(answer)
    del data["question"]  # the row keeps the question file's wording
    row = {
        **_base_row(question, system),
        **data,
        "refusal_kind": refusal_kind(answer.abstain_reason) if answer.abstained else None,
    }
    return _score(row, question, [c["text"] for c in data["citations"]])


def stuff_row(question: Question, result: dict, support, threshold: float, model: str) -> dict:
    """A LangChain answer as a row; its sentences are checked against its documents afterwards."""
    from rag.answering.checks import is_refusal
    from rag.text.markers import answer_sentences

    text = result["text"]
    abstained = not text or is_refusal(text)
    passages = [d.page_content for d in result["docs"]]
    sentences = []
    if not abstained:
        for start, end in answer_sentences(text):
            sentence = text[start:end]
            best = max((s.score for s in support.score_many(sentence, passages, question.question)), default=0.0)
            sentences.append(
                {
                    "text": sentence,
                    "cited": [],
                    "citations": [],
                    "support": round(best, 4),
                    "supported": best >= threshold,
                }
            )
    row = {
        **_base_row(question, StuffSystem.name),
        "answer": text,
        "draft": text,
        "abstained": abstained,
        "abstain_reason": "the model said it does not know" if abstained else None,
        "refusal_kind": "model refused" if abstained else None,
        "draft_rejected": None,
        "model": model,
        "citations": None,
        "invalid_markers": [],
        "sentences": sentences,
        "passages": [
            {"rank": r, "source": d.metadata.get("source", ""), "text": d.page_content}
            for r, d in enumerate(result["docs"], 1)
        ],
        "timings": result["timings"],
    }
    return _score(row, question, None)


# -- report ---------------------------------------------------------------------------------
def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _secs(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def comparison_table(summary: dict) -> list[str]:
    header = [
        "system",
        "n",
        "keywords all",
        "keywords w/o excerpt",
        "keywords frac.",
        "cit. precision",
        "cit. recall",
        "gold-cited answers",
        "correct refusals",
        "false refusals",
        "answered unanswerable",
        "unsupported sent.",
        "TTFT p50 s",
        "TTFT p95 s",
        "decode tok/s p50",
        "total p50 s",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for name, s in summary["systems"].items():
        lat = s["latency"]
        speed = lat["tokens_per_second_p50"]
        row = [
            name,
            str(s["n"]),
            _pct(s["keyword_accuracy"]),
            _pct(s["keyword_accuracy_without_excerpt"]),
            _pct(s["keyword_fraction"]),
            _pct(s["citation_precision"]),
            _pct(s["citation_recall"]),
            _pct(s.get("answered_with_gold_citation")),
            f"{s['correct_refusals']}/{s['n_unanswerable']}",
            f"{s['false_refusals']}/{s['n_answerable']} ({_pct(s['false_refusal_rate'])})",
            str(s["answered_unanswerable"]),
            _pct(s["unsupported_sentence_rate"]),
            _secs(lat["first_token_p50"]),
            _secs(lat["first_token_p95"]),
            "–" if speed is None else f"{speed:.1f}",
            _secs(lat["total_p50"]),
        ]
        lines.append("| " + " | ".join(row) + " |")
    return lines


def render_report(rows: Sequence[dict], summary: dict) -> str:
    config = summary.get("config", {})
    lines = ["# Answer evaluation", ""]
    if config:
        lines += [
            f"- questions: `{config.get('questions')}` ({config.get('n_questions')} run), k = {config.get('k')}",
            f"- corpus: `{config.get('corpus')}`, index: `{config.get('index')}`",
            f"- LLM: `{config.get('llm')}`; answer settings: `{json.dumps(config.get('answer_settings'))}`",
            "",
        ]
    lines += [
        "Keywords over answerable questions (an abstention scores 0); citation precision pooled over the "
        "citations of answered answerable questions, recall averaged over them; unsupported sentences over "
        "the sentences of answers not abstained (for langchain-stuff, checked afterwards against its 4 "
        "documents with the same scorer). Definitions in `eval/answer_metrics.py`.",
        "",
        *comparison_table(summary),
        "",
    ]
    by_split = summarise_by_split(rows, list(summary["systems"]))
    if by_split:
        lines += ["## Tune and held-out parts (a gap between them is a fit)", ""]
        lines += [*comparison_table({"systems": by_split}), ""]
    lines += [
        "## Refusals by kind",
        "",
    ]
    for name, s in summary["systems"].items():
        kinds = ", ".join(f"{kind}: {n}" for kind, n in sorted(s["refusal_kinds"].items())) or "none"
        lines.append(f"- {name}: {kinds}")
        if s.get("located_answers"):
            lines.append(f"  - answered with the located passage words, the drafts rejected: {s['located_answers']}")
    lines += ["", "## Misses", ""]
    for name in summary["systems"]:
        mine = [r for r in rows if r["system"] == name]
        wrong = [r["id"] for r in mine if r["answerable"] and r["keywords"] and r["keywords"]["all"] < 1]
        refused = [r["id"] for r in mine if r["answerable"] and r["abstained"]]
        answered = [r["id"] for r in mine if not r["answerable"] and not r["abstained"]]
        lines.append(f"- {name}: keywords missing: {', '.join(wrong) or 'none'}")
        lines.append(f"  - of which refused: {', '.join(refused) or 'none'}")
        lines.append(f"  - unanswerable answered: {', '.join(answered) or 'none'}")
    return "\n".join(lines) + "\n"


class Outputs:
    """answers.jsonl appended line by line; summary.json and report.md rewritten after each row."""

    def __init__(self, out_dir: Path, config: dict, systems: Sequence[str]):
        self.dir = Path(out_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.config = config
        self.systems = list(systems)
        self.rows: list[dict] = []
        self.paths = {
            n: self.dir / f
            for n, f in (("rows", "answers.jsonl"), ("summary", "summary.json"), ("report", "report.md"))
        }
        self.paths["rows"].write_text("", encoding="utf-8")

    def add(self, row: dict) -> None:
        self.rows.append(row)
        with self.paths["rows"].open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        self.write()

    def summary(self) -> dict:
        systems = {s: summarise_answers([r for r in self.rows if r["system"] == s]) for s in self.systems}
        return {"config": self.config, "systems": {s: v for s, v in systems.items() if v["n"]}}

    def write(self) -> dict:
        summary = self.summary()
        self.paths["summary"].write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        self.paths["report"].write_text(render_report(self.rows, summary), encoding="utf-8")
        return summary


# -- running --------------------------------------------------------------------------------
def prepare_service(args: argparse.Namespace, embedder=None, llm=None):
    """Ingest --corpus into --index (unless --no-ingest) and open it; ``llm`` overrides --llm."""
    if embedder is None and not (args.no_ingest and args.embedder is None):
        embedder = input_embedder(args)
    update_index(args, embedder, progress=sys.stderr.isatty())
    from rag.service import RagService

    return RagService.open(args.index, embedder=embedder, llm=llm if llm is not None else getattr(args, "llm", "none"))


def _progress(i: int, n: int, row: dict, started: float) -> str:
    if row["abstained"]:
        status = f"refused ({row['refusal_kind']})"
    else:
        status = "answered"
    kw = row["keywords"]
    kw_text = f" kw {sum(kw['found'])}/{len(kw['found'])}" if kw else ""
    cs = row["citation_scores"]
    cite_text = f" cites {cs['correct']}/{cs['cited']}" if cs else ""
    seconds = row["timings"].get("total", 0.0)
    elapsed = time.perf_counter() - started
    return (
        f"[{i}/{n}] {row['id']} {row['system']:<15} {status}{kw_text}{cite_text} "
        f"{seconds:.1f}s (elapsed {elapsed / 60:.0f}m{elapsed % 60:02.0f}s)"
    )


def run(args: argparse.Namespace, *, embedder=None, llm=None) -> dict:
    """Run the systems on the questions, writing to --out as it goes; returns the summary."""
    questions = load_split(args)[: args.limit]
    if not args.corpus.is_dir():
        raise RagError(f"No corpus folder at {args.corpus}. Give the folder the questions are about with --corpus.")
    service = prepare_service(args, embedder, llm if llm is not None else args.llm)
    try:
        return _run(args, questions, service)
    finally:
        service.close()


def _run(args, questions: Sequence[Question], service) -> dict:
    model = service.llm if any(s in LLM_SYSTEMS for s in args.systems) else None
    if model is None and any(s in LLM_SYSTEMS for s in args.systems):
        raise RagError("The systems rag and langchain-stuff need an LLM: use --llm default (or a URL).")
    extractive = service.answerer(use_llm=False)
    settings = extractive.settings
    stuff = None
    if "langchain-stuff" in args.systems:
        stuff = StuffSystem(args.corpus, service.embedder, model, STUFF_K, settings.max_new_tokens)
    # Warm-ups outside the measured questions: model loading and first calls are not latency.
    service.retrieve(WARMUP_QUERY, k=args.k)
    if model is not None and not isinstance(model, ScriptedLLM):  # a scripted reply would be used up
        model.generate([{"role": "user", "content": WARMUP_QUERY}], max_new_tokens=4)
    config = {
        "questions": str(args.questions),
        "n_questions": len(questions),
        "corpus": str(args.corpus),
        "index": str(args.index),
        "k": args.k,
        "systems": list(args.systems),
        "llm": getattr(model, "model_id", None),
        "answer_settings": asdict(settings),
        "stuff": {"k": STUFF_K, "system_prompt": STUFF_SYSTEM} if stuff else None,
        "embedder": service.embedder.model_id,
    }
    outputs = Outputs(args.out, config, args.systems)
    held_out = {q.id for q in split_questions(load_questions(args.questions), "held-out")}
    started = time.perf_counter()
    n = len(questions)
    for i, question in enumerate(questions, start=1):
        for system in args.systems:
            if system == "langchain-stuff":
                row = stuff_row(
                    question,
                    stuff.ask(question.question),
                    extractive.support,
                    settings.support_threshold,
                    model.model_id,
                )
            else:
                answer = service.ask(question.question, k=args.k, use_llm=system == "rag")
                row = answer_row(question, system, answer)
            outputs.add(row | {"split": "held-out" if question.id in held_out else "tune"})
            print(_progress(i, n, row, started), file=sys.stderr, flush=True)
    return outputs.write()


# -- command line ---------------------------------------------------------------------------
def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = command_parser("python -m eval.answers", __doc__)
    parser.add_argument("--llm", default="default", help="default, none, a model id/dir or an http(s) URL")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help=f"comma-separated, from {', '.join(SYSTEMS)}")
    parser.add_argument("--limit", type=int, help="only the first N questions")
    parser.add_argument("--k", type=int, default=5, help="passages retrieved for our systems")
    args = parser.parse_args(argv)
    args.systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = [s for s in args.systems if s not in SYSTEMS]
    if unknown or not args.systems:
        parser.error(f"--systems: unknown {', '.join(unknown) or '(none given)'}; choose from {', '.join(SYSTEMS)}")
    if args.k < 1:
        parser.error("--k must be at least 1")
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")
    if args.llm.strip().lower() in ("none", "off", "extractive") and any(s in LLM_SYSTEMS for s in args.systems):
        parser.error("--llm none leaves only the extractive system: add --systems extractive")
    return args


def main(argv: Sequence[str] | None = None, *, embedder=None, llm=None) -> int:
    """The command; ``embedder`` and ``llm`` objects replace the defaults (tests, notebooks)."""
    args = _parse_args(argv)
    written = ["answers.jsonl", "summary.json", "report.md"]
    return run_command(run, args, comparison_table, written, embedder=embedder, llm=llm)


if __name__ == "__main__":
    sys.exit(main())
