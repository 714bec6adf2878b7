"""Where a result came from: run ids, package versions, the git state of the task, and an arm's identity
(a hash of everything that determines its outputs)."""

from __future__ import annotations

import secrets
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from harness.data.examples import TaskData
from harness.digest import content_hash
from harness.models.loading import ResolvedModel
from harness.redact import redacted
from harness.spec import Task

PACKAGES = ("torch", "transformers", "peft", "trl", "bitsandbytes", "sentence-transformers", "optuna", "duckdb", "openai")


def package_versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def git_state(where: Path) -> tuple[str | None, bool | None]:
    """(commit, dirty) of the checkout holding the task file; (None, None) outside git."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
        if commit.returncode != 0:
            return None, None
        dirty = subprocess.run(
            ["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=10,
        )
        return commit.stdout.strip(), bool(dirty.stdout.strip())
    except (OSError, subprocess.TimeoutExpired):
        return None, None


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


def config_hash(config: dict[str, Any]) -> str:
    """Hash of a config without its credentials."""
    return content_hash(redacted(config))


def arm_identity(task: Task, described: dict[str, Any], base: ResolvedModel, data: TaskData,
                 prompt_format: str, precision: str, backend: dict[str, Any] | None = None) -> tuple[dict, str]:
    """Everything that determines an arm's outputs (its own settings given as `described`), and its hash;
    `prompt_format` and `precision` are the ones chosen for this run (chat or completion; float32,
    bfloat16...), not the task's requests: `auto` means different things on different machines. `backend`
    is what answered (its name and version: an engine upgrade may change answers)."""
    spec = task.spec
    config = {
        "arm": described,
        "prompt": spec.prompt.model_dump(mode="json"),
        "prompt_format": prompt_format,
        "precision": precision,
        "generation": spec.generation.model_dump(mode="json"),
        "output": spec.output.model_dump(mode="json"),
        "base_model": base.as_record() | {"path": None},
        "data_fingerprint": data.fingerprint,
    }
    if backend is not None:
        config["backend"] = backend
    return config, config_hash(config)
