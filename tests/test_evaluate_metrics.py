"""Metrics from Hugging Face `evaluate` modules: local modules load offline and score per example or in
aggregate; hub names fail fast without the Hub; an aggregate metric's bootstrap covers the true lift."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binomtest

from harness.errors import HarnessError, SpecError
from harness.metrics.builtin import METRICS, OutputShape
from harness.spec import DecisionSpec
from harness.spec.taskfile import load_spec
from harness.verdict.comparison import ArmResult
from harness.verdict.decision import decide
from harness.verdict.stats import bootstrap_ci, paired_bootstrap, resample_indices
from tests.conftest import query, run_cli, write_tiny_task

CHAR_MATCH = '''
import datasets
import evaluate


class CharMatch(evaluate.Metric):
    """Share of the reference's distinct characters that the prediction contains."""

    def _info(self):
        return evaluate.MetricInfo(
            description="character overlap", citation="", inputs_description="",
            features=datasets.Features({"predictions": datasets.Value("string"),
                                        "references": datasets.Value("string")}))

    def _compute(self, predictions, references):
        scores = [len(set(p) & set(r)) / max(len(set(r)), 1) for p, r in zip(predictions, references)]
        return {"overlap": sum(scores) / max(len(scores), 1), "n": len(scores)}
'''

# Corpus-level: correct characters over all reference characters (a ratio of sums, not a mean of ratios),
# with references as lists, as sacrebleu's are.
CORPUS_CHARS = '''
import datasets
import evaluate


class CorpusChars(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="corpus share of correct characters", citation="", inputs_description="",
            features=datasets.Features({"predictions": datasets.Value("string"),
                                        "references": datasets.Sequence(datasets.Value("string"))}))

    def _compute(self, predictions, references):
        assert all(isinstance(r, list) for r in references)
        total = sum(len(r[0]) for r in references)
        return {"score": 100.0 * sum(p.count("x") for p in predictions) / total if total else 0.0}
'''


def char_match(p: str, r: str) -> float:
    return len(set(p) & set(r)) / max(len(set(r)), 1)


@pytest.fixture(scope="module")
def modules(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("metric-modules")
    (root / "char_match").mkdir()
    (root / "char_match" / "char_match.py").write_text(CHAR_MATCH)
    (root / "corpus_chars.py").write_text(CORPUS_CHARS)
    return root


@pytest.fixture(autouse=True)
def _no_hub(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def _task(tmp_path: Path, model: Path | str, metrics: str, primary: str = "char_match") -> Path:
    path = write_tiny_task(tmp_path, model)
    text = path.read_text()
    text = text.replace("metrics: [json_valid, json_field_f1, json_field_exact_match, exact_match]", metrics)
    path.write_text(text.replace("primary_metric: json_field_f1", f"primary_metric: {primary}"))
    return path


def test_a_local_module_scores_each_example(tmp_path, modules):
    task = load_spec(_task(tmp_path, "tiny", f"metrics: [json_valid, {{evaluate: {modules}/char_match, "
                                               f"higher_is_better: true, key: overlap}}]"))
    assert task.spec.metric_names == ["json_valid", "char_match"]
    metric = METRICS["char_match"]
    assert (metric.kind, metric.source, metric.higher_is_better) == ("per-example", "evaluate", True)
    shape = OutputShape("text")
    pairs = [("abc", "abd"), ("", "xyz"), ("hello", "hello"), ("zz", "abcz")]
    values = [metric.score(p, r, shape)["char_match"] for p, r in pairs]
    assert values == pytest.approx([char_match(p, r) for p, r in pairs])
    assert values == pytest.approx([2 / 3, 0.0, 1.0, 0.25])
    assert metric.aggregate([p for p, _ in pairs], [r for _, r in pairs], np.array(values), shape) \
        == pytest.approx(np.mean(values))


def test_the_result_field_must_be_named_when_there_are_several(tmp_path, modules):
    load_spec(_task(tmp_path, "tiny", f"metrics: [{{evaluate: {modules}/char_match, name: overlap_nokey, "
                                      f"higher_is_better: true}}]", primary="overlap_nokey"))
    with pytest.raises(HarnessError, match=r"name the result field that is the score with `key:` "
                                           r"\(compute returned overlap, n\)"):
        METRICS["overlap_nokey"].score("a", "b", OutputShape("text"))


def test_shorthand_names_directions_and_kinds(tmp_path, modules):
    (tmp_path / "metrics" / "sacrebleu").mkdir(parents=True)
    (tmp_path / "metrics" / "sacrebleu" / "sacrebleu.py").write_text(CORPUS_CHARS)
    (tmp_path / "metrics" / "wer.py").write_text(CORPUS_CHARS)
    task = load_spec(_task(tmp_path, "tiny", "metrics: [exact_match, evaluate:./metrics/sacrebleu, "
                                             "evaluate:metrics/wer.py, evaluate:rouge]", primary="sacrebleu"))
    assert task.spec.metric_names == ["exact_match", "sacrebleu", "wer", "rouge"]
    assert (METRICS["sacrebleu"].higher_is_better, METRICS["sacrebleu"].kind) == (True, "aggregate")  # looked up
    assert (METRICS["wer"].higher_is_better, METRICS["wer"].kind) == (False, "aggregate")
    assert (METRICS["rouge"].higher_is_better, METRICS["rouge"].kind) == (True, "per-example")
    declared = load_spec(_task(tmp_path, "tiny", "metrics: [{evaluate: ./metrics/wer.py, name: wer2, "
                                                 "higher_is_better: true, kind: per_example}]", primary="wer2"))
    assert declared.spec.metric_names == ["wer2"]
    assert (METRICS["wer2"].higher_is_better, METRICS["wer2"].kind) == (True, "per-example")  # declared wins


@pytest.mark.parametrize("metrics, expected", [
    ("metrics: [evaluate:./metrics/char_match]", "metrics[0]: the direction of './metrics/char_match' is not known; "
                                                 "declare higher_is_better: true or false"),
    ("metrics: [{evaluate: ./nowhere/char_match, higher_is_better: true}]", "metrics[0]: no metric script at "),
    ("metrics: [{evaluate: ./metrics/char_match, name: exact_match, higher_is_better: true}]",
     "metrics[0]: 'exact_match' is a built-in metric; give this evaluate metric another name with name:"),
    ("metrics: [{evaluate: ./metrics/char_match, higher_is_beter: true}]",
     "metrics[0]: unknown key 'higher_is_beter'; did you mean 'higher_is_better'?"),
    ("metrics: [{evaluate: ./metrics/char_match, kind: corpus, higher_is_better: true}]", "metrics[0].kind: "),
    ("metrics: [evaluate_sacrebleu]", "unknown metric 'evaluate_sacrebleu'"),
])
def test_a_wrong_evaluate_entry_is_one_line_naming_its_field(tmp_path, modules, metrics, expected):
    (tmp_path / "metrics" / "char_match").mkdir(parents=True)
    (tmp_path / "metrics" / "char_match" / "char_match.py").write_text(CHAR_MATCH)
    path = _task(tmp_path, "tiny", metrics)
    with pytest.raises(SpecError) as err:
        load_spec(path)
    lines = [line for line in str(err.value).splitlines() if "metrics[0]" in line or "unknown metric" in line]
    assert any(expected in line and line.startswith(f"{path}:") for line in lines), str(err.value)


def test_a_hub_name_offline_fails_fast_with_a_clear_message(tmp_path):
    load_spec(_task(tmp_path, "tiny", "metrics: [evaluate:chrf]", primary="chrf"))  # validation does not load
    started = time.monotonic()
    with pytest.raises(HarnessError) as err:
        METRICS["chrf"].score("a b", "a c", OutputShape("text"))
    assert time.monotonic() - started < 30  # evaluate's own import is most of it; no network timeouts
    message = str(err.value)
    assert "\n" not in message and "evaluate metric 'chrf'" in message and "Hugging Face Hub" in message
    assert "pass a local metric module folder instead, e.g. {evaluate: ./metrics/chrf}" in message


def _aggregate(tmp_path: Path, modules: Path, resamples: int = 1000):
    load_spec(_task(tmp_path, "tiny", f"metrics: [{{evaluate: {modules}/corpus_chars.py, kind: aggregate, "
                                      f"higher_is_better: true, scale: 0.01, resamples: {resamples}}}]",
                    primary="corpus_chars"))
    return METRICS["corpus_chars"]


def _answers(rng: np.random.Generator, lengths: np.ndarray, accuracy: np.ndarray) -> list[str]:
    return ["".join("x" if rng.random() < a else "y" for _ in range(n)) for n, a in zip(lengths, accuracy)]


def test_an_aggregate_module_goes_through_the_bootstrap(tmp_path, modules):
    metric = _aggregate(tmp_path, modules)
    assert (metric.kind, metric.averaged) == ("aggregate", False)
    rng = np.random.default_rng(0)
    n = 80
    lengths = rng.integers(1, 15, n)
    ease = rng.uniform(0.3, 0.7, n)
    targets = ["x" * k for k in lengths]
    base, tuned = _answers(rng, lengths, ease), _answers(rng, lengths, ease + 0.2)
    shape = OutputShape("text")
    vb = np.array([metric.score(p, t, shape)["corpus_chars"] for p, t in zip(base, targets)])
    vt = np.array([metric.score(p, t, shape)["corpus_chars"] for p, t in zip(tuned, targets)])
    corpus = sum(p.count("x") for p in base) / lengths.sum()
    assert metric.aggregate(base, targets, vb, shape) == pytest.approx(corpus)
    assert corpus != pytest.approx(vb.mean())  # a ratio of sums, not the mean of item scores
    low, high = bootstrap_ci("corpus_chars", base, targets, vb, shape, 0.95, 0)
    assert low < corpus < high and 0.02 < high - low < 0.2

    ids = [f"e{i:03d}" for i in range(n)]
    arms = [ArmResult("prompted", "baseline", "completed", corpus, dict(zip(ids, vb)), dict(zip(ids, base))),
            ArmResult("lora", "tuned", "completed", metric.aggregate(tuned, targets, vt, shape),
                      dict(zip(ids, vt)), dict(zip(ids, tuned)))]
    decision = decide(arms, dict(zip(ids, targets)), "corpus_chars",
                      DecisionSpec(primary_metric="corpus_chars", min_lift=0.05), shape)
    (c,) = decision.comparisons
    assert c.method == "paired-bootstrap" and c.low < c.diff < c.high and c.guard is None
    assert c.diff == pytest.approx(metric.aggregate(tuned, targets, vt, shape) - corpus)
    assert decision.verdict == "GO" and c.low > 0.05


def _corpus_sample(rng: np.random.Generator, n: int, lift: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Items of 1-14 characters share an ease between arms; the tuned arm gets each character right with
    probability ease + lift, so the corpus-level (ratio of sums) lift is `lift` exactly. (length, base correct,
    tuned correct) per item."""
    lengths = rng.integers(1, 15, n)
    ease = rng.uniform(0.3, 0.7, n)
    return lengths, rng.binomial(lengths, ease), rng.binomial(lengths, ease + lift)


def test_the_aggregate_bootstrap_is_the_paired_percentile_bootstrap_of_the_corpus_score(tmp_path, modules):
    """The harness path (the module recomputed on each resample, the same resampled items for both arms) gives
    exactly the paired percentile bootstrap of the corpus-level lift, computed here directly."""
    _aggregate(tmp_path, modules, resamples=1000)
    rng = np.random.default_rng(3)
    lengths, xb, xt = _corpus_sample(rng, 60, 0.08)
    targets = ["x" * k for k in lengths]
    base = ["x" * c + "y" * (k - c) for k, c in zip(lengths, xb)]
    tuned = ["x" * c + "y" * (k - c) for k, c in zip(lengths, xt)]
    r = paired_bootstrap("corpus_chars", base, tuned, targets, xb / lengths, xt / lengths, OutputShape("text"),
                         0.0, 0.025, 0.025, seed=5, n_resamples=4000)
    idx = resample_indices(60, 5, 1000)  # capped at the metric's 1000 resamples
    boot = (xt[idx].sum(1) - xb[idx].sum(1)) / lengths[idx].sum(1)
    assert r.diff == pytest.approx((xt.sum() - xb.sum()) / lengths.sum())
    assert (r.low, r.high) == pytest.approx(tuple(np.quantile(boot, [0.025, 0.975])))
    assert r.se == pytest.approx(boot.std()) and r.method == "paired-bootstrap"


def test_coverage_of_the_paired_bootstrap_for_a_corpus_level_metric():
    """Seeded simulation of the procedure checked above: its two-sided 95% interval must cover the true
    corpus-level lift in about 95% of samples (refuted only if significantly below, at the 1% level)."""
    rng = np.random.default_rng(11)
    n, reps, lift = 60, 1000, 0.08
    covered = 0
    for _ in range(reps):
        lengths, xb, xt = _corpus_sample(rng, n, lift)
        idx = resample_indices(n, int(rng.integers(1 << 30)), 1000)
        boot = (xt[idx].sum(1) - xb[idx].sum(1)) / lengths[idx].sum(1)
        low, high = np.quantile(boot, [0.025, 0.975])
        covered += low <= lift <= high
    assert binomtest(covered, reps, 0.95, alternative="less").pvalue > 0.01, covered / reps


def test_a_run_with_a_local_metric_as_primary(tmp_path, tiny_model, modules):
    task = _task(tmp_path, tiny_model, f"metrics: [json_valid, {{evaluate: {modules}/char_match, "
                                       f"higher_is_better: true, key: overlap}}]")
    assert run_cli(tmp_path, task) == 0
    rows = query(tmp_path, "SELECT p.output, p.error, e.target, s.value FROM scores s JOIN predictions p USING (run_id, "
                           "arm, split, example_id) JOIN examples e USING (run_id, split, example_id) "
                           "WHERE s.metric = 'char_match' AND s.split = 'test'")
    assert len(rows) == 2 * 6
    assert all(v == pytest.approx(char_match("" if error else out, t)) for out, error, t, v in rows)
    report = next((tmp_path / "reports").glob("*.html")).read_text()
    kinds = re.search(r'id="metric-kinds">(.*?)</p>', report, re.S).group(1)
    assert "char_match (evaluate:" in kinds and "char_match, per-example)" in kinds
    assert "json_valid (built-in, per-example)" in kinds
