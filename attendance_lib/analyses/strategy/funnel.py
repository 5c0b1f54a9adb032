"""Schools and localities compared, with funnel limits so small schools are not ranked on noise.

A funnel plot (Spiegelhalter 2005, *Funnel plots for comparing institutional performance*,
Statistics in Medicine 24:1185-1202) shows each school's persistent absence rate against its
number of enrolments, with control limits around a centre rate that narrow as schools grow:
95% limits (about 1 in 20 schools outside by chance) and 99.8% limits (about 1 in 500).

How the workbench follows the paper:

- **One funnel per phase.** Primary and secondary schools differ in persistent absence for
  reasons that are not performance, so each has its own funnel centred on its own rate (the
  share of all that phase's enrolments persistently absent). All-through schools go on the
  secondary funnel. Special schools and alternative provision (including PRUs) serve pupils
  placed there because of their needs or their absence; they are listed in a table beside
  the funnels (:data:`OFF_FUNNEL`), never on one, so none is flagged for being what it is.
- **Overdispersion: multiplicative (phi).** Schools differ by more than binomial chance
  (intake, area), so plain binomial limits flag far too many. For each funnel, the
  standardised scores ``z_i = (y_i - p) / sqrt(p (1 - p) / n_i)`` are winsorised at their
  10th and 90th percentiles (values beyond are set to those percentiles, so true outliers
  do not inflate the estimate) and ``phi = mean(z_w^2)`` (Spiegelhalter 2005, section 6.1).
  When phi is above 1, the limits are widened to ``p +/- z sqrt(phi p (1 - p) / n)``; when
  it is 1 or below, the plain binomial limits are used (phi is never used to narrow them).
  The text states phi and whether it was applied.

Limits come from :func:`attendance_lib.engine.stats.funnel_limits` (normal approximation to
the binomial): an overdispersion factor phi is the same as a sample size of ``n / phi``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from attendance_lib.analyses.strategy.termly import compare_groups
from attendance_lib.core.numbers import format_pct
from attendance_lib.engine.stats import funnel_limits

#: The two funnel coverages drawn.
COVERAGES = (0.95, 0.998)
ABOVE_998 = "above the 99.8% limit"
ABOVE_95 = "above the 95% limit"
WITHIN = "within the limits"
BELOW_95 = "below the 95% limit"
BELOW_998 = "below the 99.8% limit"
#: Schools listed beside the funnels, not on them.
NOT_ON_FUNNEL = "not on a funnel (listed separately)"
#: School phase -> the funnel it is drawn on.
FUNNEL_OF_PHASE = {"primary": "primary", "secondary": "secondary", "all_through": "secondary"}
#: The funnels, in the order shown.
FUNNELS = ("primary", "secondary")
#: Phases listed beside the funnels.
OFF_FUNNEL = ("special", "alternative_provision")
#: Winsorising percentiles for the overdispersion estimate (Spiegelhalter 2005: 10% each end).
WINSOR = (10.0, 90.0)


@dataclass(frozen=True)
class FunnelFit:
    """One funnel: its centre, the estimated and applied overdispersion, and its schools.

    ``phi``: the estimate from winsorised z-scores; ``phi_applied``: phi when above 1,
    else 1 (plain binomial limits). ``schools``: schools on the funnel.
    """

    funnel: str
    centre_pct: float
    phi: float
    phi_applied: float
    schools: int


def overdispersion(rate_pct, n, centre_pct: float, winsor: tuple[float, float] = WINSOR) -> float:
    """Spiegelhalter's multiplicative overdispersion factor from winsorised z-scores.

    ``z_i = (y_i - p) / sqrt(p (1 - p) / n_i)``; z is winsorised at the ``winsor``
    percentiles (numpy's linear interpolation) and ``phi = mean(z_w^2)``. NaN with no
    school, or when the centre is 0 or 100%. Schools with no enrolments are left out.
    """
    y = np.asarray(rate_pct, dtype="float64") / 100
    size = np.asarray(n, dtype="float64")
    keep = (size > 0) & ~np.isnan(y)
    y, size = y[keep], size[keep]
    p = centre_pct / 100
    if len(y) == 0 or not 0 < p < 1:
        return float("nan")
    z = (y - p) / np.sqrt(p * (1 - p) / size)
    low, high = np.percentile(z, winsor)
    return float(np.mean(np.clip(z, low, high) ** 2))


def fit_funnel(funnel: str, pa_enrolments, enrolments) -> FunnelFit:
    """The funnel of these schools: centre = their pooled PA rate, phi from :func:`overdispersion`."""
    count = np.asarray(pa_enrolments, dtype="float64")
    size = np.asarray(enrolments, dtype="float64")
    total = size.sum()
    centre = 100 * count.sum() / total if total else float("nan")
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = 100 * count / size
    phi = overdispersion(rate, size, centre)
    applied = phi if phi > 1 else 1.0
    return FunnelFit(funnel, float(centre), phi, float(applied), int((size > 0).sum()))


def by_school(
    current: pd.DataFrame, previous: pd.DataFrame | None, schools: pd.DataFrame
) -> pd.DataFrame:
    """Each school's figures for the period, the previous year, and its funnel position.

    ``current`` and ``previous`` are enrolment tables with ``urn`` (PA rates are the share
    of the school's enrolments persistently absent). Each school is placed on its phase's
    funnel (:data:`FUNNEL_OF_PHASE`), whose centre is the PA rate of that funnel's schools'
    enrolments and whose limits allow for overdispersion (see the module docstring).
    Special schools, AP and schools of no known phase are :data:`NOT_ON_FUNNEL`.

    Returns urn, school_name, phase, locality, enrolments, sessions_possible, pa_enrolments,
    sa_enrolments, attendance_pct, absence_pct, unauthorised_pct, pa_pct, sa_pct,
    previous_year_absence_pct, previous_year_pa_pct, previous_year_sa_pct, funnel,
    funnel_centre_pct, limit_95_low, limit_95_high, limit_998_low, limit_998_high,
    funnel_position.
    """
    out = compare_groups(current, previous, "urn")
    info = [c for c in ("school_name", "phase", "locality") if c in schools]
    out = schools[["urn", *info]].merge(out, on="urn", how="inner")
    phase = out["phase"] if "phase" in out else pd.Series(np.nan, index=out.index)
    out["funnel"] = phase.map(FUNNEL_OF_PHASE)
    out["funnel_centre_pct"] = np.nan
    limits = pd.DataFrame(
        {c: np.nan for c in ("limit_95_low", "limit_95_high", "limit_998_low", "limit_998_high")},
        index=out.index,
    )
    limits["funnel_position"] = NOT_ON_FUNNEL
    for name, rows in out.groupby("funnel"):
        fit = fit_funnel(str(name), rows["pa_enrolments"], rows["enrolments"])
        out.loc[rows.index, "funnel_centre_pct"] = fit.centre_pct
        limits.loc[rows.index] = funnel_columns(
            rows["pa_pct"], rows["enrolments"], fit.centre_pct, fit.phi_applied
        )
    out = pd.concat([out, limits], axis=1)
    return out.sort_values("urn").reset_index(drop=True)


def funnel_fits(schools: pd.DataFrame) -> dict[str, FunnelFit]:
    """The fit of each funnel with schools, from a :func:`by_school` table, in :data:`FUNNELS` order."""
    fits = {}
    for name in FUNNELS:
        rows = schools[schools["funnel"] == name]
        if len(rows):
            fits[name] = fit_funnel(name, rows["pa_enrolments"], rows["enrolments"])
    return fits


def off_funnel(schools: pd.DataFrame) -> pd.DataFrame:
    """The schools listed beside the funnels (special, AP, unknown phase), from :func:`by_school`."""
    keep = [
        c
        for c in schools
        if not c.startswith("limit_")
        and c not in ("funnel", "funnel_centre_pct", "funnel_position")
    ]
    return schools.loc[schools["funnel"].isna(), keep].reset_index(drop=True)


def funnel_columns(
    rate_pct: pd.Series, n: pd.Series, overall_pct: float, phi: float = 1.0
) -> pd.DataFrame:
    """Funnel limits at each ``n`` and where each rate lies against them.

    ``phi`` is the multiplicative overdispersion applied (1: plain binomial limits).
    ``funnel_position``: above / below the 99.8% limit, above / below the 95% limit, or
    within the limits (a rate exactly on a limit counts as within).
    """
    size = n.to_numpy(dtype="float64") / phi
    lo95, hi95 = funnel_limits(size, overall_pct, COVERAGES[0])
    lo998, hi998 = funnel_limits(size, overall_pct, COVERAGES[1])
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


def funnel_curve(
    overall_pct: float, max_n: int, points: int = 200, phi: float = 1.0
) -> pd.DataFrame:
    """The funnel's limit lines for drawing: n, low/high at 95% and 99.8% (``phi`` as applied)."""
    n = np.unique(np.geomspace(5, max(max_n, 10), points).round().astype(int))
    lo95, hi95 = funnel_limits(n / phi, overall_pct, COVERAGES[0])
    lo998, hi998 = funnel_limits(n / phi, overall_pct, COVERAGES[1])
    return pd.DataFrame(
        {"n": n, "low_95": lo95, "high_95": hi95, "low_998": lo998, "high_998": hi998}
    )


def describe_adjustment(fit: FunnelFit) -> str:
    """One sentence: the funnel's centre and which overdispersion adjustment was used."""
    head = (
        f"The {fit.funnel} funnel ({fit.schools} schools) is centred on "
        f"{format_pct(fit.centre_pct)}, the share of its schools' enrolments persistently absent"
    )
    if np.isnan(fit.phi):
        return head + "; overdispersion could not be estimated, so the limits are binomial."
    if fit.phi > 1:
        return (
            head + f". Schools vary more than chance alone would explain (overdispersion "
            f"factor phi = {fit.phi:.2f}, from z-scores winsorised at 10% and 90%), so the "
            "limits are widened by the square root of phi (Spiegelhalter's multiplicative "
            "adjustment)."
        )
    return (
        head + f". Schools vary no more than chance would explain (phi = {fit.phi:.2f}), so "
        "the limits are the plain binomial ones (no adjustment)."
    )


def outside_998(schools: pd.DataFrame) -> pd.DataFrame:
    """Schools on a funnel outside its 99.8% limits: urn, school_name, funnel, enrolments, pa_pct, funnel_position."""
    cols = [
        c
        for c in ("urn", "school_name", "funnel", "enrolments", "pa_pct", "funnel_position")
        if c in schools
    ]
    out = schools[schools["funnel_position"].isin([ABOVE_998, BELOW_998])]
    return (
        out[cols].sort_values(["funnel", "pa_pct"], ascending=[True, False]).reset_index(drop=True)
    )


def describe_funnels(schools: pd.DataFrame) -> list[str]:
    """Sentences: schools outside the 99.8% limits on each funnel, and those listed beside."""
    out = []
    for name, fit in funnel_fits(schools).items():
        rows = schools[schools["funnel"] == name]
        above = int((rows["funnel_position"] == ABOVE_998).sum())
        below = int((rows["funnel_position"] == BELOW_998).sum())
        plain = funnel_columns(rows["pa_pct"], rows["enrolments"], fit.centre_pct)
        plain_out = int(plain["funnel_position"].isin([ABOVE_998, BELOW_998]).sum())
        adjusted = (
            f"limits widened for overdispersion, phi = {fit.phi:.2f}; with plain binomial "
            f"limits {plain_out} would have been outside"
            if fit.phi_applied > 1
            else "binomial limits, no overdispersion adjustment needed"
        )
        out.append(
            f"Of {len(rows)} {name} schools, {above} had a persistent absence rate above the "
            f"99.8% funnel limit and {below} below it ({adjusted}); the other "
            f"{len(rows) - above - below} were within the range expected by chance at that level."
        )
    off = int(schools["funnel"].isna().sum())
    if off:
        out.append(
            f"{off} special, alternative provision or other schools are listed beside the "
            "funnels rather than compared on them."
        )
    return out


#: Colour of the centre line (Okabe-Ito orange, as the house style's second colour).
CENTRE_COLOUR = "#E69F00"
LIMIT_COLOUR = "#555555"


def draw_funnel(ax, rows: pd.DataFrame, fit: FunnelFit) -> None:
    """Draw one funnel on matplotlib axes: the schools, the limits, the centre, outliers named.

    ``rows`` are the :func:`by_school` rows shown on this funnel. Schools outside the 99.8%
    limits are labelled with their names, as plain text (``parse_math=False``, so a ``$`` in
    a name is not read as mathematics), spread by :func:`label_offsets` so labels do not
    overlap, each joined to its point by a thin line.
    """
    curve = funnel_curve(fit.centre_pct, int(rows["enrolments"].max()), phi=fit.phi_applied)
    ax.scatter(rows["enrolments"], rows["pa_pct"], zorder=3)
    for column, style in (("low_95", "--"), ("high_95", "--"), ("low_998", ":"), ("high_998", ":")):
        ax.plot(curve["n"], curve[column], color=LIMIT_COLOUR, linestyle=style)
    ax.axhline(fit.centre_pct, color=CENTRE_COLOUR)
    flagged = rows[rows["funnel_position"].isin([ABOVE_998, BELOW_998])]
    if flagged.empty:
        return
    ax.autoscale_view()
    points = ax.transData.transform(flagged[["enrolments", "pa_pct"]].to_numpy(float))
    heights = points[:, 1] * 72 / ax.figure.dpi  # in points, the unit of label offsets
    moved = label_offsets(heights, 11) - heights
    for x, y, dy, label in zip(
        flagged["enrolments"], flagged["pa_pct"], moved, flagged["school_name"].astype(str),
        strict=True,
    ):  # fmt: skip
        ax.annotate(
            label, (x, y), xytext=(6, dy), textcoords="offset points", fontsize=8,
            va="center", parse_math=False,
            arrowprops={"arrowstyle": "-", "color": "#999999", "linewidth": 0.6},
        )  # fmt: skip


def describe_chart(rows: pd.DataFrame, fit: FunnelFit) -> str:
    """Alt text for :func:`draw_funnel`: what is drawn and which schools lie outside."""
    flagged = rows[rows["funnel_position"].isin([ABOVE_998, BELOW_998])]
    names = "; ".join(flagged["school_name"].astype(str)) or "none"
    return (
        f"Funnel plot of {len(rows)} {fit.funnel} schools' persistent absence against "
        f"enrolments, centred on {format_pct(fit.centre_pct)}, with 95% (dashed) and 99.8% "
        f"(dotted) limits; outside the 99.8% limits: {names}."
    )


def label_offsets(y_pixels, min_gap: float) -> np.ndarray:
    """Vertical positions for chart labels at least ``min_gap`` apart, as near their points as possible.

    ``y_pixels`` are the points' heights (any unit). Labels are sorted by height, pushed up
    where they crowd the one below, then the whole run is shifted down by half its total
    push so no label strays far. Returns the new heights in the input order.
    """
    y = np.asarray(y_pixels, dtype="float64")
    if len(y) == 0:
        return y
    order = np.argsort(y, kind="stable")
    placed = y[order].copy()
    for i in range(1, len(placed)):
        placed[i] = max(placed[i], placed[i - 1] + min_gap)
    placed -= (placed - y[order]).max() / 2
    for i in range(1, len(placed)):  # keep the gap after the shift
        placed[i] = max(placed[i], placed[i - 1] + min_gap)
    out = np.empty_like(y)
    out[order] = placed
    return out


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
