"""Everything that can be checked before a model loads, shared by `harness validate` and `harness run`:
where the outputs go, the corpus, backends' environment variables, each arm's own checks, the judge and the
regression items. The first problem is raised as one line before anything is written.

    harness validate tasks/contracts.yaml --reports reports --db experiments/harness.duckdb
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.arms import ArmBase, ArmContext
from harness.errors import HarnessError
from harness.redact import looks_like_a_secret, public_url
from harness.regression.lm_eval_tasks import check_lm_eval_tasks
from harness.regression.runs import suite_config
from harness.regression.suite import plan_suite
from harness.retrieval.retrievers import load_corpus
from harness.scoring.judge import Judge, make_judge
from harness.spec import RegressionSpec, Task

DUCKDB_MAGIC = (8, b"DUCK")  # offset and bytes of a DuckDB file's magic number


@dataclass(frozen=True)
class Outputs:
    """Where a command will write; each is checked before any work starts (None: not written)."""

    db: Path | None = None
    reports_dir: Path | None = None
    workdir: Path | None = None
    storage: str | None = None  # an Optuna storage URL


@dataclass(frozen=True)
class Checked:
    """What preflight built on its way and the run goes on with."""

    judge: Judge | None
    regression: RegressionSpec | None
    suite_plan: Any
    lm_eval_include: Path | None


def preflight(task: Task, arms: list[ArmBase], ctx: ArmContext) -> Checked:
    """Everything but the outputs (check_outputs: cheaper still, so callers run it first)."""
    check_environment(task)
    if task.spec.corpus is not None:
        load_corpus(task.resolve(task.spec.corpus.path))  # read in full: a bad record fails here, not mid-run
    for arm in arms:
        arm.preflight(ctx)
    judge = make_judge(task.spec, ctx.models)
    regression = task.spec.regression.sized(ctx.profile.regression) if task.spec.regression else None
    if regression is not None and any(arm.trains for arm in arms):
        ctx.models.preflight(regression.backend)
    suite_plan = plan_suite(suite_config(regression)) if regression else None  # reads the items
    include = None
    if regression is not None and regression.lm_eval_tasks:
        include = task.resolve(regression.lm_eval_include) if regression.lm_eval_include else None
        check_lm_eval_tasks(list(regression.lm_eval_tasks), str(include) if include else None)
    return Checked(judge, regression, suite_plan, include)


def check_outputs(outputs: Outputs) -> None:
    for flag, folder in (("--reports", outputs.reports_dir), ("--workdir", outputs.workdir)):
        if folder is not None:
            writable_folder(folder, flag)
    if outputs.db is not None:
        _database_file(outputs.db)
    if outputs.storage is not None:
        _storage_url(outputs.storage)


def writable_folder(folder: Path, flag: str) -> None:
    """The folder exists and is writable, or can be created: its nearest existing ancestor is a writable folder."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        where = "is a file" if existing == folder else f"cannot be created: {existing} is a file"
        raise HarnessError(f"{flag} {folder}: expected a folder, but it {where}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise HarnessError(f"{flag} {folder}: {existing} is not writable")


def _database_file(db: Path) -> None:
    if db.is_dir():
        raise HarnessError(f"--db {db}: expected a DuckDB file, found a folder")
    if db.exists() and db.stat().st_size > 0:
        offset, magic = DUCKDB_MAGIC
        with db.open("rb") as fh:
            head = fh.read(offset + len(magic))
        if head[offset:] != magic:
            raise HarnessError(f"--db {db}: not a DuckDB database (a run database is created by `harness run`)")
    elif not db.exists():
        writable_folder(db.parent, f"--db {db}: its folder")


def _storage_url(url: str) -> None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        make_url(url).get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise HarnessError(f"--storage {public_url(url)}: not a database URL Optuna can use, such as "
                           f"sqlite:///optuna.db or postgresql://host/db ({type(exc).__name__})") from None


def check_environment(task: Task) -> None:
    """Every API key variable a backend or the judge names is set (the key itself never goes in a task file)."""
    named = [(f"arms[{i}].backend", arm.backend) for i, arm in enumerate(task.spec.arms) if hasattr(arm, "backend")]
    if task.spec.regression is not None:
        named.append(("regression.backend", task.spec.regression.backend))
    if task.spec.judge is not None:
        named.append(("judge", task.spec.judge))
    for where, spec in named:
        secret = spec.secret_env()
        if secret is None or os.environ.get(secret[0]):
            continue
        name, url = secret
        if looks_like_a_secret(name):
            raise HarnessError(f"{task.path}: {where}.api_key_env: expected the NAME of the environment variable "
                               f"that holds the key, e.g. OPENAI_API_KEY; this looks like a key itself (not shown)")
        raise HarnessError(f"{task.path}: {where}.api_key_env: environment variable {name} is not set "
                           f"(it holds the API key for {public_url(url)})")
