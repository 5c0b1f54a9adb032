"""An English local-authority term calendar for the synthetic LA.

Six half terms a year on the usual pattern: a September start, October half term, Christmas,
February half term, Easter (the fortnight round Good Friday and Easter Monday), the May half
term (the week of the spring bank holiday) and a late-July end. Weekends and bank holidays
are not school days, so no register marks fall on them. Each school has five INSET days:
the first two days of the autumn term plus three drawn from the first days of later half
terms; pupils are marked ``#`` on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from dateutil.easter import easter

#: One-off bank holidays in England (the Queen's funeral, the Coronation).
SPECIAL_BANK_HOLIDAYS = (date(2022, 9, 19), date(2023, 5, 8))

#: INSET days per school (DfE: up to five non-teaching days a year).
INSET_DAYS = 5


def _next_weekday(d: date, weekday: int) -> date:
    """The first date on or after ``d`` falling on ``weekday`` (Monday = 0)."""
    return d + timedelta(days=(weekday - d.weekday()) % 7)


def _last_weekday(year: int, month: int, weekday: int) -> date:
    """The last ``weekday`` of a month."""
    nxt = date(year + month // 12, month % 12 + 1, 1)
    d = nxt - timedelta(days=1)
    return d - timedelta(days=(d.weekday() - weekday) % 7)


def bank_holidays(year: int) -> set[date]:
    """England and Wales bank holidays in a calendar year (with weekend substitutes)."""
    days: set[date] = set()
    ny = date(year, 1, 1)
    days.add(ny if ny.weekday() < 5 else _next_weekday(ny, 0))
    e = easter(year)
    days |= {e - timedelta(days=2), e + timedelta(days=1)}
    days.add(_next_weekday(date(year, 5, 1), 0))
    days.add(_last_weekday(year, 5, 0))
    days.add(_last_weekday(year, 8, 0))
    xmas, boxing = date(year, 12, 25), date(year, 12, 26)
    if xmas.weekday() == 5:  # Saturday
        days |= {date(year, 12, 27), date(year, 12, 28)}
    elif xmas.weekday() == 6:  # Sunday
        days |= {boxing, date(year, 12, 27)}
    elif boxing.weekday() == 5:  # Friday Christmas, Saturday Boxing Day
        days |= {xmas, date(year, 12, 28)}
    else:
        days |= {xmas, boxing}
    days |= {d for d in SPECIAL_BANK_HOLIDAYS if d.year == year}
    return days


def start_year(academic_year: str) -> int:
    """``"2023/24"`` -> 2023."""
    return int(academic_year[:4])


def half_terms(academic_year: str) -> list[tuple[date, date]]:
    """The six (first day, last day) pairs of one academic year."""
    y = start_year(academic_year)
    ht1_start = date(y, 9, 1)
    while ht1_start.weekday() >= 5:
        ht1_start += timedelta(days=1)
    oct_break = _next_weekday(date(y, 10, 22), 0)
    ht2_start = oct_break + timedelta(days=7)
    dec20 = date(y, 12, 20)
    ht2_end = dec20 - timedelta(days=(dec20.weekday() - 4) % 7)
    ht3_start = date(y + 1, 1, 3)
    while ht3_start.weekday() >= 5 or ht3_start in bank_holidays(y + 1):
        ht3_start += timedelta(days=1)
    if ht3_start.weekday() >= 3:  # a Thursday or Friday start waits for the Monday
        ht3_start = _next_weekday(ht3_start, 0)
    feb_break = _next_weekday(date(y + 1, 2, 12), 0)
    good_friday = easter(y + 1) - timedelta(days=2)
    easter_break = good_friday - timedelta(days=4)  # Monday of Holy Week
    may_break = _last_weekday(y + 1, 5, 0)
    jul22 = date(y + 1, 7, 22)
    ht6_end = jul22 - timedelta(days=(jul22.weekday() - 4) % 7)
    return [
        (ht1_start, oct_break - timedelta(days=3)),
        (ht2_start, ht2_end),
        (ht3_start, feb_break - timedelta(days=3)),
        (feb_break + timedelta(days=7), easter_break - timedelta(days=3)),
        (easter_break + timedelta(days=14), may_break - timedelta(days=3)),
        (may_break + timedelta(days=7), ht6_end),
    ]


def calendar_table(years: tuple[str, ...]) -> pd.DataFrame:
    """calendar.csv: academic_year, half_term (1-6), start_date, end_date."""
    rows = [
        {"academic_year": ay, "half_term": i + 1, "start_date": s, "end_date": e}
        for ay in years
        for i, (s, e) in enumerate(half_terms(ay))
    ]
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class SchoolDays:
    """Every school day of the generated years, in date order (global day index = row).

    Attributes
    ----------
    days : DataFrame
        ``date``, ``ay`` (year index), ``half_term`` (1-6), ``week`` (calendar weeks since
        the first Monday), ``dow`` (Monday = 0), ``to_break`` (school days left before the
        next holiday, 0 on the last day), ``from_break`` (school days since the last holiday,
        0 on the first day), ``month``.
    year_first : ndarray
        First global day index of each academic year; ``year_last`` likewise.
    """

    days: pd.DataFrame
    year_first: np.ndarray
    year_last: np.ndarray

    @property
    def n(self) -> int:
        return len(self.days)

    def index_of(self, d: date | pd.Timestamp) -> int:
        """Global index of the first school day on or after ``d`` (``n`` if none)."""
        return int(np.searchsorted(self.days["date"].to_numpy(), np.datetime64(pd.Timestamp(d))))


def school_days(years: tuple[str, ...]) -> SchoolDays:
    """List the school days (term weekdays that are not bank holidays) of ``years``."""
    frames = []
    for yi, ay in enumerate(years):
        y = start_year(ay)
        hols = bank_holidays(y) | bank_holidays(y + 1)
        for hi, (s, e) in enumerate(half_terms(ay)):
            dr = pd.date_range(s, e, freq="B")
            dr = dr[~dr.isin(pd.DatetimeIndex(sorted(hols)))]
            n = len(dr)
            frames.append(
                pd.DataFrame(
                    {
                        "date": dr,
                        "ay": yi,
                        "half_term": hi + 1,
                        "to_break": np.arange(n - 1, -1, -1),
                        "from_break": np.arange(n),
                    }
                )
            )
    days = pd.concat(frames, ignore_index=True)
    first_monday = days["date"].iloc[0] - pd.Timedelta(days=days["date"].iloc[0].weekday())
    days["week"] = ((days["date"] - first_monday).dt.days // 7).astype(np.int32)
    days["dow"] = days["date"].dt.day_of_week.astype(np.int8)
    days["month"] = days["date"].dt.month.astype(np.int8)
    ay = days["ay"].to_numpy()
    idx = np.arange(len(days))
    first = np.array([idx[ay == i].min() for i in range(len(years))])
    last = np.array([idx[ay == i].max() for i in range(len(years))])
    return SchoolDays(days=days, year_first=first, year_last=last)


def inset_days(rng: np.random.Generator, days: SchoolDays, n_schools: int) -> np.ndarray:
    """Boolean (school, day) matrix of INSET days: the first two days of each year plus
    three of the first days of half terms 2-6, drawn per school."""
    d = days.days
    inset = np.zeros((n_schools, days.n), dtype=bool)
    for yi in range(len(days.year_first)):
        in_year = d["ay"].to_numpy() == yi
        starts = np.flatnonzero(in_year & (d["from_break"].to_numpy() == 0))
        first_two = [days.year_first[yi], days.year_first[yi] + 1]
        later = starts[starts > days.year_first[yi]]  # first days of half terms 2-6
        inset[:, first_two] = True
        picks = np.argsort(rng.random((n_schools, len(later))), axis=1)[:, : INSET_DAYS - 2]
        inset[np.arange(n_schools)[:, None], later[picks]] = True
    return inset
