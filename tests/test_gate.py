"""`harness run --gate`: the verdict as the exit code, for CI pipelines that guard a model change."""

from __future__ import annotations

import pytest

from harness.cli import GATE_CODES, gate_code
from harness.verdict.decision import Decision
from tests.conftest import run_cli, write_tiny_task


@pytest.mark.parametrize("verdict, regressed, code", [
    ("GO", [], 0), ("NO-GO", [], 10), ("INCONCLUSIVE", [], 11), ("NO-GO", ["lora"], 12), ("INCONCLUSIVE", ["lora"], 12),
])
def test_each_outcome_has_its_own_code(verdict, regressed, code):
    assert gate_code(Decision(verdict=verdict, comparisons=[], primary="accuracy", regressed=regressed)) == code
    assert len(set(GATE_CODES.values())) == len(GATE_CODES) and 2 not in GATE_CODES.values()  # 2: bad input


def test_a_run_with_gate_exits_with_the_verdict(tmp_path, tiny_model):
    arms = """
  - {name: zero_shot, type: prompted}
  - {name: lora, type: lora, r: 4, alpha: 8, epochs: 1, batch_size: 4, merge: false, sweep: {trials: 1}}
"""
    task = write_tiny_task(tmp_path, tiny_model, arms)
    assert run_cli(tmp_path, task, "--gate") == GATE_CODES["INCONCLUSIVE"]  # 6 items support no verdict
    assert run_cli(tmp_path, task) == 0  # without --gate a completed run exits 0 whatever its verdict
