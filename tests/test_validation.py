"""Validation rules across rows and tables: keys, links, UPNs, dates, census totals, duplicates."""

from __future__ import annotations

import pandas as pd
import pytest
from builders import (
    URN_A,
    URN_B,
    bad_check_letter,
    make_upn,
    mark,
    marks_frame,
    pupil,
    school,
    sessions,
    write_folder,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.gb import upn as stdnum_upn

from attendance_lib.contract.dataset import load_dataset
from attendance_lib.contract.reading import ProblemLog
from attendance_lib.contract.validation import collapse_duplicate_marks
from attendance_lib.core.errors import DataError

P1, P2, P3 = make_upn(1), make_upn(2), make_upn(3)


def problems(folder) -> list:
    with pytest.raises(DataError) as info:
        load_dataset(folder)
    return info.value.problems


def find(found, file, column, row, text):
    hits = [
        p
        for p in found
        if p.file == file and p.column == column and p.row == row and text in p.message
    ]
    assert hits, f"no problem {file}/{column}/{row}/{text!r} in {found}"
    return hits


def test_duplicate_keys_name_the_first_row(tmp_path):
    schools = [school(URN_A), school(URN_B), school(URN_A, locality="West")]
    pupils = [pupil(P1), pupil(P2), pupil(P1, URN_B)]
    found = problems(write_folder(tmp_path, schools=schools, pupils=pupils))
    find(found, "schools.csv", "urn", 3, "as row 1")
    find(found, "pupils.csv", "upn, academic_year", 3, "as row 1")


def test_same_pupil_in_two_years_is_not_a_duplicate(tmp_path):
    pupils = [pupil(P1), pupil(P1, academic_year="2022/23", year_group="4")]
    assert len(load_dataset(write_folder(tmp_path, pupils=pupils)).pupils) == 2


def test_upn_check_letters(tmp_path):
    temporary_body = "380" + "12345678" + "A"  # temporary UPNs end with a letter
    temporary = stdnum_upn.calc_check_digit(temporary_body) + temporary_body
    assert stdnum_upn.is_valid(temporary)
    pupils = [
        pupil(P1),
        pupil(bad_check_letter(P2)),
        pupil(temporary),
        pupil(P3[:-1]),  # 12 characters
        pupil("A999000000001"),  # LA 999 does not exist
    ]
    found = problems(write_folder(tmp_path, pupils=pupils))
    find(found, "pupils.csv", "upn", 2, "not a valid UPN")
    find(found, "pupils.csv", "upn", 4, "not a valid UPN")
    find(found, "pupils.csv", "upn", 5, "not a valid UPN")
    assert not [p for p in found if p.row in (1, 3)]


def test_pupil_school_must_exist(tmp_path):
    found = problems(write_folder(tmp_path, pupils=[pupil(P1), pupil(P2, 999999)]))
    find(found, "pupils.csv", "urn", 2, "999999 is not in schools.csv")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_mark_links_to_pupils_and_schools(tmp_path, fmt):
    marks = sessions(P1, URN_A, ["/"]) + sessions(P2, URN_A, ["/"]) + sessions(P1, 999999, ["/"])
    found = problems(write_folder(tmp_path, pupils=[pupil(P1)], marks=marks, marks_format=fmt))
    find(found, f"marks.{fmt}", "upn", 2, f"{P2} is not in pupils.csv")
    find(found, f"marks.{fmt}", "urn", 3, "999999 is not in schools.csv")


@pytest.mark.parametrize(
    "date", ["2023-10-25", "2023-09-01", "2024-07-22", "2022-09-05", "1890-01-06"]
)
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_mark_date_outside_calendar(tmp_path, date, fmt):
    marks = sessions(P1, URN_A, ["/", "/"]) + [mark(P1, URN_A, date, "AM", "/")]
    found = problems(write_folder(tmp_path, marks=marks, marks_format=fmt))
    find(found, f"marks.{fmt}", "date", 3, f"{date} is not inside any half term")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_calendar_edges_are_inside(tmp_path, fmt):
    marks = [
        mark(P1, URN_A, "2023-09-04", "AM", "/"),  # first day of half term 1
        mark(P1, URN_A, "2023-10-20", "PM", "/"),  # last day of half term 1
        mark(P1, URN_A, "2024-07-19", "PM", "/"),  # last day of the year
    ]
    assert len(load_dataset(write_folder(tmp_path, marks=marks, marks_format=fmt)).marks) == 3


@pytest.mark.parametrize("code", ["-", "", "l", "Y8", "ABS"])
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_unknown_register_codes(tmp_path, code, fmt):
    marks = sessions(P1, URN_A, ["/", code, "I"])
    found = problems(write_folder(tmp_path, marks=marks, marks_format=fmt))
    expected = "register code" if code or fmt == "parquet" else "is empty"
    find(found, f"marks.{fmt}", "code", 2, expected)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_bad_session(tmp_path, fmt):
    marks = [mark(P1, URN_A, "2023-09-04", "AM", "/"), mark(P1, URN_A, "2023-09-04", "EVE", "/")]
    found = problems(write_folder(tmp_path, marks=marks, marks_format=fmt))
    find(found, f"marks.{fmt}", "session", 2, "AM")


def test_calendar_rules(tmp_path):
    calendar = [
        {"academic_year": "2023/24", "half_term": 1, "start_date": "2023-09-04"}
        | {"end_date": "2023-10-20"},
        {"academic_year": "2023/24", "half_term": 7, "start_date": "2023-10-30"}
        | {"end_date": "2023-10-29"},
        {"academic_year": "2023/24", "half_term": 3, "start_date": "2023-10-10"}
        | {"end_date": "2023-12-20"},
    ]
    found = problems(write_folder(tmp_path, calendar=calendar))
    find(found, "calendar.csv", "half_term", 2, "1 to 6")
    find(found, "calendar.csv", "end_date", 2, "before start_date")
    find(found, "calendar.csv", "start_date", 3, "before the previous half term ends")


def _census(possible, authorised, unauthorised):
    return {
        "upn": P1,
        "urn": URN_A,
        "academic_year": "2023/24",
        "term": "autumn",
        "sessions_possible": possible,
        "sessions_authorised": authorised,
        "sessions_unauthorised": unauthorised,
    }


def test_census_totals(tmp_path):
    rows = [_census(140, 10, 4), _census(140, 100, 41) | {"term": "spring"}]
    rows.append(_census(-1, 0, 0) | {"term": "summer"})
    found = problems(write_folder(tmp_path, absence_terms=rows))
    find(found, "absence_terms.csv", "sessions_authorised", 2, "exceed sessions_possible")
    find(found, "absence_terms.csv", "sessions_possible", 3, "must not be negative")
    assert not [p for p in found if p.row == 1]


def test_census_totals_equal_to_possible_is_valid(tmp_path):
    ds = load_dataset(write_folder(tmp_path, absence_terms=[_census(140, 100, 40)]))
    assert ds.absence_terms["sessions_possible"].tolist() == [140]


def test_services_end_before_start_and_benchmarks_without_area(tmp_path):
    services = [{"upn": P1, "service": "cin", "start_date": "2023-05-01", "end_date": "2023-04-30"}]
    bench = [{"time_period": 202223, "time_identifier": "Academic year"}]
    bench[0] |= {"geographic_level": "National", "sess_overall_percent": 7.5}
    found = problems(write_folder(tmp_path, services=services, benchmarks=bench))
    find(found, "services.csv", "end_date", 1, "before start_date")
    find(found, "benchmarks.csv", "area_name", 1, "no area name")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_identical_duplicate_marks_are_collapsed_with_a_counted_warning(tmp_path, fmt):
    marks = sessions(P1, URN_A, ["/", "I", "N"])
    marks = marks + [marks[0], marks[2], marks[2]]  # 3 identical repeats
    ds = load_dataset(write_folder(tmp_path, marks=marks, marks_format=fmt))
    assert len(ds.marks) == 3
    (warning,) = ds.warnings
    assert "3 identical duplicate mark rows" in warning and f"marks.{fmt}" in warning


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_conflicting_duplicate_marks_are_an_error_listing_both_rows(tmp_path, fmt):
    marks = sessions(P1, URN_A, ["/", "I", "N"])
    marks.append(mark(P1, URN_A, marks[1]["date"], marks[1]["session"], "/"))  # row 4
    found = problems(write_folder(tmp_path, marks=marks, marks_format=fmt))
    rows = sorted(p.row for p in found if p.column == "code" and "conflicting" in p.message)
    assert rows == [2, 4]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_session_at_two_schools_is_not_a_duplicate(tmp_path, fmt):
    # dual registration: one mark at each school for the same session
    marks = sessions(P1, URN_A, ["D", "D"]) + sessions(P1, URN_B, ["/", "I"])
    ds = load_dataset(write_folder(tmp_path, marks=marks, marks_format=fmt))
    assert len(ds.marks) == 4 and ds.warnings == []


def test_collapse_duplicates_unit():
    rows = [
        mark(P2, URN_A, "2023-09-05", "PM", "I"),
        mark(P1, URN_A, "2023-09-04", "AM", "/"),
        mark(P2, URN_A, "2023-09-05", "PM", "I"),  # identical to row 1
        mark(P1, URN_A, "2023-09-04", "PM", "/"),
        mark(P1, URN_B, "2023-09-04", "AM", "N"),
        mark(P1, URN_B, "2023-09-04", "AM", "O"),  # conflicts with row 5
        mark(P1, URN_B, "2023-09-04", "AM", "N"),  # same key as 5 and 6
    ]
    log = ProblemLog()
    out, dropped = collapse_duplicate_marks(marks_frame(rows), "marks.csv", log)
    assert sorted(p.row for p in log.problems) == [5, 6, 7]
    assert dropped == 1
    assert len(out) == 6
    assert log.warnings and "1 identical" in log.warnings[0]


def test_collapse_no_duplicates_returns_input():
    frame = marks_frame(sessions(P1, URN_A, ["/", "I", "N"]))
    out, dropped = collapse_duplicate_marks(frame, "marks.csv", ProblemLog())
    assert dropped == 0 and out is frame
    shuffled = frame.iloc[[2, 0, 1]].reset_index(drop=True)
    out, dropped = collapse_duplicate_marks(shuffled, "marks.csv", ProblemLog())
    assert dropped == 0 and len(out) == 3


def test_many_problems_reported_together(tmp_path):
    pupils = [pupil(P1), pupil(bad_check_letter(P2)), pupil(P3, 999999, sex="Z")]
    marks = sessions(P1, URN_A, ["/", "-"]) + [mark(P1, URN_A, "2023-10-25", "AM", "/")]
    found = problems(write_folder(tmp_path, pupils=pupils, marks=marks))
    assert {(p.file, p.column) for p in found} >= {
        ("pupils.csv", "upn"),
        ("pupils.csv", "urn"),
        ("pupils.csv", "sex"),
        ("marks.csv", "code"),
        ("marks.csv", "date"),
    }
    # every problem says where it is
    assert all(p.file and p.message for p in found)
    assert str(found[0]).startswith(found[0].file)


def test_validated_marks_are_kept_on_the_dataset(tmp_path, monkeypatch):
    # a cache of its own: the same folder validated by an earlier test would be remembered,
    # and then the marks are read when first used instead
    monkeypatch.setenv("ATTENDANCE_WORKBENCH_CACHE", str(tmp_path / "cache"))
    ds = load_dataset(write_folder(tmp_path, marks=sessions(P1, URN_A, ["/", "I"])))
    assert ds._marks is not None and isinstance(ds.marks, pd.DataFrame)


def test_upn_check_letter_is_checked_whatever_the_la_number():
    """The contract asks for the check letter; an LA number missing from stdnum's list is fine."""
    from stdnum.gb import upn as stdnum_upn

    from attendance_lib.contract.validation import upn_is_valid

    body = "999123456789"  # 999 is not a listed LA number
    letter = stdnum_upn.calc_check_digit(body)
    assert upn_is_valid(letter + body)
    wrong = "A" if letter != "A" else "B"
    assert not upn_is_valid(wrong + body)
    assert upn_is_valid("B801200005001")  # stdnum's own example
    assert not upn_is_valid("X80120000A001")  # letters inside
    assert not upn_is_valid("B80120000500")  # 12 characters


upn_like = st.text(
    alphabet=st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abz -é"), min_size=11, max_size=15
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            upn_like,
            st.integers(0, 10**9 - 1).map(make_upn),
            st.builds(  # a valid UPN with one character changed
                lambda upn, i, c: upn[:i] + c + upn[i + 1 :],
                st.integers(0, 10**9 - 1).map(make_upn),
                st.integers(0, 12),
                st.sampled_from("ABCIOSXYZ0189a"),
            ),
        ),
        max_size=20,
    )
)
def test_vectorised_upn_check_gives_upn_is_valid_answers(values):
    from attendance_lib.contract.validation import upn_is_valid, upns_valid

    assert upns_valid(values).tolist() == [upn_is_valid(v) for v in values]
