"""Fixtures for the runner, presentation and browser tests (imported by conftest.py).

``runner_project`` copies chosen fixture notebooks and parameter files into a temporary
project (``notebooks/``, ``params/``) so each test runs in its own folder; ``tiny_la`` writes
a three-school data folder that meets the data contract, for ``for_each: school``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from stdnum.gb import upn as stdnum_upn

REPO = Path(__file__).resolve().parent.parent
PROJECT_PARAMS_DIR = REPO / "params"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
FIXTURE_NOTEBOOKS = FIXTURES / "notebooks"
FIXTURE_PARAMS = FIXTURES / "params"
#: The three schools of the tiny LA.
TINY_LA_URNS = (100001, 100002, 100003)


def make_upn(la: int, school: int, year: int, serial: int) -> str:
    """A valid UPN: check letter + LA (3) + establishment (4) + year (2) + serial (3)."""
    body = f"{la:03d}{school:04d}{year:02d}{serial:03d}"
    return stdnum_upn.calc_check_digit(body) + body


def write_tiny_la(folder: Path) -> Path:
    """Write a three-school, six-pupil LA for 2023/24 in the data contract layout."""
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        {
            "urn": list(TINY_LA_URNS),
            "school_name": ["Moor Lane Primary", "Beck Side Primary", "High Fell Academy"],
            "phase": ["primary", "primary", "secondary"],
            "locality": ["East", "West", "South"],
        }
    ).to_csv(folder / "schools.csv", index=False)
    upns = [make_upn(380, 2000 + n, 17, n) for n in range(6)]
    urns = [TINY_LA_URNS[n % 3] for n in range(6)]
    pd.DataFrame(
        {
            "upn": upns,
            "academic_year": "2023/24",
            "urn": urns,
            "year_group": ["3", "4", "8", "5", "6", "9"],
            "sex": ["F", "M", "F", "M", "F", "M"],
            "fsm": ["false", "true", "false", "false", "true", "false"],
            "sen": ["N", "K", "N", "E", "N", "N"],
        }
    ).to_csv(folder / "pupils.csv", index=False)
    starts = ["2023-09-04", "2023-10-30", "2024-01-03", "2024-02-19", "2024-04-15", "2024-06-03"]
    ends = ["2023-10-20", "2023-12-20", "2024-02-09", "2024-03-28", "2024-05-24", "2024-07-19"]
    pd.DataFrame(
        {
            "academic_year": "2023/24",
            "half_term": range(1, 7),
            "start_date": starts,
            "end_date": ends,
        }
    ).to_csv(folder / "calendar.csv", index=False)
    marks = pd.DataFrame(
        [
            (upn, urn, day, session, code)
            for upn, urn in zip(upns, urns, strict=True)
            for day, code in (("2023-09-04", "/"), ("2023-09-05", "I"))
            for session in ("AM", "PM")
        ],
        columns=["upn", "urn", "date", "session", "code"],
    )
    marks.to_csv(folder / "marks.csv", index=False)
    return folder


@pytest.fixture
def runner_project(tmp_path: Path) -> Callable[..., Path]:
    """Make a project folder holding every fixture notebook and the named parameter files."""

    def make(*params: str, data: bool = False) -> Path:
        root = tmp_path / "project"
        (root / "params").mkdir(parents=True, exist_ok=True)
        if not (root / "notebooks").exists():
            shutil.copytree(FIXTURE_NOTEBOOKS, root / "notebooks")
        for name in params:
            shutil.copy(FIXTURE_PARAMS / f"{name}.yaml", root / "params" / f"{name}.yaml")
        if data:
            write_tiny_la(root / "data" / "la")
        return root

    return make


@pytest.fixture
def tiny_la(tmp_path: Path) -> Path:
    """A three-school data folder that meets the data contract."""
    return write_tiny_la(tmp_path / "tiny_la")


@pytest.fixture(scope="session")
def small_synthetic_la(tmp_path_factory) -> Path:
    """A small synthetic LA from :func:`attendance_lib.synth.generate` (skipped if unavailable)."""
    synth = pytest.importorskip("attendance_lib.synth")
    if not hasattr(synth, "generate"):
        pytest.skip("attendance_lib.synth.generate is not written yet")
    folder = tmp_path_factory.mktemp("synthetic_la")
    synth.generate(folder, seed=7, pupils=1200, schools=8, progress=False)
    return folder


def run_project_reports(data_dir: Path, reports: Path, what: str):
    """Every params/*.yaml of the project, run with run-all on ``data_dir`` into ``reports``.

    A school pack runs for one school (``urn=0``: the notebook's first school), not once per
    school: one of each report type is enough, and keeps the suite quick. If any report fails
    the calling test fails, loudly, with the runner's account of each failure (``what`` names
    the data): no test may pass on a report that did not run.
    """
    from attendance_lib.core.errors import ReportError
    from attendance_lib.runner import run_all

    try:
        return run_all(
            PROJECT_PARAMS_DIR,
            reports_dir=reports,
            workers=2,
            progress=False,
            overrides={"data_dir": str(data_dir), "urn": "0"},
        )
    except ReportError as exc:
        pytest.fail(f"a project report failed on {what}:\n{exc}", pytrace=False)


@pytest.fixture(scope="session")
def project_reports(small_synthetic_la, tmp_path_factory):
    """Every project report run once on the small synthetic LA: ``(reports_dir, outcome)``."""
    reports = tmp_path_factory.mktemp("project_reports")
    outcome = run_project_reports(small_synthetic_la, reports, "the small synthetic LA")
    return reports, outcome
