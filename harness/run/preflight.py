"""Everything that can be checked before a model loads, shared by `harness validate` and `harness run`:
where the outputs go and the harness's own environment variables, the corpus, backends' API key variables (and
whether the user allowed them to go to the backend's host), the output's JSON schema and regex compiled by the
grammar engine a run uses, each arm's own checks, the judge and the regression items. The first problem is raised
as one line before anything is written.

    harness validate tasks/contracts.yaml --reports reports --db experiments/harness.duckdb
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import environment
from harness.arms import ArmBase, ArmContext
from harness.atomic import writable_folder
from harness.errors import HarnessError, shown
from harness.redact import looks_like_a_secret, public_url
from harness.regression.lm_eval_tasks import check_lm_eval_tasks
from harness.regression.runs import suite_config
from harness.regression.suite import plan_suite
from harness.retrieval.retrievers import load_corpus
from harness.scoring.judge import Judge, make_judge
from harness.spec import RegressionSpec, Task
from harness.textfiles import kind_of

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
    check_output_shape(task)
    if task.spec.corpus is not None:
        load_corpus(task.resolve(task.spec.corpus.path), task.outside)  # read in full: a bad record fails here, not mid-run
    for arm in arms:
        arm.preflight(ctx)
    judge = make_judge(task, ctx.generators)
    regression = task.spec.regression.sized(ctx.profile.regression) if task.spec.regression else None
    if regression is not None and any(arm.trains for arm in arms):
        ctx.generators.preflight(regression.backend)
    suite_plan = plan_suite(suite_config(regression)) if regression else None  # reads the items
    include = None
    if regression is not None and regression.lm_eval_tasks:
        include = task.resolve(regression.lm_eval_include) if regression.lm_eval_include else None
        check_lm_eval_tasks(list(regression.lm_eval_tasks), str(include) if include else None)
    return Checked(judge, regression, suite_plan, include)


def check_outputs(outputs: Outputs) -> None:
    environment.check()
    for flag, folder in (("--reports", outputs.reports_dir), ("--workdir", outputs.workdir)):
        if folder is not None:
            writable_folder(folder, flag)
    if outputs.db is not None:
        _database_file(outputs.db)
    if outputs.storage is not None:
        _storage_url(outputs.storage)


def _database_file(db: Path) -> None:
    if db.is_symlink() and not db.exists():
        raise HarnessError(f"--db {shown(db)}: a symbolic link to a missing target")
    if db.exists() and not db.is_file():  # a FIFO would block the open for ever
        raise HarnessError(f"--db {shown(db)}: expected a DuckDB file, found {kind_of(db.stat().st_mode)}")
    if db.exists() and db.stat().st_size > 0:
        offset, magic = DUCKDB_MAGIC
        with db.open("rb") as fh:
            head = fh.read(offset + len(magic))
        if head[offset:] != magic:
            raise HarnessError(f"--db {shown(db)}: not a DuckDB database (a run database is created by `harness run`)")
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
    """Every API key variable a backend or the judge names may go to its host (the user allowed it: a task file
    cannot) and is set; the key itself never goes in a task file."""
    named = [(f"arms[{i}].backend", arm.backend) for i, arm in enumerate(task.spec.arms) if hasattr(arm, "backend")]
    if task.spec.regression is not None:
        named.append(("regression.backend", task.spec.regression.backend))
    if task.spec.judge is not None:
        named.append(("judge", task.spec.judge))
    for where, spec in named:
        secret = spec.secret_env()
        if secret is None:
            continue
        name, url = secret
        if looks_like_a_secret(name) and not os.environ.get(name):
            raise HarnessError(f"{shown(task.path)}: {where}.api_key_env: expected the NAME of the environment "
                               f"variable that holds the key, e.g. OPENAI_API_KEY; this looks like a key itself "
                               f"(not shown)")
        try:
            task.trust.read_key(name, url)
        except HarnessError as exc:
            raise HarnessError(f"{shown(task.path)}: {where}.api_key_env: {exc}") from None


def check_output_shape(task: Task) -> None:
    """The task's JSON schema and regex compile in xgrammar, the engine that enforces them locally and checks a
    server's answers: Python's `re` accepts back-references and lookarounds that it refuses."""
    from harness.prompting.constraints import Constraint, library_version

    output = task.spec.output
    given: list[tuple[str, Any, Any]] = [("output.json_schema", Constraint.json, output.json_schema),
                                         ("output.regex", Constraint.regex, output.regex)]
    given = [(where, make, value) for where, make, value in given if value is not None]
    if not given or library_version() == "not installed":
        return  # an arm that needs the engine says so in its own preflight
    for where, make, value in given:
        try:
            make(value).check_grammar()
        except HarnessError as exc:
            raise HarnessError(f"{shown(task.path)}: {where}: {exc}") from None
