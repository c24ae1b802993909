"""LLM engines side by side on the same offline weights: time to first token, decode tokens/s
and reply scoring, in one process, rounds interleaved, ratios against the first engine.

    python -m eval.bench_engines [--model qwen2.5-coder-0.5b-instruct]
        [--engines transformers,openvino-int8,openvino-int4] [--prompt-tokens 1000]
        [--new-tokens 96] [--rounds 3] [--threads N] [--json OUT]

Each round runs every engine once on the same French RAG-style prompt (the chat template,
``--prompt-tokens`` tokens of passages and a question), greedy, end-of-turn suppressed so each
decodes ``--new-tokens``; OpenVINO's prefix cache is off so that every round reads the whole
prompt. Then each engine scores one reply after 10 prompts (``reply_logprobs``, the locator's
question likelihood). A machine shared with other work moves every number: interleaving keeps
the engines' ratios comparable; read the medians. transformers runs in the CPU's native dtype
(``rag.llm.devices``); OpenVINO from the exports ``python -m rag.llm.openvino_export`` makes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

PASSAGE = (
    "Le Fournil des Coteaux ouvre à sept heures du mardi au dimanche, sauf les jours fériés. Le pain au "
    "levain y cuit quatre heures dans un four à bois chauffé au chêne, et la boulangère livre deux tournées "
    "par jour dans les villages voisins. "
)


def messages_of(llm, tokens: int) -> list[dict]:
    """System + user messages of about ``tokens`` chat tokens: passages, then a question."""
    n = 1
    while True:
        messages = [
            {"role": "system", "content": "Réponds en français d'après les passages, en citant [n]."},
            {"role": "user", "content": f"Passages :\n{PASSAGE * n}\nQuestion : à quelle heure ouvre le Fournil ?"},
        ]
        if llm.chat_tokens(messages) >= tokens:
            return messages
        n += 1


def load(engine: str, model_name: str, threads: int | None):
    from rag.llm import default_model
    from rag.llm.openvino_export import export_openvino
    from rag.settings import Settings

    settings = Settings.load()
    model = default_model.offline_model(model_name)
    folder = default_model.prepare_default_model(
        None, default_model.default_model_dir(settings.models.dir, model), model
    )
    if engine == "transformers":
        from rag.llm.transformers_llm import TransformersLLM

        return TransformersLLM(folder, device="cpu", model_id=model.name, threads=threads)
    fmt = engine.removeprefix("openvino-")
    from rag.llm.openvino_llm import OpenVINOLLM

    exported = export_openvino(folder, fmt, settings.models.export_interpreter, progress=None)
    return OpenVINOLLM(exported, model_id=model.name, threads=threads, prefix_caching=False)


def run(args) -> dict:
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    llms = {engine: load(engine, args.model, args.threads) for engine in engines}
    first = llms[engines[0]]
    messages = messages_of(first, args.prompt_tokens)
    for llm in llms.values():  # warm-up, outside the measures
        llm.generate(messages, max_new_tokens=4, min_new_tokens=4)
    runs: dict[str, list[dict]] = {e: [] for e in engines}
    for _ in range(args.rounds):
        for engine, llm in llms.items():
            llm.generate(messages, max_new_tokens=args.new_tokens, min_new_tokens=args.new_tokens)
            runs[engine].append(dict(llm.last_stats))
    prompts = [[{"role": "user", "content": f"Passage : {PASSAGE * (1 + i % 3)}"}] for i in range(10)]
    scoring = {}
    for engine, llm in llms.items():
        started = time.perf_counter()
        llm.reply_logprobs(prompts, "À quelle heure ouvre le Fournil des Coteaux ?")
        scoring[engine] = round(time.perf_counter() - started, 2)
    report = {
        "model": args.model,
        "prompt_tokens": first.chat_tokens(messages),
        "new_tokens": args.new_tokens,
        "rounds": args.rounds,
        "threads": {e: getattr(llm, "threads", None) or _torch_threads() for e, llm in llms.items()},
        "dtype": {e: llm.dtype for e, llm in llms.items()},
        "engines": {},
    }
    for engine in engines:
        ttft = statistics.median(r["time_to_first_token"] for r in runs[engine])
        decode = statistics.median(r["tokens_per_second"] for r in runs[engine])
        report["engines"][engine] = {
            "time_to_first_token": round(ttft, 3),
            "decode_tokens_per_second": round(decode, 2),
            "scoring_seconds": scoring[engine],
            "runs": runs[engine],
        }
    base = report["engines"][engines[0]]
    for values in report["engines"].values():
        values["ttft_ratio"] = round(values["time_to_first_token"] / base["time_to_first_token"], 2)
        values["decode_ratio"] = round(values["decode_tokens_per_second"] / base["decode_tokens_per_second"], 2)
    return report


def _torch_threads() -> int | None:
    try:
        import torch

        return torch.get_num_threads()
    except ImportError:
        return None


def table(report: dict) -> list[str]:
    lines = [
        f"{report['model']}, prompt {report['prompt_tokens']} tokens, {report['new_tokens']} new tokens, "
        f"median of {report['rounds']} interleaved rounds",
        "| engine | dtype | first token s | x first | decode tok/s | x first | scoring 10 prompts s |",
        "|---|---|---|---|---|---|---|",
    ]
    for engine, v in report["engines"].items():
        lines.append(
            f"| {engine} | {report['dtype'][engine]} | {v['time_to_first_token']} | {v['ttft_ratio']} | "
            f"{v['decode_tokens_per_second']} | {v['decode_ratio']} | {v['scoring_seconds']} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench_engines", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--engines", default="transformers,openvino-int8,openvino-int4")
    parser.add_argument("--prompt-tokens", type=int, default=1000)
    parser.add_argument("--new-tokens", type=int, default=96)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="default: every usable core")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    from rag.errors import RagError

    try:
        report = run(args)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    print("\n".join(table(report)))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
