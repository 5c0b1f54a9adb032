"""import vyed: DfE weekly pupil-level downloads into a weekly table, and summarise over it.

Small hand-written downloads check each rule (leavers, joiners, a move between schools, a
falling cumulative figure, DfE arithmetic, headers); a small synthetic LA checks the round
trip: downloads made from its marks (``synth --vyed``) and imported give the same figures as
counting the marks, for whole-week windows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from builders import CALENDAR_2023_24, OMIT, URN_A, URN_B, make_upn, pupil, write_folder

from attendance_lib.cli import main
from attendance_lib.contract.dataset import load_dataset
from attendance_lib.core.errors import DataError, UsageError
from attendance_lib.engine.sessions import COUNT_COLUMNS, _boundaries, summarise
from attendance_lib.importers.vyed import LAYOUT, import_vyed
from attendance_lib.synth import generate
from attendance_lib.synth.vyed import vyed_file_name

P1, P2, P3 = make_upn(1), make_upn(2), make_upn(3)
#: Mondays of autumn 2023 on which downloads are published (figures to the Friday before).
M1, M2, M3 = pd.Timestamp("2023-09-11"), pd.Timestamp("2023-09-18"), pd.Timestamp("2023-09-25")


def row(upn: str, urn: int = URN_A, *, present=0, aea=0, auth=0, unauth=0, **extra) -> dict:
    """One download row with the DfE arithmetic filled in (override any column in ``extra``)."""
    base = {c: "" for c in LAYOUT}
    base.update(
        academic_term="2023/24",
        upn=upn,
        dob="01/09/2015",
        sex="F",
        ethnicity="White",
        english_additional_language="no",
        compulsory_school_age="yes",
        sen_support="no",
        free_school_meals="no",
        education_health_care_plan="no",
        looked_after_child="no",
        previously_looked_after_child="no",
        child_in_need="unknown",
        child_protection_plan="no",
        unique_reference_number=urn,
        year_group="3",
        school_local_authority_name="Bradford",
        learning_provider_ukprn=10000000 + urn % 1000,
        school_name=f"School {urn}",
        phase="primary",
        pupil_surname="Khan",
        pupil_forename="Amira",
        admission_date="2023-09-04",
        possible_sessions=present + aea + auth + unauth,
        absent_sessions=auth + unauth,
        present_sessions=present,
        approved_educational_activity_sessions=aea,
        authorised_absent_sessions=auth,
        unauthorised_absent_sessions=unauth,
    )
    base.update(extra)
    return base


def write_download(folder: Path, published: pd.Timestamp, rows: list[dict], **rename) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(rows).rename(columns=rename)
    path = folder / vyed_file_name(published, ukprn=10099999)
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def calendar_csv(tmp_path) -> Path:
    path = tmp_path / "calendar.csv"
    pd.DataFrame(CALENDAR_2023_24).to_csv(path, index=False)
    return path


def imported(tmp_path, calendar_csv, downloads: dict) -> Path:
    folder = tmp_path / "downloads"
    for published, rows in downloads.items():
        write_download(folder, published, rows)
    return import_vyed([folder], calendar_csv, tmp_path / "la").out_dir


def weekly_of(folder: Path) -> pd.DataFrame:
    weekly = load_dataset(folder).weekly
    return weekly.assign(
        week_start=weekly["week_start"].dt.strftime("%Y-%m-%d"),
        week_end=weekly["week_end"].dt.strftime("%Y-%m-%d"),
    )


def test_consecutive_files_give_each_weeks_sessions(tmp_path, calendar_csv):
    out = imported(
        tmp_path,
        calendar_csv,
        {
            M1: [row(P1, present=9, auth=1)],
            M2: [row(P1, present=17, aea=1, auth=1, unauth=1)],
        },
    )
    weekly = weekly_of(out)
    assert weekly[["week_start", "week_end", "sessions_possible"]].values.tolist() == [
        ["2023-09-04", "2023-09-10", 10],  # the first file: from the Monday the year starts
        ["2023-09-11", "2023-09-17", 10],
    ]
    assert weekly.iloc[1][["sessions_present", "sessions_aea"]].tolist() == [8, 1]
    assert weekly.iloc[1][["sessions_authorised", "sessions_unauthorised"]].tolist() == [0, 1]
    table = summarise(load_dataset(out), "2023-09-11", "2023-09-15").table
    assert table[["upn", "urn", "sessions_possible", "attendance_pct"]].values.tolist() == [
        [P1, URN_A, 10, 90.0]
    ]


def test_leaver_stays_with_frozen_figures_and_joiner_starts_from_admission(tmp_path, calendar_csv):
    out = imported(
        tmp_path,
        calendar_csv,
        {
            M1: [row(P1, present=10)],
            M2: [row(P1, present=14, leaving_date="13/09/2023")],
            M3: [
                row(P1, present=14, leaving_date="13/09/2023"),
                row(P2, present=4, unauth=2, admission_date="20/09/2023"),
            ],
        },
    )
    weekly = weekly_of(out)
    leaver = weekly[weekly["upn"] == P1]
    assert leaver["sessions_possible"].tolist() == [10, 4]  # no row once the figures stop
    joiner = weekly[weekly["upn"] == P2]
    assert joiner[["week_start", "sessions_possible", "sessions_unauthorised"]].values.tolist() == [
        ["2023-09-18", 6, 2]
    ]
    pupils = load_dataset(out).pupils
    assert sorted(pupils["upn"]) == sorted([P1, P2])


def test_move_between_schools_keeps_both_enrolments(tmp_path, calendar_csv):
    out = imported(
        tmp_path,
        calendar_csv,
        {
            M1: [row(P1, URN_A, present=10)],
            M2: [
                row(P1, URN_A, present=14, leaving_date="2023-09-13"),
                row(P1, URN_B, present=6, admission_date="2023-09-14"),
            ],
        },
    )
    ds = load_dataset(out)
    enrolments = summarise(ds, "2023-09-11", "2023-09-17").table
    assert enrolments[["urn", "sessions_possible"]].values.tolist() == [[URN_A, 4], [URN_B, 6]]
    pupil = summarise(ds, "2023-09-04", "2023-09-15", by="pupil").table
    assert pupil["sessions_possible"].tolist() == [20]
    # the open enrolment is the school of record
    assert ds.pupils.set_index("upn").loc[P1, "urn"] == URN_B


def test_upn_counted_at_two_schools_in_one_week_is_a_problem(tmp_path, calendar_csv):
    with pytest.raises(DataError) as err:
        imported(
            tmp_path,
            calendar_csv,
            {
                M1: [row(P1, URN_A, present=10)],
                M2: [
                    row(P1, URN_A, present=18, leaving_date="2023-09-15"),
                    row(P1, URN_B, present=6, admission_date="2023-09-13"),
                ],
            },
        )
    [problem] = err.value.problems
    assert problem.file == vyed_file_name(M2, ukprn=10099999)
    assert "14 possible sessions at schools 100001 and 100002" in problem.message
    assert "moving between schools within a week" in problem.message
    assert not (tmp_path / "la").exists()


def test_falling_cumulative_figure_is_a_problem_naming_file_row_and_column(tmp_path, calendar_csv):
    with pytest.raises(DataError) as err:
        imported(
            tmp_path,
            calendar_csv,
            {
                M1: [row(P2, present=10), row(P1, present=9, auth=1)],
                M2: [row(P2, present=20), row(P1, present=8, auth=1)],
            },
        )
    messages = [(p.file, p.row, p.column) for p in err.value.problems]
    later = vyed_file_name(M2, ukprn=10099999)
    assert (later, 2, "possible_sessions") in messages
    assert (later, 2, "present_sessions") in messages
    assert "fell from 10" in err.value.problems[0].message
    assert "cannot go down" in err.value.problems[0].message


def test_parts_that_do_not_add_up_and_an_enrolment_that_vanishes(tmp_path, calendar_csv):
    with pytest.raises(DataError) as err:
        imported(
            tmp_path,
            calendar_csv,
            {
                M1: [row(P1, present=10), row(P2, present=10, possible_sessions=11)],
                M2: [row(P2, present=20, possible_sessions=20)],
            },
        )
    [problem] = err.value.problems  # read problems stop the import before periods are made
    assert (problem.row, problem.column) == (2, "possible_sessions")
    assert "add up to 10" in problem.message
    with pytest.raises(DataError) as err:
        imported(
            tmp_path,
            calendar_csv,
            {M1: [row(P1, present=10), row(P2, present=10)], M2: [row(P2, present=20)]},
        )
    [problem] = err.value.problems
    assert problem.file == vyed_file_name(M2, ukprn=10099999)
    assert P1 in problem.message and "leavers stay in later files" in problem.message


def test_headers_any_case_hyphenated_ukprn_and_missing_column(tmp_path, calendar_csv):
    folder = tmp_path / "downloads"
    rows = [row(P1, present=10, dob="2015-09-01", sex="Female")]
    frame = pd.DataFrame(rows).rename(columns=str.upper)
    frame = frame.rename(columns={"LEARNING_PROVIDER_UKPRN": "learning_provider-ukprn"})
    folder.mkdir()
    frame.to_csv(folder / vyed_file_name(M1), index=False)
    out = import_vyed([folder], calendar_csv, tmp_path / "la").out_dir
    pupils = load_dataset(out).pupils
    assert pupils[["sex", "sen", "fsm"]].values.tolist() == [["F", "N", False]]
    assert pd.isna(pupils.loc[0, "cin"])  # "unknown" stays unknown
    frame.drop(columns="UNAUTHORISED_ABSENT_SESSIONS").to_csv(
        folder / vyed_file_name(M1), index=False
    )
    with pytest.raises(DataError) as err:
        import_vyed([folder], calendar_csv, tmp_path / "la2")
    [problem] = err.value.problems
    assert problem.column == "unauthorised_absent_sessions"
    assert "missing" in problem.message


def test_unknown_characteristics_come_from_an_earlier_file_or_stay_unknown(tmp_path, calendar_csv):
    out = imported(
        tmp_path,
        calendar_csv,
        {
            M1: [row(P1, present=10, free_school_meals="yes", year_group="Reception")],
            M2: [row(P1, present=20, free_school_meals="unknown", year_group="R")],
        },
    )
    pupils = load_dataset(out).pupils
    assert pupils[["fsm", "year_group"]].values.tolist() == [[True, "R"]]
    # a joiner whose FSM and SEN are unknown in every file: empty, never taken as N
    joiner = row(P2, present=10, sen_support="unknown", free_school_meals="")
    pupils = load_dataset(imported(tmp_path / "b", calendar_csv, {M1: [joiner]})).pupils
    assert pd.isna(pupils.loc[0, "sen"]) and pd.isna(pupils.loc[0, "fsm"])
    with pytest.raises(DataError) as err:
        imported(tmp_path / "c", calendar_csv, {M1: [row(P2, present=10, sex="unknown")]})
    [problem] = err.value.problems
    assert problem.column == "sex"
    assert "does not guess" in problem.message


def test_bad_values_are_named(tmp_path, calendar_csv):
    folder = tmp_path / "downloads"
    write_download(
        folder,
        M1,
        [row(P1, present=10, year_group="Q", free_school_meals="maybe", dob="31/02/2015")],
    )
    with pytest.raises(DataError) as err:
        import_vyed([folder], calendar_csv, tmp_path / "la")
    columns = {p.column for p in err.value.problems}
    assert columns == {"year_group", "free_school_meals", "dob"}


def test_file_date_from_name_or_as_of(tmp_path, calendar_csv):
    folder = tmp_path / "downloads"
    folder.mkdir()
    pd.DataFrame([row(P1, present=10)]).to_csv(folder / "attendance.csv", index=False)
    with pytest.raises(DataError, match="1 data problem"):
        import_vyed([folder], calendar_csv, tmp_path / "la")
    out = import_vyed([folder], calendar_csv, tmp_path / "la", as_of="2023-09-11").out_dir
    assert weekly_of(out)["week_end"].tolist() == ["2023-09-10"]


def test_windows_must_be_whole_covered_weeks(tmp_path, calendar_csv):
    out = imported(
        tmp_path,
        calendar_csv,
        {M1: [row(P1, present=10)], M2: [row(P1, present=20)], M3: [row(P1, present=30)]},
    )
    ds = load_dataset(out)
    assert summarise(ds, "2023-09-11", "2023-09-24").table["sessions_possible"].tolist() == [20]
    with pytest.raises(UsageError, match="nearest are 2023-09-11 or 2023-09-18"):
        summarise(ds, "2023-09-13", "2023-09-22")
    with pytest.raises(UsageError, match="nearest Fridays are 2023-09-15 or 2023-09-22"):
        summarise(ds, "2023-09-11", "2023-09-20")
    with pytest.raises(UsageError, match="nearest Fridays are 2023-09-22"):
        summarise(ds, "2023-09-11", "2023-10-06")  # beyond the last file


def test_cli_reports_problems_without_writing(tmp_path, calendar_csv, capsys):
    folder = tmp_path / "downloads"
    write_download(folder, M1, [row(P1, present=10)])
    write_download(folder, M2, [row(P1, present=8)])
    code = main(
        [
            "import",
            "vyed",
            str(folder),
            "--calendar",
            str(calendar_csv),
            "--out",
            str(tmp_path / "la"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "cannot go down" in err and "Traceback" not in err
    assert not (tmp_path / "la").exists()


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    root = tmp_path_factory.mktemp("vyed_round_trip")
    generate(root / "la", seed=11, pupils=250, schools=4, years=("2023/24",), progress=False)
    assert main(["synth", "--vyed", str(root / "downloads"), "--source", str(root / "la")]) == 0
    code = main(
        [
            "import",
            "vyed",
            str(root / "downloads"),
            "--calendar",
            str(root / "la" / "calendar.csv"),
            "--out",
            str(root / "imported"),
        ]
    )
    assert code == 0
    return load_dataset(root / "la"), load_dataset(root / "imported")


def test_round_trip_reproduces_marks_figures_for_whole_week_windows(round_trip):
    marks_ds, weekly_ds = round_trip
    _, _, starts, ends = _boundaries(weekly_ds.weekly)
    rng = np.random.default_rng(3)
    windows = [(starts[0], ends[-1])]  # the whole year
    windows += [(s, ends[ends > s][0]) for s in starts[:: max(1, len(starts) // 8)]]  # weeks
    windows += [
        (s, e) for s, e in zip(rng.choice(starts, 8), rng.choice(ends, 8), strict=True) if e > s
    ]
    marks = marks_ds.marks
    for start, sunday in windows:
        friday = pd.Timestamp(sunday) - pd.Timedelta(days=2)
        for by in ("enrolment", "pupil"):
            expected = summarise(marks, pd.Timestamp(start), friday, by=by).table
            got = summarise(weekly_ds, pd.Timestamp(start), friday, by=by).table
            assert len(got) > 0
            pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_contract_weekly_table_rules(tmp_path):
    weekly = pd.DataFrame(
        {
            "upn": [P1, P1, P3],
            "urn": [URN_A, URN_A, URN_A],
            "week_start": ["2023-09-04", "2023-09-12", "2023-09-18"],
            "week_end": ["2023-09-10", "2023-09-17", "2023-09-24"],
            "sessions_possible": [10, 10, 10],
            "sessions_present": [10, 9, 10],
            "sessions_aea": [0, 0, 0],
            "sessions_authorised": [0, 0, 0],
            "sessions_unauthorised": [0, 0, 0],
        }
    )
    folder = write_folder(tmp_path, pupils=[pupil(P1)], marks=OMIT, weekly=weekly)
    with pytest.raises(DataError) as err:
        load_dataset(folder)
    found = {(p.file, p.row, p.column) for p in err.value.problems}
    assert ("weekly.csv", 2, "week_start") in found  # a Tuesday
    assert ("weekly.csv", 2, "sessions_possible") in found  # 9 + 0 + 0 + 0 is not 10
    assert ("weekly.csv", 3, "upn") in found  # not in pupils.csv
    assert not any(p.file == "marks.csv" for p in err.value.problems)  # marks optional


def test_summarise_command_on_an_imported_folder(round_trip, tmp_path, capsys):
    _, weekly_ds = round_trip
    _, _, starts, ends = _boundaries(weekly_ds.weekly)
    start = pd.Timestamp(starts[1]).strftime("%Y-%m-%d")
    friday = (pd.Timestamp(ends[3]) - pd.Timedelta(days=2)).strftime("%Y-%m-%d")
    out = tmp_path / "summary.csv"
    args = ["summarise", str(weekly_ds.root), "--from", start, "--to", friday, "--out", str(out)]
    assert main(args) == 0
    assert len(pd.read_csv(out)) > 0
    wednesday = (pd.Timestamp(ends[3]) - pd.Timedelta(days=4)).strftime("%Y-%m-%d")
    assert main([*args[:5], wednesday, "--out", str(out)]) == 2
    assert "nearest Fridays are" in capsys.readouterr().err


def test_synth_vyed_needs_a_source(tmp_path, capsys):
    assert main(["synth", "--vyed", str(tmp_path / "v")]) == 2
    assert main(["synth", "--vyed", str(tmp_path / "v"), "--source", str(tmp_path)]) == 2
    assert "no marks.parquet" in capsys.readouterr().err


def test_code_level_counts_on_weekly_data_say_why_they_cannot_run(round_trip):
    from attendance_lib.engine.sessions import possible_days

    _, weekly_ds = round_trip
    with pytest.raises(UsageError, match="weekly counts only .* no register codes"):
        possible_days(weekly_ds)


def test_termly_year_to_date_is_the_same_from_weekly_counts(round_trip):
    from attendance_lib.analyses.strategy import termly
    from attendance_lib.engine.sessions import code_counts

    marks_ds, weekly_ds = round_trip
    cube = code_counts(weekly_ds)
    assert "code" not in cube and "grp" in cube
    for term in ("autumn", "spring", "year"):
        got = termly.year_to_date(weekly_ds, cube, "2023/24", term).table
        expected = termly.year_to_date(marks_ds, code_counts(marks_ds), "2023/24", term).table
        expected = expected[expected["sessions_possible"] > 0]
        key = ["upn", "urn"]
        same = [*key, *COUNT_COLUMNS, "absence_pct", "persistent_absent", "year_group", "sen"]
        got = got.astype({"upn": str}).sort_values(key).reset_index(drop=True)[same]
        expected = expected.astype({"upn": str}).sort_values(key).reset_index(drop=True)[same]
        assert len(got) > 100
        pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_categorical=False)


def test_a_period_across_half_terms_cannot_be_given_a_half_term():
    from attendance_lib.core.academic_calendar import Calendar
    from attendance_lib.engine.sessions import cube_from_weekly

    calendar = pd.DataFrame(CALENDAR_2023_24).assign(
        start_date=lambda f: pd.to_datetime(f["start_date"]),
        end_date=lambda f: pd.to_datetime(f["end_date"]),
    )
    weekly = pd.DataFrame(
        {
            "upn": [P1],
            "urn": [URN_A],
            "week_start": [pd.Timestamp("2023-09-04")],
            "week_end": [pd.Timestamp("2023-11-05")],
            **{c: [0] for c in COUNT_COLUMNS},
        }
    ).assign(sessions_possible=60, sessions_present=60)
    with pytest.raises(UsageError, match="2023-09-04 to 2023-11-05 falls in more than one"):
        cube_from_weekly(weekly, Calendar(calendar))
    one = weekly.assign(week_end=pd.Timestamp("2023-10-15"))
    cube = cube_from_weekly(one, Calendar(calendar))
    assert cube[["half_term", "grp", "sessions"]].values.tolist() == [[1, 0, 60]]


def test_a_window_may_start_on_the_first_day_of_the_year(tmp_path):
    from attendance_lib.engine.sessions import mark_date_range

    calendar = [dict(r) for r in CALENDAR_2023_24]
    calendar[0]["start_date"] = "2023-09-06"  # a Wednesday
    cal_path = tmp_path / "calendar.csv"
    pd.DataFrame(calendar).to_csv(cal_path, index=False)
    out = imported(tmp_path, cal_path, {M1: [row(P1, present=6)], M2: [row(P1, present=16)]})
    ds = load_dataset(out)
    assert summarise(ds, "2023-09-06", "2023-09-15").table["sessions_possible"].tolist() == [16]
    with pytest.raises(UsageError, match="nearest are 2023-09-04 or 2023-09-11"):
        summarise(ds, "2023-09-07", "2023-09-15")
    assert mark_date_range(ds) == (pd.Timestamp("2023-09-04"), pd.Timestamp("2023-09-17"))
