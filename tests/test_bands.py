"""Attendance bands: every preset's edges, exactly at 95.0, 90.0, 50.0 and friends."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from attendance_lib.core.errors import UsageError
from attendance_lib.engine.bands import PRESETS, assign, from_edges, resolve_bands
from attendance_lib.engine.sessions import add_rates


def band_of(value: float, spec) -> str:
    return str(assign([value], spec)[0])


@pytest.mark.parametrize(
    ("value", "label"),
    [
        (100.0, "100%"),
        (99.99, "95 to <100%"),
        (95.0, "95 to <100%"),
        (94.99, "90 to <95%"),
        (90.0, "90 to <95%"),
        (89.99, "85 to <90%"),
        (85.0, "85 to <90%"),
        (84.99, "<85%"),
        (50.0, "<85%"),
        (0.0, "<85%"),
    ],
)
def test_cbc_edges(value, label):
    assert band_of(value, "cbc") == label


@pytest.mark.parametrize(
    ("value", "label"),
    [
        (100.0, "95 to 100%"),
        (95.0, "95 to 100%"),
        (94.99, "90 to <95%"),
        (90.0, "90 to <95%"),
        (55.0, "55 to <60%"),
        (50.0, "50 to <55%"),
        (49.99, "<50%"),
        (0.0, "<50%"),
    ],
)
def test_dfe_5pp_edges(value, label):
    assert band_of(value, "dfe_5pp") == label


def test_dfe_5pp_labels_in_order():
    assert PRESETS["dfe_5pp"].labels == [
        "95 to 100%",
        "90 to <95%",
        "85 to <90%",
        "80 to <85%",
        "75 to <80%",
        "70 to <75%",
        "65 to <70%",
        "60 to <65%",
        "55 to <60%",
        "50 to <55%",
        "<50%",
    ]


EXPECTED, RISK_PA, PA, RISK_SA, SA = PRESETS["five_categories"].labels


@pytest.mark.parametrize(
    ("value", "label"),
    [
        (100.0, EXPECTED),
        (95.0, EXPECTED),  # >= 95
        (94.99, RISK_PA),
        (90.01, RISK_PA),
        (90.0, PA),  # >= 80 and <= 90
        (80.0, PA),
        (79.99, RISK_SA),
        (50.01, RISK_SA),
        (50.0, SA),  # <= 50
        (0.0, SA),
    ],
)
def test_five_categories_edges(value, label):
    assert band_of(value, "five_categories") == label


def test_five_categories_labels_say_what_they_mean():
    assert "expected" in EXPECTED and "at risk of PA" in RISK_PA
    assert "persistently" in PA and "severe" in RISK_SA and "severely" in SA


def test_exact_95_from_sessions_lands_in_95_to_under_100():
    # 19 of 20 sessions attended: attendance is exactly 95.0 %, not 94.99999...
    counts = pd.DataFrame(
        {"sessions_present": [19, 171, 95], "sessions_aea": [0, 0, 0]}
        | {"sessions_authorised": [1, 19, 95], "sessions_unauthorised": [0, 0, 0]}
    )
    pct = add_rates(counts)["attendance_pct"]
    assert pct.tolist() == [95.0, 90.0, 50.0]
    assert list(assign(pct, "cbc").astype(str)) == ["95 to <100%", "90 to <95%", "<85%"]
    assert list(assign(pct, "dfe_5pp").astype(str)) == ["95 to 100%", "90 to <95%", "50 to <55%"]
    assert list(assign(pct, "five_categories").astype(str)) == [EXPECTED, PA, SA]


def test_custom_edges_with_100():
    bands = resolve_bands([85, 100, 95, 90])
    assert bands.labels == ["100%", "95 to <100%", "90 to <95%", "85 to <90%", "<85%"]
    got = assign([100, 95.0, 90.0, 85.0, 84.9], bands).astype(str).tolist()
    assert got == bands.labels


def test_custom_edges_without_100_top_band_includes_100():
    bands = from_edges([90, 95])
    assert bands.labels == ["95 to 100%", "90 to <95%", "<90%"]
    assert assign([100.0, 95.0, 90.0, 89.9], bands).astype(str).tolist() == [
        "95 to 100%",
        "95 to 100%",
        "90 to <95%",
        "<90%",
    ]


def test_assign_is_ordered_categorical_best_first_and_missing_has_no_band():
    out = assign([96.0, np.nan, 80.0], "cbc")
    assert out.ordered and list(out.categories) == PRESETS["cbc"].labels
    assert pd.isna(out[1])
    assert out[0] < out[2]  # ordered: the best band comes first


def test_assign_rejects_values_outside_0_100():
    with pytest.raises(ValueError):
        assign([100.5], "cbc")
    with pytest.raises(ValueError):
        assign([-1], "cbc")


@pytest.mark.parametrize("spec", ["nope", [0, 50], [150], ["a", "b"], []])
def test_bad_band_specs_are_usage_errors(spec):
    with pytest.raises(UsageError):
        resolve_bands(spec)


def test_resolve_passes_bands_through():
    assert resolve_bands(PRESETS["cbc"]) is PRESETS["cbc"]
