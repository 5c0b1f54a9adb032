"""Hive-partitioned marks (attendance_lib.contract.partitioning): layout, academic years, round trip."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pytest
from builders import URN_A, URN_B, make_upn, mark, marks_frame

from attendance_lib.contract.partitioning import academic_years, write_partitioned_marks
from attendance_lib.core.errors import UsageError
from attendance_lib.engine.sessions import summarise


def test_academic_year_turns_on_1_september():
    days = ["2023-08-31", "2023-09-01", "2024-01-15", "2024-08-31", "1999-12-31"]
    dates = pa.array([date.fromisoformat(d) for d in days] + [None], type=pa.date32())
    assert academic_years(dates).to_pylist() == [
        "2022/23",
        "2023/24",
        "2023/24",
        "2023/24",
        "1999/00",
        None,
    ]


def _marks():
    a, b = make_upn(1), make_upn(2)
    return marks_frame(
        [
            mark(a, URN_A, "2023-07-19", "AM", "/"),  # 2022/23
            mark(a, URN_A, "2023-09-04", "AM", "/"),
            mark(a, URN_A, "2023-09-04", "PM", "O"),
            mark(b, URN_B, "2023-09-04", "AM", "I"),
            mark(b, URN_B, "2024-07-19", "PM", "/"),
        ]
    )


def test_layout_is_one_folder_per_year_and_school(tmp_path):
    layout = write_partitioned_marks(_marks(), tmp_path / "marks.parquet")
    files = sorted(p.relative_to(layout.path).as_posix() for p in layout.path.rglob("*.parquet"))
    assert files == [
        f"academic_year=2022%2F23/urn={URN_A}/part-0.parquet",
        f"academic_year=2023%2F24/urn={URN_A}/part-0.parquet",
        f"academic_year=2023%2F24/urn={URN_B}/part-0.parquet",
    ]
    assert (layout.marks, layout.files) == (5, 3)
    back = pads.dataset(layout.path, format="parquet", partitioning="hive").to_table()
    assert back.schema.field("date").type == pa.date32()  # Spark reads DATE, not nanoseconds
    assert sorted(back.column("academic_year").to_pylist()) == ["2022/23"] + ["2023/24"] * 4


def test_round_trip_gives_the_same_summary(tmp_path):
    marks = _marks()
    layout = write_partitioned_marks(marks, tmp_path / "m", by=["urn"])
    direct = summarise(marks).table
    pd.testing.assert_frame_equal(summarise(layout.path).table, direct)
    # A by hand: 3 possible (2 present, 1 unauthorised); B: 2 possible (1 authorised).
    counts = direct.set_index("upn")
    assert counts.loc[make_upn(1), ["sessions_possible", "sessions_unauthorised"]].tolist() == [
        3,
        1,
    ]
    assert counts.loc[make_upn(2), ["sessions_possible", "sessions_authorised"]].tolist() == [2, 1]


def test_reads_a_parquet_file_and_a_csv(tmp_path):
    rows = pd.DataFrame(
        [mark(make_upn(1), URN_A, d, "AM", "/") for d in ("2024-08-30", "2024-09-02")]
    )
    rows.to_csv(tmp_path / "marks.csv", index=False)
    from_csv = write_partitioned_marks(tmp_path / "marks.csv", tmp_path / "a", by=["academic_year"])
    assert sorted(p.name for p in from_csv.path.iterdir()) == [
        "academic_year=2023%2F24",
        "academic_year=2024%2F25",
    ]
    rows.assign(date=pd.to_datetime(rows["date"])).to_parquet(tmp_path / "marks.parquet")
    from_file = write_partitioned_marks(tmp_path / "marks.parquet", tmp_path / "b")
    assert from_file.marks == 2


def test_refuses_a_non_empty_folder_unless_told(tmp_path):
    write_partitioned_marks(_marks(), tmp_path / "m")
    with pytest.raises(UsageError, match="not empty"):
        write_partitioned_marks(_marks(), tmp_path / "m")
    again = write_partitioned_marks(_marks(), tmp_path / "m", overwrite=True)
    assert pads.dataset(again.path, partitioning="hive").count_rows() == 5


def test_unknown_partition_column_and_times_of_day_are_refused(tmp_path):
    with pytest.raises(UsageError, match="la_code"):
        write_partitioned_marks(_marks(), tmp_path / "a", by=["la_code"])
    timed = _marks().assign(date=lambda f: f["date"] + pd.Timedelta(hours=9))
    with pytest.raises(UsageError, match="whole days"):
        write_partitioned_marks(timed, tmp_path / "b")


def test_zoned_timestamps_keep_their_own_day(tmp_path):
    """Midnight in London (23:00 UTC the day before in summer time) is still that day."""
    upn = make_upn(1)
    frame = pd.DataFrame([mark(upn, URN_A, "2023-09-04", "AM", "/")]).assign(
        date=lambda m: pd.to_datetime(m["date"]).dt.tz_localize("Europe/London")
    )
    out = write_partitioned_marks(frame, tmp_path / "marks.parquet").path
    assert pads.dataset(out, partitioning="hive").to_table()["date"].to_pylist() == [
        date(2023, 9, 4)
    ]
