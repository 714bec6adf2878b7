"""The points of a tuned arm's learning curve: which training examples each uses and how long it trains.

    harness run tasks/support_tickets.yaml --curve

Subsets are nested and seeded: seed k orders the arm's training examples once (stratified by label on label tasks,
so that every prefix keeps the label mix to within one example), and the point of size n takes the first n. Adding
a size later leaves every other point's examples, and so its stored result, unchanged. The full size with seed 0
is the arm itself (its sweep's best adapter): it is never trained again.

Each point trains with the best trial's hyperparameters. The knob that scales with size is the number of
optimizer steps. With `steps: fixed` (the default) every point takes the full size's steps (epochs x steps per
epoch of the full set), capped at `max_epochs` passes over its subset: the learning rate, its warm-up and decay
were tuned for that many steps, so holding them fixed leaves data as the only thing that varies along the curve.
Holding epochs fixed instead (`steps: proportional`) gives a point with 1/8 of the data 1/8 of the updates, and
the curve then measures under-training as much as data (bench/curve_steps.py measures both).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.data.examples import Example
from harness.spec import CurveSpec, ProfileSpec

SEED_STRIDE = 1_000_003  # seed k's order and training seed, away from the sweep's trial seeds


def curve_settings(own: CurveSpec | None, profile: ProfileSpec) -> CurveSpec | None:
    """The arm's curve for this run: a profile's `curve: false` turns it off, `true` or settings turn it on (the
    arm's own settings win), and an arm's own `curve:` runs on every profile that does not say false."""
    asked = profile.curve
    if asked is False:
        return None
    if own is not None:
        return own
    if asked is True:
        return CurveSpec()
    return asked if isinstance(asked, CurveSpec) else None


def nested_order(examples: Sequence[Example], seed: int, labels: Sequence[str] | None = None) -> list[Example]:
    """The examples in a seeded order whose every prefix is a subset for the curve; with `labels`, each prefix
    holds every label as near its share of the whole as whole examples allow (largest deficit first)."""
    rng = np.random.default_rng(seed)
    order = [examples[i] for i in rng.permutation(len(examples))]
    if not labels:
        return order
    groups: dict[str, list[Example]] = {}
    for ex in order:
        groups.setdefault(ex.target.strip(), []).append(ex)
    names = sorted(groups)
    total = len(order)
    taken = dict.fromkeys(names, 0)
    out = []
    for position in range(1, total + 1):
        name = max((n for n in names if taken[n] < len(groups[n])),
                   key=lambda n: (len(groups[n]) * position / total - taken[n], len(groups[n]), n))
        out.append(groups[name][taken[name]])
        taken[name] += 1
    return out


def steps_for(size: int, full_size: int, epochs: int, batch: int, settings: CurveSpec) -> int:
    """Optimizer steps for a point of `size` examples (batch = examples per optimizer step)."""
    per_epoch = math.ceil(size / batch)
    if settings.steps == "proportional":
        return epochs * per_epoch
    return min(epochs * math.ceil(full_size / batch), settings.max_epochs * per_epoch)


@dataclass(frozen=True)
class PointPlan:
    """One point: its size, its seed (which order and training seed), its examples and its training."""

    arm: str
    size: int
    seed: int
    train_ids: tuple[str, ...]
    steps: int
    train_seed: int
    own: bool  # the arm's own result (full size, seed 0): nothing to train

    @property
    def name(self) -> str:
        """How the point is stored: `lora@48`, and `lora@48-seed1` for a second seed."""
        return f"{self.arm}@{self.size}" + (f"-seed{self.seed}" if self.seed else "")

    def identity(self) -> dict[str, Any]:
        """What determines its adapter besides the arm's settings, base and data."""
        ids = hashlib.sha256(json.dumps(self.train_ids).encode()).hexdigest()[:16]
        return {"curve_of": self.arm, "size": self.size, "seed": self.seed, "train_ids": ids, "steps": self.steps,
                "train_seed": self.train_seed}


def plan_points(arm: str, settings: CurveSpec, train: Sequence[Example], hp: dict[str, Any], train_seed: int,
                run_seed: int, labels: Sequence[str] | None) -> list[PointPlan]:
    """Every point of the curve, smallest first, seeds in order; the arm's own result is the full size's seed 0."""
    full = len(train)
    batch = int(hp["batch_size"]) * int(hp["grad_accum"])
    points = []
    for seed in range(settings.seeds):
        order = nested_order(train, run_seed + SEED_STRIDE * seed, labels)
        for size in settings.wanted(full):
            own = size == full and seed == 0
            chosen = train if size == full else order[:size]
            points.append(PointPlan(arm, size, seed, tuple(ex.id for ex in chosen),
                                    steps_for(size, full, int(hp["epochs"]), batch, settings),
                                    train_seed + SEED_STRIDE * seed, own))
    return sorted(points, key=lambda p: (p.size, p.seed))


@dataclass(frozen=True)
class LearningCurve:
    """A tuned arm's curve for this run, as the pipeline sees it: the points, what each one's identity adds to the
    arm's, how to train one (the model, and details for the store) and how a trained one answers."""

    arm: str
    settings: CurveSpec
    points: list[PointPlan]
    available: int  # the train split's size (the arm may train on fewer: a profile's train_limit)
    describe: Callable[[PointPlan], dict[str, Any]]
    train: Callable[[PointPlan], tuple[Any, dict[str, Any]]]
    answer: Callable[[PointPlan, Any, Sequence[Any]], Any]  # (point, trained model, items) -> ArmOutput
