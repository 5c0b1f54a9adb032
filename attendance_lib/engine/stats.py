"""Shared statistics: proportions with intervals, the sign test, funnel limits, bootstrap.

Used by the analyses; each function is small and tested against published worked examples.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import stats as _st


def wilson_interval(count, n, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a proportion, in percent (0..100).

    Wilson (1927); recommended over the normal approximation for small n and for
    proportions near 0 or 1 (Newcombe 1998). Returns NaN where ``n`` is 0.

    Examples
    --------
    >>> lo, hi = wilson_interval(81, 263)
    >>> round(float(lo), 1), round(float(hi), 1)
    (25.5, 36.6)
    """
    count = np.asarray(count, dtype="float64")
    n = np.asarray(n, dtype="float64")
    z = _st.norm.ppf(0.5 + confidence / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = count / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
        low = np.where(n > 0, (centre - half) * 100, np.nan)
        high = np.where(n > 0, (centre + half) * 100, np.nan)
    return low, high


def sign_test(improved: int, worsened: int) -> float:
    """Two-sided exact sign test p-value for ``improved`` vs ``worsened`` (ties left out).

    Under the null hypothesis of no change, an improvement and a worsening are equally likely.
    Returns NaN when there are no untied pairs.
    """
    total = int(improved) + int(worsened)
    if total == 0:
        return float("nan")
    return float(_st.binomtest(int(improved), total, 0.5, alternative="two-sided").pvalue)


def funnel_limits(
    denominators, overall_rate_pct: float, coverage: float
) -> tuple[np.ndarray, np.ndarray]:
    """Control limits of a funnel plot for a proportion (Spiegelhalter 2005), in percent.

    Uses the normal approximation to the binomial around the overall rate:
    ``p +/- z * sqrt(p (1 - p) / n)``, clipped to 0..100. ``coverage`` is 0.95 or 0.998.
    """
    n = np.asarray(denominators, dtype="float64")
    p = overall_rate_pct / 100
    z = _st.norm.ppf(0.5 + coverage / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = z * np.sqrt(p * (1 - p) / n)
    low = np.clip((p - half) * 100, 0, 100)
    high = np.clip((p + half) * 100, 0, 100)
    return low, high


def bootstrap_ci(
    statistic: Callable[[np.ndarray], float],
    n_units: int,
    *,
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 12345,
) -> tuple[float, float]:
    """Percentile bootstrap interval for ``statistic(indices)`` resampling ``n_units`` units.

    ``statistic`` receives an integer array of resampled unit indices (with replacement) and
    returns a number; resample whole clusters (e.g. matched pairs) by passing cluster indices.
    The seed makes published intervals reproducible.
    """
    rng = np.random.default_rng(seed)
    draws = np.array([statistic(rng.integers(0, n_units, n_units)) for _ in range(reps)])
    alpha = (1 - confidence) / 2
    low, high = np.nanquantile(draws, [alpha, 1 - alpha])
    return float(low), float(high)
