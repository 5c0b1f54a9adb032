"""Windows around an intervention, measured in school days, and pupil-level session counts.

Definitions (``docs/methodology.md``, "12-week impact evaluation"; DfE *Pupil absence in
schools in England*):

- a **school day** is a weekday inside a half term of ``calendar.csv``
  (:func:`~attendance_lib.analyses.shared.pupil_sessions.school_days`); windows count school
  days only, so they pass over half-term holidays, Christmas, Easter and the summer;
- the **review window** is the ``5 x weeks`` school days (60 for 12 weeks) from the start date,
  the start included (a start in a holiday begins on the next school day);
- the **baseline** is the ``5 x weeks`` school days before the start date; a baseline with fewer
  school days in the data (the start is early in the data) uses what there is and is flagged
  ``baseline_short``; with ``baseline="year_to_date"`` it runs from the first day of the
  academic year to the day before the start;
- the **earlier window** is the ``5 x weeks`` school days before the baseline and the
  **history** up to 380 school days (two school years) before that, as much as the data holds:
  the pre-intervention history the comparison group is matched on;
- a window **crosses the summer** when its school days lie in two academic years (for Year 6
  into Year 7, possibly two schools);
- a review window is **pending** while the data does not reach its last school day;
- with ``unit="calendar_weeks"`` the windows are ``7 x weeks`` calendar days instead (the old
  definition, kept as a parameter).

Sessions are counted by :class:`~attendance_lib.analyses.shared.pupil_sessions.PupilSessions`
(pupil level, Year 11 study leave left out).

With weekly counts instead of marks (a folder imported from the DfE weekly download) the
windows are counted in whole weeks (:meth:`MarkIndex.from_weekly`): a week counts in a window
when its Friday lies inside it and it starts no earlier than the Monday of the window's first
week. A period longer than a week (a year's first download, published after the first week)
counts only in windows that hold all of it; it is never split.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from attendance_lib.analyses.shared.pupil_sessions import (
    MarkIndex,
    PupilSessions,
    counts_frame,
    school_days,
)
from attendance_lib.core.academic_calendar import Calendar, academic_year_of, next_year
from attendance_lib.core.errors import UsageError

__all__ = [
    "BASELINES",
    "HISTORY_SCHOOL_DAYS",
    "UNITS",
    "WHOLE_WEEKS_NOTE",
    "MarkIndex",
    "PupilSessions",
    "intervention_windows",
    "next_year_complete",
    "window_counts",
]

#: Baseline choices: the same length before the start, or the academic year to date.
BASELINES = ("weeks_before", "year_to_date")
#: Window units: school days (5 a week, the default) or calendar weeks (7 days a week).
UNITS = ("school_days", "calendar_weeks")
#: Length of the longer history before the earlier window, in school days (two school years;
#: what the data holds of it is used).
HISTORY_SCHOOL_DAYS = 380
_ONE_DAY = pd.Timedelta(days=1)
WINDOWS = ("history", "earlier", "baseline", "review")


#: What a report says when its windows were counted from weekly counts (``MarkIndex.whole_weeks``).
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
    unit: Literal["school_days", "calendar_weeks"] = "school_days",
    first_date=None,
) -> pd.DataFrame:
    """History, earlier, baseline and review windows for each start date (both ends included).

    Parameters
    ----------
    starts
        Start (assessment) dates.
    calendar
        Term dates: the school days, and the first day of the academic year (``year_to_date``).
    weeks
        Window length: ``5 x weeks`` school days, or ``7 x weeks`` calendar days.
    baseline
        ``weeks_before`` (the same length before the start) or ``year_to_date``.
    unit
        ``school_days`` (default) or ``calendar_weeks``.
    first_date
        The first date the data covers (default: the calendar's first day); a baseline
        reaching before it is ``baseline_short``.

    Returns
    -------
    DataFrame
        Same index as ``starts``: ``history_start``/``_end``, ``earlier_start``/``_end``,
        ``baseline_start``/``_end``, ``review_start``/``_end`` (``review_end`` NaT when the
        calendar has too few school days after the start), ``baseline_days`` (school days in
        the baseline inside the data), ``baseline_short``, ``crosses_summer``.
    """
    if baseline not in BASELINES:
        raise UsageError(f"baseline must be one of {', '.join(BASELINES)}, got {baseline!r}")
    if unit not in UNITS:
        raise UsageError(f"window unit must be one of {', '.join(UNITS)}, got {unit!r}")
    if int(weeks) < 1:
        raise UsageError(f"weeks must be at least 1, got {weeks!r}")
    start = pd.to_datetime(starts)
    days = school_days(calendar)
    if first_date is None:
        first_date = days[0] if len(days) else np.datetime64("1900-01-01")
    first = np.datetime64(pd.Timestamp(first_date), "D")
    days_in_data = days[days >= first]
    s = start.to_numpy().astype("datetime64[D]")
    if unit == "school_days":
        n = 5 * int(weeks)
        i = np.searchsorted(days, s, side="left")

        def at(k: np.ndarray) -> pd.Series:
            ok = (k >= 0) & (k < len(days))
            out = np.where(ok, days[np.clip(k, 0, max(len(days) - 1, 0))], np.datetime64("NaT"))
            return pd.Series(pd.to_datetime(out), index=starts.index)

        review_end = at(i + n - 1)
        base_start = at(np.maximum(i - n, 0))
        base_end = start - _ONE_DAY
        earlier_start, earlier_end = at(np.maximum(i - 2 * n, 0)), base_start - _ONE_DAY
        history_start = at(np.maximum(i - 2 * n - HISTORY_SCHOOL_DAYS, 0))
        history_end = earlier_start - _ONE_DAY
        none_earlier = i - n <= 0
        earlier_start[none_earlier] = pd.NaT
        earlier_end[none_earlier] = pd.NaT
        none_history = i - 2 * n <= 0
        history_start[none_history] = pd.NaT
        history_end[none_history] = pd.NaT
    else:
        span = pd.Timedelta(days=7 * int(weeks))
        review_end = start + span - _ONE_DAY
        base_start, base_end = start - span, start - _ONE_DAY
        earlier_start, earlier_end = start - 2 * span, base_start - _ONE_DAY
        history_start, history_end = (
            earlier_start - pd.Timedelta(days=365),
            earlier_start - _ONE_DAY,
        )
    if baseline == "year_to_date":
        years = start.map(academic_year_of)
        first_day = {y: calendar.year_bounds(y)[0] for y in years.unique()}
        base_start = pd.to_datetime(years.map(first_day))
        earlier_start, earlier_end = (
            earlier_start.where(earlier_end < base_start),
            earlier_end.where(earlier_end < base_start),
        )
    b0 = base_start.to_numpy().astype("datetime64[D]")
    b1 = base_end.to_numpy().astype("datetime64[D]")
    in_base = np.searchsorted(days_in_data, b1, side="right") - np.searchsorted(
        days_in_data, np.maximum(b0, first), side="left"
    )
    wanted = np.searchsorted(days, b1, side="right") - np.searchsorted(days, b0, side="left")
    if unit == "school_days" and baseline == "weeks_before":
        wanted = np.full(len(s), 5 * int(weeks))
    review_year = review_end.map(lambda d: academic_year_of(d) if pd.notna(d) else None)
    crosses = review_year.notna() & (review_year != start.map(academic_year_of))
    return pd.DataFrame(
        {
            "history_start": history_start,
            "history_end": history_end,
            "earlier_start": earlier_start,
            "earlier_end": earlier_end,
            "baseline_start": base_start,
            "baseline_end": base_end,
            "review_start": start,
            "review_end": review_end,
            "baseline_days": np.maximum(in_base, 0),
            "baseline_short": np.maximum(in_base, 0) < wanted,
            "crosses_summer": crosses.to_numpy(dtype=bool),
        },
        index=starts.index,
    )


def window_counts(
    marks: pd.DataFrame | MarkIndex | PupilSessions,
    requests: pd.DataFrame,
    *,
    start: str = "start",
    end: str = "end",
    pupils: pd.DataFrame | None = None,
    calendar: Calendar | None = None,
) -> pd.DataFrame:
    """Pupil-level session counts and rates for many (upn, start, end) windows at once.

    Each request row asks for one pupil's sessions over ``start``..``end`` (both included),
    summed over all the pupil's enrolments. Given a
    :class:`~attendance_lib.analyses.shared.pupil_sessions.PupilSessions` (or ``pupils`` and
    ``calendar`` to build one) Year 11 study leave is left out; given marks or a bare
    :class:`MarkIndex` without them, every possible session counts.

    Returns
    -------
    DataFrame
        ``requests`` with the five count columns, the rate columns and the pupil-level
        persistent / severe absence flags added (rates NaN where nothing was possible).
    """
    if isinstance(marks, PupilSessions):
        return marks.window_counts(requests, start=start, end=end)
    index = marks if isinstance(marks, MarkIndex) else MarkIndex.build(marks)
    if pupils is not None and calendar is not None:
        return PupilSessions.build(index, pupils, calendar).window_counts(
            requests, start=start, end=end
        )
    sums = index.counts(requests["upn"], requests[start], requests[end])
    return counts_frame(requests, sums)


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
