"""The mark-level logic as one SQL definition that DuckDB and Spark SQL both run.

Keeping the session counting in one SQL text means the embedded engine (DuckDB) and the
distributed one (Apache Spark) cannot drift: both execute exactly these statements over a
``marks`` relation and a small ``codes`` relation (code -> group number from
:mod:`attendance_lib.core.codes`). The SQL uses only constructs both dialects share: ``CASE``
sums, ``BETWEEN`` with ``DATE`` literals, inner/left joins, ``GROUP BY``, ``WITH``.

Definitions are those of :mod:`attendance_lib.engine.sessions` (DfE): possible = present + AEA +
authorised + unauthorised; windows include both end dates.
"""

from __future__ import annotations

import pandas as pd

from attendance_lib.core.codes import CODE_GROUP, Group

_G = {g: int(g) for g in Group}
#: The groups whose sessions are possible ones, as an SQL list of group numbers.
POSSIBLE_GROUPS = ", ".join(
    str(_G[g]) for g in (Group.PRESENT, Group.AEA, Group.AUTHORISED, Group.UNAUTHORISED)
)


def codes_frame() -> pd.DataFrame:
    """The ``codes`` relation: one row per register code with its group number."""
    return pd.DataFrame({"code": list(CODE_GROUP), "grp": [int(g) for g in CODE_GROUP.values()]})


def _date_literal(value) -> str:
    return f"DATE '{pd.Timestamp(value):%Y-%m-%d}'"


def window_clause(start, end) -> str:
    """``WHERE`` condition for a window with both ends included (``TRUE`` when open)."""
    parts = []
    if start is not None:
        parts.append(f"{DATE} >= {_date_literal(start)}")
    if end is not None:
        parts.append(f"{DATE} <= {_date_literal(end)}")
    return " AND ".join(parts) or "TRUE"


# Column expressions: cast so a file with text URNs or dates reads the same as a typed one.
UPN = "CAST(m.upn AS STRING)"
URN = "CAST(m.urn AS BIGINT)"
DATE = "CAST(m.date AS DATE)"
CODE = "CAST(m.code AS STRING)"
_KEYS = {"upn": UPN, "urn": URN}


def _session_sums() -> str:
    # COUNT of a CASE that is NULL otherwise: BIGINT in both engines (SUM gives DuckDB a
    # DECIMAL(38), which reaches pandas as Python objects).
    return f"""
    COUNT(CASE WHEN c.grp IN ({POSSIBLE_GROUPS}) THEN 1 END) AS sessions_possible,
    COUNT(CASE WHEN c.grp = {_G[Group.PRESENT]} THEN 1 END) AS sessions_present,
    COUNT(CASE WHEN c.grp = {_G[Group.AEA]} THEN 1 END) AS sessions_aea,
    COUNT(CASE WHEN c.grp = {_G[Group.AUTHORISED]} THEN 1 END) AS sessions_authorised,
    COUNT(CASE WHEN c.grp = {_G[Group.UNAUTHORISED]} THEN 1 END) AS sessions_unauthorised,
    COUNT(CASE WHEN c.grp IS NULL THEN 1 END) AS unknown_codes"""


def summary_sql(start=None, end=None, by: str = "enrolment") -> str:
    """Session counts per enrolment (upn, urn) or pupil (upn) over a window, sorted by the keys.

    Every mark in the window is kept, including not-possible ones, so an enrolment with
    only ``X`` or ``#`` marks appears with zero possible sessions and can be counted.
    ``unknown_codes`` counts marks whose code is not in the code table (validation rejects
    them; the engine refuses a result with any). Sorted by the engine, in parallel.
    """
    keys = ["upn", "urn"] if by == "enrolment" else ["upn"]
    select = ", ".join(f"{_KEYS[k]} AS {k}" for k in keys)
    group = ", ".join(_KEYS[k] for k in keys)
    return f"""
SELECT {select},{_session_sums()}
FROM marks m LEFT JOIN codes c ON {CODE} = c.code
WHERE {window_clause(start, end)}
GROUP BY {group}
ORDER BY {", ".join(keys)}
"""


def possible_dates_sql() -> str:
    """The dates with at least one possible mark, in order (a missing date is none: the
    engines would sort it first or last)."""
    return f"""
SELECT DISTINCT {DATE} AS date
FROM marks m JOIN codes c ON {CODE} = c.code
WHERE c.grp IN ({POSSIBLE_GROUPS}) AND {DATE} IS NOT NULL
ORDER BY date
"""


def possible_cells_sql() -> str:
    """Every possible mark as numbers: its pupil's and its date's positions and its group.

    ``pupil_numbers`` (upn, pupil) and ``day_numbers`` (date, day) number the pupils and
    dates; a mark whose pupil or date is not numbered there is left out. One row per mark,
    in no order. (Spark registers each relation as a view of its session: the names are
    ones a user's own notebook is unlikely to hold.)
    """
    return f"""
SELECT p.pupil AS pupil, d.day AS day, c.grp AS grp
FROM marks m
JOIN codes c ON {CODE} = c.code
JOIN pupil_numbers p ON {UPN} = p.upn
JOIN day_numbers d ON {DATE} = d.date
WHERE c.grp IN ({POSSIBLE_GROUPS})
"""


def latest_school_sql(start=None, end=None) -> str:
    """Each pupil's school (urn) on the pupil's last possible mark in the window; on a day
    with possible marks at two schools, the larger URN (one row per upn, in no order).

    Two aggregates over the pupils (their last day, then the largest URN on it) rather than
    a window function: a window sorts every mark, which costs more than linearly. A mark
    without a UPN or a date matches no day (the join is on equality); validated data has
    neither.
    """
    return f"""
WITH possible AS (
    SELECT {UPN} AS upn, {URN} AS urn, {DATE} AS date
    FROM marks m JOIN codes c ON {CODE} = c.code
    WHERE c.grp IN ({POSSIBLE_GROUPS}) AND {window_clause(start, end)}
), last_day AS (
    SELECT upn, MAX(date) AS date FROM possible GROUP BY upn
)
SELECT p.upn AS upn, MAX(p.urn) AS urn
FROM possible p JOIN last_day l ON p.upn = l.upn AND p.date = l.date
GROUP BY p.upn
"""


def date_range_sql() -> str:
    """The first and last mark date (engines answer it from Parquet statistics, at once)."""
    return f"SELECT MIN({DATE}) AS first, MAX({DATE}) AS last FROM marks m"


def unknown_codes_sql() -> str:
    """The distinct codes that are not in the code table (for an error message)."""
    return f"""
SELECT DISTINCT {CODE} AS code
FROM marks m LEFT JOIN codes c ON {CODE} = c.code
WHERE c.grp IS NULL
"""


def cube_sql() -> str:
    """Sessions per (upn, urn, academic_year, half_term, code), in that order; needs ``days``.

    ``days`` maps each date inside a half term to its ``academic_year`` and ``half_term``;
    validated marks all fall on such a date. Sorted by the engine (in parallel), not pandas.
    """
    return f"""
SELECT {UPN} AS upn, {URN} AS urn, d.academic_year, d.half_term, {CODE} AS code,
       COUNT(*) AS sessions
FROM marks m JOIN days d ON {DATE} = d.date
GROUP BY {UPN}, {URN}, d.academic_year, d.half_term, {CODE}
ORDER BY upn, urn, academic_year, half_term, code
"""


def days_frame(calendar: pd.DataFrame) -> pd.DataFrame:
    """Every date inside a half term with its academic year and half term (the ``days`` relation)."""
    rows = [
        pd.DataFrame(
            {
                "date": pd.date_range(r.start_date, r.end_date, freq="D").date,
                "academic_year": r.academic_year,
                "half_term": int(r.half_term),
            }
        )
        for r in calendar.itertuples()
    ]
    return pd.concat(rows, ignore_index=True)
