"""Every shipped task file validates, data checks included; `harness init` scaffolds one that does too."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.progress import Progress

from harness.cli import main
from harness.run.pipeline import validate_task

ROOT = Path(__file__).parent.parent
TASKS = sorted((ROOT / "tasks").glob("*.yaml"))


def test_the_example_tasks_are_there():
    assert {p.stem for p in TASKS} >= {"contracts", "support_tickets", "clause_summaries"}


@pytest.mark.parametrize("path", TASKS, ids=[p.stem for p in TASKS])
def test_shipped_task_validates(path):
    with Progress(disable=True) as progress:
        task, data, report, written = validate_task(path, progress)
    assert not report.errors, [f.line() for f in report.errors]
    assert data.train and data.test and not written
    assert report.stats["tokens"]["context_window"] == 8192
    for split in ("train", "validation", "test"):
        assert report.stats["tokens"][split]["target_tokens"]["max"] <= task.spec.generation.max_new_tokens


def test_contracts_is_big_and_varied_enough():
    with Progress(disable=True) as progress:
        task, data, report, _ = validate_task(ROOT / "tasks" / "contracts.yaml", progress)
    assert len(list(data.all())) >= 800
    assert all(ex.gold_doc_ids for ex in data.test if '"governing_law": null' not in ex.target)


def test_init_scaffolds_a_task_that_validates(tmp_path, capsys):
    assert main(["init", "invoices", "--dir", str(tmp_path)]) == 0
    assert (tmp_path / "invoices" / "DATA_CARD.md").is_file()
    text = (tmp_path / "invoices.yaml").read_text()
    assert text.count("#") > 10  # commented
    assert main(["validate", str(tmp_path / "invoices.yaml"), "--quiet"]) == 0
    assert main(["init", "invoices", "--dir", str(tmp_path)]) == 2  # never overwrites
    assert "already exists" in capsys.readouterr().err


def test_init_leaves_nothing_behind_when_it_fails_part_way(tmp_path, monkeypatch):
    import harness.spec.scaffold

    monkeypatch.setattr(harness.spec.scaffold, "CARD_TEMPLATE", "{no_such_field}")  # fails after the data files
    with pytest.raises(KeyError):
        harness.spec.scaffold.scaffold("invoices", tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert main(["init", "Bad Name", "--dir", str(tmp_path)]) == 2
