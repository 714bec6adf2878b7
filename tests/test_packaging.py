"""A non-editable install carries what the harness reads at run time: the report templates and the general suite's
own items and probes (package data), so `pip install .` works away from a checkout."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_wheel_install_reads_the_suite_items_and_report_templates(tmp_path):
    source = tmp_path / "src"  # built from a copy: an in-tree build would leave build/ and *.egg-info in the checkout
    shutil.copytree(ROOT / "harness", source / "harness", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path / "dist"), str(source)], check=True, capture_output=True)
    wheel = next((tmp_path / "dist").glob("harness-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"harness/regression/general/items.jsonl", "harness/regression/general/probes.jsonl",
            "harness/report/templates/report.html.j2"} <= names
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    code = ("import harness, json; from harness.regression.items import load_items; "
            "from harness.regression.probes import load_probes; "
            "print(json.dumps([harness.__file__, len(load_items()), len(load_probes())]))")
    out = subprocess.run([sys.executable, "-c", code], env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
                         cwd=tmp_path, check=True, capture_output=True, text=True).stdout
    where, n_items, n_probes = __import__("json").loads(out)
    assert where.startswith(str(target)) and n_items >= 400 and n_probes >= 40
