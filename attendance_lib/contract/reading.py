"""The data contract: which tables a data folder holds, their columns and types, and reading them.

Follows ``docs/data-contract.md`` (v1). Each table is ``<name>.csv`` or ``<name>.parquet``;
``marks.parquet`` may also be a directory of (hive-partitioned) Parquet files, e.g. one per
academic year and school, as written for national-scale work.
Column names are matched case-insensitively after trimming; extra columns are kept; a
missing required column is an error naming file and column. Every value that does not
fit its type is reported with file, row (1 = first data row) and column, many at once.

:func:`attendance_lib.contract.dataset.load_dataset` builds on this module to read a whole folder.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from attendance_lib.core.errors import DataError, Problem

#: How many rows of one kind of problem are listed one by one before they are summarised.
MAX_ROWS_LISTED = 10

_TRUE = {"true", "1", "y", "yes", "t"}
_FALSE = {"false", "0", "n", "no", "f"}
YEAR_GROUPS = ("N1", "N2", "R", *[str(i) for i in range(1, 15)])


@dataclass(frozen=True)
class Column:
    """One column of a contract table.

    ``kind`` is one of text, int, float, bool, date, academic_year, year_group.
    ``required``: the column must be present. ``nullable``: empty cells are allowed.
    ``allowed``: the values a text column may take (exact match after trimming).
    ``low`` and ``high``: the range (both ends included) of an int or float column. Every int
    column is also held to :data:`INT_LIMIT` and every float column to finite values, and
    both are checked before any narrowing cast, so an out-of-range value is reported with its
    row rather than wrapped to a different number.
    """

    name: str
    kind: str = "text"
    required: bool = True
    nullable: bool = False
    allowed: tuple[str, ...] | None = None
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Table:
    """A contract table: its name, columns, key and whether the folder must have it."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    required: bool = True

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _opt(name: str, kind: str = "text", **kw) -> Column:
    return Column(name, kind, required=False, nullable=True, **kw)


#: The largest URN the workbench holds (it stores URNs as 32-bit integers). URNs have six
#: digits; anything above this is refused before it could wrap to another school's URN.
URN_MAX = 2**31 - 1
#: Bounds for any whole-number column without its own range (exact in a float64).
INT_LIMIT = 2**53


def _urn(**kw) -> Column:
    return Column("urn", "int", low=1, high=URN_MAX, **kw)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "schools",
            (
                _urn(),
                Column("school_name"),
                Column(
                    "phase",
                    allowed=(
                        "primary",
                        "secondary",
                        "special",
                        "all_through",
                        "alternative_provision",
                    ),
                ),
                Column("locality"),
                _opt("officer"),
                _opt("light_touch", "bool"),
            ),
            key=("urn",),
        ),
        Table(
            "pupils",
            (
                Column("upn"),
                Column("academic_year", "academic_year"),
                _urn(),
                Column("year_group", "year_group"),
                _opt("date_of_birth", "date"),
                Column("sex", allowed=("F", "M")),
                # empty = unknown (a joiner in the DfE weekly download): never taken as no
                Column("fsm", "bool", nullable=True),
                _opt("fsm6", "bool"),
                Column("sen", nullable=True, allowed=("N", "K", "E")),
                _opt("ethnicity"),
                _opt("eal", "bool"),
                _opt("forename"),  # identifiers: restricted reports only (privacy gate)
                _opt("surname"),
            ),
            key=("upn", "academic_year"),
        ),
        Table(
            "calendar",
            (
                Column("academic_year", "academic_year"),
                Column("half_term", "int"),
                Column("start_date", "date"),
                Column("end_date", "date"),
            ),
            key=("academic_year", "half_term"),
        ),
        Table(
            "marks",
            (
                Column("upn"),
                _urn(),
                Column("date", "date"),
                Column("session", allowed=("AM", "PM")),
                Column("code"),
            ),
            key=("upn", "urn", "date", "session"),
        ),
        Table(
            "weekly",
            (
                Column("upn"),
                _urn(),
                Column("week_start", "date"),
                Column("week_end", "date"),
                Column("sessions_possible", "int"),
                Column("sessions_present", "int"),
                Column("sessions_aea", "int"),
                Column("sessions_authorised", "int"),
                Column("sessions_unauthorised", "int"),
            ),
            key=("upn", "urn", "week_start"),
            required=False,
        ),
        Table(
            "absence_terms",
            (
                Column("upn"),
                _urn(),
                Column("academic_year", "academic_year"),
                Column("term", allowed=("autumn", "spring", "summer")),
                Column("sessions_possible", "int"),
                Column("sessions_authorised", "int"),
                Column("sessions_unauthorised", "int"),
            ),
            key=("upn", "urn", "academic_year", "term"),
            required=False,
        ),
        Table(
            "ks2",
            (
                Column("upn"),
                Column("academic_year", "academic_year"),
                Column("rwm_expected", "bool", nullable=True),
                Column("read_expected", "bool", nullable=True),
                Column("writ_expected", "bool", nullable=True),
                Column("mat_expected", "bool", nullable=True),
                _opt("rwm_higher", "bool"),
                _opt("read_scaled", "int", low=80, high=120),
                _opt("mat_scaled", "int", low=80, high=120),
                _opt("ks1_prior", "float", low=0, high=27),
            ),
            key=("upn", "academic_year"),
            required=False,
        ),
        Table(
            "ks4",
            (
                Column("upn"),
                Column("academic_year", "academic_year"),
                Column("attainment8", "float", nullable=True, low=0, high=90),
                Column("em_4plus", "bool", nullable=True),
                Column("em_5plus", "bool", nullable=True),
                _opt("ks2_prior", "float", low=0, high=120),
            ),
            key=("upn", "academic_year"),
            required=False,
        ),
        Table(
            "services",
            (
                Column("upn"),
                Column(
                    "service",
                    allowed=("cin", "cpp", "cla", "early_help", "youth_justice", "other"),
                ),
                Column("start_date", "date"),
                Column("end_date", "date", nullable=True),
            ),
            required=False,
        ),
        Table(
            "interventions",
            (
                Column("intervention_id"),
                Column("upn"),
                Column("officer"),
                Column("start_date", "date"),
                _opt("source", allowed=("data", "panel")),
                _opt("panel"),
                _opt("review_date", "date"),
                _opt("status"),
            ),
            key=("intervention_id",),
            required=False,
        ),
        Table(
            "benchmarks",
            (
                Column("time_period", "int"),
                Column("time_identifier"),
                Column(
                    "geographic_level",
                    allowed=("National", "Regional", "Local authority"),
                ),
                _opt("country_name"),
                _opt("region_name"),
                _opt("la_name"),
                _opt("area_name"),
                _opt("education_phase"),
                _opt("school_type"),
                _opt("sess_overall_percent", "float", low=0, high=100),
                _opt("sess_authorised_percent", "float", low=0, high=100),
                _opt("sess_unauthorised_percent", "float", low=0, high=100),
                _opt("enrolments_pa_10_exact_percent", "float", low=0, high=100),
                _opt("enrolments_pa_50_exact_percent", "float", low=0, high=100),
                _opt("basis", allowed=("census", "daily")),
            ),
            required=False,
        ),
    )
}


# --------------------------------------------------------------------------------------
# Problems, capped per kind so a broken million-row file gives a readable report
# --------------------------------------------------------------------------------------


class ProblemLog:
    """Collects problems; lists the first rows of each kind and summarises the rest."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.warnings: list[str] = []

    def add(self, file: str, row: int | None, column: str | None, message: str) -> None:
        self.problems.append(Problem(file, row, column, message))

    def rows(self, file: str, column: str | None, rows: np.ndarray, message, values=None) -> None:
        """Report ``message`` for each 1-based row in ``rows`` (first few listed, rest counted).

        ``message`` is a string, or a function of the offending value when ``values`` is given.
        """
        rows = np.asarray(rows)
        if rows.size == 0:
            return
        for i, row in enumerate(rows[:MAX_ROWS_LISTED]):
            text = message(values[i]) if values is not None else message
            self.add(file, int(row), column, text)
        if rows.size > MAX_ROWS_LISTED:
            text = message(values[MAX_ROWS_LISTED]) if values is not None else message
            self.add(
                file,
                None,
                column,
                f"... and {rows.size - MAX_ROWS_LISTED:,} more rows like this ({text})",
            )


# --------------------------------------------------------------------------------------
# Reading one table
# --------------------------------------------------------------------------------------


def rows_where(mask: np.ndarray) -> np.ndarray:
    """1-based data row numbers where ``mask`` is true (no array the length of the table)."""
    return np.flatnonzero(mask) + 1


def missing_required_tables(paths: dict[str, Path | None]) -> list[str]:
    """The required tables a folder lacks. ``marks`` is optional when ``weekly`` counts are present."""
    return [
        name
        for name, spec in TABLES.items()
        if spec.required
        and paths.get(name) is None
        and not (name == "marks" and paths.get("weekly") is not None)
    ]


def find_table_file(root: Path, name: str) -> Path | None:
    """The file holding table ``name`` in ``root`` (Parquet preferred), or None."""
    for suffix in (".parquet", ".csv"):
        path = root / f"{name}{suffix}"
        if path.is_file() or (suffix == ".parquet" and path.is_dir()):
            return path
    return None


#: The largest CSV table read (256 MB). A bigger table (or a huge file of empty lines) would
#: need many times its size in memory as text; store it as Parquet instead (for marks:
#: ``attendance-workbench partition-marks marks.csv marks.parquet``).
MAX_CSV_BYTES = 256 * 2**20


def normalise_name(name) -> str:
    """A column name as matched: trimmed and in lower case."""
    return str(name).strip().lower()


def check_header(names, file: str) -> None:
    """Raise :class:`DataError` when a column appears twice, also after trimming and case folding.

    Reading would otherwise take one of them silently (``school_name,...,school_name``) or fail
    on the pair (``School_Name`` and ``school_name ``).
    """
    seen: dict[str, list[str]] = {}
    for name in names:
        seen.setdefault(normalise_name(name), []).append(str(name))
    problems = [
        Problem(
            file,
            None,
            key,
            f"appears {len(spellings)} times in the header "
            f"({', '.join(repr(s) for s in spellings)}); each column must appear once",
        )
        for key, spellings in seen.items()
        if len(spellings) > 1
    ]
    if problems:
        raise DataError(problems)


def _arrow_problem(file: str, exc: Exception) -> DataError:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return DataError([Problem(file, None, None, f"is not a readable Parquet file ({first})")])


def _check_csv_size(path: Path) -> None:
    size = path.stat().st_size
    if size > MAX_CSV_BYTES:
        advice = (
            "convert it with `attendance-workbench partition-marks marks.csv marks.parquet`"
            if path.stem == "marks"
            else f"store it as {path.stem}.parquet"
        )
        raise DataError(
            [
                Problem(
                    path.name,
                    None,
                    None,
                    f"is {size / 2**20:,.0f} MB, more than the {MAX_CSV_BYTES // 2**20} MB a CSV "
                    f"table may have; {advice}",
                )
            ]
        )


def _csv_header(path: Path) -> list[str]:
    """The header row of a CSV, read on its own (a bounded read, whatever the file's size)."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        line = fh.readline(1 << 20)
    return next(csv.reader([line]), [])


def _read_raw(path: Path) -> pd.DataFrame:
    """One table's cells with normalised column names; a :class:`DataError` if it cannot be read."""
    if path.suffix == ".parquet":
        try:
            check_header(pq.read_schema(path).names, path.name)
            frame = pq.read_table(path).to_pandas()
        except (pa.ArrowException, OSError) as exc:
            raise _arrow_problem(path.name, exc) from None
        return frame.rename(columns=normalise_name)
    _check_csv_size(path)
    try:
        check_header(_csv_header(path), path.name)
        frame = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            encoding="utf-8-sig",
            skipinitialspace=False,
        )
    except UnicodeDecodeError as exc:
        raise DataError(
            [Problem(path.name, None, None, f"is not UTF-8 text ({exc.reason})")]
        ) from None
    except (pd.errors.ParserError, csv.Error) as exc:
        raise DataError([Problem(path.name, None, None, f"is not a readable CSV: {exc}")]) from None
    except pd.errors.EmptyDataError:
        raise DataError([Problem(path.name, None, None, "is empty (no header row)")]) from None
    return frame.rename(columns=normalise_name)


def _as_text(series: pd.Series) -> pd.Series:
    """Trimmed strings with missing values as NA (works for CSV text and Parquet types)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    out = series.astype("string").str.strip()
    return out.mask(out == "")


def coerce_column(series: pd.Series, col: Column, file: str, log: ProblemLog) -> pd.Series:
    """Convert one column to its contract type, reporting values that do not fit.

    Numbers are checked for range (:attr:`Column.low`, :attr:`Column.high`, :data:`INT_LIMIT`)
    and finiteness before they are cast, so nothing out of range is ever narrowed. Dates
    come out as time-zone-naive midnights (:func:`canonical_dates`).
    """
    rows = np.arange(1, len(series) + 1)
    kind = col.kind
    if kind == "date" and pd.api.types.is_datetime64_any_dtype(series):
        out = canonical_dates(series)
        missing = out.isna().to_numpy()
    elif kind == "int" and pd.api.types.is_integer_dtype(series):
        missing = series.isna().to_numpy()
        out = _whole_numbers(
            series.astype("float64"), series.astype("string"), col, file, log, missing
        )
    elif kind == "bool" and pd.api.types.is_bool_dtype(series):
        out = series.astype("boolean")
        missing = out.isna().to_numpy()
    else:
        text = _as_text(series)
        missing = text.isna().to_numpy()
        if kind == "text":
            out = text.astype(object).where(~missing, None)
            if col.allowed is not None:
                bad = ~missing & ~text.isin(col.allowed).fillna(False).to_numpy()
                log.rows(
                    file,
                    col.name,
                    rows[bad],
                    lambda v: f"{v!r} is not allowed; expected one of {', '.join(col.allowed)}",
                    text[bad].to_numpy(),
                )
        elif kind == "int":
            num = pd.to_numeric(text, errors="coerce").astype("float64")
            out = _whole_numbers(num, text, col, file, log, missing)
        elif kind == "float":
            num = pd.to_numeric(text, errors="coerce").astype("float64")
            out = _finite_numbers(num, text, col, file, log, missing)
        elif kind == "bool":
            low = text.str.lower()
            is_t = low.isin(_TRUE).fillna(False).to_numpy()
            is_f = low.isin(_FALSE).fillna(False).to_numpy()
            bad = ~missing & ~is_t & ~is_f
            out = pd.array(np.where(is_t, True, False), dtype="boolean")
            out[missing | bad] = pd.NA
            out = pd.Series(out, index=series.index)
            _report_bad(log, file, col.name, rows, bad, text, "true/false, 1/0 or Y/N")
        elif kind == "date":
            out = parse_iso_dates(text)
            bad = ~missing & out.isna().to_numpy()
            log.rows(file, col.name, rows[bad], _date_message, text[bad].to_numpy())
        elif kind == "academic_year":
            ok = text.str.fullmatch(r"\d{4}/\d{2}").fillna(False).to_numpy()
            first = pd.to_numeric(text.str[:4], errors="coerce")
            second = pd.to_numeric(text.str[5:7], errors="coerce")
            ok &= ((first + 1) % 100 == second).fillna(False).to_numpy()
            bad = ~missing & ~ok
            out = text.astype(object).where(~missing, None)
            _report_bad(log, file, col.name, rows, bad, text, "an academic year such as 2023/24")
        elif kind == "year_group":
            norm = text.str.upper().str.replace(r"^0+(\d)", r"\1", regex=True)
            bad = ~missing & ~norm.isin(YEAR_GROUPS).fillna(False).to_numpy()
            out = norm.astype(object).where(~missing, None)
            _report_bad(log, file, col.name, rows, bad, text, "N1, N2, R or 1 to 14")
        else:  # pragma: no cover - a programming error in TABLES
            raise ValueError(f"unknown column kind {kind}")
    if not col.nullable:
        log.rows(file, col.name, rows[missing], "is empty; a value is required")
    return out


def _report_bad(log, file, column, rows, bad, text, expected):
    log.rows(file, column, rows[bad], lambda v: f"{v!r} is not {expected}", text[bad].to_numpy())


def _range_text(col: Column, default: float | None = None) -> str:
    low = col.low if col.low is not None else -default if default else None
    high = col.high if col.high is not None else default
    if low is None and high is None:
        return ""
    if low is None:
        return f" up to {_number(high)}"
    return f" from {_number(low)} to {_number(high)}"


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,g}"


def _whole_numbers(
    num: pd.Series, text: pd.Series, col: Column, file: str, log: ProblemLog, missing: np.ndarray
) -> pd.Series:
    """``Int64`` from float64 values, refusing non-numbers, fractions and values out of range.

    The range (the column's own, else :data:`INT_LIMIT`) is checked on the float values, before
    any cast, so a value too big for the type is reported, never wrapped.
    """
    rows = np.arange(1, len(num) + 1)
    values = num.to_numpy(dtype="float64", na_value=np.nan)
    low = col.low if col.low is not None else -INT_LIMIT
    high = col.high if col.high is not None else INT_LIMIT
    with np.errstate(invalid="ignore"):
        not_number = ~missing & np.isnan(values)
        fraction = ~missing & ~not_number & (np.mod(values, 1) != 0)
        outside = ~missing & ~not_number & ~fraction & ((values < low) | (values > high))
    where = _range_text(col, INT_LIMIT)
    own = _range_text(col)
    _report_bad(log, file, col.name, rows, not_number | fraction, text, f"a whole number{own}")
    _report_bad(log, file, col.name, rows, outside, text, f"a whole number{where}")
    ok = ~(missing | not_number | fraction | outside)
    return (
        pd.Series(np.where(ok, values, np.nan), index=num.index).astype("Float64").astype("Int64")
    )


def _finite_numbers(
    num: pd.Series, text: pd.Series, col: Column, file: str, log: ProblemLog, missing: np.ndarray
) -> pd.Series:
    """float64 values, refusing non-numbers, infinities and values outside the column's range."""
    rows = np.arange(1, len(num) + 1)
    values = num.to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(invalid="ignore"):
        not_number = ~missing & np.isnan(values)
        infinite = ~missing & np.isinf(values)
        outside = np.zeros(len(values), dtype=bool)
        if col.low is not None:
            outside |= values < col.low
        if col.high is not None:
            outside |= values > col.high
        outside &= ~missing & ~not_number & ~infinite
    _report_bad(log, file, col.name, rows, not_number, text, "a number")
    _report_bad(log, file, col.name, rows, infinite, text, "a finite number")
    _report_bad(log, file, col.name, rows, outside, text, f"a number{_range_text(col)}")
    ok = ~(missing | not_number | infinite | outside)
    return pd.Series(np.where(ok, values, np.nan), index=num.index, dtype="float64")


#: A date written day first (dd/mm/yyyy), which the contract does not read; named in the error.
_DAY_FIRST = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def _date_message(value) -> str:
    text = f"{value!r} is not a date as YYYY-MM-DD"
    m = _DAY_FIRST.fullmatch(str(value).strip())
    day, month, year = (int(g) for g in m.groups()) if m else (0, 0, 0)
    if m and 1 <= month <= 12 and 1 <= day <= pd.Timestamp(year, month, 1).days_in_month:
        text += (
            f" (dates written dd/mm/yyyy are not read: if this is day {day} of month {month},"
            f" write {year:04d}-{month:02d}-{day:02d})"
        )
    return text


def parse_iso_dates(text: pd.Series) -> pd.Series:
    """``YYYY-MM-DD`` text (trimmed) as ``datetime64[s]`` midnights; anything else NaT."""
    text = text.astype("string").str.strip()
    iso = text.str.fullmatch(r"\d{4}-\d{2}-\d{2}").fillna(False).to_numpy()
    parsed = pd.to_datetime(text.where(iso), format="%Y-%m-%d", errors="coerce")
    return parsed.astype("datetime64[s]")


def canonical_dates(series: pd.Series) -> pd.Series:
    """Datetimes as the contract's dates: time-zone-naive midnights, ``datetime64[s]``.

    A time-zone-aware timestamp keeps its own local calendar day (midnight in London, stored
    as 23:00 UTC the day before, is still that day); a time of day is dropped.
    """
    if getattr(series.dt, "tz", None) is not None:
        series = series.dt.tz_localize(None)
    return series.dt.normalize().astype("datetime64[s]")


def read_table(path: Path, spec: Table, log: ProblemLog) -> pd.DataFrame | None:
    """Read and type one table; problems go to ``log``.

    None when the file cannot be read (empty, not Parquet, a column twice, too big a CSV) or
    a required column is missing.
    """
    try:
        raw = _read_raw(path)
    except DataError as exc:
        log.problems.extend(exc.problems)
        return None
    file = path.name
    missing = [c.name for c in spec.columns if c.required and c.name not in raw.columns]
    for name in missing:
        log.add(file, None, name, "required column is missing")
    if missing:
        return None
    out = raw.copy()
    for col in spec.columns:
        if col.name in raw.columns:
            out[col.name] = coerce_column(raw[col.name], col, file, log)
        else:
            # float64 cannot hold pd.NA; an absent float column is all NaN (as read_table types it)
            missing_value = np.nan if col.kind == "float" else pd.NA
            out[col.name] = pd.Series(missing_value, index=raw.index, dtype=_empty_dtype(col.kind))
    return out.reset_index(drop=True)


def _empty_dtype(kind: str) -> str:
    return {
        "int": "Int64",
        "float": "float64",
        "bool": "boolean",
        "date": "datetime64[ns]",
    }.get(kind, "object")


# --------------------------------------------------------------------------------------
# Marks: large, so read column-wise from Parquet into categoricals
# --------------------------------------------------------------------------------------


def is_text_type(t: pa.DataType) -> bool:
    """Whether an Arrow type holds text (string, large string or string view)."""
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def value_type(t: pa.DataType) -> pa.DataType:
    """The type of the values: a dictionary's value type, else the type itself."""
    return t.value_type if pa.types.is_dictionary(t) else t


def symlinks_under(folder: Path) -> list[Path]:
    """Every symbolic link inside ``folder`` (not followed, so a link loop cannot trap the walk)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        found += [
            Path(dirpath, n) for n in (*dirnames, *filenames) if Path(dirpath, n).is_symlink()
        ]
    return sorted(found)


def open_marks_dataset(path: Path) -> pads.Dataset:
    """The marks (one Parquet file or a hive-partitioned folder) as an Arrow dataset.

    Raises :class:`DataError`, naming the file, when the folder holds a symbolic link (a link
    can make marks count twice or, in a loop, forty times), when a file is empty or not
    Parquet, or when a column appears twice in the header.
    """
    if path.is_dir():
        links = symlinks_under(path)
        if links:
            raise DataError(
                [
                    Problem(
                        f"{path.name}/{link.relative_to(path).as_posix()}",
                        None,
                        None,
                        "is a symbolic link; a partitioned marks folder must hold plain folders "
                        "and files (a link can make marks count twice)",
                    )
                    for link in links[:MAX_ROWS_LISTED]
                ]
            )
    try:
        dataset = pads.dataset(path, format="parquet", partitioning="hive")
    except (pa.ArrowException, OSError) as exc:
        raise _arrow_problem(path.name, exc) from None
    check_header(dataset.schema.names, path.name)
    return dataset


def read_marks(
    path: Path,
    log: ProblemLog,
    *,
    urns=None,
    upns=None,
    start=None,
    end=None,
) -> pd.DataFrame | None:
    """Read register marks into compact columns, optionally for some schools, pupils or dates.

    Returns columns upn (category), urn (int32), date (``datetime64[s]``, naive midnights),
    session (category) and code (category), in file order, whatever types the file stores
    (text, dates, timestamps with or without a time zone): this is the one place marks get
    their canonical types. Parquet is read through Arrow without building Python strings.
    ``urns``, ``upns``, ``start`` and ``end`` (both dates included) select marks; they are
    pushed down to the Parquet reader where the stored types allow, and applied to the
    typed marks in any case. Problems go to ``log`` (rows count from the first row read);
    None when the marks cannot be read at all.
    """
    spec = TABLES["marks"]
    file = path.name
    selection = {"urns": urns, "upns": upns, "start": start, "end": end}
    if path.suffix != ".parquet":
        frame = read_table(path, spec, log)
        if frame is None:
            return None
        return filter_marks(_compact_marks(frame, file, log), **selection)
    try:
        dataset = open_marks_dataset(path)
    except DataError as exc:
        log.problems.extend(exc.problems)
        return None
    names = {normalise_name(n): n for n in dataset.schema.names}
    missing = [c.name for c in spec.columns if c.name not in names]
    for name in missing:
        log.add(file, None, name, "required column is missing")
    if missing:
        return None
    cols = {c.name: pads.field(names[c.name]) for c in spec.columns}
    try:
        table = dataset.to_table(columns=cols, filter=_pushdown(dataset.schema, names, **selection))
    except (pa.ArrowException, OSError) as exc:
        log.problems.extend(_arrow_problem(file, exc).problems)
        return None
    return filter_marks(_compact_marks_arrow(table, file, log), **selection)


def _pushdown(schema: pa.Schema, names: dict[str, str], *, urns, upns, start, end):
    """The part of a selection the Parquet reader can apply to the types the file stores."""

    def stored(column: str) -> pa.DataType:
        return value_type(schema.field(names[column]).type)

    parts = []
    if urns is not None and pa.types.is_integer(stored("urn")):
        parts.append(pads.field(names["urn"]).isin([int(u) for u in urns]))
    if upns is not None and is_text_type(stored("upn")):
        parts.append(pads.field(names["upn"]).isin([str(u) for u in upns]))
    date_type, field = stored("date"), pads.field(names["date"])
    if pa.types.is_date(date_type):
        if start is not None:
            parts.append(field >= pa.scalar(pd.Timestamp(start).date(), type=date_type))
        if end is not None:
            parts.append(field <= pa.scalar(pd.Timestamp(end).date(), type=date_type))
    elif pa.types.is_timestamp(date_type) and date_type.tz is None:

        def midnight(value) -> pa.Scalar:
            return pa.scalar(pd.Timestamp(value).normalize().to_pydatetime(), type=date_type)

        if start is not None:
            parts.append(field >= midnight(start))
        if end is not None:
            parts.append(field < midnight(pd.Timestamp(end) + pd.Timedelta(days=1)))
    # text or time-zone-aware dates are selected once typed, by filter_marks
    expr = None
    for part in parts:
        expr = part if expr is None else expr & part
    return expr


def filter_marks(
    frame: pd.DataFrame, *, urns=None, upns=None, start=None, end=None
) -> pd.DataFrame:
    """The typed marks of some schools, pupils or dates (both ends included)."""
    if urns is None and upns is None and start is None and end is None:
        return frame
    mask = np.ones(len(frame), dtype=bool)
    if urns is not None:
        mask &= frame["urn"].isin([int(u) for u in urns]).to_numpy()
    if upns is not None:
        mask &= frame["upn"].isin([str(u) for u in upns]).to_numpy()
    if start is not None:
        mask &= (frame["date"] >= pd.Timestamp(start).normalize()).to_numpy()
    if end is not None:
        mask &= (frame["date"] <= pd.Timestamp(end).normalize()).to_numpy()
    if mask.all():
        return frame
    return frame[mask].reset_index(drop=True)


def _compact_marks_arrow(table: pa.Table, file: str, log: ProblemLog) -> pd.DataFrame:
    out = {}
    for name in ("upn", "session", "code"):
        col = table.column(name)
        if not pa.types.is_dictionary(col.type):
            col = (
                pc.utf8_trim_whitespace(col.cast(pa.string()))
                if name != "code"
                else col.cast(pa.string())
            )
            col = col.dictionary_encode()
        out[name] = col.to_pandas()
        if not isinstance(out[name].dtype, pd.CategoricalDtype):  # pragma: no cover
            out[name] = out[name].astype("category")
    frame = pd.DataFrame(
        {
            "upn": out["upn"],
            "urn": _marks_urns(table.column("urn"), file, log),
            "date": _marks_dates(table.column("date"), file, log),
            "session": out["session"],
            "code": out["code"],
        }
    )
    _check_marks_values(frame, file, log)
    return frame


def _marks_urns(urn: pa.ChunkedArray, file: str, log: ProblemLog) -> np.ndarray:
    """URNs as int32, range-checked first (:data:`URN_MAX`); a bad URN is reported and held as -1."""
    col = TABLES["marks"].column("urn")
    if pa.types.is_dictionary(urn.type):
        urn = urn.cast(urn.type.value_type)
    if pa.types.is_integer(urn.type) and len(urn):
        lo_hi = pc.min_max(urn).as_py()
        if urn.null_count == 0 and lo_hi["min"] >= col.low and lo_hi["max"] <= col.high:
            return urn.to_numpy().astype(np.int32)  # the common case: nothing to report
    if pa.types.is_integer(urn.type) or pa.types.is_floating(urn.type):
        num = pd.Series(urn.cast(pa.float64(), safe=False).to_numpy(zero_copy_only=False))
        text = pd.Series(urn.cast(pa.string()).to_numpy(zero_copy_only=False), dtype="string")
    else:
        text = pd.Series(
            pc.utf8_trim_whitespace(urn.cast(pa.string())).to_numpy(zero_copy_only=False),
            dtype="string",
        )
        num = pd.to_numeric(text, errors="coerce").astype("float64")
    missing = text.isna().to_numpy() | (text == "").fillna(False).to_numpy()
    ints = _whole_numbers(num, text, col, file, log, missing)
    log.rows(file, "urn", rows_where(missing), "is empty; a value is required")
    return ints.fillna(-1).to_numpy(dtype=np.int64).astype(np.int32)


def _marks_dates(date: pa.ChunkedArray, file: str, log: ProblemLog) -> pd.Series:
    """Dates as ``datetime64[s]`` naive midnights from date, timestamp (any zone) or ISO text."""
    if pa.types.is_dictionary(date.type):
        date = date.cast(date.type.value_type)
    if pa.types.is_date(date.type):
        out = date.cast(pa.timestamp("s")).to_pandas().astype("datetime64[s]")
    elif pa.types.is_timestamp(date.type):
        out = canonical_dates(date.to_pandas())
    else:
        text = pd.Series(date.cast(pa.string()).to_numpy(zero_copy_only=False), dtype="string")
        out = parse_iso_dates(text)
        bad = out.isna().to_numpy() & text.notna().to_numpy()
        log.rows(file, "date", rows_where(bad), _date_message, text[bad].to_numpy())
    log.rows(
        file,
        "date",
        rows_where(date.is_null().to_numpy(zero_copy_only=False)),
        "is empty; a value is required",
    )
    return out.reset_index(drop=True)


def _compact_marks(frame: pd.DataFrame, file: str, log: ProblemLog) -> pd.DataFrame:
    # read_table checked and range-checked every column: a bad urn is NA here, never wrapped.
    out = pd.DataFrame(
        {
            "upn": frame["upn"].astype("category"),
            "urn": frame["urn"].fillna(-1).astype(np.int32),
            "date": frame["date"].astype("datetime64[s]"),
            "session": frame["session"].astype("category"),
            "code": _as_text(frame["code"]).astype("category"),
        }
    )
    # read_table already reported type problems for the text columns; codes are checked here.
    _check_marks_values(out, file, log, session_checked=True)
    return out


def _check_marks_values(frame: pd.DataFrame, file: str, log: ProblemLog, session_checked=False):
    from attendance_lib.core.codes import CODE_GROUP

    code_cats = frame["code"].cat.categories
    unknown = [c for c in code_cats if c not in CODE_GROUP]
    if unknown:
        bad = frame["code"].isin(unknown).to_numpy()
        log.rows(
            file,
            "code",
            rows_where(bad),
            lambda v: f"{v!r} is not a register code (see the code table in docs/data-contract.md)",
            frame["code"].astype(object).to_numpy()[bad],
        )
    missing_code = frame["code"].cat.codes.to_numpy() < 0
    log.rows(
        file,
        "code",
        rows_where(missing_code),
        "is empty; every session needs a register code (- is not a code)",
    )
    if not session_checked and not set(frame["session"].cat.categories) <= {"AM", "PM"}:
        bad = ~frame["session"].isin(["AM", "PM"]).to_numpy()
        log.rows(
            file,
            "session",
            rows_where(bad),
            lambda v: f"{v!r} is not allowed; expected AM or PM",
            frame["session"].astype(object).to_numpy()[bad],
        )
    missing_upn = frame["upn"].cat.codes.to_numpy() < 0
    if missing_upn.any():
        log.rows(file, "upn", rows_where(missing_upn), "is empty; a value is required")
