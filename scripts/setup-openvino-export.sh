#!/usr/bin/env bash
# The OpenVINO export environment: optimum-intel pins an older transformers than the project's,
# so it lives in a venv of its own (never in .venv). Made once per machine, ~1.6 GB (torch is
# the CPU build already on disk). Usage: bash scripts/setup-openvino-export.sh DIR [PYTHON]
set -euo pipefail
dir=${1:?usage: setup-openvino-export.sh DIR [PYTHON]}
python=${2:-python3.11}
command -v "$python" >/dev/null 2>&1 || python=python3
want="optimum-intel[openvino]==2.2.0 nncf==3.4.0 openvino==2026.4.1 openvino-tokenizers==2026.4.1.0"
if [[ -f $dir/.ready && "$(cat "$dir/.ready")" == "$want" ]]; then
    exit 0
fi
echo "setup: OpenVINO export environment in $dir (once, a few minutes)"
rm -rf "$dir"
"$python" -m venv "$dir"
pip() { "$dir/bin/python" -m pip --disable-pip-version-check -q "$@"; }
pip install --upgrade pip
pip install torch==2.13.0                      # the CPU build on disk, before anything asks for torch
constraints=$(mktemp)
echo "torch==2.13.0" > "$constraints"          # torchvision would otherwise pull torch 2.14 + CUDA wheels
# shellcheck disable=SC2086
pip install -c "$constraints" $want
rm -f "$constraints"
pip uninstall -y torchvision >/dev/null 2>&1 || true   # fails to import beside torch 2.13.0+cpu; not needed
echo "$want" > "$dir/.ready"
