"""Builders for small, hand-checkable data folders and mark tables (shared by the tests).

Import them as ``from builders import make_upn, write_folder, ...`` (``tests/`` is on
``sys.path`` under pytest, as for ``runner_fixtures``).

- :func:`make_upn` gives the n-th valid UPN of LA 380 (Bradford), check letter included.
- :func:`school`, :func:`pupil`, :func:`mark` build one row (a dict) with sensible defaults.
- :func:`sessions` lays out a run of codes over consecutive weekdays, AM then PM.
- :func:`write_folder` writes a data folder in the data contract layout from lists of dicts
  (or DataFrames, or raw CSV text), filling in defaults for the required tables.
- :func:`marks_frame` types a list of marks as ``contract`` does, for calling the engine
  directly without a folder.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from stdnum.gb import upn as stdnum_upn

#: The LA number used in test UPNs (380 = Bradford, a real LA code stdnum accepts).
LA = 380
#: The academic year most fixtures use.
YEAR = "2023/24"
#: 2023/24 half terms (a real-looking English calendar). Both ends of each are school days.
CALENDAR_2023_24: list[dict] = [
    {"academic_year": YEAR, "half_term": ht, "start_date": s, "end_date": e}
    for ht, s, e in (
        (1, "2023-09-04", "2023-10-20"),
        (2, "2023-10-30", "2023-12-20"),
        (3, "2024-01-03", "2024-02-09"),
        (4, "2024-02-19", "2024-03-28"),
        (5, "2024-04-15", "2024-05-24"),
        (6, "2024-06-03", "2024-07-19"),
    )
]
#: Two default schools (URNs 100001 and 100002).
URN_A, URN_B = 100001, 100002

#: Marker for write_folder: leave this table out of the folder altogether.
OMIT = object()


def make_upn(n: int, la: int = LA) -> str:
    """The ``n``-th test UPN: a valid check letter + LA (3) + establishment (4) + year (2) + serial (3).

    Distinct ``n`` (0 <= n < 10**9) give distinct UPNs; all pass ``stdnum.gb.upn.is_valid``.

    >>> stdnum_upn.is_valid(make_upn(7))
    True
    """
    body = f"{la:03d}{n:09d}"
    return stdnum_upn.calc_check_digit(body) + body


def bad_check_letter(upn: str) -> str:
    """The same UPN with a wrong check letter (for validation tests)."""
    wrong = "A" if upn[0] != "A" else "B"
    return wrong + upn[1:]


def school(urn: int, *, phase: str = "primary", locality: str = "East", **extra) -> dict:
    """One schools.csv row."""
    return {
        "urn": urn,
        "school_name": f"School {urn}",
        "phase": phase,
        "locality": locality,
    } | extra


#: Two default schools: URN_A (primary, East) and URN_B (secondary, West).
DEFAULT_SCHOOLS: list[dict] = [school(URN_A), school(URN_B, phase="secondary", locality="West")]


def pupil(
    upn: str,
    urn: int = URN_A,
    *,
    academic_year: str = YEAR,
    year_group: str = "5",
    sex: str = "F",
    fsm: str = "false",
    sen: str = "N",
    **extra,
) -> dict:
    """One pupils.csv row (text values as a CSV would hold them)."""
    return {
        "upn": upn,
        "academic_year": academic_year,
        "urn": urn,
        "year_group": year_group,
        "sex": sex,
        "fsm": fsm,
        "sen": sen,
    } | extra


def mark(upn: str, urn: int, date: str, session: str, code: str) -> dict:
    """One marks row."""
    return {"upn": upn, "urn": urn, "date": date, "session": session, "code": code}


def school_days(start: str, n: int) -> list[pd.Timestamp]:
    """``n`` consecutive weekdays from ``start`` (which is included if a weekday)."""
    return list(pd.bdate_range(start, periods=n))


def sessions(upn: str, urn: int, codes: Sequence[str], start: str = "2023-09-04") -> list[dict]:
    """Marks for ``codes`` laid over consecutive weekdays from ``start``: AM, PM, AM, PM, ...

    Keep runs inside one half term (the first half term of 2023/24 has 35 weekdays, i.e.
    70 sessions) or the marks fall outside the calendar.
    """
    days = school_days(start, (len(codes) + 1) // 2)
    return [
        mark(upn, urn, days[i // 2].strftime("%Y-%m-%d"), "AM" if i % 2 == 0 else "PM", code)
        for i, code in enumerate(codes)
    ]


def sessions_over_calendar(
    upn: str, urn: int, codes: Sequence[str], calendar: Iterable[Mapping] = CALENDAR_2023_24
) -> list[dict]:
    """Marks for ``codes`` laid over the weekdays of the calendar's half terms, in order.

    Use for runs longer than one half term (2023/24 has 190 school weekdays).
    """
    days = np.concatenate(
        [pd.bdate_range(h["start_date"], h["end_date"]).to_numpy() for h in calendar]
    )
    need = (len(codes) + 1) // 2
    if need > len(days):
        raise ValueError(f"{len(codes)} sessions do not fit in {len(days)} school days")
    return [
        mark(
            upn,
            urn,
            pd.Timestamp(days[i // 2]).strftime("%Y-%m-%d"),
            "AM" if i % 2 == 0 else "PM",
            code,
        )
        for i, code in enumerate(codes)
    ]


def _frame(rows) -> pd.DataFrame:
    if isinstance(rows, pd.DataFrame):
        return rows
    return pd.DataFrame(list(rows))


def _pupils_from_marks(marks: pd.DataFrame) -> list[dict]:
    if marks.empty:
        return []
    first = marks.drop_duplicates("upn")
    return [pupil(u, int(r)) for u, r in zip(first["upn"], first["urn"], strict=True)]


def write_folder(
    tmp_path: Path,
    schools=None,
    pupils=None,
    calendar=None,
    marks=None,
    *,
    name: str = "data",
    marks_format: str = "csv",
    **optional,
) -> Path:
    """Write a data folder ``tmp_path / name`` in the data contract layout and return it.

    Each table is a list of dicts, a DataFrame, a ``str`` (raw CSV text, written as is, for
    malformed input) or :data:`OMIT` (the file is not written). Defaults when ``None``:
    ``schools`` = :data:`DEFAULT_SCHOOLS`; ``calendar`` = :data:`CALENDAR_2023_24`;
    ``marks`` = no rows; ``pupils`` = one default :func:`pupil` row per UPN in the marks
    (at the school of that UPN's first mark). Optional tables (``absence_terms``, ``ks2``,
    ``ks4``, ``services``, ``interventions``, ``benchmarks``) are passed as keywords.
    ``marks_format="parquet"`` writes ``marks.parquet`` (dates as dates, urn as int).
    """
    folder = Path(tmp_path) / name
    folder.mkdir(parents=True, exist_ok=True)
    if marks is None:
        marks = pd.DataFrame(columns=["upn", "urn", "date", "session", "code"])
    if pupils is None:
        usable = not isinstance(marks, str) and marks is not OMIT
        pupils = _pupils_from_marks(_frame(marks)) if usable else []
    tables = {
        "schools": DEFAULT_SCHOOLS if schools is None else schools,
        "pupils": pupils,
        "calendar": CALENDAR_2023_24 if calendar is None else calendar,
        "marks": marks,
        **optional,
    }
    for table, rows in tables.items():
        if rows is OMIT or rows is None:
            continue
        if isinstance(rows, str):
            (folder / f"{table}.csv").write_text(rows, encoding="utf-8")
            continue
        frame = _frame(rows)
        if table == "pupils" and frame.empty:
            frame = pd.DataFrame(columns=list(pupil("x")))
        if table == "marks" and marks_format == "parquet":
            frame = frame.assign(
                urn=frame["urn"].astype("int64"), date=pd.to_datetime(frame["date"]).dt.date
            )
            frame.to_parquet(folder / "marks.parquet", index=False)
        else:
            frame.to_csv(folder / f"{table}.csv", index=False)
    return folder


def marks_frame(rows) -> pd.DataFrame:
    """Marks typed as :func:`attendance_lib.contract.dataset.load_dataset` returns them.

    upn, session and code categorical, urn int32, date datetime64 — what
    :func:`attendance_lib.engine.sessions.summarise` expects.
    """
    frame = _frame(rows)
    if frame.empty:
        frame = pd.DataFrame(columns=["upn", "urn", "date", "session", "code"])
    return pd.DataFrame(
        {
            "upn": frame["upn"].astype(str).astype("category"),
            "urn": frame["urn"].astype(np.int32),
            "date": pd.to_datetime(frame["date"]),
            "session": frame["session"].astype("category"),
            "code": frame["code"].astype(str).astype("category"),
        }
    )
