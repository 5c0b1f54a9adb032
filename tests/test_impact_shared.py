"""The impact evaluation's heavy part is computed once and shared by the report's versions."""

from __future__ import annotations

import pandas as pd

from attendance_lib.analyses.impact import evaluation, matching, shared, windows
from attendance_lib.contract.dataset import load_dataset
from attendance_lib.core.academic_calendar import Calendar


def _moments(pool: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(list(pool.attrs["candidates"]))


def test_the_shared_basis_is_what_the_notebook_computed_and_is_read_back(tmp_path, monkeypatch):
    from attendance_lib.synth import generate

    monkeypatch.setenv("ATTENDANCE_WORKBENCH_CACHE", str(tmp_path / "cache"))
    generate(tmp_path / "la", pupils=1500, schools=6, progress=False)
    ds = load_dataset(tmp_path / "la")
    cal = Calendar(ds.calendar)
    basis = shared.impact_basis(ds, cal, started_from="2023-09-01")
    # what the notebook computed before
    sessions = windows.PupilSessions.build(ds, ds.pupils, cal)
    everything = evaluation.evaluate_interventions(
        ds.interventions, sessions, ds.pupils, ds.schools, cal, services=ds.services
    )
    evaluated = evaluation.select_interventions(everything, started_from="2023-09-01")
    pool = matching.comparison_pool(
        evaluated, sessions, ds.pupils, ds.schools, ds.interventions, ds.services
    )
    pd.testing.assert_frame_equal(basis.evaluated, evaluated)
    pd.testing.assert_frame_equal(basis.pool, pool)
    assert _moments(basis.pool).equals(_moments(pool))
    assert basis.last_date == sessions.last_date and not basis.whole_weeks
    # the second version reads it back (exact types, attrs included) ...
    monkeypatch.setattr(windows.PupilSessions, "build", None)  # would fail if called
    again = shared.impact_basis(ds, cal, started_from="2023-09-01")
    pd.testing.assert_frame_equal(again.pool, pool)
    assert _moments(again.pool).equals(_moments(pool))
    # ... but other parameters are another result
    monkeypatch.undo()
    other = shared.impact_basis(ds, cal, started_from="2023-09-01", comparison="none")
    assert other.pool is None
