"""Interrupted and concurrent runs: SIGTERM cleans up, a second run into a folder fails clearly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from runner_fixtures import REPO, runner_project  # noqa: F401  (fixture)

from attendance_lib.cli import main
from attendance_lib.runner import guard, run_report

slow = pytest.mark.slow


def _leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob(".*") if ".tmp-" in p.name or ".old-" in p.name]


def test_a_second_lock_on_a_folder_fails_at_once_naming_the_holder(tmp_path):
    out = tmp_path / "reports" / "x"
    with guard.output_lock([out]):
        with pytest.raises(
            guard.OutputBusyError, match=rf"{out}: another run .*process {os.getpid()}"
        ):
            with guard.output_lock([out]):
                pass
    with guard.output_lock([out]):  # released
        pass


def test_sweep_removes_only_this_folders_leftovers(tmp_path):
    out = tmp_path / "reports" / "good"
    (out / ".100001.tmp-ab12").mkdir(parents=True)
    (out / "100002").mkdir()
    (tmp_path / "reports" / ".good.tmp-x1").mkdir()
    (tmp_path / "reports" / ".good.old-x2").mkdir()
    (tmp_path / "reports" / ".other.tmp-x3").mkdir()
    (tmp_path / "reports" / ".good.lock").write_text("")
    removed = guard.sweep([out])
    assert sorted(p.name for p in removed) == [".100001.tmp-ab12", ".good.old-x2", ".good.tmp-x1"]
    assert (tmp_path / "reports" / ".other.tmp-x3").exists() and (out / "100002").exists()
    assert (tmp_path / "reports" / ".good.lock").exists()


@slow
def test_a_run_sweeps_what_a_killed_run_left(runner_project, tmp_path):  # noqa: F811
    root = runner_project("trivial")
    out = tmp_path / "out"
    (tmp_path / ".out.tmp-killed").mkdir()
    (tmp_path / ".out.tmp-killed" / "trivial.ipynb").write_text("{}")
    run_report(root / "params" / "trivial.yaml", out_dir=out, progress=False)
    assert _leftovers(tmp_path) == [] and (out / "trivial.html").exists()


def test_run_into_a_busy_folder_fails_clearly_and_runs_nothing(runner_project, tmp_path, capsys):  # noqa: F811
    root = runner_project("good")
    out = tmp_path / "out"
    with guard.output_lock([out]):
        code = main(["run", str(root / "params" / "good.yaml"), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and "another run is writing to this folder" in err and "Traceback" not in err
    assert not out.exists()


def _wait_for(predicate, seconds: float = 120.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@slow
def test_sigterm_removes_staging_and_kernels_and_a_concurrent_run_is_refused(
    runner_project,  # noqa: F811
    tmp_path,
):
    root = runner_project("slow")
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "attendance_lib", "run", "params/slow.yaml", "--out", str(out)]
    first = subprocess.Popen(command, cwd=root, env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert _wait_for(lambda: _leftovers(tmp_path) and psutil.Process(first.pid).children())
        # the notebook is running: a second run into the same folder is refused at once
        second = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
        assert second.returncode == 1
        assert "another run is writing to this folder" in second.stderr
        assert f"process {first.pid}" in second.stderr
        kernels = psutil.Process(first.pid).children(recursive=True)
        first.send_signal(signal.SIGTERM)
        _, stderr = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == guard.SIGTERM_EXIT, stderr
    assert "Traceback" not in stderr
    assert _leftovers(tmp_path) == []
    assert not out.exists()
    assert not [k for k in kernels if k.is_running() and k.status() != psutil.STATUS_ZOMBIE]
