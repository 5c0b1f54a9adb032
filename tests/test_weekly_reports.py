"""The reports on a folder imported from the DfE weekly download (``import vyed``).

A small synthetic LA is written as weekly downloads (``synth --vyed``) and imported; cohort
identification, the impact windows and the TSM pack are checked against the same LA's
marks for whole weeks, and every project report is run on the imported folder by the runner.
Hand-made tables check the rules the synthetic LA does not reach: a multi-week first period,
the download's CLA / CIN / CPP flags with unknowns, and daily-data "Academic year" rows.
"""

from __future__ import annotations

import shutil
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from runner_fixtures import run_project_reports

from attendance_lib.analyses.cohort import identification, sources
from attendance_lib.analyses.impact import evaluation, secondary_measures
from attendance_lib.analyses.impact.windows import MarkIndex, intervention_windows
from attendance_lib.analyses.shared import characteristics
from attendance_lib.analyses.strategy import school_pack
from attendance_lib.cli import main
from attendance_lib.contract.dataset import load_dataset
from attendance_lib.core.academic_calendar import Calendar
from attendance_lib.core.errors import UsageError
from attendance_lib.engine.sessions import check_weekly_window
from attendance_lib.importers.benchmarks import normalise_benchmarks

OPTIONAL = ("ks2", "ks4", "services", "interventions", "benchmarks")


def _import(la, root, *, optional=OPTIONAL):
    """Write ``la``'s marks as weekly downloads, import them, copy the optional tables."""
    downloads, imported = root / "downloads", root / "imported"
    assert main(["synth", "--vyed", str(downloads), "--source", str(la)]) == 0
    calendar = str(la / "calendar.csv")
    assert (
        main(["import", "vyed", str(downloads), "--calendar", calendar, "--out", str(imported)])
        == 0
    )
    for name in optional:
        shutil.copy(la / f"{name}.csv", imported / f"{name}.csv")
    return imported


@pytest.fixture(scope="module")
def pair(small_synthetic_la, tmp_path_factory):
    """(marks dataset, weekly dataset) of the same synthetic LA."""
    imported = _import(small_synthetic_la, tmp_path_factory.mktemp("weekly_reports"))
    return load_dataset(small_synthetic_la), load_dataset(imported)


# --------------------------------------------------------------------------------------
# Cohort identification
# --------------------------------------------------------------------------------------


def _cohort(ds, as_of, lookback_weeks=0):
    calendar = Calendar(ds.calendar)
    day = sources.as_of_day(ds, as_of)
    start, end = identification.lookback_window(day, calendar, lookback_weeks)
    return identification.identify_cohort(
        sources.window_source(ds, start, end),
        ds.pupils,
        ds.schools,
        calendar,
        as_of=day,
        lookback_weeks=lookback_weeks,
        services=ds.services,
        interventions=ds.interventions,
    )


@pytest.mark.parametrize(("as_of", "lookback"), [("2024-03-24", 0), ("2024-03-22", 6)])
def test_cohort_from_weekly_counts_is_the_cohort_from_marks(pair, as_of, lookback):
    marks_ds, weekly_ds = pair
    # a Friday moves to its Sunday on weekly data; the marks have nothing on the weekend
    expected = _cohort(marks_ds, "2024-03-24", lookback)
    got = _cohort(weekly_ds, as_of, lookback)
    assert got.window == expected.window
    assert len(got.pa_pupils) > 10
    cols = ["upn", "urn", "sessions_possible", "absence_pct", "severe_absent", "left_out"]
    pd.testing.assert_frame_equal(got.pa_pupils[cols], expected.pa_pupils[cols], check_dtype=False)
    assert got.counts == expected.counts


def test_cohort_window_that_splits_a_week_is_refused_naming_valid_dates(pair):
    _, weekly_ds = pair
    with pytest.raises(UsageError, match="nearest Fridays are"):
        _cohort(weekly_ds, "2024-03-20")  # a Wednesday


def test_cohort_notes_say_what_the_folder_lacks(pair):
    marks_ds, weekly_ds = pair
    window = (pd.Timestamp("2023-09-01"), pd.Timestamp("2024-03-24"))
    assert sources.source_notes(marks_ds, window) == ""
    note = sources.source_notes(weekly_ds, window)
    assert "weekly pupil-level download" in note and "services.csv" not in note
    no_services = SimpleNamespace(marks_path=None, weekly=weekly_ds.weekly, services=None)
    assert "no services.csv" in sources.source_notes(no_services, window)


def test_current_school_from_weekly_is_the_school_of_the_latest_week():
    weekly = pd.DataFrame(
        {
            "upn": ["A", "A", "A", "B"],
            "urn": [1, 2, 1, 1],
            "week_start": pd.to_datetime(["2024-01-08", "2024-01-15", "2024-01-15", "2024-01-08"]),
            "week_end": pd.to_datetime(["2024-01-14", "2024-01-21", "2024-01-21", "2024-01-14"]),
            "sessions_possible": [10, 6, 4, 0],
        }
    )
    got = sources.current_school(weekly, "2024-01-08", "2024-01-19").set_index("upn")["urn"]
    assert got.to_dict() == {"A": 2}  # more sessions at URN 2 that week; B had none possible


# --------------------------------------------------------------------------------------
# The impact windows, in whole weeks
# --------------------------------------------------------------------------------------


def test_weekly_index_matches_the_marks_for_whole_weeks(pair):
    marks_ds, weekly_ds = pair
    by_marks, by_weeks = MarkIndex.build(marks_ds), MarkIndex.build(weekly_ds)
    assert by_weeks.whole_weeks and not by_marks.whole_weeks
    upns = weekly_ds.weekly["upn"].astype(str).unique()
    for start, end in [("2023-09-01", "2024-07-19"), ("2024-01-08", "2024-03-22")]:
        got = by_weeks.counts(upns, pd.Timestamp(start), pd.Timestamp(end))
        np.testing.assert_array_equal(
            got, by_marks.counts(upns, pd.Timestamp(start), pd.Timestamp(end))
        )
    # 84 days from a Wednesday are the 12 whole weeks from its Monday
    got = by_weeks.counts(upns, pd.Timestamp("2024-01-10"), pd.Timestamp("2024-04-02"))
    want = by_marks.counts(upns, pd.Timestamp("2024-01-08"), pd.Timestamp("2024-03-31"))
    np.testing.assert_array_equal(got, want)


def test_a_multi_week_period_counts_only_in_windows_that_hold_it():
    weekly = pd.DataFrame(
        {
            "upn": ["A", "A"],
            "urn": [1, 1],
            # the year's first download, published after two weeks, then a weekly one
            "week_start": pd.to_datetime(["2023-09-04", "2023-09-18"]),
            "week_end": pd.to_datetime(["2023-09-17", "2023-09-24"]),
            "sessions_possible": [20, 10],
            "sessions_present": [18, 10],
            "sessions_aea": [0, 0],
            "sessions_authorised": [2, 0],
            "sessions_unauthorised": [0, 0],
        }
    )
    index = MarkIndex.from_weekly(weekly)
    whole = index.counts(["A"], pd.Timestamp("2023-09-04"), pd.Timestamp("2023-09-24"))
    assert whole.sum() == 30
    second_week_only = index.counts(["A"], pd.Timestamp("2023-09-11"), pd.Timestamp("2023-09-24"))
    assert second_week_only.sum() == 10  # the two-week period is never split
    assert index.counts(["A"], pd.Timestamp("2023-09-11"), pd.Timestamp("2023-09-15")).sum() == 0


def test_a_lone_download_cannot_give_impact_windows():
    lone = pd.DataFrame(
        {
            "upn": ["A"],
            "urn": [1],
            "week_start": pd.to_datetime(["2023-08-28"]),
            "week_end": pd.to_datetime(["2024-03-17"]),
            "sessions_possible": [200],
            "sessions_present": [190],
            "sessions_aea": [0],
            "sessions_authorised": [10],
            "sessions_unauthorised": [0],
        }
    )
    with pytest.raises(UsageError, match="no single weeks"):
        MarkIndex.from_weekly(lone)


def test_impact_on_weekly_counts_equals_marks_for_monday_starts(pair):
    marks_ds, weekly_ds = pair
    calendar = Calendar(marks_ds.calendar)
    iv = marks_ds.interventions
    mondays = iv[pd.to_datetime(iv["start_date"]).dt.day_of_week == 0]
    assert len(mondays) > 5
    args = (weekly_ds.pupils, weekly_ds.schools, calendar)
    got = evaluation.evaluate_interventions(mondays, MarkIndex.build(weekly_ds), *args)
    want = evaluation.evaluate_interventions(
        mondays, MarkIndex.build(marks_ds), marks_ds.pupils, marks_ds.schools, calendar
    )
    assert int(want["evaluable"].sum()) > 5
    # windows are 60 school days: weekly counts give the same figures for every window that
    # is whole weeks (Monday to Friday); a window that begins or ends mid-week (a term
    # starting on a Wednesday) takes that whole week from weekly counts
    windows = intervention_windows(pd.to_datetime(mondays["start_date"]), calendar)
    for name in ("baseline", "review"):
        whole = (
            (windows[f"{name}_start"].dt.day_of_week == 0)
            & (windows[f"{name}_end"].dt.day_of_week >= 4)  # Friday, or the Sunday after
        ).to_numpy()
        assert whole.sum() > 5, name
        cols = ["intervention_id", f"{name}_attendance_pct"]
        pd.testing.assert_frame_equal(
            got.loc[whole, cols].reset_index(drop=True),
            want.loc[whole, cols].reset_index(drop=True),
            check_dtype=False,
        )
    assert got["evaluable"].tolist() == want["evaluable"].tolist()


# --------------------------------------------------------------------------------------
# The TSM pack
# --------------------------------------------------------------------------------------


def test_school_pack_on_weekly_counts_leaves_out_only_code_sections(pair):
    marks_ds, weekly_ds = pair
    urn = int(weekly_ds.schools["urn"].iloc[0])
    got = school_pack.school_period(weekly_ds, urn, "2023/24", "spring")
    want = school_pack.school_period(marks_ds, urn, "2023/24", "spring")
    assert got.penalty is None and "code" not in got.cube
    key = ["upn", "urn", "sessions_possible", "absence_pct"]
    pd.testing.assert_frame_equal(
        got.table[key].sort_values(key[:2]).reset_index(drop=True),
        want.table[key].astype({"upn": str}).sort_values(key[:2]).reset_index(drop=True),
        check_dtype=False,
    )
    falling = school_pack.falling_attendance(got.cube, 4)
    listed = school_pack.pupils_to_discuss(got.table, falling, None, got.open_services)
    assert "penalty_threshold" not in listed and "reached_on" not in listed
    reasons = school_pack.discussion_summary(listed)["reason"]
    assert school_pack.REASONS["penalty_threshold"] not in set(reasons)
    assert school_pack.officer_name(pd.Series({"officer": pd.NA})) == "not recorded"


# --------------------------------------------------------------------------------------
# CLA, CIN, CPP, PLAC and primary SEN type from the download's pupil records
# --------------------------------------------------------------------------------------


def test_download_flags_combine_with_services_and_unknown_stays_unknown():
    table = pd.DataFrame(
        {
            "upn": list("ABCD"),
            "urn": 1,
            "academic_year": "2023/24",
            "sessions_possible": 100,
            "sessions_present": [90, 80, 95, 50],
            "sessions_aea": 0,
            "sessions_authorised": [10, 20, 5, 25],
            "sessions_unauthorised": [0, 0, 0, 25],
        }
    )
    from attendance_lib.engine.sessions import add_rates

    table = add_rates(table)
    pupils = pd.DataFrame(
        {
            "upn": list("ABCD"),
            "academic_year": "2023/24",
            "fsm": [True, False, True, False],
            "sen": ["N", "K", "E", "N"],
            "cla": ["true", "false", None, None],
            "cin": ["false", "false", "true", None],
            "cpp": ["false", "false", "false", "false"],
            "plac": ["false", "true", "false", "false"],
            "primary_sen_type": [None, "SpLD", "ASD", None],
        }
    )
    schools = pd.DataFrame({"urn": [1], "school_name": ["S"], "phase": ["primary"]})
    services = pd.DataFrame({"upn": ["D"], "service": ["cla"]})  # D is looked after (LA record)
    out = characteristics.attach_characteristics(table, pupils, schools, services)
    out = out.set_index("upn")
    assert bool(out.loc["A", "cla"]) and not bool(out.loc["B", "cla"])
    assert pd.isna(out.loc["C", "cla"]) and bool(out.loc["D", "cla"])  # unknown, then services
    assert pd.isna(out.loc["D", "cin"])  # unknown in the download, nothing in services
    assert bool(out.loc["C", "social_worker"]) and bool(out.loc["D", "social_worker"])
    groups = characteristics.by_characteristic(out.reset_index())
    cla = groups[groups["characteristic"] == "Looked after (CLA)"].set_index("group")
    assert cla.loc["not recorded", "enrolments"] == 1  # counted, never taken as no
    assert set(groups["characteristic"]) >= {"Previously looked after (PLAC)", "Primary SEN type"}
    sen_type = groups[groups["characteristic"] == "Primary SEN type"].set_index("group")
    assert sen_type.loc["no identified SEN", "enrolments"] == 2
    assert sen_type.loc["SpLD", "enrolments"] == 1


def test_without_download_flags_no_new_breakdowns_appear():
    table = pd.DataFrame({"upn": ["A"], "urn": [1], "academic_year": ["2023/24"]})
    pupils = pd.DataFrame(
        {"upn": ["A"], "academic_year": ["2023/24"], "fsm": [True], "sen": ["N"], "cla": [pd.NA]}
    )
    schools = pd.DataFrame({"urn": [1], "school_name": ["S"], "phase": ["primary"]})
    none_open = characteristics.services_open(None, "2023-09-01", "2024-07-19")
    out = characteristics.attach_characteristics(table, pupils, schools, none_open)
    assert "plac" not in out and out["cla"].dtype == bool  # from services.csv only
    assert "Primary SEN type" not in characteristics.characteristic_groups(out)


# --------------------------------------------------------------------------------------
# A daily-data "Academic year" row is the year to date, never a full year
# --------------------------------------------------------------------------------------


def _daily_and_census():
    daily = pd.DataFrame(
        {
            "time_period": [202526, 202526],
            "time_identifier": ["Academic year", "Academic year"],
            "geographic_level": ["National", "Regional"],
            "country_name": ["England", "England"],
            "region_name": [None, "Yorkshire and The Humber"],
            "education_phase": ["Total", "Total"],
            "attendance_perc": ["93.1", "92.8"],
            "pa_perc": ["17.2", "18.0"],
        }
    )
    census = pd.DataFrame(
        {
            "time_period": [202324],
            "time_identifier": ["Academic year"],
            "geographic_level": ["National"],
            "country_name": ["England"],
            "education_phase": ["Total"],
            "sess_overall_percent": [7.1],
            "enrolments_pa_10_exact_percent": [20.0],
        }
    )
    return daily, census


def test_secondary_measures_use_full_years_only():
    daily, census = _daily_and_census()
    table = normalise_benchmarks([daily, census]).table
    ytd = table[table["basis"] == "daily"]
    assert set(ytd["period"]) == {"2025/26 year to date"}
    b, region, _ = secondary_measures.benchmark_pa(table)
    assert b.set_index("academic_year")["england_pa_pct"].to_dict() == {"2023/24": 20.0}
    assert region == ""  # the region's only figure is a year-to-date one
    # a daily row declared in a "basis" column with a census PA column is still year to date
    stated = census.assign(time_period=[202526], basis=["daily"])
    b, _, _ = secondary_measures.benchmark_pa(pd.concat([census, stated]))
    assert list(b["academic_year"]) == ["2023/24"]


def test_a_daily_file_as_the_contract_types_it_is_read_as_daily():
    daily, _ = _daily_and_census()
    # the contract adds every optional census column, empty: the basis still comes from values
    typed = daily.assign(sess_overall_percent=np.nan, enrolments_pa_10_exact_percent=np.nan)
    table = normalise_benchmarks(typed).table
    assert set(table["basis"]) == {"daily"} and "persistent_absence" in set(table["measure"])


# --------------------------------------------------------------------------------------
# Windows and the whole-week rule
# --------------------------------------------------------------------------------------


def test_year_start_is_a_valid_window_start_when_its_week_had_no_session(pair):
    _, weekly_ds = pair
    calendar = Calendar(weekly_ds.calendar)
    first = calendar.year_bounds("2023/24")[0]
    weekly = weekly_ds.weekly
    later = weekly[weekly["week_start"] > first + pd.Timedelta(days=6)]  # drop the first week
    check_weekly_window(later, first, None, calendar)  # nothing before the first period
    with pytest.raises(UsageError, match="must start on a Monday"):
        check_weekly_window(later, first + pd.Timedelta(days=1), None, calendar)


# --------------------------------------------------------------------------------------
# Every report through the runner
# --------------------------------------------------------------------------------------


def test_every_project_report_runs_on_an_imported_folder(pair, tmp_path):
    _, weekly_ds = pair
    run_project_reports(weekly_ds.root, tmp_path / "reports", "the imported weekly folder")
    html = (tmp_path / "reports").rglob("school_tsm_pack.html")
    text = next(html).read_text(encoding="utf-8")
    assert "weekly session counts, not register codes" in text


def test_unknown_fsm_and_sen_load_and_are_counted_as_not_recorded(tmp_path):
    from builders import make_upn, pupil, sessions, write_folder

    from attendance_lib.engine.sessions import summarise

    upns = [make_upn(n) for n in (1, 2, 3)]
    folder = write_folder(
        tmp_path,
        pupils=[pupil(upns[0]), pupil(upns[1], fsm="", sen=""), pupil(upns[2], fsm="true")],
        marks=[m for u in upns for m in sessions(u, pupil(u)["urn"], "/I")],
    )
    ds = load_dataset(folder)
    assert ds.pupils["fsm"].isna().sum() == 1 and ds.pupils["sen"].isna().sum() == 1
    table = summarise(ds).table.assign(academic_year="2023/24")
    table = characteristics.attach_characteristics(
        table,
        ds.pupils,
        ds.schools,
        characteristics.services_open(None, "2023-09-01", "2024-07-19"),
    )
    groups = characteristics.by_characteristic(table).set_index(["characteristic", "group"])
    assert groups.loc[("Free school meals", "not recorded"), "enrolments"] == 1
    assert groups.loc[("Free school meals", "not eligible"), "enrolments"] == 1  # not 2
    assert groups.loc[("Special educational needs", "not recorded"), "enrolments"] == 1


def test_a_term_ending_on_a_thursday_is_a_whole_week_window():
    from attendance_lib.engine.sessions import summarise_weekly

    weekly = pd.DataFrame(
        {
            "upn": ["A", "A"],
            "urn": [1, 1],
            "week_start": pd.to_datetime(["2024-03-18", "2024-03-25"]),
            "week_end": pd.to_datetime(["2024-03-24", "2024-03-31"]),
            "sessions_possible": [10, 8],
            "sessions_present": [10, 6],
            "sessions_aea": [0, 0],
            "sessions_authorised": [0, 2],
            "sessions_unauthorised": [0, 0],
        }
    )
    calendar = Calendar(
        pd.DataFrame(
            {
                "academic_year": ["2023/24", "2023/24"],
                "half_term": [4, 5],
                "start_date": pd.to_datetime(["2024-02-19", "2024-04-15"]),
                "end_date": pd.to_datetime(["2024-03-28", "2024-05-24"]),  # Thursday
            }
        )
    )
    thursday = pd.Timestamp("2024-03-28")
    got = summarise_weekly(weekly, "2024-03-18", thursday, calendar=calendar).table
    assert got["sessions_possible"].tolist() == [18]
    with pytest.raises(UsageError, match="nearest Fridays"):
        summarise_weekly(weekly, "2024-03-18", thursday)  # without term dates: refused
    with pytest.raises(UsageError, match="nearest Fridays"):
        summarise_weekly(weekly, "2024-03-18", "2024-03-27", calendar=calendar)  # a school day left
