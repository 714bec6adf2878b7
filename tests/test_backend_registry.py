"""One backend registry: each backend declares what it can do, a task file asking a backend for what it cannot
serve fails at validation naming the capability, and a new backend is a settings model plus an implementation."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
import yaml

from harness.errors import HarnessError, SpecError
from harness.spec import (
    BACKEND_SPECS,
    BackendSpecBase,
    Capabilities,
    HFBackend,
    OpenAIBackend,
    Task,
    VLLMBackend,
    register_backend_spec,
)
from harness.spec.taskfile import load_spec

OPENAI = {"type": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m"}


def _task(tmp_path: Path, arms: list[dict], output: dict | None = None, regression: dict | None = None) -> Path:
    data = tmp_path / "d.jsonl"
    data.write_text('{"input": "a", "output": "x"}\n')
    spec = {
        "name": "t", "version": 1,
        "data": {"train": "d.jsonl", "validation": "d.jsonl", "test": "d.jsonl"},
        "output": output or {"type": "label", "labels": ["x", "y"]},
        "metrics": ["accuracy"], "arms": arms, "decision": {"primary_metric": "accuracy"},
    }
    if regression is not None:
        spec["regression"] = regression
    path = tmp_path / "task.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def _problems(tmp_path: Path, **kwargs: object) -> str:
    with pytest.raises(SpecError) as err:
        load_spec(_task(tmp_path, **kwargs))
    return str(err.value)


def test_each_builtin_backend_declares_its_capabilities():
    hf = HFBackend().capabilities()
    assert hf.loglikelihood and hf.token_losses and hf.adapters == "one-per-load" and hf.constrained == {
        "json", "choice", "regex"}
    vllm = VLLMBackend(type="vllm").capabilities()
    assert vllm.adapters == "many-per-call" and vllm.loglikelihood and vllm.merged and vllm.prefix_cache
    assert not VLLMBackend(type="vllm", base_url="http://h:8000/v1").capabilities().merged  # weights not on its disk
    chat = OpenAIBackend(**OPENAI).capabilities()
    assert not chat.loglikelihood and chat.adapters == "none" and chat.constrained == {"json"}
    assert OpenAIBackend(**OPENAI, server="vllm").capabilities().constrained == {"json", "choice", "regex"}
    assert set(BACKEND_SPECS) >= {"hf", "openai", "vllm"}


@pytest.mark.parametrize("arm, output, needle", [
    ({"name": "a", "type": "prompted", "answer": "choice", "backend": OPENAI}, None,
     "arms[0].backend: the openai backend cannot serve answer: choice: it lacks the capability 'loglikelihood'"),
    ({"name": "a", "type": "prompted", "answer": "constrained", "backend": OPENAI}, None,
     "lacks the capability 'constrained:choice'"),
    ({"name": "a", "type": "prompted", "answer": "constrained", "backend": OPENAI},
     {"type": "text", "regex": "[a-z]+"}, "lacks the capability 'constrained:regex'"),
    ({"name": "a", "type": "lora", "backend": OPENAI}, None, "lacks the capability 'adapters'"),
    ({"name": "a", "type": "lora", "backend": {"type": "vllm", "base_url": "http://h:8000/v1"}}, None,
     "cannot serve merge: true (set merge: false): it lacks the capability 'merged'"),
    ({"name": "a", "type": "lora", "r": 32, "backend": {"type": "vllm", "max_lora_rank": 16}}, None,
     "arms[0].backend.max_lora_rank: 16 is below this arm's largest adapter rank r=32"),
    ({"name": "a", "type": "lora", "backend": {"type": "vllm", "max_lora_rank": 24}}, None,
     "vLLM serves adapter ranks up to one of [8, 16, 32, 64, 128, 256, 320, 512], got 24"),
])
def test_a_request_a_backend_cannot_serve_fails_at_validation_naming_the_capability(tmp_path, arm, output, needle):
    assert needle in _problems(tmp_path, arms=[arm], output=output)


def test_rag_on_a_tuned_arm_needs_a_backend_with_adapters(tmp_path):
    arms = [{"name": "lora", "type": "lora"},
            {"name": "rag", "type": "rag", "adapter_from": "lora", "backend": OPENAI}]
    text = _problems(tmp_path, arms=arms)
    assert "arms[1].backend: the openai backend cannot serve adapter_from" in text and "'adapters'" in text


def test_the_suite_backend_needs_log_likelihoods_and_token_losses(tmp_path):
    text = _problems(tmp_path, arms=[{"name": "lora", "type": "lora", "merge": False}],
                     regression={"backend": OPENAI})
    assert "regression.backend: the openai backend cannot serve the regression suite" in text
    assert "'loglikelihood'" in text and "'token_losses'" in text and "'adapters'" in text


def test_vllm_accepts_every_arm_kind_and_the_suite(tmp_path):
    vllm = {"type": "vllm"}
    arms = [{"name": "p", "type": "prompted", "answer": "choice", "backend": vllm},
            {"name": "c", "type": "prompted", "answer": "constrained", "backend": vllm},
            {"name": "lora", "type": "lora", "backend": vllm},
            {"name": "rag", "type": "prompted", "backend": vllm}]
    task = load_spec(_task(tmp_path, arms=arms, regression={"backend": vllm}))
    assert {a.backend.type for a in task.spec.arms} == {"vllm"} and task.spec.regression.backend.type == "vllm"


def test_with_backend_moves_every_default_arm_and_the_suite(tmp_path):
    arms = [{"name": "p", "type": "prompted"}, {"name": "lora", "type": "lora"},
            {"name": "ext", "type": "prompted", "backend": OPENAI}]
    task = load_spec(_task(tmp_path, arms=arms, regression={}))
    moved = task.with_backend("vllm")
    assert [a.backend.type for a in moved.spec.arms] == ["vllm", "vllm", "openai"]
    assert moved.spec.regression.backend.type == "vllm" and task.spec.arms[0].backend.type == "hf"
    with pytest.raises(HarnessError, match="--backend 'vlm'.*did you mean 'vllm'"):
        task.with_backend("vlm")
    with pytest.raises(HarnessError, match="--backend openai: "):
        task.with_backend("openai")  # it needs a base_url: the task file names one per arm


def test_a_plugin_backend_is_a_settings_model_and_an_implementation(tmp_path):
    from harness.backends.pool import Generators
    from harness.backends.registry import register_backend

    class EchoSpec(BackendSpecBase):
        type: Literal["echo"]
        prefix: str = ">"

        def capabilities(self) -> Capabilities:
            return Capabilities()

    class Echo:
        description, answer_lead = "echo", ""

        def __init__(self, prefix: str):
            self.prefix = prefix

    class EchoImpl:
        def __init__(self, pool):
            self.pool = pool

        def generator(self, spec, adapter, seed):
            return Echo(spec.prefix)

        def identity(self, spec):
            return {"backend": "echo", "version": "1"}

        def preflight(self, spec):
            return None

        def close(self):
            return None

    register_backend_spec(EchoSpec)
    register_backend("echo", EchoImpl)
    try:
        task = load_spec(_task(tmp_path, arms=[{"name": "e", "type": "prompted", "backend": {"type": "echo",
                                                                                              "prefix": "#"}}]))
        spec = task.spec.arms[0].backend
        assert isinstance(spec, EchoSpec) and task.spec.arms[0].model_dump(mode="json")["backend"]["prefix"] == "#"
        pool = Generators(None, "auto", 1, None, "cpu")
        assert pool.get(spec).prefix == "#" and pool.identity(spec) == {"backend": "echo", "version": "1"}
        text = _problems(tmp_path, arms=[{"name": "e", "type": "prompted", "answer": "choice",
                                          "backend": {"type": "echo"}}])
        assert "the echo backend cannot serve answer: choice: it lacks the capability 'loglikelihood'" in text
    finally:
        BACKEND_SPECS.pop("echo")
        register_backend_spec(HFBackend)  # the schema without it again


def test_unknown_backend_type_is_one_line_with_a_suggestion(tmp_path):
    text = _problems(tmp_path, arms=[{"name": "a", "type": "prompted", "backend": {"type": "vlm"}}])
    assert "arms[0].backend.type: unknown backend type 'vlm'; did you mean 'vllm'?" in text


def test_no_code_tests_a_backend_by_its_type():
    """The arms ask the pool, the pool asks the registry, the task file asks the capabilities."""
    import re

    import harness

    tests = re.compile(r"isinstance\([^)]*(HFBackend|OpenAIBackend|VLLMBackend)|backend[\w.\]\[\"']* ?[!=]= ?[\"'](hf|openai|vllm)")
    root = Path(harness.__file__).parent
    offenders = [f"{p.relative_to(root)}: {m.group(0)}" for p in root.rglob("*.py") for m in tests.finditer(p.read_text())]
    assert offenders == []
    assert tests.search('if isinstance(spec.backend, OpenAIBackend):') and tests.search('backend == "openai"')


def test_a_task_with_a_vllm_arm_round_trips(tmp_path):
    task = load_spec(_task(tmp_path, arms=[{"name": "p", "type": "prompted", "backend": {"type": "vllm"}}]))
    again = Task(task.spec, task.path, task.raw).with_backend("hf")
    assert again.spec.arms[0].backend.type == "vllm"  # an arm that names a backend keeps it


@pytest.mark.parametrize("backend, needle", [
    ({"type": "vllm", "python": "/tmp/anything"}, "unknown key 'python'"),  # a task file never picks a program
    ({"type": "vllm", "api_key_env": "VLLM_KEY"}, "`api_key_env` names the key of a running server: give base_url"),
    ({"type": "vllm", "base_url": "http://u:pw@h:8000/v1", "api_key_env": "VLLM_KEY"}, "keep one of them"),
    ({"type": "vllm", "base_url": "http://h:8000/v1?x=1"}, "a query or fragment cannot be part of it"),
    ({"type": "vllm", "extra_args": ["--trust-remote-code"]}, "--trust-remote-code may not be set from a task file"),
    ({"type": "vllm", "extra_args": ["--chat-template=/etc/passwd"]}, "--chat-template may not be set"),
    ({"type": "vllm", "extra_args": ["8", "--max-num-seqs"]}, "must start with a flag"),
])
def test_vllm_settings_a_task_file_may_not_give(tmp_path, backend, needle):
    assert needle in _problems(tmp_path, arms=[{"name": "a", "type": "prompted", "backend": backend}])


def test_scheduling_flags_may_be_added_to_vllm_serve(tmp_path):
    backend = {"type": "vllm", "extra_args": ["--max-num-seqs", "8", "--enable-prefix-caching", "--block-size=16"]}
    task = load_spec(_task(tmp_path, arms=[{"name": "a", "type": "prompted", "backend": backend}]))
    assert task.spec.arms[0].backend.extra_args == backend["extra_args"]


def test_a_running_vllm_servers_key_goes_only_to_a_host_the_user_allowed(tmp_path, monkeypatch):
    from harness.run.preflight import check_environment
    from harness.spec.trust import Trust

    monkeypatch.setenv("VLLM_KEY", "sk-test-0123456789")
    arm = {"name": "a", "type": "prompted", "backend": {"type": "vllm", "base_url": "http://10.0.0.5:8000/v1",
                                                        "api_key_env": "VLLM_KEY"}}
    path = _task(tmp_path, arms=[arm])
    with pytest.raises(HarnessError, match=r"arms\[0\]\.backend\.api_key_env: VLLM_KEY may not be sent to "
                                           r"10\.0\.0\.5:8000.*--allow-key VLLM_KEY@10\.0\.0\.5:8000"):
        check_environment(load_spec(path, Trust()))
    allowed = load_spec(path, Trust.of_user(["VLLM_KEY@10.0.0.5:8000"]))
    check_environment(allowed)
    assert allowed.with_backend("vllm").trust == allowed.trust  # --backend keeps what the user allowed
