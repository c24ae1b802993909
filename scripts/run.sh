#!/usr/bin/env bash
# Set up, ingest the sample corpus (incremental: instant when unchanged) and serve the web UI.
# Extra arguments go to `rag ui` (e.g. --port 8502).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export RAG_INDEX_DIR=${RAG_INDEX_DIR:-$PWD/.rag/index}
.venv/bin/rag ingest corpora/sample
exec .venv/bin/rag ui "$@"
