"""Plain sentences generated from the termly report's figures (no claims beyond the numbers).

Every sentence restates figures from a published table, rounded half up to one decimal
place (:func:`attendance_lib.core.numbers.round_half_up`); changes are the difference of the
figures as displayed, so a reader's own subtraction agrees ("from 17.8% to 16.7%, down 1.1
points"). "Unchanged" means the displayed figures are equal. A comparator is compared only
for the same period and basis; otherwise the sentence says it is not yet published.
"""

from __future__ import annotations

import math

import pandas as pd

from attendance_lib.analyses.strategy.funnel import ABOVE_998, describe_funnels
from attendance_lib.analyses.strategy.targets import describe_progress, describe_target
from attendance_lib.analyses.strategy.termly import slug
from attendance_lib.core.numbers import format_pct, round_half_up

MEASURE_WORDS = {
    "overall_absence": "overall absence",
    "authorised_absence": "authorised absence",
    "unauthorised_absence": "unauthorised absence",
    "persistent_absence": "persistent absence (10% or more of sessions missed)",
    "severe_absence": "severe absence (50% or more of sessions missed)",
    "attendance": "attendance",
}


def _round_change(difference: float) -> float:
    """Half-up rounding of a difference, after removing float noise (6.25 - 5.7 is 0.55)."""
    return round_half_up(round(difference, 9))


def displayed_difference(now: float, before: float) -> float:
    """``now - before`` from the values as displayed (one decimal place, half up)."""
    return _round_change(round_half_up(float(now)) - round_half_up(float(before)))


def change_words(now: float, before: float) -> str:
    """``down 1.1 percentage points from 17.8%`` / ``up ...`` / ``unchanged from ...``.

    The change is the difference of the displayed figures, so "16.7%, down 1.1 percentage
    points from 17.8%" adds up for the reader.
    """
    if any(isinstance(v, float) and math.isnan(v) for v in (now, before)):
        return "with no earlier figure to compare"
    change = displayed_difference(now, before)
    if change == 0:
        return f"unchanged from {format_pct(before)}"
    direction = "up" if change > 0 else "down"
    return f"{direction} {abs(change):.1f} percentage points from {format_pct(before)}"


def headline_sentences(headline: pd.DataFrame, la_name: str, period: str) -> list[str]:
    """This period against the previous year at the same point, for the main measures."""
    h = headline.set_index("measure")
    out = []
    for measure in ("overall_absence", "persistent_absence", "severe_absence"):
        row = h.loc[measure]
        start = (
            f"In {period}, {MEASURE_WORDS[measure]} in {la_name} was {format_pct(row['value_pct'])}"
        )
        if pd.isna(row["previous_year_pct"]):
            out.append(f"{start} (no figure for the same point a year earlier).")
        else:
            words = change_words(row["value_pct"], row["previous_year_pct"])
            out.append(f"{start}, {words} a year earlier at the same point.")
    return out


def comparator_sentences(
    headline: pd.DataFrame, comparators: list[str], period: str | None = None
) -> list[str]:
    """Overall absence and PA against each comparator for the same period and basis.

    Where a comparator has no published figure for this period and basis, one sentence says
    so ("not yet published for this period"); no other period is ever set beside ours.
    """
    h = headline.set_index("measure")
    out = []
    for area in comparators:
        key = f"{slug(area)}_pct"
        have = key in h and h[key].notna().any()
        if not have:
            when = f" ({period})" if period else ""
            out.append(f"{area}'s figures are not yet published for this period{when}.")
            continue
        for measure in ("overall_absence", "persistent_absence"):
            ours, theirs = h.loc[measure, "value_pct"], h.loc[measure, key]
            if pd.isna(theirs) or pd.isna(ours):
                continue
            diff = displayed_difference(ours, theirs)
            relation = "the same as" if diff == 0 else ("above" if diff > 0 else "below")
            short = MEASURE_WORDS[measure].split(" (")[0]
            out.append(
                f"{short.capitalize()} ({format_pct(ours)}) was {relation} "
                f"{area} ({format_pct(theirs)}, the same period and basis)."
            )
    return out


def term_sentences(change: pd.DataFrame, this_term: str, last_term: str) -> list[str]:
    """The term alone against the term before."""
    c = change.set_index("measure")
    out = []
    for measure in ("overall_absence", "persistent_absence"):
        row = c.loc[measure]
        start = f"In the {this_term} alone, {MEASURE_WORDS[measure]} was {format_pct(row['this_term_pct'])}"
        if pd.isna(row["previous_term_pct"]):
            out.append(f"{start} (no figure for the {last_term}).")
        else:
            words = change_words(row["this_term_pct"], row["previous_term_pct"])
            out.append(f"{start}, {words} in the {last_term}.")
    return out


def school_sentences(schools: pd.DataFrame) -> list[str]:
    """Schools outside the 99.8% limits of their phase's funnel (:func:`.funnel.describe_funnels`)."""
    return describe_funnels(schools)


def target_sentences(progress: pd.DataFrame, period: str = "") -> list[str]:
    """Each target on its own basis (:func:`.targets.describe_progress`)."""
    return describe_progress(progress, f"in {period}" if period else "")


def _and(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def opening(
    *,
    headline: pd.DataFrame,
    schools: pd.DataFrame,
    progress: pd.DataFrame | None,
    la_name: str,
    period: str,
    next_period: str,
) -> dict[str, list[str]]:
    """The report's first page: what changed, what it means and what happens next.

    Returns ``{"What changed": [...], "What it means": [...], "What happens next": [...]}``,
    each a short list of sentences restating figures shown later in the report.
    """
    h = headline.set_index("measure")
    changed = []
    for measure in ("overall_absence", "persistent_absence", "severe_absence"):
        row = h.loc[measure]
        short = MEASURE_WORDS[measure].split(" (")[0]
        if pd.isna(row["previous_year_pct"]):
            changed.append(f"{short.capitalize()}: {format_pct(row['value_pct'])}.")
            continue
        diff = displayed_difference(row["value_pct"], row["previous_year_pct"])
        move = (
            "no change" if diff == 0 else f"{'up' if diff > 0 else 'down'} {abs(diff):.1f} points"
        )
        changed.append(
            f"{short.capitalize()}: from {format_pct(row['previous_year_pct'])} to "
            f"{format_pct(row['value_pct'])} ({move}) against the same point a year earlier."
        )
    moves: dict[str, list[str]] = {"fell": [], "rose": [], "was unchanged": []}
    for measure in ("overall_absence", "persistent_absence", "severe_absence"):
        row = h.loc[measure]
        if pd.notna(row["previous_year_pct"]):
            diff = displayed_difference(row["value_pct"], row["previous_year_pct"])
            key = "fell" if diff < 0 else ("rose" if diff > 0 else "was unchanged")
            moves[key].append(MEASURE_WORDS[measure].split(" (")[0])
    parts = [
        f"{_and(names)} {verb if len(names) == 1 else verb.replace('was ', 'were ')}"
        for verb, names in moves.items()
        if names
    ]
    verdict = (
        f"Compared with a year earlier in {la_name}, {_and(parts)}."
        if parts
        else f"There is no earlier figure for {la_name} to compare with."
    )
    means = [verdict]
    above = schools[schools["funnel_position"] == ABOVE_998]
    means.append(
        f"{len(above)} of {len(schools)} schools had persistent absence above the range "
        "expected by chance for their size (the 99.8% funnel limit)."
    )
    behind = []
    if progress is not None and not progress.empty:
        behind = [
            describe_target(r.measure, r.group)
            for r in progress.itertuples(index=False)
            if not r.met and not r.on_trajectory and pd.notna(r.current_pct)
        ]
        on = len(progress) - len(behind)
        means.append(f"{on} of {len(progress)} targets are met or on their trajectory.")
    nxt = []
    if len(above):
        nxt.append(
            f"The {len(above)} schools above the funnel limit are named in the schools section; "
            "their Targeting Support Meetings are the place to agree what happens next."
        )
    if behind:
        nxt.append("Targets not on trajectory: " + "; ".join(behind) + ".")
    nxt.append(f"The next report covers {next_period}.")
    return {"What changed": changed, "What it means": means, "What happens next": nxt}


def narrative(
    *,
    headline: pd.DataFrame,
    change: pd.DataFrame,
    schools: pd.DataFrame,
    progress: pd.DataFrame | None,
    la_name: str,
    period: str,
    this_term: str,
    last_term: str,
    comparators: list[str],
) -> str:
    """The report's summary as a bulleted list (``- `` lines, :mod:`~attendance_lib.core.markup`) built from the tables' figures."""
    sentences = [
        *headline_sentences(headline, la_name, period),
        *term_sentences(change, this_term, last_term),
        *comparator_sentences(headline, comparators, period),
        *school_sentences(schools),
        *(target_sentences(progress, period) if progress is not None else []),
    ]
    return "\n".join(f"- {s}" for s in sentences)
