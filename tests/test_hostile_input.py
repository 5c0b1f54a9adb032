"""Corrupt and hostile data folders (issue 13): each gets a clear error, never a traceback.

Every case is a small folder written from :mod:`builders` in a temporary directory and put
through the command line (``validate`` and ``summarise``), asserting the exit code, the file,
row and column in the message, that no traceback is printed, and that nothing is written.
Most run ``attendance_lib.cli.main`` in-process (an exception escaping it fails the test, as
a traceback would); a few run the installed entry point in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from builders import (
    CALENDAR_2023_24,
    DEFAULT_SCHOOLS,
    URN_A,
    URN_B,
    make_upn,
    mark,
    pupil,
    school,
    sessions,
    write_folder,
)

from attendance_lib.cli import main
from attendance_lib.contract import reading
from attendance_lib.contract.dataset import read_dataset

P1, P2 = make_upn(1), make_upn(2)
#: 4295096893 = 2**32 + 129597: cast to int32 it would become school 129597.
HUGE_URN = 4_295_096_893
WRAPPED_URN = HUGE_URN - 2**32
COMMANDS = ("validate", "summarise")


def base_marks() -> list[dict]:
    return sessions(P1, URN_A, ["/", "I", "N", "/"]) + sessions(P2, URN_B, ["/", "/"])


def base_pupils() -> list[dict]:
    return [pupil(P1, URN_A), pupil(P2, URN_B)]


def folder(tmp_path: Path, **tables) -> Path:
    tables.setdefault("marks", base_marks())
    tables.setdefault("pupils", base_pupils())
    return write_folder(tmp_path, **tables)


def cli(capsys, command: str, data: Path, tmp_path: Path) -> tuple[int, str, Path]:
    """Run ``validate`` or ``summarise`` on ``data``; return (exit code, all output, --out)."""
    out = tmp_path / "summary.csv"
    argv = [command, str(data)]
    if command == "summarise":
        argv += ["--from", "2023-09-04", "--to", "2023-10-20", "--out", str(out)]
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out + captured.err, out


def assert_refused(capsys, tmp_path, data: Path, command: str, *fragments: str) -> str:
    """Exit 1, every fragment in the message, no traceback, and no summary written."""
    code, text, out = cli(capsys, command, data, tmp_path)
    assert code == 1, text
    assert "Traceback" not in text
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in:\n{text}"
    assert not out.exists()
    return text


def as_parquet(data: Path, table: str = "marks", **columns) -> None:
    """Rewrite ``table.csv`` as ``table.parquet``, with ``columns`` given Arrow arrays."""
    frame = pd.read_csv(data / f"{table}.csv", dtype=str, keep_default_na=False)
    arrays = {name: columns.get(name, pa.array(frame[name])) for name in frame.columns}
    pq.write_table(pa.table(arrays), data / f"{table}.parquet")
    (data / f"{table}.csv").unlink()


# --------------------------------------------------------------------------------------
# Integers out of range are refused before any narrowing cast
# --------------------------------------------------------------------------------------


def schools_with_wrap_target() -> list[dict]:
    return [*DEFAULT_SCHOOLS, school(WRAPPED_URN)]


@pytest.mark.parametrize("command", COMMANDS)
def test_huge_marks_urn_in_csv_is_refused_not_wrapped(tmp_path, capsys, command):
    marks = base_marks()
    marks[2] = marks[2] | {"urn": HUGE_URN}
    data = folder(tmp_path, schools=schools_with_wrap_target(), marks=marks)
    assert_refused(capsys, tmp_path, data, command, "marks.csv, row 3, column 'urn'", str(HUGE_URN))


@pytest.mark.parametrize("command", COMMANDS)
def test_huge_marks_urn_in_parquet_is_refused_not_wrapped(tmp_path, capsys, command):
    marks = base_marks()
    marks[2] = marks[2] | {"urn": HUGE_URN}
    data = folder(tmp_path, schools=schools_with_wrap_target(), marks=marks)
    urns = pa.array([m["urn"] for m in marks], type=pa.int64())
    as_parquet(data, urn=urns, date=pa.array(pd.to_datetime([m["date"] for m in marks]).date))
    text = assert_refused(
        capsys, tmp_path, data, command, "marks.parquet, row 3, column 'urn'", str(HUGE_URN)
    )
    assert f"{WRAPPED_URN} is not in" not in text


def test_huge_urn_in_schools_and_pupils(tmp_path, capsys):
    schools = [*DEFAULT_SCHOOLS, school(HUGE_URN)]
    pupils = [*base_pupils(), pupil(make_upn(3), HUGE_URN)]
    data = folder(tmp_path, schools=schools, pupils=pupils)
    assert_refused(
        capsys,
        tmp_path,
        data,
        "validate",
        "schools.csv, row 3, column 'urn'",
        "pupils.csv, row 3, column 'urn'",
        "from 1 to 2,147,483,647",
    )


def test_integer_beyond_int64_is_a_clear_error(tmp_path, capsys):
    calendar = [dict(h) for h in CALENDAR_2023_24]
    calendar[1]["half_term"] = "99999999999999999999999"
    data = folder(tmp_path, calendar=calendar)
    assert_refused(capsys, tmp_path, data, "validate", "calendar.csv, row 2, column 'half_term'")


# --------------------------------------------------------------------------------------
# A pupil counts at one school per session
# --------------------------------------------------------------------------------------


def two_schools_same_sessions(other_code: str) -> list[dict]:
    return sessions(P1, URN_A, ["/", "/", "I", "/"]) + sessions(P1, URN_B, [other_code] * 4)


@pytest.mark.parametrize("marks_format", ["csv", "parquet"])
@pytest.mark.parametrize("command", COMMANDS)
def test_possible_marks_at_two_schools_in_one_session(tmp_path, capsys, command, marks_format):
    data = write_folder(
        tmp_path,
        marks=two_schools_same_sessions("/"),
        pupils=[pupil(P1, URN_A)],
        marks_format=marks_format,
    )
    assert_refused(
        capsys,
        tmp_path,
        data,
        command,
        f"marks.{marks_format}, row 5, column 'urn'",
        f"possible mark at URN {URN_A} in row 1",
        "one school per session",
    )


def test_dual_registration_with_d_at_the_other_school_is_valid(tmp_path, capsys):
    data = write_folder(tmp_path, marks=two_schools_same_sessions("D"), pupils=[pupil(P1, URN_A)])
    out = tmp_path / "pupils.csv"
    argv = ["summarise", str(data), "--from", "2023-09-04", "--to", "2023-09-05", "--by", "pupil"]
    assert main([*argv, "--out", str(out)]) == 0
    summary = pd.read_csv(out)
    assert summary["sessions_possible"].tolist() == [4]  # two days, never more


# --------------------------------------------------------------------------------------
# Key stage results within their real ranges, finite
# --------------------------------------------------------------------------------------


def ks2_row(upn: str, **values) -> dict:
    base = {"upn": upn, "academic_year": "2023/24", "rwm_expected": "true"}
    return (
        base | {"read_expected": "true", "writ_expected": "true", "mat_expected": "true"} | values
    )


def ks4_row(upn: str, attainment8: str) -> dict:
    return {"upn": upn, "academic_year": "2023/24", "attainment8": attainment8,
            "em_4plus": "true", "em_5plus": "false"}  # fmt: skip


@pytest.mark.parametrize(
    ("table", "rows", "where"),
    [
        ("ks4", [ks4_row(P1, "45.5"), ks4_row(P2, "500")], "ks4.csv, row 2, column 'attainment8'"),
        ("ks4", [ks4_row(P1, "-1"), ks4_row(P2, "40")], "ks4.csv, row 1, column 'attainment8'"),
        ("ks4", [ks4_row(P1, "inf"), ks4_row(P2, "40")], "ks4.csv, row 1, column 'attainment8'"),
        ("ks2", [ks2_row(P1, read_scaled="-50")], "ks2.csv, row 1, column 'read_scaled'"),
        ("ks2", [ks2_row(P1, mat_scaled="99999")], "ks2.csv, row 1, column 'mat_scaled'"),
        ("ks2", [ks2_row(P1, mat_scaled="inf")], "ks2.csv, row 1, column 'mat_scaled'"),
        ("ks2", [ks2_row(P1, ks1_prior="-inf")], "ks2.csv, row 1, column 'ks1_prior'"),
    ],
)
def test_key_stage_values_out_of_range(tmp_path, capsys, table, rows, where):
    data = folder(tmp_path, **{table: rows})
    text = assert_refused(capsys, tmp_path, data, "validate", where)
    assert "from 0 to 90" in text or "from 80 to 120" in text or "finite" in text


def test_key_stage_values_at_the_ends_of_their_ranges_are_valid(tmp_path, capsys):
    ks2 = [ks2_row(P1, read_scaled="80", mat_scaled="120")]
    ks4 = [ks4_row(P1, "0"), ks4_row(P2, "90")]
    data = folder(tmp_path, ks2=ks2, ks4=ks4)
    assert main(["validate", str(data)]) == 0, capsys.readouterr().err


# --------------------------------------------------------------------------------------
# A column named twice
# --------------------------------------------------------------------------------------

SCHOOLS_HEADER = "urn,school_name,phase,locality"


@pytest.mark.parametrize(
    "header",
    [
        f"{SCHOOLS_HEADER},school_name",
        f"{SCHOOLS_HEADER},School_Name",
        f"{SCHOOLS_HEADER}, school_name ",
    ],
    ids=["exact", "case", "space"],
)
@pytest.mark.parametrize("command", COMMANDS)
def test_duplicated_header_in_csv(tmp_path, capsys, command, header):
    rows = [f"{URN_A},Moor Lane,primary,East,Other Name", f"{URN_B},Beck Side,secondary,West,X"]
    data = folder(tmp_path, schools="\n".join([header, *rows]) + "\n")
    assert_refused(
        capsys, tmp_path, data, command, "schools.csv, column 'school_name'", "appears 2 times"
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_duplicated_header_in_parquet_marks(tmp_path, capsys, command):
    data = folder(tmp_path)
    marks = pd.read_csv(data / "marks.csv", dtype=str)
    table = pa.table([pa.array(marks[c]) for c in marks.columns] + [pa.array(marks["code"])],
                     names=[*marks.columns, "Code"])  # fmt: skip
    pq.write_table(table, data / "marks.parquet")
    (data / "marks.csv").unlink()
    assert_refused(capsys, tmp_path, data, command, "marks.parquet, column 'code'", "'Code'")


# --------------------------------------------------------------------------------------
# Symbolic links in partitioned marks
# --------------------------------------------------------------------------------------


def partitioned_with_loop(tmp_path: Path) -> Path:
    data = folder(tmp_path)
    assert main(["partition-marks", str(data / "marks.csv"), str(data / "marks.parquet")]) == 0
    (data / "marks.csv").unlink()
    school_dir = next((data / "marks.parquet").glob("*/urn=*"))
    (school_dir / "loop").symlink_to("..", target_is_directory=True)
    return data


@pytest.mark.parametrize("command", COMMANDS)
def test_symlink_loop_in_partitioned_marks_is_refused(tmp_path, capsys, command):
    data = partitioned_with_loop(tmp_path)
    capsys.readouterr()
    assert_refused(capsys, tmp_path, data, command, "/loop: is a symbolic link")


def test_partition_marks_refuses_a_source_with_a_symlink(tmp_path, capsys):
    data = partitioned_with_loop(tmp_path)
    capsys.readouterr()
    out = tmp_path / "copy.parquet"
    assert main(["partition-marks", str(data / "marks.parquet"), str(out)]) == 1
    text = "".join(capsys.readouterr())
    assert "is a symbolic link" in text and "Traceback" not in text
    assert not out.exists()
    assert not list(tmp_path.glob(".copy.parquet.tmp-*"))


def test_partition_marks_writes_each_mark_once(tmp_path, capsys):
    data = folder(tmp_path)
    out = tmp_path / "marks.parquet"
    assert main(["partition-marks", str(data / "marks.csv"), str(out)]) == 0
    assert pq.read_table(out).num_rows == len(base_marks())


def test_partition_marks_leaves_nothing_on_a_bad_file(tmp_path, capsys):
    bad = tmp_path / "marks.csv"
    bad.write_text("upn,urn,date,session,code\nX,1,2023-09-04,AM,/\nY,1,not-a-date,AM,/\n")
    out = tmp_path / "out.parquet"
    assert main(["partition-marks", str(bad), str(out)]) != 0
    text = "".join(capsys.readouterr())
    assert "marks.csv" in text and "Traceback" not in text
    assert not out.exists() and not list(tmp_path.glob(".out.parquet.tmp-*"))


# --------------------------------------------------------------------------------------
# Weekend marks: counted in a warning
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("marks_format", ["csv", "parquet"])
def test_weekend_marks_are_a_counted_warning(tmp_path, capsys, marks_format):
    marks = [*base_marks(), mark(P1, URN_A, "2023-09-09", "AM", "/"),
             mark(P1, URN_A, "2023-09-10", "PM", "N")]  # fmt: skip
    data = write_folder(tmp_path, marks=marks, pupils=base_pupils(), marks_format=marks_format)
    code, text, _ = cli(capsys, "validate", data, tmp_path)
    assert code == 0, text
    assert f"marks.{marks_format}: 2 marks are on a Saturday or Sunday (rows 7, 8)" in text
    code, text, out = cli(capsys, "summarise", data, tmp_path)
    assert code == 0 and out.exists()
    assert "2 marks are on a Saturday or Sunday" in text


# --------------------------------------------------------------------------------------
# Unreadable files
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content", [b"", b"this is not parquet\n", b"PAR1" + b"\0" * 64], ids=["empty", "text", "junk"]
)
@pytest.mark.parametrize("command", COMMANDS)
def test_marks_parquet_that_is_not_parquet(tmp_path, capsys, command, content):
    data = folder(tmp_path)
    (data / "marks.csv").unlink()
    (data / "marks.parquet").write_bytes(content)
    assert_refused(capsys, tmp_path, data, command, "marks.parquet: is not a readable Parquet file")


@pytest.mark.parametrize("command", COMMANDS)
def test_empty_schools_parquet(tmp_path, capsys, command):
    data = folder(tmp_path)
    (data / "schools.csv").unlink()
    (data / "schools.parquet").write_bytes(b"")
    assert_refused(capsys, tmp_path, data, command, "schools.parquet: is not a readable Parquet")


@pytest.mark.parametrize("command", COMMANDS)
def test_calendar_written_day_first(tmp_path, capsys, command):
    calendar = [
        h | {"start_date": pd.Timestamp(h["start_date"]).strftime("%d/%m/%Y"),
             "end_date": pd.Timestamp(h["end_date"]).strftime("%d/%m/%Y")}
        for h in CALENDAR_2023_24
    ]  # fmt: skip
    data = folder(tmp_path, calendar=calendar)
    assert_refused(
        capsys,
        tmp_path,
        data,
        command,
        "calendar.csv, row 1, column 'start_date': '04/09/2023' is not a date as YYYY-MM-DD",
        "write 2023-09-04",
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_csv_over_the_size_limit(tmp_path, capsys, command):
    """A sparse file just over the limit: refused by its size, without being read."""
    data = folder(tmp_path)
    with (data / "marks.csv").open("r+b") as fh:
        fh.truncate(reading.MAX_CSV_BYTES + 1)
    assert_refused(
        capsys, tmp_path, data, command, "marks.csv: is 256 MB", "partition-marks", "marks.parquet"
    )


def test_partition_marks_on_a_sparse_csv_is_a_clear_error(tmp_path, capsys):
    sparse = tmp_path / "marks.csv"
    with sparse.open("wb") as fh:
        fh.truncate(reading.MAX_CSV_BYTES + 1)
    out = tmp_path / "out.parquet"
    assert main(["partition-marks", str(sparse), str(out)]) == 1
    text = "".join(capsys.readouterr())
    assert "marks.csv: could not be read as CSV" in text and "Traceback" not in text
    assert not out.exists()


def test_errors_are_listed_together_with_no_traceback_from_the_entry_point(tmp_path):
    """The installed command: exit 1, every problem named, nothing on stdout, no traceback."""
    marks = base_marks()
    marks[0] = marks[0] | {"urn": HUGE_URN}
    data = folder(tmp_path, marks=marks, ks4=[ks4_row(P1, "500")])
    (data / "schools.csv").write_text(f"{SCHOOLS_HEADER},URN\n{URN_A},A,primary,East,1\n")
    exe = Path(sys.executable).with_name("attendance-workbench")
    env = os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    proc = subprocess.run(
        [str(exe), "validate", str(data)], capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "schools.csv, column 'urn': appears 2 times" in proc.stderr
    assert "marks.csv, row 1, column 'urn'" in proc.stderr
    assert "ks4.csv, row 1, column 'attainment8'" in proc.stderr


# --------------------------------------------------------------------------------------
# A parameter file whose notebook names no kernel
# --------------------------------------------------------------------------------------


def test_notebook_without_kernelspec_is_a_usage_error(runner_project, capsys):
    root = runner_project("good", data=True)
    notebook = root / "notebooks" / "good.ipynb"
    nb = json.loads(notebook.read_text())
    nb["metadata"].pop("kernelspec", None)
    notebook.write_text(json.dumps(nb))
    code = main(["run", str(root / "params" / "good.yaml"), "--out", str(root / "out")])
    text = "".join(capsys.readouterr())
    assert code == 2
    assert "good.ipynb: the notebook's metadata names no kernel (kernelspec)" in text
    assert not (root / "out").exists() or not list((root / "out").rglob("*.html"))


# --------------------------------------------------------------------------------------
# Parquet dates as text or zoned timestamps: canonical types from every read
# --------------------------------------------------------------------------------------


def _dates_as(data: Path, kind: str) -> None:
    frame = pd.read_csv(data / "marks.csv", dtype=str)
    days = pd.to_datetime(frame["date"])
    if kind == "text":
        date = pa.array(frame["date"], type=pa.large_string())
    elif kind == "london":  # midnight in London: 23:00 UTC the day before in summer time
        date = pa.array(days.dt.tz_localize("Europe/London"))
    else:
        date = pa.array(days.dt.tz_localize("UTC"))
    as_parquet(data, urn=pa.array(frame["urn"].astype("int64")), date=date)


@pytest.mark.parametrize("kind", ["text", "london", "utc"])
def test_marks_for_types_dates_however_stored(tmp_path, kind):
    data = folder(tmp_path)
    _dates_as(data, kind)
    read_dataset(data)  # validates, and remembers it: the next read is the reports' path
    ds = read_dataset(data)
    assert ds._marks is None
    for marks in (
        ds.marks_for(urns=[URN_A], start="2023-09-05", end="2023-09-05"),
        ds.marks_for(upns=[P1], start="2023-09-05", end="2023-09-05"),
    ):
        assert marks["date"].dtype == np.dtype("datetime64[s]")
        assert marks["urn"].dtype == np.int32
        assert marks["date"].tolist() == [pd.Timestamp("2023-09-05")] * 2
        assert marks["code"].tolist() == ["N", "/"]
    assert ds.marks["date"].min() == pd.Timestamp("2023-09-04")


def test_zoned_timestamps_in_other_parquet_tables(tmp_path, capsys):
    data = folder(tmp_path)
    calendar = pd.DataFrame(CALENDAR_2023_24)
    for column in ("start_date", "end_date"):
        calendar[column] = pd.to_datetime(calendar[column]).dt.tz_localize("Europe/London")
    calendar.to_parquet(data / "calendar.parquet", index=False)
    (data / "calendar.csv").unlink()
    assert main(["validate", str(data)]) == 0, capsys.readouterr().err
    table = read_dataset(data).calendar
    assert table["start_date"].dtype == np.dtype("datetime64[s]")
    assert table["start_date"].iloc[0] == pd.Timestamp("2023-09-04")
