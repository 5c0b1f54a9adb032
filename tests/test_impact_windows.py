"""Windows around an intervention and pupil-level window counts (hand-computed values)."""

from __future__ import annotations

import pandas as pd
import pytest
from test_impact_fixtures import calendar, marks

from attendance_lib.analyses.impact_windows import (
    intervention_windows,
    next_year_complete,
    window_counts,
)
from attendance_lib.errors import UsageError

START = pd.Timestamp("2024-01-15")
D = pd.Timedelta(days=1)


def test_twelve_week_windows_are_84_days_each_side():
    w = intervention_windows(pd.Series([START]), calendar(), weeks=12).iloc[0]
    assert w["baseline_start"] == START - 84 * D
    assert w["baseline_end"] == START - D
    assert w["review_start"] == START
    assert w["review_end"] == START + 83 * D


def test_year_to_date_baseline_starts_on_the_first_day_of_the_year():
    w = intervention_windows(pd.Series([START]), calendar(), baseline="year_to_date").iloc[0]
    assert w["baseline_start"] == pd.Timestamp("2023-09-04")
    assert w["baseline_end"] == START - D


def test_bad_baseline_is_a_usage_error():
    with pytest.raises(UsageError):
        intervention_windows(pd.Series([START]), calendar(), baseline="last_year")


def test_window_edges():
    # start-85 and start+84 are outside; start-84, start-1, start and start+83 are inside.
    m = marks(
        [
            ("A", 1, START - 85 * D, "N"),
            ("A", 1, START - 84 * D, "/"),
            ("A", 1, START - D, "N"),
            ("A", 1, START, "/"),
            ("A", 1, START + 83 * D, "/"),
            ("A", 1, START + 84 * D, "N"),
        ]
    )
    w = intervention_windows(pd.Series([START]), calendar())
    req = pd.concat([pd.Series(["A"], name="upn"), w], axis=1)
    base = window_counts(m, req, start="baseline_start", end="baseline_end").iloc[0]
    rev = window_counts(m, req, start="review_start", end="review_end").iloc[0]
    assert base["sessions_possible"] == 2 and base["attendance_pct"] == 50.0
    assert rev["sessions_possible"] == 2 and rev["attendance_pct"] == 100.0


def test_window_counts_sum_a_pupils_enrolments_and_skip_not_possible_codes():
    m = marks(
        [
            ("A", 1, "2024-01-02", "/"),
            ("A", 1, "2024-01-03", "O"),
            ("A", 2, "2024-01-04", "/"),
            ("A", 2, "2024-01-05", "X"),
            ("A", 2, "2024-01-05", "#", "PM"),
            ("B", 1, "2024-01-03", "I"),
        ]
    )
    req = pd.DataFrame(
        {
            "upn": ["A", "B", "C"],
            "start": pd.Timestamp("2024-01-01"),
            "end": pd.Timestamp("2024-01-31"),
        }
    )
    out = window_counts(m, req).set_index("upn")
    assert out.loc["A", "sessions_possible"] == 3
    assert out.loc["A", "sessions_unauthorised"] == 1
    assert out.loc["A", "attendance_pct"] == pytest.approx(200 / 3)
    assert out.loc["B", "persistent_absent"]
    assert out.loc["C", "sessions_possible"] == 0  # no marks at all: nothing possible


def test_next_year_is_complete_only_when_data_reach_its_last_day():
    cal = calendar()
    starts = pd.Series([pd.Timestamp("2023-10-02"), pd.Timestamp("2024-10-01")])
    early = next_year_complete(starts, cal, pd.Timestamp("2025-07-17"))
    assert list(early["next_year"]) == ["2024/25", "2025/26"]
    assert list(early["next_year_complete"]) == [False, False]
    done = next_year_complete(starts, cal, pd.Timestamp("2025-07-18"))
    assert list(done["next_year_complete"]) == [True, False]  # 2025/26 not in calendar.csv
