#!/usr/bin/env bash
# Installs Debian's Chromium for `reprise timeline`'s browser tests
# (tests/timeline.rs). Idempotent; root, or sudo when not root.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
    chromium --version
    exit 0
fi
run() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
export DEBIAN_FRONTEND=noninteractive
run apt-get update -qq
run apt-get install -y -qq chromium >/dev/null
chromium --version
