"""Half-up rounding (DfE display convention) and small-number suppression."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from attendance_lib.core.numbers import SUPPRESSED, round_half_up
from attendance_lib.present.disclosure import is_suppressed_count, is_suppressed_rate, suppress


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (2.25, 1, 2.3),  # Python's round() gives 2.2 (binary float below 2.25)
        (0.05, 1, 0.1),
        (0.15, 1, 0.2),
        (1.45, 1, 1.5),
        (2.35, 1, 2.4),
        (8.65, 1, 8.7),
        (12.95, 1, 13.0),
        (99.95, 1, 100.0),
        (2.24, 1, 2.2),
        (-0.05, 1, -0.1),  # half away from zero
        (-2.25, 1, -2.3),
        (2.675, 2, 2.68),  # round() gives 2.67
        (1.005, 2, 1.01),
        (2.5, 0, 3.0),  # round() gives 2
        (3.5, 0, 4.0),
        (10.0, 1, 10.0),
        (0, 1, 0.0),
    ],
)
def test_round_half_up_scalars(value, decimals, expected):
    assert round_half_up(value, decimals) == expected


def test_python_round_differs_where_half_up_matters():
    # the reason the helper exists
    assert round(2.25, 1) == 2.2 and round_half_up(2.25) == 2.3
    assert round(2.5) == 2 and round_half_up(2.5, 0) == 3.0


def test_round_half_up_series_array_and_missing():
    s = pd.Series([2.25, np.nan, 0.05, None], dtype="float64")
    out = round_half_up(s)
    assert isinstance(out, pd.Series)
    assert out.iloc[0] == 2.3 and out.iloc[2] == 0.1
    assert out.isna().tolist() == [False, True, False, True]
    arr = round_half_up(np.array([1.25, 4.45, np.nan]))
    assert arr[:2].tolist() == [1.3, 4.5] and np.isnan(arr[2])
    assert round_half_up(np.array([])).size == 0
    assert np.isnan(round_half_up(np.nan)) and np.isnan(round_half_up(None))
    assert round_half_up(np.float64(7.85)) == 7.9


def test_round_half_up_integers():
    assert round_half_up(pd.Series([1, 2, 3])).tolist() == [1.0, 2.0, 3.0]


def test_suppressed_counts_are_one_to_four_by_default():
    counts = pd.Series([0, 1, 2, 3, 4, 5, 6, 100])
    assert is_suppressed_count(counts).tolist() == [False, True, True, True, True] + [False] * 3
    # a list works too; the threshold moves the cut
    assert is_suppressed_count([9, 10], threshold=10).tolist() == [True, False]


def test_suppressed_rates_rest_on_fewer_than_five():
    assert is_suppressed_rate([0, 4, 5, np.nan]).tolist() == [True, True, False, True]
    assert is_suppressed_rate(pd.Series([9, 10]), threshold=10).tolist() == [True, False]


def test_suppress_table_counts_and_rates():
    table = pd.DataFrame(
        {
            "school": ["A", "B", "C", "D"],
            "pupils": [3, 5, 0, 40],
            "pa": [1, 0, 0, 12],
            "pa_pct": [33.3, 0.0, np.nan, 30.0],
        }
    )
    out = suppress(table, counts=["pupils", "pa"], rates=["pa_pct"], denominator="pupils")
    assert out["pupils"].tolist() == [SUPPRESSED, 5, 0, 40]
    assert out["pa"].tolist() == [SUPPRESSED, 0, 0, 12]
    assert out["pa_pct"].tolist()[0] == SUPPRESSED
    assert out["pa_pct"].tolist()[1] == 0.0
    assert out["pa_pct"].tolist()[2] == SUPPRESSED  # denominator 0
    assert out["pa_pct"].tolist()[3] == 30.0
    assert out["school"].tolist() == ["A", "B", "C", "D"]
    # the input is left alone
    assert table["pupils"].tolist() == [3, 5, 0, 40]
    assert SUPPRESSED == "c"


def test_suppress_threshold_is_configurable_and_rates_need_a_denominator():
    table = pd.DataFrame({"n": [7, 10], "rate": [50.0, 60.0]})
    out = suppress(table, counts=["n"], rates=["rate"], denominator="n", threshold=10)
    assert out["n"].tolist() == ["c", 10]
    assert out["rate"].tolist() == ["c", 60.0]
    untouched = suppress(table, rates=["rate"])
    assert untouched["rate"].tolist() == [50.0, 60.0]


def test_round_half_up_never_gives_negative_zero():
    # a change of -0.04 percentage points is shown as 0.0, not -0.0
    value = round_half_up(-0.04)
    assert value == 0.0 and math.copysign(1.0, value) == 1.0
    assert round_half_up(-0.05) == -0.1


def test_format_pct_rounds_half_up_like_the_tables():
    from attendance_lib.core.numbers import format_pct

    assert format_pct(2.25) == "2.3%"  # Python's f"{2.25:.1f}" gives 2.2
    assert format_pct(0.05) == "0.1%"
    assert format_pct(-0.04, sign=True, unit="") == "+0.0"
    assert format_pct(4.15, sign=True, unit=" points") == "+4.2 points"
    assert format_pct(90, 0) == "90%"
    assert format_pct(float("nan")) == "not available"
