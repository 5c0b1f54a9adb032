"""``run`` and ``run-all`` on invalid data print every problem, as ``validate`` does (issue 13)."""

from __future__ import annotations

import pandas as pd
import pytest
from runner_fixtures import runner_project  # noqa: F401  (fixture)

from attendance_lib.cli import main


def _break(la):
    pupils = pd.read_csv(la / "pupils.csv", dtype=str)
    pupils.loc[1, "year_group"] = "twelve"
    pupils.loc[2, "sex"] = "Q"
    pupils.to_csv(la / "pupils.csv", index=False)
    marks = pd.read_csv(la / "marks.csv", dtype=str)
    marks.loc[3, "code"] = "?"
    marks.to_csv(la / "marks.csv", index=False)


@pytest.mark.parametrize("params", ["hostile", "school"])
def test_run_on_invalid_data_lists_every_problem(runner_project, tmp_path, capsys, params):  # noqa: F811
    root = runner_project(params, data=True)
    _break(root / "data" / "la")
    code = main(["run", str(root / "params" / f"{params}.yaml"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" not in err
    assert "Invalid data: " in err and "data problems found" in err
    assert "pupils.csv, row 2, column 'year_group'" in err
    assert "pupils.csv, row 3, column 'sex'" in err
    assert "marks.csv, row 4, column 'code'" in err
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("*.html"))
