"""Optuna study over a tuned arm's hyperparameters: TPE sampler (seeded), median or Wilcoxon pruning,
storage in a local SQLite file by default or any Optuna storage URL (several machines on one sweep).

    harness run tasks/contracts.yaml --arm lora --storage postgresql://user@host/optuna

A study is named by everything that determines its trials (base weights, data, arm settings), so
re-running the same command resumes it: finished trials are not retrained, and a trial whose process
was killed is retried.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.processes import process_alive, process_identity
from harness.spec import FloatRange, SweepSpec, TunedArmSpec

Objective = Callable[[Any], float]


def _encode(value: Any) -> Any:
    """Optuna's categorical choices must be scalars: module lists travel as comma-joined strings."""
    return ",".join(value) if isinstance(value, list) else value


def _decode(name: str, value: Any) -> Any:
    if name == "target_modules" and isinstance(value, str) and value != "all-linear":
        return value.split(",")
    return value


def suggest(trial: Any, spec: TunedArmSpec) -> dict[str, Any]:
    """The arm's hyperparameters with the searched ones drawn by the trial."""
    hp = spec.hyperparameters()
    space = spec.sweep.space if spec.sweep else {}
    for name, dim in space.items():
        if isinstance(dim, FloatRange):
            if isinstance(hp[name], int) and not isinstance(hp[name], bool):
                hp[name] = trial.suggest_int(name, int(dim.low), int(dim.high), log=dim.log, step=int(dim.step or 1))
            else:
                hp[name] = trial.suggest_float(name, dim.low, dim.high, log=dim.log, step=dim.step)
        else:
            hp[name] = _decode(name, trial.suggest_categorical(name, [_encode(c) for c in dim]))
    return hp


def make_pruner(sweep: SweepSpec) -> Any:
    import optuna

    if sweep.pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=sweep.startup_trials, n_warmup_steps=0)
    if sweep.pruner == "wilcoxon":
        return optuna.pruners.WilcoxonPruner(p_threshold=0.1)
    return optuna.pruners.NopPruner()


def default_storage(workdir: Path) -> str:
    workdir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(workdir / 'optuna.db').resolve()}"


def open_study(name: str, storage: str, sweep: SweepSpec, maximize: bool = True) -> Any:
    """The study, created or resumed; its direction is the primary metric's."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(
        study_name=name,
        storage=storage,
        load_if_exists=True,
        direction="maximize" if maximize else "minimize",
        sampler=optuna.samplers.TPESampler(seed=sweep.seed),
        pruner=make_pruner(sweep),
    )


def reclaim_killed_trials(study: Any) -> int:
    """Trials left RUNNING by a dead process on this host are marked failed and their parameters queued again."""
    from optuna.trial import TrialState

    host = socket.gethostname()
    reclaimed = 0
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        attrs = trial.user_attrs
        if attrs.get("host") == host and attrs.get("pid") and not process_alive(int(attrs["pid"]), attrs.get("process")):
            study._storage.set_trial_user_attr(trial._trial_id, "killed", True)
            study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
            retry(study, trial)
            reclaimed += 1
    return reclaimed


def retry(study: Any, trial: Any) -> None:
    """Queue a killed trial's parameters again, with its seed: the retry trains the adapter it would have. A trial
    killed before it drew its parameters has only those it was queued with (an `enqueue` point): queue them."""
    queued = study._storage.get_trial_system_attrs(trial._trial_id).get("fixed_params", {})
    study.enqueue_trial({**queued, **trial.params}, user_attrs={"retry_of": seed_number(trial)},
                        skip_if_exists=False)


def seed_number(trial: Any) -> int:
    """The trial number a trial's seed derives from: its own, or that of the killed trial it retries."""
    return int(trial.user_attrs.get("retry_of", trial.number))


def trials_done(study: Any) -> int:
    """Trials that count toward the budget: complete, pruned, or failed for a reason other than being killed."""
    from optuna.trial import TrialState

    done = 0
    for trial in study.get_trials(deepcopy=False):
        if trial.state in (TrialState.COMPLETE, TrialState.PRUNED):
            done += 1
        elif trial.state == TrialState.FAIL and not trial.user_attrs.get("killed"):
            done += 1
    return done


def run_sweep(study: Any, objective: Objective, n_trials: int, enqueue: list[dict[str, Any]]) -> None:
    """Run trials until the study holds n_trials finished ones. Trial errors are recorded, not raised."""
    if not study.trials:
        for point in enqueue:
            study.enqueue_trial({k: _encode(v) for k, v in point.items()})
    reclaim_killed_trials(study)
    remaining = n_trials - trials_done(study)
    if remaining > 0:
        study.optimize(objective, n_trials=remaining, catch=(Exception,), gc_after_trial=True)


def mark_owner(trial: Any) -> None:
    trial.set_user_attr("pid", os.getpid())
    trial.set_user_attr("host", socket.gethostname())
    trial.set_user_attr("process", process_identity())
