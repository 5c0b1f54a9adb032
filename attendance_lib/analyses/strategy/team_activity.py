"""The attendance team's own activity, from interventions.csv.

Bradford's Persistent Absence Team model: each officer assesses at least 40 children each
half term and reviews each child 12 weeks after the assessment. Here:

- an intervention is *started* in the half term containing its ``start_date`` (the
  assessment date; calendar.csv half terms; dates in holidays count in no half term and are
  counted separately);
- a *cohort* is the interventions an officer started in one half term; it is *open* at a
  date while its reviews are not yet due (``review_date``, default start + 12 weeks, after
  that date).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from attendance_lib.core.academic_calendar import Calendar

#: Interventions each officer is expected to start per half term (Bradford).
EXPECTED_PER_HALF_TERM = 40
#: Default review interval when review_date is not given.
REVIEW_AFTER = pd.Timedelta(weeks=12)


def _review_dates(interventions: pd.DataFrame) -> pd.Series:
    default = interventions["start_date"] + REVIEW_AFTER
    if "review_date" not in interventions:
        return default
    return interventions["review_date"].fillna(default)


def started_by_half_term(
    interventions: pd.DataFrame,
    calendar: Calendar,
    academic_year: str,
    last_ht: int,
    officers: list[str] | None = None,
    expected: int = EXPECTED_PER_HALF_TERM,
) -> pd.DataFrame:
    """Interventions started per officer per half term of the year, against ``expected``.

    Every officer (those in ``officers`` and those with interventions) gets a row for every
    half term 1..``last_ht``, with 0 where they started none.

    Returns officer, half_term, started, expected, met (started >= expected).
    """
    where = calendar.half_term_of(interventions["start_date"])
    rows = interventions.assign(
        academic_year=where["academic_year"].to_numpy(), half_term=where["half_term"].to_numpy()
    )
    in_year = (rows["academic_year"] == academic_year) & (rows["half_term"] <= last_ht)
    rows = rows[in_year.fillna(False).to_numpy(dtype=bool)]
    names = sorted(set(officers or []) | set(rows["officer"].dropna().astype(str)))
    grid = pd.MultiIndex.from_product(
        [names, range(1, last_ht + 1)], names=["officer", "half_term"]
    )
    counts = rows.groupby(["officer", rows["half_term"].astype(int)]).size()
    out = counts.reindex(grid, fill_value=0).rename("started").reset_index()
    out["started"] = out["started"].astype("int64")
    out["expected"] = expected
    out["met"] = out["started"] >= expected
    return out


def open_cohorts(
    interventions: pd.DataFrame, calendar: Calendar, academic_year: str, at
) -> pd.DataFrame:
    """Cohorts (officer x half term started) with reviews not yet due at the date ``at``.

    Considers interventions started in ``academic_year`` on or before ``at``.

    Returns officer, half_term, started, open (review date after ``at``), reviews_due
    (review date on or before ``at``), next_review (earliest open review date).
    """
    at = pd.Timestamp(at)
    where = calendar.half_term_of(interventions["start_date"])
    rows = interventions.assign(
        half_term=where["half_term"].to_numpy(),
        academic_year=where["academic_year"].to_numpy(),
        review=_review_dates(interventions).to_numpy(),
    )
    in_year = (rows["academic_year"] == academic_year) & rows["half_term"].notna()
    rows = rows[in_year.to_numpy(dtype=bool) & (rows["start_date"] <= at).to_numpy()]
    rows = rows.assign(is_open=rows["review"] > at, half_term=rows["half_term"].astype(int))
    grouped = rows.groupby(["officer", "half_term"])
    out = pd.DataFrame(
        {
            "started": grouped.size(),
            "open": grouped["is_open"].sum().astype("int64"),
            "next_review": rows[rows["is_open"]].groupby(["officer", "half_term"])["review"].min(),
        }
    ).reset_index()
    out["reviews_due"] = out["started"] - out["open"]
    out = out[out["open"] > 0]
    cols = ["officer", "half_term", "started", "open", "reviews_due", "next_review"]
    return out[cols].sort_values(["officer", "half_term"]).reset_index(drop=True)


def outside_half_terms(interventions: pd.DataFrame, calendar: Calendar, start, end) -> int:
    """Interventions starting between ``start`` and ``end`` on a date in no half term."""
    dates = interventions["start_date"]
    inside = (dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(end))
    in_term = calendar.in_calendar(dates.to_numpy())
    return int((inside.to_numpy() & ~np.asarray(in_term)).sum())
