"""Exit codes of the commands that ``test_cli.py`` does not cover: run, run-all, demo, synth,
partition-marks, and Ctrl-C during a run.

The README promises: 0 success, 1 invalid data or a failed report, 2 a usage error, never a
traceback. ``validate``, ``summarise``, ``cache``, ``benchmarks`` and ``import`` are covered
in their own test files. Inputs are tiny (the fixture notebooks, a six-pupil LA) so this
file stays quick.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from builders import make_upn, sessions, write_folder
from runner_fixtures import REPO, runner_project, write_tiny_la  # noqa: F401  (fixture)
from test_runner_guard import _leftovers, _wait_for

from attendance_lib.cli import main


def _main(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


# --------------------------------------------------------------------------------------
# run
# --------------------------------------------------------------------------------------


def test_run_exit_codes(runner_project, tmp_path, capsys):  # noqa: F811
    root = runner_project("trivial", "broken", "bad_type")
    params = root / "params"
    code, _, err = _main(capsys, "run", params / "trivial.yaml", "--out", tmp_path / "ok")
    assert code == 0, err
    assert (tmp_path / "ok" / "trivial.html").is_file()
    code, _, err = _main(capsys, "run", params / "broken.yaml", "--out", tmp_path / "broken")
    assert code == 1
    assert not (tmp_path / "broken" / "broken.html").exists()
    code, _, err = _main(capsys, "run", params / "bad_type.yaml", "--out", tmp_path / "bad")
    assert code == 2 and "rows" in err
    code, _, err = _main(capsys, "run", params / "missing.yaml")
    assert code == 2 and "not found" in err
    code, _, err = _main(capsys, "run", params / "trivial.yaml", "--set", "nonsense")
    assert code == 2


# --------------------------------------------------------------------------------------
# run-all
# --------------------------------------------------------------------------------------


def test_run_all_exit_codes(runner_project, tmp_path, capsys):  # noqa: F811
    root = runner_project("trivial")
    params = root / "params"
    code, out, err = _main(capsys, "run-all", params, "--reports", tmp_path / "r1")
    assert code == 0, err
    assert (tmp_path / "r1" / "index.html").is_file()
    # one failing report: the others still run, the index is written, exit 1
    runner_project("broken")
    code, out, err = _main(capsys, "run-all", params, "--reports", tmp_path / "r2")
    assert code == 1
    assert (tmp_path / "r2" / "trivial").is_dir() and (tmp_path / "r2" / "index.html").is_file()
    # a bad params file stops everything before anything runs: exit 2
    runner_project("bad_type")
    code, _, err = _main(capsys, "run-all", params, "--reports", tmp_path / "r3")
    assert code == 2 and "bad_type.yaml" in err
    assert not (tmp_path / "r3" / "trivial").exists()
    code, _, err = _main(capsys, "run-all", tmp_path / "no-params", "--reports", tmp_path / "r4")
    assert code == 2


# --------------------------------------------------------------------------------------
# demo
# --------------------------------------------------------------------------------------


def test_demo_exit_codes(tmp_path, capsys):
    la = write_tiny_la(tmp_path / "la")
    empty = tmp_path / "no-params"
    empty.mkdir()
    code, out, err = _main(
        capsys, "demo", "--data", la, "--params-dir", empty, "--reports", tmp_path / "r"
    )
    assert code == 0, err
    assert "No report parameter files" in out
    code, _, err = _main(capsys, "demo", "--data", tmp_path / "missing", "--params-dir", empty)
    assert code == 2
    (la / "marks.csv").write_text("upn,urn,date,session,code\nX,1,2023-09-04,AM,/\n")
    code, _, err = _main(capsys, "demo", "--data", la, "--params-dir", empty)
    assert code == 1 and "Invalid data" in err


# --------------------------------------------------------------------------------------
# synth
# --------------------------------------------------------------------------------------


def test_synth_exit_codes(tmp_path, capsys):
    out = tmp_path / "la"
    code, stdout, err = _main(
        capsys, "synth", "--out", out, "--pupils", "200", "--schools", "4", "--seed", "1"
    )
    assert code == 0, err
    assert (out / "schools.csv").is_file() and "Synthetic local authority written" in stdout
    code, _, err = _main(capsys, "synth")
    assert code == 2 and "--out" in err
    # sizes the generator cannot make are usage errors, not a traceback
    for option, value in (("--pupils", "60"), ("--schools", "3"), ("--true-effect", "-1")):
        code, _, err = _main(capsys, "synth", "--out", tmp_path / "small", option, value)
        assert code == 2 and ("at least" in err or "0 or more" in err), (option, err)
        assert "Traceback" not in err and not (tmp_path / "small").exists()  # nothing written
    code, _, err = _main(capsys, "synth", "--out", tmp_path / "x", "--source", out)
    assert code == 2
    with pytest.raises(SystemExit) as exc:  # argparse: not a number
        main(["synth", "--out", str(tmp_path / "y"), "--pupils", "many"])
    assert exc.value.code == 2


# --------------------------------------------------------------------------------------
# partition-marks
# --------------------------------------------------------------------------------------


def test_partition_marks_exit_codes(tmp_path, capsys):
    data = write_folder(tmp_path, marks=sessions(make_upn(1), 100001, ["/", "I", "N", "/"]))
    out = tmp_path / "marks.parquet"
    code, stdout, err = _main(capsys, "partition-marks", data / "marks.csv", out)
    assert code == 0, err
    assert "4 marks" in stdout
    code, _, err = _main(capsys, "partition-marks", data / "marks.csv", out)
    assert code != 0  # the output exists: refused without --overwrite
    code, _, err = _main(capsys, "partition-marks", tmp_path / "missing.csv", tmp_path / "o2")
    assert code == 2
    code, _, err = _main(
        capsys, "partition-marks", data / "marks.csv", tmp_path / "o3", "--by", "colour"
    )
    assert code == 2


# --------------------------------------------------------------------------------------
# Ctrl-C during a run
# --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_ctrl_c_during_run_exits_non_zero_without_traceback_or_half_written_files(
    runner_project,  # noqa: F811
    tmp_path,
):
    root = runner_project("slow")
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "attendance_lib", "run", "params/slow.yaml", "--out", str(out)]
    proc = subprocess.Popen(command, cwd=root, env=env, stderr=subprocess.PIPE, text=True)
    try:
        import psutil

        assert _wait_for(lambda: _leftovers(tmp_path) and psutil.Process(proc.pid).children())
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr  # answered at once, wherever the interrupt landed
    assert "stopped (Ctrl-C): removing unfinished reports" in stderr
    assert "Traceback" not in stderr
    assert not out.exists()
    assert _leftovers(tmp_path) == []


INTERRUPTED_WITH_A_CHILD = """
import subprocess, sys
from attendance_lib import cli

def interrupted(args):  # a kernel started, then Ctrl-C before its notebook's clean-up
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    raise KeyboardInterrupt

cli.cmd_validate = interrupted
sys.exit(cli.main(["validate", "."]))
"""


@pytest.mark.slow
def test_ctrl_c_stops_the_processes_the_run_started(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-c", INTERRUPTED_WITH_A_CHILD]
    proc = subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    try:
        _, stderr = proc.communicate(timeout=30)  # the child, left running, holds stderr open
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130 and "interrupted" in stderr and "Traceback" not in stderr
