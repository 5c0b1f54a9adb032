"""The termly attendance strategy report: headline, comparators, trends, five categories, reasons.

Every figure is enrolment level over the year to the end of a term, in the cohort the report
chooses (DfE-comparable by default; see :mod:`attendance_lib.analyses.shared.dfe_cohort`), built
from the cached code cube (:func:`attendance_lib.engine.sessions.code_counts`):

- overall / authorised / unauthorised absence % and attendance % from summed sessions
  (DfE: absence % = absent sessions / possible sessions x 100);
- persistent (severe) absence = share of enrolments with absence % >= 10 (>= 50);
- the previous year "at the same point" is the same half terms of the previous year.

Related modules: :mod:`.characteristics` (groups), :mod:`.schools_funnel` (schools and
localities), :mod:`.targets`, :mod:`.team_activity`, :mod:`.narrative`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from attendance_lib.analyses.shared.characteristics import attach_characteristics, services_open
from attendance_lib.analyses.shared.dfe_cohort import (
    NO_PUPIL_RECORD,
    OUTSIDE_AGE,
    ZERO_POSSIBLE,
    PeriodEnrolments,
    apply_cohort,
    last_half_term,
    period_enrolments,
)
from attendance_lib.core.academic_calendar import (
    TERM_HALF_TERMS,
    Calendar,
    next_year,
    parse_academic_year,
    previous_year,
)
from attendance_lib.core.codes import CODE_GROUP, REASON_OF_CODE, Group, codes_in
from attendance_lib.core.errors import UsageError
from attendance_lib.core.numbers import round_half_up
from attendance_lib.engine.bands import assign, resolve_bands
from attendance_lib.engine.sessions import add_rates, counts_from_cube, group_rates, overall_rates

#: Headline measures, in the order shown, and the rate column each comes from.
MEASURES: dict[str, str] = {
    "overall_absence": "absence_pct",
    "authorised_absence": "authorised_pct",
    "unauthorised_absence": "unauthorised_pct",
    "persistent_absence": "pa_pct",
    "severe_absence": "sa_pct",
    "attendance": "attendance_pct",
}
#: Measures where a higher value is better (all others: lower is better).
HIGHER_IS_BETTER = frozenset({"attendance"})
TERM_WORDS = {"autumn": "autumn term", "spring": "spring term", "summer": "summer term"}
FIVE_CATEGORIES = "five_categories"
#: The five categories' names in reports: attendance ranges, so that "persistently absent"
#: keeps its one DfE meaning (10% or more of sessions missed) everywhere.
CATEGORY_NAMES = {
    "95% or more (expected)": "95% or more",
    "over 90% and under 95% (at risk of PA)": "Over 90% and under 95% (at risk)",
    "80% to 90% (persistently absent)": "80% to 90%",
    "over 50% and under 80% (at risk of severe)": "Over 50% and under 80%",
    "50% or less (severely absent)": "50% or less",
}
#: Footnote for published five-category tables.
CATEGORY_NOTE = (
    "Attendance over the period. Persistently absent (missing 10% or more of possible "
    "sessions) is the three categories of 90% or less together; severely absent (missing 50% "
    "or more) is the last."
)


def category_name(label: str) -> str:
    """A five-category band label as reports name it (:data:`CATEGORY_NAMES`)."""
    return CATEGORY_NAMES.get(str(label), str(label))


def next_period(academic_year: str, term: str) -> str:
    """What the next termly report covers, in words: ``the year to the end of the summer term``
    (after the summer term or a whole year: ``2025/26 to the end of the autumn term``)."""
    following = {"autumn": "spring", "spring": "summer"}
    if term in following:
        return f"{academic_year} to the end of the {TERM_WORDS[following[term]]}"
    return f"{next_year(academic_year)} to the end of the autumn term"


def shown_headline(
    headline: pd.DataFrame, comparators: Sequence[str]
) -> tuple[pd.DataFrame, list[str]]:
    """The headline table as published: comparator columns only where the comparator has a
    figure for this period and basis (their period and basis go in the footnote).

    Returns the table and the comparators with no figure for this period ("not yet
    published for this period").
    """
    missing, drop = [], []
    for area in comparators:
        key = slug(area)
        drop += [c for c in (f"{key}_basis", f"{key}_period") if c in headline]
        if f"{key}_pct" in headline and headline[f"{key}_pct"].isna().all():
            drop.append(f"{key}_pct")
            missing.append(area)
    return headline.drop(columns=drop), missing


def period_label(academic_year: str, term: str) -> str:
    """``2023/24 to the end of the spring term`` (or ``2023/24, full year``)."""
    last = last_half_term(term)
    if last == 6:
        return f"{academic_year}, full year"
    return f"{academic_year} to the end of the {TERM_WORDS[term]}"


def measures(table: pd.DataFrame) -> pd.DataFrame:
    """The six headline measures of an enrolment table.

    Returns measure, value_pct, enrolments, sessions_possible (one row per measure) and
    ``share_enrolments``: for persistent and severe absence, which are shares of enrolments,
    the enrolments counted (missing for the session rates). Disclosure control needs it: 2.9%
    of 34 enrolments is 1 pupil. An empty table gives missing values and zero enrolments.
    """
    shares = {"persistent_absence": "pa_enrolments", "severe_absence": "sa_enrolments"}
    if table.empty:
        values = dict.fromkeys(MEASURES.values(), np.nan)
        n, possible, counted = 0, 0, dict.fromkeys(shares, 0.0)
    else:
        r = overall_rates(table)
        values = {col: float(r[col]) for col in MEASURES.values()}
        n, possible = int(r["enrolments"]), int(r["sessions_possible"])
        counted = {m: float(r[c]) for m, c in shares.items()}
    return pd.DataFrame(
        {
            "measure": list(MEASURES),
            "value_pct": [values[c] for c in MEASURES.values()],
            "enrolments": n,
            "sessions_possible": possible,
            "share_enrolments": [counted.get(m, np.nan) for m in MEASURES],
        }
    )


def slug(name: str) -> str:
    """A column-safe name: ``Yorkshire and The Humber`` -> ``yorkshire_and_the_humber``."""
    return re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_")


def _period_order(period: str) -> tuple[int, int]:
    """``2023/24 autumn and spring terms`` -> (2023, 2): the year, then how far into it."""
    rank = {"autumn term": 1, "autumn and spring terms": 2, "full year": 3}
    return parse_academic_year(period[:7]), rank.get(period[8:], 0)


def comparator_figures(
    benchmarks: pd.DataFrame | None,
    comparators: Sequence[str],
    academic_year: str,
    term: str,
    *,
    phase: str = "total",
    basis: str = "census",
    statistical_neighbours: Sequence[str] = (),
    neighbours_label: str = "Statistical neighbours",
) -> pd.DataFrame:
    """Each comparator's headline measures for the same period, basis and phase as the report.

    ``benchmarks`` is an EES table as downloaded or as the contract typed ``benchmarks.csv``,
    or the normalised comparators of
    :func:`attendance_lib.importers.benchmarks.normalise_benchmarks`. The period is the
    year to the end of ``term`` (autumn -> "autumn term", spring -> "autumn and spring terms",
    summer / year -> "full year"); ``basis`` census by default (termly figures, as the school
    census publishes them; a daily-data "year to date" figure is a different period). An area
    without a figure for exactly that period, basis and phase shows none, and ``note`` says
    "not yet published for this period" (or, when it has later figures, that the benchmarks
    supplied lack this period): a figure for another period is never shown beside ours. ``statistical_neighbours`` (LA names or codes) become one
    more comparator, ``neighbours_label``: the unweighted average of their published rates.

    Returns
    -------
    DataFrame
        area, measure, value_pct, basis, period, note (one row per area and measure).
    """
    from attendance_lib.importers.benchmarks import comparator_group, normalise_benchmarks

    columns = ["area", "measure", "value_pct", "basis", "period", "note"]
    last = "full year" if last_half_term(term) == 6 else None
    words = last or {"autumn": "autumn term", "spring": "autumn and spring terms"}[term]
    period = f"{academic_year} {words}"
    table = pd.DataFrame(columns=["area", "period", "basis", "phase", "measure", "value_pct"])
    if benchmarks is not None and not benchmarks.empty:
        is_normal = {"measure", "value_pct", "period"} <= set(benchmarks.columns)
        table = benchmarks if is_normal else normalise_benchmarks(benchmarks).table
    groups = [(area, table[table["area"].astype(str).str.strip().str.lower() == area.strip().lower()])
              for area in comparators]  # fmt: skip
    if statistical_neighbours:
        members = comparator_group(table, statistical_neighbours, neighbours_label)
        groups.append((neighbours_label, members))
    rows = []
    for area, found in groups:
        same = found[
            (found["period"] == period) & (found["basis"] == basis) & (found["phase"] == phase)
        ]
        if same.empty:
            latest = found["period"].astype(str).map(_period_order).max()
            note = (
                f"{area} is not in the benchmarks"
                if found.empty
                else f"not yet published for this period ({period}, {basis}, {phase})"
                if latest < _period_order(period)
                else f"not in the benchmarks supplied for this period ({period}, {basis}, {phase})"
            )
        elif "members" in same:
            note = (
                f"average of {int(same['members'].max())} statistical neighbours' published rates"
            )
        else:
            note = ""
        values = same.drop_duplicates("measure").set_index("measure")["value_pct"]
        for measure in MEASURES:
            value = float(values[measure]) if measure in values.index else np.nan
            rows.append(
                {"area": area, "measure": measure, "value_pct": value,
                 "basis": basis if not same.empty else "", "period": period if not same.empty else "",
                 "note": note}
            )  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def displayed_change(now, before):
    """``now - before`` in percentage points, from the figures as displayed (one decimal place,
    half up), so the published change is exactly the difference of the published figures
    (17.8% to 16.7% is a change of -1.1, never -1.0). Missing stays missing."""
    a = round_half_up(pd.Series(np.asarray(now, dtype="float64")))
    b = round_half_up(pd.Series(np.asarray(before, dtype="float64")))
    return round_half_up((a - b).round(9)).to_numpy()


def headline(
    current: pd.DataFrame,
    previous: pd.DataFrame | None = None,
    comparators: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The headline table: this period, the previous year at the same point, comparators.

    Parameters
    ----------
    current, previous
        Enrolment tables (:class:`~.dfe_cohort.PeriodEnrolments` ``.table``) for this period
        and for the same half terms of the previous year.
    comparators
        From :func:`comparator_figures`.

    Returns
    -------
    DataFrame
        measure, value_pct, enrolments, sessions_possible, previous_year_pct,
        previous_year_enrolments, change_pp (this year minus last, percentage points, from the
        figures as shown: :func:`displayed_change`), and
        for each comparator area ``<area>_pct``, ``<area>_basis``, ``<area>_period``.
    """
    out = measures(current)
    prev = measures(previous if previous is not None else current.iloc[:0])
    out["previous_year_pct"] = prev["value_pct"].to_numpy()
    out["previous_year_enrolments"] = prev["enrolments"].to_numpy()
    out["previous_year_share_enrolments"] = prev["share_enrolments"].to_numpy()
    out["change_pp"] = displayed_change(out["value_pct"], out["previous_year_pct"])
    if comparators is not None:
        for area, part in comparators.groupby("area", sort=False):
            part = part.set_index("measure").reindex(list(MEASURES))
            key = slug(area)
            out[f"{key}_pct"] = part["value_pct"].to_numpy(dtype="float64")
            out[f"{key}_basis"] = part["basis"].to_numpy()
            out[f"{key}_period"] = part["period"].to_numpy()
    return out


# --------------------------------------------------------------------------------------
# Trends by half term, phases, term on term
# --------------------------------------------------------------------------------------


def half_term_trend(cube: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
    """Rates for each half term of each year, for all schools and for each phase.

    ``cube`` is the cohort's cube (already limited to the half terms to show). Each half
    term's figures are enrolment level within that half term (PA = share of enrolments with
    absence >= 10% in the half term).

    Returns academic_year, half_term, phase (``all`` or the school phase), enrolments,
    sessions_possible, attendance_pct, absence_pct, authorised_pct, unauthorised_pct,
    pa_pct, sa_pct.
    """
    keys = ["upn", "urn", "academic_year", "half_term"]
    table = add_rates(counts_from_cube(cube, keys))
    table = table[table["sessions_possible"] > 0]
    table = table.merge(schools[["urn", "phase"]], on="urn", how="left")
    table["academic_year"] = table["academic_year"].astype(str)
    table["phase"] = table["phase"].astype(object).fillna("unknown")
    whole = group_rates(table, ["academic_year", "half_term"]).assign(phase="all")
    phases = group_rates(table, ["academic_year", "half_term", "phase"])
    out = pd.concat([whole, phases], ignore_index=True)
    columns = [
        "academic_year", "half_term", "phase", "enrolments", "sessions_possible",
        "attendance_pct", "absence_pct", "authorised_pct", "unauthorised_pct", "pa_pct", "sa_pct",
    ]  # fmt: skip
    out["half_term"] = out["half_term"].astype(int)
    return out.sort_values(["phase", "academic_year", "half_term"]).reset_index(drop=True)[columns]


RATE_SUMMARY = ["attendance_pct", "absence_pct", "unauthorised_pct", "pa_pct", "sa_pct"]


def compare_groups(
    current: pd.DataFrame, previous: pd.DataFrame | None, by: str | list[str]
) -> pd.DataFrame:
    """Group rates this period with the same group's rates a year earlier.

    Returns the ``by`` columns, enrolments, sessions_possible, pa_enrolments, sa_enrolments,
    the five summary rates, and ``previous_year_<column>`` for absence, PA and SA and the
    enrolments, PA and SA enrolments they rest on.
    """
    by = [by] if isinstance(by, str) else list(by)
    now = group_rates(current, by)
    keep = [*by, "enrolments", "sessions_possible", "pa_enrolments", "sa_enrolments", *RATE_SUMMARY]
    now = now[keep]
    if previous is not None and not previous.empty:
        before = group_rates(previous, by)[[*by, *PREVIOUS_YEAR_COLUMNS]]
        before = before.rename(columns={c: f"previous_year_{c}" for c in before if c not in by})
        now = now.merge(before, on=by, how="left")
    else:
        for c in PREVIOUS_YEAR_COLUMNS:
            now[f"previous_year_{c}"] = np.nan
    return now


#: A year earlier, in :func:`compare_groups`: three rates and the counts they rest on.
PREVIOUS_YEAR_COLUMNS = (
    "absence_pct", "pa_pct", "sa_pct", "enrolments", "pa_enrolments", "sa_enrolments",
)  # fmt: skip
#: The previous year's counts: used for disclosure control, not shown (:func:`group_disclosure`).
PREVIOUS_YEAR_COUNTS = [
    "previous_year_enrolments", "previous_year_pa_enrolments", "previous_year_sa_enrolments",
]  # fmt: skip


#: The headline's private counts behind its PA and SA rows (used to suppress, never shown).
HEADLINE_SHARE_COUNTS = ("share_enrolments", "previous_year_share_enrolments")


def headline_disclosure(table: pd.DataFrame) -> dict:
    """``publish_table`` arguments for a :func:`headline` table (after :func:`shown_headline`).

    Counts and rates as shown; PA and SA are shares of enrolments, so each is suppressed when
    the enrolments it counts are 1 to 4 (private columns, not shown), this year and last, and
    the change follows either year's figure.
    """
    return _then_and_now_disclosure(
        ("value_pct", "previous_year_pct"),
        ("enrolments", "previous_year_enrolments"),
        tuple(c for c in HEADLINE_SHARE_COUNTS if c in table),
        rates=rate_columns(table),
        counts=["sessions_possible"],
    )


def _then_and_now_disclosure(
    pcts: tuple[str, str],
    enrolments: tuple[str, str],
    counted: tuple[str, ...],
    *,
    rates: list[str],
    counts: Sequence[str] = (),
) -> dict:
    """Two periods side by side with a change: each period's rate rests on its enrolments
    and, for PA and SA rows, on the enrolments it counts (``counted``: private); the change
    (``change_pp``) is the difference of the two rates as shown."""
    return {
        "counts": [*enrolments, *counts, *counted],
        "rates": rates,
        "denominator": enrolments[0],
        "denominators": {pcts[1]: enrolments[1]},
        "shares": dict(zip(pcts, counted, strict=False)),
        "differences": {"change_pp": list(pcts)},
        "private": list(counted),
    }


def group_disclosure(table: pd.DataFrame) -> dict:
    """``publish_table`` arguments for a :func:`compare_groups` table: its counts, the shares
    (PA and SA of enrolments, this year and a year earlier) and the previous year's counts
    kept private (used to suppress, not shown)."""
    private = [c for c in PREVIOUS_YEAR_COUNTS if c in table]
    shares = {"pa_pct": "pa_enrolments", "sa_pct": "sa_enrolments"}
    if private:
        shares |= {
            "previous_year_pa_pct": "previous_year_pa_enrolments",
            "previous_year_sa_pct": "previous_year_sa_enrolments",
        }
    return {
        "counts": [c for c in GROUP_COUNTS if c in table] + private,
        "shares": shares,
        "denominator": "enrolments",
        "denominators": {
            c: "previous_year_enrolments"
            for c in ("previous_year_absence_pct", "previous_year_pa_pct", "previous_year_sa_pct")
            if private
        },
        "private": private,
    }


def by_phase(current: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """:func:`compare_groups` by school phase (tables need a ``phase`` column)."""
    return compare_groups(current, previous, "phase").sort_values("phase").reset_index(drop=True)


# --------------------------------------------------------------------------------------
# Five attendance categories
# --------------------------------------------------------------------------------------


def five_categories(table: pd.DataFrame, schools: pd.DataFrame, *, all_label: str) -> pd.DataFrame:
    """Enrolments in each of the five attendance categories, for all schools and per school.

    Categories (``bands`` preset ``five_categories``; Lincolnshire strategy, DfE *Working
    together*): >= 95; > 90 and < 95; >= 80 and <= 90; > 50 and < 80; <= 50 (attendance %
    over the period, enrolment level).

    Returns
    -------
    DataFrame
        urn (as text; empty on the all-schools rows), school_name (``all_label`` for all
        schools),
        category, enrolments, total_enrolments, pct (enrolments / total x 100). Every
        category is listed, with 0 where no enrolment falls in it.
    """
    bands = resolve_bands(FIVE_CATEGORIES)
    cats = pd.Categorical(assign(table["attendance_pct"], bands), categories=bands.labels)
    frame = pd.DataFrame({"urn": table["urn"].to_numpy(), "category": cats})
    la = frame.groupby("category", observed=False).size().rename("enrolments").reset_index()
    la.insert(0, "urn", pd.NA)
    per = frame.groupby(["urn", "category"], observed=False).size().rename("enrolments")
    per = per.reset_index()
    out = pd.concat([la, per], ignore_index=True)
    names = schools.set_index("urn")["school_name"]
    school_name = out["urn"].map(names).astype(object).fillna(all_label)
    out["urn"] = out["urn"].map(lambda u: "" if pd.isna(u) else str(int(u)))
    totals = out.groupby("urn")["enrolments"].transform("sum")
    out["total_enrolments"] = totals.astype("int64")
    with np.errstate(invalid="ignore", divide="ignore"):
        out["pct"] = 100 * out["enrolments"] / out["total_enrolments"].replace(0, np.nan)
    out.insert(1, "school_name", school_name)
    out["category"] = out["category"].astype(str).map(category_name)
    return out[["urn", "school_name", "category", "enrolments", "total_enrolments", "pct"]]


# --------------------------------------------------------------------------------------
# Reasons for absence
# --------------------------------------------------------------------------------------

#: Label for an absence code that codes.REASON_OF_CODE does not group.
OTHER_REASON = "other absence"


def absence_reasons(
    cube: pd.DataFrame,
    sessions_possible: int,
    previous: pd.DataFrame | None = None,
    previous_possible: int | None = None,
) -> pd.DataFrame:
    """Absence by reason (grouping from :data:`attendance_lib.core.codes.REASON_OF_CODE`).

    Parameters
    ----------
    cube
        The cohort's cube rows for the period (:attr:`PeriodEnrolments.cube`).
    sessions_possible
        Possible sessions of the enrolments counted (the denominator of the rates).
    previous, previous_possible
        The same for the previous year at the same point (optional).

    Returns
    -------
    DataFrame
        reason, sessions, rate_pct (sessions / possible x 100: the reason's share of
        possible sessions, as the DfE reports illness or holiday rates), share_pct (of all
        absence sessions), sessions_possible, and previous_year_rate_pct with
        previous_year_sessions and previous_year_sessions_possible when ``previous`` is given
        (the counts behind the rates: private, for disclosure control).
    """
    absence = set(codes_in(Group.AUTHORISED, Group.UNAUTHORISED))

    def tally(frame: pd.DataFrame) -> pd.Series:
        codes = frame["code"].astype(str)
        rows = frame[codes.isin(absence).to_numpy()]
        reason = rows["code"].astype(str).map(lambda c: REASON_OF_CODE.get(c, OTHER_REASON))
        return rows["sessions"].groupby(reason.to_numpy()).sum()

    now = tally(cube)
    order = list(dict.fromkeys([*REASON_OF_CODE.values(), OTHER_REASON]))
    out = pd.DataFrame({"reason": [r for r in order if r in now.index]})
    out["sessions"] = out["reason"].map(now).astype("int64")
    total_absence = out["sessions"].sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["rate_pct"] = 100 * out["sessions"] / sessions_possible if sessions_possible else np.nan
        out["share_pct"] = 100 * out["sessions"] / total_absence if total_absence else np.nan
    if previous is not None:
        before = tally(previous)
        denominator = previous_possible or np.nan
        out["previous_year_sessions"] = out["reason"].map(before).fillna(0).astype("int64")
        out["previous_year_rate_pct"] = 100 * out["previous_year_sessions"] / denominator
        out["previous_year_sessions_possible"] = int(previous_possible or 0)
    out["sessions_possible"] = int(sessions_possible or 0)
    return out


def reasons_disclosure(table: pd.DataFrame) -> dict:
    """``publish_table`` arguments for an :func:`absence_reasons` table.

    Each rate is a share of possible sessions (or of absence) resting on its own sessions:
    it is ``c`` when those sessions are 1 to 4, this year's or last year's, and a rate on no
    sessions (0.0) is shown. The possible sessions and last year's sessions are private
    (used, never shown).
    """
    last_year = ("previous_year_sessions", "previous_year_sessions_possible")
    private = ["sessions_possible", *(c for c in last_year if c in table)]
    shares = {"rate_pct": "sessions", "share_pct": "sessions"}
    denominators = {}
    if "previous_year_sessions" in table:
        shares["previous_year_rate_pct"] = "previous_year_sessions"
        denominators["previous_year_rate_pct"] = "previous_year_sessions_possible"
    return {
        "counts": ["sessions", *private],
        "rates": [c for c in table if c.endswith("_pct")],
        "denominator": "sessions_possible",
        "denominators": denominators,
        "shares": shares,
        "private": private,
    }


def reason_group(reason: str) -> str:
    """Whether a reason's codes are authorised, unauthorised or both (for captions)."""
    kinds = {CODE_GROUP[c].name.lower() for c, r in REASON_OF_CODE.items() if r == reason}
    return " and ".join(sorted(kinds)) or "absence"


# --------------------------------------------------------------------------------------
# Term on term
# --------------------------------------------------------------------------------------


def previous_term(academic_year: str, term: str) -> tuple[str, str]:
    """The term before ``term``: spring -> autumn, summer -> spring, autumn -> last summer.

    For ``year`` the previous academic year (whole year) is returned.
    """
    if term == "year":
        return previous_year(academic_year), "year"
    order = ["autumn", "spring", "summer"]
    if term not in order:
        raise UsageError(f"term must be autumn, spring, summer or year, got {term!r}")
    i = order.index(term)
    return (academic_year, order[i - 1]) if i else (previous_year(academic_year), "summer")


def term_change(this_term: pd.DataFrame, last_term: pd.DataFrame) -> pd.DataFrame:
    """The headline measures of one term alone against the term before.

    Returns measure, this_term_pct, previous_term_pct, change_pp, this_term_enrolments,
    previous_term_enrolments, and the PA and SA rows' enrolments counted
    (``this_term_share_enrolments``, ``previous_term_share_enrolments``: private, for
    disclosure control; see :func:`measures`).
    """
    now, before = measures(this_term), measures(last_term)
    return pd.DataFrame(
        {
            "measure": now["measure"],
            "this_term_pct": now["value_pct"],
            "previous_term_pct": before["value_pct"].to_numpy(),
            "change_pp": displayed_change(now["value_pct"], before["value_pct"].to_numpy()),
            "this_term_enrolments": now["enrolments"],
            "previous_term_enrolments": before["enrolments"].to_numpy(),
            "this_term_share_enrolments": now["share_enrolments"],
            "previous_term_share_enrolments": before["share_enrolments"].to_numpy(),
        }
    )


def term_change_disclosure() -> dict:
    """``publish_table`` arguments for a :func:`term_change` table (PA and SA as shares)."""
    return _then_and_now_disclosure(
        ("this_term_pct", "previous_term_pct"),
        ("this_term_enrolments", "previous_term_enrolments"),
        ("this_term_share_enrolments", "previous_term_share_enrolments"),
        rates=["this_term_pct", "previous_term_pct", "change_pp"],
    )


# --------------------------------------------------------------------------------------
# Building a period's enrolment table from a dataset
# --------------------------------------------------------------------------------------


def enrolments(
    ds,
    cube: pd.DataFrame,
    academic_year: str,
    first_ht: int,
    last_ht: int,
    *,
    cohort: str = "dfe",
) -> PeriodEnrolments:
    """:func:`~.dfe_cohort.period_enrolments` with characteristics, school and services attached.

    With the DfE cohort, alternative provision and PRUs are in ``ap``, not ``table``.

    Services count when open at any point between the first day of ``first_ht`` and the
    last day of ``last_ht`` (calendar.csv).
    """
    calendar = Calendar(ds.calendar)
    period = period_enrolments(
        cube, ds.pupils, academic_year, last_ht, first_ht=first_ht, cohort=cohort,
        schools=ds.schools,
    )  # fmt: skip
    start, end = calendar.span(academic_year, first_ht, last_ht)
    table = attach_characteristics(
        period.table, ds.pupils, ds.schools, services_open(ds.services, start, end)
    )
    for column in ("phase", "locality"):
        table[column] = table[column].astype(object).fillna("unknown")
    return replace(period, table=table)


def year_to_date(
    ds, cube: pd.DataFrame, academic_year: str, term: str, *, cohort: str = "dfe"
) -> PeriodEnrolments | None:
    """The year to the end of ``term``; ``None`` when the year is not in calendar.csv."""
    if academic_year not in Calendar(ds.calendar).years:
        return None
    return enrolments(ds, cube, academic_year, 1, TERM_HALF_TERMS[term][1], cohort=cohort)


def term_alone(
    ds, cube: pd.DataFrame, academic_year: str, term: str, *, cohort: str = "dfe"
) -> PeriodEnrolments | None:
    """One term on its own (``year``: the whole year); ``None`` when not in calendar.csv."""
    if academic_year not in Calendar(ds.calendar).years:
        return None
    first, last = TERM_HALF_TERMS[term]
    return enrolments(ds, cube, academic_year, first, last, cohort=cohort)


def trend_cube(
    cube: pd.DataFrame, pupils: pd.DataFrame, academic_year: str, term: str, cohort: str = "dfe"
) -> pd.DataFrame:
    """The cohort's cube for every year up to ``academic_year`` (that year to the end of ``term``)."""
    # Each distinct year parsed once (a large LA's cube has millions of rows and three years).
    codes, years = pd.factorize(cube["academic_year"])
    year_start = np.array([parse_academic_year(str(y)) for y in years], dtype=np.int64)[codes]
    start = parse_academic_year(academic_year)
    last = TERM_HALF_TERMS[term][1]
    keep = (year_start < start) | ((year_start == start) & (cube["half_term"] <= last).to_numpy())
    kept, _, _ = apply_cohort(cube[keep], pupils, cohort)
    return kept


#: Why enrolments were left out, in readers' words (no file names).
EXCLUSION_WORDS = {
    NO_PUPIL_RECORD: "no pupil record for that year, so the age is unknown",
    OUTSIDE_AGE: "outside the DfE cohort: not aged 5 to 15 on 31 August, or not in years 1 to 11",
    ZERO_POSSIBLE: "no possible session in the period",
}


def exclusions_note(excluded: pd.DataFrame) -> str:
    """``Left out of every figure: 12 enrolments (reason); 3 enrolments (reason).`` for the
    page; reasons in words (:data:`EXCLUSION_WORDS`), reasons with no enrolment not listed."""
    parts = [
        f"{int(n):,} enrolment{'s' if n != 1 else ''} ({EXCLUSION_WORDS.get(reason, reason)})"
        for reason, n in zip(excluded["reason"], excluded["enrolments"], strict=True)
        if n
    ]
    if not parts:
        return "No enrolment was left out."
    return "Left out of every figure: " + "; ".join(parts) + "."


#: Count columns of :func:`compare_groups` tables.
GROUP_COUNTS = ["enrolments", "sessions_possible", "pa_enrolments", "sa_enrolments"]


def rate_columns(table: pd.DataFrame) -> list[str]:
    """The rate columns of a table (names ending ``_pct`` or ``_pp``, and funnel limits)."""
    return [c for c in table if c.endswith(("_pct", "_pp")) or c.startswith("limit_")]


def comparator_note(comparison: pd.DataFrame) -> str:
    """A footnote naming each comparator's period and basis (and any caveat)."""
    if comparison.empty:
        return "No comparators. Change: this year minus last, in percentage points."
    parts = [
        (f"{r.area}: {r.period}, {r.basis}" + (f" ({r.note})" if r.note else ""))
        if r.period
        else f"{r.area}: {r.note}"
        for r in comparison.drop_duplicates("area").itertuples()
    ]
    return (
        "Comparators: " + "; ".join(parts) + ". Change: this year minus last, in percentage points."
    )
