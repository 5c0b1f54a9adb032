"""Run the workbench's SQL (:mod:`attendance_lib.marks_sql`) on DuckDB or Apache Spark.

DuckDB is the embedded default: it reads Parquet by column and runs on every core, in the
same process. Spark (PySpark, optional) runs the same statements in local mode by default or
on a cluster given by ``ATTENDANCE_SPARK_MASTER`` (e.g. ``spark://host:7077``) or an existing
session (Databricks). Relations are passed as pandas DataFrames or Parquet file paths.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from attendance_lib.errors import UsageError

ENGINES = ("duckdb", "spark")
Relation = pd.DataFrame | str | Path


def run_sql(sql: str, relations: dict[str, Relation], *, engine: str = "duckdb") -> pd.DataFrame:
    """Execute ``sql`` with each name in ``relations`` bound to a DataFrame or Parquet path."""
    if engine == "duckdb":
        return _duckdb(sql, relations)
    if engine == "spark":
        return _spark(sql, relations)
    raise UsageError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")


def _duckdb(sql: str, relations: dict[str, Relation]) -> pd.DataFrame:
    import duckdb

    con = duckdb.connect()
    try:
        con.execute(f"SET threads = {os.cpu_count() or 1}")
        for name, rel in relations.items():
            if isinstance(rel, pd.DataFrame):
                con.register(name, rel)
            else:
                con.execute(f"CREATE VIEW {name} AS SELECT * FROM {_duckdb_reader(Path(rel))}")
        return con.execute(sql).df()
    finally:
        con.close()


def _duckdb_reader(path: Path) -> str:
    """DuckDB table function reading a Parquet file, a partitioned Parquet directory or a CSV."""
    quoted = str(path).replace("'", "''")
    if path.is_dir():
        return f"read_parquet('{quoted}/**/*.parquet', hive_partitioning = true)"
    if path.suffix == ".parquet":
        return f"read_parquet('{quoted}')"
    return f"read_csv_auto('{quoted}')"


def spark_session():
    """The active Spark session, or a new local one (``local[*]``, or ``$ATTENDANCE_SPARK_MASTER``)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError(
            "the spark engine needs PySpark: pip install 'attendance-workbench[spark]' (and Java 17+)"
        ) from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    master = os.environ.get("ATTENDANCE_SPARK_MASTER", "local[*]")
    session = (
        SparkSession.builder.master(master)
        .appName("attendance-workbench")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(max(2, (os.cpu_count() or 2) * 2)))
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def _spark(sql: str, relations: dict[str, Relation]) -> pd.DataFrame:
    spark = spark_session()
    for name, rel in relations.items():
        if isinstance(rel, pd.DataFrame):
            frame = rel.copy()
            for col in frame.columns:
                if isinstance(frame[col].dtype, pd.CategoricalDtype):
                    frame[col] = frame[col].astype(str)
            spark.createDataFrame(frame).createOrReplaceTempView(name)
        else:
            spark.read.parquet(str(rel)).createOrReplaceTempView(name)
    return spark.sql(sql).toPandas()
