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
    PupilSessions,
    intervention_windows,
    next_year_complete,
    window_counts,
)
from attendance_lib.core.codes import CODE_GROUP, Group
from attendance_lib.core.errors import UsageError

START = pd.Timestamp("2024-01-15")
D = pd.Timedelta(days=1)


def test_review_window_is_60_school_days_across_half_term_and_easter():
    # Mon 15 Jan 2024: 20 school days to 9 Feb, February half term passed over, 29 to
    # 28 Mar (49 in all), Easter passed over, 15 Apr to 29 Apr makes 60.
    w = intervention_windows(pd.Series([START]), calendar(), weeks=12).iloc[0]
    assert w["review_start"] == START
    assert w["review_end"] == pd.Timestamp("2024-04-29")
    # baseline: 8 days in January, 37 in half term 2 (30 Oct - 19 Dec) and the last 15 of half
    # term 1, back to Mon 2 Oct 2023 (the Christmas and October breaks passed over).
    assert w["baseline_start"] == pd.Timestamp("2023-10-02")
    assert w["baseline_end"] == START - D
    assert w["baseline_days"] == 60 and not w["baseline_short"]
    # the earlier window has only the 20 school days of September 2023 in the calendar
    assert w["earlier_start"] == pd.Timestamp("2023-09-04")
    assert w["earlier_end"] == pd.Timestamp("2023-10-01")
    assert pd.isna(w["history_start"])
    assert not w["crosses_summer"]


def test_a_window_across_the_summer_is_flagged_and_passes_over_the_holiday():
    start = pd.Timestamp("2024-06-24")  # 20 school days to 19 July, then 2024/25 from 2 Sep
    w = intervention_windows(pd.Series([start]), calendar()).iloc[0]
    assert w["review_end"] == pd.Timestamp("2024-11-01")  # October half term passed over
    assert w["crosses_summer"]


def test_a_short_baseline_uses_what_there_is_and_says_so():
    start = pd.Timestamp("2023-10-02")  # 20 school days of data before it
    w = intervention_windows(pd.Series([start]), calendar()).iloc[0]
    assert w["baseline_start"] == pd.Timestamp("2023-09-04")
    assert w["baseline_days"] == 20 and w["baseline_short"]
    assert pd.isna(w["earlier_start"])


def test_a_review_beyond_the_calendar_has_no_end():
    w = intervention_windows(pd.Series([pd.Timestamp("2025-07-01")]), calendar()).iloc[0]
    assert pd.isna(w["review_end"])


def test_calendar_weeks_keep_the_84_day_windows():
    w = intervention_windows(pd.Series([START]), calendar(), weeks=12, unit="calendar_weeks").iloc[
        0
    ]
    assert w["baseline_start"] == START - 84 * D
    assert w["baseline_end"] == START - D
    assert w["review_start"] == START
    assert w["review_end"] == START + 83 * D


def test_year_to_date_baseline_starts_on_the_first_day_of_the_year():
    w = intervention_windows(pd.Series([START]), calendar(), baseline="year_to_date").iloc[0]
    assert w["baseline_start"] == pd.Timestamp("2023-09-04")
    assert w["baseline_end"] == START - D


def test_bad_baseline_unit_or_weeks_is_a_usage_error_naming_the_choices():
    s = pd.Series([START])
    with pytest.raises(
        UsageError, match=r"^baseline must be one of weeks_before, year_to_date, got 'last_year'$"
    ):
        intervention_windows(s, calendar(), baseline="last_year")
    with pytest.raises(
        UsageError,
        match=r"^window unit must be one of school_days, calendar_weeks, got 'fortnights'$",
    ):
        intervention_windows(s, calendar(), unit="fortnights")
    with pytest.raises(UsageError, match=r"^weeks must be at least 1, got 0$"):
        intervention_windows(s, calendar(), weeks=0)
    # one week is allowed: Monday 15 January 2024 to Friday 19 January
    assert intervention_windows(s, calendar(), weeks=1).iloc[0]["review_end"] == START + 4 * D


def test_window_edges():
    # the last baseline day before the start (2 Oct 2023 .. 14 Jan 2024) and the review's
    # (15 Jan .. 29 Apr 2024) are inside; the days just outside are not.
    m = marks(
        [
            ("A", 1, "2023-09-29", "N"),
            ("A", 1, "2023-10-02", "/"),
            ("A", 1, START - D, "N"),
            ("A", 1, START, "/"),
            ("A", 1, "2024-04-29", "/"),
            ("A", 1, "2024-04-30", "N"),
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
    # the bounds of the following year, on the starts' own index
    starts.index = [10, 11]
    done = next_year_complete(starts, cal, pd.Timestamp("2025-07-18"))
    assert list(done.index) == [10, 11]
    assert done.loc[10, "next_year_start"] == cal.year_bounds("2024/25")[0]
    assert done.loc[10, "next_year_end"] == pd.Timestamp("2025-07-18")
    assert done.loc[11, ["next_year_start", "next_year_end"]].isna().all()


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


def test_mark_index_read_in_small_pieces_is_the_same_index(monkeypatch):
    from attendance_lib.core import sql_engines

    rows = [
        (upn, urn, _FIRST + pd.Timedelta(days=d), code, session)
        for upn, urn in (("A", 1), ("B", 1), ("C", 2), ("A", 2))
        for d in range(0, 12)
        for code, session in (("/", "AM"), ("N" if d % 3 else "I", "PM"))
    ]
    m = marks(rows)
    whole = MarkIndex.build(m)
    monkeypatch.setattr(sql_engines, "BATCH_ROWS", 5)
    pieces = MarkIndex.build(m)
    assert sorted(pieces.categories) == sorted(whole.categories) == ["A", "B", "C"]
    np.testing.assert_array_equal(pieces.days, whole.days)
    upns = ["A", "B", "C", "Z"]
    for lo, hi in ((0, 11), (2, 5), (7, 7)):
        window = (_FIRST + pd.Timedelta(days=lo), _FIRST + pd.Timedelta(days=hi))
        np.testing.assert_array_equal(pieces.counts(upns, *window), whole.counts(upns, *window))
    with pytest.raises(ValueError, match="unknown register codes: QQ"):
        MarkIndex.build(marks([*rows, ("C", 2, _FIRST, "QQ", "PM")][::-1]))


def test_mark_index_refuses_unknown_codes():
    with pytest.raises(ValueError, match="unknown register codes: QQ"):
        MarkIndex.build(marks([("A", 1, "2024-01-02", "/"), ("A", 1, "2024-01-03", "QQ")]))


def test_mark_index_without_possible_marks_counts_nothing():
    index = MarkIndex.build(marks([("A", 1, "2024-01-02", "X")]))
    assert index.counts(["A"], _FIRST, _FIRST + pd.Timedelta(days=5)).tolist() == [[0, 0, 0, 0]]
    assert index.last_date == pd.Timestamp("2024-01-02")


def test_window_counts_leave_year_11_study_leave_out_only_when_they_know_the_pupils():
    from test_pupil_sessions import PUPILS, STUDY

    m = marks(STUDY)
    # Y is in Year 11 (5 present, then 5 on study leave from half term 6); W is in Year 10
    req = pd.DataFrame(
        {"upn": ["Y", "W"], "from": pd.Timestamp("2024-05-20"), "to": pd.Timestamp("2024-06-30")}
    )
    cols = {"start": "from", "end": "to"}

    def possible(out):
        return out.set_index("upn")["sessions_possible"].to_dict()

    with_pupils = window_counts(m, req, pupils=PUPILS, calendar=calendar(), **cols)
    assert possible(with_pupils) == {"Y": 5, "W": 10}
    built = PupilSessions.build(m, PUPILS, calendar())
    assert possible(window_counts(built, req, **cols)) == {"Y": 5, "W": 10}
    # without the pupils (or the calendar) every possible session counts, S included
    assert possible(window_counts(m, req, **cols)) == {"Y": 10, "W": 10}
    assert possible(window_counts(MarkIndex.build(m), req, **cols)) == {"Y": 10, "W": 10}
    assert possible(window_counts(m, req, pupils=PUPILS, **cols)) == {"Y": 10, "W": 10}
    assert possible(window_counts(m, req, calendar=calendar(), **cols)) == {"Y": 10, "W": 10}
    assert with_pupils.set_index("upn").loc["W", "attendance_pct"] == 50.0


# School days in the fixture calendar, counted by hand from HALF_TERMS: 2023/24 has 35, 37,
# 28, 29, 30 and 35 (indices 0-34, 35-71, 72-99, 100-128, 129-158, 159-193); 2024/25 starts
# at index 194 (Monday 2 September 2024) with 35 and 38.
@pytest.mark.parametrize(
    "start, baseline_start, baseline_days, earlier, history",
    [
        # index 0 (Mon 4 Sep 2023, the data's first day): an empty baseline, short
        ("2023-09-04", "2023-09-04", 0, None, None),
        # index 40 (Mon 6 Nov 2023): fewer than 60 school days before, so no earlier window
        ("2023-11-06", "2023-09-04", 40, None, None),
        # index 60 (Mon 4 Dec 2023): the baseline is exactly the first 60 days; no earlier
        ("2023-12-04", "2023-09-04", 60, None, None),
        # index 61: the earlier window is the first school day alone; no history
        ("2023-12-05", "2023-09-05", 60, ("2023-09-04", "2023-09-04"), None),
        # index 80 (Mon 15 Jan 2024): baseline from index 20 (Mon 2 Oct); earlier from index 0
        ("2024-01-15", "2023-10-02", 60, ("2023-09-04", "2023-10-01"), None),
        # index 120 (Mon 18 Mar 2024): baseline from index 60, earlier exactly indices 0-59;
        # still no history
        ("2024-03-18", "2023-12-04", 60, ("2023-09-04", "2023-12-03"), None),
        # index 121: the history is the first school day alone
        (
            "2024-03-19",
            "2023-12-05",
            60,
            ("2023-09-05", "2023-12-04"),
            ("2023-09-04", "2023-09-04"),
        ),
        # index 267 (Mon 6 Jan 2025): baseline from index 207 (Thu 19 Sep 2024), earlier from
        # index 147 (Thu 9 May 2024); the 380-day history reaches back past the data's start
        (
            "2025-01-06",
            "2024-09-19",
            60,
            ("2024-05-09", "2024-09-18"),
            ("2023-09-04", "2024-05-08"),
        ),
    ],
)
def test_earlier_and_history_windows_in_school_days(
    start, baseline_start, baseline_days, earlier, history
):
    starts = pd.Series([pd.Timestamp(start)], index=[7])
    w = intervention_windows(starts, calendar())
    assert list(w.index) == [7]
    row = w.loc[7]
    assert row["baseline_start"] == pd.Timestamp(baseline_start)
    assert row["baseline_end"] == pd.Timestamp(start) - D
    # 60 school days wanted
    assert (row["baseline_days"], row["baseline_short"]) == (baseline_days, baseline_days < 60)
    for name, expected in (("earlier", earlier), ("history", history)):
        got = (row[f"{name}_start"], row[f"{name}_end"])
        if expected is None:
            assert pd.isna(got[0]) and pd.isna(got[1]), name
        else:
            assert got == (pd.Timestamp(expected[0]), pd.Timestamp(expected[1])), name


def test_a_year_to_date_baseline_counts_the_school_days_of_its_own_year():
    # Monday 6 January 2025 is index 267; 2024/25 starts at index 194: 73 school days before it
    w = intervention_windows(
        pd.Series([pd.Timestamp("2025-01-06")]), calendar(), baseline="year_to_date"
    ).iloc[0]
    assert w["baseline_start"] == pd.Timestamp("2024-09-02")
    assert (w["baseline_days"], w["baseline_short"]) == (73, False)
    # fewer than 60 days into the year is not short: the year to date is all there is
    w = intervention_windows(
        pd.Series([pd.Timestamp("2024-09-30")]), calendar(), baseline="year_to_date"
    ).iloc[0]
    assert (w["baseline_days"], w["baseline_short"]) == (20, False)
    # Tuesday 7 January 2025 with data from Tuesday 3 September: one day of 74 missing
    w = intervention_windows(
        pd.Series([pd.Timestamp("2025-01-07")]),
        calendar(),
        baseline="year_to_date",
        first_date="2024-09-03",
    ).iloc[0]
    assert (w["baseline_days"], w["baseline_short"]) == (73, True)


def test_earlier_and_history_windows_in_calendar_weeks():
    w = intervention_windows(pd.Series([START]), calendar(), unit="calendar_weeks").iloc[0]
    # 12 weeks = 84 days: earlier is the 84 days before the baseline, history the year before
    assert (w["earlier_start"], w["earlier_end"]) == (START - 168 * D, START - 85 * D)
    assert (w["history_start"], w["history_end"]) == (START - 533 * D, START - 169 * D)
    # the baseline, 23 October 2023 to 14 January 2024, holds 45 school days (37 in the
    # second half term, 8 in January) and all of them are in the data
    assert (w["baseline_days"], w["baseline_short"]) == (45, False)
