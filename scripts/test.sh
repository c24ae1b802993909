#!/usr/bin/env bash
# Set up (with test extras) and run the test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
bash scripts/install-browser.sh
set +e
.venv/bin/python -m pytest "$@"
code=$?
set -e
if [[ $code -eq 5 ]]; then
    echo "test: pytest collected no tests - that is a failure" >&2
    exit 1
fi
exit $code
