"""Load on the HTTP API: concurrent searches and questions while an upload is ingested.

Each round fires ``searches`` searches and ``questions`` questions at once; the first round
also uploads a document, whose ingestion job runs beside the rounds (it is polled until done).
The server runs in this process on a free loopback port, answering extractively unless
``--llm`` names a model. Printed: requests per second over all rounds, p50/p95 latency by
kind, every status seen, and the problems (a 5xx, an answer that is not well formed).

Usage: python -m eval.bench_api [--corpus DIR | --index DIR] [--rounds 5] [--searches 20]
       [--questions 4] [--llm none] [--json OUT]

``run_load`` is what the load test (tests/eval/test_bench_api.py) runs, bounded, on a small
hashing-embedder index. This module measures; it does not change the server.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_CORPUS = REPO.parent / "shared" / "corpora" / "llm-fr"
SHARED_QUESTIONS = REPO.parent / "shared" / "eval" / "dev.jsonl"
SAMPLE = REPO / "corpora" / "sample"
UPLOAD = SAMPLE / "fournil-des-coteaux.md"
SAMPLE_QUESTIONS = [
    "À quelle heure ouvre le fournil ?",
    "Quels allergènes faut-il signaler ?",
    "Comment passer une commande ?",
    "Quel est le chiffre d'affaires de 2023 ?",
]


@dataclass
class Call:
    kind: str  # "search", "question", "upload", "job"
    status: int
    seconds: float
    problem: str | None = None


@dataclass
class LoadReport:
    calls: list[Call] = field(default_factory=list)
    seconds: float = 0.0
    job: dict | None = None

    @property
    def problems(self) -> list[str]:
        found = [f"{c.kind} {c.status}: {c.problem}" for c in self.calls if c.problem]
        if self.job is not None and self.job["status"] != "succeeded":
            found.append(f"ingestion job {self.job['status']}: {self.job['error']}")
        return found

    def summary(self) -> dict:
        by_kind: dict[str, dict] = {}
        for kind in sorted({c.kind for c in self.calls}):
            times = sorted(c.seconds for c in self.calls if c.kind == kind)
            statuses: dict[str, int] = {}
            for c in self.calls:
                if c.kind == kind:
                    statuses[str(c.status)] = statuses.get(str(c.status), 0) + 1
            by_kind[kind] = {
                "requests": len(times),
                "p50_ms": round(percentile(times, 50) * 1000, 1),
                "p95_ms": round(percentile(times, 95) * 1000, 1),
                "statuses": statuses,
            }
        served = [c for c in self.calls if c.kind in ("search", "question")]
        return {
            "seconds": round(self.seconds, 2),
            "requests_per_second": round(len(served) / self.seconds, 2) if self.seconds else 0.0,
            "by_kind": by_kind,
            "server_errors": sum(c.status >= 500 for c in self.calls),
            "problems": self.problems,
            "job": self.job and {k: self.job[k] for k in ("status", "error")},
        }


def percentile(sorted_values: list[float], q: float) -> float:
    """The ``q``-th percentile, nearest rank (the value at or above q% of the calls)."""
    if not sorted_values:
        return 0.0
    rank = max(1, -(-len(sorted_values) * q // 100))
    return sorted_values[int(rank) - 1]


def answer_problem(body: dict) -> str | None:
    """Why a chat completion is not a well-formed answer, or None."""
    try:
        text = body["choices"][0]["message"]["content"]
        if not isinstance(text, str) or not text.strip():
            return "empty answer"
        if not isinstance(body["abstained"], bool) or not isinstance(body["citations"], list):
            return "no abstained flag or citations"
        for citation in body["citations"]:
            start, end = citation["span"]
            if f"[{citation['number']}]" not in text or not 0 <= start < end <= len(citation["text"]):
                return f"citation [{citation['number']}] not in the text or its span outside the passage"
        if body["abstained"] and not body["abstain_reason"]:
            return "a refusal without its reason"
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        return f"malformed: {type(exc).__name__} {exc}"
    return None


def run_load(
    base_url: str,
    queries: list[str],
    *,
    searches: int = 20,
    questions: int = 4,
    rounds: int = 1,
    upload: Path | None = None,
    key: str | None = None,
    timeout: float = 120.0,
) -> LoadReport:
    """``rounds`` rounds of ``searches`` searches and ``questions`` questions, all of a round at
    once, while ``upload`` (sent first) is ingested; every call timed and checked."""
    import httpx

    report = LoadReport()
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    with httpx.Client(base_url=base_url, headers=headers, timeout=timeout) as client:

        def call(kind: str, method: str, path: str, check=None, **kwargs) -> Call:
            started = time.perf_counter()
            try:
                response = client.request(method, path, **kwargs)
            except httpx.HTTPError as exc:
                return Call(kind, 0, time.perf_counter() - started, f"{type(exc).__name__}: {exc}")
            seconds = time.perf_counter() - started
            problem = None
            if response.status_code >= 500 or (response.status_code >= 400 and response.status_code != 429):
                problem = response.text[:200]
            elif response.status_code == 200 and check is not None:
                problem = check(response.json())
            return Call(kind, response.status_code, seconds, problem)

        def search(i: int) -> Call:
            query = queries[i % len(queries)]
            return call("search", "POST", "/v1/search", json={"query": query, "k": 5})

        def question(i: int) -> Call:
            body = {"model": "rag-fr", "messages": [{"role": "user", "content": queries[i % len(queries)]}]}
            return call("question", "POST", "/v1/chat/completions", answer_problem, json=body)

        started = time.perf_counter()
        job_id = None
        if upload is not None:
            files = {"files": (upload.name, upload.read_bytes(), "application/octet-stream")}
            response = client.post("/v1/documents", files=files)
            accepted = response.status_code == 202
            report.calls.append(
                Call("upload", response.status_code, time.perf_counter() - started, None if accepted else response.text)
            )
            job_id = response.json()["id"] if accepted else None
        with ThreadPoolExecutor(max_workers=searches + questions) as pool:
            for r in range(rounds):
                futures = [pool.submit(search, r * searches + i) for i in range(searches)]
                futures += [pool.submit(question, r * questions + i) for i in range(questions)]
                report.calls.extend(f.result() for f in futures)
        report.seconds = time.perf_counter() - started
        while job_id is not None:
            report.job = client.get(f"/v1/jobs/{job_id}").json()
            if report.job["status"] != "running" and report.job["status"] != "queued":
                break
            if time.perf_counter() - started > timeout:
                report.calls.append(Call("job", 0, timeout, "the ingestion job did not finish in time"))
                break
            time.sleep(0.05)
    return report


def serve_and_load(index_dir: Path, args) -> LoadReport:
    """Serve a copy of ``index_dir`` (the upload changes it) and run the load against it."""
    from rag.server import create_app, running
    from rag.service import RagService
    from rag.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        served = Path(tmp) / "index"
        shutil.copytree(index_dir, served)
        settings = Settings.load(overrides={"index.dir": served, "llm.name": args.llm})
        service = RagService.open(served, settings=settings)
        service.retriever.warm_up()
        _ = service.llm
        with running(create_app(settings, service=service, warm_up=False)) as url:
            queries = questions_for(args)
            run_load(url, queries, searches=2, questions=1)  # warm the caches outside the timings
            return run_load(
                url, queries, searches=args.searches, questions=args.questions, rounds=args.rounds, upload=UPLOAD
            )


def questions_for(args) -> list[str]:
    if args.corpus == SHARED_CORPUS and SHARED_QUESTIONS.is_file():
        rows = [json.loads(line) for line in SHARED_QUESTIONS.read_text(encoding="utf-8").splitlines() if line]
        return [row["question"] for row in rows]
    return SAMPLE_QUESTIONS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=SHARED_CORPUS if SHARED_CORPUS.is_dir() else SAMPLE)
    parser.add_argument("--index", type=Path, help="an existing index to serve (a copy is served)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--searches", type=int, default=20, help="concurrent searches per round")
    parser.add_argument("--questions", type=int, default=4, help="concurrent questions per round")
    parser.add_argument("--llm", default="none", help="'none' (extractive answers, the default) or a model")
    parser.add_argument("--json", type=Path, help="write the summary here too")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = args.index
        if index_dir is None:
            from rag.service import ingest
            from rag.settings import Settings

            index_dir = Path(tmp) / "index"
            started = time.perf_counter()
            ingest([args.corpus], Settings.load(overrides={"index.dir": index_dir}), progress=False)
            print(f"indexed {args.corpus} in {time.perf_counter() - started:.0f} s")
        report = serve_and_load(index_dir, args)
    summary = summary_with(report.summary(), args)
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    if args.json:
        args.json.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 1 if summary["server_errors"] or summary["problems"] else 0


def summary_with(summary: dict, args) -> dict:
    load = {"rounds": args.rounds, "searches": args.searches, "questions": args.questions, "llm": args.llm}
    return {"corpus": str(args.index or args.corpus), "load": load, **summary}


if __name__ == "__main__":
    raise SystemExit(main())
