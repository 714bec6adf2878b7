"""The metrics a task file names: built-in names, or modules of Hugging Face `evaluate` (`evaluate:<name or path>`
or a mapping), and how a stored run's evaluate metrics become known again by name."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag

from harness.metrics import hf_evaluate
from harness.metrics.builtin import BUILT_IN, METRICS, register_metric
from harness.spec.base import NAME, NoCredentials, Strict


class EvaluateMetricSpec(Strict):
    """A metric module of Hugging Face `evaluate`: `evaluate:<name or path>` in `metrics:`, or this mapping."""

    evaluate: NoCredentials = Field(min_length=1, description="hub name (needs the Hub) or a local path, relative to the task "
                                                    "file: a folder holding <folder>.py, or a .py file")
    name: str | None = Field(None, pattern=NAME, description="the metric's name in the task (decision.primary_metric, "
                                                             "the report); default: the module's name")
    kind: Literal["per_example", "aggregate"] | None = Field(
        None, description="per_example: the module scores each item alone and the arm value is the mean; aggregate: "
                          "the module scores all items at once (corpus BLEU) and the bootstrap recomputes it per "
                          "resample; default: aggregate for known corpus-level metrics, else per_example")
    higher_is_better: bool | None = Field(None, description="the direction; looked up for well-known metrics")
    key: str | None = Field(None, description="the field of compute()'s result that is the score (default: the only "
                                              "numeric field)")
    args: dict[str, Any] = Field(default_factory=dict, description="keyword arguments to compute()")
    config_name: str | None = Field(None, description="evaluate.load's config_name")
    scale: float = Field(1.0, gt=0, description="multiplies the score, e.g. 0.01 puts a 0-100 score on 0-1")
    resamples: int = Field(1000, ge=200, le=4000, description="bootstrap resamples of an aggregate metric (each one "
                                                             "reruns the module on every arm compared)")

    @property
    def metric_name(self) -> str:
        return self.name or hf_evaluate.base_name(self.evaluate)

    def declared(self, base_dir: Path | None) -> tuple[hf_evaluate.Declared | None, list[str]]:
        """(the settled declaration, problems) for entry `metrics[i]`; the script is looked for under base_dir."""
        problems = []
        name, source = self.metric_name, self.evaluate
        if self.name is None and not re.fullmatch(NAME, name):
            problems.append(f"the name {name!r} taken from {source!r} is not a metric name (lower case letters, digits, "
                            f"_ and -); give one with name:")
        if name in BUILT_IN:
            problems.append(f"{name!r} is a built-in metric; give this evaluate metric another name with name:")
        up = hf_evaluate.direction(source, self.higher_is_better)
        if up is None:
            problems.append(f"the direction of {source!r} is not known; declare higher_is_better: true or false")
        script = None
        path = Path(source).expanduser()
        path = path if path.is_absolute() else (base_dir or Path.cwd()) / path
        script = hf_evaluate.script_of(path)
        if script is None and hf_evaluate.is_local(source):
            problems.append(f"no metric script at {path} (a .py file, or a folder holding {path.name}/{path.name}.py)")
        if problems:
            return None, problems
        kind = self.kind or hf_evaluate.default_kind(source)
        return hf_evaluate.Declared(name, source, script, kind, bool(up), self.key, dict(self.args),
                                         self.config_name, self.scale, self.resamples), []


def _metric_tag(value: Any) -> str:
    return "EvaluateMetricSpec" if isinstance(value, (dict, EvaluateMetricSpec)) else "str"


MetricEntry = Annotated[Annotated[str, Tag("str")] | Annotated[EvaluateMetricSpec, Tag("EvaluateMetricSpec")],
                        Discriminator(_metric_tag)]


def declare_stored(entries: list[Any]) -> None:
    """Make a stored run's evaluate metrics known (name, kind, direction) to the report, history and compare,
    when this process has not validated its task file; an already registered module is kept."""
    for entry in entries:
        if isinstance(entry, str) or not isinstance(entry, dict):
            continue
        try:
            spec = EvaluateMetricSpec.model_validate({k: v for k, v in entry.items() if v is not None})
        except ValueError:
            continue
        declared, problems = spec.declared(None)
        if declared is None:
            up = hf_evaluate.direction(spec.evaluate, spec.higher_is_better)
            declared = hf_evaluate.Declared(spec.metric_name, spec.evaluate, None,
                                                 spec.kind or hf_evaluate.default_kind(spec.evaluate),
                                                 True if up is None else up, spec.key, dict(spec.args),
                                                 spec.config_name, spec.scale, spec.resamples)
        known = METRICS.get(declared.name)
        if known is not None and known.source == "evaluate" and known.description == hf_evaluate.build(declared).description:
            continue
        if declared.name not in BUILT_IN:
            register_metric(hf_evaluate.build(declared))
