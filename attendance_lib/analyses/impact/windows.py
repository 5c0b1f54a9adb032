"""Date windows around an intervention and pupil-level session counts over many windows.

Definitions (data contract, "Derived measures"; DfE *Pupil absence in schools in England*):

- a window includes both of its end dates;
- pupil level: a pupil's sessions are summed over all their enrolments (every school that
  recorded a mark for them) before any rate is computed;
- attendance % = (present + approved educational activity) / possible x 100;
- persistent absence (pupil level): absence % >= 10.

The baseline window is the ``weeks`` x 7 days immediately before the start date
(``start - 7 * weeks`` .. ``start - 1``), or with ``baseline="year_to_date"`` from the first
day of the academic year containing the start date to ``start - 1``. The review window is the
``weeks`` x 7 days from the start date (``start`` .. ``start + 7 * weeks - 1``).

With weekly counts instead of marks (a folder imported from the DfE weekly download) the
windows are counted in whole weeks (:meth:`MarkIndex.from_weekly`): a week counts in a window
when its Friday lies inside it, so a window of ``weeks`` x 7 days is exactly ``weeks`` whole
weeks (the review window starts with the week of the start date, the baseline is the weeks
before it). A period longer than a week (a year's first download, published after the first
week) counts only in windows that hold all of it; it is never split.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from attendance_lib.core.academic_calendar import Calendar, academic_year_of, next_year
from attendance_lib.core.codes import GROUP_COLUMNS, Group
from attendance_lib.core.errors import UsageError
from attendance_lib.engine.sessions import (
    COUNT_COLUMNS,
    add_rates,
    daily_sessions,
    mark_date_range,
    weekly_counts_of,
)

#: Baseline choices: the same number of weeks before the start, or the academic year to date.
BASELINES = ("weeks_before", "year_to_date")
_ONE_DAY = pd.Timedelta(days=1)
_POSSIBLE = [Group.PRESENT, Group.AEA, Group.AUTHORISED, Group.UNAUTHORISED]


#: What a report says when its windows were counted from weekly counts (:meth:`MarkIndex.whole_weeks`).
WHOLE_WEEKS_NOTE = (
    "These figures come from the DfE weekly download, which holds sessions per whole week, "
    "so each window is counted in whole weeks: the review window starts with the week of the "
    "start date and the baseline is the weeks before it."
)


def intervention_windows(
    starts: pd.Series,
    calendar: Calendar,
    *,
    weeks: int = 12,
    baseline: Literal["weeks_before", "year_to_date"] = "weeks_before",
) -> pd.DataFrame:
    """Baseline and review windows for each start date (both ends included).

    Parameters
    ----------
    starts
        Start (assessment) dates.
    calendar
        Term dates; used for the first day of the academic year with ``year_to_date``.
    weeks
        Length of the review window, and of the baseline window with ``weeks_before``.
    baseline
        ``weeks_before``: ``start - 7 * weeks`` .. ``start - 1``; ``year_to_date``: first day
        of the academic year containing ``start`` .. ``start - 1``.

    Returns
    -------
    DataFrame
        Same index as ``starts``; columns baseline_start, baseline_end, review_start,
        review_end.
    """
    if baseline not in BASELINES:
        raise UsageError(f"baseline must be one of {', '.join(BASELINES)}, got {baseline!r}")
    if int(weeks) < 1:
        raise UsageError(f"weeks must be at least 1, got {weeks!r}")
    start = pd.to_datetime(starts)
    span = pd.Timedelta(days=7 * int(weeks))
    if baseline == "weeks_before":
        base_start = start - span
    else:
        years = start.map(academic_year_of)
        first_day = {y: calendar.year_bounds(y)[0] for y in years.unique()}
        base_start = pd.to_datetime(years.map(first_day))
    return pd.DataFrame(
        {
            "baseline_start": base_start,
            "baseline_end": start - _ONE_DAY,
            "review_start": start,
            "review_end": start + span - _ONE_DAY,
        },
        index=starts.index,
    )


@dataclass(frozen=True)
class MarkIndex:
    """Cumulative possible sessions per pupil, school day and group, for window counts.

    ``cum[p, d, g]`` is pupil ``p``'s sessions in group ``g`` (present, AEA, authorised,
    unauthorised; all the pupil's enrolments together) on the dates ``days[:d]``, where
    ``days`` are the dates on which any pupil has a possible mark. Built once from a
    per-day count that the SQL engine computes (the marks are never loaded into pandas);
    then any number of window counts are a lookup each. Memory: pupils x school days x 4
    small integers (142 MB for the demo LA: 31,000 pupils, 575 school days). ``last_date`` is the
    latest date with any mark, possible or not.
    """

    categories: pd.Index
    days: np.ndarray
    cum: np.ndarray
    last_date: pd.Timestamp
    #: Weekly counts only: the first day of the period ending on each of ``days`` (else None).
    period_first: np.ndarray | None = None

    @property
    def whole_weeks(self) -> bool:
        """True when built from weekly counts: windows are counted in whole weeks."""
        return self.period_first is not None

    @classmethod
    def build(cls, marks, *, engine: str | None = None) -> MarkIndex:
        """Index ``marks``: a DataFrame, a :class:`~attendance_lib.contract.dataset.Dataset` or a path.

        ``engine`` as for :func:`~attendance_lib.engine.sessions.summarise`. Raises ``ValueError``
        naming any code that is not in the code table.
        """
        weekly = weekly_counts_of(marks)
        if weekly is not None:
            return cls.from_weekly(weekly)
        daily = daily_sessions(marks, engine=engine)
        codes, categories = pd.factorize(daily["upn"])
        day = daily["date"].to_numpy().astype("datetime64[D]").astype(np.int64)
        sessions = daily["sessions"].to_numpy()
        if len(day):
            offset = day - day.min()
            used = np.bincount(offset) > 0
            days = np.flatnonzero(used) + day.min()
            position = np.cumsum(used)[offset]  # 1-based: cum[:, 0] is the zero before any day
        else:
            days, position = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        most = np.bincount(codes, weights=sessions).max() if len(codes) else 0
        dtype = np.int16 if most < np.iinfo(np.int16).max else np.int32
        cum = np.zeros((len(categories), len(days) + 1, len(_POSSIBLE)), dtype=dtype)
        cum[codes, position, daily["grp"].to_numpy()] = sessions  # one row per cell
        np.cumsum(cum, axis=1, dtype=dtype, out=cum)
        return cls(
            categories=pd.Index(categories, dtype=str),
            days=days,
            cum=cum,
            last_date=mark_date_range(marks, engine=engine)[1],
        )

    @classmethod
    def from_weekly(cls, weekly: pd.DataFrame) -> MarkIndex:
        """Index weekly counts (``upn, urn, week_start, week_end`` and the count columns).

        ``days`` are the periods' last weekdays (the Friday before each period's Sunday) and
        ``cum[p, k]`` the pupil's sessions in the periods ending on ``days[:k]``, summed over
        enrolments; :meth:`counts` then counts a period in a window when its Friday lies
        inside and it lies within the weeks the window touches (module docstring).
        ``last_date`` is the last Sunday covered. Raises :class:`UsageError` when no period is
        a single week (a lone download): no window but the whole span could be counted.
        """
        ends = weekly["week_end"].to_numpy(dtype="datetime64[D]").astype(np.int64) - 2
        starts = weekly["week_start"].to_numpy(dtype="datetime64[D]").astype(np.int64)
        if len(ends) and not (ends - starts == 4).any():
            raise UsageError(
                "the weekly data hold no single weeks (one download, or downloads more than a "
                "week apart), so no window of whole weeks can be counted: import the weekly "
                "downloads that cover the windows, one per Monday"
            )
        days, position = np.unique(ends, return_inverse=True)
        first = np.full(len(days), np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first, position, starts)
        codes, categories = pd.factorize(weekly["upn"].astype(str))
        matrix = weekly[[GROUP_COLUMNS[g] for g in _POSSIBLE]].to_numpy(dtype=np.int64)
        cum = np.zeros((len(categories), len(days) + 1, len(_POSSIBLE)), dtype=np.int32)
        np.add.at(cum, (codes, position + 1), matrix.astype(np.int32))
        np.cumsum(cum, axis=1, dtype=np.int32, out=cum)
        return cls(
            categories=pd.Index(categories, dtype=str),
            days=days,
            cum=cum,
            last_date=pd.Timestamp(weekly["week_end"].max()) if len(weekly) else pd.NaT,
            period_first=np.maximum.accumulate(first) if len(first) else first,
        )

    def codes(self, upns) -> np.ndarray:
        """Position of each UPN in the index (-1 for a pupil with no possible mark)."""
        return self.categories.get_indexer(pd.Index(upns).astype(str)).astype(np.int64)

    def counts(self, upns, starts, ends, *, codes: np.ndarray | None = None) -> np.ndarray:
        """Sessions per group (present, AEA, authorised, unauthorised) for each window.

        ``codes`` (from :meth:`codes`) may be given instead of looking the UPNs up again.
        """
        r_upn = self.codes(upns) if codes is None else codes
        r_start = _days(starts, len(r_upn))
        r_end = _days(ends, len(r_upn))
        lo = np.searchsorted(self.days, r_start, side="left")
        if self.period_first is not None:  # weekly: no period reaching before the window's week
            monday = r_start - (r_start + 3) % 7  # day 0 (1970-01-01) was a Thursday
            lo = np.maximum(lo, np.searchsorted(self.period_first, monday, side="left"))
        hi = np.searchsorted(self.days, r_end, side="right")
        hi = np.where((r_upn < 0) | (r_end < r_start), lo, np.maximum(hi, lo))
        if not len(self.categories):  # no possible mark at all
            return np.zeros((len(r_upn), len(_POSSIBLE)), dtype=np.int64)
        row = np.maximum(r_upn, 0)
        return self.cum[row, hi].astype(np.int64) - self.cum[row, lo]


def _days(dates, n: int) -> np.ndarray:
    """Dates (a scalar or an array) as int64 day numbers, broadcast to ``n``."""
    if np.ndim(dates) == 0:
        return np.full(n, np.datetime64(pd.Timestamp(dates), "D").astype(np.int64))
    return pd.to_datetime(dates).to_numpy().astype("datetime64[D]").astype(np.int64)


def window_counts(
    marks: pd.DataFrame | MarkIndex,
    requests: pd.DataFrame,
    *,
    start: str = "start",
    end: str = "end",
) -> pd.DataFrame:
    """Pupil-level session counts and rates for many (upn, start, end) windows at once.

    Each request row asks for one pupil's sessions over ``start``..``end`` (both included),
    summed over all the pupil's enrolments. The marks are counted once per pupil and day and
    cumulated (:class:`MarkIndex`; pass one to reuse it); every window is then a lookup, so a
    million windows cost less than one pass over the marks.

    Parameters
    ----------
    marks
        Register marks as :meth:`MarkIndex.build` takes them, or a :class:`MarkIndex`.
    requests
        Rows with ``upn`` and the ``start`` / ``end`` date columns; other columns are kept.

    Returns
    -------
    DataFrame
        ``requests`` with the five count columns, the rate columns and the pupil-level
        persistent / severe absence flags added (rates NaN where nothing was possible).
    """
    index = marks if isinstance(marks, MarkIndex) else MarkIndex.build(marks)
    sums = index.counts(requests["upn"], requests[start], requests[end])
    out = requests.copy()
    for g in _POSSIBLE:
        out[GROUP_COLUMNS[g]] = sums[:, int(g)]
    out["sessions_possible"] = sums.sum(axis=1)
    return add_rates(out[[*requests.columns, *COUNT_COLUMNS]])


def next_year_complete(
    starts: pd.Series, calendar: Calendar, last_date: pd.Timestamp
) -> pd.DataFrame:
    """The academic year after each start date, its bounds, and whether the data covers it.

    The following year is complete when ``calendar.csv`` has its half terms and the data's
    last mark reaches the last day of its last half term (:meth:`Calendar.is_complete`).

    Returns
    -------
    DataFrame
        Same index as ``starts``; columns next_year, next_year_start, next_year_end,
        next_year_complete.
    """
    years = pd.to_datetime(starts).map(academic_year_of).map(next_year)
    info = {}
    for y in years.unique():
        complete = calendar.is_complete(y, last_date)
        bounds = calendar.year_bounds(y) if y in calendar.years else (pd.NaT, pd.NaT)
        info[y] = (bounds[0], bounds[1], complete)
    return pd.DataFrame(
        {
            "next_year": years,
            "next_year_start": pd.to_datetime(years.map(lambda y: info[y][0])),
            "next_year_end": pd.to_datetime(years.map(lambda y: info[y][1])),
            "next_year_complete": years.map(lambda y: info[y][2]).astype(bool),
        },
        index=starts.index,
    )
