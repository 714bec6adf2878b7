#!/usr/bin/env bash
# Install Debian packages quietly, as root or through sudo: scripts/apt-install.sh PACKAGE...
set -euo pipefail
if [ "$(id -u)" = 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
else
  echo "error: $* not installed and there is no root or sudo to install it (apt-get install $*)" >&2
  exit 1
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
