#!/usr/bin/env bash
# The GPU checks of issue 4, for a machine with CUDA torch + transformers (no weights needed):
# the transformers backend's CUDA tests, then TTFT and decode tokens/s of the default architecture
# (random weights) in bf16, eager and compiled in the same run, and the folder-loading self-check.
# Reports go to $OUT (default /tmp/gpu-check). For the real tokenizer, point RAG_MODELS_DIR at a
# copy of ~/.cache/rag/models holding the converted model's config and tokenizer files only.
# Usage: bash scripts/gpu_check.sh [PYTHON]     (~4 min on an H200, ~1 of it compiling)
set -u
cd "$(dirname "$0")/.."
py=${1:-python3}
out=${OUT:-/tmp/gpu-check}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"
"$py" -c "import sys, torch, transformers; print('python', sys.version.split()[0], 'torch', torch.__version__, 'transformers', transformers.__version__)" | tee -a "$out/gpu.txt"
timeout 240 "$py" eval/bench_llm.py --device cuda --prompt-tokens 1500 --new-tokens 128 --repeats 3 --load-check \
    --json "$out/bench-cuda.json" >"$out/bench-cuda.log" 2>&1
echo "bench: exit $?"
"$py" - "$out/bench-cuda.json" <<'PY'
import json, sys
try:
    report = json.load(open(sys.argv[1]))
except (OSError, ValueError) as exc:
    sys.exit(f"bench: no report ({exc}); see bench-cuda.log")
for mode, run in report["modes"].items():
    print(f"{mode}: setup {run['setup_s']} s, compiled {run['compiled']}, median {run['median']}")
print("compiled/eager:", report.get("compiled_over_eager"), "peak GiB:", report.get("peak_memory_gib"))
print("load check:", {k: report["load_check"][k] for k in ("device", "dtype", "attn_implementation", "compiled", "tokens_per_second")})
PY
timeout 240 "$py" -m pytest tests/rag/test_llms.py -q -p no:cacheprovider -rs >"$out/pytest.txt" 2>&1
echo "tests: exit $?"
tail -3 "$out/pytest.txt"
