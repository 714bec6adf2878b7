"""The run's precision: forced by the task file, else chosen by the hardware (a real probe, cached)."""

from __future__ import annotations

import json

import pytest

from harness.models import precision
from harness.models.precision import choose_precision, cpu_choice


def test_the_task_file_forces_a_precision():
    assert choose_precision("float32", "cpu") == ("float32", "set by the task file (model.dtype)")
    assert choose_precision("bfloat16", "cpu")[0] == "bfloat16"


def test_cpu_choice_is_probed_once_and_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path))
    first = cpu_choice()
    assert first["dtype"] in ("float32", "bfloat16") and first["reason"]
    if precision._bf16_supported():  # the probe ran: its measured speed-up decided
        assert (first["dtype"] == "bfloat16") == (first["bf16_speedup"] >= precision.BF16_MIN_SPEEDUP)
    stored = json.loads((tmp_path / "precision.json").read_text())
    assert list(stored.values()) == [first]

    def no_second_probe(*args, **kwargs):
        raise AssertionError("the cached answer should have been used")

    monkeypatch.setattr(precision, "probe_cpu", no_second_probe)
    assert cpu_choice() == first
    assert choose_precision("auto", "cpu") == (first["dtype"], first["reason"])


def test_a_cpu_without_native_bf16_gets_fp32_without_a_probe(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path))
    monkeypatch.setattr(precision, "_bf16_supported", lambda: False)
    monkeypatch.setattr(precision, "probe_cpu", lambda: pytest.fail("no probe without native bf16"))
    choice = cpu_choice()
    assert choice["dtype"] == "float32" and "no native bf16" in choice["reason"]


def test_the_probe_times_both_precisions():
    timings = precision.probe_cpu(repeats=2)
    assert set(timings) == {"float32", "bfloat16"} and all(t > 0 for t in timings.values())
