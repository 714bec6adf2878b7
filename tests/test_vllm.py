"""The vllm backend on this CPU: a real vLLM server in its own environment (`make vllm`), started, used and stopped
by the harness. vLLM's CPU attention takes head sizes of 32 and up, so the tiny model here is built with 64
hidden units over 2 heads. Every arm kind, adapters loaded at runtime, constraints, log-likelihoods, the suite,
the agreement sample, one-line errors and the kill test (SIGKILL leaves no process behind).

These start servers (about a minute each on 2 cores): CI installs the environment and runs them all.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from harness.backends.vllm_env import find_python
from harness.backends.vllm_server import ServerSettings, VLLMServer, reason_from_log
from harness.errors import HarnessError

GATED_OFF = os.environ.get("HARNESS_VLLM_TESTS") == "0"  # `make test VLLM_TESTS=0`
try:
    VLLM_PYTHON: str | None = None if GATED_OFF else find_python()
except HarnessError:
    VLLM_PYTHON = None
if VLLM_PYTHON is None and os.environ.get("CI") and not GATED_OFF:
    raise RuntimeError("CI runs the vLLM tests: `make test` installs vLLM's environment (make vllm)")
# a server takes about a minute to start on 2 cores: slow, and outside the fast loop (-m "not slow")
needs_vllm = [pytest.mark.slow,
              pytest.mark.skipif(VLLM_PYTHON is None, reason="left out (make test VLLM_TESTS=0)" if GATED_OFF else
                                 "vLLM's environment is not installed (make vllm)")]


def vllm_server(test):  # noqa: ANN001, ANN201
    """Marks a test that starts a vLLM server."""
    for mark in needs_vllm:
        test = mark(test)
    return test


class Quiet:
    def add_task(self, *a, **k):
        return 0

    update = advance = lambda *a, **k: None


@pytest.fixture(scope="module")
def model32(tmp_path_factory) -> Path:
    sys.path.insert(0, str(Path(__file__).parent))
    from conftest import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny32") / "tiny32", hidden_size=64, heads=2)


def _adapter(base: Path, out: Path, seed: int, **config) -> Path:
    """A random LoRA adapter on the tiny model, saved as training saves one."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    peft = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", task_type="CAUSAL_LM",
                                            **config))
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, param in peft.named_parameters():
            if "lora_B" in name:
                param.copy_(torch.randn_like(param) * 0.3)
    peft.save_pretrained(out, safe_serialization=True)
    return out


@pytest.fixture(scope="module")
def pools(model32, tmp_path_factory):
    """(vLLM generators, hf generators) over the same base: one server for the whole module."""
    from harness.backends.pool import Generators
    from harness.models.loading import ResolvedModel, weights_hash

    base = ResolvedModel("tiny32", model32, "local", weights_hash(model32))
    vllm = Generators(base, "auto", 8, Quiet(), "cpu")
    vllm.workdir = tmp_path_factory.mktemp("vllm-run")
    hf = Generators(base, "auto", 8, Quiet(), "cpu")
    yield vllm, hf
    vllm.close()


sys.path.insert(0, str(Path(__file__).parent))


def _spec(**kw):
    from harness.spec import VLLMBackend

    return VLLMBackend(type="vllm", kv_cache_gib=1, max_lora_rank=8, **kw)


CONVERSATIONS = [[{"role": "system", "content": "Extract the parties."},
                  {"role": "user", "content": f"This agreement is made between Acme Corp and Beta LLC {i}."}]
                 for i in range(6)]


@vllm_server
def test_base_answers_and_loglikelihoods_match_the_hf_backend(pools):
    vllm_pool, hf_pool = pools
    vllm, hf = vllm_pool.get(_spec()), hf_pool.get()
    mine, theirs = vllm.generate(CONVERSATIONS, 12, lambda n: None), hf.generate(CONVERSATIONS, 12, lambda n: None)
    assert [g.text for g in mine] == [g.text for g in theirs]
    assert [g.output_tokens for g in mine] == [g.output_tokens for g in theirs]
    assert [g.prompt_tokens for g in mine] == [g.prompt_tokens for g in theirs] and not any(g.error for g in mine)
    requests = [("Question: who signs?\nAnswer:", " Acme Corp"), ("Question: who signs?\nAnswer:", " Beta LLC"),
                ("", "Either party may terminate with thirty days written notice.")]  # the last: perplexity's form
    got, ref = vllm.loglikelihood(requests, lambda n: None), hf.loglikelihood(requests, lambda n: None)
    assert [g.n_tokens for g in got] == [r.n_tokens for r in ref]
    assert [g.logprob for g in got] == pytest.approx([r.logprob for r in ref], abs=1e-3)
    assert [g.is_greedy for g in got] == [r.is_greedy for r in ref]
    assert "vllm" in vllm.description and "vllm" in vllm_pool.identity(_spec())["version"]


@vllm_server
def test_choice_by_log_likelihood_picks_what_the_hf_backend_picks(pools):
    from harness.arms.answering import choose

    vllm_pool, hf_pool = pools
    labels = ["billing", "technical", "account"]
    mine = choose(vllm_pool.get(_spec()), CONVERSATIONS, labels, "char", lambda n: None)
    theirs = choose(hf_pool.get(), CONVERSATIONS, labels, "char", lambda n: None)
    assert [a.generation.text for a in mine] == [a.generation.text for a in theirs]
    for a, b in zip(mine, theirs):
        assert a.details["choice"]["scores"] == pytest.approx(b.details["choice"]["scores"], abs=1e-4)


@vllm_server
def test_constraints_are_enforced_by_the_server(pools):
    from harness.prompting.constraints import Constraint

    vllm = pools[0].get(_spec())
    labels = ["billing", "technical", "account"]
    assert {g.text for g in vllm.generate(CONVERSATIONS[:3], 8, lambda n: None, Constraint.choice(labels))} <= set(labels)
    assert all(g.text.isdigit() and len(g.text) <= 3 for g in
               vllm.generate(CONVERSATIONS[:3], 8, lambda n: None, Constraint.regex("[0-9]{1,3}")))
    schema = {"type": "object", "properties": {"party": {"type": "string", "maxLength": 6}}, "required": ["party"],
              "additionalProperties": False}
    for g in vllm.generate(CONVERSATIONS[:3], 40, lambda n: None, Constraint.json(schema)):
        assert g.incomplete or set(json.loads(g.text)) == {"party"}


@vllm_server
def test_adapters_load_at_runtime_named_by_content_and_answer_like_peft(pools, model32, tmp_path):
    from harness.records import Adapter

    vllm_pool, hf_pool = pools
    one = _adapter(model32, tmp_path / "one", seed=1)
    two = _adapter(model32, tmp_path / "two", seed=2)
    answers = {}
    for name, path in (("one", one), ("two", two)):
        adapter = Adapter(name, str(path), None)
        vllm, hf = vllm_pool.get(_spec(), adapter), hf_pool.get(adapter=adapter)
        mine, theirs = vllm.generate(CONVERSATIONS, 10, lambda n: None), hf.generate(CONVERSATIONS, 10, lambda n: None)
        assert [g.text for g in mine] == [g.text for g in theirs]
        req = [("Question: who signs?\nAnswer:", " Acme Corp")]
        assert vllm.loglikelihood(req, lambda n: None)[0].logprob == pytest.approx(
            hf.loglikelihood(req, lambda n: None)[0].logprob, abs=1e-3)
        answers[name] = [g.text for g in mine]
    assert answers["one"] != answers["two"]  # two adapters served side by side by one loaded base
    endpoint = next(iter(vllm_pool.backend(_spec()).endpoints.values()))
    assert sorted(endpoint.adapters) == sorted(f"adapter-{h}" for h in (_hash(one), _hash(two)))


def _hash(path: Path) -> str:
    from harness.models.loading import weights_hash

    return weights_hash(path)


@vllm_server
def test_an_adapter_vllm_cannot_serve_fails_in_one_line(pools, model32, tmp_path):
    from harness.records import Adapter

    saved = _adapter(model32, tmp_path / "saved", seed=3, modules_to_save=["lm_head"])
    with pytest.raises(HarnessError, match=r"vLLM does not serve adapters with modules_to_save") as err:
        pools[0].get(_spec(), Adapter("saved", str(saved), None))
    assert "\n" not in str(err.value)
    wide = tmp_path / "wide"
    _adapter(model32, wide, seed=4)
    config = json.loads((wide / "adapter_config.json").read_text())
    (wide / "adapter_config.json").write_text(json.dumps({**config, "r": 16}))
    with pytest.raises(HarnessError, match=r"rank r=16 is above the vLLM server's max_lora_rank=8"):
        pools[0].get(_spec(), Adapter("wide", str(wide), None))
    broken = tmp_path / "broken"
    _adapter(model32, broken, seed=5)
    (broken / "adapter_model.safetensors").write_bytes(b"not weights")
    with pytest.raises(HarnessError, match=r"^vLLM cannot load the adapter .*broken: ") as err:
        pools[0].get(_spec(), Adapter("broken", str(broken), None))
    assert "\n" not in str(err.value) and pools[0].get(_spec()).generate(CONVERSATIONS[:1], 4, lambda n: None)[0].text


@vllm_server
def test_a_server_that_dies_mid_run_fails_the_rest_as_counted_items(pools):
    """Run last in this module: it kills the module's server."""
    vllm_pool = pools[0]
    generator = vllm_pool.get(_spec())
    endpoint = next(iter(vllm_pool.backend(_spec()).endpoints.values()))
    done = []

    def advance(n: int) -> None:
        done.append(n)
        if len(done) == 2:
            os.killpg(endpoint.server.process.pid, signal.SIGKILL)

    began = time.monotonic()
    results = generator.generate(CONVERSATIONS * 4, 24, advance)
    assert time.monotonic() - began < 120  # never a hang
    failed = [g for g in results if g.error]
    assert len(results) == 24 and failed and all("the vLLM server exited (code -9)" in g.error for g in failed)
    scores = generator.loglikelihood([("a", " b")], lambda n: None)
    assert scores[0].error and "exited" in scores[0].error


PIPELINE_ARMS = """
  - name: constrained
    type: prompted
    answer: constrained
  - name: rag
    type: rag
    top_k: 2
    context_tokens: 64
  - name: rag_lora
    type: rag
    adapter_from: lora
    top_k: 2
    context_tokens: 64
"""


@vllm_server
@pytest.mark.timeout(2400)  # two servers and a sweep: about 4 minutes alone on 2 cores, far more beside other work
def test_every_arm_kind_and_the_suite_run_on_vllm(model32, tmp_path, monkeypatch):
    """`harness run --backend vllm`: prompted (free and constrained), RAG, the sweep's trials scored on one loaded
    base, the best adapter on test, the merged model, RAG on the tuned model and a suite slice, all through
    vLLM; the agreement sample is stored and shown in the report; the servers are gone when the run ends."""
    from conftest import query, run_cli, tuned_arms, write_jsonl, write_tiny_task

    monkeypatch.setenv("HARNESS_VLLM_PYTHON", VLLM_PYTHON)
    corpus = write_jsonl(tmp_path / "corpus.jsonl", [{"id": f"d{i}", "text": f"{p} is a party to contracts."}
                                                     for i, p in enumerate(["Acme Corp", "Beta LLC", "Gamma GmbH"])])
    regression = ("regression: {mmlu_items: 2, general_items: 4, perplexity_docs: 1, probes: true, trial_items: 4}\n"
                  f"corpus: {{path: {corpus}, chunk_tokens: 32, overlap_tokens: 4}}\n")
    arms = tuned_arms(merge=True, sweep="{trials: 2, pruner: none, space: {learning_rate: [1.0e-3, 3.0e-3]}}")
    task = write_tiny_task(tmp_path, model32, arms + PIPELINE_ARMS, n_test=4, extra=regression)
    assert run_cli(tmp_path, task, "--backend", "vllm") == 0
    arms = dict(query(tmp_path, "SELECT arm, status FROM arms"))
    assert arms == {name: "completed" for name in ("zero_shot", "constrained", "rag", "lora", "lora_merged", "rag_lora")}
    configs = {arm: json.loads(c) for arm, c in query(tmp_path, "SELECT arm, config_json FROM arms")}
    identities = [c["backend"] for c in configs.values() if "arm" in c]  # companions carry their arm's settings
    assert len(identities) == 5 and all(i["backend"] == "vllm" and "0.32" in i["version"] for i in identities)
    details = {arm: json.loads(d) for arm, d in query(tmp_path, "SELECT arm, details_json FROM arms")}
    for arm in ("zero_shot", "constrained", "rag", "lora", "lora_merged", "rag_lora"):
        agreement = details[arm]["backend_agreement"]
        assert agreement["n"] == 4 and agreement["reference"] and "vllm" in agreement["backend"], arm
    assert details["zero_shot"]["backend_agreement"]["identical"] == 4
    trials = query(tmp_path, "SELECT state, forgetting FROM trials")
    assert len(trials) == 2 and all(state == "complete" and f is not None for state, f in trials)
    suites = query(tmp_path, "SELECT arm FROM run_suites")
    assert {a for (a,) in suites} == {"base", "lora", "lora_merged", "rag_lora"}
    report = next((tmp_path / "reports").glob("*.html")).read_text()
    assert 'id="backend-agreement"' in report and "identical" in report
    logs = list((tmp_path / "exp").rglob("vllm/server-*.log"))
    assert len(logs) == 2  # the base model's server (every adapter, every trial) and the merged model's
    assert not subprocess.run(["pgrep", "-f", "vllm.entrypoints.openai.api_server.*" + str(model32)],
                              capture_output=True).stdout


def test_the_cause_of_a_failed_start_is_one_line_from_the_log():
    log = textwrap.dedent("""\
        (APIServer pid=1) WARNING 12-03 13:50:04 [system_utils.py:255] can cause `OSError: [Errno 24] Too many open files`
        (Worker pid=2) ERROR 12-03 13:51:22 [multiproc_executor.py:1063] RuntimeError: Unsupported CPU attention configuration: head_dim=8 isa=1 kv_cache_idx=0
        (EngineCore pid=3) ERROR 12-03 13:51:22 [core.py:1512] RuntimeError: Worker failed with error 'Unsupported CPU attention configuration: head_dim=8'
        (APIServer pid=1) ERROR 12-03 13:51:22 [async_llm.py:906] vllm.v1.engine.exceptions.EngineDeadError: EngineCore encountered an issue. See stack trace (above) for the root cause.
        """)
    assert reason_from_log(log) == "RuntimeError: Unsupported CPU attention configuration: head_dim=8 isa=1 kv_cache_idx=0"
    assert reason_from_log("ERROR [x] OSError: [Errno 98] error while attempting to bind on address: address already in use"
                           ).startswith("its port is in use")
    assert reason_from_log("(Worker pid=2) ERROR torch.OutOfMemoryError: CUDA out of memory. Tried to allocate"
                           ).startswith("it ran out of memory")
    assert reason_from_log("pydantic_core._pydantic_core.ValidationError: 1 validation error for VllmConfig\n"
                           "  Value error, invalid literal for int() with base 10: '1.0'") == (
        "ValidationError: 1 validation error for VllmConfig: Value error, invalid literal for int() with base 10: '1.0'")


def test_a_missing_environment_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("HARNESS_VLLM_PYTHON", str(tmp_path / "nowhere" / "python"))
    with pytest.raises(HarnessError, match=r"HARNESS_VLLM_PYTHON is .*nowhere/python, which is not an executable "
                                           r"python; run `make vllm`"):
        find_python()
    from harness.backends.vllm_env import vllm_version

    with pytest.raises(HarnessError, match="vllm is not installed for .*; run `make vllm`"):
        vllm_version(sys.executable if "vllm" not in sys.executable else "/usr/bin/python3")


def test_a_port_in_use_is_one_line(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        settings = ServerSettings(python=sys.executable, model=str(tmp_path), port=port)
        with pytest.raises(HarnessError, match=f"port {port} is in use"):
            VLLMServer.start(settings, tmp_path / "vllm.log", version="vllm 0.32.0")


KILLED_HARNESS = """
import sys, time
from pathlib import Path
from harness.backends.vllm_server import ServerSettings, VLLMServer
server = VLLMServer.start(ServerSettings(python=sys.argv[1], model=sys.argv[2], kv_cache_gib=1, max_lora_rank=8),
                          Path(sys.argv[3]))
print(server.process.pid, server.port, flush=True)
time.sleep(3600)
"""


def _group(pgid: int) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,pgid,cmd"], capture_output=True, text=True).stdout.splitlines()
    return [line for line in out[1:] if line.split()[1] == str(pgid)]


@vllm_server
def test_sigkill_of_the_harness_leaves_no_server_behind(model32, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    harness = subprocess.Popen([sys.executable, "-c", KILLED_HARNESS, VLLM_PYTHON, str(model32), str(tmp_path / "v.log")],
                               stdout=subprocess.PIPE, text=True, env=env)
    try:
        pgid, port = map(int, harness.stdout.readline().split())
        assert len(_group(pgid)) >= 3  # the API server, its engine core and worker(s)
        harness.send_signal(signal.SIGKILL)
        harness.wait()
        deadline = time.monotonic() + 60
        while _group(pgid) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _group(pgid) == []
        from harness.backends.vllm_server import port_in_use

        assert not port_in_use(port)  # nothing listens there any more
        assert (tmp_path / "v.log").read_text().count("Application startup complete") == 1
    finally:
        if harness.poll() is None:
            harness.kill()
