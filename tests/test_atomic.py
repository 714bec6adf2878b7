"""Artifacts appear whole or not at all: a write that fails (or is killed) part-way leaves nothing at the final name."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from harness.atomic import atomic_dir, atomic_file, write_text_atomic


def test_a_failed_file_write_leaves_no_file_and_no_leftover(tmp_path):
    path = tmp_path / "report.html"
    with pytest.raises(RuntimeError), atomic_file(path) as tmp:
        tmp.write_text("half a page")
        raise RuntimeError("render failed")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_rewrite_keeps_the_previous_file(tmp_path):
    path = write_text_atomic(tmp_path / "precision.json", "{}")
    with pytest.raises(RuntimeError), atomic_file(path) as tmp:
        tmp.write_text('{"half')
        raise RuntimeError
    assert path.read_text() == "{}" and list(tmp_path.iterdir()) == [path]


def test_a_failed_folder_write_leaves_no_folder(tmp_path):
    with pytest.raises(RuntimeError), atomic_dir(tmp_path / "adapter") as tmp:
        (tmp / "adapter_model.safetensors").write_bytes(b"x" * 10)
        raise RuntimeError("killed while saving")
    assert list(tmp_path.iterdir()) == []


def test_a_folder_replaces_the_old_one_whole(tmp_path):
    target = tmp_path / "merged"
    with atomic_dir(target) as tmp:
        (tmp / "old.safetensors").write_text("old")
    with atomic_dir(target) as tmp:
        (tmp / "model.safetensors").write_text("new")
    assert [p.name for p in target.iterdir()] == ["model.safetensors"]
    assert [p.name for p in tmp_path.iterdir()] == ["merged"]


def test_written_files_and_folders_have_ordinary_permissions(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    path = write_text_atomic(tmp_path / "page.html", "<p>")
    with atomic_dir(tmp_path / "adapter"):
        pass
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE((tmp_path / "adapter").stat().st_mode) == 0o777 & ~umask


def test_a_process_killed_mid_write_leaves_nothing_at_the_final_name(tmp_path):
    code = (
        "import os, signal; from harness.atomic import atomic_file\n"
        f"with atomic_file({str(tmp_path / 'out.json')!r}) as tmp:\n"
        "    tmp.write_text('{\"half')\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == -9
    assert not (tmp_path / "out.json").exists()
    assert [p.name.startswith("out.json.tmp-") for p in tmp_path.iterdir()] == [True]  # a leftover, apart


def test_the_next_write_removes_what_a_killed_writer_left(tmp_path):
    code = (
        "import os, signal; from harness.atomic import atomic_dir\n"
        f"with atomic_dir({str(tmp_path / 'merged')!r}) as tmp:\n"
        "    (tmp / 'model.safetensors').write_bytes(b'x' * 100)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == -9
    assert [p.name.startswith("merged.tmp-") for p in tmp_path.iterdir()] == [True]
    live = tmp_path / f"merged.tmp-{os.getppid()}-0000"  # a writer that still runs keeps its folder
    live.mkdir()
    with atomic_dir(tmp_path / "merged") as tmp:
        (tmp / "model.safetensors").write_bytes(b"y")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["merged", live.name]
