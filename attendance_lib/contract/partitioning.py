"""Lay register marks out as hive-partitioned Parquet, for Spark and for national-scale data.

A national extract (about 3 billion marks a year) is too big for one file. Written as
``out_dir/academic_year=2023%2F24/urn=100001/part-0.parquet`` (the hive layout: one folder
per value, ``/`` in a value escaped as ``%2F``), Spark, DuckDB and pyarrow all read the folder
as one table with ``academic_year`` and ``urn`` restored from the folder names, and a query on
one year or one school reads only that school's files. Such a folder can stand in for
``marks.parquet`` in a data folder (see :mod:`attendance_lib.contract.reading`).

The academic year of a mark is derived from its date by the DfE rule (1 September to
31 August, as :func:`attendance_lib.core.academic_calendar.academic_year_of`). Marks are streamed
through in batches, so memory stays bounded whatever the size of the input.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads

from attendance_lib.contract.reading import open_marks_dataset
from attendance_lib.core.academic_calendar import format_academic_year
from attendance_lib.core.errors import DataError, Problem, UsageError

#: The partition keys used unless told otherwise.
DEFAULT_BY = ("academic_year", "urn")
#: First month of the academic year (September).
_FIRST_MONTH = 9


@dataclass(frozen=True)
class PartitionedMarks:
    """What :func:`write_partitioned_marks` wrote: the folder, marks and files."""

    path: Path
    marks: int
    files: int


def academic_years(dates: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """The academic year label (``"2023/24"``) of each date, vectorised in Arrow.

    A date from 1 September belongs to the year starting that September; a date up to
    31 August to the year that started the September before. Nulls stay null.
    """
    start = pc.subtract(pc.year(dates), pc.cast(pc.less(pc.month(dates), _FIRST_MONTH), pa.int64()))
    starts = pc.unique(start).drop_null()
    labels = pa.array([format_academic_year(y) for y in starts.to_pylist()], type=pa.string())
    return pc.take(labels, pc.index_in(start, value_set=starts))


def _as_dates(column: pa.Array) -> pa.Array:
    """A date column as Arrow ``date32`` (from a timestamp, zoned or not, a date or ISO text)."""
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        column = pc.strptime(column, format="%Y-%m-%d", unit="s")
    if pa.types.is_timestamp(column.type):
        if column.type.tz is not None:  # the day in the timestamp's own zone, as read_marks does
            column = pc.local_timestamp(column)
        day = column.cast(pa.date32())
        if pc.all(pc.equal(day.cast(column.type), column)).as_py() is False:
            raise UsageError("marks dates must be whole days (a time of day was found)")
        return day
    return column.cast(pa.date32())


def _source(marks: pd.DataFrame | str | Path) -> pads.Dataset:
    """The marks to partition as an Arrow dataset (streamed, never read whole).

    A folder holding a symbolic link is refused (:func:`open_marks_dataset`): a link loop
    would otherwise be read, and written, dozens of times over.
    """
    if isinstance(marks, pd.DataFrame):
        return pads.dataset(pa.Table.from_pandas(marks, preserve_index=False))
    path = Path(marks)
    if not path.exists():
        raise UsageError(f"no marks at {path}")
    if path.suffix == ".csv":
        try:
            return pads.dataset(path, format="csv")
        except (pa.ArrowException, OSError) as exc:
            raise _unreadable(path, exc) from None
    return open_marks_dataset(path)


def _unreadable(path: Path, exc: Exception) -> DataError:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    kind = "CSV" if path.suffix == ".csv" else "Parquet"
    return DataError([Problem(path.name, None, None, f"could not be read as {kind} ({text})")])


def _batches(source: pads.Dataset, with_year: bool) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    """Plain-typed batches (dictionaries decoded, dates as DATE) with ``academic_year`` added."""
    columns = [n for n in source.schema.names if n != "academic_year"]
    if "date" not in columns:
        raise UsageError("marks have no 'date' column")

    def plain(batch: pa.RecordBatch) -> pa.RecordBatch:
        arrays = {}
        for name in columns:
            arr = batch.column(name)
            if pa.types.is_dictionary(arr.type):
                arr = arr.dictionary_decode()
            if pa.types.is_large_string(arr.type):
                arr = arr.cast(pa.string())
            arrays[name] = _as_dates(arr) if name == "date" else arr
        if with_year:
            arrays["academic_year"] = academic_years(arrays["date"])
        return pa.RecordBatch.from_pydict(arrays)

    batches = (plain(b) for b in source.to_batches(columns=columns) if b.num_rows)
    first = next(batches, None)
    if first is None:
        raise UsageError("there are no marks to write")

    def chained() -> Iterator[pa.RecordBatch]:
        yield first
        yield from batches

    return first.schema, chained()


def write_partitioned_marks(
    marks: pd.DataFrame | str | Path,
    out_dir: str | Path,
    by: Sequence[str] = DEFAULT_BY,
    *,
    overwrite: bool = False,
    min_rows_per_group: int = 32_768,
    preserve_order: bool = False,
) -> PartitionedMarks:
    """Write marks as hive-partitioned Parquet under ``out_dir`` (one folder per key value).

    Parameters
    ----------
    marks
        A marks DataFrame (as read by :mod:`attendance_lib.contract.reading`), or a path to a marks
        Parquet file, a (partitioned) Parquet folder or a CSV file. Read in batches.
    out_dir
        Folder to write; for a data folder name it ``marks.parquet``.
    by
        Partition keys, outermost first: columns of the marks (``urn``, or a column such as an
        LA code added to a national extract) and ``academic_year``, derived from the date.
    overwrite
        Replace the partitions of an existing ``out_dir`` that this call writes to; by
        default a non-empty ``out_dir`` is refused.
    min_rows_per_group
        Rows buffered per partition before a Parquet row group is written. Larger row groups
        read faster; peak memory is about partitions x this x 40 bytes, so partition a very
        large extract one LA (or one year) per call.
    preserve_order
        Keep the marks of each partition in the order they are read (slower: the writer
        waits for batches in turn); by default their order within a partition may change.

    Returns
    -------
    PartitionedMarks
        The folder, the number of marks written and the number of Parquet files.

    Notes
    -----
    Dates are stored as Parquet ``DATE`` (Spark cannot read nanosecond timestamps), codes and
    UPNs as plain strings (Parquet dictionary-encodes them on disk).
    """
    out = Path(out_dir)
    by = list(by)
    replace_in_place = out.exists() and any(out.iterdir())
    if replace_in_place and not overwrite:
        raise UsageError(f"{out} is not empty; pass overwrite=True to replace its files")
    source = _source(marks)
    written: list[str] = []
    rows = [0]
    # A new folder is written beside its final name and renamed into place, so a failure
    # (a bad row in the middle of a CSV) leaves nothing half-written.
    target = out if replace_in_place else out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        schema, batches = _batches(source, with_year="academic_year" in by)
        missing = [k for k in by if k not in schema.names]
        if missing:
            raise UsageError(f"cannot partition by {', '.join(missing)}: not a column of the marks")

        def counted() -> Iterator[pa.RecordBatch]:
            for batch in batches:
                rows[0] += batch.num_rows
                yield batch

        _write(
            counted(), target, schema, by, overwrite, min_rows_per_group, written, preserve_order
        )
        if not replace_in_place:
            if out.exists():
                out.rmdir()  # empty, checked above
            target.rename(out)
    except pa.ArrowException as exc:  # a row the CSV reader cannot parse, a corrupt file
        name = Path("marks") if isinstance(marks, pd.DataFrame) else Path(marks)
        raise _unreadable(name, exc) from None
    finally:
        if target != out:
            shutil.rmtree(target, ignore_errors=True)
    return PartitionedMarks(path=out, marks=rows[0], files=len(written))


def _write(
    batches, target, schema, by, overwrite, min_rows_per_group, written, preserve_order=False
) -> None:
    pads.write_dataset(
        batches,
        target,
        schema=schema,
        format="parquet",
        partitioning=pads.partitioning(pa.schema([schema.field(k) for k in by]), flavor="hive"),
        basename_template="part-{i}.parquet",
        existing_data_behavior="delete_matching" if overwrite else "error",
        max_partitions=1_000_000,
        min_rows_per_group=min_rows_per_group,
        max_rows_per_group=max(min_rows_per_group, 1 << 20),
        file_visitor=lambda f: written.append(f.path),
        preserve_order=preserve_order,
    )
