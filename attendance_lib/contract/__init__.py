"""The data contract: reading a data folder, validating it, and the dataset the rest uses.

- :mod:`~attendance_lib.contract.reading`: the table specs and typed reading (CSV or Parquet);
- :mod:`~attendance_lib.contract.validation`: every validation rule;
- :mod:`~attendance_lib.contract.marks_screen`: proving a Parquet marks file clean with DuckDB
  aggregates;
- :mod:`~attendance_lib.contract.dataset`: ``Dataset``, ``load_dataset``, the fingerprint and
  the per-fingerprint cache;
- :mod:`~attendance_lib.contract.partitioning`: writing marks as hive-partitioned Parquet.
"""
