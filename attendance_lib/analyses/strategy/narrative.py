"""Plain sentences generated from the termly report's figures (no claims beyond the numbers).

Every sentence restates figures from a published table, rounded half up to one decimal
place (:func:`attendance_lib.core.numbers.round_half_up`); changes are computed from the
unrounded values and then rounded. "Unchanged" means the change rounds to 0.0 points.
"""

from __future__ import annotations

import math

import pandas as pd

from attendance_lib.analyses.strategy.funnel import describe_funnels
from attendance_lib.analyses.strategy.targets import describe_progress
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


def change_words(now: float, before: float) -> str:
    """``up 0.4 percentage points from 5.7%`` / ``down ...`` / ``unchanged from ...``."""
    if any(isinstance(v, float) and math.isnan(v) for v in (now, before)):
        return "with no earlier figure to compare"
    change = _round_change(float(now) - float(before))
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


def comparator_sentences(headline: pd.DataFrame, comparators: list[str]) -> list[str]:
    """Overall absence and PA against each comparator (lower / higher / the same, rounded)."""
    h = headline.set_index("measure")
    out = []
    for area in comparators:
        key = f"{slug(area)}_pct"
        if key not in h:
            continue
        for measure in ("overall_absence", "persistent_absence"):
            ours, theirs = h.loc[measure, "value_pct"], h.loc[measure, key]
            if pd.isna(theirs) or pd.isna(ours):
                continue
            diff = _round_change(float(ours) - float(theirs))
            relation = "the same as" if diff == 0 else ("above" if diff > 0 else "below")
            period = h.loc[measure, f"{slug(area)}_period"]
            short = MEASURE_WORDS[measure].split(" (")[0]
            out.append(
                f"{short.capitalize()} ({format_pct(ours)}) was {relation} "
                f"{area} ({format_pct(theirs)}, {period})."
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
        *comparator_sentences(headline, comparators),
        *school_sentences(schools),
        *(target_sentences(progress, period) if progress is not None else []),
    ]
    return "\n".join(f"- {s}" for s in sentences)
