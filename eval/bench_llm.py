"""LLM throughput benchmark: time to first token and decode tokens/s through ``TransformersLLM``.

Builds a model of the default LLM's architecture (Qwen2.5-0.5B: hidden 896, 24 layers, 14 heads,
2 KV heads, intermediate 4864, vocab 151936; read from the converted model's config.json when
it exists) with RANDOM weights: speed does not depend on weight values, and real weights cannot
travel to the GPU machine. On CUDA it runs in bf16 with SDPA; on CPU in the CPU's fast dtype.
A ~1500-token prompt goes through ``TransformersLLM.stream`` (the code path answers use), then
128 tokens are decoded with end-of-turn suppressed so every run decodes the same count.

Needs only torch + transformers (+ this repository on PYTHONPATH); no network, no weights. The
tokenizer is the converted model's when present, else a synthetic word-level tokenizer covering
the whole vocabulary (so any generated id decodes).

``--load-check`` also saves that random model with its tokenizer to a temporary folder and loads
it back through ``TransformersLLM(folder, device=...)`` with no dtype given, the path ``--llm`` takes:
the report then shows the device, dtype and attention that loading chose and the load-time self-check.

On CUDA the decode is measured twice in the same run, eager and compiled (static KV cache, the
default there: ``TransformersLLM(compile=...)``), and the report gives compiled/eager ratios;
``--no-compile`` keeps the eager one only.

``--tiny`` shrinks the architecture to 2 layers of width 64 (same family, same vocabulary and
special tokens) so the whole path runs in seconds on a CPU: a smoke test, not a measurement.

Usage: python eval/bench_llm.py [--device cuda|cpu] [--prompt-tokens 1500] [--new-tokens 128]
                                [--repeats 3] [--load-check] [--no-compile] [--tiny] [--json OUT]
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `rag` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.llm.default_model import default_model_dir  # noqa: E402
from rag.llm.transformers_llm import TransformersLLM  # noqa: E402
from rag.settings import Settings  # noqa: E402  (after the path fix; imports only the standard library)

QWEN25_05B = {
    "model_type": "qwen2",
    "hidden_size": 896,
    "intermediate_size": 4864,
    "num_hidden_layers": 24,
    "num_attention_heads": 14,
    "num_key_value_heads": 2,
    "vocab_size": 151936,
    "max_position_embeddings": 32768,
    "rms_norm_eps": 1e-06,
    "rope_theta": 1000000.0,
    "tie_word_embeddings": False,
    "bos_token_id": 151643,
    "eos_token_id": 151645,
    "pad_token_id": 151643,
}
_ARCH_KEYS = tuple(QWEN25_05B)
# --tiny: the vocabulary is kept so the special-token ids stay valid; the cost is in the layers.
TINY = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
}
CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
FRENCH = (
    "Le Fournil des Coteaux ouvre à sept heures du mardi au dimanche. Le pain au levain cuit quatre "
    "heures dans un four à bois chauffé au chêne, et la boulangère prépare la pâte la veille au soir. "
)


def architecture() -> tuple[dict, str]:
    """The model's config values and where they came from."""
    config_file = default_model_dir(Settings.load().models.dir) / "config.json"
    if config_file.is_file():
        found = json.loads(config_file.read_text(encoding="utf-8"))
        values = {k: found[k] for k in _ARCH_KEYS if k in found}
        if "rope_theta" not in found and isinstance(found.get("rope_parameters"), dict):
            values["rope_theta"] = found["rope_parameters"].get("rope_theta", QWEN25_05B["rope_theta"])
        return {**QWEN25_05B, **values}, str(config_file)
    return dict(QWEN25_05B), "built-in Qwen2.5-0.5B values"


def build_model(values: dict, device: str, dtype, attn: str):
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, Qwen2Config

    config = Qwen2Config(**{k: v for k, v in values.items() if k != "model_type"})
    dtype_key = "dtype" if int(transformers.__version__.split(".")[0]) >= 5 else "torch_dtype"
    torch.manual_seed(0)
    with torch.device(device):  # allocate the weights where they will run
        model = AutoModelForCausalLM.from_config(config, attn_implementation=attn, **{dtype_key: dtype})
    return model.to(device=device, dtype=dtype).eval()


def build_tokenizer(vocab_size: int, tokenizer_dir: Path | None):
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    if tokenizer_dir is not None and (tokenizer_dir / "tokenizer.json").is_file():
        return AutoTokenizer.from_pretrained(str(tokenizer_dir)), str(tokenizer_dir)
    from tokenizers import Tokenizer, models, pre_tokenizers

    specials = {151643: "<|endoftext|>", 151644: "<|im_start|>", 151645: "<|im_end|>"}
    vocab = {specials.get(i, f"w{i}"): i for i in range(vocab_size)}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="w0"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    tokenizer.add_special_tokens({"additional_special_tokens": [t for t in specials.values() if t in vocab]})
    tokenizer.chat_template = CHATML
    return tokenizer, f"synthetic word-level ({vocab_size} entries)"


def prompt_of(llm: TransformersLLM, tokens: int, synthetic: bool) -> list[dict]:
    """A system + user prompt of about ``tokens`` tokens (passages, then the question)."""
    unit = [f"w{1000 + i}" for i in range(100)] if synthetic else FRENCH.split()
    words = unit * (tokens // len(unit) + 2)  # French runs at more than one token per word: enough

    def messages(n: int) -> list[dict]:
        passages = " ".join(words[:n])
        return [
            {"role": "system", "content": "Réponds en français d'après les passages, en citant [n]."},
            {"role": "user", "content": f"Passages :\n{passages}\nQuestion : À quelle heure ouvre-t-il ?"},
        ]

    low, high = 0, len(words)  # the fewest words that reach the target
    while low < high:
        middle = (low + high) // 2
        if llm.chat_tokens(messages(middle)) >= tokens:
            high = middle
        else:
            low = middle + 1
    return messages(low)


def run(args) -> dict:
    import torch
    import transformers

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit(f"--device {device} was asked but CUDA is not usable here (torch {torch.__version__}).")
    if device == "cpu":
        from rag.hardware import native_cpu_dtype
        from rag.hardware import usable_cores as _cores

        torch.set_num_threads(_cores())
        dtype = getattr(torch, args.dtype or native_cpu_dtype())
    else:
        dtype = getattr(torch, args.dtype or "bfloat16")
    attn = args.attn or "sdpa"

    values, config_source = architecture()
    if args.tiny:
        values, config_source = {**values, **TINY}, f"{config_source}, shrunk by --tiny"
    started = time.perf_counter()
    model = build_model(values, device, dtype, attn)
    build_seconds = time.perf_counter() - started
    tokenizer_dir = args.tokenizer or default_model_dir(Settings.load().models.dir)
    tokenizer, tokenizer_source = build_tokenizer(values["vocab_size"], tokenizer_dir)

    def sync():
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    # On CUDA the eager decode is the baseline of the same run; the compiled one is what loading picks.
    modes = {"eager": False, "compiled": True} if device.startswith("cuda") and args.compile else {"eager": False}
    measured = {}
    for mode, compile_ in modes.items():
        llm = TransformersLLM.from_model(
            model, tokenizer, model_id="qwen2.5-0.5b-architecture-random", compile=compile_
        )
        messages = prompt_of(llm, args.prompt_tokens, synthetic=tokenizer_source.startswith("synthetic"))
        llm.generate(messages[:1], max_new_tokens=8, min_new_tokens=8)  # warm-up: kernels, allocator, threads
        sync()
        if device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats()  # the peak reported is the last mode's measured runs
        measured[mode] = {
            "setup_s": round(llm.load_seconds, 2),
            "compiled": llm.compiled,
            **measure(llm, messages, args),
        }
    runs = measured["compiled" if "compiled" in modes else "eager"]["runs"]
    report = {
        "benchmark": "llm-stream",
        "device": device,
        "device_name": torch.cuda.get_device_name(device) if device.startswith("cuda") else _cpu_name(),
        "dtype": str(dtype).removeprefix("torch."),
        "attn_implementation": getattr(model.config, "_attn_implementation", attn),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "config_source": config_source,
        "tokenizer": tokenizer_source,
        "parameters": sum(p.numel() for p in model.parameters()),
        "build_seconds": round(build_seconds, 2),
        "prompt_tokens": runs[0]["prompt_tokens"],
        "new_tokens": args.new_tokens,
        "modes": measured,
        "runs": runs,
        "median": _median(runs),
    }
    if "compiled" in measured:
        eager, compiled = measured["eager"]["median"], measured["compiled"]["median"]
        report["compiled_over_eager"] = {
            "decode_tokens_per_second": round(
                compiled["decode_tokens_per_second"] / eager["decode_tokens_per_second"], 2
            ),
            "time_to_first_token_s": round(compiled["time_to_first_token_s"] / eager["time_to_first_token_s"], 2),
        }
    if device.startswith("cuda"):
        report["peak_memory_gib"] = round(torch.cuda.max_memory_allocated(device) / 2**30, 2)
    if args.load_check:
        report["load_check"] = load_check(model, tokenizer, device)
    return report


def measure(llm: TransformersLLM, messages: list[dict], args) -> dict:
    """``args.repeats`` streamed answers of exactly ``args.new_tokens`` tokens, each timed."""
    runs = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        first_piece = None
        for _piece in llm.stream(messages, max_new_tokens=args.new_tokens, min_new_tokens=args.new_tokens):
            first_piece = first_piece or time.perf_counter() - t0
        total = time.perf_counter() - t0
        stats = llm.last_stats
        runs.append(
            {
                "prompt_tokens": stats["prompt_tokens"],
                "new_tokens": stats["new_tokens"],
                "time_to_first_token_s": stats["time_to_first_token"],
                "time_to_first_text_s": round(first_piece, 4) if first_piece else None,
                "decode_tokens_per_second": stats["tokens_per_second"],
                "total_s": round(total, 3),
            }
        )
    return {"runs": runs, "median": _median(runs)}


def _median(runs: list[dict]) -> dict:
    return {
        key: statistics.median(r[key] for r in runs)
        for key in ("time_to_first_token_s", "time_to_first_text_s", "decode_tokens_per_second")
        if all(r[key] is not None for r in runs)
    }


def load_check(model, tokenizer, device: str) -> dict:
    """Save the model and tokenizer, load them back as a user's ``--llm FOLDER`` would (device
    asked for, dtype left to the loader) and return the load-time self-check."""
    import tempfile

    from rag.llm.factory import report_self_check

    with tempfile.TemporaryDirectory(prefix="bench-llm-") as folder:
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        del model  # the caller's reference keeps it alive; this one need not
        llm = TransformersLLM(folder, device=device, model_id="qwen2.5-0.5b-architecture-random (reloaded)")
        check = report_self_check(llm)
    check.pop("sample", None)  # random weights: the text means nothing
    return check


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=["cuda", "cpu"], default=None, help="default: cuda when available")
    parser.add_argument("--dtype", default=None, help="default: bfloat16 on cuda, the CPU's fast dtype on cpu")
    parser.add_argument("--attn", default=None, help="attention implementation (default: sdpa)")
    parser.add_argument("--prompt-tokens", type=int, default=1500)
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--load-check", action="store_true", help="also reload the model from a folder and report its self-check"
    )
    parser.add_argument(
        "--no-compile", dest="compile", action="store_false", help="on CUDA, measure the eager decode only"
    )
    parser.add_argument("--tiny", action="store_true", help="2 layers of width 64: a smoke test, not a benchmark")
    parser.add_argument(
        "--tokenizer", type=Path, default=None, help="tokenizer folder (default: the converted model's)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = parser.parse_args(argv)
    report = run(args)
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
