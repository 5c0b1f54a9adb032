"""What cohort identification reads for its window: register marks, or weekly counts.

A data folder holds register marks, or (imported from the DfE weekly pupil-level download by
``attendance-workbench import vyed``) a ``weekly`` table of sessions per enrolment per week.
Cohort identification needs two things from either:

- each pupil's sessions over the window, which
  :func:`attendance_lib.engine.sessions.summarise` gives from either source (from weekly counts
  only for windows of whole covered weeks: Monday to the Friday, Saturday or Sunday of a
  covered week, or from the first day of the academic year; any other window is refused
  naming the nearest valid dates);
- each pupil's current school: from marks, the school of the pupil's latest mark with a
  possible session in the window; from weekly counts, the school of the latest week in the
  window with a possible session (whole weeks: a pupil who moved school within that week is
  placed at the school with more possible sessions that week, then the higher URN).

Persistent absence is the DfE's pupil-level measure over the window either way (absence % >=
10 of possible sessions), so "persistently absent to date" from a weekly download is the year
to date from the start of the academic year to the Sunday before the latest file.
"""

from __future__ import annotations

import pandas as pd

from attendance_lib.core.codes import Group
from attendance_lib.engine.sessions import (
    latest_school,
    mark_date_range,
    marks_groups,
    weekly_counts_of,
)


def window_source(dataset, start, end):
    """What :func:`~attendance_lib.analyses.cohort.identification.identify_cohort` takes as
    ``marks`` for the window ``start``..``end``: the dataset itself when its marks are a
    Parquet file read as stored (the engine then reads the window from the file: a large LA's
    year of marks is never loaded into pandas) or when it holds weekly counts instead of marks
    (its calendar then lets a window begin on the first day of the academic year); otherwise
    the window's marks (read with filters)."""
    if weekly_counts_of(dataset) is not None:
        return dataset
    if getattr(dataset, "marks_as_stored", False):
        return dataset  # the engine reads the window straight from the Parquet file
    return dataset.marks_for(start=start, end=end)


def current_school(source, start, end) -> pd.DataFrame:
    """Each pupil's school of record in the window: columns upn (text) and urn.

    ``source`` is a marks DataFrame, a dataset or marks file (read by the engine,
    :func:`~attendance_lib.engine.sessions.latest_school`: the same rule), or anything holding
    weekly counts (a dataset with a ``weekly`` table, or the table itself). See the module
    docstring for the rule.
    """
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    weekly = weekly_counts_of(source)
    if weekly is None and not isinstance(source, pd.DataFrame):
        return latest_school(source, start, end)  # a dataset or a file: the engine reads it
    if weekly is None:
        marks = source[(source["date"] >= start) & (source["date"] <= end)]
        possible = marks_groups(marks) != Group.NOT_POSSIBLE
        m = marks.loc[possible, ["upn", "urn", "date"]]
        m = m.assign(upn=m["upn"].astype(str)).sort_values(["upn", "date", "urn"], kind="stable")
        return m.drop_duplicates("upn", keep="last")[["upn", "urn"]]
    monday = start - pd.Timedelta(days=start.day_of_week)
    sunday = end + pd.Timedelta(days=6 - end.day_of_week)
    inside = (
        (weekly["week_start"] >= monday)
        & (weekly["week_end"] <= sunday)
        & (weekly["sessions_possible"] > 0)
    )
    rows = weekly.loc[inside, ["upn", "urn", "week_end", "sessions_possible"]]
    rows = rows.assign(upn=rows["upn"].astype(str)).sort_values(
        ["upn", "week_end", "sessions_possible", "urn"], kind="stable"
    )
    return rows.drop_duplicates("upn", keep="last")[["upn", "urn"]].reset_index(drop=True)


def source_notes(dataset, window: tuple[pd.Timestamp, pd.Timestamp]) -> str:
    """What the data folder could not tell the cohort, in words ("" when nothing is missing).

    Says when the figures come from weekly counts (whole weeks, no register codes) and when
    ``services.csv`` is absent, so that no pupil could be left out for another professional's
    involvement and the list may include pupils already supported by another service.
    """
    notes = []
    if weekly_counts_of(dataset) is not None:
        start, end = window
        notes.append(
            "The figures come from the DfE weekly pupil-level download: sessions in whole weeks "
            f"from {start.day} {start:%B %Y} to {end.day} {end:%B %Y}, with no register codes; "
            "each pupil's current school is the school of their latest week with a possible "
            "session."
        )
    if getattr(dataset, "services", None) is None:
        notes.append(
            "The data folder has no services.csv, so no pupil is left out for an open "
            "involvement with another professional: the worklist may include pupils another "
            "service already supports. Add services.csv (data contract) to apply that rule."
        )
    return " ".join(notes)


def as_of_day(dataset, as_of: str = "") -> pd.Timestamp:
    """The worklist's date: ``as_of``, or (empty) the last date the data covers.

    With weekly counts a Friday or Saturday moves to the Sunday of its week: the download
    holds whole weeks to the Friday, so the figures are the same, and a look-back of whole
    weeks then starts on a Monday.
    """
    day = pd.Timestamp(as_of) if as_of else mark_date_range(dataset)[1]
    if weekly_counts_of(dataset) is not None and day.day_of_week in (4, 5):
        day = day + pd.Timedelta(days=6 - day.day_of_week)
    return day
