"""Cohort identification: which persistently absent pupils the attendance team should assess next.

Definitions (see ``docs/methodology.md``, "Cohort identification"; Bradford Persistent
Absence Team model):

- window: the ``lookback_weeks`` x 7 days ending on ``as_of`` (both included), or with
  ``lookback_weeks = 0`` the academic year to date (first day of the academic year containing
  ``as_of`` to ``as_of``);
- persistently absent: pupil level (sessions summed over the pupil's enrolments), absence %
  >= 10 over the window; severely absent: >= 50 (DfE thresholds); the sessions that count are
  decided by :mod:`attendance_lib.analyses.shared.pupil_sessions` (Year 11's sixth half term,
  study leave, never counts);
- in scope: pupils with a ``pupils.csv`` record in the year of ``as_of``, of compulsory school
  age (the DfE cohort: aged 5 to 15 on 31 August, by date of birth where given, otherwise
  National Curriculum years 1 to 11; :func:`attendance_lib.analyses.shared.dfe_cohort.cohort_status`),
  and, when ``year_groups`` is given, in one of those year groups that year;
- left out (counted): an involvement in ``services.csv`` open on ``as_of`` (started on or
  before it, no end date or ending on or after it), or an attendance-team intervention open on
  ``as_of`` (started on or before it and its review date, default start + 12 weeks, not
  passed, or status ``open``);
- need order: severely absent first, then absence % (highest first), then the unauthorised
  share of absence (highest first), then UPN (so the order is reproducible);
- current school: the school of the pupil's latest mark with a possible session in the
  window (with weekly counts, of the latest week: :mod:`.sources`); the officer is that
  school's named officer (``schools.csv``), otherwise the officer who most often worked in
  the school's locality (``interventions.csv``);
- allocation: each officer's pupils, in need order, up to ``capacity_per_officer``; the rest
  are listed as waiting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from attendance_lib.analyses.cohort.sources import current_school
from attendance_lib.analyses.shared.dfe_cohort import cohort_status
from attendance_lib.analyses.shared.pupil_sessions import pupil_summary
from attendance_lib.core.academic_calendar import Calendar, academic_year_of
from attendance_lib.core.columns import text_in
from attendance_lib.core.numbers import format_pct

DEFAULT_CAPACITY = 40
UNALLOCATED = "unallocated"
OPEN_SERVICE = "open involvement in services.csv"
OPEN_INTERVENTION = "open attendance-team intervention"
WORKLIST_COLUMNS = [
    "priority",
    "status",
    "officer",
    "officer_rank",
    "upn",
    "year_group",
    "urn",
    "school_name",
    "locality",
    "fsm",
    "sen",
    "sessions_possible",
    "absence_pct",
    "unauthorised_pct",
    "unauthorised_share_pct",
    "severe_absent",
    "reasons",
]


@dataclass(frozen=True)
class Cohort:
    """The result of :func:`identify_cohort`.

    ``worklist``: eligible pupils in need order with officer and status (identifiers:
    restricted). ``pa_pupils``: every persistently absent pupil in scope with ``left_out``
    (empty, or why they are not on the worklist). ``window``: (first, last) day.
    ``counts``: pupils in scope with marks, with no possible session, out of scope.
    """

    worklist: pd.DataFrame
    pa_pupils: pd.DataFrame
    window: tuple[pd.Timestamp, pd.Timestamp]
    counts: dict


def lookback_window(
    as_of, calendar: Calendar, lookback_weeks: int = 0
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``lookback_weeks`` x 7 days ending on ``as_of``, or (0) the academic year to date."""
    end = pd.Timestamp(as_of)
    if int(lookback_weeks) < 0:
        raise ValueError(f"lookback_weeks must be 0 or more, got {lookback_weeks}")
    if int(lookback_weeks) == 0:
        return calendar.year_bounds(academic_year_of(end))[0], end
    return end - pd.Timedelta(days=7 * int(lookback_weeks) - 1), end


def open_on(starts: pd.Series, ends: pd.Series, as_of) -> pd.Series:
    """True where an episode started on or before ``as_of`` and had not ended before it."""
    day = pd.Timestamp(as_of)
    return (pd.to_datetime(starts) <= day) & (
        pd.to_datetime(ends).isna() | (pd.to_datetime(ends) >= day)
    )


def locality_officers(
    interventions: pd.DataFrame | None, pupils: pd.DataFrame, schools: pd.DataFrame
) -> pd.Series:
    """Locality -> the officer who most often started interventions with its pupils."""
    if interventions is None or interventions.empty:
        return pd.Series(dtype=object)
    iv = interventions.assign(
        upn=interventions["upn"].astype(str),
        academic_year=pd.to_datetime(interventions["start_date"]).map(academic_year_of),
    )
    iv = iv.merge(pupils[["upn", "academic_year", "urn"]], on=["upn", "academic_year"], how="left")
    iv = iv.merge(schools[["urn", "locality"]], on="urn", how="left").dropna(subset=["locality"])
    counts = iv.groupby(["locality", "officer"]).size().rename("n").reset_index()
    counts = counts.sort_values(["locality", "n", "officer"], ascending=[True, False, True])
    return counts.drop_duplicates("locality").set_index("locality")["officer"]


def _reasons(frame: pd.DataFrame) -> pd.Series:
    kind = np.where(frame["severe_absent"], "severely absent", "persistently absent")
    missed = frame["absence_pct"].map(lambda v: format_pct(v, unit=""))
    share = frame["unauthorised_share_pct"].map(lambda v: f"{v:.0f}")
    return (
        pd.Series(kind, index=frame.index)
        + ": "
        + missed
        + "% of sessions missed; "
        + share
        + ("% of absence unauthorised")
    )


def identify_cohort(
    marks: pd.DataFrame,
    pupils: pd.DataFrame,
    schools: pd.DataFrame,
    calendar: Calendar,
    *,
    as_of,
    lookback_weeks: int = 0,
    services: pd.DataFrame | None = None,
    interventions: pd.DataFrame | None = None,
    year_groups: list | None = None,
    capacity_per_officer: int = DEFAULT_CAPACITY,
) -> Cohort:
    """Persistently absent pupils with no open involvement, in need order, allocated to officers.

    See the module docstring for every rule. ``marks`` must cover the window: register marks,
    or weekly counts (a dataset with a ``weekly`` table, :func:`.sources.window_source`).
    """
    start, end = lookback_window(as_of, calendar, lookback_weeks)
    year = academic_year_of(end)
    summary = pupil_summary(marks, start, end, pupils, calendar, by="pupil")
    table = summary.table.assign(upn=summary.table["upn"].astype(str))
    this_year = pupils[pupils["academic_year"] == year]
    roll = this_year[["upn", "year_group", "fsm", "sen"]].assign(upn=this_year["upn"].astype(str))
    school_age = roll[cohort_status(this_year)["in_cohort"].to_numpy(dtype=bool)]
    in_scope = school_age
    if year_groups:
        wanted = [str(y) for y in year_groups]
        in_scope = school_age[school_age["year_group"].astype(str).isin(wanted)]
    on_roll = text_in(table["upn"], roll["upn"])
    of_school_age = text_in(table["upn"], school_age["upn"])
    wanted_pupil = text_in(table["upn"], in_scope["upn"])
    counts = {
        "pupils_with_possible_sessions": int(wanted_pupil.sum()),
        "no_possible_session": int(text_in(summary.zero_possible["upn"], in_scope["upn"]).sum()),
        "no_pupil_record": int((~on_roll).sum()),
        "outside_school_age": int((on_roll & ~of_school_age).sum()),
        "outside_year_groups": int((of_school_age & ~wanted_pupil).sum()),
    }
    pa = table[table["persistent_absent"]].merge(in_scope, on="upn", how="inner")
    absent = pa["sessions_authorised"] + pa["sessions_unauthorised"]
    pa["unauthorised_share_pct"] = 100 * pa["sessions_unauthorised"] / absent
    pa = pa.merge(current_school(marks, start, end), on="upn", how="left")
    pa = pa.merge(
        schools[[c for c in ("urn", "school_name", "locality", "officer") if c in schools]],
        on="urn",
        how="left",
    )
    if "officer" not in pa:
        pa["officer"] = pd.NA
    by_locality = locality_officers(interventions, pupils, schools)
    pa["officer"] = pa["officer"].fillna(pa["locality"].map(by_locality)).fillna(UNALLOCATED)
    left_out = pd.Series("", index=pa.index, dtype=object)
    if interventions is not None and not interventions.empty:
        review = (
            pd.to_datetime(interventions["review_date"]).fillna(
                pd.to_datetime(interventions["start_date"]) + pd.Timedelta(days=84)
            )
            if "review_date" in interventions
            else pd.to_datetime(interventions["start_date"]) + pd.Timedelta(days=84)
        )
        is_open = open_on(interventions["start_date"], review, end)
        if "status" in interventions:
            status_open = interventions["status"].astype(str).str.strip().str.lower() == "open"
            is_open |= status_open & (pd.to_datetime(interventions["start_date"]) <= end)
        left_out[text_in(pa["upn"], interventions.loc[is_open, "upn"])] = OPEN_INTERVENTION
    if services is not None and not services.empty:
        open_svc = open_on(services["start_date"], services["end_date"], end)
        with_svc = text_in(pa["upn"], services.loc[open_svc, "upn"])
        left_out[with_svc & (left_out == "")] = OPEN_SERVICE
    pa["left_out"] = left_out
    pa = pa.sort_values(
        ["severe_absent", "absence_pct", "unauthorised_share_pct", "upn"],
        ascending=[False, False, False, True],
        kind="stable",
    ).reset_index(drop=True)
    work = pa[pa["left_out"] == ""].copy()
    work["priority"] = np.arange(1, len(work) + 1)
    work["officer_rank"] = work.groupby("officer").cumcount() + 1
    allocated = (work["officer_rank"] <= int(capacity_per_officer)) & (
        work["officer"] != UNALLOCATED
    )
    work["status"] = np.where(allocated, "allocated", "waiting")
    work["reasons"] = _reasons(work)
    return Cohort(
        worklist=work[WORKLIST_COLUMNS].reset_index(drop=True),
        pa_pupils=pa,
        window=(start, end),
        counts=counts,
    )


def cohort_summary(cohort: Cohort) -> pd.DataFrame:
    """Persistently absent pupils, those left out and the worklist by locality and school.

    No identifiers: one row per school, counts only (for the stakeholder report).
    """
    pa = cohort.pa_pupils.assign(
        locality=cohort.pa_pupils["locality"].fillna("not recorded"),
        school_name=cohort.pa_pupils["school_name"].fillna("not recorded"),
    )
    status = pa[["upn"]].merge(cohort.worklist[["upn", "status"]], on="upn", how="left")["status"]
    frame = pd.DataFrame(
        {
            "locality": pa["locality"],
            "school_name": pa["school_name"],
            "pa_pupils": 1,
            "severe": pa["severe_absent"].astype(int),
            "open_service": (pa["left_out"] == OPEN_SERVICE).astype(int),
            "open_intervention": (pa["left_out"] == OPEN_INTERVENTION).astype(int),
            "eligible": (pa["left_out"] == "").astype(int),
            "allocated": (status == "allocated").astype(int).to_numpy(),
            "waiting": (status == "waiting").astype(int).to_numpy(),
        }
    )
    out = frame.groupby(["locality", "school_name"], as_index=False).sum()
    return out.sort_values(["locality", "school_name"]).reset_index(drop=True)


def officer_summary(cohort: Cohort, capacity_per_officer: int = DEFAULT_CAPACITY) -> pd.DataFrame:
    """Eligible, allocated and waiting pupils per officer against capacity (no identifiers)."""
    wl = cohort.worklist
    g = wl.groupby("officer")
    out = pd.DataFrame(
        {
            "eligible": g.size(),
            "severe": g["severe_absent"].sum(),
            "allocated": g["status"].apply(lambda s: int((s == "allocated").sum())),
            "waiting": g["status"].apply(lambda s: int((s == "waiting").sum())),
        }
    ).reset_index()
    out["capacity"] = int(capacity_per_officer)
    return out.astype({"eligible": "int64", "severe": "int64"})


def describe_cohort(cohort: Cohort, capacity_per_officer: int = DEFAULT_CAPACITY) -> str:
    """The cohort in words (two paragraphs): window, who was left out and why, allocation."""
    start, end = cohort.window
    pa = cohort.pa_pupils
    left = pa["left_out"].value_counts()
    wl = cohort.worklist
    c = cohort.counts
    return (
        f"Window: {start.day} {start:%B %Y} to {end.day} {end:%B %Y} (both included). "
        f"{c['pupils_with_possible_sessions']:,} pupils in scope had a possible session; "
        f"{c['no_possible_session']:,} had marks but no possible session and are left out; "
        f"{c['no_pupil_record']:,} pupils with marks have no pupil record this year, "
        f"{c['outside_school_age']:,} are not of compulsory school age (aged 5 to 15) and "
        f"{c['outside_year_groups']:,} are outside the chosen year groups.\n\n"
        f"{len(pa):,} pupils were persistently absent (10% or more of possible sessions "
        f"missed), {int(pa['severe_absent'].sum()):,} of them severely (50% or more). "
        f"{int(left.get(OPEN_SERVICE, 0)):,} had an open involvement with another service and "
        f"{int(left.get(OPEN_INTERVENTION, 0)):,} an open attendance-team intervention, so "
        f"{len(wl):,} are eligible. With a capacity of {int(capacity_per_officer)} per officer, "
        f"{int((wl['status'] == 'allocated').sum()):,} are allocated and "
        f"{int((wl['status'] == 'waiting').sum()):,} are waiting."
    )
