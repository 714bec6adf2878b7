#!/usr/bin/env python3
"""This machine's package sources as uv flags, read from pip's configuration (uv does not read pip's).

    uv pip install $(python3 scripts/pip_sources.py) -r requirements/lock.txt

Pip finds the CPU build of torch through its configured `find-links` (a folder of wheels) and extra indexes; uv
must be told the same places, or it would not find `torch==2.13.0+cpu` at all. Translated: `index-url`,
`extra-index-url` and `find-links`, as pip would use them (its files and PIP_* variables).
`--index-strategy unsafe-best-match` is pip's own rule: a pinned version is taken from whichever source has it
(uv's default stops at the first index that knows the package name, even when it lacks the pinned version).
"""

from __future__ import annotations

import subprocess
import sys

FLAGS = {"index-url": "--index-url", "extra-index-url": "--extra-index-url", "find-links": "--find-links"}
# `pip config list` has already merged the files (global, user, site); what is left is the section, lowest
# precedence first: [global], then [install] (the command's own), then PIP_* environment variables
SECTIONS = ("global", "install", ":env:")


def pip_config(listing: str) -> dict[str, list[str]]:
    """{option: values} as pip would use them, from `pip config list` (per option the highest-precedence section)."""
    chosen: dict[str, tuple[int, list[str]]] = {}
    for line in listing.splitlines():
        key, _, raw = line.partition("=")
        section, _, option = key.rpartition(".")
        if option not in FLAGS or not raw:
            continue
        rank = SECTIONS.index(section) if section in SECTIONS else 0
        values = raw.strip().strip("'\"").split()
        if option not in chosen or rank >= chosen[option][0]:
            chosen[option] = (rank, values)
    return {option: values for option, (_, values) in chosen.items()}


def uv_flags(config: dict[str, list[str]]) -> list[str]:
    flags = []
    for option, flag in FLAGS.items():
        for value in config.get(option, []):
            flags += [flag, value]
    if config.get("extra-index-url") or config.get("index-url"):
        flags += ["--index-strategy", "unsafe-best-match"]
    return flags


def main(python: str) -> None:
    listing = subprocess.run([python, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False)
    print(" ".join(uv_flags(pip_config(listing.stdout))))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else sys.executable)
