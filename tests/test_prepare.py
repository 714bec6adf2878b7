"""`harness prepare` (the last step of `make install`) leaves what a default run would otherwise compute first: the
near-duplicate check's embeddings of exactly the texts that run checks, so the run's data checks find them cached."""

from __future__ import annotations

from harness.cli import main
from harness.cli.output import progress
from harness.hub import cache_root
from harness.run.checks import check_task_data
from harness.run.pipeline import RunOptions, prepare
from tests.conftest import write_tiny_task


def _embeddings() -> set[str]:
    folder = cache_root() / "embeddings"
    return {p.name for p in folder.glob("*.npy")} if folder.is_dir() else set()


def test_prepare_embeds_what_a_default_run_checks(tmp_path, tiny_model, monkeypatch):
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))  # its own: other tests embed these texts too
    task_path = write_tiny_task(tmp_path, tiny_model, n_test=12, extra="profiles:\n  quick: {test_limit: 5}\n"
                                "default_profile: quick\n")
    task_path.write_text(task_path.read_text().replace("near_duplicates: false", "near_duplicates: true"))
    assert main(["prepare", str(task_path)]) == 0
    written = _embeddings()
    assert len(written) == 3  # train, validation and the default profile's 5 test items: one file per split

    task, data, _, _ = prepare(task_path, RunOptions())  # what `harness run` checks
    assert len(data.test) == 5
    check_task_data(task, data, progress(True))
    assert _embeddings() == written  # every text found in the cache: nothing embedded again
