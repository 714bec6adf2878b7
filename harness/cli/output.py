"""What the command line prints: rich consoles and progress bars, a run's results and time line, validate's
statistics, and the history and compare tables. Arm names, intervals and reasons are printed as they are, never
read as rich markup."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.store.records import StageRecord


def console(stderr: bool = False) -> Any:
    from rich.console import Console

    console = Console(stderr=stderr, highlight=False)
    if not console.is_terminal:  # piped or captured: do not squeeze tables into 80 columns
        console = Console(stderr=stderr, highlight=False, width=200)
    return console


def progress(quiet: bool) -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    # a disabled Progress still ends with an empty line: quiet means a console that prints nothing
    shown = Console(quiet=True) if quiet else console(stderr=True)
    return Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=shown, disable=quiet, transient=False,
    )


def print_results(outcome: Any) -> None:
    """Metrics as rows and arms as columns: a task has more metric keys than arms."""
    from rich.table import Table

    metrics = {(m.arm, m.metric): m for m in outcome.metrics}
    names = list(dict.fromkeys(m.metric for m in outcome.metrics))
    table = Table(title=f"run {outcome.run_id}")
    table.add_column("metric", no_wrap=True)
    for arm in outcome.arms:
        table.add_column(arm.arm, justify="right")
    table.add_row("status", *[arm.status for arm in outcome.arms])
    for name in names:
        cells = []
        for arm in outcome.arms:
            m = metrics.get((arm.arm, name))
            cells.append(f"{m.value:.3f}" if m and m.value is not None else "–")
        table.add_row(name, *cells)
    table.add_row("failed", *["–" if a.n_failed is None else f"{a.n_failed}/{a.n_examples}" for a in outcome.arms])
    out = console()
    out.print(table)
    if outcome.decision is not None:
        out.print(f"verdict: {outcome.decision.verdict}: {outcome.decision.reasons[0]}", soft_wrap=True, markup=False)
        for reason in outcome.decision.reasons[1:]:
            if reason.startswith("baseline: "):  # which untrained arm the tuned ones were judged against, and why
                out.print(reason, soft_wrap=True, markup=False)
        from harness.verdict.reasons import flagged_sentence, unconfirmed_sentence

        slices = flagged_sentence(outcome.decision) if outcome.decision.rule != "slice-block" else None
        for line in (slices, unconfirmed_sentence(outcome.decision)):
            if line:
                out.print(f"slices: {line}", soft_wrap=True, markup=False)
        out.print(f"method: {outcome.decision.method}", soft_wrap=True, markup=False)
    if outcome.stages:
        out.print(time_line(outcome.seconds, outcome.stages), soft_wrap=True, markup=False)
    from harness.verdict.curve import sentence

    for curve in outcome.curves:
        out.print(sentence(curve), soft_wrap=True, markup=False)
    out.print(f"report: {outcome.report_path}", soft_wrap=True)


def time_line(seconds: float, stages: list[StageRecord]) -> str:
    """The run's time and its longest stages (the report's "Where the time went" lists every one)."""
    longest = sorted(stages, key=lambda s: -s.seconds)[:4]
    named = ", ".join(f"{s.stage}{' ' + s.arm if s.arm else ''} {s.seconds:.0f} s" for s in longest)
    return f"time: {seconds / 60:.1f} min ({seconds:.0f} s); longest stages: {named}"


def print_stats(out: Any, stats: dict) -> None:
    from rich.table import Table

    if stats.get("labels"):
        table = Table(title="labels per split")
        table.add_column("label")
        splits = list(stats["labels"])
        for name in splits:
            table.add_column(name, justify="right")
        labels = list(next(iter(stats["labels"].values())))
        for label in labels:
            table.add_row(label, *[str(stats["labels"][s][label]) for s in splits])
        out.print(table)
    tokens = {k: v for k, v in stats.get("tokens", {}).items() if k != "context_window"}
    if tokens:
        table = Table(title=f"tokens (context window {stats['tokens'].get('context_window')})")
        for col in ("split", "prompt p50", "prompt p95", "prompt max", "answer p50", "answer p95", "answer max"):
            table.add_column(col, justify="right")
        for name, row in tokens.items():
            p, t = row["prompt_tokens"], row["target_tokens"]
            table.add_row(name, *[f"{v:.0f}" for v in (p["p50"], p["p95"], p["max"], t["p50"], t["p95"], t["max"])])
        out.print(table)


def print_history(rows: list[Any], flags: dict[str, list[str]], title: str) -> None:
    """`harness history`: one row per run, a section per base model's weights, then the upgrade flags."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title)
    crossing = any(row.crossing for row in rows)  # a column only when some run drew a learning curve
    for col in ("run", "task", "status", "base model", "weights", "verdict", "arms (primary metric)", "tuned arm",
                "lift [interval]", "suite Δ") + (("clears min_lift at",) if crossing else ()):
        table.add_column(col)
    previous = None
    for row in rows:
        if previous is not None and row.base_weights != previous:
            table.add_section()
        previous = row.base_weights
        lift = f"{row.lift:+.3f} [{row.lift_low:+.3f}, {row.lift_high:+.3f}]" if row.lift is not None else "–"
        scores = ", ".join(f"{arm} {value:.3f}" for arm, value in row.arms.items()) or "–"
        suite = f"{row.suite_delta:+.3f}" if row.suite_delta is not None else "–"
        table.add_row(row.run_id, f"{row.task} v{row.task_version}", row.status, row.base_model, row.base_weights,
                      row.verdict or "–", scores, row.candidate or "–", lift, suite,
                      *((Text(row.crossing or "–"),) if crossing else ()))
    out = console()
    out.print(table)
    for run_id, found in flags.items():
        for flag in found:
            out.print(f"{run_id}: {flag}", soft_wrap=True, markup=False)


def print_comparison(result: Any, run_a: str, run_b: str, path: Any) -> None:
    """`harness compare`: B - A per arm with intervals and flips, both verdicts, the suite's deltas."""
    from rich.table import Table
    from rich.text import Text

    def fmt(v: float | None, spec: str = ".3f") -> str:
        return "–" if v is None or math.isnan(v) else format(v, spec)

    def signed(v: float | None) -> str:
        return fmt(v, "+.3f")

    table = Table(title=Text(f"{result.task} v{result.task_version}: {run_b} (B) − {run_a} (A), {result.primary} on "
                             f"{result.n_shared} shared items, {result.confidence:.0%} intervals"))
    for col in ("arm", "A", "B", "Δ [interval]", "flipped (B better / worse)"):
        table.add_column(Text(col), justify="left" if col == "arm" else "right")
    for d in result.arms:  # Text: arm names and intervals are shown as they are, never read as markup
        table.add_row(*map(Text, (d.arm, fmt(d.value_a), fmt(d.value_b),
                                  f"{signed(d.diff)} [{signed(d.low)}, {signed(d.high)}]",
                                  f"{len(d.flips)} ({d.wins} / {d.losses})")))
    out = console()
    out.print(table)
    for label, side in (("A", result.a), ("B", result.b)):
        lift = (f"; {side.candidate} vs {side.baseline} {signed(side.lift)} [{signed(side.lift_low)}, "
                f"{signed(side.lift_high)}]" if side.lift is not None else "")
        out.print(f"{label} {side.run_id} ({side.base_model} {side.base_weights}): verdict "
                  f"{side.verdict or '– (' + side.status + ')'}{lift}", soft_wrap=True, markup=False)
    for r in result.regression:
        parts = [f"{label} {signed(d.diff)} [{signed(d.low)}, {signed(d.high)}]" if d else f"{label} –"
                 for label, d in (("A", r.a), ("B", r.b))]
        out.print(f"regression suite, {r.arm}: " + ", ".join(parts), soft_wrap=True, markup=False)
    if result.skipped:
        out.print("not compared: " + "; ".join(result.skipped), soft_wrap=True, markup=False)
    out.print(f"comparison: {path}", soft_wrap=True)
