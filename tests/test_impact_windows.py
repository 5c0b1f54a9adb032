"""Windows around an intervention and pupil-level window counts (hand-computed values)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_impact_fixtures import calendar, marks

from attendance_lib.analyses.impact.windows import (
    MarkIndex,
    intervention_windows,
    next_year_complete,
    window_counts,
)
from attendance_lib.core.codes import CODE_GROUP, Group
from attendance_lib.core.errors import UsageError

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


# --------------------------------------------------------------------------------------
# MarkIndex against counting marks one by one
# --------------------------------------------------------------------------------------

_FIRST = pd.Timestamp("2024-01-01")
_MARK = st.tuples(
    st.sampled_from(["A", "B", "C"]),
    st.sampled_from([1, 2]),
    st.integers(0, 40).map(lambda d: _FIRST + pd.Timedelta(days=d)),
    st.sampled_from(["/", "L", "B", "I", "M", "O", "G", "X", "#", "D", "Y1"]),
    st.sampled_from(["AM", "PM"]),
)
_WINDOW = st.tuples(
    st.sampled_from(["A", "B", "C", "Z"]),
    st.integers(-5, 45),
    st.integers(-3, 30),
)


def _counted_one_by_one(m: pd.DataFrame, upn: str, start, end) -> list[int]:
    rows = m[(m["upn"].astype(str) == upn) & (m["date"] >= start) & (m["date"] <= end)]
    groups = [CODE_GROUP[str(c)] for c in rows["code"]]
    return [
        groups.count(g) for g in (Group.PRESENT, Group.AEA, Group.AUTHORISED, Group.UNAUTHORISED)
    ]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(_MARK, max_size=40, unique_by=lambda r: (r[0], r[1], r[2], r[4])),
       windows=st.lists(_WINDOW, min_size=1, max_size=8))  # fmt: skip
def test_mark_index_counts_equal_counting_marks_one_by_one(rows, windows):
    m = marks(rows)
    index = MarkIndex.build(m)
    upns = [w[0] for w in windows]
    starts = [_FIRST + pd.Timedelta(days=w[1]) for w in windows]
    ends = [s + pd.Timedelta(days=w[2]) for s, w in zip(starts, windows, strict=True)]
    got = index.counts(upns, pd.Series(starts), pd.Series(ends))
    expected = [_counted_one_by_one(m, *args) for args in zip(upns, starts, ends, strict=True)]
    assert got.tolist() == expected
    if rows:
        assert index.last_date == max(r[2] for r in rows)  # not-possible marks count here


def test_mark_index_reads_a_parquet_file_as_it_reads_a_frame(tmp_path):
    m = marks([("A", 1, "2024-01-02", "/"), ("A", 2, "2024-01-02", "N", "PM"),
               ("B", 1, "2024-01-03", "I"), ("B", 1, "2024-01-04", "X")])  # fmt: skip
    path = tmp_path / "marks.parquet"
    m.astype({"upn": str, "code": str, "session": str}).to_parquet(path)
    window = (pd.Series([_FIRST] * 3), pd.Series([_FIRST + pd.Timedelta(days=9)] * 3))
    from_frame = MarkIndex.build(m).counts(["A", "B", "Z"], *window)
    from_file = MarkIndex.build(path).counts(["A", "B", "Z"], *window)
    np.testing.assert_array_equal(from_file, from_frame)
    assert from_file.tolist() == [[1, 0, 0, 1], [0, 0, 1, 0], [0, 0, 0, 0]]


def test_mark_index_refuses_unknown_codes():
    with pytest.raises(ValueError, match="unknown register codes: QQ"):
        MarkIndex.build(marks([("A", 1, "2024-01-02", "/"), ("A", 1, "2024-01-03", "QQ")]))


def test_mark_index_without_possible_marks_counts_nothing():
    index = MarkIndex.build(marks([("A", 1, "2024-01-02", "X")]))
    assert index.counts(["A"], _FIRST, _FIRST + pd.Timedelta(days=5)).tolist() == [[0, 0, 0, 0]]
    assert index.last_date == pd.Timestamp("2024-01-02")
