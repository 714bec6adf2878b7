"""Data flows one way: a stage may import the stages to its left, never one to its right."""

from __future__ import annotations

import ast
from pathlib import Path

import harness

PACKAGE = Path(harness.__file__).parent

# task YAML -> spec -> data -> arms -> predictions -> scores -> store -> decision -> report; backends feed arms.
# metrics is a pure leaf (strings in, floats out) that spec validates names against, so it sits left of spec.
STAGES = [
    ["harness", "harness.errors", "harness.processes"],
    ["harness.metrics", "harness.constraints"],
    ["harness.spec"],
    ["harness.data", "harness.prompts"],
    ["harness.models", "harness.embeddings"],
    ["harness.checks"],
    ["harness.backends"],
    ["harness.retrieval"],
    ["harness.arms", "harness.sweep", "harness.training", "harness.regression"],
    ["harness.stats", "harness.scoring", "harness.judge"],
    ["harness.store"],
    ["harness.decision"],
    ["harness.report"],
    ["harness.pipeline"],
    ["harness.cli", "harness.scaffold"],
]


def stage_of(module: str) -> int:
    best = None
    for rank, names in enumerate(STAGES):
        for name in names:
            if (module == name or module.startswith(name + ".")) and (best is None or len(name) > best[1]):
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
