#!/usr/bin/env bash
# Debian's PostgreSQL server, for the scale-out tests (tests/postgres.py starts a throwaway one per session).
set -euo pipefail
found() { command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; }
if found; then
  exit 0
fi
if [ "$(id -u)" = 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
else
  echo "error: PostgreSQL is not installed and there is no root or sudo to install it (apt-get install postgresql)" >&2
  exit 1
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
found
