"""Is the attainment gradient across attendance bands more than composition? Model and trend test.

- :func:`adjusted_odds_ratios`: a logistic regression (statsmodels) of reaching the headline
  standard (KS2: expected standard in reading, writing and maths; KS4: grade 4+ in English
  and maths) on attendance band, with 95 to <100% as reference, controlling for FSM
  eligibility, SEN (none / SEN support / EHC plan), sex, month of birth (months after
  September, so the relative-age effect is linear) and prior attainment (KS1 for KS2, KS2
  for KS4) where the data hold them. Odds ratios with 95% Wald intervals from standard
  errors clustered by school, and adjusted percentages (average marginal predictions) per
  band. This measures association, not cause.
- :func:`cochran_armitage`: the Cochran-Armitage test for trend in proportions across
  ordered groups (Armitage 1955), the statistic of R's ``prop.trend.test``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats as _st

from attendance_lib.analyses.attainment.ks_bands import Cohort
from attendance_lib.core.numbers import format_pct
from attendance_lib.engine.bands import Bands

#: Covariates of the adjusted model: column -> "numeric" or the reference level.
MODEL_COVARIATES: dict[str, str] = {
    "fsm": "numeric",
    "sen": "N",
    "sex": "F",
    "birth_month": "numeric",
    "prior": "numeric",
}
#: Below this many pupils in the reference band, the notes warn that intervals are wide.
SMALL_REFERENCE = 30
INDICATOR_WORDS = {
    "fsm": "FSM-eligible pupils",
    "sen_K": "Pupils on SEN support",
    "sen_E": "Pupils with an EHC plan",
    "sex_M": "Boys",
}
COVARIATE_WORDS = {
    "fsm": "FSM eligibility",
    "sen": "SEN (none, SEN support, EHC plan)",
    "sex": "sex",
    "birth_month": "month of birth",
    "prior": "prior attainment",
}


@dataclass(frozen=True)
class TrendTest:
    """Result of :func:`cochran_armitage`: chi-squared (1 df), signed z, p-value, pupils."""

    statistic: float
    z: float
    p_value: float
    n: int


def cochran_armitage(successes, totals, scores=None) -> TrendTest:
    """Cochran-Armitage test for a linear trend in proportions across ordered groups.

    ``T = sum t_i (x_i - n_i p)``, ``Var T = p (1 - p) [sum n_i t_i^2 - (sum n_i t_i)^2 / N]``,
    ``z = T / sqrt(Var T)``, chi-squared = z^2 on 1 df (two-sided p). This is the statistic
    of R's ``prop.trend.test``: for R's example (83/86, 90/93, 129/136, 70/82, scores 1-4)
    chi-squared = 8.2249, p = 0.004132. ``z`` < 0 means the proportion falls as the score
    rises. Groups with no pupils are left out; NaN when the test is undefined (fewer than
    two groups, or every pupil or none reached the standard).
    """
    x = np.asarray(successes, dtype="float64")
    n = np.asarray(totals, dtype="float64")
    t = np.arange(1, len(x) + 1, dtype="float64") if scores is None else np.asarray(scores, float)
    keep = n > 0
    x, n, t = x[keep], n[keep], t[keep]
    total = n.sum()
    if len(x) < 2 or total == 0:
        return TrendTest(np.nan, np.nan, np.nan, int(total))
    p = x.sum() / total
    stat_t = np.sum(t * (x - n * p))
    var = p * (1 - p) * (np.sum(n * t**2) - np.sum(n * t) ** 2 / total)
    if not var > 0:
        return TrendTest(np.nan, np.nan, np.nan, int(total))
    z = stat_t / np.sqrt(var)
    return TrendTest(float(z**2), float(z), float(_st.chi2.sf(z**2, 1)), int(total))


def band_trend(cohort: Cohort) -> TrendTest:
    """Cochran-Armitage test of the headline outcome across the bands (scores = band order).

    Band 1 is the top attendance band, so a negative ``z`` means fewer pupils reach the
    standard as attendance falls. Unmatched and excluded pupils, and pupils with no result
    for the headline measure, are left out.
    """
    spec = cohort.spec
    frame = cohort.pupils
    frame = frame[frame["band"].isin(cohort.bands.labels) & frame[spec.headline].notna()]
    band = pd.Categorical(frame["band"].astype(str), categories=cohort.bands.labels)
    grouped = frame[spec.headline].groupby(band, observed=False)
    return cochran_armitage(grouped.sum().to_numpy(), grouped.size().to_numpy())


def describe_trend(result: TrendTest, cohort: Cohort) -> str:
    """The trend test in words."""
    words = cohort.spec.headline_words
    if np.isnan(result.p_value):
        return (
            "A test for trend across the bands could not be computed (too few bands with "
            "pupils, or every pupil or none reached the standard)."
        )
    direction = "fell" if result.z < 0 else "rose"
    p = "below 0.001" if result.p_value < 0.001 else f"{result.p_value:.3f}"
    verdict = (
        "a trend this strong would be very unlikely if attendance band and attainment were "
        "unrelated"
        if result.p_value < 0.05
        else "the data are consistent with no trend across the bands"
    )
    return (
        f"Across the bands, the share of pupils reaching {words} {direction} as attendance "
        f"fell (Cochran-Armitage test for trend: chi-squared {result.statistic:.1f} on 1 "
        f"degree of freedom, p {p}, {result.n:,} pupils): {verdict}."
    )


#: The reference band's lower edge: the band from 95% to below (or up to) 100%.
REFERENCE_LOW = 95.0


def reference_band(bands: Bands) -> str:
    """The model's reference band: the one starting at 95% (``95 to <100%`` in ``cbc``).

    The 100% band holds only a few dozen pupils in an LA, so odds ratios against it are
    uninformative; 95 to <100% is large, and is the DfE's "expected" attendance. With band
    edges that have no band starting at 95%, the band holding 97.5% is used, else the top band.
    """
    for band in bands.bands:
        if band.low == REFERENCE_LOW:
            return band.label
    for band in bands.bands:
        if bool(band.contains(np.array([97.5]))[0]):
            return band.label
    return bands.labels[0]


@dataclass(frozen=True)
class OddsRatios:
    """Result of :func:`fit_band_logit`.

    ``table``: band, odds_ratio, ci_low, ci_high, adjusted_pct, adjusted_ci_low,
    adjusted_ci_high, n. The reference band has odds ratio 1 and no interval; bands that
    cannot be estimated have NaN. ``adjusted_pct`` is the average marginal prediction: the
    share of the modelled pupils who would reach the standard if every one of them were in
    that band, keeping their own characteristics (a percentage, with a 95% interval by the
    delta method on the logit scale). ``n_model``: pupils in the fit. ``covariates``: the
    covariates used. ``reference``: the reference band. ``clusters``: schools the standard
    errors are clustered on (0: not clustered). ``notes``: what was left out and why.
    """

    table: pd.DataFrame
    n_model: int
    covariates: list[str]
    notes: list[str] = field(default_factory=list)
    reference: str = ""
    clusters: int = 0


def _design(frame: pd.DataFrame, covariates: dict[str, str]) -> pd.DataFrame:
    parts = []
    for col, kind in covariates.items():
        if kind == "numeric":
            parts.append(pd.to_numeric(frame[col].astype("Float64"), errors="coerce").rename(col))
        else:
            values = frame[col].astype(object)
            levels = sorted(v for v in values.dropna().unique() if v != kind)
            for level in levels:
                parts.append(
                    (values == level)
                    .astype("float64")
                    .where(values.notna())
                    .rename(f"{col}_{level}")
                )
    return pd.concat(parts, axis=1) if parts else pd.DataFrame(index=frame.index)


def cluster_codes(cluster: pd.Series) -> np.ndarray:
    """Integer cluster codes; a missing school makes a cluster of its own pupil."""
    codes = pd.factorize(cluster.astype(object), use_na_sentinel=True)[0]
    missing = codes < 0
    codes[missing] = codes.max(initial=-1) + 1 + np.arange(int(missing.sum()))
    return codes


def fit_band_logit(
    frame: pd.DataFrame,
    outcome: str,
    bands: list[str],
    covariates: dict[str, str],
    *,
    band_col: str = "band",
    reference: str | None = None,
    cluster_col: str | None = None,
) -> OddsRatios:
    """Logistic regression of ``outcome`` (1/0) on band and covariates, with adjusted percentages.

    ``reference`` is the band the odds ratios compare with (default ``bands[0]``). With
    ``cluster_col`` (the school's URN), standard errors are cluster-robust by school
    (statsmodels ``cov_type="cluster"``, with its small-sample correction): pupils in one
    school share more than the model's characteristics, and independent-pupil standard
    errors would be too small.

    Rows with a missing outcome or covariate are left out (complete cases) and counted in
    the notes. Bands with no pupils, and bands (or covariate levels) in which every pupil or
    none reached the standard (separation: the odds ratio is infinite or zero), are left out
    of the fit and reported as not estimable; dropping the rows of a separated indicator
    does not change the maximum-likelihood estimates of the other coefficients. Constant
    covariates are dropped. Wald 95% intervals.

    Adjusted percentages are average marginal predictions (Stata's ``margins band``): for
    each estimable band, every pupil in the fit is set to that band and their predicted
    probabilities are averaged. Intervals: delta method with the same covariance matrix,
    formed on the logit of the average so they stay inside 0 to 100.
    """
    notes: list[str] = []
    ref = bands[0] if reference is None else reference
    if ref not in bands:
        raise ValueError(f"reference band {ref!r} is not one of {bands}")
    ref_i = bands.index(ref)
    band = frame[band_col].astype(object)
    y = pd.to_numeric(frame[outcome].astype("Float64"), errors="coerce").astype("float64")
    cov = _design(frame, covariates)
    complete = y.notna() & cov.notna().all(axis=1)
    if (~complete).any():
        notes.append(
            f"{int((~complete).sum()):,} pupils with a missing result or characteristic were "
            "left out of the model."
        )
    band, y, cov = band[complete], y[complete], cov[complete]
    counts = band.value_counts().reindex(bands, fill_value=0)
    dummies = pd.DataFrame(
        {f"band_{i}": (band == b).astype("float64") for i, b in enumerate(bands) if i != ref_i},
        index=band.index,
    )
    x = pd.concat([dummies, cov], axis=1)
    keep = pd.Series(True, index=x.index)
    not_estimable: dict[str, str] = {}
    ref_y = y[band == ref]

    def empty(n: int) -> OddsRatios:
        return OddsRatios(_or_table(bands, counts, None, ref), n, list(covariates), notes, ref)

    if ref_y.empty or ref_y.nunique() < 2:
        why = "has no pupils" if ref_y.empty else "has every pupil or none reaching the standard"
        notes.append(f"The reference band ({ref}) {why}, so no odds ratio can be estimated.")
        return empty(0)
    for _ in range(len(x.columns) + 1):
        changed = False
        for col in list(x.columns):
            values = x.loc[keep, col]
            if values.nunique() < 2:  # empty band, absent level or constant covariate
                x = x.drop(columns=col)
                if col.startswith("band_"):
                    not_estimable[bands[int(col[5:])]] = "no pupils"
                changed = True
            elif set(values.unique()) <= {0.0, 1.0} and y[keep & (x[col] == 1)].nunique() < 2:
                n_on = int((keep & (x[col] == 1)).sum())
                keep &= x[col] != 1
                x = x.drop(columns=col)
                if col.startswith("band_"):
                    not_estimable[bands[int(col[5:])]] = "every pupil or none reached the standard"
                else:
                    notes.append(
                        f"{INDICATOR_WORDS.get(col, col)}: every pupil or none reached the "
                        f"standard, so these {n_on:,} pupils were left out of the fit."
                    )
                changed = True
        if not changed:
            break
    notes.extend(f"{label}: no odds ratio ({why})." for label, why in not_estimable.items())
    x, yk = sm.add_constant(x[keep], has_constant="add"), y[keep]
    fit_args: dict = {"disp": 0, "method": "newton", "maxiter": 100}
    n_clusters = 0
    if cluster_col is not None:
        groups = cluster_codes(frame.loc[x.index, cluster_col])
        n_clusters = int(len(np.unique(groups)))
        if n_clusters >= 2:
            fit_args |= {"cov_type": "cluster", "cov_kwds": {"groups": groups}}
        else:
            n_clusters = 0
            notes.append("All pupils are in one school, so standard errors are not clustered.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = sm.Logit(yk, x).fit(**fit_args)
        converged = bool(fit.mle_retvals.get("converged", False))
    except (np.linalg.LinAlgError, ValueError) as exc:
        notes.append(f"The model could not be fitted ({exc}).")
        return empty(int(keep.sum()))
    if not converged:
        notes.append("The model did not converge, so no odds ratios are shown.")
        return empty(int(keep.sum()))
    if counts[ref] < SMALL_REFERENCE:
        notes.append(
            f"The reference band ({ref}) has only {int(counts[ref]):,} pupils, so every odds "
            "ratio is uncertain (see the wide intervals)."
        )
    ci = fit.conf_int(0.05)
    est = {
        bands[int(c[5:])]: (np.exp(fit.params[c]), np.exp(ci.loc[c, 0]), np.exp(ci.loc[c, 1]))
        for c in x.columns
        if c.startswith("band_")
    }
    margins = _margins(fit, x, bands, ref_i)
    table = _or_table(bands, counts, est, ref, margins)
    return OddsRatios(table, int(keep.sum()), list(covariates), notes, ref, n_clusters)


def _margins(fit, x: pd.DataFrame, bands: list[str], ref_i: int) -> dict[str, tuple]:
    """Average marginal prediction per estimable band, with a delta-method 95% interval."""
    params = fit.params.to_numpy()
    vcov = np.asarray(fit.cov_params())
    band_cols = [c for c in x.columns if c.startswith("band_")]
    z = _st.norm.ppf(0.975)
    out = {}
    for i, label in enumerate(bands):
        col = f"band_{i}"
        if i != ref_i and col not in band_cols:
            continue
        xb = x.copy()
        xb[band_cols] = 0.0
        if i != ref_i:
            xb[col] = 1.0
        design = xb.to_numpy(dtype="float64")
        p = 1 / (1 + np.exp(-design @ params))
        mean = float(p.mean())
        grad = (p * (1 - p)) @ design / len(p)
        se = float(np.sqrt(max(grad @ vcov @ grad, 0.0)))
        if 0 < mean < 1:
            logit, se_logit = np.log(mean / (1 - mean)), se / (mean * (1 - mean))
            low, high = (1 / (1 + np.exp(-(logit + s * z * se_logit))) for s in (-1, 1))
        else:
            low = high = mean
        out[label] = (100 * mean, 100 * low, 100 * high)
    return out


TABLE_COLUMNS = [
    "band",
    "odds_ratio",
    "ci_low",
    "ci_high",
    "adjusted_pct",
    "adjusted_ci_low",
    "adjusted_ci_high",
    "n",
]


def _or_table(
    bands: list[str],
    counts: pd.Series,
    est: dict | None,
    ref: str,
    margins: dict | None = None,
) -> pd.DataFrame:
    rows = []
    nan3 = (np.nan, np.nan, np.nan)
    for b in bands:
        if est is not None and b == ref:
            values = (1.0, np.nan, np.nan)
        else:
            values = (est or {}).get(b, nan3)
        rows.append((b, *values, *(margins or {}).get(b, nan3), int(counts[b])))
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def adjusted_odds_ratios(cohort: Cohort) -> OddsRatios:
    """The ``adjusted_odds_ratios`` table for a cohort (matched pupils only).

    Outcome: the headline measure (KS2 ``rwm_expected``, KS4 ``em_4plus``). Covariates: those
    of :data:`MODEL_COVARIATES` that the data hold for at least one pupil. Reference band:
    :func:`reference_band`. Standard errors clustered by school (``urn`` from pupils.csv for
    the assessment year) where the data hold it.
    """
    frame = cohort.pupils[cohort.pupils["band"].isin(cohort.bands.labels)]
    covariates = {
        c: kind for c, kind in MODEL_COVARIATES.items() if c in frame and frame[c].notna().any()
    }
    cluster = "urn" if "urn" in frame and frame["urn"].notna().any() else None
    return fit_band_logit(
        frame,
        cohort.spec.headline,
        cohort.bands.labels,
        covariates,
        reference=reference_band(cohort.bands),
        cluster_col=cluster,
    )


def table_note(result: OddsRatios) -> str:
    """The footnote of the adjusted model's table: what the columns are, then the model's notes."""
    head = (
        "Odds ratios are against the reference band; adjusted percentages are average "
        "marginal predictions; 95% intervals"
        + (" from standard errors clustered by school." if result.clusters else ".")
    )
    return " ".join([head, *result.notes])


def describe_model(result: OddsRatios, cohort: Cohort) -> str:
    """What the model controls for, in words, with the plain statement that it is association."""
    used = ", ".join(COVARIATE_WORDS[c] for c in result.covariates) or "nothing else"
    ref = result.reference or cohort.bands.labels[0]
    clustered = (
        f"Standard errors allow for pupils being clustered in {result.clusters:,} schools."
        if result.clusters
        else "Standard errors treat pupils as independent (no school recorded to cluster on)."
    )
    return (
        f"The odds of reaching {cohort.spec.headline_words} in each band, relative to the "
        f"reference band ({ref}), after allowing for {used} ({result.n_model:,} pupils). "
        f"The reference is {ref} rather than the top band because the top band holds few "
        "pupils. An odds ratio below 1 means lower odds than pupils in the reference band "
        "with the same characteristics. The adjusted percentage is the share of these pupils "
        "who would be expected to reach the standard if all of them were in that band, "
        f"keeping their own characteristics; it reads more easily than an odds ratio. "
        f"{clustered} This shows an association, not a cause: pupils who miss school may "
        "differ in ways the data do not record."
    )


def describe_odds_ratios(result: OddsRatios, suppress_below: int = 5) -> str:
    """Odds ratios and adjusted percentages, for bands of ``suppress_below`` or more pupils."""
    ref = result.reference or result.table["band"].iloc[0]
    rows = result.table[result.table["band"] != ref]
    rows = rows[(rows["n"] >= suppress_below) & rows["odds_ratio"].notna()]
    if rows.empty:
        return "No band has an odds ratio that can be shown."
    parts = [
        f"{r.band}: {r.odds_ratio:.2f} (95% interval {r.ci_low:.2f} to {r.ci_high:.2f})"
        for r in rows.itertuples()
    ]
    text = f"Odds ratios against the {ref} band: " + "; ".join(parts) + "."
    shown = result.table[
        (result.table["n"] >= suppress_below) & result.table["adjusted_pct"].notna()
    ]
    if len(shown):
        pcts = [
            f"{r.band} {format_pct(r.adjusted_pct)} ({format_pct(r.adjusted_ci_low)} to "
            f"{format_pct(r.adjusted_ci_high)})"
            for r in shown.itertuples()
        ]
        text += " Adjusted percentages reaching the standard: " + "; ".join(pcts) + "."
    return text
