"""The install is reproducible: requirements/lock.txt matches pyproject.toml, every package is pinned, the --no-deps
packages say why, the Makefile installs from these files only, and uv is given pip's package sources."""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lock_check = _script("lock_check")
pip_sources = _script("pip_sources")


@pytest.fixture
def copy(tmp_path):
    """The files the lock check reads, in a scratch folder that a test may edit."""
    for name in ("pyproject.toml", "requirements/lock.txt", "requirements/lock.in", "requirements/no-deps.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_the_lock_matches_pyproject():
    assert lock_check.problems() == []


def test_a_dependency_edited_without_relocking_fails(copy):
    pyproject = copy / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"rich>=13.0"', '"rich>=14.0"'))
    found = lock_check.problems(copy)
    assert any("make lock" in p and "was not made from" in p for p in found)
    # the locked rich 13.9.4 no longer satisfies the new range: named on its own line
    assert any("'rich>=14.0'" in p and "rich==13.9.4" in p for p in found)


def test_a_new_dependency_missing_from_the_lock_is_named(copy):
    pyproject = copy / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('    "numpy>=1.26",\n', '    "numpy>=1.26",\n    "polars>=1.0",\n'))
    assert any("'polars>=1.0' is not in requirements/lock.txt" in p for p in lock_check.problems(copy))


def test_reordering_or_commenting_needs_no_new_lock(copy):
    pyproject = copy / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(text.replace('    "numpy>=1.26",\n', '    "numpy >= 1.26",  # arrays\n'))
    assert lock_check.problems(copy) == []


def test_a_no_deps_package_needs_a_pin_and_a_reason(copy):
    no_deps = copy / "requirements/no-deps.txt"
    no_deps.write_text(no_deps.read_text() + "\nsomething==1.0\n")
    assert any("'something==1.0' has no comment above it" in p for p in lock_check.problems(copy))
    no_deps.write_text(no_deps.read_text() + "# why\nunpinned>=1\n")
    assert any("'unpinned>=1' is not pinned" in p for p in lock_check.problems(copy))


def test_a_package_in_both_files_has_one_version(copy):
    no_deps = copy / "requirements/no-deps.txt"
    no_deps.write_text(no_deps.read_text() + "\n# clashes\nnumpy==1.0.0\n")
    assert any("numpy==1.0.0, but requirements/lock.txt pins" in p for p in lock_check.problems(copy))


def test_torch_is_the_cpu_build_and_transformers_is_capped():
    locked = lock_check.pins(ROOT / "requirements/lock.txt")
    assert str(locked["torch"]).endswith("+cpu")
    assert "nvidia-cublas" not in locked and "triton" not in locked  # no CUDA build was resolved
    declared = {r.split(">")[0].split("<")[0]: r for r in lock_check.declared(ROOT)["dependencies"]}
    assert "<5.40" in declared["transformers"]  # 5.40 removes past_key_values (harness.backends.slots.cache_argument)


def test_the_makefile_installs_only_from_the_lock_files():
    recipe = (ROOT / "Makefile").read_text().replace("\\\n", " ").split("$(STAMP):", 1)[1].split("\ninstall:", 1)[0]
    installs = [line for line in recipe.splitlines() if re.search(r"\binstall\b", line) and "pip" in line]
    assert installs, recipe
    for line in installs:
        named = re.findall(r"(?<![-\w./=])([A-Za-z][\w.-]*(?:==|>=|<=|~=)[^\s]*|-r \S+|-e \.)", line)
        assert named, line
        for thing in named:
            assert thing.startswith(("-r requirements/", "-e .")) or "==" in thing, f"unpinned in the Makefile: {line}"
    assert "-r requirements/lock.txt" in recipe and "--no-deps -r requirements/no-deps.txt" in recipe


def test_uv_is_given_pips_sources():
    listing = "\n".join([
        "global.cert='/etc/ssl/certs/ca-certificates.crt'",
        "global.extra-index-url='file:///opt/pypi/simple file:///opt/pypi-more/simple'",
        "global.find-links='/opt/old'",
        ":env:.find-links='/opt/wheels'",
    ])
    flags = pip_sources.uv_flags(pip_sources.pip_config(listing))
    assert flags == ["--extra-index-url", "file:///opt/pypi/simple", "--extra-index-url", "file:///opt/pypi-more/simple",
                     "--find-links", "/opt/wheels", "--index-strategy", "unsafe-best-match"]
    assert pip_sources.uv_flags(pip_sources.pip_config("")) == []
