"""Prove a Parquet marks file clean with a few aggregates, without loading it into pandas.

Checking every rule mark by mark (:mod:`attendance_lib.contract.validation`) needs every mark in
memory: at 45 million marks that is 16 s and 5 GB. Most extracts are clean, and a clean file
can be recognised from aggregates that DuckDB computes while reading the file by column, in
one pass, on every core:

- the first and last date (from the Parquet statistics, instantly): both must lie within
  calendar.csv, whose first day then numbers the (date, session) slots;
- per enrolment (upn + urn): how many marks, how many have a date, how many have a code
  missing from the code table, how many a session other than AM or PM, and the set of slots
  used, as a bit string (``bitstring_agg``). An enrolment with fewer distinct slots than
  marks has a duplicate mark (same upn, urn, date, session). The (few) slots with a
  not-possible mark such as ``D`` are kept apart too: a pupil whose enrolments' other slots
  overlap has possible marks at two schools in the same session;
- from those rows: the distinct pupils (each must be in pupils.csv), the distinct schools
  (each in schools.csv), and the union of slots, i.e. every date used (each inside a half
  term of calendar.csv, none on a Saturday or Sunday, which the detailed checks count in a
  warning).

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

from attendance_lib.contract.reading import (
    is_text_type,
    normalise_name,
    open_marks_dataset,
    value_type,
)
from attendance_lib.core import marks_sql
from attendance_lib.core.academic_calendar import Calendar
from attendance_lib.core.codes import Group
from attendance_lib.core.errors import DataError
from attendance_lib.core.sql_engines import duckdb_connection


def _screen_sql(first_day: pd.Timestamp, slots: int) -> str:
    """One row per enrolment: the aggregates the rules need (see the module docstring)."""
    slot = (
        f"({marks_sql.DATE} - DATE '{first_day:%Y-%m-%d}') * 2"
        " + CASE WHEN m.session = 'PM' THEN 1 ELSE 0 END"
    )
    return f"""
CREATE TEMP TABLE enrolments AS
SELECT
  m.upn AS upn,
  m.urn AS urn,
  count(*) AS marks,
  count(m.date) AS dated,
  count(*) FILTER (WHERE c.code IS NULL) AS unknown_codes,
  count(*) FILTER (WHERE m.session IS DISTINCT FROM 'AM' AND m.session IS DISTINCT FROM 'PM')
    AS bad_sessions,
  bitstring_agg(CAST({slot} AS INTEGER), 0, {slots - 1}) AS slots,
  bitstring_agg(CAST({slot} AS INTEGER), 0, {slots - 1})
    FILTER (WHERE c.grp = {int(Group.NOT_POSSIBLE)}) AS not_possible_slots
FROM marks m LEFT JOIN codes c ON CAST(m.code AS VARCHAR) = c.code
GROUP BY ALL
"""


_TOTALS_SQL = """
SELECT sum(marks) AS marks, sum(dated) AS dated, sum(unknown_codes) AS unknown_codes,
  sum(bad_sessions) AS bad_sessions, sum(bit_count(slots)) AS slots,
  count(*) FILTER (WHERE upn IS NULL OR urn IS NULL) AS missing_keys
FROM enrolments
"""

_UNLINKED_SQL = "SELECT count(*) FROM enrolments WHERE {key} NOT IN (SELECT {key} FROM {table})"

#: Pupils with possible marks at two schools in the same session: their enrolments' slots
#: of possible marks (all slots but the few not-possible ones, such as ``D``) overlap.
_DUAL_SQL = """
WITH possible AS (
  SELECT upn, CASE WHEN not_possible_slots IS NULL THEN slots
                   ELSE slots & ~not_possible_slots END AS slots
  FROM enrolments
)
SELECT count(*) FROM (
  SELECT upn FROM possible GROUP BY upn
  HAVING count(*) > 1 AND sum(bit_count(slots)) > bit_count(bit_or(slots))
)
"""

_USED_SQL = "SELECT CAST(bit_or(slots) AS VARCHAR) AS used FROM enrolments"


def screen_parquet_marks(
    path: Path, upns: pd.Series, urns: pd.Series, calendar: Calendar
) -> str | None:
    """``None`` when the marks at ``path`` certainly pass every mark-level rule, else why not.

    Parameters
    ----------
    path
        ``marks.parquet``: one file, or a hive-partitioned directory of them.
    upns, urns
        The pupils' UPNs (pupils.csv) and the schools' URNs (schools.csv) every mark must
        link to.
    calendar
        The half terms every mark's date must lie in.

    Returns
    -------
    str or None
        ``None``: typed columns, no missing value, every code in the code table, sessions AM
        or PM, every upn and urn known, every date inside a half term, and no two marks with
        the same upn, urn, date and session. Otherwise a short reason, for a progress line;
        the detailed checks then find and report the rows.
    """
    try:
        untyped = _untyped_columns(path)
    except DataError:  # unreadable, a symbolic link, a column twice: read_marks says which
        return "could not be read"
    if untyped:
        return f"columns not stored as the contract's types: {', '.join(untyped)}"
    terms = calendar.table
    if terms.empty:
        return "calendar.csv has no half terms"
    first_day, last_day = terms["start_date"].min(), terms["end_date"].max()
    con = duckdb_connection({"marks": path, "codes": marks_sql.codes_frame()})
    try:
        try:
            dates = con.execute(marks_sql.date_range_sql()).df().iloc[0]
            if pd.isna(dates["first"]):
                return None if _no_marks(con) else "some marks have no date"
            if pd.Timestamp(dates["first"]) < first_day or pd.Timestamp(dates["last"]) > last_day:
                return "some dates are outside calendar.csv"
            slots = 2 * ((last_day - first_day).days + 1)
            con.execute(_screen_sql(first_day, slots))
        except duckdb.Error as exc:  # e.g. a column DuckDB cannot cast
            return f"could not be screened ({str(exc).splitlines()[0]})"
        totals = con.execute(_TOTALS_SQL).df().iloc[0]
        if totals["missing_keys"] or totals["dated"] < totals["marks"]:
            return "some marks have no upn, urn or date"
        if totals["unknown_codes"]:
            return "some codes are not in the code table"
        if totals["bad_sessions"]:
            return "some sessions are not AM or PM"
        if totals["slots"] < totals["marks"]:
            return "duplicate marks (same upn, urn, date and session)"
        con.register("pupils", pd.DataFrame({"upn": upns.dropna().astype(str)}))
        con.register("schools", pd.DataFrame({"urn": urns.dropna().astype("int64")}))
        if con.execute(_UNLINKED_SQL.format(key="upn", table="pupils")).fetchone()[0]:
            return "some upns are not in pupils.csv"
        if con.execute(_UNLINKED_SQL.format(key="urn", table="schools")).fetchone()[0]:
            return "some urns are not in schools.csv"
        if con.execute(_DUAL_SQL).fetchone()[0]:
            return "a pupil has possible marks at two schools in the same session"
        used = _used_dates(con.execute(_USED_SQL).fetchone()[0], first_day)
        if not calendar.in_calendar(used).all():
            return "some dates are outside calendar.csv"
        if (pd.DatetimeIndex(used).day_of_week >= 5).any():
            return "some marks are on a Saturday or Sunday"
    finally:
        con.close()
    return None


def _no_marks(con) -> bool:
    return con.execute("SELECT count(*) FROM marks").fetchone()[0] == 0


def _untyped_columns(path: Path) -> list[str]:
    """Contract columns whose Parquet type is not the one the screen's SQL relies on.

    Dates must be dates or time-zone-naive timestamps: SQL's cast of a zoned timestamp to a
    date depends on the session's zone, so those are typed by
    :func:`~attendance_lib.contract.reading.read_marks`, the one place that knows the rule.
    """
    schema = open_marks_dataset(path).schema
    types = {normalise_name(name): value_type(schema.field(name).type) for name in schema.names}
    wanted = {
        "upn": is_text_type,
        "urn": pa.types.is_integer,
        "date": lambda t: pa.types.is_date(t) or (pa.types.is_timestamp(t) and t.tz is None),
        "session": is_text_type,
        "code": is_text_type,
    }
    return [name for name, ok in wanted.items() if name not in types or not ok(types[name])]


def _used_dates(used: str, first_day: pd.Timestamp) -> np.ndarray:
    """Every date with a mark, from the union of slots (a '0'/'1' string, two per day)."""
    bits = np.frombuffer(used.encode("ascii"), dtype=np.uint8) == ord("1")
    days = np.unique(np.flatnonzero(bits) // 2)
    return np.datetime64(first_day.date(), "D") + days.astype("timedelta64[D]")
