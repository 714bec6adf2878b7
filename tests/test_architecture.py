"""Data flows one way: a stage may import the stages to its left, never one to its right; and no module
imports itself back through others (no import cycle)."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import harness

PACKAGE = Path(harness.__file__).parent

# The rule is stated by folder: every module of a folder has the folder's rank, and may import the root
# modules, its own folder and the folders to its left. The order follows the data flow, task YAML -> spec ->
# data -> arms -> predictions -> scores -> store -> decision -> report, where imports allow it:
# - metrics is a pure leaf (strings in, floats out) that spec validates names against, so it sits left of spec;
# - the store depends on records only (it writes predictions, trials, chunks), so the retrieval index, the
#   regression suite's cache and everything after them can use it;
# - scoring attaches bootstrap intervals from verdict/stats.py, so verdict sits left of scoring;
# - run/ holds the pipeline, the one module that sequences the stages, and what it does around them (checks,
#   preflight, timing, the arm cache); only the CLI comes after it.
ROOT = ["harness", "harness.errors", "harness.processes", "harness.records", "harness.textfiles", "harness.redact",
        "harness.digest", "harness.atomic", "harness.hub", "harness.plugins", "harness.environment"]
STAGES = ["metrics", "spec", "data", "prompting", "models", "backends", "store", "retrieval", "tuning", "arms",
          "regression", "verdict", "scoring", "readside", "report", "run", "cli"]


def stage_of(module: str) -> int:
    """0 for the root modules that span everything, else 1 + the rank of the module's folder (`cli` is a module)."""
    if module in ROOT:
        return 0
    parts = module.split(".")
    assert parts[0] == "harness" and len(parts) > 1 and parts[1] in STAGES, \
        f"{module} is in no stage: add its folder to STAGES (or a root module to ROOT) on purpose"
    return 1 + STAGES.index(parts[1])


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_only(tree: ast.AST) -> set[ast.AST]:
    """Import nodes under `if TYPE_CHECKING:`: annotations only, never run."""
    skipped: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                skipped.update(ast.walk(inner))
    return skipped


def harness_imports(path: Path, package_dir: Path = PACKAGE, runtime_only: bool = False) -> set[str]:
    """The package modules a file imports, function-level (lazy) imports included. `from a.b import c` names the
    module a.b.c when c is a module, else a.b."""
    package, base = package_dir.name, package_dir.parent
    tree = ast.parse(path.read_text())
    skipped = _type_checking_only(tree) if runtime_only else set()
    found = set()
    for node in ast.walk(tree):
        if node in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == package:
            for alias in node.names:
                sub = base.joinpath(*node.module.split("."), alias.name)
                is_module = sub.with_suffix(".py").exists() or (sub / "__init__.py").exists()
                found.add(f"{node.module}.{alias.name}" if is_module else node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == package)
    return found


def import_cycle(package_dir: Path) -> list[str] | None:
    """One import cycle among the package's modules (imports under TYPE_CHECKING do not count), or None."""
    graph = {}
    for path in sorted(package_dir.rglob("*.py")):
        graph[module_name(path, package_dir)] = harness_imports(path, package_dir, runtime_only=True)
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        return list(exc.args[1])
    return None


def test_no_stage_imports_a_later_stage():
    violations = []
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = module_name(path)
        for imported in harness_imports(path):
            if stage_of(imported) > stage_of(importer):
                violations.append(f"{importer} imports {imported}")
    assert not violations, violations


def test_the_check_can_fail():
    assert stage_of("harness.run.pipeline") > stage_of("harness.arms.prompted") > stage_of("harness.backends.hf")
    assert stage_of("harness.scoring.judge") > stage_of("harness.verdict.stats") > stage_of("harness.errors")


# The store ranks early because it depends on records only; who may use it is narrower: the stages that make
# records (arms, their models and backends, tuning, scoring, the verdict) return them, and the pipeline writes them.
NO_DATABASE = ["metrics", "spec", "data", "prompting", "models", "backends", "tuning", "arms", "verdict", "scoring"]


def database_users(forbidden: list[str]) -> list[str]:
    return [f"{module_name(path)} imports {imported}" for path in sorted(PACKAGE.rglob("*.py"))
            for imported in harness_imports(path) if imported.startswith("harness.store")
            and module_name(path).split(".")[1] in forbidden]


def test_records_producers_never_touch_the_database():
    assert database_users(NO_DATABASE) == []
    assert "harness.run.pipeline imports harness.store.database" in database_users(["run"])  # the check can fail


def test_no_import_cycles():
    assert import_cycle(PACKAGE) is None


def test_the_cycle_check_can_fail(tmp_path):
    pkg = tmp_path / "toy"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from toy.sub import b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from toy.c import g  # a lazy import still closes a cycle\n")
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import toy.sub.b\nimport toy.a\n")
    assert sorted(set(import_cycle(pkg))) == ["toy.a", "toy.c", "toy.sub.b"]
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import toy.a\n")
    assert import_cycle(pkg) is None  # annotations only: not a cycle


MAX_MODULE_LINES, MAX_FUNCTION_LINES = 400, 80


def too_long(path: Path, root: Path = PACKAGE) -> list[str]:
    """A module over MAX_MODULE_LINES lines, or a function (methods and nested ones included) over
    MAX_FUNCTION_LINES from its `def` to its last line: a newcomer reads either in one sitting."""
    source = path.read_text()
    name = module_name(path, root)
    lines = source.count("\n")
    found = [f"{name}: {lines} lines"] if lines > MAX_MODULE_LINES else []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno is not None:
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append(f"{name}.{node.name} (line {node.lineno}): {length} lines")
    return found


def test_no_module_over_400_lines_and_no_function_over_80():
    found = [problem for path in sorted(PACKAGE.rglob("*.py")) for problem in too_long(path)]
    assert not found, found


def test_the_size_check_can_fail(tmp_path):
    package = tmp_path / "harness"
    package.mkdir()
    (package / "long.py").write_text("def f():\n" + "    x = 1\n" * 80 + "\n" * 330)
    (package / "short.py").write_text("def g():\n" + "    x = 1\n" * 79)
    assert too_long(package / "long.py", package) == ["harness.long: 411 lines", "harness.long.f (line 1): 81 lines"]
    assert too_long(package / "short.py", package) == []


def test_only_store_imports_duckdb_and_only_report_imports_jinja2():
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        name = module_name(path)
        if "import duckdb" in text:
            assert name.startswith("harness.store"), name
        if "jinja2" in text:
            assert name.startswith("harness.report"), name


# What the pipeline may ask of an arm: the contract in harness/arms/__init__.py, nothing more.
ARM_CONTRACT = {"name", "kind", "trains", "adapter_source", "backend", "describe", "preflight", "prepare", "predict",
                "curve"}
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
    assert contract_violations((PACKAGE / "run" / "pipeline.py").read_text()) == []


def test_the_contract_check_can_fail():
    assert len(contract_violations("arm.details\ngetattr(arm, 'kind', None)\narm.predict(items, ctx)\n")) == 2


def test_contract_attributes_exist_on_every_arm_class():
    from harness.arms import ARMS, ArmBase
    from harness.arms.catalog import load_builtin

    load_builtin()
    for cls in set(ARMS.values()):
        assert issubclass(cls, ArmBase)
        for name in ARM_CONTRACT - {"name"}:
            assert hasattr(cls, name), f"{cls.__name__} lacks {name}"


TOY_ARM = '''
"""A toy arm type: answers every item with a fixed text. One module, registered; nothing else touched."""
from typing import Literal

from harness.arms import ArmBase, ArmOutput, register
from harness.records import Prediction
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
