"""The 12-week impact evaluation: each intervention's baseline and review attendance, the
primary measures, breakdowns and the officers' workload.

Definitions (see ``docs/methodology.md``, "12-week impact evaluation"):

- windows: :func:`attendance_lib.analyses.impact.windows.intervention_windows` (both ends
  included); attendance % is pupil level, from sessions summed over all the pupil's
  enrolments in the window (DfE: rates from summed sessions, never averaged percentages);
- evaluable: at least one possible session in both the baseline and the review window;
  interventions that are not evaluable are counted and listed, never silently dropped;
- improved: review % - baseline % > ``min_improvement_pp`` (compared exactly, in integer
  arithmetic on the session counts);
- persistent absence in the following academic year: pupil level, absence % >= 10 over the
  whole following academic year; ``pending`` while the data does not reach its last day.

The matched comparison group and the difference-in-differences estimate are in
:mod:`attendance_lib.analyses.impact.matching`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from attendance_lib.analyses.impact.matching import key_stage, open_service_on
from attendance_lib.analyses.impact.windows import (
    WINDOWS,
    MarkIndex,
    PupilSessions,
    intervention_windows,
    next_year_complete,
)
from attendance_lib.core.academic_calendar import Calendar, academic_year_of
from attendance_lib.core.markup import strong
from attendance_lib.core.numbers import format_p, format_pct
from attendance_lib.engine.stats import sign_test, wilson_interval

#: Assessments each officer is expected to complete per half term (Bradford PA team).
EXPECTED_ASSESSMENTS_PER_HALF_TERM = 40
#: Label used where a grouping value is missing from the data.
NOT_RECORDED = "not recorded"
SOURCE_LABELS = {"data": "data-led", "panel": "panel"}
#: Columns of the published (restricted) pupil table, in order.
IMPACT_PUPIL_COLUMNS = [
    "intervention_id",
    "upn",
    "officer",
    "locality",
    "start_date",
    "baseline_attendance_pct",
    "review_attendance_pct",
    "change_pp",
    "improved",
    "evaluable",
    "pa_next_year",
]
PRIMARY_COLUMNS = [
    "measure",
    "n",
    "meeting",
    "pending",
    "meeting_pct",
    "ci_low",
    "ci_high",
    "target_pct",
    "status",
]


def pupil_context(
    upns: pd.Series, academic_years: pd.Series, pupils: pd.DataFrame, schools: pd.DataFrame
) -> pd.DataFrame:
    """School of record, locality, phase, year group, FSM and SEN for (upn, academic year) rows.

    From ``pupils.csv`` (spring census characteristics) joined to ``schools.csv``. Rows with
    no pupil record that year get missing values (locality ``not recorded``).
    """
    keys = pd.DataFrame({"upn": upns.astype(str).to_numpy(), "academic_year": academic_years})
    cols = ["upn", "academic_year", "urn", "year_group", "fsm", "sen"]
    out = keys.merge(pupils[cols], on=["upn", "academic_year"], how="left")
    out = out.merge(schools[["urn", "locality", "phase"]], on="urn", how="left")
    out["locality"] = out["locality"].fillna(NOT_RECORDED)
    out.index = upns.index
    return out.drop(columns=["upn", "academic_year"])


def _exceeds(base: pd.DataFrame, review: pd.DataFrame, threshold_pp: float) -> np.ndarray:
    """review % - baseline % > threshold_pp, exactly, from the attended / possible counts."""
    ba = (base["sessions_present"] + base["sessions_aea"]).to_numpy(dtype=np.int64)
    bp = base["sessions_possible"].to_numpy(dtype=np.int64)
    ra = (review["sessions_present"] + review["sessions_aea"]).to_numpy(dtype=np.int64)
    rp = review["sessions_possible"].to_numpy(dtype=np.int64)
    lhs = 100 * (ra * bp - ba * rp)
    return lhs > float(threshold_pp) * (rp * bp)


def _pct(counts: pd.DataFrame) -> np.ndarray:
    return counts["attendance_pct"].to_numpy()


def evaluate_interventions(
    interventions: pd.DataFrame,
    marks: pd.DataFrame | MarkIndex | PupilSessions,
    pupils: pd.DataFrame,
    schools: pd.DataFrame,
    calendar: Calendar,
    *,
    weeks: int = 12,
    baseline: str = "weeks_before",
    unit: str = "school_days",
    min_improvement_pp: float = 0.0,
    last_date=None,
    services: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Baseline and review attendance, change and next-year persistent absence per intervention.

    Parameters
    ----------
    interventions
        ``interventions.csv`` rows (intervention_id, upn, officer, start_date; optional source).
    marks
        Register marks covering the windows (all the pupils' enrolments), a
        :class:`~attendance_lib.analyses.shared.pupil_sessions.MarkIndex` of them, or a
        :class:`~attendance_lib.analyses.shared.pupil_sessions.PupilSessions` (which sessions
        count: Year 11 study leave is left out of every window).
    pupils, schools
        For the pupil's school, locality, year group, FSM and SEN in the start date's year.
    calendar
        Term dates (school days, the following academic year).
    weeks, baseline, unit, min_improvement_pp
        As in :func:`~attendance_lib.analyses.impact.windows.intervention_windows`; improved
        means review % - baseline % > ``min_improvement_pp``.
    last_date
        The last date the data reaches (default: the latest mark).
    services
        ``services.csv``: ``open_service`` says whether the pupil had an involvement open on
        the start date (shown in the balance table).

    Returns
    -------
    DataFrame
        One row per intervention: ids, officer, source, locality, school and pupil
        characteristics (``key_stage`` too), the windows and their flags (``baseline_short``,
        ``crosses_summer``), ``baseline_possible``, ``review_possible``,
        ``baseline_attendance_pct``, ``review_attendance_pct``, ``earlier_attendance_pct``,
        ``history_attendance_pct`` (NaN where the data has none), ``change_pp`` (NaN when not
        evaluable), ``improved`` / ``worsened`` (nullable boolean), ``evaluable``,
        ``not_evaluable_reason``, ``review_complete``, ``review_status`` (``complete`` or
        ``pending``: the data does not reach the review window's last school day),
        ``next_year``, ``next_year_status`` (``complete``, ``pending``, ``no sessions``) and
        ``pa_next_year`` (nullable boolean).
    """
    if isinstance(marks, PupilSessions):
        sessions = marks
    else:
        sessions = PupilSessions.build(marks, pupils, calendar)
    index = sessions.index
    iv = interventions.reset_index(drop=True).copy()
    iv["upn"] = iv["upn"].astype(str)
    iv["start_date"] = pd.to_datetime(iv["start_date"])
    if "source" not in iv:
        iv["source"] = pd.NA
    if last_date is None:
        last_date = index.last_date
    last_date = pd.Timestamp(last_date)
    # The first date the data cover, for baseline_short. index.days are int64 day numbers
    # (days since 1970-01-01), not datetimes; weekly data cover from their first Monday.
    first_days = index.period_first if index.whole_weeks else index.days
    first_date = pd.Timestamp(int(first_days[0]), unit="D") if len(first_days) else None
    win = intervention_windows(
        iv["start_date"], calendar, weeks=weeks, baseline=baseline, unit=unit, first_date=first_date
    )
    iv = pd.concat([iv, win], axis=1)
    iv["academic_year"] = iv["start_date"].map(academic_year_of)
    iv = pd.concat([iv, pupil_context(iv["upn"], iv["academic_year"], pupils, schools)], axis=1)
    iv["key_stage"] = key_stage(iv["year_group"])
    iv["open_service"] = open_service_on(iv["upn"], iv["start_date"], services)
    counts = {}
    for name in WINDOWS:
        req = iv[["upn", f"{name}_start", f"{name}_end"]]
        if name == "review":
            req = req.fillna({"review_end": max(last_date, iv["review_start"].max())})
        counts[name] = sessions.window_counts(req, start=f"{name}_start", end=f"{name}_end")
    base, rev = counts["baseline"], counts["review"]
    iv["baseline_possible"] = base["sessions_possible"].to_numpy()
    iv["review_possible"] = rev["sessions_possible"].to_numpy()
    for name in WINDOWS:
        iv[f"{name}_attendance_pct"] = _pct(counts[name])
    iv["earlier_possible"] = counts["earlier"]["sessions_possible"].to_numpy()
    iv["history_possible"] = counts["history"]["sessions_possible"].to_numpy()
    evaluable = (iv["baseline_possible"] > 0) & (iv["review_possible"] > 0)
    iv["evaluable"] = evaluable
    iv["review_complete"] = iv["review_end"].notna() & (iv["review_end"] <= last_date)
    iv["not_evaluable_reason"] = np.select(
        [
            (iv["review_possible"] == 0) & ~iv["review_complete"] & (iv["baseline_possible"] > 0),
            (iv["baseline_possible"] == 0) & (iv["review_possible"] == 0),
            iv["baseline_possible"] == 0,
            iv["review_possible"] == 0,
        ],
        [
            "review window not yet in the data (pending)",
            "no possible session in either window",
            "no possible session in the baseline window",
            "no possible session in the review window",
        ],
        default="",
    )
    iv["review_status"] = np.where(iv["review_complete"], "complete", "pending")
    iv["change_pp"] = (iv["review_attendance_pct"] - iv["baseline_attendance_pct"]).where(evaluable)
    improved = _exceeds(base, rev, min_improvement_pp)
    worsened = _exceeds(rev, base, 0.0)
    iv["improved"] = pd.array(improved, dtype="boolean")
    iv.loc[~evaluable, "improved"] = pd.NA
    iv["worsened"] = pd.array(worsened, dtype="boolean")
    iv.loc[~evaluable, "worsened"] = pd.NA
    return _add_next_year(iv, sessions, calendar, last_date)


def _add_next_year(
    iv: pd.DataFrame, sessions: PupilSessions, calendar: Calendar, last_date: pd.Timestamp
) -> pd.DataFrame:
    nxt = next_year_complete(iv["start_date"], calendar, last_date)
    iv = pd.concat([iv, nxt], axis=1)
    counts = sessions.window_counts(
        iv[["upn", "next_year_start", "next_year_end", "next_year"]].fillna(
            {"next_year_start": last_date, "next_year_end": last_date}
        ),
        start="next_year_start",
        end="next_year_end",
        academic_year="next_year",
    )
    possible = counts["sessions_possible"].to_numpy() > 0
    complete = iv["next_year_complete"].to_numpy()
    iv["next_year_status"] = np.select(
        [~complete, ~possible], ["pending", "no sessions"], default="complete"
    )
    pa = pd.array(counts["persistent_absent"].to_numpy(), dtype="boolean")
    pa[~(complete & possible)] = pd.NA
    iv["pa_next_year"] = pa
    return iv.drop(columns=["next_year_start", "next_year_end", "next_year_complete"])


def select_interventions(
    evaluated: pd.DataFrame,
    *,
    started_from=None,
    started_to=None,
    officer: str | None = None,
    locality: str | None = None,
) -> pd.DataFrame:
    """Interventions started in ``started_from``..``started_to`` (inclusive), optionally one
    officer's or one locality's. Empty strings and ``None`` mean no filter."""
    keep = pd.Series(True, index=evaluated.index)
    if started_from:
        keep &= evaluated["start_date"] >= pd.Timestamp(started_from)
    if started_to:
        keep &= evaluated["start_date"] <= pd.Timestamp(started_to)
    if officer:
        keep &= evaluated["officer"] == officer
    if locality:
        keep &= evaluated["locality"] == locality
    return evaluated[keep].reset_index(drop=True)


def impact_pupils(evaluated: pd.DataFrame) -> pd.DataFrame:
    """The restricted pupil table ``impact_pupils`` (the issue's columns, in order)."""
    return evaluated[IMPACT_PUPIL_COLUMNS].sort_values(["start_date", "intervention_id"])


def not_evaluable(evaluated: pd.DataFrame) -> pd.DataFrame:
    """Interventions that could not be evaluated and why (identifiers: restricted use)."""
    rows = evaluated[~evaluated["evaluable"]]
    return rows[["intervention_id", "upn", "officer", "start_date", "not_evaluable_reason"]]


def not_evaluable_summary(evaluated: pd.DataFrame) -> pd.DataFrame:
    """Counts of interventions that could not be evaluated, by reason (no identifiers)."""
    rows = evaluated[~evaluated["evaluable"]]
    out = rows.groupby("not_evaluable_reason").size().rename("interventions").reset_index()
    return out.rename(columns={"not_evaluable_reason": "reason"})


def _status(pct: float, target_pct: float, n: int) -> str:
    if n == 0:
        return "pending"
    return "met" if pct >= target_pct else "not met"


MEASURE_NAMES = {
    "improved_after_12_weeks": "had higher attendance over the review window than the baseline",
    "improved_excluding_summer": (
        "had higher attendance over the review window than the baseline, leaving out review "
        "windows that cross the summer holiday"
    ),
    "not_pa_next_year": "were not persistently absent in the following academic year",
}


def primary_measures(
    evaluated: pd.DataFrame,
    *,
    target_improved: float = 0.90,
    target_not_pa_next_year: float = 0.75,
) -> pd.DataFrame:
    """The primary measures with 95% Wilson intervals, their status and what is pending.

    ``improved_after_12_weeks``: n = evaluable interventions whose review window is complete in
    the data, meeting = improved; ``pending`` = interventions whose review window is not yet
    complete (left out of n, counted beside it, whether or not the data hold any of it yet).
    ``improved_excluding_summer``: the same without review windows that cross the summer.
    ``not_pa_next_year``: n = interventions whose pupil's following academic year is complete
    in the data and has a possible session, meeting = not persistently absent that year;
    ``pending`` = those whose following year is not yet complete.

    Status compares the point estimate with the target on the known interventions: ``met``
    when meeting_pct >= target_pct, ``not met`` otherwise, ``pending`` when n is 0.
    """
    ev = evaluated[evaluated["evaluable"]]
    done = ev[ev["review_complete"]]
    waiting = ~evaluated["review_complete"]
    pending_review = int(waiting.sum())
    no_summer = done[~done["crosses_summer"]]
    known = evaluated[evaluated["pa_next_year"].notna()]
    pending_next = int((evaluated["next_year_status"] == "pending").sum())
    rows = [
        (
            "improved_after_12_weeks",
            len(done),
            int(done["improved"].sum()),
            pending_review,
            target_improved,
        ),
        (
            "improved_excluding_summer",
            len(no_summer),
            int(no_summer["improved"].sum()),
            int((waiting & ~evaluated["crosses_summer"]).sum()),
            target_improved,
        ),
        (
            "not_pa_next_year",
            len(known),
            int((~known["pa_next_year"].astype(bool)).sum()),
            pending_next,
            target_not_pa_next_year,
        ),
    ]
    out = pd.DataFrame(rows, columns=["measure", "n", "meeting", "pending", "target"])
    with np.errstate(invalid="ignore", divide="ignore"):
        out["meeting_pct"] = np.where(
            out["n"] > 0, 100 * out["meeting"] / out["n"].clip(lower=1), np.nan
        )
    out["ci_low"], out["ci_high"] = wilson_interval(out["meeting"], out["n"])
    out["target_pct"] = 100 * out["target"].astype(float)
    out["status"] = [
        _status(p, t, n)
        for p, t, n in zip(out["meeting_pct"], out["target_pct"], out["n"], strict=True)
    ]
    return out[PRIMARY_COLUMNS]


def sign_test_table(evaluated: pd.DataFrame) -> pd.DataFrame:
    """Improved vs worsened attendance among evaluable interventions with a complete review
    window, ties left out.

    Uses the sign of the change (any increase vs any decrease), whatever
    ``min_improvement_pp`` is; the p-value is the exact two-sided sign test.
    """
    ev = evaluated[evaluated["evaluable"] & evaluated["review_complete"]]
    up = int((ev["change_pp"] > 0).sum())
    down = int((ev["change_pp"] < 0).sum())
    return pd.DataFrame(
        {
            "evaluable": [len(ev)],
            "increased": [up],
            "decreased": [down],
            "no_change": [len(ev) - up - down],
            "p_value": [sign_test(up, down)],
        }
    )


def describe_primary(measures: pd.DataFrame, signs: pd.DataFrame) -> str:
    """The primary measures and the sign test in words (a ``- `` list, :mod:`~attendance_lib.core.markup`)."""
    lines = []
    for r in measures.itertuples():
        pending = (
            f" {r.pending:,} more are pending (not yet complete in the data) and are left out."
            if r.pending
            else ""
        )
        if r.n == 0:
            lines.append(
                f"- No intervention can be judged yet on whether the children "
                f"{MEASURE_NAMES[r.measure]}.{pending}"
            )
            continue
        above = (
            "lies wholly above"
            if r.ci_low >= r.target_pct
            else ("lies wholly below" if r.ci_high < r.target_pct else "includes")
        )
        lines.append(
            f"- {r.meeting:,} of {r.n:,} ({format_pct(r.meeting_pct)}, 95% interval "
            f"{format_pct(r.ci_low)} to {format_pct(r.ci_high)}) {MEASURE_NAMES[r.measure]}; "
            f"the target is {format_pct(r.target_pct, 0)}. "
            f"Status: {strong(r.status)} (point estimate against the target); the interval {above} "
            f"the target.{pending}"
        )
    s = signs.iloc[0]
    shown = format_p(s["p_value"])  # "< 0.001", "0.042"
    p = "p " + shown if shown[0] in "<>" else "p = " + shown
    if np.isnan(s["p_value"]):
        p = "not computable"
    up, down = int(s["increased"]), int(s["decreased"])
    lines.append(
        f"- Sign test: attendance rose for {up:,} and fell for {down:,} of the evaluable "
        f"interventions with a complete review window (those unchanged are left out); two-sided "
        f"exact sign test {p}."
    )
    return "\n".join(lines)


def impact_breakdown(evaluated: pd.DataFrame, by: str) -> pd.DataFrame:
    """Interventions, improvement and next-year persistent absence by officer, locality or source.

    Rates: ``improved_pct`` over evaluable interventions with a complete review window
    (``evaluable`` counts those), with its 95% Wilson interval (``ci_low``, ``ci_high``),
    so that a group of 20 is not read like a group of 600; ``not_pa_next_year_pct`` over
    those with a known next-year status; ``mean_change_pp`` is the mean pupil change.
    """
    frame = evaluated.copy()
    frame["evaluable"] = frame["evaluable"] & frame["review_complete"]
    frame["improved"] = frame["improved"].where(frame["evaluable"])
    frame["change_pp"] = frame["change_pp"].where(frame["evaluable"])
    key = frame[by].astype(object)
    if by == "source":
        key = key.map(lambda v: SOURCE_LABELS.get(v, v))
    frame["group"] = key.where(key.notna(), NOT_RECORDED)
    frame["not_pa"] = frame["pa_next_year"].map(lambda v: pd.NA if pd.isna(v) else not v)
    g = frame.groupby("group", dropna=False)
    out = pd.DataFrame(
        {
            "interventions": g.size(),
            "evaluable": g["evaluable"].sum(),
            "improved": g["improved"].sum(),
            "mean_change_pp": g["change_pp"].mean(),
            "next_year_known": g["pa_next_year"].count(),
            "not_pa_next_year": g["not_pa"].sum(),
        }
    ).reset_index()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["improved_pct"] = 100 * out["improved"] / out["evaluable"].where(out["evaluable"] > 0)
        out["not_pa_next_year_pct"] = (
            100 * out["not_pa_next_year"] / out["next_year_known"].where(out["next_year_known"] > 0)
        )
    out["ci_low"], out["ci_high"] = wilson_interval(out["improved"], out["evaluable"])
    out.insert(0, "breakdown", by)
    cols = [
        "breakdown",
        "group",
        "interventions",
        "evaluable",
        "improved",
        "improved_pct",
        "ci_low",
        "ci_high",
        "mean_change_pp",
        "next_year_known",
        "not_pa_next_year",
        "not_pa_next_year_pct",
    ]
    return out[cols].astype(
        {
            c: "int64"
            for c in [
                "interventions",
                "evaluable",
                "improved",
                "next_year_known",
                "not_pa_next_year",
            ]
        }
    )


def workload(
    interventions: pd.DataFrame,
    calendar: Calendar,
    *,
    expected: int = EXPECTED_ASSESSMENTS_PER_HALF_TERM,
) -> pd.DataFrame:
    """Assessments (intervention start dates) per officer per half term against ``expected``.

    An assessment dated in a holiday counts in the half term just ended (the latest half term
    starting on or before the date). Every half term from each officer's first to the
    selection's last is listed, with zero where the officer started none.

    Returns
    -------
    DataFrame
        officer, academic_year, half_term, assessments, expected, difference, meets_expectation.
    """
    cols = [
        "officer",
        "academic_year",
        "half_term",
        "assessments",
        "expected",
        "difference",
        "meets_expectation",
    ]
    if interventions.empty:
        return pd.DataFrame(columns=cols)
    table = calendar.table.reset_index(drop=True)
    starts = table["start_date"].to_numpy(dtype="datetime64[ns]")
    dates = pd.to_datetime(interventions["start_date"]).to_numpy(dtype="datetime64[ns]")
    idx = np.searchsorted(starts, dates, side="right") - 1
    ht = pd.DataFrame(
        {"officer": interventions["officer"].fillna(NOT_RECORDED).to_numpy(), "ht_index": idx}
    )
    counts = ht.groupby(["officer", "ht_index"]).size().rename("assessments").reset_index()
    first = counts.groupby("officer")["ht_index"].min()
    last = int(counts["ht_index"].max())
    grid = pd.DataFrame(
        [(o, i) for o, f in first.items() for i in range(int(f), last + 1)],
        columns=["officer", "ht_index"],
    )
    out = grid.merge(counts, on=["officer", "ht_index"], how="left").fillna({"assessments": 0})
    before = out["ht_index"] < 0
    out["academic_year"] = np.where(
        before, "before calendar", table["academic_year"].to_numpy()[out["ht_index"].clip(0)]
    )
    out["half_term"] = np.where(before, 0, table["half_term"].to_numpy()[out["ht_index"].clip(0)])
    out["assessments"] = out["assessments"].astype("int64")
    out["expected"] = int(expected)
    out["difference"] = out["assessments"] - out["expected"]
    out["meets_expectation"] = out["assessments"] >= out["expected"]
    return out.sort_values(["officer", "ht_index"])[cols].reset_index(drop=True)


def workload_off_expectation(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`workload` whose officer and half term are off the expectation.

    Most officers meet the expectation in most half terms, so the full grid mostly repeats
    "40 40 0 Yes"; readers need only the exceptions (:func:`describe_workload` gives the rest).
    """
    off = table[~table["meets_expectation"].astype(bool)]
    return off.drop(columns="meets_expectation").reset_index(drop=True)


def describe_workload(table: pd.DataFrame) -> str:
    """One sentence on :func:`workload`: how many officer half terms met the expectation."""
    if table.empty:
        return "No assessments were started in the selection."
    n = len(table)
    met = int(table["meets_expectation"].astype(bool).sum())
    officers = table["officer"].nunique()
    expected = int(table["expected"].iloc[0])
    off = n - met
    head = (
        f"{officers:,} officer{'s' if officers != 1 else ''}, {n:,} officer half terms, against "
        f"the expectation of {expected:,} assessments a half term: "
    )
    if off == 0:
        return head + "every one met it."
    return head + f"{met:,} met it and {off:,} fell short; those are listed below."


def describe_evaluation(evaluated: pd.DataFrame, weeks: int = 12, unit: str = "school_days") -> str:
    """How many interventions were evaluated, and what was left out and why, in words."""
    n = len(evaluated)
    ev = int(evaluated["evaluable"].sum())
    reasons = evaluated.loc[~evaluated["evaluable"], "not_evaluable_reason"].value_counts()
    why = "; ".join(f"{r}: {c:,}" for r, c in reasons.items()) or "none"
    e = evaluated[evaluated["evaluable"]]
    pending = int((~evaluated["review_complete"]).sum())
    summer = int(e["crosses_summer"].sum())
    short = int(e["baseline_short"].sum())
    status = evaluated["next_year_status"].value_counts()
    length = (
        f"{5 * weeks} school days ({weeks} school weeks; weekdays inside a half term, so holidays "
        "are passed over)"
        if unit == "school_days"
        else f"{7 * weeks} calendar days ({weeks} weeks)"
    )
    return (
        f"{n:,} interventions were selected; {ev:,} could be evaluated. Not evaluable "
        f"(no possible session in a window; counted, not dropped): {n - ev:,} ({why}).\n\n"
        f"The review window is the {length} from the start date, and the baseline the same "
        f"length before it. {pending:,} interventions have a review window that is not "
        "yet complete in the data: they are pending, left out of the measures and counted beside "
        f"them. {summer:,} evaluable review windows cross the summer holiday (for Year 6 into Year 7 "
        "possibly two schools); the first primary measure is given with and without them. "
        f"{short:,} baselines have fewer school days in the data than the full length (the start "
        "is early in the data) and use what there is. Year 11's sixth half term (study leave) "
        "never counts.\n\n"
        f"Following academic year: complete for {int(status.get('complete', 0)):,}, "
        f"pending (not yet complete in the data) for {int(status.get('pending', 0)):,}, and "
        f"{int(status.get('no sessions', 0)):,} pupils had no possible session that year "
        "(for example, they left the LA's schools)."
    )
