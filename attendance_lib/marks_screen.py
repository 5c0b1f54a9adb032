"""Prove a Parquet marks file clean with a few aggregates, without loading it into pandas.

Checking every rule mark by mark (:mod:`attendance_lib.validation`) needs every mark in
memory: at 45 million marks that is 16 s and 5 GB. Most extracts are clean, and a clean file
can be recognised from aggregates that DuckDB computes while reading the file by column, in
one pass, on every core:

- per enrolment (upn + urn) and 366-day span: how many marks, how many have a date, how
  many have a code missing from the code table, how many a session other than AM or PM, and
  the set of (date, session) slots used, as a bit string (``bitstring_agg``). An enrolment
  with fewer distinct slots than marks has a duplicate mark (same upn, urn, date, session);
- from those rows: the distinct pupils (each must be in pupils.csv), the distinct schools
  (each in schools.csv), and the union of slots, i.e. every date used (each inside a half
  term of calendar.csv).

:func:`screen_parquet_marks` returns ``None`` when the file passes every rule the mark-level
checks apply, or a short reason when it does not (or cannot be screened, e.g. text URNs).
It never reports problems itself: validation then runs the mark-level checks, which name
each file, row and column. So the fast path and the detailed one cannot disagree about what
is wrong, only the detailed one says it; ``tests/test_marks_screen.py`` checks that every
kind of bad marks file is sent on to the detailed checks.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads

from attendance_lib import marks_sql
from attendance_lib.academic_calendar import Calendar
from attendance_lib.sql_engines import duckdb_connection

#: Slots are counted from this day in spans of 366 days (so a span holds at most 732 slots).
EPOCH = pd.Timestamp("1900-01-01")
SPAN_DAYS = 366

_DATE = "CAST(m.date AS DATE)"
_DAY = f"({_DATE} - DATE '{EPOCH:%Y-%m-%d}')"

#: One row per enrolment and span: the aggregates the rules need (see the module docstring).
SCREEN_SQL = f"""
CREATE TEMP TABLE enrolments AS
SELECT
  m.upn AS upn,
  m.urn AS urn,
  {_DAY} // {SPAN_DAYS} AS span,
  count(*) AS marks,
  count(m.date) AS dated,
  min({_DATE}) AS first_date,
  count(*) FILTER (WHERE c.code IS NULL) AS unknown_codes,
  count(*) FILTER (WHERE m.session IS DISTINCT FROM 'AM' AND m.session IS DISTINCT FROM 'PM')
    AS bad_sessions,
  bitstring_agg(
    CAST(CASE WHEN {_DAY} >= 0
      THEN ({_DAY} % {SPAN_DAYS}) * 2 + CASE WHEN m.session = 'PM' THEN 1 ELSE 0 END END
    AS INTEGER),
    0, {2 * SPAN_DAYS - 1}) AS slots
FROM marks m LEFT JOIN codes c ON CAST(m.code AS VARCHAR) = c.code
GROUP BY ALL
"""

_TOTALS_SQL = """
SELECT sum(marks) AS marks, sum(dated) AS dated, sum(unknown_codes) AS unknown_codes,
  sum(bad_sessions) AS bad_sessions, sum(bit_count(slots)) AS slots, min(first_date) AS first,
  count(*) FILTER (WHERE upn IS NULL OR urn IS NULL) AS missing_keys
FROM enrolments
"""

_SPANS_SQL = "SELECT span, CAST(bit_or(slots) AS VARCHAR) AS used FROM enrolments GROUP BY span"


def screen_parquet_marks(
    path: Path,
    upns: pd.Series | None,
    urns: pd.Series | None,
    calendar: Calendar | None,
) -> str | None:
    """``None`` when the marks at ``path`` certainly pass every mark-level rule, else why not.

    Parameters
    ----------
    path
        ``marks.parquet``: one file, or a hive-partitioned directory of them.
    upns, urns
        The pupils' UPNs (pupils.csv) and the schools' URNs (schools.csv) every mark must link
        to; ``None`` skips that link, as the detailed checks do.
    calendar
        The half terms every mark's date must lie in; ``None`` skips the date rule.

    Returns
    -------
    str or None
        ``None``: typed columns, no missing value, every code in the code table, sessions AM
        or PM, every upn and urn known, every date inside a half term, and no two marks with
        the same upn, urn, date and session. Otherwise a short reason, for a progress line;
        the detailed checks then find and report the rows.
    """
    untyped = _untyped_columns(path)
    if untyped:
        return f"columns not stored as the contract's types: {', '.join(untyped)}"
    con = duckdb_connection({"marks": path, "codes": marks_sql.codes_frame()})
    try:
        try:
            con.execute(SCREEN_SQL)
        except duckdb.Error as exc:  # e.g. a date column DuckDB cannot cast
            return f"could not be screened ({str(exc).splitlines()[0]})"
        totals = con.execute(_TOTALS_SQL).df().iloc[0]
        if totals["marks"] is None or pd.isna(totals["marks"]):
            return None  # no marks at all
        if totals["missing_keys"] or totals["dated"] < totals["marks"]:
            return "some marks have no upn, urn or date"
        if totals["unknown_codes"]:
            return "some codes are not in the code table"
        if totals["bad_sessions"]:
            return "some sessions are not AM or PM"
        if pd.Timestamp(totals["first"]) < EPOCH:
            return f"some dates are before {EPOCH:%Y}, outside calendar.csv"
        if totals["slots"] < totals["marks"]:
            return "duplicate marks (same upn, urn, date and session)"
        if upns is not None:
            seen = con.execute("SELECT DISTINCT upn FROM enrolments").df()["upn"]
            if not seen.isin(upns.dropna()).all():
                return "some upns are not in pupils.csv"
        if urns is not None:
            seen = con.execute("SELECT DISTINCT urn FROM enrolments").df()["urn"]
            if not seen.isin(urns.dropna().astype("int64")).all():
                return "some urns are not in schools.csv"
        if calendar is not None:
            dates = _used_dates(con.execute(_SPANS_SQL).df())
            if not calendar.in_calendar(dates).all():
                return "some dates are outside calendar.csv"
    finally:
        con.close()
    return None


def _untyped_columns(path: Path) -> list[str]:
    """Contract columns whose Parquet type is not the one the screen's SQL relies on."""
    schema = pads.dataset(path, format="parquet", partitioning="hive").schema
    types = {name.strip().lower(): _value_type(schema.field(name).type) for name in schema.names}
    wanted = {
        "upn": _is_text,
        "urn": pa.types.is_integer,
        "date": lambda t: pa.types.is_date(t) or pa.types.is_timestamp(t),
        "session": _is_text,
        "code": _is_text,
    }
    return [name for name, ok in wanted.items() if name not in types or not ok(types[name])]


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def _value_type(t: pa.DataType) -> pa.DataType:
    return t.value_type if pa.types.is_dictionary(t) else t


def _used_dates(spans: pd.DataFrame) -> np.ndarray:
    """Every date with a mark, from each span's union of slots (a '0'/'1' string per span)."""
    days = []
    for span, used in zip(spans["span"], spans["used"], strict=True):
        bits = np.frombuffer(used.encode("ascii"), dtype=np.uint8) == ord("1")
        days.append(int(span) * SPAN_DAYS + np.unique(np.flatnonzero(bits) // 2))
    offsets = np.concatenate(days) if days else np.array([], dtype=np.int64)
    return np.datetime64(EPOCH.date(), "D") + offsets.astype("timedelta64[D]")
