"""Optuna study over a tuned arm's hyperparameters: TPE sampler (seeded), median or Wilcoxon pruning,
storage in a local SQLite file by default or any Optuna storage URL (several machines on one sweep).

    harness run tasks/contracts.yaml --arm lora --storage postgresql://user@host/optuna

A study is named by everything that determines its trials (base weights, data, arm settings), so
re-running the same command resumes it: finished trials are not retrained, and a trial whose process
was killed is retried. Any number of workers (processes, machines) can run the same command against one
storage: each trial is claimed by one worker, the budget counts every worker's trials, and a worker that
stops beating (killed, machine lost) has its trial failed and its parameters queued again.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness import environment
from harness.errors import HarnessError
from harness.processes import process_alive, process_identity
from harness.redact import public_url
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


# ------------------------------------------------------------ storage URLs

def _with_driver(url: str) -> str:
    """`postgresql://` names psycopg 3, the driver harness installs (SQLAlchemy 2.0 would pick psycopg2)."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme):]
    return url


def _scrub(message: str, url: str) -> str:
    password = urlsplit(url).password
    return message.replace(password, "***") if password else message


# ------------------------------------------------------------ one worker at a time where it matters

class SweepLock:
    """A lock shared by every worker of a storage, held for milliseconds: while creating tables, while
    checking the budget and claiming the next trial. PostgreSQL: an advisory lock (released by the server
    if the worker dies); SQLite: a lock file beside the database; other storages: none."""

    KEY = int.from_bytes(hashlib.sha256(b"harness-sweep").digest()[:8], "big", signed=True)

    def __init__(self, url: str):
        self._file: Any = None
        self._conn: Any = None
        self._held = False
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            path = Path(url[len("sqlite:///"):])
            if path.parent.is_dir():
                self._file = open(f"{path}.lock", "a")
        elif url.startswith("postgresql"):
            import sqlalchemy

            engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
            self._conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def acquire(self) -> None:
        if self._held:
            return
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_EX)
        elif self._conn is not None:
            import sqlalchemy

            self._conn.execute(sqlalchemy.text("SELECT pg_advisory_lock(:k)"), {"k": self.KEY})
        self._held = True

    def release(self) -> None:
        if not self._held:
            return
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
        elif self._conn is not None:
            import sqlalchemy

            self._conn.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:k)"), {"k": self.KEY})
        self._held = False

    def close(self) -> None:
        self.release()
        if self._file is not None:
            self._file.close()
        if self._conn is not None:
            self._conn.close()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()


# ------------------------------------------------------------ the study

def _sampler(seed: int) -> Any:
    import optuna

    class PerTrialSeedTPE(optuna.samplers.TPESampler):
        """Random draws depend on (seed, trial number), not on what this process drew before, so two
        workers with the same seed draw different points and one worker's sweep stays reproducible."""

        def before_trial(self, study: Any, trial: Any) -> None:
            trial_seed = (seed * 1_000_003 + trial.number) % 2**32
            self._rng.rng.seed(trial_seed)
            self._random_sampler._rng.rng.seed(trial_seed)
            super().before_trial(study, trial)

    return PerTrialSeedTPE(seed=seed)


def retry(study: Any, trial: Any) -> None:
    """Queue a killed trial's parameters again (also the heartbeat's callback for a dead worker's trial).
    `retries` names the failed trial, so it does not count against the budget; `retry_of` the trial whose seed the
    retry keeps, so it trains the adapter the killed one would have. A trial killed before it drew its parameters
    has only those it was queued with (an `enqueue` point): those are queued."""
    queued = study._storage.get_trial_system_attrs(trial._trial_id).get("fixed_params", {})
    study.enqueue_trial({**queued, **trial.params}, skip_if_exists=False,
                        user_attrs={"retry_of": seed_number(trial), "retries": trial.number})


def seed_number(trial: Any) -> int:
    """The trial number a trial's seed derives from: its own, or that of the killed trial it retries."""
    return int(trial.user_attrs.get("retry_of", trial.number))


def open_study(name: str, storage: str, sweep: SweepSpec, maximize: bool = True) -> Any:
    """The study, created or resumed; its direction is the primary metric's."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = _with_driver(storage)
    interval = environment.heartbeat_s()
    try:
        lock = SweepLock(url)
        try:
            with lock.held(), _experimental_ok():  # concurrent table creation fails in PostgreSQL
                rdb = optuna.storages.RDBStorage(url, heartbeat_interval=interval, grace_period=3 * interval,
                                                 heartbeat_stale_trial_callback=retry,
                                                 engine_kwargs={"pool_pre_ping": True} if "sqlite" not in url else None)
                return optuna.create_study(
                    study_name=name,
                    storage=rdb,
                    load_if_exists=True,
                    direction="maximize" if maximize else "minimize",
                    sampler=_sampler(sweep.seed),
                    pruner=make_pruner(sweep),
                )
        finally:
            lock.close()
    except ImportError as exc:
        raise HarnessError(f"--storage {public_url(storage)}: no database driver for it ({exc})") from None
    except Exception as exc:
        if type(exc).__module__.split(".")[0] not in ("sqlalchemy", "psycopg", "sqlite3"):
            raise
        first = _scrub(str(exc), storage).strip().splitlines()[0]
        raise HarnessError(f"--storage {public_url(storage)}: cannot open the Optuna storage: {first}") from None


def _storage_url(study: Any) -> str:
    return getattr(study._storage, "_backend", study._storage).url


def retried(trials: list[Any]) -> set[int]:
    """Numbers of trials whose worker died and whose parameters were queued again."""
    return {t.user_attrs["retries"] for t in trials if "retries" in t.user_attrs}


def was_killed(trial: Any, retried_numbers: set[int]) -> bool:
    return bool(trial.user_attrs.get("killed")) or trial.number in retried_numbers


def reclaim_killed_trials(study: Any) -> int:
    """Trials left RUNNING by a dead process on this host are marked failed and their parameters queued again.

    Only for SQLite, a file that only this host's processes share; on a server storage host names and pids
    are no identity (containers repeat both), and the heartbeat decides."""
    from optuna.trial import TrialState

    if not _storage_url(study).startswith("sqlite"):
        return 0
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


@contextlib.contextmanager
def _experimental_ok() -> Iterator[None]:
    """Optuna's heartbeat API warns that it is experimental at every use: the harness relies on it knowingly."""
    import warnings

    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        yield


def _fail_stale_trials(study: Any) -> None:
    import optuna

    with _experimental_ok():
        optuna.storages.fail_stale_trials(study)


def _fail_unmarked_trials(study: Any) -> None:
    """A worker that died between claiming a trial and marking it (the objective's first step) left a RUNNING trial
    with no owner and no heartbeat, which Optuna's heartbeat check skips: the other workers would wait for it for
    ever. Past the heartbeat's grace period it is failed and queued again, like any dead worker's trial."""
    from optuna.trial import TrialState

    grace = timedelta(seconds=3 * environment.heartbeat_s())
    now = datetime.now()  # Optuna stamps trials with the local naive time
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if "owner" not in trial.user_attrs and trial.datetime_start and now - trial.datetime_start > grace:
            study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
            retry(study, trial)


def budget(study: Any) -> tuple[int, int]:
    """(finished trials that count toward the budget, trials running now). A trial counts when complete,
    pruned, or failed for a reason other than its worker dying."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    again = retried(trials)
    done = running = 0
    for trial in trials:
        if trial.state in (TrialState.COMPLETE, TrialState.PRUNED):
            done += 1
        elif trial.state == TrialState.FAIL and not was_killed(trial, again):
            done += 1
        elif trial.state == TrialState.RUNNING:
            running += 1
    return done, running


def run_sweep(study: Any, objective: Objective, n_trials: int, enqueue: list[dict[str, Any]]) -> None:
    """Run trials until the study holds n_trials finished ones, counting every worker's. Trial errors are
    recorded, not raised. Returns once no trial is left to run or wait for, so every worker ends on the
    same, complete study (and picks the same best trial)."""
    lock = SweepLock(_storage_url(study))
    try:
        with lock.held():
            if not study.trials:
                for point in enqueue:
                    study.enqueue_trial({k: _encode(v) for k, v in point.items()})

        def claimed(trial: Any) -> float:
            lock.release()  # the trial is RUNNING in the storage: the next worker's count includes it
            return objective(trial)

        while True:
            lock.acquire()
            reclaim_killed_trials(study)
            _fail_stale_trials(study)
            _fail_unmarked_trials(study)
            done, running = budget(study)
            if done >= n_trials:
                break
            if done + running >= n_trials:  # the rest is running elsewhere: wait for it, or for it to die
                lock.release()
                time.sleep(environment.heartbeat_s())
                continue
            study.optimize(claimed, n_trials=1, catch=(Exception,), gc_after_trial=True)
            lock.release()  # when the trial failed before reaching the objective
    finally:
        lock.close()


def new_owner() -> str:
    """One sweep run among every worker of every machine: host, pid and a random token (pids repeat, and
    one process may run the same sweep twice)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def mark_owner(trial: Any, owner: str) -> None:
    trial.set_user_attr("pid", os.getpid())
    trial.set_user_attr("host", socket.gethostname())
    trial.set_user_attr("owner", owner)
    trial.set_user_attr("process", process_identity())
