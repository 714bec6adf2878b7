"""Named lm-evaluation-harness tasks (hellaswag, arc_easy, piqa, or a local task folder's) on the harness's own
model and adapter, as per-item rows shaped like the suite's, so base and tuned pair item by item.

    from harness.regression.lm_eval_tasks import run_lm_eval
    rows = run_lm_eval(generators.get(adapter=adapter), ["arc_easy", "piqa"], limit=500)   # with a hub
    rows = run_lm_eval(generator, ["harness_local_mc"], include_path="tests/fixtures/lm_eval")   # offline

lm-eval builds each task's prompts and (context, continuation) requests and scores each document; the
requests are answered by the generator's batched `loglikelihood` (harness.backends.loglik), the scorer the
suite's own parts use, so a base model and its adapter are scored the same way. Only log-likelihood tasks
run (output_type multiple_choice or loglikelihood): the harness generates for chat conversations, not for
lm-eval's raw-text generation requests. tests/test_lm_eval.py runs a local JSON task on a tiny model.
"""

from __future__ import annotations

import difflib
import functools
from pathlib import Path
from typing import Any

from harness.backends import Generator
from harness.errors import HarnessError

PART = "lm_eval"
METRICS = ("acc", "acc_norm")  # per-document 0/1 values; lm-eval's other per-sample keys are not kept
SCORED_TYPES = ("multiple_choice", "loglikelihood")
# lm-eval's own requirements pull pytablewriter, whose typepy pins python-dateutil<3: these are what its
# evaluator imports for log-likelihood tasks (pyproject.toml's `lm-eval` extra, the Makefile's install step).
INSTALL = ("pip install --no-deps lm-eval==0.4.13 sacrebleu==2.6.0 portalocker==4.4.2 tabulate==0.10.0 "
           "colorama==0.4.6 lxml==6.1.3")


def run_lm_eval(generator: Generator, tasks: list[str], include_path: str | None = None,
                limit: int | None = None) -> list[dict]:
    """Rows {part, category (task), item_id (doc id), metric (acc, acc_norm), value (0/1)} per document.

    include_path: a folder of lm-eval task YAMLs, searched besides lm-eval's own tasks. limit: the first N
    documents of each task. A task whose dataset is on the Hugging Face Hub needs the hub.
    """
    if not tasks:
        raise HarnessError("run_lm_eval needs at least one lm-eval task name")
    if limit is not None and limit < 1:
        raise HarnessError(f"`limit` should be None (every document) or at least 1, got {limit}")
    folder = _task_folder(include_path)
    from lm_eval import simple_evaluate

    loaded = [obj for name in tasks for obj in _load(name, folder)]
    # the tasks come built; the manager only re-collects them (given one, lm-eval does not index its tasks again)
    results = simple_evaluate(model=_harness_lm(generator), tasks=loaded, task_manager=_manager(folder, folder is None),
                              limit=limit, log_samples=True, bootstrap_iters=0)
    return rows_from_samples(results["samples"])


def check_lm_eval_tasks(tasks: list[str], include_path: str | None = None) -> None:
    """Load every task (its config and dataset) now, so a missing package, an unknown name or an unreachable
    hub fails in one line before any model runs."""
    folder = _task_folder(include_path)
    for name in tasks:
        _load(name, folder)


def _task_folder(include_path: str | None) -> str | None:
    """The local task folder, absolute; raises when lm-eval is missing or the folder is not one."""
    try:
        import lm_eval  # noqa: F401
    except ImportError as e:
        raise HarnessError(f"lm-eval tasks need lm-eval ({e.name} is missing): {INSTALL}") from None
    folder = str(Path(include_path).resolve()) if include_path else None
    if folder is not None and not Path(folder).is_dir():
        raise HarnessError(f"`include_path` should be a folder of lm-eval task YAMLs, got {include_path}")
    return folder


def rows_from_samples(samples: dict[str, list[dict]]) -> list[dict]:
    """Suite-shaped rows from lm-eval's logged samples ({task: [sample, ...]}), sorted by task, doc, metric."""
    rows = []
    for task, logged in samples.items():
        for sample in logged:
            # lm-eval names a metric under a filter other than its default "none" as "metric,filter"
            category = task if sample["filter"] == "none" else f"{task},{sample['filter']}"
            for metric in METRICS:
                if metric in sample:
                    rows.append({"part": PART, "category": category, "item_id": str(sample["doc_id"]),
                                 "metric": metric, "value": float(sample[metric])})
    return sorted(rows, key=lambda r: (r["category"], int(r["item_id"]), r["metric"]))


@functools.lru_cache(maxsize=8)
def _manager(folder: str | None, defaults: bool) -> Any:
    """lm-eval's task index: its own ~14,000 task YAMLs take seconds to read, so each index is built once."""
    from lm_eval.tasks import TaskManager

    return TaskManager(include_path=folder, include_defaults=defaults)


def _build(name: str, folder: str | None) -> dict:
    if folder is not None and name in _manager(folder, False).all_tasks:
        try:  # a task of the local folder alone, without indexing lm-eval's own tasks
            return _manager(folder, False).load([name])
        except KeyError:  # it names one of lm-eval's own tasks (a group, an include)
            pass
    return _manager(folder, True).load([name])


def _load(name: str, folder: str | None) -> list[Any]:
    """The Task or Group objects for one name, its dataset loaded; every failure one line naming the task."""
    try:
        built = _build(name, folder)
    except KeyError:
        close = difflib.get_close_matches(name, _manager(folder, True).all_tasks, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        where = f" or in {folder}" if folder else ""
        raise HarnessError(f"lm-eval has no task {name!r} among its own tasks{where}{hint}") from None
    except ConnectionError as e:  # datasets' "Couldn't reach ... on the Hub", offline mode included
        raise HarnessError(
            f"lm-eval task {name!r} reads its dataset from the Hugging Face Hub, which is not reachable "
            f"({_first_line(e)}): point `include_path` at a local task folder (a task YAML whose dataset_kwargs "
            f"data_files are local files)") from None
    except FileNotFoundError as e:
        raise HarnessError(f"lm-eval task {name!r}: {_first_line(e)} (relative data_files paths are read "
                           f"from the working directory)") from None
    except Exception as e:  # a task config or dataset lm-eval cannot build: the message, not its traceback
        raise HarnessError(f"lm-eval could not load task {name!r}: {type(e).__name__}: {_first_line(e)}") from None
    for task_name, task in built["tasks"].items():
        kind = task.get_config("output_type")
        if kind not in SCORED_TYPES:
            raise HarnessError(f"lm-eval task {task_name!r} is a {kind} task: only log-likelihood tasks "
                               f"({', '.join(SCORED_TYPES)}) run on the harness's models")
    groups = built.get("groups") or {}
    return [groups[name]] if name in groups else list(built["tasks"].values())


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _harness_lm(generator: Generator) -> Any:
    """lm-eval's model interface over a harness generator: log-likelihood requests only."""
    from lm_eval.api.model import LM

    class HarnessLM(LM):
        def loglikelihood(self, requests: list[Any], disable_tqdm: bool = False) -> list[tuple[float, bool]]:
            scored = generator.loglikelihood([tuple(r.args) for r in requests], lambda n: None)
            return [(s.logprob, s.is_greedy) for s in scored]

        def loglikelihood_rolling(self, requests: list[Any], disable_tqdm: bool = False) -> list[float]:
            raise HarnessError("lm-eval perplexity (loglikelihood_rolling) tasks do not run on the harness's "
                               "models; the suite's own perplexity part does")

        def generate_until(self, requests: list[Any], disable_tqdm: bool = False) -> list[str]:
            raise HarnessError("lm-eval generation (generate_until) tasks do not run on the harness's models: "
                               "only log-likelihood tasks do")

    return HarnessLM()
