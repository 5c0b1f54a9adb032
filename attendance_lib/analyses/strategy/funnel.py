"""Schools and localities compared, with funnel limits so small schools are not ranked on noise.

A funnel plot (Spiegelhalter 2005, *Funnel plots for comparing institutional performance*)
shows each school's persistent absence rate against its number of enrolments, with control
limits around the LA rate that narrow as schools grow: 95% limits (about 1 in 20 schools
outside by chance) and 99.8% limits (about 1 in 500). A school outside the 99.8% limits
differs from the LA by more than chance would explain; inside them, its rank means little.
Limits come from :func:`attendance_lib.engine.stats.funnel_limits` (normal approximation to the
binomial).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from attendance_lib.analyses.strategy.termly import compare_groups
from attendance_lib.engine.stats import funnel_limits

#: The two funnel coverages drawn.
COVERAGES = (0.95, 0.998)
ABOVE_998 = "above the 99.8% limit"
ABOVE_95 = "above the 95% limit"
WITHIN = "within the limits"
BELOW_95 = "below the 95% limit"
BELOW_998 = "below the 99.8% limit"


def by_school(
    current: pd.DataFrame, previous: pd.DataFrame | None, schools: pd.DataFrame
) -> pd.DataFrame:
    """Each school's figures for the period, the previous year, and its funnel position.

    ``current`` and ``previous`` are enrolment tables with ``urn`` (PA rates are the share
    of the school's enrolments persistently absent). The LA PA rate that the limits centre
    on is the PA rate of all enrolments in ``current``.

    Returns urn, school_name, phase, locality, enrolments, sessions_possible, pa_enrolments,
    sa_enrolments, attendance_pct, absence_pct, unauthorised_pct, pa_pct, sa_pct,
    previous_year_absence_pct, previous_year_pa_pct, previous_year_sa_pct, limit_95_low,
    limit_95_high, limit_998_low, limit_998_high, funnel_position.
    """
    out = compare_groups(current, previous, "urn")
    info = [c for c in ("school_name", "phase", "locality") if c in schools]
    out = schools[["urn", *info]].merge(out, on="urn", how="inner")
    la_pa = 100 * current["persistent_absent"].sum() / len(current) if len(current) else np.nan
    out = pd.concat([out, funnel_columns(out["pa_pct"], out["enrolments"], la_pa)], axis=1)
    return out.sort_values("urn").reset_index(drop=True)


def funnel_columns(rate_pct: pd.Series, n: pd.Series, overall_pct: float) -> pd.DataFrame:
    """Funnel limits at each ``n`` and where each rate lies against them.

    ``funnel_position``: above / below the 99.8% limit, above / below the 95% limit, or
    within the limits (a rate exactly on a limit counts as within).
    """
    lo95, hi95 = funnel_limits(n.to_numpy(), overall_pct, COVERAGES[0])
    lo998, hi998 = funnel_limits(n.to_numpy(), overall_pct, COVERAGES[1])
    rate = rate_pct.to_numpy(dtype="float64")
    position = np.select(
        [rate > hi998, rate > hi95, rate < lo998, rate < lo95],
        [ABOVE_998, ABOVE_95, BELOW_998, BELOW_95],
        default=WITHIN,
    )
    return pd.DataFrame(
        {
            "limit_95_low": lo95,
            "limit_95_high": hi95,
            "limit_998_low": lo998,
            "limit_998_high": hi998,
            "funnel_position": position,
        },
        index=rate_pct.index,
    )


def funnel_curve(overall_pct: float, max_n: int, points: int = 200) -> pd.DataFrame:
    """The funnel's limit lines for drawing: n, low/high at 95% and 99.8%."""
    n = np.unique(np.geomspace(5, max(max_n, 10), points).round().astype(int))
    lo95, hi95 = funnel_limits(n, overall_pct, COVERAGES[0])
    lo998, hi998 = funnel_limits(n, overall_pct, COVERAGES[1])
    return pd.DataFrame(
        {"n": n, "low_95": lo95, "high_95": hi95, "low_998": lo998, "high_998": hi998}
    )


def by_locality(current: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """Localities compared (tables need a ``locality`` column): rates now and a year ago.

    Adds ``schools`` (schools with enrolments in the period) and funnel positions of each
    locality's PA rate against the LA rate.
    """
    out = compare_groups(current, previous, "locality")
    schools = current.groupby("locality")["urn"].nunique().rename("schools")
    out = out.merge(schools, on="locality", how="left")
    la_pa = 100 * current["persistent_absent"].sum() / len(current) if len(current) else np.nan
    position = funnel_columns(out["pa_pct"], out["enrolments"], la_pa)["funnel_position"]
    out["funnel_position"] = position.to_numpy()
    first = ["locality", "schools"]
    return (
        out[first + [c for c in out if c not in first]]
        .sort_values("locality")
        .reset_index(drop=True)
    )
