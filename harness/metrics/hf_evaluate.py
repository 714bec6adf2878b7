"""Metrics from Hugging Face `evaluate`, named in a task file's `metrics:` list.

    metrics: [exact_match, evaluate:sacrebleu, {evaluate: ./metrics/char_match, higher_is_better: true}]

A metric that can score one (prediction, reference) pair at a time is per-example, like every built-in
metric: its arm value is the mean and the paired statistics compare arms item by item. A corpus-level one
(BLEU, chrF, WER: the corpus score is not the mean of sentence scores) is an aggregate metric: its arm value
is the module's score over all pairs and the bootstrap recomputes it on every resample, as for macro-F1.

A hub name (`evaluate:sacrebleu`) needs the Hugging Face Hub the first time; a local module (a folder
holding `<folder>.py`, or a `.py` file) loads offline. The module is imported at first use, not when the
task file is validated. This module sits beside `metrics` (a leaf): it builds `Metric` objects, nothing more.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import HarnessError
from harness.hub import hub_offline
from harness.metrics.builtin import Metric, OutputShape

# Directions of well-known evaluate metrics; any other metric must declare `higher_is_better`.
HIGHER = frozenset({"accuracy", "bertscore", "bleu", "chrf", "exact_match", "f1", "google_bleu", "meteor",
                    "precision", "recall", "rouge", "sacrebleu", "squad", "character", "matthews_correlation"})
LOWER = frozenset({"cer", "mae", "mse", "perplexity", "ter", "wer"})
# Corpus-level scores (not the mean of sentence scores): aggregate unless the task says otherwise.
CORPUS_LEVEL = frozenset({"bleu", "chrf", "google_bleu", "sacrebleu", "ter", "wer", "cer"})
# The field of compute()'s result that is the score, where the module returns several numbers.
DEFAULT_KEY = {"sacrebleu": "score", "chrf": "score", "ter": "score", "bleu": "bleu", "google_bleu": "google_bleu",
               "meteor": "meteor", "exact_match": "exact_match", "accuracy": "accuracy", "f1": "f1"}


def base_name(source: str) -> str:
    """`sacrebleu`, `org/sacrebleu`, `./metrics/sacrebleu` and `./metrics/sacrebleu.py` are all `sacrebleu`."""
    last = [p for p in source.replace("\\", "/").split("/") if p][-1] if source.strip("/\\") else source
    return last.removesuffix(".py")


def is_local(source: str) -> bool:
    """Written as a path rather than a hub name (`sacrebleu`, `org/metric`)."""
    return source.endswith(".py") or source.startswith((".", "/", "~")) or source.count("/") > 1 or "\\" in source


def script_of(path: Path) -> Path | None:
    """The metric script evaluate loads for a local path: the .py file itself, or `<folder>/<folder>.py`."""
    if path.suffix == ".py":
        return path if path.is_file() else None
    script = path / f"{path.name}.py"
    return script if script.is_file() else None


def direction(source: str, declared: bool | None) -> bool | None:
    if declared is not None:
        return declared
    name = base_name(source).lower()
    return True if name in HIGHER else False if name in LOWER else None


def default_kind(source: str) -> str:
    return "aggregate" if base_name(source).lower() in CORPUS_LEVEL else "per_example"


@dataclass(frozen=True)
class Declared:
    """An `evaluate` metric as the task file declares it, with its direction and kind settled."""

    name: str
    source: str  # hub name, or a path relative to the task file
    script: Path | None  # the local metric script, None for a hub name
    kind: str
    higher_is_better: bool
    key: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    config_name: str | None = None
    scale: float = 1.0
    resamples: int = 1000

    @property
    def label(self) -> str:
        return f"evaluate:{self.source}"

    def fingerprint(self) -> str:
        """What a cached arm result depends on: the settings and the local script's text."""
        text = self.script.read_bytes() if self.script is not None and self.script.is_file() else b""
        settings = repr((self.source, self.kind, self.key, sorted(self.args.items()), self.config_name, self.scale, self.resamples))
        return hashlib.sha256(settings.encode() + text).hexdigest()[:16]


# ---------------------------------------------------------------- loading


@contextlib.contextmanager
def _offline(on: bool) -> Iterator[None]:
    """evaluate reads its offline switch at import; flip it so that an unreachable hub fails at once, from
    evaluate's own cache, instead of after its 10 to 100 second timeouts."""
    import evaluate.config

    before = evaluate.config.HF_EVALUATE_OFFLINE
    evaluate.config.HF_EVALUATE_OFFLINE = before or on
    try:
        yield
    finally:
        evaluate.config.HF_EVALUATE_OFFLINE = before


_LOADED: dict[tuple, Any] = {}


def load_module(d: Declared) -> Any:
    """The evaluate module instance (cached per process); a HarnessError says why it could not be loaded."""
    cache = (d.source, str(d.script), d.config_name, d.fingerprint())
    if cache in _LOADED:
        return _LOADED[cache]
    where = f"metrics: {d.label}"
    if d.script is None and d.source and is_local(d.source):
        raise HarnessError(f"{where}: no metric script at {d.source} (a .py file, or a folder holding <folder>.py)")
    offline = hub_offline()
    try:
        import evaluate
    except ImportError:
        raise HarnessError(f"{where}: the `evaluate` package is not installed; pip install evaluate") from None
    try:
        with _offline(offline):
            module = evaluate.load(str(d.script) if d.script else d.source, config_name=d.config_name,
                                   keep_in_memory=True)
    except HarnessError:
        raise
    except Exception as exc:  # evaluate raises FileNotFoundError, ConnectionError, ImportError, ...
        first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        if d.script is None:
            state = "the Hugging Face Hub is unreachable or offline" if offline else f"evaluate.load failed: {first}"
            raise HarnessError(f"{where}: cannot load evaluate metric {d.source!r} ({state}); a hub name needs the Hub, "
                               f"so pass a local metric module folder instead, e.g. {{evaluate: ./metrics/{base_name(d.source)}"
                               f"}} holding {base_name(d.source)}.py") from None
        raise HarnessError(f"{where}: cannot load the metric module {d.script}: {type(exc).__name__}: {first}") from None
    _LOADED[cache] = module
    return module


# ---------------------------------------------------------------- scoring


class Scorer:
    """Calls a module's `_compute` on lists, as `compute` does after its Arrow round trip, but without it: one
    `compute` costs milliseconds of file and schema work, and the bootstrap calls it thousands of times. The
    first call goes through `compute` itself, so its input checks run once and the fast path must agree."""

    def __init__(self, declared: Declared):
        self.d = declared
        self._module: Any = None
        self._nested = False
        self._checked = False

    @property
    def module(self) -> Any:
        if self._module is None:
            self._module = load_module(self.d)
            self._nested = _references_nested(self._module)
        return self._module

    def _refs(self, targets: Sequence[str]) -> list:
        return [[t] for t in targets] if self._nested else list(targets)

    def value(self, preds: Sequence[str], targets: Sequence[str]) -> float:
        """The module's score of these pairs (NaN for no pairs)."""
        if len(preds) == 0:
            return float("nan")
        module = self.module
        preds, refs = [str(p) for p in preds], self._refs([str(t) for t in targets])
        if not self._checked:
            try:
                result = module.compute(predictions=preds, references=refs, **self.d.args)
            except Exception as exc:
                raise HarnessError(f"metrics: {self.d.label}: compute failed: {type(exc).__name__}: "
                                   f"{str(exc).splitlines()[0][:200] if str(exc) else ''}") from None
            self._checked = True
            return self._pick(result)
        from datasets.utils.py_utils import temp_seed

        with temp_seed(module.seed):
            return self._pick(module._compute(predictions=preds, references=refs, **self.d.args))

    def _pick(self, result: Any) -> float:
        """The score field of a compute() result: the declared key, the known one, or the only number."""
        if isinstance(result, (int, float, np.number)) and not isinstance(result, bool):
            return float(result) * self.d.scale
        if not isinstance(result, dict):
            raise HarnessError(f"metrics: {self.d.label}: compute returned {type(result).__name__}, expected a dict "
                               f"of scores or a number")
        key = self.d.key or DEFAULT_KEY.get(base_name(self.d.source).lower())
        numeric = [k for k, v in result.items() if isinstance(v, (int, float, np.number)) and not isinstance(v, bool)]
        if key is None and len(numeric) == 1:
            key = numeric[0]
        if key is None or key not in result:
            got = ", ".join(numeric) or "no numeric field"
            raise HarnessError(f"metrics: {self.d.label}: name the result field that is the score with `key:` "
                               f"(compute returned {got})" if key is None else
                               f"metrics: {self.d.label}: key {key!r} is not in compute's result ({got})")
        value = result[key]
        try:
            return float(np.asarray(value, dtype=float).mean()) * self.d.scale
        except (TypeError, ValueError):
            raise HarnessError(f"metrics: {self.d.label}: result field {key!r} is not a number "
                               f"(got {type(value).__name__})") from None


def _references_nested(module: Any) -> bool:
    """True when the module wants a list of references per prediction (sacrebleu, bleu, chrf): the harness has
    one reference per item, given as a one-element list. A module with several feature layouts takes flat
    strings where one of its layouts does."""
    from datasets import Value

    layouts = module.info.features
    layouts = layouts if isinstance(layouts, list) else [layouts]
    for features in layouts:
        if isinstance(features.get("references"), Value):
            return False
    return True


def build(d: Declared) -> Metric:
    """The `Metric` of a declared evaluate metric: per-example scores are the module on each pair alone; an
    aggregate metric's arm value is the module on all pairs (the per-example values are then sentence-level
    scores, NaN where a single pair cannot be scored, shown beside answers but not averaged)."""
    scorer = Scorer(d)

    def score(pred: str, target: str, _shape: OutputShape) -> dict[str, float]:
        _ = scorer.module  # a module that cannot load fails the arm, it does not score NaN
        try:
            value = scorer.value([pred], [target])
        except HarnessError:
            if d.kind == "per_example":
                raise
            value = math.nan
        return {d.name: value}

    description = f"{d.label} ({'corpus-level, recomputed per resample' if d.kind == 'aggregate' else 'per example'})"
    if d.kind == "per_example":
        return Metric(d.name, ("json", "label", "text"), description, score, higher_is_better=d.higher_is_better,
                      source="evaluate", identity=d.fingerprint())

    def aggregate(preds: Sequence[str], targets: Sequence[str], _values: np.ndarray, _shape: OutputShape) -> float:
        return scorer.value(list(preds), list(targets))

    return Metric(d.name, ("json", "label", "text"), description, score, aggregate,
                  higher_is_better=d.higher_is_better, source="evaluate", identity=d.fingerprint(),
                  max_resamples=d.resamples)
