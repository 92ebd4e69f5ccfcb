#!/usr/bin/env bash
# Debian's Chromium and its driver for the browser tests (tests/e2e), installed with apt when
# they are missing and apt is usable (as root, or through sudo without a password).
# Never fails the install: without apt it says what to install and exits 0; the e2e suite
# then skips, or fails when CI is set.
set -euo pipefail

if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
    exit 0
fi
if ! command -v apt-get >/dev/null; then
    echo "note: no apt-get here; install Chromium yourself for the browser tests (GAS_E2E_CHROMIUM=its path)" >&2
    exit 0
fi
if [ "$(id -u)" = 0 ]; then
    as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    echo "note: Chromium is missing; run: sudo apt-get install chromium chromium-driver" >&2
    exit 0
fi
echo "installing Debian's chromium and chromium-driver for the browser tests" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq chromium chromium-driver >/dev/null
