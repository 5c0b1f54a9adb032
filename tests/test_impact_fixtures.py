"""Small hand-made fixtures shared by the impact and cohort tests (no tests here).

Two academic years of term dates (2023/24 and 2024/25), and helpers that build register
marks, pupils and schools frames typed as :func:`attendance_lib.contract.dataset.load_dataset` types them.
"""

from __future__ import annotations

import pandas as pd

from attendance_lib.core.academic_calendar import Calendar

HALF_TERMS = {
    "2023/24": [
        ("2023-09-04", "2023-10-20"),
        ("2023-10-30", "2023-12-19"),
        ("2024-01-03", "2024-02-09"),
        ("2024-02-19", "2024-03-28"),
        ("2024-04-15", "2024-05-24"),
        ("2024-06-03", "2024-07-19"),
    ],
    "2024/25": [
        ("2024-09-02", "2024-10-18"),
        ("2024-10-28", "2024-12-18"),
        ("2025-01-06", "2025-02-14"),
        ("2025-02-24", "2025-04-04"),
        ("2025-04-22", "2025-05-23"),
        ("2025-06-02", "2025-07-18"),
    ],
}


def calendar(years=("2023/24", "2024/25")) -> Calendar:
    rows = [
        (y, i + 1, pd.Timestamp(a), pd.Timestamp(b))
        for y in years
        for i, (a, b) in enumerate(HALF_TERMS[y])
    ]
    return Calendar(
        pd.DataFrame(rows, columns=["academic_year", "half_term", "start_date", "end_date"])
    )


def marks(rows) -> pd.DataFrame:
    """Marks from (upn, urn, date, code[, session]) tuples; session defaults to AM."""
    frame = pd.DataFrame(
        [(r[0], r[1], pd.Timestamp(r[2]), r[4] if len(r) > 4 else "AM", r[3]) for r in rows],
        columns=["upn", "urn", "date", "session", "code"],
    )
    return frame.astype(
        {"upn": "category", "urn": "int32", "session": "category", "code": "category"}
    )


def days(first: str, n: int, code: str, upn: str, urn: int = 1, session: str = "AM"):
    """``n`` consecutive calendar days of one code for one pupil (weekends too: tests only)."""
    start = pd.Timestamp(first)
    return [(upn, urn, start + pd.Timedelta(days=i), code, session) for i in range(n)]


def pupils(rows) -> pd.DataFrame:
    """pupils.csv rows from (upn, academic_year, urn, year_group, fsm, sen) tuples."""
    return pd.DataFrame(rows, columns=["upn", "academic_year", "urn", "year_group", "fsm", "sen"])


def schools(rows) -> pd.DataFrame:
    """schools.csv rows from (urn, school_name, phase, locality, officer) tuples."""
    frame = pd.DataFrame(rows, columns=["urn", "school_name", "phase", "locality", "officer"])
    return frame.astype({"urn": "int64"})
