"""Data flows one way: a stage may import the stages to its left, never one to its right."""

from __future__ import annotations

import ast
from pathlib import Path

import harness

PACKAGE = Path(harness.__file__).parent

# task YAML -> spec -> data -> arms -> predictions -> scores -> store -> decision -> report; backends feed arms.
# metrics is a pure leaf (strings in, floats out) that spec validates names against, so it sits left of spec.
STAGES = [
    ["harness", "harness.errors", "harness.processes", "harness.records", "harness.textfiles", "harness.redact",
     "harness.atomic", "harness.hub"],
    ["harness.metrics", "harness.evaluate_metrics", "harness.constraints", "harness.answer_end"],
    ["harness.spec"],
    ["harness.taskfile"],
    ["harness.data", "harness.hf_data", "harness.prompts", "harness.prompt_format"],
    ["harness.models", "harness.embeddings", "harness.provenance", "harness.precision"],
    ["harness.checks"],
    ["harness.backends"],
    ["harness.retrieval"],
    ["harness.arms", "harness.sweep", "harness.training", "harness.regression"],
    ["harness.stats", "harness.scoring", "harness.judge", "harness.cost", "harness.forgetting"],
    ["harness.store"],
    ["harness.index", "harness.suite_runs", "harness.arm_cache", "harness.decision", "harness.stages"],
    ["harness.preflight"],
    ["harness.results", "harness.export"],
    ["harness.compare"],
    ["harness.report"],
    ["harness.pipeline"],
    ["harness.cli", "harness.scaffold"],
]


def stage_of(module: str) -> int:
    best = None
    for rank, names in enumerate(STAGES):
        for name in names:
            inside = module.startswith(name + ".") and name != "harness"  # a new module must be placed on purpose
            if (module == name or inside) and (best is None or len(name) > best[1]):
                best = (rank, len(name))
    assert best is not None, f"{module} is in no stage: add it to STAGES"
    return best[0]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def harness_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):  # function-level (lazy) imports count too
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("harness"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("harness"))
    return found


def test_no_stage_imports_a_later_stage():
    violations = []
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = module_name(path)
        for imported in harness_imports(path):
            if stage_of(imported) > stage_of(importer):
                violations.append(f"{importer} imports {imported}")
    assert not violations, violations


def test_the_check_can_fail():
    assert stage_of("harness.pipeline") > stage_of("harness.store") > stage_of("harness.arms.prompted")


def test_only_store_imports_duckdb_and_only_report_imports_jinja2():
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        name = module_name(path)
        if "import duckdb" in text:
            assert name == "harness.store", name
        if "jinja2" in text:
            assert name.startswith("harness.report"), name


# What the pipeline may ask of an arm: the contract in harness/arms/__init__.py, nothing more.
ARM_CONTRACT = {"name", "kind", "trains", "adapter_source", "backend", "describe", "preflight", "prepare", "predict"}
ARM_NAMES = {"arm", "a"}  # how the pipeline names an arm


def contract_violations(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "hasattr", "vars"):
            found.append(f"line {node.lineno}: {node.func.id}() reads attributes by name")
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ARM_NAMES
                and node.attr not in ARM_CONTRACT):
            found.append(f"line {node.lineno}: {node.value.id}.{node.attr} is not part of the arm contract")
    return found


def test_pipeline_reads_arms_only_through_the_contract():
    assert contract_violations((PACKAGE / "pipeline.py").read_text()) == []


def test_the_contract_check_can_fail():
    assert len(contract_violations("arm.details\ngetattr(arm, 'kind', None)\narm.predict(items, ctx)\n")) == 2


def test_contract_attributes_exist_on_every_arm_class():
    from harness.arms import ARMS, ArmBase, build_arm  # noqa: F401

    build_arm  # registers the built-in arms
    from harness.arms import _builtin

    _builtin()
    for cls in set(ARMS.values()):
        assert issubclass(cls, ArmBase)
        for name in ARM_CONTRACT - {"name"}:
            assert hasattr(cls, name), f"{cls.__name__} lacks {name}"


TOY_ARM = '''
"""A toy arm type: answers every item with a fixed text. One module, registered; nothing else touched."""
from typing import Literal

from harness.arms import ArmBase, ArmOutput, Prediction, register
from harness.spec import ArmSpecBase


class EchoSpec(ArmSpecBase):
    type: Literal["echo"]
    answer: str


@register
class EchoArm(ArmBase):
    types = ("echo",)
    spec_model = EchoSpec

    def predict(self, items, ctx, adapter=None):
        return ArmOutput([Prediction(i.id, list(i.messages), self.spec.answer, None, 0.0, 1, 1) for i in items],
                         {"echoed": self.spec.answer})
'''


def test_a_new_arm_type_is_one_module_and_a_registration(tmp_path, monkeypatch, tiny_model):
    import importlib
    import json

    from tests.conftest import query, run_cli, write_tiny_task

    (tmp_path / "toy_arm_module.py").write_text(TOY_ARM)
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("toy_arm_module")
    answer = '{"party": "Acme Corp", "months": 2}'
    arms = f"""
  - name: echo
    type: echo
    answer: '{answer}'
"""
    task = write_tiny_task(tmp_path, tiny_model, arms)
    assert run_cli(tmp_path, task) == 0
    (arm_type, role, status, details), = query(tmp_path, "SELECT arm_type, role, status, details_json FROM arms")
    assert (arm_type, role, status) == ("echo", "baseline", "completed") and json.loads(details)["echoed"] == answer
    assert {row[0] for row in query(tmp_path, "SELECT output FROM predictions WHERE split = 'test'")} == {answer}
