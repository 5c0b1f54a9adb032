"""Cohort identification on a hand-made fixture (every expected value worked out by hand)."""

from __future__ import annotations

import pandas as pd
import pytest
from test_impact_fixtures import calendar, days, marks, pupils, schools

from attendance_lib.analyses.cohort import identification as co

AS_OF = "2024-03-28"  # 2 weeks back: 2024-03-15 .. 2024-03-28


def _data():
    rows = (
        days("2024-03-16", 6, "O", "S1")
        + days("2024-03-22", 4, "/", "S1")  # 60%, severe
        + days("2024-03-16", 2, "O", "P2")
        + days("2024-03-18", 8, "/", "P2")  # 20%, all unauth
        + days("2024-03-01", 5, "O", "P2")  # before a 2-week window
        + days("2024-03-16", 1, "O", "P3")
        + days("2024-03-17", 1, "I", "P3")
        + days("2024-03-18", 8, "/", "P3")  # 20%, half unauthorised
        + days("2024-03-16", 10, "/", "N4")  # not persistently absent
        + days("2024-03-16", 3, "I", "V5", urn=2)
        + days("2024-03-19", 7, "/", "V5", urn=2)
        + days("2024-03-16", 3, "O", "I6", urn=2)
        + days("2024-03-19", 7, "/", "I6", urn=2)
        + days("2024-03-16", 3, "O", "R8")  # Reception: not of compulsory school age
        + days("2024-03-19", 7, "/", "R8")
        + days("2024-03-16", 1, "N", "W7", urn=2)
        + days("2024-03-17", 9, "/", "W7", urn=2)
    )
    pup = pupils(
        [(u, "2023/24", 1, "6", False, "N") for u in ("S1", "P2", "P3", "N4")]
        + [(u, "2023/24", 2, "6", True, "K") for u in ("V5", "I6")]
        + [("W7", "2023/24", 2, "5", False, "N"), ("R8", "2023/24", 1, "R", False, "N")]
    )
    sch = schools(
        [(1, "Ash Primary", "primary", "East", "Ann"), (2, "Elm Primary", "primary", "West", None)]
    )
    services = pd.DataFrame(
        {
            "upn": ["V5", "P3"],
            "service": ["cin", "early_help"],
            "start_date": pd.to_datetime(["2024-01-01", "2023-11-01"]),
            "end_date": pd.to_datetime([None, "2024-03-01"]),  # P3's has ended
        }
    )
    ivs = pd.DataFrame(
        {
            "intervention_id": ["X1", "X2"],
            "upn": ["I6", "P2"],
            "officer": ["Bob", "Ann"],
            "start_date": pd.to_datetime(["2024-02-01", "2023-09-10"]),
            "review_date": pd.to_datetime(["2024-04-25", "2023-12-03"]),
            "status": ["open", "reviewed"],
        }
    )
    return marks(rows), pup, sch, services, ivs


def _cohort(**kw):
    m, pup, sch, services, ivs = _data()
    args = {
        "as_of": AS_OF,
        "lookback_weeks": 2,
        "services": services,
        "interventions": ivs,
        "capacity_per_officer": 2,
    } | kw
    return co.identify_cohort(m, pup, sch, calendar(), **args)


def test_window():
    assert co.lookback_window(AS_OF, calendar(), 2) == (
        pd.Timestamp("2024-03-15"),
        pd.Timestamp("2024-03-28"),
    )
    assert co.lookback_window(AS_OF, calendar(), 0)[0] == pd.Timestamp("2023-09-04")


def test_worklist_order_allocation_and_exclusions():
    c = _cohort()
    wl = c.worklist
    assert list(wl.columns) == co.WORKLIST_COLUMNS
    assert list(wl["upn"]) == ["S1", "P2", "P3", "W7"]
    assert list(wl["priority"]) == [1, 2, 3, 4]
    # Ann (school 1's officer) has capacity 2; W7's school has no officer: Bob works West.
    assert list(wl["officer"]) == ["Ann", "Ann", "Ann", "Bob"]
    assert list(wl["status"]) == ["allocated", "allocated", "waiting", "allocated"]
    assert wl.loc[0, "reasons"] == (
        "severely absent: 60.0% of sessions missed; 100% of absence unauthorised"
    )
    assert wl.loc[2, "unauthorised_share_pct"] == 50.0
    left = c.pa_pupils.set_index("upn")["left_out"]
    assert left["V5"] == co.OPEN_SERVICE and left["I6"] == co.OPEN_INTERVENTION
    assert "N4" not in left.index and "R8" not in left.index
    assert c.counts["outside_school_age"] == 1


def test_year_to_date_includes_earlier_absence():
    wl = _cohort(lookback_weeks=0).worklist.set_index("upn")
    # P2: 2 + 5 unauthorised of 15 sessions = 46.7% (not severe, so still after S1)
    assert wl.loc["P2", "absence_pct"] == pytest.approx(700 / 15)


def test_year_group_filter_counts_the_rest():
    c = _cohort(year_groups=[6])
    assert "W7" not in set(c.worklist["upn"])
    assert c.counts["outside_year_groups"] == 1


def test_summary_by_locality_and_school_has_no_identifiers():
    s = co.cohort_summary(_cohort()).set_index("school_name")
    assert "upn" not in s.columns
    east = s.loc["Ash Primary"]
    assert (
        east["pa_pupils"],
        east["severe"],
        east["eligible"],
        east["allocated"],
        east["waiting"],
    ) == (3, 1, 3, 2, 1)
    west = s.loc["Elm Primary"]
    assert (
        west["pa_pupils"],
        west["open_service"],
        west["open_intervention"],
        west["allocated"],
    ) == (3, 1, 1, 1)


def test_the_cohort_from_a_marks_file_is_the_cohort_from_its_marks(tmp_path):
    from attendance_lib.analyses.cohort.sources import current_school

    m, pup, sch, services, ivs = _data()
    # Two schools on one pupil's last day (the larger URN), and a later not-possible mark.
    extra = marks([("P2", 3, "2024-03-25", "/", "PM"), ("P2", 4, "2024-03-27", "X")])
    m = pd.concat([m, extra], ignore_index=True).astype(
        {"upn": "category", "session": "category", "code": "category"}
    )
    path = tmp_path / "marks.parquet"
    m.astype({"upn": str, "code": str, "session": str}).to_parquet(path)
    start, end = pd.Timestamp("2024-03-15"), pd.Timestamp("2024-03-28")
    from_frame = current_school(m, start, end).reset_index(drop=True)
    from_file = current_school(path, start, end)
    pd.testing.assert_frame_equal(from_file, from_frame, check_dtype=False)
    assert from_file.set_index("upn").loc["P2", "urn"] == 3
    assert from_file["urn"].dtype == from_frame["urn"].dtype
    kw = dict(as_of=AS_OF, lookback_weeks=2, services=services, interventions=ivs)
    a = co.identify_cohort(m, pup, sch, calendar(), **kw)
    b = co.identify_cohort(path, pup, sch, calendar(), **kw)
    pd.testing.assert_frame_equal(b.worklist, a.worklist)
    pd.testing.assert_frame_equal(b.pa_pupils, a.pa_pupils)
    assert b.counts == a.counts
