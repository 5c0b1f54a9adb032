"""The comparison pool, nearest-neighbour matching, difference-in-differences and balance;
and the regression-to-the-mean check on a small synthetic LA whose true effect is known."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from test_impact_fixtures import calendar, days, marks, pupils, schools

from attendance_lib.analyses.impact import evaluation as im
from attendance_lib.analyses.impact import matching as mm
from attendance_lib.core.academic_calendar import Calendar

S = pd.Timestamp("2024-01-15")
OTHER = pd.Timestamp("2024-02-19")


def _treated():
    return pd.DataFrame(
        {
            "intervention_id": ["T1", "T2", "T3", "T4"],
            "start_date": [S] * 4,
            "phase": ["primary"] * 4,
            "fsm": [False, False, True, False],
            "sen": ["N"] * 4,
            "open_service": [False] * 4,
            "year_group": ["6"] * 4,
            "baseline_attendance_pct": [80.0, 60.0, 70.0, np.nan],
            "change_pp": [10.0, 8.0, 5.0, np.nan],
            "evaluable": [True, True, True, False],
        }
    )


def _pool():
    return pd.DataFrame(
        {
            "upn": ["C1", "C2", "C3", "C4", "C5", "C6"],
            "start_date": [S, S, S, S, S, OTHER],
            "phase": ["primary"] * 4 + ["secondary", "primary"],
            "fsm": [False, False, False, True, False, False],
            "sen": ["N"] * 6,
            "open_service": [False] * 6,
            "year_group": ["6", "5", "6", "6", "8", "6"],
            "baseline_attendance_pct": [81.0, 79.0, 63.0, 70.5, 80.0, 80.0],
            "change_pp": [4.0, 6.0, 2.0, 1.0, 0.0, 0.0],
        }
    )


def test_nearest_within_caliper_exact_on_categories_and_date():
    pairs = mm.match_comparisons(_treated(), _pool(), caliper_pp=2.5, neighbours=1)
    pairs = pairs.set_index("intervention_id")
    # T1: C1 and C2 are both 1.0 points away; C1 is in the same year group. C5 (secondary)
    # and C6 (another start date) are never candidates. T2: nearest (C3) is 3.0 away.
    # T3 (FSM): only C4. T4 is not evaluable.
    assert pairs["upn_comparison"].to_dict() == {"T1": "C1", "T3": "C4"}
    wider = mm.match_comparisons(_treated(), _pool(), caliper_pp=3.0, neighbours=1)
    assert dict(zip(wider["intervention_id"], wider["upn_comparison"], strict=True)) == {
        "T1": "C1",
        "T2": "C3",
        "T3": "C4",
    }


def test_two_nearest_neighbours():
    pairs = mm.match_comparisons(_treated(), _pool(), caliper_pp=2.5, neighbours=2)
    got = pairs.groupby("intervention_id")["upn_comparison"].apply(list).to_dict()
    assert got == {"T1": ["C1", "C2"], "T3": ["C4"]}
    eff = mm.effect_table(_treated(), pairs, reps=200).set_index("method")
    # T1: 10 - mean(4, 6) = 5; T3: 5 - 1 = 4 -> 4.5 over 2 treated, 3 comparison pupils.
    did = eff.loc["difference_in_differences"]
    assert did["estimate_pp"] == pytest.approx(4.5)
    assert (did["n_treated"], did["n_comparison"]) == (2, 3)
    bal = mm.matching_balance(_treated(), _pool(), pairs).set_index("covariate")
    # comparisons weighted 1/k: (81 + 79) / 2 for T1 and 70.5 for T3 -> (80 + 70.5) / 2
    assert bal.loc["baseline_attendance_pct", "comparison_after"] == pytest.approx(75.25)


def test_difference_in_differences_and_before_after():
    pairs = mm.match_comparisons(_treated(), _pool(), caliper_pp=2.5, neighbours=1)
    eff = mm.effect_table(_treated(), pairs, reps=200).set_index("method")
    assert list(eff.reset_index().columns) == mm.EFFECT_COLUMNS
    assert eff.loc["before_after", "estimate_pp"] == pytest.approx((10 + 8 + 5) / 3)
    assert eff.loc["before_after", "n_treated"] == 3
    # pairs: (10 - 4) and (5 - 1) -> mean 5.0
    assert eff.loc["difference_in_differences", "estimate_pp"] == pytest.approx(5.0)
    assert eff.loc["difference_in_differences", "ci_low"] >= 4.0
    assert eff.loc["difference_in_differences", "ci_high"] <= 6.0
    assert eff.loc["difference_in_differences", "n_comparison"] == 2
    assert list(mm.effect_table(_treated(), None)["method"]) == ["before_after"]


def test_balance_table_before_and_after():
    pairs = mm.match_comparisons(_treated(), _pool(), caliper_pp=2.5, neighbours=1)
    bal = mm.matching_balance(_treated(), _pool(), pairs).set_index("covariate")
    row = bal.loc["baseline_attendance_pct"]
    assert row["treated_before"] == pytest.approx(70.0)  # (80 + 60 + 70) / 3
    assert row["treated_after"] == pytest.approx(75.0)  # T1, T3
    assert row["comparison_after"] == pytest.approx(75.75)  # C1, C4
    assert bal.loc["fsm_pct", "smd_after"] == pytest.approx(0.0)


def test_comparison_pool_rules():
    cal = calendar()
    rows = days("2023-11-01", 8, "/", "T") + days("2023-11-10", 2, "O", "T")
    rows += days("2024-01-20", 10, "/", "T")
    for u in ("A", "B", "C", "E", "F"):  # persistently absent in the baseline (2 of 10)
        rows += days("2023-11-01", 8, "/", u) + days("2023-11-10", 2, "N", u)
        if u != "E":  # E has no review-window marks
            rows += days("2024-01-20", 10, "/", u)
    rows += days("2023-11-01", 10, "/", "D") + days("2024-01-20", 10, "/", "D")  # not PA
    ivs = pd.DataFrame(
        {
            "intervention_id": ["IT", "IB", "IC"],
            "upn": ["T", "B", "C"],
            "officer": ["Ann"] * 3,
            # B is first treated after T's review window; C before T's start.
            "start_date": pd.to_datetime([S, "2024-06-10", "2023-09-20"]),
        }
    )
    pup = pupils([(u, "2023/24", 1, "6", False, "N") for u in ("T", "A", "B", "C", "D", "E")])
    sch = schools([(1, "Ash Primary", "primary", "East", "Ann")])
    m = marks(rows)
    ev = im.evaluate_interventions(ivs.iloc[:1], m, pup, sch, cal, last_date="2025-07-18")
    pool = mm.comparison_pool(ev, m, pup, sch, ivs)
    assert sorted(pool["upn"]) == ["A", "B"]  # F has no pupils.csv record
    assert (pool["baseline_attendance_pct"] == 80.0).all()
    assert (pool["change_pp"] == 20.0).all()
    assert (pool["phase"] == "primary").all()


def test_regression_to_the_mean_on_a_synthetic_la(tmp_path, monkeypatch):
    from attendance_lib.contract.dataset import load_dataset
    from attendance_lib.synth import generate

    monkeypatch.setenv("ATTENDANCE_WORKBENCH_CACHE", str(tmp_path / "cache"))
    generate(tmp_path / "la", pupils=3000, schools=12, progress=False)
    truth = json.loads((tmp_path / "la" / "synth_truth.json").read_text())
    realised = truth["intervention_effect"]["realised_effect_pp"]
    ds = load_dataset(tmp_path / "la")
    cal = Calendar(ds.calendar)
    ev = im.evaluate_interventions(
        ds.interventions, ds.marks, ds.pupils, ds.schools, cal, services=ds.services
    )
    pool = mm.comparison_pool(ev, ds.marks, ds.pupils, ds.schools, ds.interventions, ds.services)
    pairs = mm.match_comparisons(ev, pool)
    eff = mm.effect_table(ev, pairs, reps=1000).set_index("method")
    before_after = eff.loc["before_after"]
    did = eff.loc["difference_in_differences"]
    assert before_after["ci_low"] > realised  # before/after is biased upwards
    assert did["ci_low"] <= realised <= did["ci_high"]  # DiD interval covers the truth
    assert did["n_treated"] >= 0.7 * before_after["n_treated"]  # most pupils were matched
    balance = mm.matching_balance(ev, pool, pairs).set_index("covariate")
    matched_on = ["baseline_attendance_pct", "primary_phase_pct", "fsm_pct", "sen_support_pct"]
    assert balance.loc[matched_on, "smd_after"].abs().max() < 0.1
    assert balance.loc["baseline_attendance_pct", "smd_before"] < -0.2  # treated were worse


def test_matched_window_means():
    pairs = mm.match_comparisons(_treated(), _pool(), caliper_pp=2.5, neighbours=2)
    means = mm.matched_window_means(pairs).set_index("group")
    # treated T1 (80 -> 90), T3 (70 -> 75); comparisons: T1's C1 (81 -> 85) and C2 (79 -> 85)
    # averaged to 80 -> 85, T3's C4 (70.5 -> 71.5).
    assert means.loc["treated", "baseline_attendance_pct"] == pytest.approx(75.0)
    assert means.loc["treated", "review_attendance_pct"] == pytest.approx(82.5)
    assert means.loc["comparison", "baseline_attendance_pct"] == pytest.approx(75.25)
    assert means.loc["comparison", "review_attendance_pct"] == pytest.approx(78.25)
    assert means.loc["comparison", "pupils"] == 3
