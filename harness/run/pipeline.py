"""The one place that knows the order of the stages: spec -> data -> arms -> scores -> store -> report.

    harness run tasks/contracts.yaml

One arm failing is recorded and the others go on; the run itself is marked failed (never left looking
complete) if anything outside an arm goes wrong, including Ctrl-C. How each stage works lives with the
module that owns it; this module only calls them in order.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness import __version__
from harness.arms import ArmBase, ArmContext, ArmOutput
from harness.arms.catalog import build_arm
from harness.backends.pool import Generators
from harness.data.examples import Example, TaskData, seeded_subset, slice_values
from harness.data.loading import load_data
from harness.errors import HarnessError
from harness.models.embeddings import LazyEmbedder
from harness.models.loading import ResolvedModel, resolve
from harness.readside.results import analyse_curves, decide_run, with_curves
from harness.records import Adapter
from harness.redact import public_url
from harness.regression.runs import BASE, SuiteRuns
from harness.report import inside, write_report
from harness.retrieval.index import build_retriever
from harness.run.cache import result_key, reuse
from harness.run.checks import CheckReport, check_fixed_files, check_task_data, write_fixed
from harness.run.preflight import Outputs, check_outputs, preflight
from harness.run.provenance import arm_identity, config_hash, git_state, new_run_id, package_versions
from harness.run.timing import StageClock
from harness.scoring.judge import Judge
from harness.scoring.scores import ScoredArm, score_arm
from harness.spec import CurveSpec, ProfileSpec, Task, no_credentials
from harness.spec.taskfile import load_spec
from harness.spec.trust import Trust
from harness.store.database import DEFAULT_DB, Store
from harness.store.records import ArmRecord, MetricRecord, StageRecord
from harness.tuning.curve import LearningCurve
from harness.verdict.curve import CurveAnalysis
from harness.verdict.decision import Decision


@dataclass
class RunOptions:
    db: Path = DEFAULT_DB
    reports_dir: Path = Path("reports")
    workdir: Path = Path("experiments")
    seed: int = 0
    arms: list[str] | None = None  # run only these arms
    limit: int | None = None  # score a seeded subset of N test examples
    device: str | None = None
    profile: str | None = None  # a profile of the task file; default: its default_profile
    storage: str | None = None  # Optuna storage URL for sweeps
    base: str | None = None  # another base model than the task file's (a hub id or a local folder)
    backend: str | None = None  # answer every arm and score the suite on this backend type (e.g. vllm)
    use_cache: bool = True  # reuse an earlier run's results for arms whose every input is unchanged
    curve: bool = False  # a learning curve for every tuned arm (as a profile's `curve: true`)
    trust: Trust | None = None  # what the user allowed the task file to reach (default: their environment's)


@dataclass
class RunOutcome:
    run_id: str
    report_path: Path
    metrics: list[MetricRecord]
    arms: list[ArmRecord]
    failed_arms: list[str] = field(default_factory=list)
    decision: Decision | None = None
    stages: list[StageRecord] = field(default_factory=list)  # where the time went, in order
    seconds: float = 0.0  # the run, from reading the task file to the written report
    curves: list[CurveAnalysis] = field(default_factory=list)


def prepare(task_path: str | Path, options: RunOptions) -> tuple[Task, TaskData, list[ArmBase], ProfileSpec]:
    """The task, its data (the test split cut to the profile's limit) and the arms to run."""
    task, data, arms, profile = _load(task_path, options)
    limit = options.limit if options.limit is not None else profile.test_limit
    if limit is not None:
        data = data.subsample("test", limit, options.seed)
    return task, data, arms, profile


def _load(task_path: str | Path, options: RunOptions) -> tuple[Task, TaskData, list[ArmBase], ProfileSpec]:
    task = load_spec(task_path, options.trust)
    if options.base:
        try:
            no_credentials(options.base)
        except ValueError as exc:
            raise HarnessError(f"--base {public_url(options.base)}: {exc}") from None
        task = task.with_base(options.base)
    if options.backend:
        task = task.with_backend(options.backend)
    data = load_data(task)
    if not data.test:
        raise HarnessError(f"{task.path}: the test split is empty")
    profile = task.spec.profile(options.profile)
    if options.curve and not isinstance(profile.curve, CurveSpec):
        profile = profile.model_copy(update={"curve": True})
    specs = task.spec.arms
    chosen = options.arms or profile.arms
    if chosen:
        unknown = [a for a in chosen if a not in {s.name for s in specs}]
        if unknown:
            raise HarnessError(f"--arm {unknown[0]!r}: no such arm in {task.path}; arms: {', '.join(s.name for s in specs)}")
        specs = [s for s in specs if s.name in chosen]
    return task, data, [build_arm(s) for s in specs], profile


def run_task(task_path: str | Path, options: RunOptions, progress: Any) -> RunOutcome:
    began = time.perf_counter()
    clock = StageClock()
    with clock("task and data"):
        task, data, arms, profile = prepare(task_path, options)
        check_outputs(_outputs(options))
    with clock("resolve"):
        step = progress.add_task(f"resolve {task.spec.model.base} (converts an embedded copy once)", total=None)
        base = resolve(task.spec.model.base)
        progress.update(step, total=1, completed=1)
    run_id = new_run_id()
    ctx = _context(task, data, arms, profile, base, progress, options.workdir / task.spec.name / run_id, options)
    try:
        outcome = _checked_run(task, data, arms, base, ctx, run_id, options, clock)
        return replace(outcome, seconds=time.perf_counter() - began)
    finally:
        ctx.generators.close()  # servers it started stop with the run: done, failed or interrupted


def _checked_run(task: Task, data: TaskData, arms: list[ArmBase], base: ResolvedModel, ctx: ArmContext, run_id: str,
                 options: RunOptions, clock: StageClock) -> RunOutcome:
    with clock("preflight"):
        checked = preflight(task, arms, ctx)
    with clock("data checks"):
        checks = check_task_data(task, data, ctx.progress, str(base.path))
    if checks.errors:
        first = checks.errors[0]
        raise HarnessError(
            f"data checks found {len(checks.errors)} error(s), first: {first.where}: {first.check}: {first.message}; "
            f"`harness validate {task.path}` lists them all (--fix writes cleaned copies)"
        )
    generators = ctx.generators
    commit, dirty = git_state(task.base_dir)
    store = Store.open(options.db)
    try:
        with clock("retrieval index"):
            retriever = build_retriever(task, store, ctx.progress)
        store.start_run({
            "run_id": run_id,
            "task": task.spec.name,
            "task_version": task.spec.version,
            "task_path": str(task.path),
            "spec_json": task.spec_json,
            "spec_hash": task.spec_hash,
            "data_fingerprint": data.fingerprint,
            "profile": json.dumps({"name": options.profile or task.spec.default_profile, **ctx.profile.model_dump(),
                                   "limit": options.limit, "arms": options.arms, "seed": options.seed,
                                   "base": options.base}),
            "git_commit": commit,
            "git_dirty": dirty,
            "harness_version": __version__,
            "packages_json": json.dumps(package_versions()),
            "base_model_id": base.id,
            "base_model_source": base.source,
            "base_model_hash": base.weights_hash,
            "device": options.device or "auto",
            "precision": generators.precision,
        })
        try:
            clock.attach(store, run_id)
            store.add_findings(run_id, checks.as_rows(), checks.stats)
            suites = SuiteRuns(checked.regression, checked.suite_plan, generators, store, run_id, ctx.tracker,
                               checked.lm_eval_include) if checked.regression else None
            ctx = replace(ctx, retriever=retriever, log_trial=lambda trial: store.add_trial(run_id, trial),
                          forgetting_probe=suites.trial_probe() if suites else None)
            outcome = _run_arms(task, data, arms, base, ctx, store, run_id, options, checked.judge, suites, clock)
            return replace(outcome, stages=store.stages(run_id))
        except BaseException as exc:  # Ctrl-C included: the run must not look complete
            store.fail_run(run_id, f"{type(exc).__name__}: {exc}")
            raise
    finally:
        store.close()


def _outputs(options: RunOptions) -> Outputs:
    return Outputs(options.db, options.reports_dir, options.workdir, options.storage)


def _context(task: Task, data: TaskData, arms: list[ArmBase], profile: ProfileSpec, base: ResolvedModel,
             progress: Any, workdir: Path, options: RunOptions) -> ArmContext:
    generators = Generators(base, task.spec.model.dtype, task.spec.generation.batch_size, progress, options.device,
                            task.spec.model.prompt_format, task.trust)
    generators.workdir = workdir
    return ArmContext(task, data.train, data.validation, generators, progress, workdir, options.seed, profile,
                      options.storage, arm_names=tuple(a.name for a in arms),
                      embedder=LazyEmbedder(task.spec.embedding_model))


def _role(arm: ArmBase) -> str:
    return "tuned" if arm.trains else "baseline"


def _run_arms(task: Task, data: TaskData, arms: list[ArmBase], base: ResolvedModel, ctx: ArmContext, store: Store,
              run_id: str, options: RunOptions, judge: Judge | None, suites: SuiteRuns | None,
              clock: StageClock) -> RunOutcome:
    # With several arms without training, they also answer (part of) validation: the verdict picks its baseline
    # there, so the pick cannot favour an arm on the test items it is then compared on.
    several = sum(not arm.trains for arm in arms) > 1
    validation = seeded_subset(data.validation, ctx.profile.validation_limit, options.seed) if several else []
    store.add_examples(run_id, [
        {"split": split, "example_id": ex.id, "source": ex.source, "input_json": json.dumps(ex.messages),
         "target": ex.target}
        for split, examples in (("test", data.test), ("validation", validation)) for ex in examples
    ])
    adapters: dict[str, Adapter] = {}  # what each tuned arm produced, for the arms that answer with it
    tuned_models: list[tuple[str, Adapter, str | None]] = []  # (arm, adapter, merged folder): for the suite
    failed = []
    for arm in arms:
        config, digest = arm_identity(task, arm.describe(), base, data, ctx.generators.prompt_format.name,
                                      ctx.generators.precision, ctx.generators.identity(arm.backend))
        store.start_arm(run_id, arm.name, arm.kind, _role(arm), config, digest)
        began = time.perf_counter()
        try:
            with clock("prepare", arm.name) as lap:
                adapter = arm.prepare(ctx)
                if adapter is None:
                    lap.discard()  # nothing to prepare: prompted and retrieval arms
            if adapter is not None:
                adapters[arm.name] = adapter
            elif arm.adapter_source is not None:
                adapter = adapters.get(arm.adapter_source)
            key = result_key(digest, task.spec, data.test, [] if arm.trains else validation, adapter, ctx.retriever,
                             options.seed)
            cached = _reuse(store, key, run_id, arm.name, options, clock)
            if cached is not None:  # nothing that determines its results changed: no model loads for it
                if arm.trains and adapter is not None:
                    tuned_models.append((arm.name, adapter, None))
                    tuned_models += [(name, adapter, d.get("merged_dir")) for name, d in cached[1]]
                continue
            if not arm.trains and validation:
                with clock("validation answers", arm.name):
                    output = arm.predict([ex.item() for ex in validation], ctx, adapter)
                with clock("validation scoring", arm.name):
                    scored = _score(task, validation, f"{arm.name} (validation)", output, ctx, options, None)
                store.add_split(run_id, arm.name, "validation", output.predictions, scored.scores, scored.metrics)
            with clock("test answers", arm.name):
                output = arm.predict([ex.item() for ex in data.test], ctx, adapter)
            with clock("test scoring", arm.name):
                scored = _score(task, data.test, arm.name, output, ctx, options, judge)
        except Exception as exc:
            _fail(store, run_id, arm.name, exc, began)
            failed.append(arm.name)
            continue
        store.finish_arm(run_id, arm.name, "test", output.predictions, scored.scores, scored.metrics,
                         time.perf_counter() - began, {**output.details, **scored.details}, key)
        if arm.trains and adapter is not None:
            tuned_models.append((arm.name, adapter, None))
        for companion in output.companions:
            store.start_arm(run_id, companion.name, companion.kind, "companion", companion.config,
                            config_hash(companion.config))
            try:
                with clock("test scoring", companion.name):
                    scored = _score(task, data.test, companion.name, ArmOutput(companion.predictions), ctx, options,
                                    judge)
            except Exception as exc:
                store.fail_arm(run_id, companion.name, f"{type(exc).__name__}: {exc}", 0.0)
                failed.append(companion.name)
                continue
            store.finish_arm(run_id, companion.name, "test", companion.predictions, scored.scores, scored.metrics, 0.0,
                             {**companion.details, **scored.details})
            if companion.adapter is not None:
                tuned_models.append((companion.name, companion.adapter, companion.merged_dir))
    curves = [c for c in (arm.curve(ctx) for arm in arms if arm.name not in failed) if c is not None]
    for curve in curves:
        failed += _run_curve(task, data, curve, base, ctx, store, run_id, options, clock)
    return _finish(task, data, store, run_id, options, suites, tuned_models, failed, clock, curves)


def _finish(task: Task, data: TaskData, store: Store, run_id: str, options: RunOptions, suites: SuiteRuns | None,
            tuned_models: list[tuple[str, Adapter, str | None]], failed: list[str], clock: StageClock,
            curves: Sequence[LearningCurve]) -> RunOutcome:
    """After the arms and the curves' points: the general-capability suite on each tuned model, the verdict (and
    the curves' fit, one sentence more in its reasons), the report."""
    if suites is not None and tuned_models:  # did tuning make the model worse at everything else?
        with clock("suite", BASE):
            suites.score([BASE])
        for name, adapter, merged_dir in tuned_models:
            with clock("suite", name):
                suites.score([name], adapter, Path(merged_dir) if merged_dir else None)
    report_path = inside(options.reports_dir, f"{task.spec.name}-{run_id}.html")
    with store.session():  # many reads in a row: one connection, held for a second or two
        with clock("decision"):
            decision = decide_run(store, run_id, task.spec, options.seed, slice_values(task, data.test),
                                  data.held.get("test"))
        analyses: list[CurveAnalysis] = []
        if curves:
            with clock("curve fit"):  # one sentence more in the reasons; the verdict stays as decided
                analyses = analyse_curves(store, run_id, task.spec, decision, curves, options.seed)
                store.save_curves(run_id, [analysis.to_dict() for analysis in analyses])
                decision = with_curves(decision, analyses)
        store.finish_run(run_id, str(report_path), decision.to_dict())
        with clock("report"):  # a page cannot show its own writing: this row shows when it is re-rendered
            written = write_report(store, run_id, options.reports_dir)
        assert written == report_path
        return RunOutcome(run_id, report_path, store.metrics(run_id), store.arms(run_id), failed, decision,
                          curves=analyses)


def _run_curve(task: Task, data: TaskData, curve: LearningCurve, base: ResolvedModel, ctx: ArmContext, store: Store,
               run_id: str, options: RunOptions, clock: StageClock) -> list[str]:
    """A tuned arm's learning-curve points, each stored like an arm (role 'curve') under a key of everything that
    determines it: copied when a run holds it, else trained, answered and scored. The names of those that failed."""
    failed = []
    for point in curve.points:
        if point.own:  # the full size's first seed is the arm's own result
            continue
        config, digest = arm_identity(task, curve.describe(point), base, data, ctx.generators.prompt_format.name,
                                      ctx.generators.precision)
        key = result_key(digest, task.spec, data.test, [], None, None, options.seed)
        store.start_arm(run_id, point.name, "curve", "curve", config, digest)
        began = time.perf_counter()
        try:
            if _reuse(store, key, run_id, point.name, options, clock) is not None:
                continue
            with clock("curve training", point.name):
                model, details = curve.train(point)
            with clock("curve answers", point.name):
                output = curve.answer(point, model, [ex.item() for ex in data.test])
            del model
            with clock("curve scoring", point.name):
                scored = _score(task, data.test, point.name, output, ctx, options, None)
        except Exception as exc:
            _fail(store, run_id, point.name, exc, began)
            failed.append(point.name)
            continue
        store.finish_arm(run_id, point.name, "test", output.predictions, scored.scores, scored.metrics,
                         time.perf_counter() - began, {**details, **output.details, **scored.details}, key)
    return failed


def _reuse(store: Store, key: str, run_id: str, name: str, options: RunOptions,
           clock: StageClock) -> tuple[dict, list[tuple[str, dict]]] | None:
    """An earlier run's results under this key, copied into this run as `name` (timed as 'cached'), or None."""
    with clock("cached", name) as lap:
        cached = reuse(store, key, run_id, name) if options.use_cache else None
        if cached is None:
            lap.discard()
    return cached


def _fail(store: Store, run_id: str, name: str, exc: Exception, began: float) -> None:
    """Record an arm (or a curve point) as failed, with the error a reader needs."""
    detail = str(exc) if isinstance(exc, HarnessError) else traceback.format_exc(limit=6)
    store.fail_arm(run_id, name, f"{type(exc).__name__}: {detail}", time.perf_counter() - began)


def _score(task: Task, examples: list[Example], name: str, output: ArmOutput, ctx: ArmContext, options: RunOptions,
           judge: Judge | None) -> ScoredArm:
    def tracker(what: str, total: int) -> Any:
        return ctx.tracker(f"{name}: {what}", total)

    return score_arm(task.spec, examples, output.predictions, tracker, options.seed, ctx.retriever, judge)


def validate_task(task_path: str | Path, progress: Any, fix: bool = False,
                  options: RunOptions | None = None) -> tuple[Task, TaskData, CheckReport, list[Path]]:
    """What `run` checks before a model loads (the same preflight, the same outputs), and the data checks; only
    the embedding model and the base model's tokenizer are loaded."""
    options = options or RunOptions()
    task, data, arms, profile = _load(task_path, options)  # every test item: the data checks read them all
    check_outputs(_outputs(options))
    if fix and task.spec.data.dataset is not None:
        raise HarnessError(f"{task.path}: --fix writes cleaned copies of JSONL/CSV data files; data.dataset is read "
                           f"with datasets: drop rows with data.dataset.filter instead")
    if fix:
        check_fixed_files(task, data)
    base = resolve(task.spec.model.base)
    ctx = _context(task, data, arms, profile, base, progress, options.workdir, options)
    try:
        preflight(task, arms, ctx)
    finally:
        ctx.generators.close()
    report = check_task_data(task, data, progress, str(base.path))
    written = write_fixed(task, data, report) if fix else []
    return task, data, report, written
