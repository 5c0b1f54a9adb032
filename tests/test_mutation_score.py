"""The mutation score script (``tests/mutation_score.py``) on hand-made mutmut results."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mutation_score

MODULES = ["attendance_lib/a.py", "attendance_lib/b.py"]


def _project(tmp_path: Path, results: dict[str, dict[str, int | None]]) -> Path:
    """A project folder whose only_mutate lists MODULES and whose mutants/ holds ``results``."""
    listed = ", ".join(f'"{m}"' for m in MODULES)
    (tmp_path / "pyproject.toml").write_text(f"[tool.mutmut]\nonly_mutate = [{listed}]\n")
    for path, exit_codes in results.items():
        meta = tmp_path / "mutants" / f"{path}.meta"
        meta.parent.mkdir(parents=True, exist_ok=True)
        meta.write_text(json.dumps({"exit_code_by_key": exit_codes, "durations_by_key": {}}))
    return tmp_path


def _codes(killed: int = 0, survived: int = 0, timeout: int = 0, unrun: int = 0) -> dict:
    codes = [1] * killed + [0] * survived + [36] * timeout + [None] * unrun
    return {f"m_{i}": code for i, code in enumerate(codes)}


def test_the_score_counts_killed_and_timed_out_mutants_over_every_mutant():
    score = mutation_score.ModuleScore("x.py", mutants=20, detected=17, survived=2)
    assert score.not_run == 1
    assert score.score == pytest.approx(17 / 20)
    assert score.score_of_run == pytest.approx(17 / 19)
    assert mutation_score.ModuleScore("empty.py", 0, 0, 0).score is None


def test_exactly_90_percent_over_every_module_passes_and_prints_each_row(tmp_path, capsys):
    # 9 + 9 detected (one by a timeout) of 10 + 10: exactly 90%, with 80% and 100% modules
    root = _project(
        tmp_path,
        {MODULES[0]: _codes(killed=8, survived=2), MODULES[1]: _codes(killed=9, timeout=1)},
    )
    assert mutation_score.main(["--root", str(root)]) == 0
    out = capsys.readouterr().out
    assert "attendance_lib/a.py" in out and "80.0%" in out
    assert "attendance_lib/b.py" in out and "100.0%" in out
    assert "total" in out and "90.0%" in out and "target 90% met" in out


def test_one_survivor_more_is_under_the_target_and_fails(tmp_path, capsys):
    root = _project(
        tmp_path,
        {MODULES[0]: _codes(killed=7, survived=3), MODULES[1]: _codes(killed=10)},
    )
    assert mutation_score.main(["--root", str(root)]) == 1
    assert "85.0% is under the target 90%" in capsys.readouterr().err


def test_a_mutant_not_run_fails_a_complete_check_but_not_a_partial_one(tmp_path, capsys):
    root = _project(
        tmp_path,
        {MODULES[0]: _codes(killed=19, unrun=1), MODULES[1]: _codes(killed=10)},
    )
    assert mutation_score.main(["--root", str(root)]) == 1
    assert "1 mutant(s) not run" in capsys.readouterr().err
    assert mutation_score.main(["--root", str(root), "--partial"]) == 0
    out = capsys.readouterr().out
    assert "a partial run" in out and "100.0%" in out


def test_a_module_without_results_is_named_and_fails_a_complete_check(tmp_path, capsys):
    root = _project(tmp_path, {MODULES[0]: _codes(killed=10)})
    assert mutation_score.main(["--root", str(root)]) == 1
    captured = capsys.readouterr()
    assert "attendance_lib/b.py  no results" in captured.out
    assert "1 module(s) without results" in captured.err


def test_no_covering_test_and_suspicious_count_as_not_caught_and_skipped_as_left_out(
    tmp_path, capsys
):
    # mutmut's exit codes: 1 killed, 36 timeout, 0 survived, 33 and 5 no tests (final: a
    # later run does not revisit them), 35 suspicious, 4 unknown (read as suspicious),
    # 34 skipped, None not checked, 2 interrupted
    codes = [1] * 18 + [36] + [0, 33, 5, 35, 4] + [34, 34] + [None, 2]
    root = _project(
        tmp_path,
        {MODULES[0]: {f"m_{i}": c for i, c in enumerate(codes)}, MODULES[1]: _codes(killed=1)},
    )
    score = mutation_score.module_score(MODULES[0], root / "mutants")
    assert (score.mutants, score.detected, score.survived, score.not_run) == (26, 19, 5, 2)
    # with --partial, 19 caught of 24 with a result: 79.2%, under the target
    assert mutation_score.main(["--root", str(root), "--partial"]) == 1
    assert "80.0% is under the target" in capsys.readouterr().err  # 20 of 25 in total


def test_a_glob_in_only_mutate_names_the_files_it_matches(tmp_path):
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    for name in ["pkg/a.py", "pkg/b.py", "pkg/sub/c.py", "pkg/notes.txt"]:
        (tmp_path / name).write_text("")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.mutmut]\nonly_mutate = ["pkg/b.py", "pkg/*", "other.py"]\n'
    )
    modules = mutation_score.mutated_modules(tmp_path / "pyproject.toml")
    assert modules == ["pkg/b.py", "pkg/a.py", "pkg/sub/c.py", "other.py"]


def test_no_results_at_all_exits_2_and_says_what_to_run(tmp_path, capsys):
    root = _project(tmp_path, {})
    assert mutation_score.main(["--root", str(root)]) == 2
    assert "make mutation" in capsys.readouterr().err


def test_it_reads_the_modules_that_pyproject_lists_for_mutation():
    repo = Path(__file__).resolve().parents[1]
    modules = mutation_score.mutated_modules(repo / "pyproject.toml")
    assert "attendance_lib/runner/privacy.py" in modules
    assert "attendance_lib/present/notebook.py" in modules
    assert all((repo / m).is_file() for m in modules)
