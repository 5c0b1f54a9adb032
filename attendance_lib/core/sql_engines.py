"""Run the workbench's SQL (:mod:`attendance_lib.core.marks_sql`) on DuckDB or Apache Spark.

DuckDB is the embedded default: it reads Parquet by column and runs on every core, in the
same process. Spark (PySpark, optional) runs the same statements in local mode by default or
on a cluster given by ``ATTENDANCE_SPARK_MASTER`` (e.g. ``spark://host:7077``) or an existing
session (Databricks). Relations are passed as pandas DataFrames or Parquet file paths.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from attendance_lib.core.errors import UsageError

ENGINES = ("duckdb", "spark")
Relation = pd.DataFrame | str | Path


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity, e.g. under ``taskset``), at least 1."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


#: Environment variable: DuckDB's memory limit in MB for every connection this process opens.
#: ``run-all`` sets it for itself and its kernels from each worker's memory budget
#: (:mod:`attendance_lib.runner.workers`); unset, DuckDB's own default applies (80% of the
#: machine's memory).
MEMORY_LIMIT_ENV = "ATTENDANCE_DUCKDB_MEMORY_MB"


def run_sql(sql: str, relations: dict[str, Relation], *, engine: str = "duckdb") -> pd.DataFrame:
    """Execute ``sql`` with each name in ``relations`` bound to a DataFrame or Parquet path."""
    if engine == "duckdb":
        return _duckdb(sql, relations)
    if engine == "spark":
        return _spark(sql, relations)
    raise UsageError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")


#: Rows per piece of :func:`run_sql_batches` (24 MB of three int64 columns of numbered marks).
BATCH_ROWS = 1_000_000


def run_sql_batches(
    sql: str, relations: dict[str, Relation], *, engine: str = "duckdb", rows: int | None = None
) -> Iterator[pd.DataFrame]:
    """:func:`run_sql` a piece at a time, so a result of tens of millions of rows never sits
    in memory whole.

    DuckDB streams the result in batches of about ``rows`` rows (:data:`BATCH_ROWS`), text columns dictionary
    encoded (pandas categoricals: a pupil's UPN is stored once per batch, not once per row);
    Spark gives its result as one piece. The pieces together are the result of
    :func:`run_sql`, in the same order.
    """
    if engine != "duckdb":
        yield run_sql(sql, relations, engine=engine)
        return
    con = duckdb_connection(relations)
    try:
        reader = con.sql(sql).to_arrow_reader(rows or BATCH_ROWS)
        for batch in reader:
            columns = [
                pc.dictionary_encode(col) if _is_text(col.type) else col for col in batch.columns
            ]
            table = pa.Table.from_arrays(columns, names=batch.schema.names)
            yield _to_pandas(table)
    finally:
        con.close()


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _duckdb(sql: str, relations: dict[str, Relation]) -> pd.DataFrame:
    con = duckdb_connection(relations)
    try:  # through Arrow: twice as fast as .df() for millions of rows of text
        return _to_pandas(con.sql(sql).to_arrow_table())
    finally:
        con.close()


def duckdb_connection(relations: dict[str, Relation]):
    """A new in-memory DuckDB connection on every core, with each relation bound to its name.

    Its memory limit is :data:`MEMORY_LIMIT_ENV` when set (DuckDB spills to disk beyond it).

    DataFrames are registered as they are; paths become views over the Parquet file(s) or
    CSV, read by column. The caller closes the connection.
    """
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {available_cores()}")
    limit = os.environ.get(MEMORY_LIMIT_ENV, "").strip()
    if limit:
        if not limit.isdigit() or int(limit) < 64:
            raise UsageError(
                f"{MEMORY_LIMIT_ENV} must be a whole number of MB, at least 64, got {limit!r}"
            )
        con.execute(f"SET memory_limit = '{int(limit)}MB'")
    for name, rel in relations.items():
        if isinstance(rel, pd.DataFrame):
            con.register(name, rel)
        else:
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM {_duckdb_reader(Path(rel))}")
    return con


def _duckdb_reader(path: Path) -> str:
    """DuckDB table function reading a Parquet file, a partitioned Parquet directory or a CSV."""
    quoted = str(path).replace("'", "''")
    if path.is_dir():
        return f"read_parquet('{quoted}/**/*.parquet', hive_partitioning = true)"
    if path.suffix == ".parquet":
        return f"read_parquet('{quoted}')"
    return f"read_csv_auto('{quoted}')"


#: Environment variable naming the Spark master for a new session (default ``local[*]``).
SPARK_MASTER_ENV = "ATTENDANCE_SPARK_MASTER"
_PANDAS3_WARNING = "PySpark does not yet fully support pandas"


def spark_session():
    """The active Spark session, or a new one on ``$ATTENDANCE_SPARK_MASTER`` (``local[*]``).

    An existing session (a Databricks notebook's ``spark``, or one the caller built with its
    own configuration) is used as it is. Otherwise a session is started on the master named
    by :data:`SPARK_MASTER_ENV`: ``local[*]`` (every core of this machine), ``local[2]``, or a
    cluster such as ``spark://host:7077``. Starting a session needs Java 17 or later.

    Returns
    -------
    pyspark.sql.SparkSession

    Raises
    ------
    UsageError
        When PySpark is not installed, or no session is active and Java cannot be found.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError(
            "the spark engine needs PySpark: pip install 'attendance-workbench[spark]' (and Java 17+)"
        ) from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    if not java_available():
        raise UsageError(
            "the spark engine needs Java 17 or later to start Spark: put `java` on PATH or set "
            "JAVA_HOME (or use the default engine, duckdb)"
        )
    master = os.environ.get(SPARK_MASTER_ENV, "local[*]")
    builder = (
        SparkSession.builder.master(master)
        .appName("attendance-workbench")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
    )
    if master.startswith("local"):
        # Few, large tasks: two shuffle partitions per local core (AQE coalesces further).
        builder = builder.config("spark.sql.shuffle.partitions", str(2 * _local_cores(master)))
    with _pandas3_warning_silenced():
        session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


@contextlib.contextmanager
def _pandas3_warning_silenced():
    """Silence PySpark 4.3's warning about pandas 3: our data crosses to and from it as Arrow."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_PANDAS3_WARNING, category=FutureWarning)
        yield


def java_available() -> bool:
    """Whether a Java runtime can be found (``$JAVA_HOME/bin/java`` or ``java`` on PATH)."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return True
    return shutil.which("java") is not None


def _local_cores(master: str) -> int:
    """Cores of a ``local``, ``local[n]`` or ``local[*]`` master."""
    inside = master[len("local[") : -1] if master.startswith("local[") else "1"
    return int(inside) if inside.isdigit() else available_cores()


def _spark(sql: str, relations: dict[str, Relation]) -> pd.DataFrame:
    """Run ``sql`` on Spark: paths are read by Spark itself, DataFrames travel as Arrow."""
    spark = spark_session()
    with _pandas3_warning_silenced():
        try:
            for name, rel in relations.items():
                _spark_frame(spark, rel).createOrReplaceTempView(name)
            result = spark.sql(sql).toArrow()
        except Exception as exc:
            if "PARQUET_TYPE_ILLEGAL" in str(exc) and "NANOS" in str(exc):
                raise UsageError(
                    "Spark cannot read Parquet timestamps in nanoseconds; store marks dates as "
                    "DATE, e.g. with attendance_lib.contract.partitioning.write_partitioned_marks"
                ) from None
            raise
    return _to_pandas(result)


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    """A query result as pandas; DATE columns become datetime64, not Python date objects."""
    return table.to_pandas(date_as_object=False)


def _spark_frame(spark, rel: Relation):
    """A Spark DataFrame for a pandas DataFrame, a Parquet file or directory, or a CSV file."""
    if isinstance(rel, pd.DataFrame):
        return spark.createDataFrame(_plain_arrow(rel))
    path = str(rel)
    if path.endswith(".csv"):
        return spark.read.csv(path, header=True)
    # A file, or a directory of hive-partitioned files (partition columns are discovered).
    return spark.read.parquet(path)


def _plain_arrow(frame: pd.DataFrame) -> pa.Table:
    """``frame`` as an Arrow table of types Spark takes: categoricals decoded, dates as DATE.

    Naive datetime columns whose values are all at midnight (the contract's dates) become
    Arrow ``date32``, so no session time zone can shift them; other datetimes stay timestamps.
    """
    columns = {}
    for name, col in frame.items():
        arr = pa.array(col, from_pandas=True)
        if pa.types.is_dictionary(arr.type):
            arr = arr.dictionary_decode()
        if pa.types.is_timestamp(arr.type) and arr.type.tz is None:
            day = arr.cast(pa.date32())
            if pc.all(pc.equal(day.cast(arr.type), arr)).as_py() is not False:
                arr = day
        columns[str(name)] = arr
    return pa.table(columns)
