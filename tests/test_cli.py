"""The command line: every kind of bad input, and the exact summarise output.

Most tests call ``attendance_lib.cli.main`` in-process (fast); a few run the installed
entry point in a subprocess to prove the exit codes and the absence of a traceback.
"""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from builders import (
    OMIT,
    URN_A,
    URN_B,
    bad_check_letter,
    make_upn,
    mark,
    pupil,
    school,
    sessions,
    sessions_over_calendar,
    write_folder,
)

from attendance_lib.cli import main

P1, P2, P3 = make_upn(1), make_upn(2), make_upn(3)
SUMMARY_COLUMNS = [
    "upn",
    "urn",
    "sessions_possible",
    "sessions_present",
    "sessions_aea",
    "sessions_authorised",
    "sessions_unauthorised",
    "attendance_pct",
    "absence_pct",
    "authorised_pct",
    "unauthorised_pct",
    "persistent_absent",
    "severe_absent",
]


def base_marks():
    return sessions(P1, URN_A, ["/", "I", "N", "/"]) + sessions(P2, URN_B, ["/", "/"])


def base_pupils():
    return [pupil(P1, URN_A), pupil(P2, URN_B)]


def folder_with(tmp_path, **tables):
    tables.setdefault("marks", base_marks())
    tables.setdefault("pupils", base_pupils())
    return write_folder(tmp_path, **tables)


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_invalid(capsys, folder, file, row, column, text=""):
    """validate exits 1 and names the file, row and column (and the expectation) on stderr."""
    code, _, err = run(capsys, "validate", folder)
    assert code == 1, err
    where = f"{file}, row {row}, column '{column}'" if row else f"{file}, column '{column}'"
    lines = [line for line in err.splitlines() if where in line]
    assert lines, f"{where!r} not in:\n{err}"
    assert any(text in line for line in lines), f"{text!r} not in {lines}"
    assert "Traceback" not in err
    return err


# --------------------------------------------------------------------------------------
# Usage errors (exit 2)
# --------------------------------------------------------------------------------------


def test_missing_folder_is_a_usage_error(tmp_path, capsys):
    code, _, err = run(capsys, "validate", tmp_path / "no-such-folder")
    assert code == 2 and "does not exist" in err and "Traceback" not in err


def test_bad_arguments_exit_2(tmp_path, capsys):
    folder = folder_with(tmp_path)
    with pytest.raises(SystemExit) as info:
        main(["summarise", str(folder), "--from", "04/09/2023", "--to", "2023-09-30"])
    assert info.value.code == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["summarise", str(folder), "--from", "2023-09-01", "--to", "2023-09-30"])
    assert info.value.code == 2  # --out is required
    with pytest.raises(SystemExit) as info:
        main(["summarise", str(folder), "--from", "2023-09-01", "--to", "2023-09-30"]
             + ["--out", "x.csv", "--by", "school"])  # fmt: skip
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2


def test_window_ending_before_it_starts_is_a_usage_error(tmp_path, capsys):
    out = tmp_path / "out.csv"
    code, _, err = run(
        capsys, "summarise", folder_with(tmp_path), "--from", "2023-09-30", "--to", "2023-09-01",
        "--out", out,
    )  # fmt: skip
    assert code == 2 and "--to" in err and not out.exists()


# --------------------------------------------------------------------------------------
# Invalid data (exit 1): every kind names file, row and column
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("table", ["schools", "pupils", "calendar", "marks"])
def test_missing_required_table(tmp_path, capsys, table):
    code, _, err = run(capsys, "validate", folder_with(tmp_path, **{table: OMIT}))
    assert code == 1 and f"{table}.csv" in err and "required table is missing" in err
    assert "Traceback" not in err


def test_missing_column(tmp_path, capsys):
    pupils = pd.DataFrame(base_pupils()).drop(columns="sen")
    assert_invalid(capsys, folder_with(tmp_path, pupils=pupils), "pupils.csv", None, "sen",
                   "required column is missing")  # fmt: skip


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("urn", "12a", "whole number"),  # int
        ("date_of_birth", "2015-02-30", "YYYY-MM-DD"),  # date
        ("fsm", "perhaps", "true/false"),  # bool
        ("academic_year", "2023/2024", "academic year such as 2023/24"),  # academic year
        ("year_group", "Y7", "N1, N2, R or 1 to 14"),  # year group
        ("sex", "female", "expected one of F, M"),  # allowed values
    ],
)
def test_bad_type_per_kind(tmp_path, capsys, field, value, expected):
    pupils = base_pupils()
    pupils[1] = pupils[1] | {field: value}
    assert_invalid(capsys, folder_with(tmp_path, pupils=pupils), "pupils.csv", 2, field, expected)


def test_bad_int_in_calendar_and_bad_date_in_marks(tmp_path, capsys):
    calendar = pd.read_csv(write_folder(tmp_path / "c", marks=[]) / "calendar.csv", dtype=str)
    calendar.loc[3, "half_term"] = "four"
    marks = base_marks()
    marks[4] = marks[4] | {"date": "2023-09-31"}
    folder = folder_with(tmp_path, calendar=calendar, marks=marks)
    err = assert_invalid(capsys, folder, "calendar.csv", 4, "half_term", "whole number")
    assert "marks.csv, row 5, column 'date'" in err


def test_bad_upn_check_letter(tmp_path, capsys):
    bad = bad_check_letter(P2)
    pupils = [pupil(P1, URN_A), pupil(bad, URN_B)]
    marks = sessions(P1, URN_A, ["/"]) + sessions(bad, URN_B, ["/"])
    err = assert_invalid(capsys, folder_with(tmp_path, pupils=pupils, marks=marks),
                         "pupils.csv", 2, "upn", "not a valid UPN")  # fmt: skip
    assert bad in err


def test_pupil_urn_not_in_schools(tmp_path, capsys):
    pupils = base_pupils() + [pupil(P3, 123456)]
    assert_invalid(capsys, folder_with(tmp_path, pupils=pupils), "pupils.csv", 3, "urn",
                   "123456 is not in schools.csv")  # fmt: skip


def test_mark_upn_not_in_pupils(tmp_path, capsys):
    marks = base_marks() + sessions(P3, URN_A, ["/"])
    assert_invalid(capsys, folder_with(tmp_path, marks=marks), "marks.csv", 7, "upn",
                   f"{P3} is not in pupils.csv")  # fmt: skip


def test_mark_date_outside_calendar(tmp_path, capsys):
    marks = base_marks() + [mark(P1, URN_A, "2023-12-27", "AM", "I")]
    assert_invalid(capsys, folder_with(tmp_path, marks=marks), "marks.csv", 7, "date",
                   "not inside any half term")  # fmt: skip


@pytest.mark.parametrize("code", ["-", "A", "i", "Y9"])
def test_unknown_register_code(tmp_path, capsys, code):
    marks = base_marks()
    marks[2] = marks[2] | {"code": code}
    assert_invalid(capsys, folder_with(tmp_path, marks=marks), "marks.csv", 3, "code",
                   f"{code!r} is not a register code")  # fmt: skip


def test_unknown_register_code_in_parquet(tmp_path, capsys):
    marks = base_marks()
    marks[1] = marks[1] | {"code": "-"}
    folder = folder_with(tmp_path, marks=marks, marks_format="parquet")
    assert_invalid(capsys, folder, "marks.parquet", 2, "code", "'-' is not a register code")


def test_conflicting_duplicate_marks(tmp_path, capsys):
    marks = base_marks()
    marks.append(marks[1] | {"code": "/"})  # row 7 conflicts with row 2
    err = assert_invalid(capsys, folder_with(tmp_path, marks=marks), "marks.csv", 2, "code",
                         "conflicting duplicate")  # fmt: skip
    assert "marks.csv, row 7, column 'code'" in err


def test_census_totals_over_possible(tmp_path, capsys):
    terms = [
        {"upn": P1, "urn": URN_A, "academic_year": "2023/24", "term": "autumn"}
        | {"sessions_possible": 10, "sessions_authorised": 6, "sessions_unauthorised": 5}
    ]
    assert_invalid(capsys, folder_with(tmp_path, absence_terms=terms), "absence_terms.csv", 1,
                   "sessions_authorised", "exceed sessions_possible")  # fmt: skip


def test_many_problems_are_listed_together(tmp_path, capsys):
    pupils = [pupil(P1, URN_A, fsm="maybe"), pupil(P2, 999, sex="x")]
    marks = base_marks()
    marks[0] = marks[0] | {"code": "-"}
    marks.append(mark(P3, URN_A, "2023-08-01", "AM", "/"))
    schools = [school(URN_A), school(URN_B, phase="nursery")]
    code, _, err = run(capsys, "validate",
                       folder_with(tmp_path, pupils=pupils, marks=marks, schools=schools))  # fmt: skip
    assert code == 1
    for where in (
        "schools.csv, row 2, column 'phase'",
        "pupils.csv, row 1, column 'fsm'",
        "pupils.csv, row 2, column 'sex'",
        "pupils.csv, row 2, column 'urn'",
        "marks.csv, row 1, column 'code'",
        "marks.csv, row 7, column 'upn'",
        "marks.csv, row 7, column 'date'",
    ):
        assert where in err, where
    assert "7 data problems found" in err


# --------------------------------------------------------------------------------------
# Valid data
# --------------------------------------------------------------------------------------


def test_validate_valid_folder(tmp_path, capsys):
    folder = folder_with(tmp_path)
    code, out, err = run(capsys, "validate", folder)
    assert code == 0 and "meets the data contract" in out and "marks" in out
    assert "Invalid" not in err


def test_validate_reports_collapsed_duplicates(tmp_path, capsys):
    marks = base_marks()
    marks.append(dict(marks[0]))
    code, out, _ = run(capsys, "validate", folder_with(tmp_path, marks=marks))
    assert code == 0 and "1 identical duplicate mark rows" in out


def test_summarise_enrolment_columns_values_and_booleans(tmp_path, capsys):
    # P1 moves from A to B; P2 attends all sessions at B; P3 has only X (left out, counted)
    marks = (
        sessions(P1, URN_A, ["/", "I", "N", "/"])
        + sessions(P1, URN_B, ["/"] * 6, start="2023-09-11")
        + sessions(P2, URN_B, ["/"] * 4)
        + sessions(P3, URN_A, ["X", "X"])
    )
    folder = folder_with(tmp_path, marks=marks, pupils=base_pupils() + [pupil(P3)])
    out_file = tmp_path / "out" / "enrolments.csv"
    code, out, _ = run(capsys, "summarise", folder, "--from", "2023-09-04", "--to", "2023-09-30",
                       "--out", out_file)  # fmt: skip
    assert code == 0
    assert "3 enrolments written" in out and "1 enrolments with marks" in out
    text = out_file.read_text()
    assert text.splitlines()[0] == ",".join(SUMMARY_COLUMNS)
    frame = pd.read_csv(out_file, dtype={"persistent_absent": str, "severe_absent": str})
    row = frame[(frame["upn"] == P1) & (frame["urn"] == URN_A)].iloc[0]
    assert (row["sessions_possible"], row["sessions_authorised"]) == (4, 1)
    assert row["absence_pct"] == 50.0 and row["unauthorised_pct"] == 25.0
    assert (row["persistent_absent"], row["severe_absent"]) == ("true", "true")
    p2 = frame[frame["upn"] == P2].iloc[0]
    assert (p2["persistent_absent"], p2["severe_absent"]) == ("false", "false")
    assert set(frame["persistent_absent"]) <= {"true", "false"}


def test_summarise_by_pupil_has_no_urn(tmp_path, capsys):
    marks = sessions(P1, URN_A, ["/", "I", "N", "/"]) + sessions(
        P1, URN_B, ["/"] * 6, start="2023-09-11"
    )
    out_file = tmp_path / "pupils.csv"
    code, out, _ = run(capsys, "summarise", folder_with(tmp_path, marks=marks), "--from",
                       "2023-09-04", "--to", "2023-09-30", "--by", "pupil", "--out", out_file)  # fmt: skip
    assert code == 0 and "1 pupils written" in out
    frame = pd.read_csv(out_file, dtype=str)
    assert list(frame.columns) == [c for c in SUMMARY_COLUMNS if c != "urn"]
    assert frame.loc[0, "sessions_possible"] == "10" and frame.loc[0, "absence_pct"] == "20.0"
    assert frame.loc[0, "persistent_absent"] == "true"


def test_summarise_whole_year_pa_edge(tmp_path, capsys):
    marks = sessions_over_calendar(P1, URN_A, ["I"] * 19 + ["/"] * 171)
    out_file = tmp_path / "year.csv"
    code, _, _ = run(capsys, "summarise", folder_with(tmp_path, marks=marks, pupils=[pupil(P1)]),
                     "--from", "2023-09-04", "--to", "2024-07-19", "--out", out_file)  # fmt: skip
    assert code == 0
    frame = pd.read_csv(out_file, dtype={"persistent_absent": str})
    assert frame.loc[0, "absence_pct"] == 10.0 and frame.loc[0, "persistent_absent"] == "true"


def test_summarise_refuses_invalid_data_and_writes_nothing(tmp_path, capsys):
    marks = base_marks()
    marks[0] = marks[0] | {"code": "-"}
    out_file = tmp_path / "out.csv"
    code, out, err = run(capsys, "summarise", folder_with(tmp_path, marks=marks), "--from",
                         "2023-09-04", "--to", "2023-09-30", "--out", out_file)  # fmt: skip
    assert code == 1
    assert "marks.csv, row 1, column 'code'" in err and "Traceback" not in err
    assert not out_file.exists()
    assert not list(tmp_path.glob(".out.csv*"))


# --------------------------------------------------------------------------------------
# Real processes: exit codes and no traceback
# --------------------------------------------------------------------------------------


def _subprocess(*argv):
    return subprocess.run(
        [sys.executable, "-m", "attendance_lib", *map(str, argv)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_subprocess_invalid_data_exit_1_no_traceback(tmp_path):
    pupils = [pupil(P1, URN_A), pupil(bad_check_letter(P2), 42)]
    marks = base_marks()
    marks[3] = marks[3] | {"code": "-"}
    proc = _subprocess("validate", folder_with(tmp_path, pupils=pupils, marks=marks))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "pupils.csv, row 2, column 'upn'" in proc.stderr
    assert "pupils.csv, row 2, column 'urn'" in proc.stderr
    assert "marks.csv, row 4, column 'code'" in proc.stderr


def test_subprocess_usage_errors_exit_2(tmp_path):
    proc = _subprocess("validate", tmp_path / "missing")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    proc = _subprocess("summarise", tmp_path, "--from", "yesterday", "--to", "2024-01-01",
                       "--out", tmp_path / "x.csv")  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_subprocess_valid_summarise(tmp_path):
    out_file = tmp_path / "s.csv"
    proc = _subprocess("summarise", folder_with(tmp_path), "--from", "2023-09-04", "--to",
                       "2023-09-05", "--out", out_file)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert out_file.read_text().splitlines()[0] == ",".join(SUMMARY_COLUMNS)
