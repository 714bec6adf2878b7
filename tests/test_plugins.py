"""Plugins from the CLI: a package that declares an arm under the `harness.arms` entry point is installed (pip, into
a folder of its own) and `harness run` uses its arm type from a task file, with nothing registered in-process."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import query, write_tiny_task
from tests.test_architecture import TOY_ARM as ECHO  # the same toy arm, installed as a package here

ROOT = Path(__file__).resolve().parent.parent


def install_plugin(tmp_path: Path, module: str, source: str, entry_points: str) -> Path:
    """Build and pip-install a one-module package into a folder of its own; returns the folder (for PYTHONPATH)."""
    package = tmp_path / "plugin-src"
    package.mkdir()
    (package / f"{module}.py").write_text(source)
    (package / "pyproject.toml").write_text(textwrap.dedent(f"""
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "harness-toy-plugin"
        version = "0.1.0"

        [tool.setuptools]
        py-modules = ["{module}"]
    """) + entry_points)
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(package)], check=True, capture_output=True)
    return target


def harness_cli(tmp_path: Path, site: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(ROOT)]))
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True)


@pytest.mark.slow
def test_an_installed_plugin_arm_runs_from_the_cli(tmp_path, tiny_model):
    site = install_plugin(tmp_path, "toy_echo_arm", ECHO, '[project.entry-points."harness.arms"]\necho = "toy_echo_arm"\n')
    answer = '{"party": "Acme Corp", "months": 2}'
    task = write_tiny_task(tmp_path, tiny_model, f"\n  - name: echo\n    type: echo\n    answer: '{answer}'\n")
    done = harness_cli(tmp_path, site, "run", str(task), "--db", str(tmp_path / "h.duckdb"), "--reports",
                       str(tmp_path / "reports"), "--workdir", str(tmp_path / "exp"), "--quiet")
    assert done.returncode == 0, done.stderr
    (arm_type, status, details), = query(tmp_path, "SELECT arm_type, status, details_json FROM arms")
    assert (arm_type, status) == ("echo", "completed") and json.loads(details)["echoed"] == answer
    assert {row[0] for row in query(tmp_path, "SELECT output FROM predictions WHERE split = 'test'")} == {answer}

    without = harness_cli(tmp_path, tmp_path / "nothing-installed", "validate", str(task), "--quiet")
    assert without.returncode == 2 and "unknown arm type 'echo'" in without.stderr.replace('"', "'"), without.stderr


def test_a_plugin_that_cannot_load_stops_the_command_naming_it(tmp_path):
    site = install_plugin(tmp_path, "toy_broken", "import not_a_module_anywhere\n",
                          '[project.entry-points."harness.backends"]\nbroken = "toy_broken"\n')
    (tmp_path / "t.yaml").write_text("name: t\n")
    done = harness_cli(tmp_path, site, "validate", str(tmp_path / "t.yaml"))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: plugin harness.backends:broken = toy_broken (harness-toy-plugin 0.1.0): cannot load: "
        "ModuleNotFoundError: No module named 'not_a_module_anywhere'"]
