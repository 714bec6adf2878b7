#!/usr/bin/env bash
# Debian's chromium, for the report tests that render the HTML in a real headless browser.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
"$(dirname "$0")/apt-install.sh" chromium
command -v chromium >/dev/null
