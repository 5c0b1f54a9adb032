"""Funnel plots as Spiegelhalter (2005): one per phase, overdispersion (phi), special and AP beside."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from attendance_lib.analyses.strategy import funnel

Z998 = 3.0902323061678132

# Ten schools of 100 enrolments, 200 persistently absent in all: centre 20%.
# z = (y - 0.2) / sqrt(0.2 * 0.8 / 100) = (y - 0.2) / 0.04
#   = -2.5, -1.5, -1, -0.5, 0, 0, 0.5, 1, 1.5, 2.5
# 10th percentile (linear, position 0.9): -2.5 + 0.9 * 1 = -1.6; 90th: 1.5 + 0.1 * 1 = 1.6
# winsorised squares: 2.56 + 2.25 + 1 + 0.25 + 0 + 0 + 0.25 + 1 + 2.25 + 2.56 = 12.12
# phi = 12.12 / 10 = 1.212
PA = [10, 14, 16, 18, 20, 20, 22, 24, 26, 30]
PHI = 1.212


def _schools(pa=PA, phase="primary", start=100001):
    n = len(pa)
    return pd.DataFrame(
        {
            "urn": range(start, start + n),
            "phase": phase,
            "enrolments": 100,
            "pa_enrolments": pa,
            "pa_pct": [float(p) for p in pa],
        }
    )


def test_phi_hand_computed():
    s = _schools()
    assert funnel.overdispersion(s["pa_pct"], s["enrolments"], 20.0) == pytest.approx(PHI)
    fit = funnel.fit_funnel("primary", s["pa_enrolments"], s["enrolments"])
    assert fit.centre_pct == pytest.approx(20.0)
    assert fit.phi == pytest.approx(PHI) and fit.phi_applied == pytest.approx(PHI)
    assert fit.schools == 10


def test_phi_widens_the_limits():
    s = _schools()
    cols = funnel.funnel_columns(s["pa_pct"], s["enrolments"], 20.0, PHI)
    # 20 + 3.0902 * sqrt(1.212 * 0.2 * 0.8 / 100) * 100
    high = 20 + Z998 * math.sqrt(PHI * 0.16 / 100) * 100
    assert cols.loc[0, "limit_998_high"] == pytest.approx(high)
    plain = funnel.funnel_columns(s["pa_pct"], s["enrolments"], 20.0)
    assert plain.loc[0, "limit_998_high"] == pytest.approx(20 + Z998 * 4)
    # 30%: above the 95% limit, 20 + 1.96 * sqrt(1.212) * 4 = 28.63; below the 99.8% one, 33.61
    assert cols.loc[9, "funnel_position"] == funnel.ABOVE_95
    assert cols.loc[9, "limit_95_high"] == pytest.approx(20 + 1.959964 * math.sqrt(PHI) * 4)


def test_phi_below_one_is_not_applied():
    s = _schools([18, 19, 20, 20, 21, 22])
    fit = funnel.fit_funnel("primary", s["pa_enrolments"], s["enrolments"])
    assert fit.phi < 1 and fit.phi_applied == 1.0
    assert "no adjustment" in funnel.describe_adjustment(fit)


def test_one_funnel_per_phase_special_and_ap_beside():
    primary = _schools()
    secondary = _schools([40, 40, 40, 40], phase="secondary", start=200001)
    others = pd.DataFrame(
        {
            "urn": [300001, 300002],
            "phase": ["special", "alternative_provision"],
            "enrolments": 100,
            "pa_enrolments": [60, 95],
            "pa_pct": [60.0, 95.0],
        }
    )
    every = pd.concat([primary, secondary, others], ignore_index=True)
    # enrolment-level table: one row per enrolment with the persistent flag
    rows = [
        {"urn": r.urn, "upn": f"{r.urn}-{i}", "persistent_absent": i < r.pa_enrolments}
        for r in every.itertuples()
        for i in range(r.enrolments)
    ]
    table = pd.DataFrame(rows).assign(
        academic_year="2023/24",
        sessions_possible=100,
        sessions_present=90,
        sessions_aea=0,
        sessions_authorised=5,
        sessions_unauthorised=5,
        severe_absent=False,
    )
    schools = every[["urn", "phase"]].assign(school_name=[f"S{i}" for i in range(len(every))])
    out = funnel.by_school(table, None, schools).set_index("urn")
    assert out.loc[100001, "funnel"] == "primary"
    assert out.loc[100001, "funnel_centre_pct"] == pytest.approx(20.0)
    assert out.loc[200001, "funnel_centre_pct"] == pytest.approx(40.0)  # its own phase's rate
    assert out.loc[200001, "funnel_position"] == funnel.WITHIN
    for urn in (300001, 300002):
        assert out.loc[urn, "funnel_position"] == funnel.NOT_ON_FUNNEL
        assert np.isnan(out.loc[urn, "limit_998_high"])
    # the primary funnel's limits carry phi
    high = 20 + Z998 * math.sqrt(PHI * 0.16 / 100) * 100
    assert out.loc[100001, "limit_998_high"] == pytest.approx(high)
    beside = funnel.off_funnel(out.reset_index())
    assert beside["urn"].tolist() == [300001, 300002]
    assert "funnel_position" not in beside
    fits = funnel.funnel_fits(out.reset_index())
    assert list(fits) == ["primary", "secondary"] and fits["primary"].phi == pytest.approx(PHI)
    text = " ".join(funnel.describe_funnels(out.reset_index()))
    assert "Of 10 primary schools, 0 had" in text and "phi = 1.21" in text
    assert "2 special, alternative provision" in text


def test_label_offsets_keep_a_gap_and_stay_near():
    y = np.array([10.0, 11.0, 50.0, 10.5])
    out = funnel.label_offsets(y, 5)
    ordered = np.sort(out)
    assert (np.diff(ordered) >= 5 - 1e-9).all()
    assert out[2] == pytest.approx(50.0, abs=5)
    assert funnel.label_offsets([], 5).size == 0


def test_chart_names_outliers_as_plain_text():
    from matplotlib.figure import Figure

    rows = _schools([10, 14, 16, 18, 20, 20, 22, 24, 26, 60]).assign(
        school_name=[f"School {i}" for i in range(9)] + ["St $Mary$ <b>x</b>"]
    )
    fit = funnel.fit_funnel("primary", rows["pa_enrolments"], rows["enrolments"])
    rows = pd.concat(
        [rows, funnel.funnel_columns(rows["pa_pct"], rows["enrolments"], fit.centre_pct, fit.phi)],
        axis=1,
    )
    assert rows["funnel_position"].iloc[-1] == funnel.ABOVE_998
    ax = Figure().add_subplot()
    funnel.draw_funnel(ax, rows, fit)
    labels = [t for t in ax.texts]
    assert [t.get_text() for t in labels] == ["St $Mary$ <b>x</b>"]
    assert labels[0].get_parse_math() is False
    assert "outside the 99.8% limits: St $Mary$ <b>x</b>." in funnel.describe_chart(rows, fit)
