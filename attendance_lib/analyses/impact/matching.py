"""A matched comparison group and the difference-in-differences estimate of impact.

Why: children are chosen for an intervention because their attendance was unusually low, and
such children improve on average without any help (regression to the mean). A before/after
comparison alone therefore overstates the effect. The comparison group shows how much of the
change would have happened anyway.

Method (see ``docs/methodology.md``, "12-week impact evaluation"):

- pool: pupils with no attendance-team intervention started on or before the end of the
  treated pupil's review window (so none open in, or before, the windows; pupils first treated
  later stay eligible, because leaving them out would select on the future), on roll (a
  ``pupils.csv`` record) in the start date's academic year, persistently absent at pupil level
  (absence % >= 10) over the treated pupil's own baseline window (same calendar dates), with
  a possible session in both windows;
- matching: exact on the phase of the school of record (``schools.csv``), FSM and SEN status
  (N / K / E) in that year; the (default) 5 nearest neighbours on baseline attendance % within
  a caliper (default 2.5 percentage points), with replacement (a comparison pupil may serve
  several treated pupils); ties go to the nearest year group, then the lower UPN, so results
  are reproducible. Exact matching on year group as well left too many of the most absent
  pupils unmatched in a small LA (see the methodology); year group and an open involvement
  in ``services.csv`` are shown in the balance table; treated pupils with no comparison inside the
  caliper are counted as unmatched;
- estimate: the mean over matched treated pupils of (treated change - mean change of its
  comparisons), each change measured over the same calendar windows; 95% percentile
  bootstrap interval resampling treated pupils with their comparisons
  (:func:`attendance_lib.engine.stats.bootstrap_ci`);
- balance: standardised mean differences of the matching variables before and after matching,
  both divided by the pooled standard deviation before matching (Austin 2009).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from attendance_lib.analyses.impact.windows import MarkIndex
from attendance_lib.core.numbers import format_pct
from attendance_lib.engine.sessions import PA_THRESHOLD
from attendance_lib.engine.stats import bootstrap_ci

#: Default caliper on baseline attendance, in percentage points.
DEFAULT_CALIPER_PP = 2.5
EXACT_ON = ("phase", "fsm", "sen")
#: Default number of nearest comparison pupils per treated pupil.
DEFAULT_NEIGHBOURS = 5
WINDOW_COLUMNS = ["baseline_start", "baseline_end", "review_start", "review_end"]
EFFECT_COLUMNS = ["method", "estimate_pp", "ci_low", "ci_high", "n_treated", "n_comparison"]
_YEAR_NUMBER = {"N1": -2, "N2": -1, "R": 0}


def open_service_on(upns: pd.Series, dates: pd.Series, services: pd.DataFrame | None) -> np.ndarray:
    """True where the pupil had a ``services.csv`` involvement open on the date (started on or
    before it, with no end date or ending on or after it)."""
    rows = pd.DataFrame({"upn": upns.astype(str).to_numpy(), "date": pd.to_datetime(dates)})
    rows["_row"] = np.arange(len(rows))
    if services is None or services.empty:
        return np.zeros(len(rows), dtype=bool)
    svc = services[["upn", "start_date", "end_date"]].assign(upn=services["upn"].astype(str))
    hits = rows.merge(svc, on="upn")
    hits = hits[
        (hits["start_date"] <= hits["date"])
        & (hits["end_date"].isna() | (hits["end_date"] >= hits["date"]))
    ]
    out = np.zeros(len(rows), dtype=bool)
    out[hits["_row"].to_numpy()] = True
    return out


def comparison_pool(
    evaluated: pd.DataFrame,
    marks: pd.DataFrame | MarkIndex,
    pupils: pd.DataFrame,
    schools: pd.DataFrame,
    interventions: pd.DataFrame,
    services: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Candidate comparison pupils for each start date among the evaluable interventions.

    Parameters
    ----------
    evaluated
        :func:`~attendance_lib.analyses.impact.evaluation.evaluate_interventions` output.
    marks
        Register marks covering the windows, or a
        :class:`~attendance_lib.analyses.impact.windows.MarkIndex` of them.
    pupils, schools
        ``pupils.csv`` (school, year group, FSM, SEN per academic year) and ``schools.csv``
        (the school's phase).
    interventions
        Every attendance-team intervention in the data (not only the selected ones): a pupil
        whose first intervention started on or before a review window's end is not a
        comparison for it.
    services
        ``services.csv`` (exact matching on an open involvement at the start date).

    Returns
    -------
    DataFrame
        One row per (start_date, pupil) eligible as a comparison: upn, academic_year,
        year_group, fsm, sen, open_service, the windows, baseline and review attendance % and
        change_pp.
    """
    index = marks if isinstance(marks, MarkIndex) else MarkIndex.build(marks)
    ev = evaluated[evaluated["evaluable"]]
    dates = ev[["start_date", "academic_year", *WINDOW_COLUMNS]].drop_duplicates("start_date")
    cand = pupils[["upn", "academic_year", "urn", "year_group", "fsm", "sen"]].merge(
        schools[["urn", "phase"]], on="urn", how="left"
    )
    cand = cand.assign(upn=cand["upn"].astype(str))
    cand["_code"] = index.codes(cand["upn"])
    cand = cand[cand["_code"] >= 0].sort_values("_code")  # sorted lookups are cache-friendly
    by_year = {y: f.drop(columns="academic_year") for y, f in cand.groupby("academic_year")}
    pieces = [_eligible_on(index, window, by_year) for window in dates.itertuples(index=False)]
    columns = [
        *dates.columns,
        *cand.columns.drop("academic_year"),
        "baseline_attendance_pct",
        "review_attendance_pct",
    ]
    pool = pd.concat([p for p in pieces if len(p)], ignore_index=True) if pieces else None
    if pool is None or pool.empty:
        pool = pd.DataFrame(columns=columns)
    pool = pool.drop(columns="_code")
    first = (
        pd.to_datetime(interventions["start_date"])
        .groupby(interventions["upn"].astype(str).to_numpy())
        .min()
    )
    first_start = pool["upn"].map(first)
    pool = pool[first_start.isna() | (first_start > pool["review_end"])].reset_index(drop=True)
    pool["open_service"] = open_service_on(pool["upn"], pool["start_date"], services)
    pool["change_pp"] = pool["review_attendance_pct"] - pool["baseline_attendance_pct"]
    return pool


def _eligible_on(index: MarkIndex, window, by_year: dict) -> pd.DataFrame:
    """Pupils of the window's academic year persistently absent over its baseline, with a
    possible session in both windows (one start date; keeps memory to one year's roll)."""
    cand = by_year.get(window.academic_year)
    if cand is None:
        return pd.DataFrame()
    codes = cand["_code"].to_numpy()
    base = index.counts(None, window.baseline_start, window.baseline_end, codes=codes)
    possible = base.sum(axis=1)
    absent = base[:, 2] + base[:, 3]
    keep = (possible > 0) & (absent * 100 >= PA_THRESHOLD * possible)
    cand, base, possible = cand[keep], base[keep], possible[keep]
    rev = index.counts(None, window.review_start, window.review_end, codes=cand["_code"].to_numpy())
    rev_possible = rev.sum(axis=1)
    ok = rev_possible > 0
    out = cand[ok].copy()
    out["baseline_attendance_pct"] = (base[ok, 0] + base[ok, 1]) * 100 / possible[ok]
    out["review_attendance_pct"] = (rev[ok, 0] + rev[ok, 1]) * 100 / rev_possible[ok]
    for name, value in window._asdict().items():
        out.insert(0, name, value)
    return out


def match_comparisons(
    evaluated: pd.DataFrame,
    pool: pd.DataFrame,
    *,
    caliper_pp: float = DEFAULT_CALIPER_PP,
    neighbours: int = DEFAULT_NEIGHBOURS,
) -> pd.DataFrame:
    """Up to ``neighbours`` nearest comparison pupils (with replacement) within the caliper,
    exact on school phase, FSM, SEN and the start date (so the same calendar windows); ties on
    baseline distance go to the nearest year group, then the lower UPN.

    Returns
    -------
    DataFrame
        One row per (matched intervention, comparison pupil): intervention_id, start_date, the exact-match
        columns, baseline_attendance_pct, change_pp (treated), upn_comparison,
        baseline_attendance_pct_comparison, change_pp_comparison, distance_pp.
    """
    ev = evaluated[evaluated["evaluable"]]
    keys = ["start_date", *EXACT_ON]
    t = ev[["intervention_id", *keys, "year_group", "baseline_attendance_pct", "change_pp"]]
    t = t.dropna(subset=list(EXACT_ON))
    c = pool[[*keys, "upn", "year_group", "baseline_attendance_pct", "change_pp"]].rename(
        columns={
            "upn": "upn_comparison",
            "year_group": "year_group_comparison",
            "baseline_attendance_pct": "baseline_attendance_pct_comparison",
            "change_pp": "change_pp_comparison",
        }
    )
    pairs = t.merge(c, on=keys, how="inner")
    pairs["distance_pp"] = (
        pairs["baseline_attendance_pct"] - pairs["baseline_attendance_pct_comparison"]
    ).abs()
    pairs = pairs[pairs["distance_pp"] <= caliper_pp].copy()
    pairs["_years"] = (
        _year_number(pairs["year_group"]) - _year_number(pairs["year_group_comparison"])
    ).abs()
    pairs = pairs.sort_values(
        ["intervention_id", "distance_pp", "_years", "upn_comparison"], kind="stable"
    )
    pairs = pairs[pairs.groupby("intervention_id").cumcount() < int(neighbours)]
    return pairs.drop(columns="_years").reset_index(drop=True)


def _year_number(year_group: pd.Series) -> pd.Series:
    """National Curriculum year as a number (N1 = -2, N2 = -1, R = 0)."""
    return pd.to_numeric(year_group.astype(str).replace(_YEAR_NUMBER), errors="coerce")


def _mean_ci(values: np.ndarray, reps: int, seed: int) -> tuple[float, float, float]:
    if len(values) == 0:
        return np.nan, np.nan, np.nan
    low, high = bootstrap_ci(
        lambda idx: float(values[idx].mean()), len(values), reps=reps, seed=seed
    )
    return float(values.mean()), low, high


def effect_table(
    evaluated: pd.DataFrame,
    pairs: pd.DataFrame | None,
    *,
    reps: int = 2000,
    seed: int = 12345,
) -> pd.DataFrame:
    """The ``effect`` table: before/after and (with a comparison) difference-in-differences.

    ``before_after``: mean change (review % - baseline %) over evaluable interventions, with a
    bootstrap interval resampling interventions; ``n_comparison`` 0.
    ``difference_in_differences``: mean over matched treated pupils of (treated change - mean
    change of its comparisons), bootstrap interval resampling treated pupils with their
    comparisons; ``n_treated`` = matched interventions, ``n_comparison`` = distinct comparison
    pupils. Pass ``pairs=None`` for no comparison (``comparison: none``).
    """
    change = evaluated.loc[evaluated["evaluable"], "change_pp"].to_numpy(dtype="float64")
    est, low, high = _mean_ci(change, reps, seed)
    rows = [("before_after", est, low, high, len(change), 0)]
    if pairs is not None:
        per = pairs.groupby("intervention_id", sort=False)
        diff = (per["change_pp"].first() - per["change_pp_comparison"].mean()).to_numpy(
            dtype="float64"
        )
        est, low, high = _mean_ci(diff, reps, seed)
        rows.append(
            (
                "difference_in_differences",
                est,
                low,
                high,
                len(diff),
                int(pairs["upn_comparison"].nunique()),
            )
        )
    return pd.DataFrame(rows, columns=EFFECT_COLUMNS)


def _covariates(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "baseline_attendance_pct": frame["baseline_attendance_pct"].to_numpy(dtype=float),
            "year_group": _year_number(frame["year_group"]).to_numpy(),
            "primary_phase_pct": 100 * (frame["phase"] == "primary").astype(float).to_numpy(),
            "fsm_pct": 100 * frame["fsm"].astype(float).to_numpy(),
            "sen_support_pct": 100 * (frame["sen"] == "K").astype(float).to_numpy(),
            "ehc_plan_pct": 100 * (frame["sen"] == "E").astype(float).to_numpy(),
            "open_service_pct": 100 * frame["open_service"].astype(float).to_numpy(),
        }
    )


def _wmean_var(x: pd.DataFrame, w: np.ndarray) -> tuple[pd.Series, pd.Series]:
    w = np.asarray(w, dtype=float)
    mean = (x.mul(w, axis=0)).sum() / w.sum()
    var = ((x - mean) ** 2).mul(w, axis=0).sum() / w.sum()
    return mean, var


def matching_balance(
    evaluated: pd.DataFrame, pool: pd.DataFrame, pairs: pd.DataFrame
) -> pd.DataFrame:
    """Standardised mean differences of the matching variables before and after matching.

    Before: evaluable treated interventions vs the whole pool, each pool row weighted by the
    number of treated interventions sharing its start date (the same windows). After: matched
    treated vs their matched comparisons, each comparison weighted 1/k where k is the number
    of comparisons its treated pupil has (so every treated pupil weighs the same). Both SMDs use
    the pooled standard deviation before matching: (mean_t - mean_c) / sqrt((var_t + var_c)/2).

    Returns
    -------
    DataFrame
        covariate, treated_before, comparison_before, smd_before, treated_after,
        comparison_after, smd_after.
    """
    ev = evaluated[evaluated["evaluable"]]
    per_date = ev.groupby("start_date").size()
    t_cov = _covariates(ev)
    c_cov = _covariates(pool)
    mt, vt = _wmean_var(t_cov, np.ones(len(t_cov)))
    mc, vc = _wmean_var(c_cov, pool["start_date"].map(per_date).fillna(0).to_numpy())
    sd = np.sqrt((vt + vc) / 2).replace(0, np.nan)
    matched_t = ev.set_index("intervention_id").loc[pairs["intervention_id"].unique()]
    matched_t = matched_t.reset_index()
    comp = (
        pool.set_index(["start_date", "upn"])
        .loc[pd.MultiIndex.from_arrays([pairs["start_date"], pairs["upn_comparison"]])]
        .reset_index()
    )
    k = pairs.groupby("intervention_id")["upn_comparison"].transform("size").to_numpy()
    at = _covariates(matched_t).mean()
    ac, _ = _wmean_var(_covariates(comp), 1 / k)
    out = pd.DataFrame(
        {
            "treated_before": mt,
            "comparison_before": mc,
            "smd_before": (mt - mc) / sd,
            "treated_after": at,
            "comparison_after": ac,
            "smd_after": (at - ac) / sd,
        }
    )
    return out.rename_axis("covariate").reset_index()


def describe_effect(effect: pd.DataFrame, pairs: pd.DataFrame | None, n_evaluable: int) -> str:
    """The before/after and difference-in-differences estimates, and how much of the change
    would have happened anyway, in words."""
    ba = effect.iloc[0]
    text = (
        f"Before and after: attendance changed by {format_pct(ba.estimate_pp, sign=True, unit='')} percentage points on "
        f"average (95% interval {format_pct(ba.ci_low, sign=True, unit='')} to {format_pct(ba.ci_high, sign=True, unit='')}; {int(ba.n_treated):,} "
        "evaluable interventions). This alone overstates the effect: pupils picked for low "
        "attendance tend to improve anyway (regression to the mean)."
    )
    if pairs is None or len(effect) < 2:
        return text + " No comparison group was used (`comparison: none`)."
    did = effect.iloc[1]
    if len(pairs) == 0:
        return text + " No treated pupil could be matched to a comparison pupil."
    per = pairs.groupby("intervention_id")
    t_change = per["change_pp"].first().mean()
    c_change = per["change_pp_comparison"].mean().mean()
    share = 100 * c_change / t_change if t_change > 0 else np.nan
    anyway = (
        f"about {share:.0f}% of the matched pupils' change would have happened anyway"
        if np.isfinite(share)
        else "the matched pupils' attendance did not rise on average"
    )
    return (
        text
        + f"\n\nMatched comparison: {int(did.n_treated):,} of {n_evaluable:,} evaluable interventions "
        f"were matched to {int(did.n_comparison):,} comparison pupils. Over the same windows the "
        f"treated pupils changed by {format_pct(t_change, sign=True, unit='')} points and their comparisons by "
        f"{format_pct(c_change, sign=True, unit='')} points, so {anyway}. The difference-in-differences estimate of the "
        f"intervention's effect is {format_pct(did.estimate_pp, sign=True, unit='')} points (95% bootstrap interval "
        f"{format_pct(did.ci_low, sign=True, unit='')} to {format_pct(did.ci_high, sign=True, unit='')})."
    )


def matched_window_means(pairs: pd.DataFrame) -> pd.DataFrame:
    """Mean baseline and review attendance % of the matched treated pupils and of their
    comparisons (each comparison weighted 1/k, so every treated pupil weighs the same).

    Returns
    -------
    DataFrame
        group (``treated``, ``comparison``), pupils, baseline_attendance_pct,
        review_attendance_pct, change_pp.
    """
    per = pairs.assign(
        review_t=pairs["baseline_attendance_pct"] + pairs["change_pp"],
        review_c=pairs["baseline_attendance_pct_comparison"] + pairs["change_pp_comparison"],
    ).groupby("intervention_id")
    t_base = per["baseline_attendance_pct"].first().mean()
    t_rev = per["review_t"].first().mean()
    c_base = per["baseline_attendance_pct_comparison"].mean().mean()
    c_rev = per["review_c"].mean().mean()
    return pd.DataFrame(
        {
            "group": ["treated", "comparison"],
            "pupils": [pairs["intervention_id"].nunique(), pairs["upn_comparison"].nunique()],
            "baseline_attendance_pct": [t_base, c_base],
            "review_attendance_pct": [t_rev, c_rev],
            "change_pp": [t_rev - t_base, c_rev - c_base],
        }
    )


def describe_window_means(means: pd.DataFrame) -> str:
    """Alt text for the before/after chart of :func:`matched_window_means`."""
    parts = [
        f"{r.group}: {format_pct(r.baseline_attendance_pct)} to {format_pct(r.review_attendance_pct)} "
        f"({format_pct(r.change_pp, sign=True, unit='')} points)"
        for r in means.itertuples()
    ]
    return "Mean attendance from the baseline to the review window. " + "; ".join(parts) + "."
