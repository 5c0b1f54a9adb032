"""The register engine: session counts and DfE rates over any date window.

Definitions (DfE, *Pupil absence in schools in England* methodology; data contract
"Derived measures"):

- possible = present + approved educational activity + authorised + unauthorised sessions;
  ``not possible`` codes (D, X, Q, Y1..Y7, Z, #, legacy Y) count nowhere.
- attendance % = (present + AEA) / possible x 100; absence % = (authorised + unauthorised) /
  possible x 100; authorised % and unauthorised % likewise.
- persistent absence: absence % >= 10; severe absence: absence % >= 50 (compared in exact
  integer arithmetic, so 19 of 190 sessions is persistent).
- an enrolment is a pupil at a school (upn + urn); pupil level sums a pupil's enrolments.
- enrolments (or pupils) with no possible session in the window are left out and counted.
- rates for any group come from summed sessions, never from averaged percentages.
- date windows include both end dates.

Counting marks is one SQL definition (:mod:`attendance_lib.core.marks_sql`) run by DuckDB in
process (the default; it reads Parquet by column on every core) or by Apache Spark
(``engine="spark"``, or ``ATTENDANCE_WORKBENCH_ENGINE=spark``), so the two cannot drift.
Everything after the counts (rates, flags, groups) is vectorised pandas.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from attendance_lib.core import marks_sql
from attendance_lib.core.academic_calendar import Calendar
from attendance_lib.core.codes import CODE_GROUP, GROUP_COLUMNS, Group, group_lookup
from attendance_lib.core.columns import key_numbers
from attendance_lib.core.errors import UsageError
from attendance_lib.core.sql_engines import run_sql, run_sql_batches

COUNT_COLUMNS = [
    "sessions_possible",
    "sessions_present",
    "sessions_aea",
    "sessions_authorised",
    "sessions_unauthorised",
]
RATE_COLUMNS = ["attendance_pct", "absence_pct", "authorised_pct", "unauthorised_pct"]
FLAG_COLUMNS = ["persistent_absent", "severe_absent"]
#: Absence % at or above which an enrolment is persistently absent (DfE).
PA_THRESHOLD = 10
#: Absence % at or above which an enrolment is severely absent (DfE).
SA_THRESHOLD = 50

_POSSIBLE_GROUPS = [Group.PRESENT, Group.AEA, Group.AUTHORISED, Group.UNAUTHORISED]
_N_GROUPS = len(Group)


@dataclass(frozen=True)
class Summary:
    """The result of :func:`summarise`.

    ``table``: one row per enrolment (or pupil) with at least one possible session.
    ``zero_possible``: the keys left out because they had marks in the window but no
    possible session (for example only ``X`` or ``#`` marks).
    """

    table: pd.DataFrame
    zero_possible: pd.DataFrame


def add_rates(counts: pd.DataFrame, *, flags: bool = True) -> pd.DataFrame:
    """Add rate columns (and PA/SA flags) computed from a table's count columns.

    ``sessions_possible`` is recomputed from its four parts when absent. Rates are
    ``100 * sessions / possible`` (multiplied first, so exact values such as 95.0 stay exact);
    NaN where nothing was possible.
    """
    out = counts.copy()
    if "sessions_possible" not in out:
        out["sessions_possible"] = out[COUNT_COLUMNS[1:]].sum(axis=1)
    possible = out["sessions_possible"].to_numpy(dtype="float64")
    attended = (out["sessions_present"] + out["sessions_aea"]).to_numpy(dtype="float64")
    absent_int = (out["sessions_authorised"] + out["sessions_unauthorised"]).to_numpy()
    absent = absent_int.astype("float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        none = possible == 0
        out["attendance_pct"] = np.where(none, np.nan, attended * 100 / possible)
        out["absence_pct"] = np.where(none, np.nan, absent * 100 / possible)
        out["authorised_pct"] = np.where(
            none, np.nan, out["sessions_authorised"].to_numpy(dtype="float64") * 100 / possible
        )
        out["unauthorised_pct"] = np.where(
            none, np.nan, out["sessions_unauthorised"].to_numpy(dtype="float64") * 100 / possible
        )
    if flags:
        poss_int = out["sessions_possible"].to_numpy()
        out["persistent_absent"] = ~none & (absent_int * 100 >= PA_THRESHOLD * poss_int)
        out["severe_absent"] = ~none & (absent_int * 100 >= SA_THRESHOLD * poss_int)
    return out


def _count_frame(matrix: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame({GROUP_COLUMNS[g]: matrix[:, int(g)] for g in _POSSIBLE_GROUPS})
    frame.insert(0, "sessions_possible", matrix[:, : len(_POSSIBLE_GROUPS)].sum(axis=1))
    return frame


def marks_groups(marks: pd.DataFrame) -> np.ndarray:
    """The :class:`~attendance_lib.core.codes.Group` number of each mark (int8 array).

    Raises ``ValueError`` naming any code that is not in the code table.
    """
    lookup = group_lookup(marks["code"].cat.categories)
    codes = marks["code"].cat.codes.to_numpy()
    groups = lookup[codes]
    if (groups < 0).any() or (codes < 0).any():
        bad = sorted({str(c) for c in marks["code"][groups < 0].unique()})
        raise ValueError(f"unknown register codes: {', '.join(bad)}")
    return groups


def default_engine() -> str:
    """The engine named by ``$ATTENDANCE_WORKBENCH_ENGINE`` (``duckdb`` when unset)."""
    return os.environ.get("ATTENDANCE_WORKBENCH_ENGINE", "duckdb")


def marks_relation(marks) -> pd.DataFrame | Path | str:
    """What the SQL engines read as ``marks``: a DataFrame, or a Parquet file read directly.

    ``marks`` is a DataFrame, a path to a marks file, or a
    :class:`~attendance_lib.contract.dataset.Dataset`. A dataset whose marks are not loaded and whose
    Parquet file validation proved readable as stored (``marks_as_stored``) is read straight
    from the file, column by column, without loading it into pandas.
    """
    if isinstance(marks, pd.DataFrame):
        return marks
    if isinstance(marks, str) and "://" in marks:
        return marks  # a remote location (s3a://, abfss://) for Spark to read
    if isinstance(marks, str | Path):
        return Path(marks)
    if marks.marks_path is None:
        held = "weekly counts only (sessions per week, no register codes)"
        raise UsageError(
            f"{marks.root} has no register marks"
            + (f": it holds {held}" if getattr(marks, "weekly", None) is not None else "")
            + "; this needs session marks with their codes"
        )
    if marks._marks is None and marks.marks_as_stored:
        return marks.marks_path
    return marks.marks


def _marks_query(sql: str, marks, engine: str | None, **extra) -> pd.DataFrame:
    return run_sql(
        sql,
        {"marks": marks_relation(marks), "codes": marks_sql.codes_frame(), **extra},
        engine=engine or default_engine(),
    )


def summarise(
    marks,
    start=None,
    end=None,
    by: Literal["enrolment", "pupil"] = "enrolment",
    *,
    engine: str | None = None,
    calendar: Calendar | None = None,
) -> Summary:
    """Session counts and rates per enrolment (upn + urn) or pupil over ``start``..``end``.

    Parameters
    ----------
    marks
        Register marks: a DataFrame as read by :mod:`attendance_lib.contract.reading`, a
        :class:`~attendance_lib.contract.dataset.Dataset`, or a path to a marks Parquet file.
        A dataset with weekly counts and no marks (an imported DfE weekly download), or a
        weekly table itself, is summarised from the weekly counts (:func:`summarise_weekly`):
        the one place that knows which source fed the figures.
    start, end
        The window's first and last dates, both included; ``None`` leaves that end open.
        Over weekly counts the window must be made of whole covered weeks
        (:func:`check_weekly_window`).
    by
        ``"enrolment"`` (DfE headline basis) or ``"pupil"`` (sessions summed over the
        pupil's enrolments, then rates and flags from the sums).
    engine
        ``"duckdb"`` (default) or ``"spark"``; both run :func:`marks_sql.summary_sql`.
    calendar
        Weekly counts only: the term dates, so a window may start or end mid-week where the
        rest of that week has no school day (:func:`check_weekly_window`); a dataset's own
        calendar is used when not given.

    Returns
    -------
    Summary
        ``table`` with columns upn, urn (enrolment only), the five count columns, the four
        rates (unrounded) and the persistent / severe flags, sorted by upn (and urn); and
        ``zero_possible`` listing the keys left out.
    """
    if by not in ("enrolment", "pupil"):
        raise ValueError(f"by must be 'enrolment' or 'pupil', got {by!r}")
    weekly = weekly_counts_of(marks)
    if weekly is not None:
        if calendar is None and getattr(marks, "calendar", None) is not None:
            calendar = Calendar(marks.calendar)
        return summarise_weekly(weekly, start, end, by, calendar=calendar)
    keys = ["upn", "urn"] if by == "enrolment" else ["upn"]
    frame = _marks_query(marks_sql.summary_sql(start, end, by), marks, engine)
    _refuse_unknown_codes(int(frame.pop("unknown_codes").sum()), marks, engine)
    frame = frame.astype({"upn": str, **{c: np.int64 for c in keys[1:] + COUNT_COLUMNS}})
    zero = frame["sessions_possible"] == 0
    table = add_rates(frame[~zero].reset_index(drop=True))
    return Summary(table=table, zero_possible=frame.loc[zero, keys].reset_index(drop=True))


def weekly_counts_of(source) -> pd.DataFrame | None:
    """The weekly counts ``source`` holds instead of marks, or None when it has marks.

    ``source`` is anything :func:`summarise` takes: a weekly table (it has ``week_start``) or
    a dataset whose folder has ``weekly`` and no ``marks``.
    """
    if isinstance(source, pd.DataFrame):
        return source if "week_start" in source.columns else None
    if isinstance(source, str | Path):
        return None
    if getattr(source, "marks_path", None) is None and getattr(source, "weekly", None) is not None:
        return source.weekly
    return None


def _boundaries(weekly: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The distinct periods (week_start, week_end) and the valid window starts and last Sundays.

    A Monday is a valid start, and a Sunday a valid last Sunday, when no period straddles it,
    so a window made of them adds up whole rows only.
    """
    periods = weekly[["week_start", "week_end"]].drop_duplicates()
    ws = periods["week_start"].to_numpy(dtype="datetime64[D]")
    we = periods["week_end"].to_numpy(dtype="datetime64[D]")
    starts = np.unique(ws)
    ends = np.unique(we)
    starts = starts[[not ((ws < b) & (b <= we)).any() for b in starts]]
    ends = ends[[not ((ws <= e) & (e < we)).any() for e in ends]]
    return ws, we, starts, ends


def _nearest(candidates: np.ndarray, day: np.datetime64, shift: int = 0) -> str:
    """The candidates just before and just after ``day`` (shifted by ``shift`` days), in words."""
    before = candidates[candidates <= day]
    after = candidates[candidates > day]
    near = [before[-1]] if len(before) else []
    near += [after[0]] if len(after) else []
    return " or ".join(str(d + np.timedelta64(shift, "D")) for d in near)


def _no_school_day(calendar: Calendar | None, first: np.datetime64, last: np.datetime64) -> bool:
    """True when ``calendar`` has no weekday in a half term from ``first`` to ``last`` (both
    included); False without a calendar unless the span is empty."""
    if first > last:
        return True
    if calendar is None:
        return False
    days = pd.bdate_range(pd.Timestamp(first), pd.Timestamp(last))
    return days.empty or calendar.half_term_of(days)["half_term"].isna().all()


def check_weekly_window(
    weekly: pd.DataFrame, start=None, end=None, calendar: Calendar | None = None
) -> None:
    """Refuse a window that weekly counts cannot answer exactly.

    Weeks run Monday to Sunday. The window must start on a Monday and end on the Friday,
    Saturday or Sunday of a week the files cover (from the first period's Monday to the last
    period's Sunday) without splitting a period, so it is made of whole periods (the first
    file of a year is one period from the start of the academic year). A week with no stored
    row (a holiday: the weekly table keeps only periods with sessions) splits nothing. With a
    ``calendar`` a window may also start later in a week when no school day (a weekday in a
    half term of calendar.csv) comes before it that week, and end earlier in a week when none
    comes after it (a term starting on a Tuesday, or ending on the Thursday before Good
    Friday): those days hold no session, so the week's counts are the window's. The first
    day of an academic year is a valid start when no period holds it or its week's Monday
    begins one.

    Raises
    ------
    UsageError
        Naming the nearest valid dates.
    """
    if weekly.empty:
        raise UsageError("the weekly table is empty: no window can be summarised")
    ws, we, starts, ends = _boundaries(weekly)
    first, last = ws.min(), we.max()
    if start is not None:
        stamp = pd.Timestamp(start)
        day = np.datetime64(stamp.date(), "D")
        monday = day - np.timedelta64(stamp.day_of_week, "D")
        year_start = calendar is not None and any(
            calendar.year_bounds(y)[0] == stamp for y in calendar.years
        )
        splits = bool(((ws < monday) & (monday <= we)).any())
        whole = _no_school_day(calendar, monday, day - np.timedelta64(1, "D"))
        if year_start and (monday in starts or not bool(((ws < day) & (day <= we)).any())):
            pass
        elif not whole or splits or not first <= monday <= last:
            raise UsageError(
                f"the window starts on {stamp:%A %Y-%m-%d}; with weekly data it must "
                f"start on a Monday that begins a covered week: the nearest are "
                f"{_nearest(starts, day)}"
            )
    if end is not None:
        stamp = pd.Timestamp(end)
        day = np.datetime64(stamp.date(), "D")
        sunday = day + np.timedelta64(6 - stamp.day_of_week, "D")
        splits = bool(((ws <= sunday) & (sunday < we)).any())
        whole = stamp.day_of_week >= 4 or _no_school_day(
            calendar, day + np.timedelta64(1, "D"), sunday - np.timedelta64(2, "D")
        )
        if not whole or splits or not first <= sunday <= last:
            raise UsageError(
                f"the window ends on {stamp:%A %Y-%m-%d}; with weekly data it must end on the "
                f"Friday, Saturday or Sunday of a covered week: the nearest Fridays are "
                f"{_nearest(ends, day, shift=-2)}"
            )


def summarise_weekly(
    weekly: pd.DataFrame,
    start=None,
    end=None,
    by: Literal["enrolment", "pupil"] = "enrolment",
    *,
    calendar: Calendar | None = None,
) -> Summary:
    """:func:`summarise` over weekly counts (the ``weekly`` table of an imported DfE download).

    Sums the rows whose period lies inside the window, after :func:`check_weekly_window`.
    Weekly rows hold only periods with sessions, so ``zero_possible`` lists the keys whose
    rows in the window add up to no possible session (none, for a valid table).
    """
    check_weekly_window(weekly, start, end, calendar)
    keys = ["upn", "urn"] if by == "enrolment" else ["upn"]
    inside = np.ones(len(weekly), dtype=bool)
    if start is not None:
        monday = pd.Timestamp(start) - pd.Timedelta(days=pd.Timestamp(start).day_of_week)
        inside &= (weekly["week_start"] >= monday).to_numpy()
    if end is not None:
        sunday = pd.Timestamp(end) + pd.Timedelta(days=6 - pd.Timestamp(end).day_of_week)
        inside &= (weekly["week_end"] <= sunday).to_numpy()
    rows = weekly.loc[inside, ["upn", "urn", *COUNT_COLUMNS]].astype({"upn": str})
    frame = rows.groupby(keys, as_index=False, sort=True)[COUNT_COLUMNS].sum()
    frame = frame.astype({c: np.int64 for c in keys[1:] + COUNT_COLUMNS})
    zero = frame["sessions_possible"] == 0
    table = add_rates(frame[~zero].reset_index(drop=True))
    return Summary(table=table, zero_possible=frame.loc[zero, keys].reset_index(drop=True))


def _refuse_unknown_codes(count: int, marks, engine: str | None) -> None:
    """Raise ``ValueError`` naming the codes missing from the code table, when ``count`` > 0."""
    if count:
        codes = _marks_query(marks_sql.unknown_codes_sql(), marks, engine)["code"]
        raise ValueError(
            f"unknown register codes: {', '.join(sorted(map(str, codes)))} "
            f"({count} marks); validate the data first"
        )


def latest_school(marks, start=None, end=None, *, engine: str | None = None) -> pd.DataFrame:
    """Each pupil's school on the pupil's last possible mark in ``start``..``end``
    (:func:`marks_sql.latest_school_sql`), computed by the engine: ``marks`` as for
    :func:`summarise`, so a dataset's Parquet file is read without loading it into pandas.

    Returns columns upn (text) and urn (int32), sorted by upn.
    """
    frame = _marks_query(marks_sql.latest_school_sql(start, end), marks, engine)
    frame = frame.astype({"upn": str, "urn": np.int32})
    return frame.sort_values("upn", kind="stable").reset_index(drop=True)


def possible_days(marks, *, engine: str | None = None) -> np.ndarray:
    """The dates with at least one possible mark, as sorted int64 day numbers (days since
    1970-01-01). ``marks`` as for :func:`summarise`."""
    frame = _marks_query(marks_sql.possible_dates_sql(), marks, engine)
    return frame["date"].to_numpy().astype("datetime64[D]").astype(np.int64)


def possible_mark_cells(
    marks, pupils: pd.Index, days: np.ndarray, *, engine: str | None = None
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Every possible mark as numbers, a piece at a time (:func:`run_sql_batches`).

    Yields int64 arrays ``(pupil, day, grp)``, one element per mark: the position of the
    mark's UPN in ``pupils``, of its date in ``days`` (day numbers, as
    :func:`possible_days` gives them) and its group. Marks of a pupil or date not in them
    are left out, so take ``pupils`` from :func:`summarise` (``by="pupil"``), which also
    refuses unknown codes. The engine only joins and filters: the marks are counted by the
    caller (a pupil's day has several), which is linear in the marks where the engine's
    ``GROUP BY`` over tens of millions of (pupil, date) groups is not.
    """
    relations = {
        "marks": marks_relation(marks),
        "codes": marks_sql.codes_frame(),
        "pupil_numbers": pd.DataFrame(
            {"upn": pupils.astype(str), "pupil": np.arange(len(pupils), dtype=np.int32)}
        ),
        "day_numbers": pd.DataFrame(
            {
                "date": pd.to_datetime(np.asarray(days, dtype="datetime64[D]")),
                "day": np.arange(len(days), dtype=np.int32),
            }
        ),
    }
    for frame in run_sql_batches(
        marks_sql.possible_cells_sql(), relations, engine=engine or default_engine()
    ):
        yield tuple(frame[c].to_numpy(dtype=np.int64) for c in ("pupil", "day", "grp"))


def group_rates(table: pd.DataFrame, by: list[str] | str) -> pd.DataFrame:
    """Rates for groups of enrolments (or pupils) built from their summed sessions.

    ``table`` has the count columns and, when present, the persistent / severe flags.
    Returns one row per group: the summed counts, ``enrolments`` (rows summed), the four
    rates, and ``pa_pct`` / ``sa_pct`` (share of rows persistently / severely absent).
    """
    by = [by] if isinstance(by, str) else list(by)
    sums = table.groupby(by, observed=True, dropna=False)[COUNT_COLUMNS].sum()
    sums.insert(0, "enrolments", table.groupby(by, observed=True, dropna=False).size())
    if "persistent_absent" in table:
        flags = table.groupby(by, observed=True, dropna=False)[FLAG_COLUMNS].sum()
        sums["pa_enrolments"] = flags["persistent_absent"]
        sums["sa_enrolments"] = flags["severe_absent"]
        sums["pa_pct"] = 100 * sums["pa_enrolments"] / sums["enrolments"]
        sums["sa_pct"] = 100 * sums["sa_enrolments"] / sums["enrolments"]
    return add_rates(sums, flags=False).reset_index()


def overall_rates(table: pd.DataFrame) -> pd.Series:
    """:func:`group_rates` for the whole table, as one Series (zeros and NaN rates when empty)."""
    rates = group_rates(table.assign(_all=0), "_all").drop(columns="_all")
    if rates.empty:
        empty = pd.DataFrame({c: [0] for c in ["enrolments", *COUNT_COLUMNS]})
        if "persistent_absent" in table:
            empty = empty.assign(pa_enrolments=0, sa_enrolments=0, pa_pct=np.nan, sa_pct=np.nan)
        rates = add_rates(empty, flags=False)
    return rates.iloc[0]


def mark_date_range(marks, *, engine: str | None = None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first and last date with a mark (``marks`` as for :func:`summarise`).

    A Parquet file is answered from its statistics, without reading the marks. Weekly counts
    give the first Monday and the last Sunday they cover.
    """
    weekly = weekly_counts_of(marks)
    if weekly is not None:
        return pd.Timestamp(weekly["week_start"].min()), pd.Timestamp(weekly["week_end"].max())
    row = _marks_query(marks_sql.date_range_sql(), marks, engine).iloc[0]
    return pd.Timestamp(row["first"]), pd.Timestamp(row["last"])


# --------------------------------------------------------------------------------------
# The cube: sessions per enrolment, half term and code (what the termly reports aggregate)
# --------------------------------------------------------------------------------------


def code_counts_from_marks(marks, calendar: Calendar, *, engine: str | None = None) -> pd.DataFrame:
    """Sessions per (upn, urn, academic_year, half_term, code) from marks.

    ``marks`` as for :func:`summarise`. Rows come sorted by upn, urn, academic year, half term
    and code, with upn, academic_year and code as categoricals.
    """
    relations = {
        "marks": marks_relation(marks),
        "codes": marks_sql.codes_frame(),
        "days": marks_sql.days_frame(calendar.table),
    }
    pieces = [
        _cube_piece(frame)
        for frame in run_sql_batches(
            marks_sql.cube_sql(), relations, engine=engine or default_engine()
        )
    ]
    if len(pieces) == 1:
        return pieces[0]
    # Read a piece at a time (a large LA's cube is millions of rows: as one frame of UPN
    # strings it peaked near 3 GB); the categories united and sorted as one frame's would be.
    text = ("upn", "academic_year", "code")
    return pd.DataFrame(
        {
            col: union_categoricals([p[col] for p in pieces], sort_categories=True)
            if col in text
            else np.concatenate([p[col].to_numpy() for p in pieces])
            for col in pieces[0].columns
        }
    )


def _cube_piece(cube: pd.DataFrame) -> pd.DataFrame:
    """One piece of the cube query's result in the cube's types (text as categoricals)."""
    return pd.DataFrame(
        {
            "upn": pd.Categorical(cube["upn"].astype(str)),
            "urn": cube["urn"].astype(np.int64),
            "academic_year": pd.Categorical(cube["academic_year"].astype(str)),
            "half_term": cube["half_term"].astype(np.int8),
            "code": pd.Categorical(cube["code"].astype(str)),
            "sessions": cube["sessions"].astype(np.int32),
        }
    )


def code_counts(ds, *, engine: str | None = None) -> pd.DataFrame:
    """The cube for a :class:`~attendance_lib.contract.dataset.Dataset`, cached per data fingerprint.

    Columns: upn, urn, academic_year, half_term, code, sessions. The heavy pass over the marks
    happens once per extract; every report after that reads the cached Parquet file. A
    dataset with weekly counts instead of marks gives :func:`cube_from_weekly`: ``grp`` (the
    count group) in place of ``code``, so :func:`counts_from_cube` works on either, and a
    section that needs codes checks ``"code" in cube``.
    """
    weekly = weekly_counts_of(ds)
    if weekly is not None:
        return ds.cached("weekly_cube", lambda: cube_from_weekly(weekly, Calendar(ds.calendar)))
    return ds.cached(
        "code_counts",
        lambda: code_counts_from_marks(ds, Calendar(ds.calendar), engine=engine),
    )


def cube_from_weekly(weekly: pd.DataFrame, calendar: Calendar) -> pd.DataFrame:
    """Sessions per (upn, urn, academic_year, half_term, grp) from weekly counts.

    Each period goes to the half term its weekdays fall in (``calendar``). A period whose
    weekdays fall in two half terms (a first file of a year published after half term) or
    in none cannot be split without guessing and is refused.

    Raises
    ------
    UsageError
        Naming the period.
    """
    periods = weekly[["week_start", "week_end"]].drop_duplicates().reset_index(drop=True)
    years, halves = [], []
    for start, end in periods.itertuples(index=False):
        days = pd.bdate_range(start, end)
        found = calendar.half_term_of(days).dropna().drop_duplicates()
        if len(found) != 1:
            where = "no half term" if found.empty else "more than one half term"
            raise UsageError(
                f"the weekly period {start:%Y-%m-%d} to {end:%Y-%m-%d} falls in {where} of "
                "calendar.csv, so its sessions cannot be given a half term"
            )
        years.append(found["academic_year"].iloc[0])
        halves.append(int(found["half_term"].iloc[0]))
    periods = periods.assign(academic_year=years, half_term=halves)
    rows = weekly.merge(periods, on=["week_start", "week_end"])
    parts = []
    for group in _POSSIBLE_GROUPS:
        part = rows[["upn", "urn", "academic_year", "half_term", GROUP_COLUMNS[group]]]
        part = part.rename(columns={GROUP_COLUMNS[group]: "sessions"}).assign(grp=int(group))
        parts.append(part[part["sessions"] > 0])
    long = pd.concat(parts, ignore_index=True).astype({"upn": str})
    keys = ["upn", "urn", "academic_year", "half_term", "grp"]
    cube = long.groupby(keys, as_index=False, sort=True)["sessions"].sum()
    return pd.DataFrame(
        {
            "upn": pd.Categorical(cube["upn"]),
            "urn": cube["urn"].astype(np.int64),
            "academic_year": pd.Categorical(cube["academic_year"]),
            "half_term": cube["half_term"].astype(np.int8),
            "grp": cube["grp"].astype(np.int8),
            "sessions": cube["sessions"].astype(np.int32),
        }
    )


def counts_from_cube(cube: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Sum the cube's sessions into the five count columns by ``keys`` (no rates).

    The cube has ``code`` (from marks) or ``grp`` (from weekly counts, :func:`cube_from_weekly`).

    Combine with :func:`add_rates` for enrolment-level rates and flags, e.g.
    ``add_rates(counts_from_cube(cube[cube.academic_year == "2023/24"], ["upn", "urn"]))``.
    """
    if "grp" in cube:  # a cube from weekly counts: groups, no codes
        groups = cube["grp"].to_numpy()
    elif isinstance(cube["code"].dtype, pd.CategoricalDtype):  # looked up once per code
        groups = marks_groups(cube)
    else:
        group_of_code = {c: int(CODE_GROUP[c]) for c in cube["code"].astype(str).unique()}
        groups = cube["code"].astype(str).map(group_of_code).to_numpy()
    ids_frame = cube[keys]
    # Each row's key number, in order of first appearance (as MultiIndex.factorize numbers
    # them, without building a tuple per row)
    ids = key_numbers(ids_frame)
    n = int(ids.max()) + 1 if len(ids) else 0
    first = np.full(n, len(ids), dtype=np.int64)
    np.minimum.at(first, ids, np.arange(len(ids)))
    flat = np.bincount(
        ids.astype(np.int64) * _N_GROUPS + groups.astype(np.int64),
        weights=cube["sessions"].to_numpy(dtype="float64"),
        minlength=n * _N_GROUPS,
    )
    matrix = flat.reshape(n, _N_GROUPS).astype(np.int64)
    key_frame = _key_frame(ids_frame.iloc[first].reset_index(drop=True))
    return pd.concat([key_frame, _count_frame(matrix)], axis=1)


def _key_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """Distinct keys, one row each, with the values and types ``MultiIndex.factorize`` gives.

    That is: text categories as text, integers as int64. Those columns are converted one at
    a time (a large LA's enrolments by half term are nearly two million keys, and the
    factorize builds a tuple for each); a key of any other type, or missing, goes the
    factorize's own way.
    """
    out = {}
    for name in rows.columns:
        col = rows[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            categories, codes = col.cat.categories, col.cat.codes.to_numpy()
            if (categories.dtype == "str" or categories.dtype == np.int64) and (codes >= 0).all():
                out[name] = categories.take(codes)
                continue
        elif col.dtype.kind in "iu" and not isinstance(col.dtype, pd.api.extensions.ExtensionDtype):
            out[name] = col.to_numpy(dtype=np.int64)
            continue
        # it drops the level names (pandas 3), so name the columns explicitly
        uniques = pd.MultiIndex.from_frame(rows).factorize()[1]
        return uniques.to_frame(index=False, name=list(rows.columns))
    return pd.DataFrame(out, index=rows.index)


def census_counts(absence_terms: pd.DataFrame, calendar: Calendar, start, end) -> pd.DataFrame:
    """Enrolment session counts from census termly totals for terms wholly inside a window.

    For data with no session marks (``absence_terms.csv``): present = possible - authorised -
    unauthorised (census totals do not separate approved educational activity, so it is 0).
    A term counts when its first and last day (from calendar.csv) lie inside ``start``..``end``.
    """
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    inside = []
    for (year, term), _ in absence_terms.groupby(["academic_year", "term"]).groups.items():
        t0, t1 = calendar.term_bounds(year, term)
        if t0 >= start and t1 <= end:
            inside.append((year, term))
    keep = absence_terms.set_index(["academic_year", "term"]).index.isin(inside)
    rows = absence_terms[keep]
    sums = rows.groupby(["upn", "urn"], as_index=False)[
        ["sessions_possible", "sessions_authorised", "sessions_unauthorised"]
    ].sum()
    sums["sessions_present"] = (
        sums["sessions_possible"] - sums["sessions_authorised"] - sums["sessions_unauthorised"]
    )
    sums["sessions_aea"] = 0
    for col in COUNT_COLUMNS:
        sums[col] = sums[col].astype(np.int64)
    return sums[["upn", "urn", *COUNT_COLUMNS]]
