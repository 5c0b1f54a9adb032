"""Academic years, terms and half terms, from the data folder's ``calendar.csv``.

English schools' academic year runs from 1 September to 31 August; it is written ``2023/24``.
Terms: autumn = half terms 1-2, spring = 3-4, summer = 5-6. Every date window in the
workbench includes both of its end dates (data contract, "Derived measures").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from attendance_lib.core.errors import UsageError

TERM_HALF_TERMS: dict[str, tuple[int, int]] = {
    "autumn": (1, 2),
    "spring": (3, 4),
    "summer": (5, 6),
    "year": (1, 6),
}
_YEAR_RE = re.compile(r"^(\d{4})/(\d{2})$")


def parse_academic_year(text: str) -> int:
    """The calendar year an academic year starts in: ``"2023/24"`` -> 2023.

    Raises :class:`UsageError` for anything not of the form ``YYYY/YY`` with consecutive years.
    """
    m = _YEAR_RE.match(str(text).strip())
    if not m or (int(m.group(1)) + 1) % 100 != int(m.group(2)):
        raise UsageError(f"academic year must look like 2023/24, got {text!r}")
    return int(m.group(1))


def format_academic_year(start_year: int) -> str:
    """2023 -> ``"2023/24"``."""
    return f"{start_year}/{(start_year + 1) % 100:02d}"


def academic_year_of(date) -> str:
    """The academic year (1 September to 31 August) that ``date`` falls in."""
    ts = pd.Timestamp(date)
    return format_academic_year(ts.year if ts.month >= 9 else ts.year - 1)


def previous_year(academic_year: str) -> str:
    """``"2023/24"`` -> ``"2022/23"``."""
    return format_academic_year(parse_academic_year(academic_year) - 1)


def next_year(academic_year: str) -> str:
    """``"2023/24"`` -> ``"2024/25"``."""
    return format_academic_year(parse_academic_year(academic_year) + 1)


def age_on_31_august(date_of_birth: pd.Series, academic_year: str) -> pd.Series:
    """Age in whole years on 31 August before the academic year (the DfE age basis).

    For 2023/24 the reference date is 31 August 2023.
    """
    ref = pd.Timestamp(year=parse_academic_year(academic_year), month=8, day=31)
    dob = pd.to_datetime(date_of_birth)
    had_birthday = (dob.dt.month < ref.month) | (
        (dob.dt.month == ref.month) & (dob.dt.day <= ref.day)
    )
    return (ref.year - dob.dt.year - (~had_birthday).astype(int)).astype("Int64")


@dataclass(frozen=True)
class Calendar:
    """Term dates for the academic years in a data folder.

    Built from ``calendar.csv`` (columns academic_year, half_term, start_date, end_date).
    """

    table: pd.DataFrame

    def __post_init__(self) -> None:
        t = self.table.sort_values(["start_date"]).reset_index(drop=True)
        object.__setattr__(self, "table", t)

    @property
    def years(self) -> list[str]:
        """Academic years present, oldest first."""
        return list(dict.fromkeys(self.table["academic_year"]))

    def _rows(self, academic_year: str) -> pd.DataFrame:
        rows = self.table[self.table["academic_year"] == academic_year]
        if rows.empty:
            raise UsageError(
                f"academic year {academic_year} is not in calendar.csv "
                f"(it has {', '.join(self.years) or 'no years'})"
            )
        return rows

    def half_term_bounds(
        self, academic_year: str, half_term: int
    ) -> tuple[pd.Timestamp, pd.Timestamp]:
        """First and last day of one half term."""
        rows = self._rows(academic_year)
        row = rows[rows["half_term"] == half_term]
        if row.empty:
            raise UsageError(f"half term {half_term} of {academic_year} is not in calendar.csv")
        return row["start_date"].iloc[0], row["end_date"].iloc[0]

    def span(
        self, academic_year: str, first_ht: int, last_ht: int
    ) -> tuple[pd.Timestamp, pd.Timestamp]:
        """From the first day of half term ``first_ht`` to the last day of ``last_ht``."""
        rows = self._rows(academic_year)
        rows = rows[rows["half_term"].between(first_ht, last_ht)]
        if rows.empty:
            raise UsageError(
                f"half terms {first_ht}-{last_ht} of {academic_year} are not in calendar.csv"
            )
        return rows["start_date"].min(), rows["end_date"].max()

    def year_bounds(self, academic_year: str) -> tuple[pd.Timestamp, pd.Timestamp]:
        """First and last day of the academic year's half terms."""
        return self.span(academic_year, 1, 6)

    def term_bounds(self, academic_year: str, term: str) -> tuple[pd.Timestamp, pd.Timestamp]:
        """First and last day of ``autumn``, ``spring`` or ``summer`` (or ``year``)."""
        first, last = _term_half_terms(term)
        return self.span(academic_year, first, last)

    def to_end_of(self, academic_year: str, term: str) -> tuple[pd.Timestamp, pd.Timestamp]:
        """From the start of the academic year to the end of ``term`` (``year``: whole year)."""
        _, last = _term_half_terms(term)
        return self.span(academic_year, 1, last)

    def is_complete(self, academic_year: str, last_date_with_data) -> bool:
        """Whether data reaching ``last_date_with_data`` covers the whole academic year."""
        try:
            _, end = self.year_bounds(academic_year)
        except UsageError:
            return False
        return pd.Timestamp(last_date_with_data) >= end

    def half_term_of(self, dates) -> pd.DataFrame:
        """Academic year and half term of each date (NaN where a date is in no half term).

        Vectorised with a sorted search over the half terms' start dates.
        """
        d = pd.to_datetime(pd.Series(dates)).to_numpy(dtype="datetime64[ns]")
        if self.table.empty:
            none = pd.array([pd.NA] * len(d), dtype="Int64")
            return pd.DataFrame({"academic_year": [None] * len(d), "half_term": none})
        starts = self.table["start_date"].to_numpy(dtype="datetime64[ns]")
        ends = self.table["end_date"].to_numpy(dtype="datetime64[ns]")
        idx = np.searchsorted(starts, d, side="right") - 1
        row = np.clip(idx, 0, None)
        ok = (idx >= 0) & (d <= ends[row])
        years = np.where(ok, self.table["academic_year"].to_numpy()[row], None)
        half_terms = pd.array(self.table["half_term"].to_numpy()[row], dtype="Int64")
        half_terms[~ok] = pd.NA
        return pd.DataFrame({"academic_year": years, "half_term": half_terms})

    def in_calendar(self, dates: np.ndarray) -> np.ndarray:
        """Boolean array: each date lies inside some half term (none does in an empty calendar)."""
        if self.table.empty:
            return np.zeros(np.shape(dates), dtype=bool)
        starts = self.table["start_date"].to_numpy(dtype="datetime64[ns]")
        ends = self.table["end_date"].to_numpy(dtype="datetime64[ns]")
        d = np.asarray(dates, dtype="datetime64[ns]")
        idx = np.searchsorted(starts, d, side="right") - 1
        return (idx >= 0) & (d <= ends[np.clip(idx, 0, None)])


def _term_half_terms(term: str) -> tuple[int, int]:
    try:
        return TERM_HALF_TERMS[term]
    except KeyError:
        raise UsageError(
            f"term must be one of {', '.join(TERM_HALF_TERMS)}, got {term!r}"
        ) from None
