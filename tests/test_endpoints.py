"""OpenAI-compatible endpoints that fail on purpose (tests/openai_server.py's `Fault`s): each fault is retried
with backoff up to the cap, what still fails is one item's error (never the key), and too many failed items
in a compared arm make the verdict INCONCLUSIVE."""

from __future__ import annotations

import email.utils
import json
import re
import time

import httpx
import openai
import pytest

from harness.backends.openai_compat import OpenAIGenerator
from harness.backends.retry import backoff_s, is_transient, retry_after_s
from tests.conftest import query, run_cli, write_tiny_task
from tests.openai_server import FAULT_KINDS, Fault, serve

ANSWER = '{"party": "Acme Corp", "months": 2}'
FAST = {"backoff_s": 0.001, "max_backoff_s": 0.01}  # real backoff, tiny waits
# what the recorded error says, per fault, once the retries are spent
SAYS = {"timeout": "APITimeoutError", "reset": "APIConnectionError", "429": "RateLimitError",
        "500": "InternalServerError", "malformed": "not valid JSON", "empty": "no choices"}


def fixed(messages, max_tokens):
    return ANSWER, 5, 7


def ask(url, texts, max_retries=2, timeout_s=0.5, **kw):
    gen = OpenAIGenerator(url, "m", None, concurrency=4, timeout_s=timeout_s, max_retries=max_retries, **{**FAST, **kw})
    return gen.generate([[{"role": "user", "content": t}] for t in texts], 16, lambda n: None)


def tries(seen, text):
    """The faults (None: answered) that the server served to one item's attempts, in order."""
    return [r["fault"] for r in sorted(seen, key=lambda r: r["at"]) if r["body"]["messages"][-1]["content"] == text]


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_each_fault_is_retried_until_the_item_is_answered(kind):
    with serve(fixed, faults=[Fault(kind, "bad", times=2, sleep_s=1.5)]) as (url, seen):
        out = ask(url, ["bad item", "good item"], max_retries=2, timeout_s=0.3)
    assert tries(seen, "bad item") == [kind, kind, None]
    assert tries(seen, "good item") == [None]
    assert [(g.text, g.error) for g in out] == [(ANSWER, None)] * 2
    assert out[0].prompt_tokens == 5 and out[0].output_tokens == 7
    assert out[0].latency_s < 0.3  # of the answered attempt, not the failed ones before it


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_each_fault_that_outlasts_the_cap_is_the_items_error(kind):
    with serve(fixed, faults=[Fault(kind, "bad", sleep_s=1.5)]) as (url, seen):
        out = ask(url, ["bad item", "good item"], max_retries=2, timeout_s=0.3)
    assert tries(seen, "bad item") == [kind] * 3  # the first try and max_retries more, then no more
    bad, good = out
    assert bad.text == "" and SAYS[kind] in bad.error and bad.error.endswith("(after 3 attempts)")
    assert (good.text, good.error) == (ANSWER, None)


def test_max_retries_zero_tries_once():
    with serve(fixed, faults=[Fault("500", "bad", times=1)]) as (url, seen):
        out = ask(url, ["bad item"], max_retries=0)
    assert tries(seen, "bad item") == ["500"] and "InternalServerError" in out[0].error
    assert "attempts" not in out[0].error


def test_permanent_errors_are_not_retried(monkeypatch):
    monkeypatch.setenv("ENDPOINT_TEST_KEY", "wrong-key-0000")
    with serve(fixed, api_key="right-key-1111") as (url, seen):
        gen = OpenAIGenerator(url, "m", "ENDPOINT_TEST_KEY", max_retries=3, **FAST)
        out = gen.generate([[{"role": "user", "content": "hello"}]], 8, lambda n: None)
    assert len(seen) == 1 and "AuthenticationError" in out[0].error and "attempts" not in out[0].error


def test_retry_after_is_honoured_and_capped():
    with serve(fixed, faults=[Fault("429", "slow", times=1, retry_after="1")]) as (url, seen):
        out = ask(url, ["slow"], backoff_s=0.001, max_backoff_s=5.0)
    assert out[0].error is None
    first, second = sorted(r["at"] for r in seen)
    assert second - first >= 0.95  # the server's Retry-After, not the 1 ms backoff
    with serve(fixed, faults=[Fault("429", "slow", times=1, retry_after="30")]) as (url, seen):
        began = time.monotonic()
        out = ask(url, ["slow"], backoff_s=0.001, max_backoff_s=0.05)
    assert out[0].error is None and time.monotonic() - began < 5  # 30 s asked, 0.05 s waited


def test_backoff_doubles_with_jitter_and_stays_under_the_cap():
    for retry in range(5):
        waits = [backoff_s(retry, 1.0, 100.0) for _ in range(200)]
        assert all(0.5 * 2 ** retry <= w <= 2 ** retry for w in waits)
        assert len(set(waits)) > 100  # jittered, so parallel requests do not retry in step
    assert backoff_s(10, 1.0, 8.0) <= 8.0
    assert backoff_s(0, 0.01, 60.0, retry_after=2.0) == 2.0
    assert backoff_s(0, 0.01, 1.5, retry_after=30.0) == 1.5


def test_retry_after_forms_and_what_counts_as_transient():
    request = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")

    def status(code, headers=None):
        response = httpx.Response(code, headers=headers or {}, request=request)
        return openai.APIStatusError("x", response=response, body=None)

    assert retry_after_s(status(429, {"Retry-After": "3"})) == 3.0
    assert retry_after_s(status(429, {"Retry-After-Ms": "250", "Retry-After": "3"})) == 0.25
    date = email.utils.formatdate(time.time() + 20, usegmt=True)
    assert 15 < retry_after_s(status(503, {"Retry-After": date})) <= 20
    assert retry_after_s(status(429)) is None and retry_after_s(ValueError("x")) is None
    assert [is_transient(status(c)) for c in (408, 409, 429, 500, 503)] == [True] * 5
    assert [is_transient(status(c)) for c in (400, 401, 403, 404, 422)] == [False] * 5
    assert is_transient(openai.APITimeoutError(request)) and is_transient(openai.APIConnectionError(request=request))
    assert not is_transient(RuntimeError("a bug is not retried"))


def test_the_api_key_never_reaches_the_recorded_error(monkeypatch):
    monkeypatch.setenv("ENDPOINT_TEST_KEY", "sk-very-secret-42")
    with serve(fixed, api_key="sk-very-secret-42", faults=[Fault("500", "bad", echo_auth=True)]) as (url, seen):
        gen = OpenAIGenerator(url, "m", "ENDPOINT_TEST_KEY", max_retries=1, **FAST)
        out = gen.generate([[{"role": "user", "content": "bad"}]], 8, lambda n: None)
    assert seen[0]["auth"] == "Bearer sk-very-secret-42"  # the server did get it, and said so
    assert "request had Bearer ***" in out[0].error and "sk-very-secret-42" not in out[0].error


# ---------------------------------------------------------------- end to end: the task, the store, the verdict

SERVED = """
  - name: served
    type: prompted
    backend: {{type: openai, base_url: "{url}", model: tiny, max_retries: 2, timeout_s: 1.0,
               backoff_s: 0.001, max_backoff_s: 0.01}}
"""
LORA = "  - {name: lora, type: lora, r: 4, alpha: 8, epochs: 1, batch_size: 4, merge: false, sweep: {trials: 1}}\n"


def test_faults_retried_away_leave_every_item_answered(tmp_path, tiny_model, capsys):
    # each test item meets a different fault, twice, and is answered on its third try
    faults = [Fault(kind, f"Contract te{i}:", times=2, sleep_s=3.0) for i, kind in enumerate(FAULT_KINDS)]
    with serve(fixed, faults=faults) as (url, seen):
        task = write_tiny_task(tmp_path, tiny_model, SERVED.format(url=url))
        assert run_cli(tmp_path, task) == 0
    assert sorted(r["fault"] for r in seen if r["fault"]) == sorted(FAULT_KINDS * 2)
    assert query(tmp_path, "SELECT n_examples, n_failed FROM arms") == [(6, 0)]
    assert query(tmp_path, "SELECT count(*), count(error) FROM predictions WHERE split = 'test'") == [(6, 0)]
    assert {o for (o,) in query(tmp_path, "SELECT output FROM predictions")} == {ANSWER}
    assert re.search(r"failed\s.*0/6", capsys.readouterr().out)
    decision = json.loads(query(tmp_path, "SELECT decision_json FROM runs")[0][0])
    assert not any("failed items" in r for r in decision["reasons"])


def test_an_arm_with_too_many_failed_items_makes_the_verdict_inconclusive(tmp_path, tiny_model, capsys):
    # two of the six test items fail on every try (33%, over the default 5%); validation is answered
    faults = [Fault("reset", "Contract te1:"), Fault("malformed", "Contract te4:")]
    with serve(fixed, faults=faults) as (url, seen):
        task = write_tiny_task(tmp_path, tiny_model, SERVED.format(url=url) + LORA)
        assert run_cli(tmp_path, task) == 0
    assert len([r for r in seen if r["fault"]]) == 2 * 3
    assert query(tmp_path, "SELECT arm, n_examples, n_failed FROM arms ORDER BY arm") == [("lora", 6, 0), ("served", 6, 2)]
    errors = dict(query(tmp_path, "SELECT example_id, error FROM predictions WHERE arm = 'served' AND error IS NOT NULL"))
    assert sorted(errors) == ["te1", "te4"]
    assert "APIConnectionError" in errors["te1"] and "not valid JSON" in errors["te4"]
    assert all(e.endswith("(after 3 attempts)") for e in errors.values())
    assert re.search(r"failed\s.*2/6", capsys.readouterr().out)

    decision = json.loads(query(tmp_path, "SELECT decision_json FROM runs")[0][0])
    assert decision["verdict"] == "INCONCLUSIVE"
    reason = ("no verdict: too many failed items: served failed on 2 of 6 test items (33.3%), more than the allowed "
              "5% (decision.max_failed_share 0.05)")
    assert decision["reasons"][0].startswith(reason)
    report = next((tmp_path / "reports").glob("*.html")).read_text()
    assert reason in report


def test_a_rerun_asks_the_endpoint_again_for_what_failed(tmp_path, tiny_model):
    # te1 fails on each of the first run's 3 tries; the run after it is not served from the cache, the third is
    with serve(fixed, faults=[Fault("500", "Contract te1:", times=3)]) as (url, seen):
        task = write_tiny_task(tmp_path, tiny_model, SERVED.format(url=url))
        for _ in range(3):
            assert run_cli(tmp_path, task) == 0
    te1 = next(r["body"]["messages"][-1]["content"] for r in seen if "Contract te1:" in r["body"]["messages"][-1]["content"])
    assert tries(seen, te1) == ["500"] * 3 + [None]  # asked again once, and answered
    failed = dict(query(tmp_path, "SELECT run_id, n_failed FROM arms"))
    assert sorted(failed.values()) == [0, 0, 1]
    cached = query(tmp_path, "SELECT DISTINCT run_id FROM stages WHERE stage = 'cached' AND arm = 'served'")
    assert len(cached) == 1 and failed[cached[0][0]] == 0  # complete answers are reused, failed ones are not
