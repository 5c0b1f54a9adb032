"""The comparison pool, nearest-neighbour matching, difference-in-differences and balance;
and the regression-to-the-mean check on a small synthetic LA whose true effect is known."""

from __future__ import annotations

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
            "academic_year": ["2023/24"] * 4,
            "urn": [1, 1, 2, 2],
            "key_stage": ["KS2"] * 4,
            "fsm": [False, False, True, False],
            "sen": ["N"] * 4,
            "open_service": [False] * 4,
            "year_group": ["6"] * 4,
            "baseline_attendance_pct": [80.0, 60.0, 70.0, np.nan],
            "earlier_attendance_pct": [82.0, 62.0, 72.0, np.nan],
            "history_attendance_pct": [np.nan] * 4,
            "history_possible": [0] * 4,
            "review_attendance_pct": [90.0, 68.0, 75.0, np.nan],
            "review_possible": [120] * 4,
            "change_pp": [10.0, 8.0, 5.0, np.nan],
            "evaluable": [True, True, True, False],
            "review_complete": [True] * 4,
        }
    )


def _pool():
    return pd.DataFrame(
        {
            "upn": ["C1", "C2", "C3", "C4", "C5", "C6", "C7"],
            "urn": [3, 3, 4, 4, 5, 3, 3],
            "start_date": [S] * 5 + [OTHER, S],
            "key_stage": ["KS2"] * 4 + ["KS3", "KS2", "KS2"],
            "fsm": [False, False, False, True, False, False, False],
            "sen": ["N"] * 7,
            "open_service": [False] * 6 + [True],
            "year_group": ["6", "5", "6", "6", "8", "6", "6"],
            "baseline_attendance_pct": [80.0, 79.0, 63.0, 70.0, 80.0, 80.0, 80.0],
            "earlier_attendance_pct": [82.0, 81.0, 65.0, 72.0, 82.0, 82.0, 82.0],
            "history_attendance_pct": [np.nan] * 7,
            "history_possible": [0] * 7,
            "review_attendance_pct": [84.0, 85.0, 65.0, 71.0, 80.0, 80.0, 80.0],
            "review_possible": [120] * 7,
            "change_pp": [4.0, 6.0, 2.0, 1.0, 0.0, 0.0, 0.0],
        }
    )


def test_exact_on_key_stage_fsm_sen_services_and_date_within_the_caliper():
    pairs = mm.match_comparisons(_treated(), _pool(), caliper_pp=2.5, neighbours=5)
    got = pairs.groupby("intervention_id")["upn_comparison"].apply(sorted).to_dict()
    # T1: C1 and C2 within 2.5 points; C5 (KS3), C6 (another start date) and C7 (open service)
    # are never candidates. T2: nearest (C3) is 3.0 away. T3 (FSM): only C4. T4 not evaluable.
    assert got == {"T1": ["C1", "C2"], "T3": ["C4"]}
    wider = mm.match_comparisons(_treated(), _pool(), caliper_pp=3.0, neighbours=5)
    assert set(wider["intervention_id"]) == {"T1", "T2", "T3"}
    assert (pairs.groupby("intervention_id")["weight"].sum() == 1.0).all()


def test_nearest_on_the_pre_intervention_history():
    pairs = mm.match_comparisons(
        _treated(), _pool(), caliper_pp=2.5, neighbours=1, distance="history"
    )
    # C1 has T1's baseline and earlier attendance exactly; C2 is 1 point off on both
    assert dict(zip(pairs["intervention_id"], pairs["upn_comparison"], strict=True)) == {
        "T1": "C1",
        "T3": "C4",
    }


def _cross_join_matching(evaluated, pool, caliper_pp=2.5, neighbours=5):
    """Matching by its definition: every treated pupil joined to every candidate of its cell,
    the caliper applied, then the nearest by distance, baseline distance and UPN."""
    t = mm.treated_for_matching(evaluated)
    t = t[t["unmatched_reason"] == ""].astype({"fsm": bool, "open_service": bool})
    c = pool.astype({"fsm": bool, "open_service": bool})
    t["_hist"] = t["history_attendance_pct"].notna()
    c["_hist"] = c["history_attendance_pct"].notna()
    cols = [*mm.HISTORY_COLUMNS, "review_attendance_pct", "change_pp"]
    t_cols = ["intervention_id", "start_date", *mm.EXACT_ON, "urn", "review_possible", *cols]
    keys = ["start_date", *mm.EXACT_ON, "_hist"]
    c = c[[*keys, "upn", "urn", *cols]].rename(
        columns={k: f"{k}_comparison" for k in ["upn", "urn", *cols]}
    )
    pairs = t[[*t_cols, "_hist"]].merge(c, on=keys)
    pairs["distance_pp"] = (
        pairs["baseline_attendance_pct"] - pairs["baseline_attendance_pct_comparison"]
    ).abs()
    pairs = pairs[pairs["distance_pp"] <= caliper_pp].copy()
    total = np.zeros(len(pairs))
    for col in mm.SELECTION_COLUMNS:
        v = t[col].to_numpy(float)
        sd = float(np.std(v[np.isfinite(v)])) or 1.0
        d = (pairs[col] - pairs[f"{col}_comparison"]).to_numpy(float) / sd
        total += np.nan_to_num(d) ** 2
    pairs["score_distance"] = np.sqrt(total)
    pairs = pairs.sort_values(
        ["intervention_id", "score_distance", "distance_pp", "upn_comparison"], kind="stable"
    )
    pairs = pairs[pairs.groupby("intervention_id").cumcount() < neighbours].copy()
    pairs["weight"] = 1 / pairs.groupby("intervention_id")["upn_comparison"].transform("size")
    return pairs.drop(columns="_hist").reset_index(drop=True)


@pytest.mark.parametrize("caliper, k", [(2.5, 5), (0.5, 2), (5.0, 10), (np.inf, 3)])
def test_matching_equals_the_cross_join_it_avoids_at_the_caliper_s_edge(caliper, k):
    # Baselines on a half-point grid, so many candidates sit exactly one caliper away (kept)
    # or just beyond it; three dates, both key stages, FSM, SEN, services and histories mixed.
    rng = np.random.default_rng(7)
    dates = [S, OTHER, pd.Timestamp("2024-03-04")]

    def frame(n, prefix):
        base = rng.integers(150, 201, n) / 2
        return pd.DataFrame(
            {
                "upn": [f"{prefix}{i:04d}" for i in range(n)],
                "intervention_id": [f"{prefix}{i:04d}" for i in range(n)],
                "urn": rng.integers(1, 6, n),
                "start_date": [dates[i] for i in rng.integers(0, 3, n)],
                "academic_year": "2023/24",
                "key_stage": rng.choice(["KS2", "KS3"], n),
                "fsm": rng.random(n) < 0.3,
                "sen": rng.choice(["N", "K", "E"], n, p=[0.8, 0.15, 0.05]),
                "open_service": rng.random(n) < 0.2,
                "year_group": "6",
                "baseline_attendance_pct": base,
                "earlier_attendance_pct": base + rng.integers(-4, 5, n) / 2,
                "history_attendance_pct": np.where(rng.random(n) < 0.3, np.nan, base - 1),
                "history_possible": 100,
                "review_attendance_pct": base + 2,
                "review_possible": 120,
                "change_pp": 2.0,
                "evaluable": True,
                "review_complete": True,
            }
        )

    treated, pool = frame(60, "T"), frame(900, "C")
    got = mm.match_comparisons(treated, pool, caliper_pp=caliper, neighbours=k)
    want = _cross_join_matching(treated, pool, caliper, k)
    assert len(want) > 30
    assert (want["distance_pp"] == caliper).any() or caliper == np.inf
    pd.testing.assert_frame_equal(got, want)


def test_difference_in_differences_bias_correction_and_before_after():
    pairs = mm.match_comparisons(
        _treated(), _pool(), caliper_pp=2.5, neighbours=1, distance="history"
    )
    eff = mm.effect_table(_treated(), pairs, reps=200).set_index("method")
    assert list(eff.reset_index().columns) == mm.EFFECT_COLUMNS
    assert eff.loc["before_after", "estimate_pp"] == pytest.approx((10 + 8 + 5) / 3)
    assert eff.loc["before_after", "n_treated"] == 3
    # each comparison has its treated pupil's pre-period attendance exactly, so the bias
    # correction changes nothing: (10 - 4) and (5 - 1) -> 5.0
    did = eff.loc["difference_in_differences"]
    assert did["estimate_pp"] == pytest.approx(5.0)
    assert (did["n_treated"], did["n_comparison"], did["n_schools"]) == (2, 2, 4)
    # 5 points of 120 sessions (60 school days) = 3 days gained per child
    assert did["days_gained"] == pytest.approx(3.0)
    assert list(mm.effect_table(_treated(), None)["method"]) == ["before_after"]


def test_change_is_measured_from_the_history_which_matching_leaves_out():
    # Officers choose on the baseline and the earlier window, so matching uses those two; the
    # history before them is the pupils' usual level, and the change is measured from it.
    t = _treated().iloc[[0]].assign(history_attendance_pct=75.0, history_possible=600)
    pool = (
        _pool()
        .iloc[[0, 1]]
        .assign(
            baseline_attendance_pct=80.0,
            earlier_attendance_pct=82.0,
            history_attendance_pct=[88.0, 75.0],
            history_possible=600,
            review_attendance_pct=[86.0, 70.0],
        )
    )
    pairs = mm.match_comparisons(t, pool, caliper_pp=2.5, neighbours=1)
    # C1 and C2 tie on the baseline and earlier window; the history does not break the tie
    assert list(pairs["upn_comparison"]) == ["C1"]
    # (90 - 75) - (86 - 88) x f: the pre-periods matched exactly, so no bias correction; the
    # comparison's -2 points at 12% usual absence carried to the treated child's 25% by
    # f = sqrt(0.25 x 0.75 / (0.12 x 0.88)) = 1.3325 (level_scale): 15 + 2.665 = 17.665
    f = np.sqrt(0.25 * 0.75 / (0.12 * 0.88))
    assert mm.did_contributions(pairs).estimate() == pytest.approx(15 + 2 * f)
    assert mm.did_contributions(pairs).estimate() == pytest.approx(17.665, abs=1e-3)
    # without a history the change is measured from the earlier window: (90 - 82) - (86 - 82)
    none = pairs.assign(history_attendance_pct=np.nan, history_attendance_pct_comparison=np.nan)
    assert mm.did_contributions(none).estimate() == pytest.approx(4.0)


def _level_pairs(usual_t: float, usual_c: list[float], change_c: list[float]) -> pd.DataFrame:
    n = len(usual_c)
    return pd.DataFrame(
        {
            "intervention_id": ["T1"] * n,
            "history_attendance_pct": [usual_t] * n,
            "earlier_attendance_pct": [usual_t] * n,
            "history_attendance_pct_comparison": usual_c,
            "earlier_attendance_pct_comparison": [80.0] * n,
            "review_attendance_pct_comparison": np.add(usual_c, change_c),
            "weight": [1 / n] * n,
        }
    )


def test_level_scale_carries_a_comparison_change_to_the_treated_childs_level():
    # treated usual level 80% (absence 0.2); comparisons 90% and 88% (mean absence 0.11)
    pairs = _level_pairs(80.0, [90.0, 88.0], [-3.0, -1.0])
    f = np.sqrt(0.2 * 0.8 / (0.11 * 0.89))  # 1.2716
    assert mm.level_scale(pairs) == pytest.approx([f, f])
    assert list(mm.comparison_change(pairs)) == pytest.approx([-3 * f, -1 * f])
    # at the same level the change is unchanged
    same = _level_pairs(85.0, [85.0, 85.0], [2.0, -1.0])
    assert list(mm.comparison_change(same)) == pytest.approx([2.0, -1.0])
    # a child with less absence than its comparisons moves less
    assert mm.level_scale(_level_pairs(97.0, [90.0], [1.0]))[0] == pytest.approx(
        np.sqrt(0.03 * 0.97 / (0.1 * 0.9))
    )
    # a comparison with no usual level is left out of the mean level, and keeps factor ...
    gap = _level_pairs(80.0, [90.0, np.nan], [-3.0, 0.0])
    gap["earlier_attendance_pct_comparison"] = [80.0, np.nan]
    assert mm.level_scale(gap)[0] == pytest.approx(np.sqrt(0.2 * 0.8 / (0.1 * 0.9)))
    # ... and no absence at all is held at the floor, so the factor stays finite
    floor = mm.LEVEL_FLOOR
    none = _level_pairs(80.0, [100.0], [-1.0])
    assert mm.level_scale(none)[0] == pytest.approx(np.sqrt(0.16 / (floor * (1 - floor))))
    assert mm.level_scale(none.iloc[:0]).shape == (0,)


def test_pre_trend_placebo_by_hand():
    pairs = mm.match_comparisons(_treated(), _pool(), caliper_pp=2.5, neighbours=2)
    # T1: (80 - 82) - mean((80 - 82), (79 - 81)) = 0; T3: (70 - 72) - (70 - 72) = 0
    assert mm.did_contributions(pairs, outcome="placebo").estimate() == pytest.approx(0.0)
    moved = pairs.assign(earlier_attendance_pct=pairs["earlier_attendance_pct"] - 3.0)
    # the treated pupils' attendance rose 3 points more than their comparisons' before the start
    assert mm.did_contributions(moved, outcome="placebo").estimate() == pytest.approx(3.0)
    eff = pd.DataFrame(
        {"method": ["pre_trend_placebo"], "estimate_pp": [3.0], "ci_low": [1.0], "ci_high": [5.0]}
    )
    assert mm.placebo_near_zero(eff) is False
    eff2 = eff.assign(estimate_pp=0.2, ci_low=-0.5, ci_high=0.9)
    assert mm.placebo_near_zero(eff2) is True


def test_cluster_bootstrap_resamples_schools():
    # four schools, each with one treated pupil and one comparison; the treated values differ
    parts = mm.Contributions(
        treated=pd.DataFrame({"urn": [1, 2, 3, 4], "value": [1.0, 2.0, 3.0, 4.0]}),
        comparison=pd.DataFrame({"urn": [1, 2, 3, 4], "value": [0.0] * 4, "weight": [1.0] * 4}),
    )
    est, low, high, g = mm.cluster_bootstrap(parts, reps=4000)
    assert est == pytest.approx(2.5) and g == 4
    # the bootstrap SE of a mean of 4 schools is sd(ddof=0) / 2; with the small-sample factor
    # sqrt(4 / 3) it is the usual sd(ddof=1) / sqrt(4); t(3) = 3.18
    se = np.std([1, 2, 3, 4], ddof=1) / 2
    assert (high - low) / 2 == pytest.approx(3.182 * se, rel=0.1)
    same = mm.Contributions(
        treated=pd.DataFrame({"urn": [1, 2], "value": [2.0, 2.0]}),
        comparison=pd.DataFrame({"urn": [1, 2], "value": [1.0, 1.0], "weight": [1.0, 1.0]}),
    )
    est, low, high, _ = mm.cluster_bootstrap(same, reps=200)
    assert (est, low, high) == (1.0, 1.0, 1.0)


def test_balance_table_before_and_after_flags_smd_above_0_1():
    pairs = mm.match_comparisons(_treated(), _pool(), caliper_pp=2.5, neighbours=2)
    bal = mm.matching_balance(_treated(), _pool(), pairs).set_index("covariate")
    row = bal.loc["baseline attendance %"]
    assert row["treated_before"] == pytest.approx(70.0)  # (80 + 60 + 70) / 3
    assert row["treated_after"] == pytest.approx(75.0)  # T1, T3
    # comparisons weighted 1/k: (80 + 79) / 2 for T1 and 70 for T3 -> (79.5 + 70) / 2
    assert row["comparison_after"] == pytest.approx(74.75)
    assert "open service involvement %" in bal.index
    assert bal.loc["free school meals %", "smd_after"] == pytest.approx(0.0)
    assert set(bal["flag"]) <= {"", "SMD above 0.1"}
    text = mm.describe_balance(bal.reset_index())
    flagged = bal[bal["smd_after"].abs() > 0.1].index
    for name in flagged:
        assert name in text


def test_unmatched_treated_are_counted_by_reason():
    pairs = mm.match_comparisons(_treated(), _pool(), caliper_pp=2.5, neighbours=2)
    un = mm.unmatched_summary(_treated(), pairs).set_index("reason")
    assert un.loc["no comparison pupil within the caliper", "interventions"] == 1  # T2
    assert un.loc["no comparison pupil within the caliper", "mean_baseline_attendance_pct"] == 60.0


def test_comparison_pool_is_compulsory_school_age_without_an_intervention():
    cal = calendar()
    rows = []
    people = ("T", "N2", "R", "Y1", "Y11", "Y12", "LATER", "BEFORE")
    for u in people:
        rows += days("2023-09-04", 20, "/", u)  # the earlier window
        rows += days("2023-10-02", 90, "/", u) + days("2024-01-01", 10, "O", u)  # baseline
        rows += days("2024-01-15", 100, "/", u)  # review (to 29 Apr 2024)
    year = {"T": "6", "N2": "N2", "R": "R", "Y1": "1", "Y11": "11", "Y12": "12",
            "LATER": "3", "BEFORE": "4"}  # fmt: skip
    pup = pupils([(u, "2023/24", 1, year[u], False, "N") for u in people])
    ivs = pd.DataFrame(
        {
            "intervention_id": ["IT", "IL", "IB"],
            "upn": ["T", "LATER", "BEFORE"],
            "officer": ["Ann"] * 3,
            # LATER is first treated after T's review window; BEFORE inside it.
            "start_date": pd.to_datetime([S, "2024-06-10", "2024-03-01"]),
        }
    )
    sch = schools([(1, "Ash Primary", "primary", "East", "Ann")])
    m = marks(rows)
    ev = im.evaluate_interventions(ivs.iloc[:1], m, pup, sch, cal, last_date="2025-07-18")
    assert ev.loc[0, "review_complete"] and ev.loc[0, "earlier_attendance_pct"] == 100.0
    pool = mm.comparison_pool(ev, m, pup, sch, ivs, calendar=cal, all_candidates=True)
    assert sorted(pool["upn"]) == ["LATER", "Y1", "Y11"]  # Years 1 to 11 only
    assert set(pool["key_stage"]) == {"KS1", "KS2", "KS4"}
    assert (pool["baseline_attendance_pct"] == ev.loc[0, "baseline_attendance_pct"]).all()
    # By default only the candidates T is matched to: the same key stage (KS2), etc.
    matchable = mm.comparison_pool(ev, m, pup, sch, ivs, calendar=cal)
    assert list(matchable["upn"]) == ["LATER"]
    # ... while "before matching" still describes all three (per-date moments in attrs).
    moments = pd.DataFrame(list(matchable.attrs["candidates"]), columns=mm._MOMENTS)
    moments = moments.set_index("covariate")
    assert moments.loc["year_group", "n"] == 3
    assert moments.loc["year_group", "mean"] == pytest.approx((1 + 11 + 3) / 3)


@pytest.fixture(scope="module")
def synthetic_la(tmp_path_factory):
    """A small synthetic LA (3,000 pupils, 12 schools), its evaluation and the truth."""
    from attendance_lib.contract.dataset import load_dataset
    from attendance_lib.synth import generate

    root = tmp_path_factory.mktemp("synthetic_la")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ATTENDANCE_WORKBENCH_CACHE", str(root / "cache"))
        result = generate(root / "la", pupils=3000, schools=12, progress=False)
        ds = load_dataset(root / "la")
        cal = Calendar(ds.calendar)
        ev = im.evaluate_interventions(
            ds.interventions, ds.marks, ds.pupils, ds.schools, cal, services=ds.services
        )
        yield ds, cal, ev, result


def test_matchable_pool_gives_the_same_matching(synthetic_la, monkeypatch):
    ds, cal, ev, _ = synthetic_la
    args = (ev, ds.marks, ds.pupils, ds.schools, ds.interventions, ds.services)
    everyone = mm.comparison_pool(*args, calendar=cal, all_candidates=True)
    matchable = mm.comparison_pool(*args, calendar=cal, settings=None)
    monkeypatch.setattr(mm, "POOL_CHUNK_ROWS", 2000)  # cut a few start dates at a time
    pool = mm.comparison_pool(*args, calendar=cal)
    assert 0 < len(pool) < len(matchable) < len(everyone)
    assert list(pool.columns) == list(everyone.columns)
    for caliper, k in ((mm.DEFAULT_CALIPER_PP, mm.DEFAULT_NEIGHBOURS), (5.0, 5), (2.5, 10)):
        options = dict(caliper_pp=caliper, neighbours=k)
        whole = mm.match_comparisons(ev, everyone, **options)
        pd.testing.assert_frame_equal(mm.match_comparisons(ev, matchable, **options), whole)
        pd.testing.assert_frame_equal(mm.match_comparisons(ev, pool, **options), whole)
    pairs = mm.match_comparisons(ev, pool)
    pd.testing.assert_frame_equal(pairs, _cross_join_matching(ev, pool))
    # "Before matching" from the per-date moments equals the whole pool's, rows and all.
    balance = mm.matching_balance(ev, pool, pairs)
    everyone.attrs.clear()
    pd.testing.assert_frame_equal(balance, mm.matching_balance(ev, everyone, pairs))


def test_regression_to_the_mean_on_a_synthetic_la(synthetic_la):
    ds, cal, ev, result = synthetic_la
    pool = mm.comparison_pool(
        ev, ds.marks, ds.pupils, ds.schools, ds.interventions, ds.services, calendar=cal
    )
    pairs = mm.match_comparisons(ev, pool)
    eff = mm.effect_table(ev, pairs, reps=1000).set_index("method")
    truth = result.effects.set_index("intervention_id")["effect_pp"]
    before_after = eff.loc["before_after"]
    did = eff.loc["difference_in_differences"]
    done = ev[ev["evaluable"] & ev["review_complete"]]
    assert before_after["ci_low"] > truth.reindex(done["intervention_id"]).mean()  # biased up
    realised = truth.reindex(pairs["intervention_id"].unique()).mean()
    assert did["ci_low"] <= realised <= did["ci_high"]  # DiD interval covers the truth
    assert did["n_treated"] >= 0.6 * before_after["n_treated"]  # most pupils were matched
    balance = mm.matching_balance(ev, pool, pairs).set_index("covariate")
    matched_on = ["baseline attendance %", "free school meals %", "SEN support %"]
    assert balance.loc[matched_on, "smd_after"].abs().max() < 0.1
    assert balance.loc["baseline attendance %", "smd_before"] < -0.2  # treated were worse


def test_matched_window_means():
    pairs = mm.match_comparisons(_treated(), _pool(), caliper_pp=2.5, neighbours=2)
    means = mm.matched_window_means(pairs).set_index("group")
    # treated T1 (80 -> 90), T3 (70 -> 75); comparisons: T1's C1 (80 -> 84) and C2 (79 -> 85)
    # averaged to 79.5 -> 84.5, T3's C4 (70 -> 71).
    assert means.loc["treated", "baseline_attendance_pct"] == pytest.approx(75.0)
    assert means.loc["treated", "review_attendance_pct"] == pytest.approx(82.5)
    assert means.loc["comparison", "baseline_attendance_pct"] == pytest.approx(74.75)
    assert means.loc["comparison", "review_attendance_pct"] == pytest.approx(77.75)
    assert means.loc["comparison", "pupils"] == 3
    # no history, so the usual level is the earlier window: T1 82, T3 72; C1 82 and C2 81
    # averaged to 81.5, C4 72
    assert means.loc["treated", "usual_attendance_pct"] == pytest.approx(77.0)
    assert means.loc["comparison", "usual_attendance_pct"] == pytest.approx(76.75)
    assert means.loc["treated", "change_pp"] == pytest.approx(82.5 - 77.0)
    assert "usual level 77.0%" in mm.describe_window_means(means.reset_index())


def test_describe_effect_says_how_much_would_have_happened_anyway():
    pairs = mm.match_comparisons(_treated(), _pool(), caliper_pp=2.5, neighbours=2)
    eff = mm.effect_table(_treated(), pairs, reps=200)
    # from the usual level (the earlier window: no history): treated (8 + 3) / 2 = 5.5;
    # comparisons ((2 + 4) / 2 + (-1)) / 2 = 1.0, so 1.0 / 5.5 = 18% would have happened anyway
    text = mm.describe_effect(eff, pairs, n_evaluable=3)
    assert "treated pupils changed by +5.5 points and their comparisons by +1.0 points" in text
    assert "about 18% of the matched pupils' rise would have happened anyway" in text
    # carried to the treated pupils' level: T1's comparisons (usual absence 18% and 19%, mean
    # 18.5%) by sqrt(0.18 x 0.82 / (0.185 x 0.815)) = 0.9894: (3 x 0.9894 - 1) / 2 = 0.98
    assert "usual level of absence (a child with more absence moves further), +1.0 points" in text
    moved = pairs.assign(earlier_attendance_pct=pairs["earlier_attendance_pct"] - 10.0)
    # T1 at 72% (absence 0.28): factor sqrt(0.28 x 0.72 / 0.150775) = 1.1563; T3 at 62%:
    # sqrt(0.38 x 0.62 / (0.28 x 0.72)) = 1.0826: (3 x 1.1563 - 1.0826) / 2 = 1.19
    assert "moves further), +1.2 points" in mm.describe_effect(eff, moved, n_evaluable=3)
    fell = pairs.assign(review_attendance_pct_comparison=70.0)
    assert "none of the matched pupils' rise" in mm.describe_effect(eff, fell, n_evaluable=3)
    flat = pairs.assign(review_attendance_pct=60.0)
    assert "did not rise on average" in mm.describe_effect(eff, flat, n_evaluable=3)


def test_describe_unmatched_says_the_estimate_is_for_the_matched_children():
    pairs = mm.match_comparisons(_treated(), _pool(), caliper_pp=2.5, neighbours=2)
    unmatched = mm.unmatched_summary(_treated(), pairs)
    # T2 (baseline 60%) has no comparison within 2.5 points
    assert (
        unmatched.set_index("reason").loc["no comparison pupil within the caliper", "interventions"]
        == 1
    )
    text = mm.describe_unmatched(unmatched, n_evaluable=3)
    assert text.startswith("1 of 3 evaluable interventions are not in the matched estimate")
    assert "mean baseline attendance 60.0%" in text
    assert "The estimate describes the matched children only" in text
    everyone = mm.describe_unmatched(unmatched.iloc[:0], n_evaluable=3)
    assert everyone == "Every evaluable intervention entered the matched estimate."


def test_ranks_of_text_held_by_arrow_are_the_ranks_of_the_same_text_as_python_objects():
    # Arrow sorts UTF-8 text by bytes, Python by code points: the same order, accents included
    values = ["b", "é", "a", "B", "ä", "b", "Z9", "Z10", "", "a"]
    arrow = mm._rank(pd.Series(values, dtype="str"))
    python = mm._rank(pd.Series(values, dtype=object))
    # in order: "", "B", "Z10", "Z9", "a", "b", "ä", "é"
    assert arrow.tolist() == python.tolist() == [5, 7, 4, 1, 6, 5, 3, 2, 0, 4]
