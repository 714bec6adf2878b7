"""The one place that knows the order of the stages: spec -> data -> arms -> scores -> store -> report.

    harness run tasks/contracts.yaml

One arm failing is recorded and the others go on; the run itself is marked failed (never left looking
complete) if anything outside an arm goes wrong, including Ctrl-C.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import subprocess
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from harness import __version__
from harness.arms import Arm, ArmContext, build_arm
from harness.arms.pool import ModelPool
from harness.checks import CheckReport, run_checks, write_fixed
from harness.data import TaskData, load_data, seeded_subset
from harness.decision import ArmResult, decide
from harness.errors import HarnessError
from harness.embeddings import Embedder
from harness.judge import Case, Judge, judge_cases, judged_metrics
from harness.models import ResolvedModel, resolve, tokenizer_and_window
from harness.retrieval import Chunk, Retriever, chunk_documents, corpus_fingerprint, load_corpus
from harness.report import write_report
from harness.scoring import context_scores, score_predictions
from harness.spec import ProfileSpec, Task, load_spec
from harness.store import Store

PACKAGES = ("torch", "transformers", "peft", "trl", "bitsandbytes", "sentence-transformers", "optuna", "duckdb", "openai")


@dataclass
class RunOptions:
    db: Path = Path("experiments") / "harness.duckdb"
    reports_dir: Path = Path("reports")
    workdir: Path = Path("experiments")
    seed: int = 0
    arms: list[str] | None = None  # run only these arms
    limit: int | None = None  # score a seeded subset of N test examples
    device: str | None = None
    profile: str | None = None  # a profile of the task file; default: its default_profile
    storage: str | None = None  # Optuna storage URL for sweeps


@dataclass
class RunOutcome:
    run_id: str
    report_path: Path
    metrics: list[dict[str, Any]]
    arms: list[dict[str, Any]]
    failed_arms: list[str] = field(default_factory=list)


class _LazyEmbedder:
    """The embedding model for similar-shot selection, loaded only if an arm asks for it."""

    def __init__(self, task: Task):
        self.ref = task.spec.corpus.embedding_model if task.spec.corpus else task.spec.checks.embedding_model
        self._embedder: Embedder | None = None

    def __getattr__(self, name: str) -> Any:
        if self._embedder is None:
            self._embedder = Embedder(self.ref)
        return getattr(self._embedder, name)


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
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


def arm_identity(task: Task, arm: Arm, base: ResolvedModel, data: TaskData) -> tuple[dict, str]:
    """Everything that determines an arm's outputs, and its hash."""
    spec = task.spec
    config = {
        "arm": arm.describe(),
        "prompt": spec.prompt.model_dump(mode="json"),
        "generation": spec.generation.model_dump(mode="json"),
        "output": spec.output.model_dump(mode="json"),
        "base_model": base.as_record() | {"path": None},
        "data_fingerprint": data.fingerprint,
    }
    digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]
    return config, digest


def prepare(task_path: str | Path, options: RunOptions) -> tuple[Task, TaskData, list[Arm], ProfileSpec]:
    """Everything that can be checked before a model loads or a row is written."""
    task = load_spec(task_path)
    data = load_data(task)
    if not data.test:
        raise HarnessError(f"{task.path}: the test split is empty")
    profile = task.spec.profile(options.profile)
    limit = options.limit if options.limit is not None else profile.test_limit
    if limit is not None:
        data = data.subsample("test", limit, options.seed)
    specs = task.spec.arms
    chosen = options.arms or profile.arms
    if chosen:
        unknown = [a for a in chosen if a not in {s.name for s in specs}]
        if unknown:
            raise HarnessError(f"--arm {unknown[0]!r}: no such arm in {task.path}; arms: {', '.join(s.name for s in specs)}")
        specs = [s for s in specs if s.name in chosen]
    return task, data, [build_arm(s) for s in specs], profile


def run_task(task_path: str | Path, options: RunOptions, progress: Any) -> RunOutcome:
    task, data, arms, profile = prepare(task_path, options)
    step = progress.add_task(f"resolve {task.spec.model.base} (converts an embedded copy once)", total=None)
    base = resolve(task.spec.model.base)
    progress.update(step, total=1, completed=1)
    checks = check_data(task, data, progress, str(base.path))
    if checks.errors:
        first = checks.errors[0]
        raise HarnessError(
            f"data checks found {len(checks.errors)} error(s), first: {first.where}: {first.check}: {first.message}; "
            f"`harness validate {task.path}` lists them all (--fix writes cleaned copies)"
        )
    run_id = new_run_id()
    workdir = options.workdir / task.spec.name / run_id
    pool = ModelPool(task, base, progress, options.device)
    ctx = ArmContext(task, data.train, data.validation, pool, progress, workdir, options.seed, profile, options.storage,
                     arm_names=[a.name for a in arms], embedder=_LazyEmbedder(task))
    for arm in arms:
        arm.preflight(ctx)
    judge = make_judge(task)

    commit, dirty = git_state(task.base_dir)
    store = Store.open(options.db)
    try:
        ctx.retriever = build_retriever(task, store, progress)
        store.start_run({
            "run_id": run_id,
            "task": task.spec.name,
            "task_version": task.spec.version,
            "task_path": str(task.path),
            "spec_json": task.spec_json,
            "spec_hash": task.spec_hash,
            "data_fingerprint": data.fingerprint,
            "profile": json.dumps({"name": options.profile or task.spec.default_profile, **profile.model_dump(),
                                   "limit": options.limit, "arms": options.arms, "seed": options.seed}),
            "git_commit": commit,
            "git_dirty": dirty,
            "harness_version": __version__,
            "packages_json": json.dumps(package_versions()),
            "base_model_id": base.id,
            "base_model_source": base.source,
            "base_model_hash": base.weights_hash,
            "device": options.device or "auto",
        })
        try:
            store.add_findings(run_id, checks.as_rows(), checks.stats)
            ctx.log_trial = lambda row: store.add_trial(run_id, row)
            outcome = _run_arms(task, data, arms, base, ctx, store, run_id, options, judge)
        except BaseException as exc:  # Ctrl-C included: the run must not look complete
            store.fail_run(run_id, f"{type(exc).__name__}: {exc}")
            raise
        return outcome
    finally:
        store.close()


def _run_arms(
    task: Task, data: TaskData, arms: list[Arm], base: ResolvedModel, ctx: ArmContext, store: Store, run_id: str,
    options: RunOptions, judge: Judge | None,
) -> RunOutcome:
    store.add_examples(run_id, [
        {"split": "test", "example_id": ex.id, "source": ex.source, "input_json": json.dumps(ex.messages), "target": ex.target}
        for ex in data.test
    ])
    items = [ex.item() for ex in data.test]
    failed = []
    for arm in arms:
        config, digest = arm_identity(task, arm, base, data)
        store.start_arm(run_id, arm.name, getattr(arm, "kind", config["arm"]["type"]), config, digest)
        began = time.perf_counter()
        try:
            predictions = arm.predict(items, ctx)
            *scored, extra_details = _score(task, data, arm.name, predictions, ctx, options, judge)
        except Exception as exc:
            detail = str(exc) if isinstance(exc, HarnessError) else traceback.format_exc(limit=6)
            store.fail_arm(run_id, arm.name, f"{type(exc).__name__}: {detail}", time.perf_counter() - began)
            failed.append(arm.name)
            continue
        store.finish_arm(run_id, arm.name, "test", *scored, time.perf_counter() - began,
                         {**getattr(arm, "details", {}), **extra_details})
        for companion in getattr(arm, "companions", []):
            store.start_arm(run_id, companion.name, companion.type, companion.config,
                            hashlib.sha256(json.dumps(companion.config, sort_keys=True).encode()).hexdigest()[:16])
            try:
                *scored, extra_details = _score(task, data, companion.name, companion.predictions, ctx, options, judge)
            except Exception as exc:
                store.fail_arm(run_id, companion.name, f"{type(exc).__name__}: {exc}", 0.0)
                failed.append(companion.name)
                continue
            store.finish_arm(run_id, companion.name, "test", *scored, 0.0, {**companion.details, **extra_details})
    report_path = options.reports_dir / f"{task.spec.name}-{run_id}.html"
    store.finish_run(run_id, str(report_path), decision_for(store, run_id, task, options.seed))
    written = write_report(store, run_id, options.reports_dir)
    assert written == report_path
    return RunOutcome(run_id, report_path, store.metrics(run_id), store.arms(run_id), failed)


def make_judge(task: Task) -> Judge | None:
    if task.spec.judge is None:
        return None
    embedder_ref = task.spec.corpus.embedding_model if task.spec.corpus else task.spec.checks.embedding_model
    return Judge(task.spec.judge, str(resolve(embedder_ref).path))


def build_retriever(task: Task, store: Store, progress: Any) -> Retriever | None:
    """The task corpus's chunk index: built once per (corpus, embedding model, chunking), then reused."""
    corpus = task.spec.corpus
    if corpus is None:
        return None
    path = task.resolve(corpus.path)
    docs = load_corpus(path)
    embedder = Embedder(corpus.embedding_model)
    fingerprint = corpus_fingerprint(docs)
    identity = [fingerprint, embedder.resolved.weights_hash, corpus.chunk_tokens, corpus.overlap_tokens]
    key = hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:16]
    if store.index_info(key) is None:
        chunks = chunk_documents(docs, embedder.model.tokenizer, corpus.chunk_tokens, corpus.overlap_tokens)
        step = progress.add_task(f"index {len(chunks)} chunks of {path.name}", total=len(chunks))
        vectors = embedder.encode([c.text for c in chunks], lambda n: progress.advance(step, n))
        store.create_index(key, {
            "corpus_path": str(path), "corpus_fingerprint": fingerprint, "embedding_model": embedder.resolved.id,
            "embedding_hash": embedder.resolved.weights_hash, "chunk_tokens": corpus.chunk_tokens,
            "overlap_tokens": corpus.overlap_tokens, "n_documents": len(docs),
        }, [{"chunk_id": c.id, "doc_id": c.doc_id, "position": c.position, "text": c.text, "n_tokens": c.n_tokens}
            for c in chunks], vectors)
    chunks = [Chunk(r["chunk_id"], r["doc_id"], r["position"], r["text"], r["n_tokens"]) for r in store.index_chunks(key)]
    info = store.index_info(key)
    retriever = Retriever(chunks, lambda vector, k: store.dense_search(key, vector, k), embedder.encode,
                          {"index": key, "chunks": info["n_chunks"], "documents": info["n_documents"],
                           "embedding_model": info["embedding_model"], "chunk_tokens": info["chunk_tokens"],
                           "overlap_tokens": info["overlap_tokens"]})
    retriever.documents = {d.id: (f"{d.title}\n{d.text}" if d.title else d.text) for d in docs}
    return retriever


def decision_for(store: Store, run_id: str, task: Task, seed: int = 0) -> dict[str, Any]:
    """The verdict from what the store holds for this run."""
    spec = task.spec
    primary = spec.decision.primary_metric
    values = store.scores(run_id, primary)
    metric_rows = {m["arm"]: m for m in store.metrics(run_id) if m["metric"] == primary}
    train_seconds: dict[str, float] = {}
    for trial in store.trials(run_id):
        train_seconds[trial["arm"]] = train_seconds.get(trial["arm"], 0.0) + (trial["train_seconds"] or 0.0)
    results = []
    for arm in store.arms(run_id):
        preds = store.predictions(run_id, arm["arm"])
        tokens = [p["prompt_tokens"] for p in preds if p["prompt_tokens"] is not None]
        results.append(ArmResult(
            arm["arm"], arm["arm_type"], arm["status"],
            metric_rows[arm["arm"]]["value"] if arm["arm"] in metric_rows else None,
            values.get(arm["arm"], {}),
            {p["example_id"]: ("" if p["error"] else p["output"]) for p in preds},
            sum(tokens) / len(tokens) if tokens else None,
            train_seconds.get(arm["arm"]),
        ))
    targets = {ex["example_id"]: ex["target"] for ex in store.examples(run_id)}
    return decide(results, targets, primary, spec.decision.min_lift, spec.decision.confidence,
                  spec.output_shape(), seed)


def _score(task: Task, data: TaskData, name: str, predictions: list, ctx: ArmContext, options: RunOptions,
           judge: Any = None) -> tuple[list, list, list, dict]:
    """(prediction rows, score rows, metric rows, details); an arm whose every generation failed is a failed arm."""
    if predictions and all(p.error for p in predictions):
        raise HarnessError(f"every generation failed, first error: {predictions[0].error}")
    by_id = {p.example_id: p for p in predictions}
    extra: dict[str, dict[str, float]] = {}
    failed: dict[str, int] = {}
    details: dict[str, Any] = {}
    chunk_texts = {cid: c.text for cid, c in ctx.retriever.chunks.items()} if ctx.retriever is not None else {}
    if chunk_texts and any("chunks" in p.details for p in predictions):
        extra.update(context_scores(data.test, by_id, chunk_texts, ctx.retriever.documents))
    if judge is not None:
        judgments = _judge(task, data, name, by_id, chunk_texts, judge, ctx)
        extra.update(judgments.values)
        failed = judgments.failed_counts()
        details["judge_failures"] = judgments.failures
    score_rows, metric_rows = score_predictions(
        task.spec, data.test, predictions, ctx.tracker(f"{name}: score", len(data.test)), options.seed, extra, failed
    )
    return [_prediction_row(p) for p in predictions], score_rows, metric_rows, details


def _judge(task: Task, data: TaskData, name: str, by_id: dict, chunk_texts: dict[str, str], judge: Any,
           ctx: ArmContext) -> Any:
    cases = []
    for ex in data.test:
        pred = by_id[ex.id]
        contexts = tuple(chunk_texts.get(c["id"], "") for c in pred.details["chunks"]) if "chunks" in pred.details else None
        cases.append(Case(ex.id, ex.input_text, pred.output if not pred.error else "", ex.target, contexts))
    total = sum(len(judged_metrics(c, task.spec.output.type)) for c in cases)
    return judge_cases(judge, cases, task.spec.output.type, ctx.tracker(f"{name}: judge", total))


def _prediction_row(p: Any) -> dict[str, Any]:
    return {
        "example_id": p.example_id,
        "prompt_json": json.dumps(p.prompt, ensure_ascii=False),
        "output": p.output,
        "error": p.error,
        "latency_s": p.latency_s,
        "prompt_tokens": p.prompt_tokens,
        "output_tokens": p.output_tokens,
        "details_json": json.dumps(p.details, ensure_ascii=False) if p.details else None,
    }


def train_only(task_path: str | Path, arm_name: str | None, out_dir: Path, profile_name: str | None,
               device: str | None, seed: int = 0) -> Any:
    """Train one adapter with a tuned arm's own hyperparameters: no sweep, no test split, no database.

    Safe under `accelerate launch` (several GPUs): the Trainer runs data-parallel and only the main
    process writes the adapter."""
    from harness.models import pick_device
    from harness.training import train_adapter

    task = load_spec(task_path)
    data = load_data(task)
    tuned = [a for a in task.spec.arms if a.type in ("lora", "qlora")]
    if not tuned:
        raise HarnessError(f"{task.path}: no lora or qlora arm to train")
    arm = next((a for a in tuned if a.name == arm_name), None) if arm_name else tuned[0]
    if arm is None:
        raise HarnessError(f"--arm {arm_name!r}: not a tuned arm of {task.path}; tuned arms: {', '.join(a.name for a in tuned)}")
    profile = task.spec.profile(profile_name)
    hp = profile.apply(arm.hyperparameters())
    limit = min((v for v in (arm.train_limit, profile.train_limit) if v is not None), default=None)
    train = seeded_subset(data.train, limit, seed)  # the examples a sweep with this seed trains on
    _, _, result = train_adapter(
        resolve(task.spec.model.base), train, task.spec.prompt, hp, out_dir, device=device or pick_device(),
        quantize=arm.type == "qlora", max_length=arm.max_length, bias=arm.bias, checkpointing=arm.gradient_checkpointing,
        seed=seed, metadata={"task": task.spec.name, "arm": arm.name, "data_fingerprint": data.fingerprint},
    )
    return result


def check_data(task: Task, data: TaskData, progress: Any, model_source: str | None = None) -> CheckReport:
    """The data checks, with the embedding model for near-duplicates and the base tokenizer for lengths."""
    embed = None
    if task.spec.checks.near_duplicates:
        embedder = Embedder(task.spec.checks.embedding_model)
        total = sum(1 for _ in data.all())
        step = progress.add_task("embed inputs for near-duplicate checks", total=total)
        embed = lambda texts: embedder.encode(texts, lambda n: progress.advance(step, n))  # noqa: E731
    tokenizer, window = tokenizer_and_window(model_source or task.spec.model.base)
    return run_checks(task, data, embed, tokenizer, window)


def validate_task(task_path: str | Path, progress: Any, fix: bool = False) -> tuple[Task, TaskData, CheckReport, list[Path]]:
    """Spec and data checks; only the embedding model and the base model's tokenizer are loaded."""
    task = load_spec(task_path)
    data = load_data(task)
    report = check_data(task, data, progress)
    written = write_fixed(task, data, report) if fix else []
    return task, data, report, written
