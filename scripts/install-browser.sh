#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests (tests/ui/test_browser.py) when it is missing.
# Playwright drives this system browser; it never downloads one (no `playwright install`).
set -euo pipefail
if [[ -x /usr/bin/chromium ]]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-browser: no apt-get here; install Chromium as /usr/bin/chromium (the browser tests skip without it)" >&2
    exit 0
fi
sudo=""
if [[ $(id -u) -ne 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "install-browser: not root and no sudo; the browser tests will be skipped" >&2
        exit 0
    fi
    sudo="sudo"
fi
echo "install-browser: installing Debian's chromium (apt-get)"
if $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null; then
    /usr/bin/chromium --version
else
    # not fatal: the browser tests skip, saying that Chromium is missing
    echo "install-browser: could not install chromium; the browser tests will be skipped" >&2
fi
