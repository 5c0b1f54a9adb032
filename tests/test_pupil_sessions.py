"""Which sessions count for a pupil (analyses/shared/pupil_sessions.py), hand-computed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_impact_fixtures import calendar, days, marks

from attendance_lib.analyses.shared.pupil_sessions import (
    MarkIndex,
    PupilSessions,
    pupil_summary,
    school_days,
    study_leave,
    year_11_years,
)
from attendance_lib.core.academic_calendar import Calendar
from attendance_lib.core.errors import UsageError


def _pupils(rows):
    """(upn, academic_year, urn, year_group, date_of_birth) rows."""
    out = pd.DataFrame(rows, columns=["upn", "academic_year", "urn", "year_group", "date_of_birth"])
    return out.assign(date_of_birth=pd.to_datetime(out["date_of_birth"]))


# Y: aged 15 on 31 Aug 2023 (Year 11 in 2023/24); W: aged 14 (Year 10); Q: no date of birth,
# year group 11.
PUPILS = _pupils(
    [
        ("Y", "2023/24", 1, "11", "2008-05-01"),
        ("W", "2023/24", 1, "10", "2009-05-01"),
        ("Q", "2023/24", 1, "11", None),
    ]
)
# Five weekdays at the end of half term 5 present, five in half term 6 on study leave (S).
STUDY = []
for u in ("Y", "W", "Q"):
    STUDY += days("2024-05-20", 5, "/", u) + days("2024-06-03", 5, "S", u)


def test_school_days_are_weekdays_inside_half_terms():
    d = school_days(calendar(("2023/24",)))
    assert d[0] == np.datetime64("2023-09-04") and d[-1] == np.datetime64("2024-07-19")
    assert np.datetime64("2023-10-23") not in d  # October half term
    assert np.datetime64("2023-09-09") not in d  # a Saturday
    assert len(d) == 35 + 37 + 28 + 29 + 30 + 35  # the six half terms counted by hand


def test_year_11_by_age_on_31_august_else_year_group():
    got = year_11_years(PUPILS)
    assert sorted(got["upn"]) == ["Q", "Y"]
    leave = study_leave(PUPILS, calendar())
    assert set(leave["start"]) == {pd.Timestamp("2024-06-03")}
    assert set(leave["end"]) == {pd.Timestamp("2024-07-19")}


def test_study_leave_does_not_count_for_year_11():
    ps = PupilSessions.build(marks(STUDY), PUPILS, calendar())
    req = pd.DataFrame(
        {
            "upn": ["Y", "W", "Q"],
            "start": pd.Timestamp("2024-05-20"),
            "end": pd.Timestamp("2024-06-30"),
        }
    )
    out = ps.window_counts(req).set_index("upn")
    # Year 11: 5 present of 5 that count (the days are AM marks only, one session a day)
    assert out.loc["Y", "sessions_possible"] == 5 and out.loc["Y", "attendance_pct"] == 100.0
    assert not out.loc["Y", "persistent_absent"]
    assert out.loc["Q", "sessions_possible"] == 5
    # Year 10: the S marks count as authorised absence, 5 of 10
    assert out.loc["W", "sessions_possible"] == 10 and out.loc["W", "attendance_pct"] == 50.0
    assert out.loc["W", "sessions_authorised"] == 5


def test_pupil_summary_takes_study_leave_out_too():
    s = pupil_summary(
        marks(STUDY), "2024-05-01", "2024-07-19", PUPILS, calendar(), by="pupil"
    ).table.set_index("upn")
    assert s.loc["Y", "sessions_possible"] == 5 and s.loc["Y", "absence_pct"] == 0.0
    assert s.loc["W", "sessions_possible"] == 10 and s.loc["W", "persistent_absent"]
    only_leave = pupil_summary(marks(STUDY), "2024-06-03", "2024-06-07", PUPILS, calendar())
    assert set(only_leave.zero_possible["upn"]) == {"Y", "Q"}
    assert list(only_leave.table["upn"]) == ["W"]


def test_year_6_into_year_7_sums_both_schools_and_can_stay_in_the_year():
    # Year 6 at school 1 to 19 July 2024, Year 7 at school 2 from 2 Sep 2024
    rows = days("2024-07-15", 5, "/", "S6", urn=1) + days("2024-09-02", 5, "O", "S6", urn=2)
    pup = _pupils(
        [("S6", "2023/24", 1, "6", "2013-01-10"), ("S6", "2024/25", 2, "7", "2013-01-10")]
    )
    ps = PupilSessions.build(marks(rows), pup, calendar())
    whole = ps.counts(["S6"], pd.Timestamp("2024-07-15"), pd.Timestamp("2024-09-06"))
    assert whole.tolist() == [[5, 0, 0, 5]]  # both schools, pupil level
    in_year = ps.counts(
        ["S6"], pd.Timestamp("2024-07-15"), pd.Timestamp("2024-09-06"), academic_years="2023/24"
    )
    assert in_year.tolist() == [[5, 0, 0, 0]]  # clipped to 2023/24's half terms
    next_year = ps.counts(
        ["S6"], pd.Timestamp("2024-07-15"), pd.Timestamp("2024-09-06"), academic_years=["2024/25"]
    )
    assert next_year.tolist() == [[0, 0, 0, 5]]


def test_pupil_summary_by_enrolment_open_ended_and_clipped_at_its_end():
    """Y (Year 11 in 2023/24): 5 days present at school 1 in half term 5, then 5 days
    present at school 2 in half term 6 (study leave). W (Year 10): 5 present, then 5 absent
    (O) in half term 6 at school 1."""
    rows = (
        days("2024-05-20", 5, "/", "Y", urn=1)
        + days("2024-06-03", 5, "/", "Y", urn=2)
        + days("2024-05-20", 5, "/", "W", urn=1)
        + days("2024-06-03", 5, "O", "W", urn=1)
    )
    m = marks(rows)
    every = pupil_summary(m, None, None, PUPILS, calendar(), by="enrolment")
    t = every.table
    assert t[["upn", "urn", "sessions_possible", "sessions_present"]].values.tolist() == [
        ["W", 1, 10, 5],
        ["Y", 1, 5, 5],
    ]
    # Y's school-2 enrolment is all study leave: no possible session
    assert every.zero_possible[["upn", "urn"]].values.tolist() == [["Y", 2]]
    # to 5 June: Y has 5 + 3 marks, the 3 in study leave do not count; W 5 present, 3 absent
    to_5_june = pupil_summary(m, "2024-05-01", "2024-06-05", PUPILS, calendar()).table
    got = to_5_june.set_index("upn")[["sessions_possible", "sessions_present"]]
    assert got.loc["Y"].tolist() == [5, 5] and got.loc["W"].tolist() == [8, 5]
    assert "index" not in t.columns and t.index.tolist() == [0, 1]
    assert list(every.zero_possible.columns) == ["upn", "urn"]
    assert every.zero_possible.index.tolist() == [0]
    # from 5 June, inside the study leave: Y's 3 marks there do not count; W 3 absent
    from_5_june = pupil_summary(m, "2024-06-05", None, PUPILS, calendar())
    assert from_5_june.zero_possible["upn"].tolist() == ["Y"]
    assert from_5_june.table[["upn", "sessions_possible"]].values.tolist() == [["W", 3]]
    # a window of one study-leave day: nothing counts for Y
    one_day = pupil_summary(m, "2024-06-03", "2024-06-03", PUPILS, calendar())
    assert one_day.zero_possible["upn"].tolist() == ["Y"]
    assert one_day.table[["upn", "sessions_possible"]].values.tolist() == [["W", 1]]


def test_pupil_summary_takes_each_years_study_leave_out():
    """Z is in Year 11 in 2024/25 (15 on 31 August 2024); Y in 2023/24 but has no marks in
    its study leave. Z: 5 days present in half term 5 and 5 in half term 6 of 2024/25."""
    pupils = pd.concat(
        [PUPILS, _pupils([("Z", "2024/25", 1, "11", "2009-05-01")])], ignore_index=True
    )
    rows = days("2024-05-20", 5, "/", "Y") + days("2025-05-19", 5, "/", "Z")
    rows += days("2025-06-02", 5, "/", "Z")
    m = marks(rows)
    for start in (None, "2025-01-01"):  # with and without 2023/24's leave in the window
        t = pupil_summary(m, start, "2025-07-18", pupils, calendar()).table.set_index("upn")
        assert t.loc["Z", "sessions_possible"] == 5


def test_year_11_goes_by_date_of_birth_against_the_year_group_and_empty_pupils_give_none():
    # A: aged 15 on 31 August 2023 but recorded in Year 10; B: aged 14 but recorded in Year 11
    p = _pupils([("A", "2023/24", 1, "10", "2008-05-01"), ("B", "2023/24", 1, "11", "2009-05-01")])
    got = year_11_years(p)
    assert list(got.columns) == ["upn", "academic_year"]
    assert got.values.tolist() == [["A", "2023/24"]] and got.index.tolist() == [0]
    none = year_11_years(p.iloc[0:0])
    assert none.empty and list(none.columns) == ["upn", "academic_year"]


def _weekly(rows) -> pd.DataFrame:
    """(upn, urn, week_start, week_end, possible, present, aea, authorised, unauthorised)."""
    cols = ["upn", "urn", "week_start", "week_end"]
    counts = [
        "sessions_possible",
        "sessions_present",
        "sessions_aea",
        "sessions_authorised",
        "sessions_unauthorised",
    ]
    out = pd.DataFrame(rows, columns=cols + counts)
    return out.assign(
        week_start=pd.to_datetime(out["week_start"]), week_end=pd.to_datetime(out["week_end"])
    )


# A: the year's first file (two weeks), then a week; at a second school (urn 2) the week of
# 18 September too (dual registration) and the week of 25 September. B: one week.
WEEKLY = [
    ("A", 1, "2023-09-04", "2023-09-17", 20, 17, 1, 2, 0),
    ("A", 1, "2023-09-18", "2023-09-24", 10, 8, 0, 0, 2),
    ("A", 2, "2023-09-18", "2023-09-24", 2, 0, 0, 2, 0),
    ("A", 2, "2023-09-25", "2023-10-01", 10, 5, 0, 0, 5),
    ("B", 1, "2023-09-25", "2023-10-01", 10, 9, 1, 0, 0),
]


def test_a_weekly_index_counts_whole_periods_summed_over_schools():
    index = MarkIndex.from_weekly(_weekly(WEEKLY))
    assert index.whole_weeks
    assert list(index.categories) == ["A", "B"]
    # each period is placed on its Friday; a period counts from its first Monday
    assert index.days.tolist() == [
        np.datetime64(d, "D").astype(np.int64) for d in ("2023-09-15", "2023-09-22", "2023-09-29")
    ]
    assert index.period_first.tolist() == [
        np.datetime64(d, "D").astype(np.int64) for d in ("2023-09-04", "2023-09-18", "2023-09-25")
    ]
    assert index.last_date == pd.Timestamp("2023-10-01")
    assert index.cum.dtype == np.int32 and index.cum.shape == (4, 2, 4)  # days, pupils, groups

    def count(upn, start, end):
        return index.counts([upn], pd.Timestamp(start), pd.Timestamp(end)).tolist()[0]

    # groups: present, AEA, authorised, unauthorised
    assert count("A", "2023-09-04", "2023-10-01") == [30, 1, 4, 7]
    assert count("A", "2023-09-04", "2023-09-15") == [17, 1, 2, 0]  # ends on its Friday
    assert count("A", "2023-09-04", "2023-09-14") == [0, 0, 0, 0]  # before its Friday: none
    assert count("A", "2023-09-11", "2023-09-24") == [8, 0, 2, 2]  # never half a period
    assert count("A", "2023-09-18", "2023-09-22") == [8, 0, 2, 2]  # both schools that week
    # from a Wednesday: that week's period starts on the window's first Monday, so it counts
    assert count("A", "2023-09-20", "2023-09-29") == [13, 0, 2, 7]
    assert count("B", "2023-09-04", "2023-10-01") == [9, 1, 0, 0]
    assert count("C", "2023-09-04", "2023-10-01") == [0, 0, 0, 0]  # not in the data
    assert count("A", "2023-09-29", "2023-09-25") == [0, 0, 0, 0]  # an empty window


def test_a_weekly_index_needs_single_weeks_and_may_be_empty():
    lone = _weekly([("A", 1, "2023-09-04", "2023-09-17", 20, 20, 0, 0, 0)])
    with pytest.raises(UsageError) as info:
        MarkIndex.from_weekly(lone)
    assert str(info.value) == (
        "the weekly data hold no single weeks (one download, or downloads more than a week "
        "apart), so no window of whole weeks can be counted: import the weekly downloads that "
        "cover the windows, one per Monday"
    )
    # a single week anywhere makes the longer periods countable as wholes
    index = MarkIndex.from_weekly(
        _weekly(
            [*lone.itertuples(index=False), ("A", 1, "2023-09-18", "2023-09-24", 9, 9, 0, 0, 0)]
        )
    )
    assert index.counts(["A"], "2023-09-04", "2023-09-24").tolist() == [[29, 0, 0, 0]]
    empty = MarkIndex.from_weekly(_weekly([]))
    assert len(empty.days) == 0 and len(empty.categories) == 0 and pd.isna(empty.last_date)
    assert empty.whole_weeks
    assert empty.counts(["A"], "2023-09-04", "2023-09-24").tolist() == [[0, 0, 0, 0]]
    assert empty.counts(["A"], "2023-09-04", "2023-09-24").dtype == np.int64


def test_a_weekly_window_from_a_monday_leaves_out_a_period_begun_the_week_before():
    # a two-week file from Monday 28 August, then the week of 11 September
    index = MarkIndex.from_weekly(
        _weekly(
            [
                ("A", 1, "2023-08-28", "2023-09-10", 10, 10, 0, 0, 0),
                ("A", 1, "2023-09-11", "2023-09-17", 5, 4, 0, 1, 0),
            ]
        )
    )
    assert index.counts(["A"], "2023-09-04", "2023-09-17").tolist() == [[4, 0, 1, 0]]
    assert index.counts(["A"], "2023-08-28", "2023-09-17").tolist() == [[14, 0, 1, 0]]


def test_a_later_period_starting_earlier_does_not_reach_before_an_earlier_ones_start():
    # B's two-week period ends on the Friday of A's second week. A window from 11 September
    # would split it (check_weekly_window refuses one), so nothing ending that Friday counts
    # in it, A's second week included
    weekly = _weekly(
        [
            ("A", 1, "2023-09-04", "2023-09-10", 5, 5, 0, 0, 0),
            ("A", 1, "2023-09-11", "2023-09-17", 6, 6, 0, 0, 0),
            ("B", 1, "2023-09-04", "2023-09-17", 10, 10, 0, 0, 0),
            ("B", 1, "2023-09-18", "2023-09-24", 4, 4, 0, 0, 0),
        ]
    )
    index = MarkIndex.from_weekly(weekly)
    assert index.period_first.tolist() == [
        np.datetime64(d, "D").astype(np.int64) for d in ("2023-09-04", "2023-09-04", "2023-09-18")
    ]
    assert index.counts(["B"], "2023-09-04", "2023-09-24").tolist() == [[14, 0, 0, 0]]
    assert index.counts(["B"], "2023-09-11", "2023-09-24").tolist() == [[4, 0, 0, 0]]
    assert index.counts(["A"], "2023-09-11", "2023-09-24").tolist() == [[0, 0, 0, 0]]
    assert index.counts(["A"], "2023-09-04", "2023-09-10").tolist() == [[5, 0, 0, 0]]


def test_pupil_sessions_built_from_a_weekly_table_is_its_weekly_index():
    weekly = _weekly(WEEKLY)
    built = MarkIndex.build(weekly)
    direct = MarkIndex.from_weekly(weekly)
    assert built.whole_weeks and (built.cum == direct.cum).all()
    ps = PupilSessions.build(weekly, PUPILS, calendar())
    got = ps.counts(["A", "B"], pd.Timestamp("2023-09-18"), pd.Timestamp("2023-10-01"))
    assert got.tolist() == [[13, 0, 2, 7], [9, 1, 0, 0]]


def test_school_days_of_a_calendar_without_half_terms_are_none():
    empty = Calendar(
        pd.DataFrame(
            {
                "academic_year": pd.Series([], dtype=str),
                "half_term": pd.Series([], dtype="int64"),
                "start_date": pd.Series([], dtype="datetime64[ns]"),
                "end_date": pd.Series([], dtype="datetime64[ns]"),
            }
        )
    )
    got = school_days(empty)
    assert len(got) == 0 and got.dtype == np.dtype("datetime64[D]")


def test_year_11_years_without_pupils_is_an_empty_table():
    none = year_11_years(None)
    assert none.empty and list(none.columns) == ["upn", "academic_year"]


def test_pupil_summary_by_pupil_takes_study_leave_out_over_both_schools():
    """Y (Year 11 in 2023/24): 5 days present at school 1 in half term 5; in half term 6
    (study leave) 3 days at school 1, then 2 days at school 2. By pupil only the 5 count."""
    rows = (
        days("2024-05-20", 5, "/", "Y", urn=1)
        + days("2024-06-03", 3, "N", "Y", urn=1)
        + days("2024-06-06", 2, "N", "Y", urn=2)
        + days("2024-05-20", 5, "/", "W", urn=1)
    )
    got = pupil_summary(marks(rows), "2024-05-01", "2024-07-19", PUPILS, calendar(), by="pupil")
    assert got.table[["upn", "sessions_possible", "sessions_unauthorised"]].values.tolist() == [
        ["W", 5, 0],
        ["Y", 5, 0],
    ]
    assert got.zero_possible.empty


def test_study_leave_overlapping_a_window_by_one_day_and_built_without_spans():
    ps = PupilSessions.build(marks(STUDY), PUPILS, calendar())
    # to Monday 3 June, the study leave's first day: Y's S mark that day does not count
    to_first = ps.counts(["Y", "W"], pd.Timestamp("2024-05-20"), pd.Timestamp("2024-06-03"))
    assert to_first.tolist() == [[5, 0, 0, 0], [5, 0, 1, 0]]
    assert to_first.dtype == np.int64
    # from Friday 7 June (Y's last mark, in the study leave) to its end: nothing for Y
    last = ps.counts(["Y", "W"], pd.Timestamp("2024-06-07"), pd.Timestamp("2024-07-19"))
    assert last.tolist() == [[0, 0, 0, 0], [0, 0, 1, 0]]
    # the same sessions when the spans are worked out on demand
    plain = PupilSessions(index=ps.index, leave=ps.leave, calendar=ps.calendar)
    for start, end in [("2024-05-20", "2024-06-03"), ("2024-05-01", "2024-07-19")]:
        args = (["Y", "W", "Q"], pd.Timestamp(start), pd.Timestamp(end))
        assert plain.counts(*args).tolist() == ps.counts(*args).tolist()
    assert plain.counts(["Y"], pd.Timestamp("2024-05-01"), pd.Timestamp("2024-07-19")).tolist() == [
        [5, 0, 0, 0]
    ]


def test_a_pupil_in_year_11_two_years_has_both_years_study_leave_taken_out():
    """R, no date of birth, is recorded in Year 11 in 2023/24 and again in 2024/25: the sixth
    half term of both years is study leave. Marks: 3 present days in each sixth half term
    and 2 present days in each fifth."""
    pupils = _pupils([("R", "2023/24", 1, "11", None), ("R", "2024/25", 1, "11", None)])
    rows = days("2024-05-20", 2, "/", "R") + days("2024-06-03", 3, "/", "R")
    rows += days("2025-05-19", 2, "/", "R") + days("2025-06-02", 3, "/", "R")
    ps = PupilSessions.build(marks(rows), pupils, calendar())
    both = ps.counts(["R"], pd.Timestamp("2024-05-01"), pd.Timestamp("2025-07-18"))
    assert both.tolist() == [[4, 0, 0, 0]]  # the two fifth half terms only
    second = ps.counts(["R"], pd.Timestamp("2025-01-01"), pd.Timestamp("2025-07-18"))
    assert second.tolist() == [[2, 0, 0, 0]]  # the window misses the first year's leave


def test_pupil_summary_asks_the_engine_it_is_given(monkeypatch):
    monkeypatch.setenv("ATTENDANCE_WORKBENCH_ENGINE", "abacus")
    with pytest.raises(UsageError, match="got 'abacus'"):
        pupil_summary(marks(STUDY), None, None, PUPILS, calendar())
    got = pupil_summary(marks(STUDY), None, None, PUPILS, calendar(), engine="duckdb").table
    assert got.set_index("upn")["sessions_possible"].to_dict() == {"Q": 5, "W": 10, "Y": 5}


def test_windows_clipped_to_a_named_years_column_and_to_years_outside_the_calendar(monkeypatch):
    # Year 6 at school 1 to 19 July 2024, Year 7 at school 2 from 2 September 2024, and one
    # day present on 1 September 2025
    rows = days("2024-07-15", 5, "/", "S6", urn=1) + days("2024-09-02", 5, "O", "S6", urn=2)
    rows += days("2025-09-01", 1, "/", "S6", urn=2)
    pup = _pupils(
        [("S6", "2023/24", 1, "6", "2013-01-10"), ("S6", "2024/25", 2, "7", "2013-01-10")]
    )
    ps = PupilSessions.build(marks(rows), pup, calendar())
    req = pd.DataFrame(
        {
            "upn": ["S6", "S6"],
            "start": pd.Timestamp("2024-07-15"),
            "end": pd.Timestamp("2024-09-06"),
            "year": ["2023/24", "2024/25"],
        }
    )
    got = ps.window_counts(req, academic_year="year")
    assert got[
        ["sessions_possible", "sessions_present", "sessions_unauthorised"]
    ].values.tolist() == [
        [5, 5, 0],
        [5, 0, 5],
    ]
    assert list(got["year"]) == ["2023/24", "2024/25"]
    # 2024/25 is not in a calendar of 2023/24 only: it runs from 1 September to 31 August
    only_first = PupilSessions.build(marks(rows), pup, calendar(("2023/24",)))
    wide = (["S6"], pd.Timestamp("2024-01-01"), pd.Timestamp("2025-12-31"))
    assert only_first.counts(*wide, academic_years="2024/25").tolist() == [[0, 0, 0, 5]]
    assert only_first.counts(*wide, academic_years="2023/24").tolist() == [[5, 0, 0, 0]]
    assert only_first.counts(*wide, academic_years="2025/26").tolist() == [[1, 0, 0, 0]]
    # the engine it is given builds the index
    monkeypatch.setenv("ATTENDANCE_WORKBENCH_ENGINE", "abacus")
    with pytest.raises(UsageError, match="got 'abacus'"):
        PupilSessions.build(marks(rows), pup, calendar())
    named = PupilSessions.build(marks(rows), pup, calendar(), engine="duckdb")
    assert named.counts(*wide).tolist() == [[6, 0, 0, 5]]


def test_windows_given_as_text_dates_count_as_dates():
    ps = PupilSessions.build(marks(STUDY), PUPILS, calendar())
    as_dates = ps.counts(
        ["Y", "W"],
        pd.Series(pd.to_datetime(["2024-05-20", "2024-05-22"])),
        pd.Series(pd.to_datetime(["2024-06-30", "2024-06-04"])),
    )
    as_text = ps.counts(["Y", "W"], ["2024-05-20", "2024-05-22"], ["2024-06-30", "2024-06-04"])
    assert as_text.tolist() == as_dates.tolist() == [[5, 0, 0, 0], [3, 0, 2, 0]]


def test_a_pupil_with_more_sessions_than_a_short_integer_holds_is_counted_in_full():
    # 8 present marks a day (eight enrolments) for 4,100 days: 32,800 sessions, past 32,767,
    # the largest count a 16-bit integer holds, in 4,100 daily rows
    rows = []
    for urn in range(1, 9):
        rows += days("2000-01-01", 4_100, "/", "L", urn=urn)
    rows += days("2000-01-01", 3, "O", "M")
    index = MarkIndex.build(marks(rows))
    got = index.counts(["L", "M"], pd.Timestamp("2000-01-01"), pd.Timestamp("2011-03-23"))
    # present, AEA, authorised, unauthorised
    assert got.tolist() == [[32_800, 0, 0, 0], [0, 0, 0, 3]]
    # the last ten days: 80 sessions
    last = index.counts(["L"], pd.Timestamp("2011-03-14"), pd.Timestamp("2011-03-23"))
    assert last.tolist() == [[80, 0, 0, 0]]


def test_a_weekly_window_from_a_sunday_is_in_the_week_of_the_monday_before():
    # Sunday 10 September ends the week of Monday 4 September, so A's first file (4 to 17
    # September) starts on the window's first Monday and counts whole: 17 + 8 present,
    # 1 AEA, 2 + 2 authorised, 0 + 2 unauthorised; from Monday 11 September it does not
    index = MarkIndex.from_weekly(_weekly(WEEKLY))
    got = index.counts(["A"], pd.Timestamp("2023-09-10"), pd.Timestamp("2023-09-24"))
    assert got.tolist() == [[25, 1, 4, 2]]
    later = index.counts(["A"], pd.Timestamp("2023-09-11"), pd.Timestamp("2023-09-24"))
    assert later.tolist() == [[8, 0, 2, 2]]


def test_one_window_for_every_pupil_counts_as_the_same_window_given_row_by_row():
    # a window shared by every row is read from two days' rows of pupils; each row's own
    # window, one cell per pupil; an unknown pupil or an empty window counts nothing in both.
    # 10 to 16 January holds 7 of A's present and B's N (unauthorised) days, 2 of C's U days.
    rows = days("2024-01-08", 10, "/", "A") + days("2024-01-08", 10, "N", "B")
    rows += days("2024-01-15", 3, "U", "C")
    index = MarkIndex.build(marks(rows))
    upns = ["C", "A", "B", "A"]
    shared = index.counts(upns, pd.Timestamp("2024-01-10"), pd.Timestamp("2024-01-16"))
    assert shared.tolist() == [[0, 0, 0, 2], [7, 0, 0, 0], [0, 0, 0, 7], [7, 0, 0, 0]]
    starts = pd.Series(pd.to_datetime(["2024-01-10"] * 4))
    ends = pd.Series(pd.to_datetime(["2024-01-16"] * 3 + ["2024-01-09"]))  # the last: empty
    own = index.counts([*upns[:3], "Z"], starts, ends)
    assert own.tolist() == [*shared.tolist()[:3], [0, 0, 0, 0]]
    with_unknown = index.counts(
        [*upns, "Z"], pd.Timestamp("2024-01-10"), pd.Timestamp("2024-01-16")
    )
    assert with_unknown.tolist() == [*shared.tolist(), [0, 0, 0, 0]]
