"""Every report family on the hand-worked fixture LA, published tables compared cell by cell.

The fixture LA (``tests/fixtures/la_small/``: three schools, 35 pupils, one-week half terms)
is written by ``make_la.py``; the expected tables in ``expected/`` were worked out by hand
from that plan, with the arithmetic in the fixture's README.md. Each report family runs once
per test session through the runner (``run_all``, as ``attendance-workbench run-all``), so
the wiring from notebook to library is tested: which column is a count, a rate or a
denominator, which term, window and cohort, the rounding (half up, one decimal place) and
the disclosure symbols (``c``, ``x``, ``z``, ``low``).

Cells where the library disagrees with the hand-worked figure and the library is wrong by
the methodology are listed in :data:`KNOWN_DISAGREEMENTS`, each with its reason: the
comparison of every other cell must pass, and the disagreeing cells are a strict xfail (so
fixing the library turns them into a failure that asks for the entry to be removed).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from attendance_lib.core.errors import ReportError
from attendance_lib.runner import run_all

REPO = Path(__file__).resolve().parent.parent
LA_SMALL = REPO / "tests" / "fixtures" / "la_small"
EXPECTED = LA_SMALL / "expected"

#: expected file (relative to ``expected/``) -> the published CSV (relative to the reports folder)
TABLES: dict[str, str] = {
    "ks2_by_band.csv": "ks2/tables/ks2_by_band.csv",
    "ks2_by_band_ci.csv": "ks2/tables/ks2_by_band_ci.csv",
    "ks4_by_band.csv": "ks4/tables/ks4_by_band.csv",
    "ks4_by_band_ci.csv": "ks4/tables/ks4_by_band_ci.csv",
    "primary_measures.csv": "impact/tables/primary_measures.csv",
    "sign_test.csv": "impact/tables/sign_test.csv",
    "secondary_measures.csv": "impact/tables/secondary_measures.csv",
    "headline.csv": "termly/tables/headline.csv",
    "by_phase.csv": "termly/tables/by_phase.csv",
    "reasons.csv": "termly/tables/reasons.csv",
    "five_categories_la.csv": "termly/tables/five_categories_la.csv",
    "tsm_100001/school_vs_la.csv": "tsm/100001/tables/school_vs_la.csv",
    "tsm_100002/school_vs_la.csv": "tsm/100002/tables/school_vs_la.csv",
    "tsm_100003/school_vs_la.csv": "tsm/100003/tables/school_vs_la.csv",
    "tsm_100002/pupils_to_discuss_summary.csv": "tsm/100002/tables/pupils_to_discuss_summary.csv",
    "cohort_summary.csv": "cohort/tables/cohort_summary.csv",
    "cohort_by_officer.csv": "cohort/tables/cohort_by_officer.csv",
}

#: expected file -> {(first-column value, column): why the library is wrong}
KNOWN_DISAGREEMENTS: dict[str, dict[tuple[str, str], str]] = {}


@pytest.fixture(scope="session")
def la_small_reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run every fixture params file once on the fixture LA; fail loudly if any report fails."""
    project = tmp_path_factory.mktemp("la_small_project")
    (project / "notebooks").symlink_to(REPO / "notebooks", target_is_directory=True)
    shutil.copytree(LA_SMALL / "params", project / "params")
    reports = project / "reports"
    try:
        outcome = run_all(
            project / "params",
            reports_dir=reports,
            workers=2,
            progress=False,
            overrides={"data_dir": str(LA_SMALL / "data")},
        )
    except ReportError as exc:
        pytest.fail(f"a report failed on the fixture LA:\n{exc}", pytrace=False)
    assert outcome.ok, outcome
    return reports


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _cells(frame: pd.DataFrame) -> Iterator[tuple[tuple[str, str], str]]:
    """((first-column value, column), value) for every cell; a repeated first-column value (a
    locality with two schools) is told apart by its second column."""
    first, second = frame.columns[0], frame.columns[1]
    repeated = frame[first].duplicated(keep=False)
    for i, row in frame.iterrows():
        label = f"{row[first]} / {row[second]}" if repeated[i] else row[first]
        for column in frame.columns[1:]:
            yield (label, column), row[column]


def _compare(name: str, reports: Path) -> tuple[dict, dict]:
    """(mismatches outside the known disagreements, mismatches inside them)."""
    expected, got = _read(EXPECTED / name), _read(reports / TABLES[name])
    assert list(got.columns) == list(expected.columns), f"{name}: columns differ"
    first = expected.columns[0]
    assert got[first].tolist() == expected[first].tolist(), f"{name}: rows differ"
    published = dict(_cells(got))
    known = KNOWN_DISAGREEMENTS.get(name, {})
    other, inside = {}, {}
    for cell, want in _cells(expected):
        if published[cell] != want:
            (inside if cell in known else other)[cell] = (want, published[cell])
    return other, inside


@pytest.mark.parametrize("name", sorted(TABLES))
def test_published_table_matches_the_hand_worked_table(name: str, la_small_reports: Path) -> None:
    other, _ = _compare(name, la_small_reports)
    assert not other, "cells differ (row, column): (hand-worked, published): " + repr(other)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason="; ".join(set(cells.values()))))
        for n, cells in sorted(KNOWN_DISAGREEMENTS.items())
    ],
)
def test_known_library_disagreements(name: str, la_small_reports: Path) -> None:
    _, inside = _compare(name, la_small_reports)
    assert not inside, f"the library still publishes {inside}"


def test_every_report_family_ran_and_published(la_small_reports: Path) -> None:
    for family in (
        "ks2",
        "ks4",
        "impact",
        "termly",
        "cohort",
        *(f"tsm/{u}" for u in (100001, 100002, 100003)),
    ):
        folder = la_small_reports / family
        assert list(folder.glob("*.html")), f"{family}: no page"
        assert (folder / "tables.xlsx").is_file(), f"{family}: no workbook"
