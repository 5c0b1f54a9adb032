"""Shared statistics against statsmodels, scipy and hand-worked values."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from attendance_lib.engine.stats import bootstrap_ci, funnel_limits, sign_test, wilson_interval


@pytest.mark.parametrize(
    ("count", "n"), [(81, 263), (0, 10), (10, 10), (1, 2), (5, 40), (199, 200), (3, 7)]
)
@pytest.mark.parametrize("confidence", [0.95, 0.90, 0.998])
def test_wilson_matches_statsmodels(count, n, confidence):
    low, high = wilson_interval(count, n, confidence)
    ref_low, ref_high = proportion_confint(count, n, alpha=1 - confidence, method="wilson")
    assert float(low) == pytest.approx(ref_low * 100, abs=1e-9)
    assert float(high) == pytest.approx(ref_high * 100, abs=1e-9)


def test_wilson_worked_value():
    # 81 of 263: 30.8 %, Wilson 95 % interval 25.5 % to 36.6 % (statsmodels agrees)
    low, high = wilson_interval(81, 263)
    assert (round(float(low), 1), round(float(high), 1)) == (25.5, 36.6)


def test_wilson_vectorised_and_zero_n():
    low, high = wilson_interval(np.array([0, 5, 3]), np.array([0, 10, 3]))
    assert np.isnan(low[0]) and np.isnan(high[0])
    assert low[1] < 50 < high[1]
    assert high[2] == pytest.approx(100.0)
    assert np.all(low[1:] >= 0) and np.all(high[1:] <= 100 + 1e-9)


def test_sign_test_hand_computed():
    # 9 improved, 1 worsened: P = 2 * (C(10,0) + C(10,1)) / 2**10 = 22 / 1024
    assert sign_test(9, 1) == pytest.approx(22 / 1024)
    assert sign_test(1, 9) == pytest.approx(22 / 1024)
    assert sign_test(5, 5) == pytest.approx(1.0)
    assert sign_test(3, 0) == pytest.approx(0.25)  # 2 * 1/8
    assert np.isnan(sign_test(0, 0))


def test_funnel_limits_hand_computed():
    # p = 10 %, n = 100: 10 +/- 1.959964 * sqrt(0.1 * 0.9 / 100) * 100 = 10 +/- 5.87989
    low, high = funnel_limits([100], 10.0, 0.95)
    assert low[0] == pytest.approx(4.12011, abs=1e-4)
    assert high[0] == pytest.approx(15.87989, abs=1e-4)
    # 99.8 %: z = 3.0902
    low, high = funnel_limits(np.array([400]), 20.0, 0.998)
    assert low[0] == pytest.approx(20 - 3.090232 * 2, abs=1e-4)
    assert high[0] == pytest.approx(20 + 3.090232 * 2, abs=1e-4)


def test_funnel_limits_clip_and_narrow_with_n():
    low, high = funnel_limits([4, 10_000], 2.0, 0.998)
    assert low[0] == 0.0 and high[0] <= 100
    assert high[1] - low[1] < high[0] - low[0]


def test_bootstrap_reproducible_and_sensible():
    values = np.arange(1, 101, dtype=float)

    def mean_of(idx):
        return float(values[idx].mean())

    a = bootstrap_ci(mean_of, len(values), reps=500, seed=7)
    b = bootstrap_ci(mean_of, len(values), reps=500, seed=7)
    assert a == b
    assert a[0] < 50.5 < a[1]
    # standard error of the mean is about 2.9, so the 95 % interval is about +/- 5.7
    assert 3 < (a[1] - a[0]) / 2 < 8
    const = bootstrap_ci(lambda idx: 4.0, 10, reps=50)
    assert const == (4.0, 4.0)


def test_zero_denominators_give_nan_or_clipped_limits_without_warnings():
    # a school with no pupils in a group must not print a RuntimeWarning into a report
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        low, high = wilson_interval(np.array([0, 3]), np.array([0, 0]))
        assert np.isnan(low).all() and np.isnan(high).all()
        low, high = funnel_limits([0], 10.0, 0.95)
        assert (low[0], high[0]) == (0.0, 100.0)


def test_an_empty_group_at_an_overall_rate_of_0_or_100_has_no_limits_and_no_warning():
    # p (1 - p) / n is 0 / 0 here: no limits (NaN, drawn as a gap), and no RuntimeWarning
    # printed into a report (the "invalid" case of np.errstate, beside "divide" above)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for rate in (0.0, 100.0):
            low, high = funnel_limits([0, 50], rate, 0.998)
            assert np.isnan(low[0]) and np.isnan(high[0])
            assert (low[1], high[1]) == (rate, rate)


def test_funnel_limits_clip_at_100_and_follow_a_low_rate():
    # p = 98 %, n = 4: 98 + 3.0902 * sqrt(0.98 * 0.02 / 4) * 100 = 119.6, shown as 100
    low, high = funnel_limits([4], 98.0, 0.998)
    assert high[0] == 100.0
    assert low[0] == pytest.approx(98 - 3.090232 * np.sqrt(0.98 * 0.02 / 4) * 100, abs=1e-4)
    # p = 0.5 %, n = 100,000: 0.5 +/- 1.959964 * sqrt(0.005 * 0.995 / 100000) * 100
    low, high = funnel_limits([100_000], 0.5, 0.95)
    half = 1.959964 * np.sqrt(0.005 * 0.995 / 100_000) * 100
    assert low[0] == pytest.approx(0.5 - half, abs=1e-5)
    assert high[0] == pytest.approx(0.5 + half, abs=1e-5)
    # an overall rate of 0 %: both limits are 0
    assert funnel_limits([50], 0.0, 0.95) == (pytest.approx([0.0]), pytest.approx([0.0]))


def test_bootstrap_percentiles_follow_the_confidence():
    # statistic = the first resampled unit's index: uniform on 0..999, so a 90 % interval
    # runs from about the 5th to the 95th percentile (50 to 949)
    low, high = bootstrap_ci(lambda idx: float(idx[0]), 1000, reps=20_000, confidence=0.90)
    assert low == pytest.approx(50, abs=6) and high == pytest.approx(949, abs=6)


def test_bootstrap_draws_every_unit_the_first_included():
    # unit 0 is the only non-zero value; an interval that never draws it would be (0, 0)
    values = np.array([10.0] + [0.0] * 9)
    low, high = bootstrap_ci(lambda idx: float(values[idx].mean()), 10, reps=1000)
    assert low == 0.0 and high >= 2.0
