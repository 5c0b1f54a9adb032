"""Per-school Targeting Support Meeting (TSM) packs.

DfE *Working together to improve school attendance* (2024) asks local authorities to hold a
termly Targeting Support Meeting with every school to agree joint action for pupils who are
persistently or severely absent or at risk of becoming so. A pack shows one school:

- against the LA and schools of its phase (attendance, PA, SA this year to date and last
  year at the same point; attendance by half term);
- its enrolments in the five attendance categories, by year group (bands preset
  ``five_categories``);
- FSM, SEN support, EHC plan and social-worker groups against the same groups LA-wide;
- code use that needs attention (``N`` not yet resolved, ``C`` / ``C2``, ``E``, ``B`` / ``K``);
- pupils to discuss: severely absent, persistently absent, at risk (attendance > 90 and
  < 95) and falling, and those who reached the national penalty-notice threshold (10
  unauthorised sessions within a rolling 10 school weeks), with the other services involved.

Speed: the LA-wide figures every pack compares against are computed once per dataset, year,
term and cohort from the cached code cube and cached themselves (:func:`pack_reference`);
each pack then reads only its own school's marks (``Dataset.marks_for``), and its tables
(:func:`school_period`) are cached too, so the school's public and restricted packs compute
them once between them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from attendance_lib.analyses.shared.characteristics import (
    attach_characteristics,
    services_by_pupil,
    services_open,
)
from attendance_lib.analyses.shared.dfe_cohort import (
    cached_year_status,
    in_period,
    last_half_term,
    pair_codes,
    period_enrolments,
)
from attendance_lib.analyses.strategy.termly import FIVE_CATEGORIES, category_name
from attendance_lib.core.academic_calendar import Calendar, previous_year
from attendance_lib.core.codes import CODE_MEANING, Group, codes_in
from attendance_lib.core.columns import text_in
from attendance_lib.core.errors import UsageError
from attendance_lib.core.numbers import NOT_APPLICABLE, round_half_up
from attendance_lib.engine.bands import assign, resolve_bands
from attendance_lib.engine.sessions import (
    COUNT_COLUMNS,
    add_rates,
    code_counts,
    counts_from_cube,
    group_rates,
    weekly_counts_of,
)

#: Groups compared at the meeting, with the enrolment rows each selects.
GROUPS = {
    "all": ("all pupils", lambda t: np.ones(len(t), dtype=bool)),
    "fsm": ("eligible for free school meals", lambda t: _truthy(t["fsm"])),
    "sen_support": ("SEN support", lambda t: t["sen"].eq("K").to_numpy()),
    "ehc_plan": ("EHC plan", lambda t: t["sen"].eq("E").to_numpy()),
    "social_worker": (
        "with a social worker (CIN, CPP or CLA)",
        lambda t: _truthy(t["social_worker"]),
    ),
}
#: Register codes whose use the meeting reviews (named in the TSM guidance and the issue).
ATTENTION_CODES = ("N", "C", "C2", "E", "B", "K")
ATTENTION_WHY = {
    "N": "reason not yet provided: should be resolved within 5 school days",
    "C": "leave for exceptional circumstances: check it is used sparingly",
    "C2": "part-time (reduced) timetable: should be time-limited with a plan",
    "E": "suspended or excluded",
    "B": "off-site educational activity: check the provision's attendance",
    "K": "LA-arranged off-site provision: check the provision's attendance",
}
#: National penalty-notice threshold (DfE, August 2024): unauthorised sessions in the window.
PENALTY_SESSIONS = 10
#: The rolling window, in school days (10 school weeks of 5 days).
PENALTY_WINDOW_DAYS = 50
AT_RISK_LOW, AT_RISK_HIGH = 90, 95
#: Part of the cache key of :func:`pack_reference`: bump it when the reference tables change.
CACHE_VERSION = "v1"


def _truthy(values: pd.Series) -> np.ndarray:
    return values.astype("boolean").fillna(False).to_numpy(dtype=bool)


def _key(academic_year: str, term: str, cohort: str) -> str:
    return f"tsm_reference_{CACHE_VERSION}_{academic_year.replace('/', '-')}_{term}_{cohort}"


# --------------------------------------------------------------------------------------
# LA-wide reference figures (computed once, cached)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackReference:
    """LA-wide figures the packs compare against.

    ``rates``: scope (la, phase, school), key (``all``, the phase, or the urn as text),
    group (see :data:`GROUPS`), period (this_year, last_year), enrolments, count columns,
    pa_enrolments, sa_enrolments and rates. ``trend``: scope, key, academic_year, half_term,
    count columns and rates. ``codes``: scope, key, code, sessions, sessions_possible (this
    year to date).
    """

    rates: pd.DataFrame
    trend: pd.DataFrame
    codes: pd.DataFrame

    def for_school(self, urn: int, phase: str) -> PackReference:
        """The rows one school's pack reads: the LA's, its phase's and its own.

        Every function of this module given it returns what it returns given the whole
        reference, for that school, from a few dozen rows instead of every school's.
        """

        def rows(table: pd.DataFrame) -> pd.DataFrame:
            scope, key = table["scope"], table["key"]
            keep = (
                (scope == "la")
                | ((scope == "phase") & (key == phase))
                | ((scope == "school") & (key == str(urn)))
            )
            return table[keep.to_numpy()].reset_index(drop=True)

        return PackReference(rates=rows(self.rates), trend=rows(self.trend), codes=rows(self.codes))


def _scoped(table: pd.DataFrame, by: list[str], func) -> pd.DataFrame:
    """Apply ``func(table, keys)`` for the LA, each phase and each school; stack with scope/key."""
    parts = []
    for scope, key_col in (("la", None), ("phase", "phase"), ("school", "urn")):
        keys = [*(([key_col]) if key_col else []), *by]
        frame = table.assign(_all="all") if key_col is None else table
        out = func(frame, keys if key_col else ["_all", *by])
        out = out.rename(columns={key_col or "_all": "key"})
        out["key"] = out["key"].astype(str)
        out.insert(0, "scope", scope)
        parts.append(out)
    return pd.concat(parts, ignore_index=True)


def reference_from_cube(
    cube: pd.DataFrame,
    pupils: pd.DataFrame,
    schools: pd.DataFrame,
    services: pd.DataFrame | None,
    calendar: Calendar,
    academic_year: str,
    term: str,
    cohort: str = "dfe",
) -> PackReference:
    """Compute :class:`PackReference` from the whole LA's cube (the slow part, done once)."""
    last = last_half_term(term)
    prev = previous_year(academic_year)
    rate_parts = []
    codes = pd.DataFrame()
    for period, year in (("this_year", academic_year), ("last_year", prev)):
        if period == "last_year" and year not in calendar.years:
            continue
        enrol = period_enrolments(cube, pupils, year, last, cohort=cohort)
        start, end = calendar.to_end_of(year, term)
        table = attach_characteristics(
            enrol.table, pupils, schools, services_open(services, start, end)
        )
        table["phase"] = table["phase"].astype(object).fillna("unknown")
        for group, (_, select) in GROUPS.items():
            rows = table[select(table)]
            if rows.empty:
                continue
            part = _scoped(rows, [], group_rates)
            part.insert(2, "group", group)
            part.insert(3, "period", period)
            rate_parts.append(part)
        if period == "this_year":
            codes = _code_sessions(enrol.cube, table, schools)
    rates = pd.concat(rate_parts, ignore_index=True)
    rates = rates.drop(columns=[c for c in ("persistent_absent", "severe_absent") if c in rates])
    trend = _trend(cube, pupils, schools, academic_year, prev, last, cohort, calendar)
    return PackReference(rates=rates, trend=trend, codes=codes)


def _code_sessions(cube: pd.DataFrame, table: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
    if "code" not in cube:  # weekly counts (the DfE weekly download) carry no register codes
        return pd.DataFrame(columns=["scope", "key", "code", "sessions", "sessions_possible"])
    phase = schools.set_index("urn")["phase"]
    frame = pd.DataFrame(
        {
            "urn": cube["urn"].to_numpy(),
            "phase": cube["urn"].map(phase).astype(object).fillna("unknown").to_numpy(),
            "code": cube["code"].astype(str).to_numpy(),
            "sessions": cube["sessions"].to_numpy(dtype="int64"),
        }
    )
    possible = _scoped(
        table, [], lambda t, k: t.groupby(k)["sessions_possible"].sum().reset_index()
    )
    sessions = _scoped(frame, ["code"], lambda t, k: t.groupby(k)["sessions"].sum().reset_index())
    return sessions.merge(possible, on=["scope", "key"], how="left")


def _trend(cube, pupils, schools, year, prev, last, cohort, calendar) -> pd.DataFrame:
    parts = []
    for y, upto in ((year, last), (prev, 6)):
        if y != year and y not in calendar.years:
            continue
        enrol = period_enrolments(cube, pupils, y, upto, cohort=cohort)
        counts = counts_from_cube(enrol.cube, ["upn", "urn", "half_term"])
        counts = counts[counts["sessions_possible"] > 0].assign(enrolments=1)
        counts["phase"] = counts["urn"].map(schools.set_index("urn")["phase"]).fillna("unknown")
        summed = _scoped(
            counts,
            ["half_term"],
            lambda t, k: t.groupby(k)[["enrolments", *COUNT_COLUMNS]].sum().reset_index(),
        )
        summed.insert(2, "academic_year", y)
        parts.append(summed)
    trend = pd.concat(parts, ignore_index=True)
    trend["half_term"] = trend["half_term"].astype(int)
    return add_rates(trend, flags=False)


def pack_reference(ds, academic_year: str, term: str, cohort: str = "dfe") -> PackReference:
    """:class:`PackReference` for a dataset, cached per data fingerprint, year, term and cohort.

    The first pack to run computes it from the cached cube; the others read three small files.
    """
    key = _key(academic_year, term, cohort)
    computed: dict[str, PackReference] = {}

    def compute(part: str):
        def run() -> pd.DataFrame:
            if "ref" not in computed:
                computed["ref"] = reference_from_cube(
                    code_counts(ds), ds.pupils, ds.schools, ds.services,
                    Calendar(ds.calendar), academic_year, term, cohort,
                )  # fmt: skip
            return getattr(computed["ref"], part)

        return run

    return PackReference(
        **{part: ds.cached(f"{key}_{part}", compute(part)) for part in ("rates", "trend", "codes")}
    )


# --------------------------------------------------------------------------------------
# The school against the LA and its phase
# --------------------------------------------------------------------------------------


#: How a pack names the other schools of the school's phase.
PHASE_PEERS = {
    "primary": "Other primary schools",
    "secondary": "Other secondary schools",
    "special": "Other special schools",
    "alternative_provision": "Other alternative provision",
    "all_through": "Other all-through schools",
    "middle": "Other middle schools",
    "nursery": "Other nursery schools",
}
#: Summed columns of the reference tables (rates are rebuilt from them).
_SUMMED = ["enrolments", *COUNT_COLUMNS, "pa_enrolments", "sa_enrolments"]


def peers_label(phase: str) -> str:
    """``Other special schools``: the comparison a pack makes within the school's phase."""
    return PHASE_PEERS.get(phase, f"Other {str(phase).replace('_', ' ')} schools")


def _others(phase_rows: pd.DataFrame, school_rows: pd.DataFrame, on: list[str]) -> pd.DataFrame:
    """The phase's figures without the school: summed counts minus the school's, rates rebuilt."""
    summed = [c for c in _SUMMED if c in phase_rows]
    mine = school_rows[[*on, *summed]].set_index(on) if on else school_rows[summed]
    theirs = phase_rows[[*on, *summed]].set_index(on) if on else phase_rows[summed]
    if on:
        diff = theirs.sub(mine.reindex(theirs.index).fillna(0), fill_value=0).reset_index()
    else:
        diff = (theirs.sum() - (mine.sum() if len(mine) else 0)).to_frame().T.astype("float64")
    diff = add_rates(diff, flags=False)
    with np.errstate(invalid="ignore", divide="ignore"):
        n = diff["enrolments"].replace(0, np.nan)
        for count, rate in (("pa_enrolments", "pa_pct"), ("sa_enrolments", "sa_pct")):
            if count in diff:
                diff[rate] = 100 * diff[count] / n
    return diff[diff["enrolments"] > 0].reset_index(drop=True)


def has_phase_peers(ref: PackReference, urn: int, phase: str) -> bool:
    """Whether the LA has other schools of the school's phase with enrolments this year."""
    r = ref.rates[(ref.rates["group"] == "all") & (ref.rates["period"] == "this_year")]
    phase_n = r.loc[(r["scope"] == "phase") & (r["key"] == phase), "enrolments"].sum()
    mine = r.loc[(r["scope"] == "school") & (r["key"] == str(urn)), "enrolments"].sum()
    return bool(phase_n - mine > 0)


def officer_name(school: pd.Series) -> str:
    """The school's named attendance officer (``schools.csv``), or "not recorded" when the
    column is absent or empty (a folder imported from the DfE weekly download has none)."""
    officer = school.get("officer")
    return (
        "not recorded" if officer is None or pd.isna(officer) or not str(officer) else str(officer)
    )


def school_vs_la(
    ref: PackReference, urn: int, phase: str, *, school_name: str, la_name: str
) -> pd.DataFrame:
    """Attendance, PA and SA for the school, the other schools of its phase and the LA, this
    year and last.

    The phase comparison leaves the school out (a pupil referral unit is compared with the
    LA's other alternative provision, never with itself); where the LA has no other school of
    the phase, that row is left out (see :func:`has_phase_peers`).

    Returns area, enrolments, attendance_pct, pa_pct, sa_pct, last_year_enrolments,
    last_year_attendance_pct, last_year_pa_pct, last_year_sa_pct.
    """
    cols = ["enrolments", "attendance_pct", "pa_pct", "sa_pct"]
    r = ref.rates[ref.rates["group"] == "all"]
    rows = []
    for label, pick in (
        (school_name, lambda t: t[(t["scope"] == "school") & (t["key"] == str(urn))]),
        (
            peers_label(phase),
            lambda t: _others(
                t[(t["scope"] == "phase") & (t["key"] == phase)],
                t[(t["scope"] == "school") & (t["key"] == str(urn))],
                [],
            ),
        ),
        (la_name, lambda t: t[(t["scope"] == "la") & (t["key"] == "all")]),
    ):
        row = {"area": label}
        for period, prefix in (("this_year", ""), ("last_year", "last_year_")):
            hit = pick(r[r["period"] == period])
            for c in cols:
                row[prefix + c] = (
                    hit[c].iloc[0] if len(hit) else (0 if c == "enrolments" else np.nan)
                )
        rows.append(row)
    out = pd.DataFrame(rows)
    for c in ("enrolments", "last_year_enrolments"):
        out[c] = out[c].astype("int64")
    if not has_phase_peers(ref, urn, phase):
        out = out[out["area"] != peers_label(phase)].reset_index(drop=True)
    return out


def school_trend(
    ref: PackReference, urn: int, phase: str, *, school_name: str, la_name: str
) -> pd.DataFrame:
    """Attendance by half term for the school, the other schools of its phase and the LA (this
    year and last).

    Returns area, academic_year, half_term, enrolments (with a possible session in the half
    term), sessions_possible, attendance_pct, absence_pct.
    """
    cols = ["academic_year", "half_term", "enrolments", "sessions_possible", "attendance_pct",
            "absence_pct"]  # fmt: skip
    t = ref.trend
    school = t[(t["scope"] == "school") & (t["key"] == str(urn))]
    parts = [school[cols].assign(area=school_name)]
    others = _others(
        t[(t["scope"] == "phase") & (t["key"] == phase)], school, ["academic_year", "half_term"]
    )
    if not others.empty:
        parts.append(others[cols].assign(area=peers_label(phase)))
    la = t[(t["scope"] == "la") & (t["key"] == "all")]
    parts.append(la[cols].assign(area=la_name))
    out = pd.concat(parts, ignore_index=True)
    return out[["area", *cols]].reset_index(drop=True)


def groups_vs_la(ref: PackReference, urn: int, *, school_name: str, la_name: str) -> pd.DataFrame:
    """FSM, SEN support, EHC plan and social-worker groups at the school and across the LA.

    Returns group, area (the school or the LA), enrolments, attendance_pct, pa_pct, sa_pct
    (this year to date), two rows per group.
    """
    r = ref.rates[ref.rates["period"] == "this_year"]
    cols = ["enrolments", "attendance_pct", "pa_pct", "sa_pct"]
    rows = []
    for group, (label, _) in GROUPS.items():
        for scope, key, area in (("school", str(urn), school_name), ("la", "all", la_name)):
            hit = r[(r["scope"] == scope) & (r["key"] == key) & (r["group"] == group)]
            row = {"group": label, "area": area}
            for c in cols:
                row[c] = hit[c].iloc[0] if len(hit) else (0 if c == "enrolments" else np.nan)
            rows.append(row)
    out = pd.DataFrame(rows)
    out["enrolments"] = out["enrolments"].astype("int64")
    return out


def code_attention(ref: PackReference, urn: int, school_cube: pd.DataFrame) -> pd.DataFrame:
    """Use of the codes the meeting reviews: the school's sessions and rate against the LA.

    ``school_cube`` is the school's cube rows counted this year (for pupil counts).

    Returns code, meaning, why, sessions, pupils (enrolments with at least one such
    session), rate_pct (sessions per 100 possible sessions), la_rate_pct, ratio_to_la,
    enrolments (the school's enrolments: the base of its rates).
    """
    c = ref.codes
    school = c[(c["scope"] == "school") & (c["key"] == str(urn))].set_index("code")
    la = c[c["scope"] == "la"].set_index("code")
    possible = _first(c.loc[(c["scope"] == "school") & (c["key"] == str(urn)), "sessions_possible"])
    la_possible = _first(c.loc[c["scope"] == "la", "sessions_possible"])
    codes = school_cube["code"].astype(str)
    pupils = (
        school_cube[codes.isin(ATTENTION_CODES).to_numpy()]
        .assign(code=lambda f: f["code"].astype(str))
        .groupby("code")["upn"]
        .nunique()
    )
    r = ref.rates
    mask = (r["scope"] == "school") & (r["key"] == str(urn)) & (r["group"] == "all")
    enrolments = r.loc[mask & (r["period"] == "this_year"), "enrolments"]
    out = pd.DataFrame({"code": list(ATTENTION_CODES)})
    out["meaning"] = out["code"].map(CODE_MEANING)
    out["why"] = out["code"].map(ATTENTION_WHY)
    out["sessions"] = out["code"].map(school["sessions"]).fillna(0).astype("int64")
    out["pupils"] = out["code"].map(pupils).fillna(0).astype("int64")
    la_sessions = out["code"].map(la["sessions"]).fillna(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["rate_pct"] = 100 * out["sessions"] / possible if possible else np.nan
        out["la_rate_pct"] = 100 * la_sessions / la_possible if la_possible else np.nan
        ratio = out["rate_pct"] / out["la_rate_pct"]
    # a ratio only where the LA rate is above zero as shown; otherwise not applicable (z)
    shown_la = round_half_up(out["la_rate_pct"])
    out["ratio_to_la"] = ratio.astype(object).where(shown_la > 0, NOT_APPLICABLE)
    out["enrolments"] = int(enrolments.iloc[0]) if len(enrolments) else 0
    return out


def _first(values: pd.Series) -> float:
    return float(values.iloc[0]) if len(values) else 0.0


# --------------------------------------------------------------------------------------
# The school's own pupils
# --------------------------------------------------------------------------------------


def five_categories_by_year(table: pd.DataFrame) -> pd.DataFrame:
    """Enrolments in the five attendance categories by year group, and for the whole school.

    Returns year_group (``All`` first), category, enrolments, total_enrolments, pct.
    """
    bands = resolve_bands(FIVE_CATEGORIES)
    cats = pd.Categorical(assign(table["attendance_pct"], bands), categories=bands.labels)
    years = table["year_group"].astype(object).fillna("not recorded").astype(str)
    frame = pd.DataFrame({"year_group": years.to_numpy(), "category": cats})
    whole = frame.assign(year_group="All")
    both = pd.concat([whole, frame], ignore_index=True)
    order = ["All", *sorted(years.unique(), key=_year_sort)]
    both["year_group"] = pd.Categorical(both["year_group"], categories=order)
    out = both.groupby(["year_group", "category"], observed=False).size().rename("enrolments")
    out = out.reset_index()
    out["total_enrolments"] = out.groupby("year_group", observed=False)["enrolments"].transform(
        "sum"
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        out["pct"] = 100 * out["enrolments"] / out["total_enrolments"].replace(0, np.nan)
    out["year_group"] = out["year_group"].astype(str)
    out["category"] = out["category"].astype(str).map(category_name)
    return out


def _year_sort(label: str) -> tuple[int, str]:
    special = {"N1": -2, "N2": -1, "R": 0}
    if label in special:
        return (special[label], label)
    return (int(label), label) if label.isdigit() else (99, label)


def penalty_threshold(
    marks: pd.DataFrame | None,
    *,
    sessions: int = PENALTY_SESSIONS,
    window_days: int = PENALTY_WINDOW_DAYS,
) -> pd.DataFrame | None:
    """Enrolments that reached ``sessions`` unauthorised sessions within ``window_days`` school days.

    The national threshold for considering a penalty notice (DfE, *Working together to
    improve school attendance*, 2024; national framework for penalty notices) is 10
    sessions of unauthorised absence within a rolling period of 10 school weeks. School
    days are the dates on which the school recorded any mark (so holidays and closures do
    not count); 10 school weeks are taken as 50 school days. Every run of 50 consecutive
    school days in ``marks`` is checked.

    Parameters
    ----------
    marks
        Register marks (upn, urn, date, session, code), e.g. one school's marks for the
        year to date; None when the data holds weekly counts, which cannot show a rolling
        run of school days.

    Returns
    -------
    DataFrame or None
        upn, urn, unauthorised_sessions (in ``marks``), max_in_window (most unauthorised
        sessions in any window), reached (bool), reached_on (the school day on which a
        window first held ``sessions``; missing if never). None when ``marks`` is None.
    """
    empty = pd.DataFrame(
        {"upn": pd.Series(dtype=str), "urn": pd.Series(dtype="int64"),
         "unauthorised_sessions": pd.Series(dtype="int64"),
         "max_in_window": pd.Series(dtype="int64"), "reached": pd.Series(dtype=bool),
         "reached_on": pd.Series(dtype="datetime64[ns]")}
    )  # fmt: skip
    if marks is None:
        return None
    if marks.empty:
        return empty
    upn = marks["upn"].astype(str)
    urn = marks["urn"].to_numpy().astype(np.int64)
    # school days: distinct (urn, date) pairs in (urn, date) order, numbered from 0 within each
    # school; integer keys, so no (urn, date) tuple is made per mark
    day_number = marks["date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    first_date = int(day_number.min())
    span = int(day_number.max()) - first_date + 1
    school_days, day_of = np.unique(urn * span + (day_number - first_date), return_inverse=True)
    urns, school_start = np.unique(school_days // span, return_index=True)
    day_in_school = (
        np.arange(len(school_days)) - school_start[np.searchsorted(urns, school_days // span)]
    )
    day = day_in_school[day_of.reshape(-1)]
    enrol_ids, (enrol_upns, enrol_urns) = pair_codes(upn, pd.Series(urn))
    unauth = text_in(marks["code"], codes_in(Group.UNAUTHORISED))
    n_enrol, n_days = len(enrol_upns), int(day_in_school.max()) + 1
    grid = np.zeros((n_enrol, n_days), dtype=np.int32)
    np.add.at(grid, (enrol_ids[unauth], day[unauth]), 1)
    cum = np.concatenate([np.zeros((n_enrol, 1), dtype=np.int64), grid.cumsum(axis=1)], axis=1)
    ends = np.arange(1, n_days + 1)
    starts = np.maximum(ends - window_days, 0)
    windows = cum[:, ends] - cum[:, starts]  # windows[:, d] = sessions in the days ending at d
    reached = windows.max(axis=1) >= sessions
    reached_day = np.where(reached, np.argmax(windows >= sessions, axis=1), -1)
    enrol_frame = pd.DataFrame(
        {"upn": pd.Series(enrol_upns, dtype=upn.dtype), "urn": enrol_urns.astype(np.int64)}
    )
    reached_on = pd.Series(pd.NaT, index=enrol_frame.index, dtype="datetime64[ns]")
    if reached.any():
        school = school_start[np.searchsorted(urns, enrol_urns[reached])]
        days = first_date + school_days[school + reached_day[reached]] % span
        reached_on[reached] = days.astype("datetime64[D]").astype("datetime64[ns]")
    out = enrol_frame.assign(
        unauthorised_sessions=cum[:, -1].astype("int64"),
        max_in_window=windows.max(axis=1).astype("int64"),
        reached=reached,
        reached_on=reached_on,
    )
    out["urn"] = out["urn"].astype("int64")
    return out.sort_values(["urn", "upn"]).reset_index(drop=True)


def falling_attendance(cube: pd.DataFrame, last_ht: int) -> pd.DataFrame:
    """Attendance in the last half term of the period against earlier in the year, per enrolment.

    Returns upn, urn, latest_attendance_pct (half term ``last_ht``),
    earlier_attendance_pct (half terms before it), falling (latest < earlier; False when
    either is missing).
    """
    latest = add_rates(counts_from_cube(cube[cube["half_term"] == last_ht], ["upn", "urn"]))
    earlier = add_rates(counts_from_cube(cube[cube["half_term"] < last_ht], ["upn", "urn"]))
    both = earlier[["upn", "urn", "attendance_pct"]].merge(
        latest[["upn", "urn", "attendance_pct"]],
        on=["upn", "urn"],
        how="outer",
        suffixes=("_earlier", "_latest"),
    )
    both = both.rename(
        columns={
            "attendance_pct_earlier": "earlier_attendance_pct",
            "attendance_pct_latest": "latest_attendance_pct",
        }
    )
    both["falling"] = (both["latest_attendance_pct"] < both["earlier_attendance_pct"]).fillna(False)
    both["upn"] = both["upn"].astype(str)
    both["urn"] = both["urn"].astype("int64")
    return both[["upn", "urn", "latest_attendance_pct", "earlier_attendance_pct", "falling"]]


#: The reasons a pupil is listed, in the order the meeting takes them.
REASONS = {
    "severe": "severely absent (50% or more missed)",
    "persistent": "persistently absent but not severely (10% to under 50% missed)",
    "at_risk_falling": "at risk (attendance over 90% and under 95%) and falling",
    "penalty_threshold": "reached 10 unauthorised sessions in 10 school weeks",
}


def pupils_to_discuss(
    table: pd.DataFrame,
    falling: pd.DataFrame,
    penalty: pd.DataFrame | None,
    open_services: pd.DataFrame,
    interventions: pd.DataFrame | None = None,
    at=None,
    names: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The pupils the meeting should discuss, with the other services involved (restricted).

    ``names`` (pupils.csv rows: upn and the optional ``forename`` / ``surname``) adds the
    pupils' names after the UPN where the extract has them: identifiers, for the restricted
    pack only.

    A pupil is listed when severely absent (absence >= 50%), persistently absent
    (>= 10% and < 50%), at risk (attendance > 90 and < 95) with attendance falling (see
    :func:`falling_attendance`), or when they reached the penalty-notice threshold
    (:func:`penalty_threshold`; ``penalty`` None, from weekly counts, leaves that reason and
    ``reached_on`` out). ``other_services`` lists services open in the period
    (services.csv); ``attendance_team`` names the LA officer of any attendance-team
    intervention whose review date is after ``at``.

    Returns upn, year_group, attendance_pct, absence_pct, unauthorised_sessions, severe,
    persistent, at_risk_falling, penalty_threshold, reached_on, other_services,
    attendance_team, sorted with the most absent first.
    """
    t = table.merge(falling[["upn", "urn", "falling"]], on=["upn", "urn"], how="left")
    reasons = [r for r in REASONS if penalty is not None or r != "penalty_threshold"]
    if penalty is not None:
        t = t.merge(penalty[["upn", "urn", "reached", "reached_on"]], on=["upn", "urn"], how="left")
    att = t["attendance_pct"].to_numpy()
    t["severe"] = t["severe_absent"].to_numpy(dtype=bool)
    t["persistent"] = t["persistent_absent"].to_numpy(dtype=bool) & ~t["severe"]
    at_risk = (att > AT_RISK_LOW) & (att < AT_RISK_HIGH)
    t["at_risk_falling"] = at_risk & t["falling"].fillna(False).to_numpy(dtype=bool)
    if penalty is not None:
        t["penalty_threshold"] = t["reached"].fillna(False).to_numpy(dtype=bool)
    listed = t[t[reasons].any(axis=1)].copy()
    listed["unauthorised_sessions"] = listed["sessions_unauthorised"].astype("int64")
    theirs = open_services[open_services["upn"].isin(listed["upn"]).to_numpy()]
    listed["other_services"] = listed["upn"].map(services_by_pupil(theirs)).fillna("").astype(str)
    if interventions is not None:  # only the listed pupils' interventions
        interventions = interventions[
            interventions["upn"].astype(str).isin(listed["upn"]).to_numpy()
        ]
    officers = listed["upn"].map(_open_officers(interventions, at))
    listed["attendance_team"] = officers.astype(object).fillna("")
    listed = listed.sort_values(["attendance_pct", "upn"]).reset_index(drop=True)
    if penalty is not None:
        listed["reached_on"] = listed["reached_on"].map(lambda d: d.date() if pd.notna(d) else None)
    cols = [
        "upn", "year_group", "attendance_pct", "absence_pct", "unauthorised_sessions",
        *reasons, *(["reached_on"] if penalty is not None else []), "other_services",
        "attendance_team",
    ]  # fmt: skip
    if names is not None:
        have = [c for c in PUPIL_NAME_COLUMNS if c in names and names[c].notna().any()]
        if have:
            lookup = names.drop_duplicates("upn", keep="last").set_index("upn")[have]
            for c in reversed(have):
                listed.insert(1, c, listed["upn"].map(lookup[c]).fillna(""))
            cols = ["upn", *have, *cols[1:]]
    return listed[cols]


#: Optional name columns of pupils.csv (identifiers; restricted reports only).
PUPIL_NAME_COLUMNS = ("forename", "surname")


def _open_officers(interventions: pd.DataFrame | None, at) -> pd.Series:
    if interventions is None or interventions.empty or at is None:
        return pd.Series(dtype=str)
    at = pd.Timestamp(at)
    review = interventions["start_date"] + pd.Timedelta(weeks=12)
    if "review_date" in interventions:
        review = interventions["review_date"].fillna(review)
    live = interventions[(interventions["start_date"] <= at) & (review > at)]
    return live.groupby(live["upn"].astype(str))["officer"].agg(lambda s: "; ".join(sorted(set(s))))


def discussion_summary(pupils: pd.DataFrame) -> pd.DataFrame:
    """Counts only (the stakeholder version): pupils listed for each reason.

    Returns reason, pupils, with_other_services (pupils with a service open),
    with_attendance_team (pupils with an open attendance-team intervention). A pupil can be
    listed for more than one reason; the last row counts each pupil once. A reason
    :func:`pupils_to_discuss` left out (the penalty threshold on weekly counts) has no row.
    """
    rows = []
    for key, words in REASONS.items():
        if key not in pupils:  # the penalty threshold, not checked on weekly counts
            continue
        hit = pupils[pupils[key]]
        rows.append(
            {
                "reason": words,
                "pupils": len(hit),
                "with_other_services": int(hit["other_services"].ne("").sum()),
                "with_attendance_team": int(hit["attendance_team"].ne("").sum()),
            }
        )
    rows.append(
        {
            "reason": "any of these (each pupil once)",
            "pupils": len(pupils),
            "with_other_services": int(pupils["other_services"].ne("").sum()),
            "with_attendance_team": int(pupils["attendance_team"].ne("").sum()),
        }
    )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------
# One school's data for the period
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SchoolPeriod:
    """One school's enrolments and cube for the year to the end of the term.

    ``penalty`` is :func:`penalty_threshold` of the school's marks for the cohort's pupils
    (None from weekly counts, which show no school days); ``open_services`` holds the services
    open in the period of the school's pupils only.
    """

    table: pd.DataFrame  # enrolment table with characteristics
    cube: pd.DataFrame  # the cohort's cube rows (``grp`` in place of ``code`` from weekly counts)
    penalty: pd.DataFrame | None
    open_services: pd.DataFrame
    excluded: pd.DataFrame
    start: pd.Timestamp
    end: pd.Timestamp


def school_period(ds, urn: int, academic_year: str, term: str, cohort: str = "dfe") -> SchoolPeriod:
    """One school's tables for the period, computed once per dataset and shared.

    Kept in the dataset's cache (:meth:`~attendance_lib.contract.dataset.Dataset.cached_result`:
    keyed by the data fingerprint, the code, the school, the year, the term and the cohort), so
    the school's public and restricted packs compute it once between them. Computed by
    :func:`compute_school_period`.
    """
    key = {"urn": int(urn), "academic_year": str(academic_year), "term": term, "cohort": cohort}
    return ds.cached_result(
        "school_period",
        key,
        lambda: compute_school_period(ds, int(urn), str(academic_year), term, cohort),
    )


@dataclass(frozen=True)
class _SchoolTables:
    """A school's part of :func:`school_tables`: :class:`SchoolPeriod` without the penalty."""

    table: pd.DataFrame
    cube: pd.DataFrame
    open_services: pd.DataFrame
    excluded: pd.DataFrame


def compute_school_period(
    ds, urn: int, academic_year: str, term: str, cohort: str = "dfe"
) -> SchoolPeriod:
    """One school's part of the LA's tables for the period (:func:`school_tables`), and the
    penalty-notice threshold from the school's own marks (``ds.marks_for``).

    The LA's tables are worked out once for every school and stored school by school in the
    dataset's cache (:meth:`~attendance_lib.contract.dataset.Dataset.cached_part`), so a pack
    reads its own school's part only. A dataset with weekly counts instead of marks (the DfE
    weekly download) has no penalty table (None).
    """
    calendar = Calendar(ds.calendar)
    start, end = calendar.to_end_of(academic_year, term)
    key = {"academic_year": academic_year, "term": term, "cohort": cohort}
    mine = ds.cached_part(
        "school_tables", key, str(urn), lambda: school_tables(ds, academic_year, term, cohort)
    )
    if mine is None:
        raise UsageError(f"no school with URN {urn} in schools.csv")
    penalty = None
    if weekly_counts_of(ds) is None:
        marks = ds.marks_for(urns=[int(urn)], start=start, end=end)
        in_cohort = text_in(marks["upn"], mine.table["upn"])
        penalty = penalty_threshold(marks[in_cohort].reset_index(drop=True))
    return SchoolPeriod(
        table=mine.table,
        cube=mine.cube,
        penalty=penalty,
        open_services=mine.open_services,
        excluded=mine.excluded,
        start=start,
        end=end,
    )


def school_tables(
    ds, academic_year: str, term: str, cohort: str = "dfe"
) -> dict[str, _SchoolTables]:
    """Every school's enrolments, cube rows, open services and exclusions for the period, in
    one pass over the LA's code cube (:func:`code_counts`), keyed by URN (as text).

    Each school's part is what its own marks for the period alone would give: the cohort and
    the characteristics are per pupil, the enrolment table per enrolment, and the exclusions
    are counted school by school (``period_enrolments(..., by_school=True)``); the cube rows'
    categories are the school's own values. Every school of schools.csv has a part (one with
    no marks in the period, empty tables).
    """
    start, end = Calendar(ds.calendar).to_end_of(academic_year, term)
    status = cached_year_status(ds, academic_year) if cohort == "dfe" else None
    window = in_period(code_counts(ds), academic_year, last_half_term(term))
    enrol = period_enrolments(
        window, ds.pupils, academic_year, last_half_term(term),
        cohort=cohort, status=status, by_school=True,
    )  # fmt: skip
    opened = services_open(ds.services, start, end)
    opened = opened[opened["upn"].isin(enrol.table["upn"].astype(str)).to_numpy()]
    table = attach_characteristics(enrol.table, ds.pupils, ds.schools, opened)
    wanted = sorted(set(ds.schools["urn"].astype(int)) | set(np.unique(window["urn"]).tolist()))
    table_rows = _rows_by_school(table["urn"])
    cube_rows = _rows_by_school(enrol.cube["urn"])
    window_rows = _rows_by_school(window["urn"])
    excluded_rows = _rows_by_school(enrol.excluded["urn"])
    none = np.zeros(0, dtype=np.int64)
    parts = {}
    for urn in wanted:
        mine = table.iloc[table_rows.get(urn, none)].reset_index(drop=True)
        own_cube = enrol.cube.iloc[cube_rows.get(urn, none)].reset_index(drop=True)
        own_window = window.iloc[window_rows.get(urn, none)]
        excluded = enrol.excluded.iloc[excluded_rows.get(urn, none)]
        if urn not in excluded_rows:  # no marks in the period: nothing was left out either
            excluded = period_enrolments(
                own_window, ds.pupils, academic_year, last_half_term(term), cohort=cohort
            ).excluded
        services = opened[opened["upn"].isin(mine["upn"]).to_numpy()]
        parts[str(urn)] = _SchoolTables(
            table=mine,
            cube=_own_categories(own_cube, own_window),
            open_services=services.reset_index(drop=True),
            excluded=excluded.drop(columns="urn", errors="ignore").reset_index(drop=True),
        )
    return parts


def _rows_by_school(urns: pd.Series) -> dict[int, np.ndarray]:
    """The positions of each URN's rows, in their order (one stable sort, no mask per school)."""
    values = urns.to_numpy(dtype=np.int64)
    order = np.argsort(values, kind="stable")
    found, first = np.unique(values[order], return_index=True)
    if not len(found):
        return {}
    return dict(zip(found.tolist(), np.split(order, first[1:]), strict=True))


def _own_categories(cube: pd.DataFrame, window: pd.DataFrame) -> pd.DataFrame:
    """The school's cube rows with the categories of its own rows of the period, as a cube
    of the school's marks alone has them."""
    out = cube.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.CategoricalDtype):
            codes = np.unique(window[column].cat.codes.to_numpy())
            own = window[column].cat.categories.take(codes[codes >= 0])  # by codes, not text
            out[column] = out[column].cat.set_categories(sorted(own))
    return out
