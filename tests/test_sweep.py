"""The Optuna sweep of a tuned arm: pruning, resuming after a kill, and a test split it never reads."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from harness.backends.hf import HFGenerator
from harness.cli import main
from tests.conftest import query as _sql
from tests.conftest import run_cli as _run
from tests.conftest import write_jsonl

ROOT = Path(__file__).parent.parent
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima"]


def _rows(n: int, prefix: str) -> list[dict]:
    return [{"id": f"{prefix}{i}", "messages": [
        {"role": "user", "content": f"{prefix} {WORDS[i % 12]} {WORDS[(i * 5 + 1) % 12]} number {i}"},
        {"role": "assistant", "content": "ok"}]} for i in range(n)]


def sweep_task(root: Path, model: Path, trials: int = 3, extra_arm: str = "") -> Path:
    write_jsonl(root / "d" / "train.jsonl", _rows(32, "train"))
    write_jsonl(root / "d" / "validation.jsonl", _rows(4, "val"))
    write_jsonl(root / "d" / "test.jsonl", _rows(5, "test"))
    path = root / "sweep.yaml"
    path.write_text(f"""name: sweep
version: 1
data: {{train: d/train.jsonl, validation: d/validation.jsonl, test: d/test.jsonl}}
output: {{type: text}}
prompt: {{system: Answer ok., instructions: Always answer with the word ok.}}
model: {{base: {model}}}
generation: {{max_new_tokens: 4, batch_size: 4}}
checks: {{near_duplicates: false}}
metrics: [exact_match]
arms:
  - name: lora
    type: lora
    r: 4
    alpha: 8
    dropout: 0.0
    epochs: 3
    batch_size: 4
    scheduler: constant
    warmup_ratio: 0.0
    sweep:
      trials: {trials}
      seed: 3
      pruner: median
      startup_trials: 1
      space:
        learning_rate: {{low: 1.0e-6, high: 5.0e-2, log: true}}
        r: [2, 4]
      enqueue:
        - {{learning_rate: 5.0e-2, r: 4}}
        - {{learning_rate: 1.0e-6, r: 4}}
{extra_arm}
decision: {{primary_metric: exact_match}}
""")
    return path


def test_sweep_prunes_picks_the_best_and_never_reads_test_before_the_end(tmp_path, tiny_model, monkeypatch):
    calls: list[list[str]] = []
    original = HFGenerator.generate

    def spy(self, conversations, max_new_tokens, advance, constraint=None, answer_end=None):
        calls.append([c[-1]["content"] for c in conversations])
        return original(self, conversations, max_new_tokens, advance, constraint, answer_end)

    monkeypatch.setattr(HFGenerator, "generate", spy)
    assert _run(tmp_path, sweep_task(tmp_path, tiny_model)) == 0

    trials = _sql(tmp_path, "SELECT trial_number, state, value, params_json, reused, adapter_path FROM trials ORDER BY 1")
    assert [t[1] for t in trials][:2] == ["complete", "pruned"]  # the tiny learning rate is stopped after epoch 1
    assert len(trials) == 3 and not any(t[4] for t in trials)
    assert json.loads(trials[0][3])["learning_rate"] == 5e-2 and trials[0][2] == 1.0
    for _number, state, *_, adapter in trials:
        if state == "complete":
            assert Path(adapter, "adapter_model.safetensors").is_file()
    intermediate = json.loads(_sql(tmp_path, "SELECT intermediate_json FROM trials WHERE trial_number = 1")[0][0])
    assert len(intermediate) == 1  # pruned at its first report

    arms = dict(_sql(tmp_path, "SELECT arm, status FROM arms"))
    assert arms == {"lora": "completed", "lora_merged": "completed"}
    details = json.loads(_sql(tmp_path, "SELECT details_json FROM arms WHERE arm = 'lora'")[0][0])
    assert details["best_trial"] == 0 and details["best_value"] == 1.0
    merged = json.loads(_sql(tmp_path, "SELECT details_json FROM arms WHERE arm = 'lora_merged'")[0][0])
    assert 0.0 <= merged["agreement_with_adapter"] <= 1.0

    # test inputs are generated for only after every validation generation of the sweep
    test_calls = [i for i, c in enumerate(calls) if any(t.startswith("test ") for t in c)]
    val_calls = [i for i, c in enumerate(calls) if any(t.startswith("val ") for t in c)]
    assert val_calls and test_calls and max(val_calls) < min(test_calls)
    assert not any(t.startswith("test ") for i in val_calls for t in calls[i])
    assert len(test_calls) == 2  # the adapter once and the merged model once
    # the tuned arm's prompt has no instructions
    prompt = json.loads(_sql(tmp_path, "SELECT prompt_json FROM predictions WHERE arm = 'lora' LIMIT 1")[0][0])
    assert "Always answer" not in prompt[0]["content"]

    from tests.browser import dump_dom

    dom = dump_dom(next((tmp_path / "reports").glob("*.html")))
    assert 'id="trials"' in dom and dom.count('class="trial-') == 3 and "trial-pruned" in dom
    assert 'id="merge-lora_merged"' in dom
    assert 'id="verdict"' in dom and "no completed arm without training" in dom  # no baseline arm in this task


def test_a_killed_sweep_resumes_without_retraining(tmp_path, tiny_model):
    task = sweep_task(tmp_path, tiny_model, trials=3)
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "run", str(task), "--db", str(tmp_path / "h.duckdb"),
         "--reports", str(tmp_path / "reports"), "--workdir", str(tmp_path / "exp"), "--quiet"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=(tmp_path / "stderr.txt").open("w"),
    )
    study_db = tmp_path / "exp" / "sweep" / "optuna.db"
    deadline = time.time() + 300
    complete = 0
    while time.time() < deadline and proc.poll() is None:
        if study_db.exists():
            try:
                with sqlite3.connect(study_db) as con:
                    complete = con.execute("SELECT count(*) FROM trials WHERE state = 'COMPLETE'").fetchone()[0]
            except sqlite3.Error:
                complete = 0
            if complete >= 1:
                break
        time.sleep(0.2)
    assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
    assert complete >= 1
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    assert _run(tmp_path, task) == 0
    runs = _sql(tmp_path, "SELECT run_id, status FROM runs ORDER BY started_at")
    assert [r[1] for r in runs] == ["killed", "completed"]  # the killed run is marked so, not left running
    second = runs[1][0]
    rows = _sql(tmp_path, f"SELECT trial_number, state, reused FROM trials WHERE run_id = '{second}' ORDER BY 1")
    assert rows[0] == (0, "complete", True)  # finished before the kill: not retrained
    with sqlite3.connect(study_db) as con:
        states = [r[0] for r in con.execute("SELECT state FROM trials ORDER BY number")]
    finished = [s for s in states if s in ("COMPLETE", "PRUNED")]
    assert len(finished) == 3
    assert states.count("FAIL") <= 1  # at most the one trial the kill interrupted, retried afterwards


def test_qlora_refuses_cpu_unless_allowed(tmp_path, tiny_model, capsys):
    arm = """  - name: q
    type: qlora
    epochs: 1
"""
    task = sweep_task(tmp_path, tiny_model, extra_arm=arm)
    assert _run(tmp_path, task, "--arm", "q", "--device", "cpu") == 2
    err = capsys.readouterr().err
    assert "QLoRA needs a CUDA GPU" in err and "allow_cpu: true" in err
    assert not (tmp_path / "h.duckdb").exists()


def test_rag_on_top_of_the_tuned_adapter(tmp_path, tiny_model):
    corpus = write_jsonl(tmp_path / "corpus.jsonl", [
        {"id": "rule", "text": "For every test number, always answer with the word ok, in lower case, and nothing else."},
        {"id": "other", "text": "Unrelated notes about shipping pallets to Rotterdam."},
        {"id": "third", "text": "Office hours are nine to five on weekdays."},
        {"id": "fourth", "text": "Invoices are paid within thirty days."},
    ])
    arm = """  - name: lora_rag
    type: rag
    adapter_from: lora
    retriever: bm25
    top_k: 1
  - name: zero
    type: prompted
"""
    task = sweep_task(tmp_path, tiny_model, trials=1, extra_arm=arm)
    task.write_text(task.read_text().replace("metrics: [exact_match]",
                                             f"corpus: {{path: {corpus}}}\nmetrics: [exact_match]"))
    assert _run(tmp_path, task) == 0
    types = dict(_sql(tmp_path, "SELECT arm, arm_type FROM arms"))
    assert types == {"lora": "lora", "lora_merged": "merged", "lora_rag": "rag-tuned", "zero": "prompted"}
    prompt = json.loads(_sql(tmp_path, "SELECT prompt_json FROM predictions WHERE arm = 'lora_rag' LIMIT 1")[0][0])
    assert "Reference material" in prompt[0]["content"] and "Always answer with the word ok." not in prompt[0]["content"].split("Reference")[0]
    decision = json.loads(_sql(tmp_path, "SELECT decision_json FROM runs")[0][0])
    assert decision["baseline"] == "zero" and {c["arm"] for c in decision["comparisons"]} == {"lora", "lora_rag"}


def test_rag_on_an_adapter_needs_its_tuned_arm_in_the_run(tmp_path, tiny_model, capsys):
    corpus = write_jsonl(tmp_path / "corpus.jsonl", [{"id": "rule", "text": "Answer ok."}])
    arm = """  - name: lora_rag
    type: rag
    adapter_from: lora
"""
    task = sweep_task(tmp_path, tiny_model, trials=1, extra_arm=arm)
    task.write_text(task.read_text().replace("metrics: [exact_match]", f"corpus: {{path: {corpus}}}\nmetrics: [exact_match]"))
    assert _run(tmp_path, task, "--arm", "lora_rag") == 2
    assert "add --arm lora" in capsys.readouterr().err


def test_train_command_and_evaluating_a_given_adapter(tmp_path, tiny_model, capsys):
    given = """  - name: given
    type: lora
    merge: false
    adapter: trained/adapter
"""
    task = sweep_task(tmp_path, tiny_model, trials=1, extra_arm=given)
    out = tmp_path / "trained"
    assert main(["train", str(task), "--arm", "lora", "--out", str(out), "--device", "cpu"]) == 0
    assert "adapter:" in capsys.readouterr().out
    assert (out / "adapter" / "adapter_model.safetensors").is_file() and (out / "metadata.json").is_file()
    assert _run(tmp_path, task, "--arm", "given") == 0
    details = json.loads(_sql(tmp_path, "SELECT details_json FROM arms WHERE arm = 'given'")[0][0])
    assert details["trained"] == "elsewhere" and details["adapter"].endswith("trained/adapter")
    assert _sql(tmp_path, "SELECT count(*) FROM trials")[0][0] == 0
    assert _sql(tmp_path, "SELECT count(*) FROM predictions WHERE arm = 'given'")[0][0] == 5


def test_sigterm_marks_the_run_failed_at_once(tmp_path, tiny_model):
    task = sweep_task(tmp_path, tiny_model, trials=200)
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "run", str(task), "--db", str(tmp_path / "h.duckdb"),
         "--reports", str(tmp_path / "reports"), "--workdir", str(tmp_path / "exp"), "--quiet"],
        cwd=ROOT, env=dict(os.environ, HF_HUB_OFFLINE="1"), stdout=subprocess.DEVNULL, stderr=(tmp_path / "stderr.txt").open("w"),
    )
    study_db = tmp_path / "exp" / "sweep" / "optuna.db"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None and not study_db.exists():
        time.sleep(0.2)
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    # 130, or killed by SIGINT (which a shell also reports as 130): CPython ends that way when the
    # KeyboardInterrupt passed through an exec() on its way out
    assert proc.wait(timeout=120) in (130, -signal.SIGINT), (tmp_path / "stderr.txt").read_text()[-3000:]
    con = duckdb.connect(str(tmp_path / "h.duckdb"), read_only=True)  # read-only: no abandoned-run repair
    status, error = con.execute("SELECT status, error FROM runs").fetchone()
    con.close()
    assert status == "failed" and "signal 15" in error


def test_a_trial_claimed_by_a_worker_that_died_before_marking_it_is_retried(tmp_path, monkeypatch):
    """No owner, no heartbeat: Optuna's stale-trial check skips such a trial; past the grace period it is retried."""
    from optuna.trial import TrialState

    from harness.spec import SweepSpec
    from harness.tuning.sweep import mark_owner, new_owner, open_study, run_sweep

    monkeypatch.setenv("HARNESS_SWEEP_HEARTBEAT_S", "1")  # grace period: 3 s
    study = open_study("orphan", f"sqlite:///{tmp_path / 'optuna.db'}", SweepSpec(trials=2, pruner="none"))
    orphan = study.ask({"x": __import__("optuna").distributions.FloatDistribution(0.0, 1.0)})  # claimed, never marked
    time.sleep(3.5)
    owner = new_owner()

    def objective(trial):
        mark_owner(trial, owner)
        return trial.suggest_float("x", 0.0, 1.0)

    started = time.monotonic()
    run_sweep(study, objective, 2, [])
    assert time.monotonic() - started < 30  # no wait for a worker that is gone
    states = {t.number: t.state for t in study.trials}
    assert states[orphan.number] == TrialState.FAIL
    done = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert len(done) == 2
    retry = [t for t in done if t.user_attrs.get("retries") == orphan.number]
    assert len(retry) == 1 and retry[0].params["x"] == orphan.params["x"]  # the claimed point, run again
