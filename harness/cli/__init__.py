"""Command line: parses arguments and calls the pipeline; nothing else lives here.

    harness run tasks/contracts.yaml
    harness validate tasks/contracts.yaml
    harness report --run <run_id>
    harness history --task contracts
    harness compare RUN_A RUN_B
    harness export latest --format parquet --out exports/contracts
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from harness import __version__
from harness.cli import output
from harness.errors import HarnessError, SpecError, one_line
from harness.redact import public_url
from harness.store.database import DEFAULT_DB

F = TypeVar("F", bound=Callable[..., Any])

DB_OPTION = click.option(
    "--db", type=click.Path(path_type=Path), default=DEFAULT_DB, show_default=True,
    help="DuckDB file holding every run.",
)
ALLOW_KEY = click.option(
    "--allow-key", "allow_keys", multiple=True, metavar="VAR@HOST[:PORT]",
    help="Let API key variable VAR go to HOST (repeatable; also HARNESS_ALLOW_KEYS). A task file cannot allow it.",
)
ALLOW_PATH = click.option(
    "--allow-path", "allow_paths", multiple=True, metavar="DIR",
    help="Let the task file read files under DIR, outside its own folder (repeatable; also HARNESS_ALLOW_PATHS).",
)
SEED = click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True)


def reports_option(help: str = "Folder the HTML pages are written to.") -> Callable[[F], F]:
    return click.option("--reports", "reports_dir", type=click.Path(path_type=Path), default=Path("reports"),
                        show_default=True, help=help)


def workdir_option(help: str = "Where adapters, studies and indexes go.") -> Callable[[F], F]:
    return click.option("--workdir", type=click.Path(path_type=Path), default=Path("experiments"), show_default=True,
                        help=help)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="harness")
def cli() -> None:
    """Is fine-tuning worth it here, or do prompting or RAG already do the job?

    Runs the same held-out items through prompted, RAG and fine-tuned arms, stores every prediction
    and score in DuckDB and writes an HTML report.
    """


@cli.command()
@click.argument("task_file", type=click.Path(path_type=Path))
@DB_OPTION
@reports_option()
@workdir_option()
@click.option("--arm", "arms", multiple=True, help="Run only this arm (repeatable).")
@click.option("--profile", default=None, help="A profile of the task file (e.g. quick, full); default: its default_profile.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Score a seeded subset of N test examples.")
@click.option("--storage", default=None, help="Optuna storage URL for sweeps (default: experiments/<task>/optuna.db).")
@SEED
@click.option("--device", type=click.Choice(["cpu", "cuda", "mps"]), default=None, help="Default: best available.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option("--base", "base_model", default=None, help="Run on this base model instead of the task file's "
                                                         "(a hub id or a local folder): a model upgrade in one command.")
@click.option("--backend", default=None, help="Answer every arm and score the suite on this backend (e.g. vllm) with its "
                                             "default settings; arms that name a backend keep theirs.")
@click.option("--no-cache", is_flag=True, help="Recompute every arm, even those whose results an earlier run holds.")
@click.option("--gate", is_flag=True, help="Exit with the verdict's code (0 GO, 10 NO-GO, 11 INCONCLUSIVE, 12 regression), "
                                         "for CI pipelines that guard a model change.")
@click.option("--curve", is_flag=True, help="A learning curve for every tuned arm: how many training examples until "
                                          "tuning clears min_lift (the arm's or the profile's curve settings, or "
                                          "1/8, 1/4, 1/2 and all of its training examples).")
@ALLOW_KEY
@ALLOW_PATH
def run(task_file: Path, db: Path, reports_dir: Path, workdir: Path, arms: tuple[str, ...], profile: str | None,
        limit: int | None, storage: str | None, seed: int, device: str | None, quiet: bool, base_model: str | None,
        backend: str | None, no_cache: bool, gate: bool, curve: bool, allow_keys: tuple[str, ...],
        allow_paths: tuple[str, ...]) -> int:
    """Run every arm of TASK_FILE on its test split, store the results, write the report."""
    from harness.processes import stop_on_signals
    from harness.run.pipeline import RunOptions, run_task
    from harness.spec.trust import Trust

    options = RunOptions(db=db, reports_dir=reports_dir, workdir=workdir, seed=seed, arms=list(arms) or None,
                         limit=limit, device=device, profile=profile, storage=storage, base=base_model,
                         backend=backend, use_cache=not no_cache, curve=curve,
                         trust=Trust.of_user(allow_keys, allow_paths))
    stop_on_signals()  # a killed run is marked failed, never left looking 'running'
    with output.progress(quiet) as progress:
        outcome = run_task(task_file, options, progress)
    output.print_results(outcome)
    if outcome.failed_arms:
        raise HarnessError(f"{len(outcome.failed_arms)} arm(s) failed: {', '.join(outcome.failed_arms)} (see the report)")
    return gate_code(outcome.decision) if gate else 0


GATE_CODES = {"GO": 0, "NO-GO": 10, "INCONCLUSIVE": 11, "regression": 12}


def gate_code(decision: Any) -> int:
    """The exit code of `run --gate`: a tuned arm that was held back by the regression checks wins over the rest."""
    if decision is None:
        return GATE_CODES["INCONCLUSIVE"]
    if decision.verdict != "GO" and decision.regressed:
        return GATE_CODES["regression"]
    return GATE_CODES[decision.verdict]


@cli.command()
@click.argument("task_file", type=click.Path(path_type=Path))
@DB_OPTION
@reports_option(help="Checked as `run` checks it.")
@workdir_option(help="Checked as `run` checks it.")
@click.option("--profile", default=None, help="The profile `run` would use (its arms are the ones checked).")
@click.option("--storage", default=None, help="The Optuna storage URL `run` would use.")
@click.option("--fix", is_flag=True, help="Write cleaned copies (<name>.clean.jsonl, <task>.clean.yaml) beside the originals.")
@click.option("--all", "show_all", is_flag=True, help="List every finding (default: 20 per check).")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@ALLOW_KEY
@ALLOW_PATH
def validate(task_file: Path, db: Path, reports_dir: Path, workdir: Path, profile: str | None, storage: str | None,
             fix: bool, show_all: bool, quiet: bool, allow_keys: tuple[str, ...], allow_paths: tuple[str, ...]) -> None:
    """Check a task file and its data: schema, duplicates, near-duplicates, leakage, labels, lengths, and all
    that `run` checks before a model loads (output folders, corpus, sweep points, API key variables).

    Loads only the embedding model and the base model's tokenizer, never the model itself.
    """
    from harness.run.pipeline import RunOptions, validate_task
    from harness.spec.trust import Trust

    options = RunOptions(db=db, reports_dir=reports_dir, workdir=workdir, profile=profile, storage=storage,
                         trust=Trust.of_user(allow_keys, allow_paths))
    with output.progress(quiet) as progress:
        task, data, report, written = validate_task(task_file, progress, fix, options)
    console = output.console()
    shown: dict[str, int] = {}
    for finding in report.findings:
        shown[finding.check] = shown.get(finding.check, 0) + 1
        if show_all or shown[finding.check] <= 20:
            console.print(finding.line(), soft_wrap=True, markup=False)
    for check, n in shown.items():
        if not show_all and n > 20:
            console.print(f"... {n - 20} more {check} findings (--all lists them)")
    output.print_stats(console, report.stats)
    for path in written:
        console.print(f"wrote {path}", soft_wrap=True)
    counts = report.counts()
    sizes = ", ".join(f"{name} {len(data.split(name))}" for name in ("train", "validation", "test"))
    summary = f"{counts.get('error', 0)} errors, {counts.get('warning', 0)} warnings"
    if report.errors:
        raise HarnessError(f"{task.path}: {summary} ({sizes})")
    console.print(f"{task.path}: ok ({task.spec.name} v{task.spec.version}; {sizes}; data {data.fingerprint}; {summary})",
                  soft_wrap=True)


@cli.command()
@click.argument("name")
@click.option("--dir", "tasks_dir", type=click.Path(path_type=Path), default=Path("tasks"), show_default=True)
def init(name: str, tasks_dir: Path) -> None:
    """Scaffold a new task: NAME.yaml with comments, a data folder with rows to replace, a data card."""
    from harness.spec.scaffold import scaffold

    for path in scaffold(name, tasks_dir):
        output.console().print(f"wrote {path}", soft_wrap=True)
    output.console().print(f"next: edit {tasks_dir / (name + '.yaml')} and its data, then harness validate it", soft_wrap=True)


@cli.command()
@click.argument("task_files", nargs=-1, required=True, type=click.Path(path_type=Path))
def prepare(task_files: tuple[Path, ...]) -> None:
    """Get the models these tasks name ready now: an embedded GGUF model is converted into safetensors once, and
    the task's inputs are embedded for the near-duplicate check (cached by model and texts, so a run on the same
    data reuses them and a run on changed data computes them again). `make run` does this at install time."""
    import time

    from harness.models.loading import resolve
    from harness.run.checks import check_task_data
    from harness.run.pipeline import RunOptions
    from harness.run.pipeline import prepare as load_for_run

    seen: set[str] = set()
    for path in task_files:
        task, data, _, _ = load_for_run(path, RunOptions())  # the data a default run checks: the same texts
        spec = task.spec
        for ref in (spec.model.base, spec.embedding_model, spec.checks.embedding_model):
            if ref in seen:
                continue
            seen.add(ref)
            began = time.perf_counter()
            model = resolve(ref)
            output.console().print(f"{ref}: {model.path} ({model.source}, {time.perf_counter() - began:.0f} s)", soft_wrap=True)
        if spec.checks.near_duplicates:
            began = time.perf_counter()
            check_task_data(task, data, output.progress(True))
            output.console().print(f"{path}: {sum(1 for _ in data.all())} inputs embedded for the near-duplicate check "
                             f"({time.perf_counter() - began:.0f} s)", soft_wrap=True)


@cli.command()
@DB_OPTION
@click.option("--run", "run_id", default=None, help="Run id (default: the latest run).")
@reports_option()
def report(db: Path, run_id: str | None, reports_dir: Path) -> None:
    """Re-render the HTML report of a stored run."""
    from harness.report import write_report
    from harness.run.preflight import Outputs, check_outputs
    from harness.store.database import Store

    check_outputs(Outputs(reports_dir=reports_dir))
    with Store.open(db, read_only=True) as store, store.session():
        path = write_report(store, run_id or store.latest_run(), reports_dir)
    output.console().print(f"report: {path}", soft_wrap=True)


@cli.command()
@click.argument("task_file", type=click.Path(path_type=Path))
@click.option("--arm", "arm_name", default=None, help="The lora/qlora arm whose settings to use (default: the first).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True, help="Folder for the adapter.")
@click.option("--profile", default=None, help="A profile of the task file (its train_limit and epochs apply).")
@click.option("--device", type=click.Choice(["cpu", "cuda", "mps"]), default=None)
@SEED
@ALLOW_PATH
def train(task_file: Path, arm_name: str | None, out_dir: Path, profile: str | None, device: str | None, seed: int,
          allow_paths: tuple[str, ...]) -> None:
    """Train one adapter on the train split with a tuned arm's settings (no sweep, no test split).

    On several GPUs: accelerate launch --num_processes 4 -m harness.cli train TASK_FILE --out DIR
    then evaluate it with `adapter: DIR/adapter` on the arm.
    """
    from harness.spec.trust import Trust
    from harness.tuning.training import train_for_task

    result = train_for_task(task_file, arm_name, out_dir, profile, device, seed, Trust.of_user(paths=allow_paths))
    if os.environ.get("RANK", "0") == "0":
        output.console().print(f"adapter: {result.adapter_dir} ({result.train_tokens} tokens, {result.tokens_per_s:.0f} tokens/s, "
                         f"{result.train_seconds:.0f} s)", soft_wrap=True)


@cli.command()
@DB_OPTION
@click.option("--task", default=None, help="Only runs of this task (its name in the task file).")
def history(db: Path, task: str | None) -> None:
    """Runs over time: base model, data, verdict, and the tuned arm's lift over the best untrained arm."""
    from harness.readside.compare import upgrade_flags
    from harness.readside.results import history as read_history
    from harness.readside.results import upgrade_pairs
    from harness.store.database import Store

    with Store.open(db, read_only=True) as store, store.session():
        rows = read_history(store, task)
        flags = {new.run_id: upgrade_flags(store, old.run_id, new.run_id) for old, new in upgrade_pairs(rows)}
    output.print_history(rows, flags, f"history of {task or 'all tasks'} in {db}, grouped by base model")

@cli.command()
@click.argument("run_a")
@click.argument("run_b")
@DB_OPTION
@reports_option()
def compare(run_a: str, run_b: str, db: Path, reports_dir: Path) -> None:
    """Run B against run A of the same task: per arm, B − A on the shared test items with an interval,
    the items that flipped, both verdicts and the regression-suite deltas; writes an HTML page too."""
    from harness.readside.compare import compare_runs
    from harness.report import write_comparison
    from harness.run.preflight import Outputs, check_outputs
    from harness.store.database import Store

    check_outputs(Outputs(reports_dir=reports_dir))
    with Store.open(db, read_only=True) as store, store.session():
        result = compare_runs(store, run_a, run_b)
    path = write_comparison(result, reports_dir)

    output.print_comparison(result, run_a, run_b, path)


@cli.command()
@click.argument("run_id")
@DB_OPTION
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv", "jsonl"]), default="parquet", show_default=True)
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True, help="Folder for the files.")
def export(run_id: str, db: Path, fmt: str, out_dir: Path) -> None:
    """Write run RUN_ID (or `latest`) as files: run, arms, examples, predictions, scores (per example), metrics
    (per arm), trials, decision.json, and export.json listing them."""
    from harness.readside.export import export_run

    result = export_run(db, run_id, fmt, out_dir)
    rows = ", ".join(f"{name} {n}" for name, n in result.rows.items())
    output.console().print(f"exported run {result.run_id} ({result.status}) to {result.folder}: {rows} rows", soft_wrap=True,
                     markup=False)


def _error(message: str) -> None:
    """One line, whatever the message holds: a file name or value with a newline cannot start a forged second
    line, and a URL's credentials are masked on every path that prints one."""
    click.echo(f"error: {one_line(public_url(message))}", err=True)


def main(argv: list[str] | None = None) -> int:
    try:
        code = cli.main(args=argv, prog_name="harness", standalone_mode=False)
    except SpecError as exc:
        for problem in exc.problems:
            _error(problem)
        return 2
    except HarnessError as exc:
        _error(str(exc))
        return 2
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.UsageError as exc:  # one line, as every other mistake: `harness CMD --help` has the usage
        command = f"harness {exc.ctx.info_name} --help" if exc.ctx and exc.ctx.parent else "harness --help"
        _error(f"{exc.format_message()} (see `{command}`)")
        return 2
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
