"""The Spark engine in local mode gives exactly the tables of the embedded engine (DuckDB).

Both run the one SQL definition in :mod:`attendance_lib.core.marks_sql`; these tests run it on a
local Spark (``local[2]``, one session for the module: it takes about 10 s to start) over a
small synthetic LA, as a Parquet file, as a hive-partitioned folder and as a pandas frame,
and on a hand-counted fixture. Skipped, saying why, where PySpark or Java is missing.
"""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from builders import URN_A, URN_B, make_upn, marks_frame, sessions

from attendance_lib.analyses.impact.windows import MarkIndex
from attendance_lib.contract.dataset import load_dataset
from attendance_lib.contract.partitioning import write_partitioned_marks
from attendance_lib.core import sql_engines
from attendance_lib.core.academic_calendar import Calendar
from attendance_lib.core.errors import UsageError
from attendance_lib.engine.sessions import COUNT_COLUMNS, code_counts_from_marks, summarise

pytestmark = pytest.mark.slow

pytest.importorskip("pyspark", reason="PySpark is not installed (pip install '.[spark]')")
if not sql_engines.java_available():
    pytest.skip(
        "Java 17+ is not installed (no `java` on PATH, no JAVA_HOME): Spark cannot start",
        allow_module_level=True,
    )


@pytest.fixture(scope="module", autouse=True)
def spark():
    """One local Spark session on two cores for the whole module, stopped at the end."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(sql_engines.SPARK_MASTER_ENV, "local[2]")
        session = sql_engines.spark_session()
        yield session
    session.stop()


@pytest.fixture(scope="module")
def la(tmp_path_factory):
    """A small synthetic LA (about 800 pupils a year, 6 schools, three years of marks)."""
    from attendance_lib.synth import generate

    folder = tmp_path_factory.mktemp("spark_la")
    generate(folder, pupils=800, schools=6, progress=False)
    return folder


def _same_summary(marks, spark_marks=None, **kwargs) -> pd.DataFrame:
    ours = summarise(marks, engine="duckdb", **kwargs)
    theirs = summarise(marks if spark_marks is None else spark_marks, engine="spark", **kwargs)
    pd.testing.assert_frame_equal(theirs.table, ours.table)
    pd.testing.assert_frame_equal(theirs.zero_possible, ours.zero_possible)
    return ours.table


def test_session_is_local_on_two_cores(spark):
    assert spark.sparkContext.master == "local[2]"
    assert sql_engines.spark_session() is spark  # the active session is picked up, not rebuilt


def test_hand_counted_marks_on_spark():
    # A: present, AEA (V), authorised (I), unauthorised (O), not possible (X) -> 4 possible.
    # B: only X -> no possible session, left out and listed. C at two schools (pupil level).
    a, b, c = make_upn(1), make_upn(2), make_upn(3)
    rows = (
        sessions(a, URN_A, ["/", "V", "I", "O", "X"])
        + sessions(b, URN_A, ["X", "X"])
        + sessions(c, URN_A, ["/", "N"])
        + sessions(c, URN_B, ["/", "/"], start="2023-09-11")
    )
    marks = marks_frame(rows)
    enrol = summarise(marks, engine="spark")
    got = enrol.table.set_index(["upn", "urn"])
    assert got.loc[(a, URN_A), COUNT_COLUMNS].tolist() == [4, 1, 1, 1, 1]
    assert got.loc[(a, URN_A), "attendance_pct"] == 50.0
    assert bool(got.loc[(a, URN_A), "severe_absent"])  # 2 of 4 absent = 50 %
    assert got.loc[(c, URN_A), COUNT_COLUMNS].tolist() == [2, 1, 0, 0, 1]
    assert enrol.zero_possible.to_dict("records") == [{"upn": b, "urn": URN_A}]
    pupils = summarise(marks, by="pupil", engine="spark").table.set_index("upn")
    assert pupils.loc[c, COUNT_COLUMNS].tolist() == [4, 3, 0, 0, 1]
    assert pupils.loc[c, "absence_pct"] == 25.0
    # A window of 5 September only: A's third and fourth marks (I, O).
    window = summarise(marks, "2023-09-05", "2023-09-05", engine="spark").table
    assert window.set_index("upn").loc[a, COUNT_COLUMNS].tolist() == [2, 0, 0, 1, 1]


def test_enrolment_level_matches_duckdb(la):
    table = _same_summary(la / "marks.parquet")
    assert len(table) > 800  # three years of pupils, some at two schools


def test_pupil_level_in_a_window_matches_duckdb(la):
    _same_summary(la / "marks.parquet", start="2023-09-01", end="2024-03-28", by="pupil")


def test_typed_frame_matches_a_parquet_path(la):
    # The contract's frame (categoricals, datetime64) crosses to Spark as Arrow.
    ds = load_dataset(la)
    _same_summary(la / "marks.parquet", spark_marks=ds.marks, start="2024-01-03", end="2024-07-19")


def test_cube_matches_duckdb(la):
    calendar = Calendar(load_dataset(la).calendar)
    ours = code_counts_from_marks(la / "marks.parquet", calendar, engine="duckdb")
    theirs = code_counts_from_marks(la / "marks.parquet", calendar, engine="spark")
    pd.testing.assert_frame_equal(theirs, ours)
    assert set(ours["academic_year"].astype(str)) == {"2022/23", "2023/24", "2024/25"}


def test_latest_school_matches_duckdb(la):
    from attendance_lib.engine.sessions import latest_school

    window = ("2023-09-01", "2024-03-28")
    ours = latest_school(la / "marks.parquet", *window, engine="duckdb")
    theirs = latest_school(la / "marks.parquet", *window, engine="spark")
    pd.testing.assert_frame_equal(theirs, ours)
    assert len(ours) and ours["upn"].is_unique


def test_mark_index_matches_duckdb(la):
    ours = MarkIndex.build(la / "marks.parquet", engine="duckdb")
    theirs = MarkIndex.build(la / "marks.parquet", engine="spark")
    assert theirs.last_date == ours.last_date
    assert sorted(theirs.categories) == sorted(ours.categories)
    upns = list(ours.categories)
    for start, end in [("2022-09-01", "2025-08-31"), ("2023-11-06", "2024-02-02")]:
        starts, ends = (
            pd.Series([pd.Timestamp(start)] * len(upns)),
            pd.Series([pd.Timestamp(end)] * len(upns)),
        )
        assert (theirs.counts(upns, starts, ends) == ours.counts(upns, starts, ends)).all()


def test_partitioned_folder_matches_the_single_file(la, tmp_path):
    layout = write_partitioned_marks(la / "marks.parquet", tmp_path / "marks.parquet")
    assert layout.files == 18  # 3 academic years x 6 schools
    file_result = summarise(la / "marks.parquet", by="pupil", engine="duckdb").table
    folder_result = _same_summary(layout.path, by="pupil")
    pd.testing.assert_frame_equal(folder_result, file_result)


def test_data_folder_with_partitioned_marks(la, tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(la, folder, ignore=shutil.ignore_patterns("marks.parquet"))
    write_partitioned_marks(la / "marks.parquet", folder / "marks.parquet")
    ds = load_dataset(folder)
    expected = summarise(la / "marks.parquet", "2023-09-01", "2024-08-31", engine="duckdb")
    got = summarise(ds, "2023-09-01", "2024-08-31", engine="spark")
    pd.testing.assert_frame_equal(got.table, expected.table)


def test_unknown_code_is_refused_on_spark():
    marks = marks_frame(sessions(make_upn(1), URN_A, ["/", "QQ"]))
    with pytest.raises(ValueError, match="unknown register codes: QQ"):
        summarise(marks, engine="spark")


def test_nanosecond_timestamps_get_a_clear_message(tmp_path):
    path = tmp_path / "marks.parquet"
    frame = pd.DataFrame(sessions(make_upn(1), URN_A, ["/", "/"]))
    frame.assign(date=pd.to_datetime(frame["date"]).astype("datetime64[ns]")).to_parquet(path)
    with pytest.raises(UsageError, match="nanoseconds"):
        summarise(path, engine="spark")


def test_no_java_is_a_usage_error(monkeypatch):
    from pyspark.sql import SparkSession

    monkeypatch.setattr(SparkSession, "getActiveSession", classmethod(lambda cls: None))
    monkeypatch.setattr(sql_engines, "java_available", lambda: False)
    with pytest.raises(UsageError, match="Java 17"):
        sql_engines.spark_session()
