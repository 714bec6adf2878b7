#!/usr/bin/env bash
# Debian's PostgreSQL server, for the scale-out tests (tests/postgres.py starts a throwaway one per session).
set -euo pipefail
found() { command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; }
if found; then
  exit 0
fi
"$(dirname "$0")/apt-install.sh" postgresql
found
