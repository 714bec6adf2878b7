#!/usr/bin/env python3
"""Does requirements/lock.txt still match pyproject.toml? (tests/test_lock.py runs this; so can CI or a hook)

    python scripts/lock_check.py            # exit 1 with one line per problem
    python scripts/lock_check.py --stamp    # after `uv pip compile` (make lock): record what the lock was made from

The lock records a digest of its inputs: pyproject.toml's dependencies, its `test` extra, the build backend and
requires-python, and requirements/lock.in. Editing any of them without re-locking fails here, even where the old pins
happen to satisfy the new ranges, so a lock is never silently older than its declaration. It also checks that every
declared requirement is satisfied by a pin, that requirements/no-deps.txt pins every package exactly with its reason
above it, and that a package pinned in both files has one version.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
LOCK = "requirements/lock.txt"
LOCK_IN = "requirements/lock.in"
NO_DEPS = "requirements/no-deps.txt"
DIGEST_LINE = "# inputs sha256: "
# the platform the lock was resolved for (make lock): requirement markers are evaluated for it
ENVIRONMENT = {"python_version": "3.11", "python_full_version": "3.11.7", "sys_platform": "linux",
               "platform_system": "Linux", "platform_machine": "x86_64", "implementation_name": "cpython",
               "platform_python_implementation": "CPython", "os_name": "posix", "extra": ""}


def requirement_lines(path: Path) -> list[str]:
    """The requirement lines of a requirements file, without comments and continuation-line annotations."""
    out = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            out.append(line)
    return out


def declared(root: Path) -> dict[str, list[str]]:
    """What the lock is made from, by source."""
    project = tomllib.loads((root / "pyproject.toml").read_text())
    return {
        "dependencies": project["project"]["dependencies"],
        "test extra": project["project"].get("optional-dependencies", {}).get("test", []),
        "build-system": project["build-system"]["requires"],
        "requires-python": [project["project"].get("requires-python", "")],
        LOCK_IN: requirement_lines(root / LOCK_IN),
    }


def inputs_digest(root: Path) -> str:
    """Order- and spelling-insensitive: a re-ordered list or an edited comment does not need a new lock."""
    normal = {source: sorted(str(Requirement(r)) if source != "requires-python" else r.replace(" ", "") for r in reqs)
              for source, reqs in declared(root).items()}
    return hashlib.sha256(json.dumps(normal, sort_keys=True).encode()).hexdigest()


def pins(path: Path) -> dict[str, Version]:
    found = {}
    for line in requirement_lines(path):
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([^\s;]+)", line)
        if match is None:
            raise ValueError(f"{path.name}: {line!r} is not pinned as name==version")
        found[canonicalize_name(match[1])] = Version(match[2])
    return found


def problems(root: Path = ROOT) -> list[str]:
    out = []
    lock_text = (root / LOCK).read_text()
    recorded = next((line[len(DIGEST_LINE):].split()[0] for line in lock_text.splitlines()
                     if line.startswith(DIGEST_LINE)), None)
    if recorded != inputs_digest(root):
        out.append(f"{LOCK} was not made from the current pyproject.toml and {LOCK_IN} (recorded inputs "
                   f"{recorded or 'missing'}): run `make lock`")
    try:
        locked, no_deps = pins(root / LOCK), pins(root / NO_DEPS)
    except ValueError as exc:
        return out + [str(exc)]
    for source, reqs in declared(root).items():
        if source == "requires-python":
            continue
        for text in reqs:
            req = Requirement(text)
            if req.marker is not None and not req.marker.evaluate(ENVIRONMENT):
                continue
            version = locked.get(canonicalize_name(req.name))
            if version is None:
                out.append(f"{source}: {text!r} is not in {LOCK}: run `make lock`")
            elif not req.specifier.contains(version, prereleases=True):
                out.append(f"{source}: {text!r} is not satisfied by the locked {req.name}=={version}: run `make lock`")
    for name, version in no_deps.items():
        if name in locked and locked[name] != version:
            out.append(f"{NO_DEPS}: {name}=={version}, but {LOCK} pins {locked[name]}")
    out += _unexplained(root / NO_DEPS)
    return out


def _unexplained(path: Path) -> list[str]:
    """Every pin in no-deps.txt sits in a block that a comment opens: the reason it skips its dependencies."""
    out, reason = [], False
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not stripped:
            reason = False
        elif stripped.startswith("#"):
            reason = True
        elif not reason:
            out.append(f"{path.name}: {stripped!r} has no comment above it saying why it goes in without dependencies")
    return out


def stamp(root: Path = ROOT) -> None:
    """Write the inputs digest into the lock's header (after its generated comment lines)."""
    lines = [line for line in (root / LOCK).read_text().splitlines() if not line.startswith(DIGEST_LINE)]
    at = next((k for k, line in enumerate(lines) if not line.startswith("#")), len(lines))
    lines.insert(at, f"{DIGEST_LINE}{inputs_digest(root)} (pyproject.toml dependencies, test extra, build-system, "
                     f"requires-python; {LOCK_IN})")
    (root / LOCK).write_text("\n".join(lines) + "\n")


def main(argv: list[str]) -> int:
    if argv == ["--stamp"]:
        stamp()
        return 0
    found = problems()
    for line in found:
        print(line, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
