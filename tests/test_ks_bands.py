"""KS2 / KS4 outcomes by attendance band: hand-computed figures on tiny data folders.

The KS2 fixture (2023/24, default window = half terms 1-4, 4 September 2023 to 28 March 2024):

====  =====================================================  ==========  ===============
upn   sessions in the window                                 attendance  band (cbc)
====  =====================================================  ==========  ===============
A1-4  20 x ``/``                                             100.0       100%
A5    18 x ``/`` + 2 x ``B`` (approved activity = attending)  100.0       100%
B1    19 x ``/`` + ``N`` on 28 March 2024 PM (last day)       95.0        95 to <100%
P     school A 10 x ``/``; school B 9 x ``/`` + ``C``          95.0        95 to <100%
C     no marks; census autumn 60/3/0, spring 40/0/2           95.0        95 to <100%
D1    18 ``/`` + 2 ``O`` + 4 ``X``; an ``O`` in half term 5    90.0        90 to <95%
E1    17 ``/`` + 3 ``I``                                      85.0        85 to <90%
F1    27 ``/`` + 5 ``G``                                      84.375      <85%
F2    16 ``/`` + 4 ``M``                                      80.0        <85%
U1    nothing                                                 -           Unmatched
U2    4 x ``X`` only (no possible session)                    -           Unmatched
U3    census summer term only (outside the window)            -           Unmatched
====  =====================================================  ==========  ===============

A2 also has census totals with heavy absence: ignored, because A2 has marks. C also has a
summer census term (50 possible, all absent): outside the autumn-spring window.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from builders import (
    CALENDAR_2023_24,
    URN_A,
    URN_B,
    YEAR,
    make_upn,
    mark,
    pupil,
    sessions,
)

from attendance_lib.analyses.attainment import ks_bands, ks_model
from attendance_lib.analyses.attainment.ks_bands import EXCLUDED, TOTAL, UNMATCHED
from attendance_lib.contract.dataset import load_dataset
from attendance_lib.present.notebook import publish_table

NAMES = ["A1", "A2", "A3", "A4", "A5", "B1", "P", "C", "D1", "E1", "F1", "F2", "U1", "U2", "U3"]
UPN = {name: make_upn(i + 1) for i, name in enumerate(NAMES)}
T, F, M = "true", "false", ""
#: rwm, read, writ, mat per pupil (M = missing result).
KS2_RESULTS = {
    "A1": (T, T, M, T),
    "A2": (T, T, T, T),
    "A3": (T, T, T, T),
    "A4": (T, T, F, F),
    "A5": (F, T, F, F),
    "B1": (T, T, T, T),
    "P": (F, T, F, T),
    "C": (F, F, F, F),
    "D1": (T, T, T, T),
    "E1": (F, T, F, F),
    "F1": (F, F, F, F),
    "F2": (F, T, F, F),
    "U1": (T, T, T, T),
    "U2": (F, F, F, F),
    "U3": (F, T, F, T),
}
BANDS = ["100%", "95 to <100%", "90 to <95%", "85 to <90%", "<85%"]


def _ks2_marks() -> list[dict]:
    u = UPN
    rows: list[dict] = []
    for name in ("A1", "A2", "A3", "A4"):
        rows += sessions(u[name], URN_A, ["/"] * 20)
    rows += sessions(u["A5"], URN_A, ["/"] * 18 + ["B"] * 2)
    rows += sessions(u["B1"], URN_A, ["/"] * 19)
    rows.append(mark(u["B1"], URN_A, "2024-03-28", "PM", "N"))
    rows += sessions(u["P"], URN_A, ["/"] * 10)
    rows += sessions(u["P"], URN_B, ["/"] * 9 + ["C"], start="2023-10-02")
    rows += sessions(u["D1"], URN_A, ["/"] * 18 + ["O"] * 2 + ["X"] * 4)
    rows.append(mark(u["D1"], URN_A, "2024-04-16", "AM", "O"))
    rows += sessions(u["E1"], URN_A, ["/"] * 17 + ["I"] * 3)
    rows += sessions(u["F1"], URN_A, ["/"] * 27 + ["G"] * 5)
    rows += sessions(u["F2"], URN_A, ["/"] * 16 + ["M"] * 4)
    rows += sessions(u["U2"], URN_A, ["X"] * 4)
    return rows


def _census(upn, term, possible, authorised, unauthorised, year=YEAR) -> dict:
    return {
        "upn": upn,
        "urn": URN_A,
        "academic_year": year,
        "term": term,
        "sessions_possible": possible,
        "sessions_authorised": authorised,
        "sessions_unauthorised": unauthorised,
    }


@pytest.fixture(scope="module")
def ks2_folder(tmp_path_factory):
    from builders import write_folder

    u = UPN
    results = [
        {
            "upn": u[n],
            "academic_year": YEAR,
            "rwm_expected": r[0],
            "read_expected": r[1],
            "writ_expected": r[2],
            "mat_expected": r[3],
            # present in the file (an absent optional float column does not load yet)
            "ks1_prior": 15.0 + i % 4,
        }
        for i, (n, r) in enumerate(KS2_RESULTS.items())
    ]
    census = [
        _census(u["C"], "autumn", 60, 3, 0),
        _census(u["C"], "spring", 40, 0, 2),
        _census(u["C"], "summer", 50, 0, 50),
        _census(u["A2"], "autumn", 60, 30, 30),
        _census(u["U3"], "summer", 50, 0, 5),
    ]
    pupils = [
        pupil(u[n], URN_A, year_group="6", fsm="true" if n in ("C", "F1", "F2") else "false")
        for n in NAMES
        if n != "U1"
    ]
    return write_folder(
        tmp_path_factory.mktemp("ks2"),
        pupils=pupils,
        marks=_ks2_marks(),
        ks2=results,
        absence_terms=census,
    )


@pytest.fixture(scope="module")
def ks2_cohort(ks2_folder):
    ds = load_dataset(ks2_folder)
    return ks_bands.load_cohort(ds, key_stage=2, academic_year=YEAR)


def _by_band(table: pd.DataFrame) -> pd.DataFrame:
    return table.set_index("band")


class TestBandAssignment:
    def test_each_pupil_lands_in_the_band_the_edges_say(self, ks2_cohort):
        got = ks2_cohort.pupils.set_index("upn")["band"].astype(str)
        expected = {
            **dict.fromkeys(["A1", "A2", "A3", "A4", "A5"], "100%"),
            **dict.fromkeys(["B1", "P", "C"], "95 to <100%"),
            "D1": "90 to <95%",
            "E1": "85 to <90%",
            "F1": "<85%",
            "F2": "<85%",
            **dict.fromkeys(["U1", "U2", "U3"], UNMATCHED),
        }
        assert {n: got[UPN[n]] for n in NAMES} == expected

    def test_pupil_level_sums_enrolments_and_census_fallback(self, ks2_cohort):
        p = ks2_cohort.pupils.set_index("upn")
        assert p.loc[UPN["P"], "sessions_possible"] == 20
        assert p.loc[UPN["P"], "attendance_pct"] == 95.0
        assert p.loc[UPN["C"], "attendance_pct"] == 95.0
        assert p.loc[UPN["C"], "source"] == "census"
        assert p.loc[UPN["A2"], "source"] == "marks"  # census ignored when marks exist
        assert p.loc[UPN["F1"], "attendance_pct"] == pytest.approx(84.375)
        assert p.loc[UPN["B1"], "sessions_possible"] == 20  # last day of half term 4 counts

    def test_window_is_half_terms_one_to_four(self, ks2_cohort):
        (period,) = ks2_cohort.periods
        assert (period.start, period.end) == (
            pd.Timestamp("2023-09-04"),
            pd.Timestamp("2024-03-28"),
        )


class TestKs2Table:
    def test_columns_and_row_order(self, ks2_cohort):
        table = ks_bands.outcome_table(ks2_cohort)
        assert list(table.columns) == [
            "band",
            "pupils",
            "rwm_pct",
            "read_pct",
            "writ_pct",
            "mat_pct",
        ]
        assert list(table["band"]) == [*BANDS, UNMATCHED, TOTAL]

    def test_hand_computed_rates(self, ks2_cohort):
        t = _by_band(ks_bands.outcome_table(ks2_cohort))
        assert list(t["pupils"]) == [5, 3, 1, 1, 2, 3, 15]
        assert t.loc["100%", ["rwm_pct", "read_pct", "writ_pct", "mat_pct"]].tolist() == [
            80.0,
            100.0,
            50.0,  # A1's writing result is missing: 2 of the other 4
            60.0,
        ]
        assert t.loc["95 to <100%", "rwm_pct"] == pytest.approx(100 / 3)
        assert t.loc["95 to <100%", "read_pct"] == pytest.approx(200 / 3)
        assert t.loc["85 to <90%", ["rwm_pct", "read_pct"]].tolist() == [0.0, 100.0]
        assert t.loc["<85%", "read_pct"] == 50.0
        assert t.loc[UNMATCHED, "mat_pct"] == pytest.approx(200 / 3)
        assert t.loc[TOTAL, "rwm_pct"] == pytest.approx(700 / 15)
        assert t.loc[TOTAL, "read_pct"] == pytest.approx(80.0)
        assert t.loc[TOTAL, "writ_pct"] == pytest.approx(500 / 14)
        assert t.loc[TOTAL, "mat_pct"] == pytest.approx(800 / 15)

    def test_wilson_interval_for_four_of_five(self, ks2_cohort):
        t = _by_band(ks_bands.outcome_table(ks2_cohort, ci=True))
        assert "rwm_pct_ci_low" in t and "mat_pct_ci_high" in t
        # Wilson (1927) for 4/5 at 95%: 0.3755 to 0.9638 (hand-computed with z = 1.95996)
        assert t.loc["100%", "rwm_pct_ci_low"] == pytest.approx(37.553, abs=0.01)
        assert t.loc["100%", "rwm_pct_ci_high"] == pytest.approx(96.377, abs=0.01)

    def test_suppression_through_publish_table(self, ks2_cohort):
        table = ks_bands.outcome_table(ks2_cohort, suppress_below=5)
        rates = ["rwm_pct", "read_pct", "writ_pct", "mat_pct"]
        pub = _by_band(
            publish_table(
                table,
                "ks2_by_band",
                caption="x",
                counts=["pupils"],
                rates=rates,
                denominator="pupils",
                suppress_below=5,
            )
        )
        assert pub.loc["100%", "pupils"] == 5
        assert pub.loc["100%", "rwm_pct"] == 80.0
        assert pub.loc["100%", "writ_pct"] == "c"  # only 4 pupils have a writing result
        assert pub.loc["95 to <100%", "pupils"] == "c"
        assert (pub.loc["95 to <100%", rates] == "c").all()
        assert (pub.loc[UNMATCHED, rates] == "c").all()
        assert pub.loc[TOTAL, "pupils"] == 15
        assert pub.loc[TOTAL, "rwm_pct"] == 46.7  # 700 / 15, published as shown (half up)

    def test_explicit_edges_match_the_preset(self, ks2_folder):
        ds = load_dataset(ks2_folder)
        cohort = ks_bands.load_cohort(ds, key_stage=2, academic_year=YEAR, bands=[100, 95, 90, 85])
        table = ks_bands.outcome_table(cohort)
        assert list(table["pupils"]) == [5, 3, 1, 1, 2, 3, 15]

    def test_year_window_takes_summer_marks_and_census(self, ks2_folder):
        ds = load_dataset(ks2_folder)
        cohort = ks_bands.load_cohort(ds, key_stage=2, academic_year=YEAR, window="year")
        p = cohort.pupils.set_index("upn")
        assert p.loc[UPN["D1"], "attendance_pct"] == pytest.approx(1800 / 21)
        assert p.loc[UPN["C"], "attendance_pct"] == pytest.approx(9500 / 150)
        assert p.loc[UPN["U3"], "attendance_pct"] == 90.0
        assert list(ks_bands.outcome_table(cohort)["pupils"]) == [5, 2, 1, 2, 3, 2, 15]

    def test_fsm_breakdown_within_bands(self, ks2_cohort):
        t = ks_bands.outcome_table(ks2_cohort, by="fsm").set_index(["band", "fsm"])
        assert t.loc[("<85%", "FSM eligible"), "pupils"] == 2
        assert t.loc[("<85%", "Not FSM eligible"), "pupils"] == 0
        assert t.loc[("95 to <100%", "FSM eligible"), "rwm_pct"] == 0.0
        assert t.loc[(UNMATCHED, "Not known"), "pupils"] == 1  # U1 is not in pupils.csv
        assert t.loc[(TOTAL, "Not FSM eligible"), "pupils"] == 11

    def test_gap_sentence(self, ks2_cohort):
        text = ks_bands.describe_gap(ks2_cohort, suppress_below=2)
        assert text.startswith("80.0% of pupils in the 100% band")
        assert "0.0% in the <85% band: a gap of 80.0 percentage points" in text
        # with 3, the bottom band (2 pupils) is suppressed: compare 100% with 95 to <100%
        text = ks_bands.describe_gap(ks2_cohort, suppress_below=3)
        assert "highest and lowest bands that can be shown" in text
        assert "33.3% in the 95 to <100% band: a gap of 46.7 percentage points" in text
        assert ks_bands.describe_gap(ks2_cohort, suppress_below=5).startswith("Fewer than two")

    def test_gap_within_fsm_groups(self, ks2_cohort):
        text = ks_bands.describe_within(ks2_cohort, "fsm", suppress_below=1)
        # not FSM: 100% band 4/5 = 80.0%, lowest band with a result is 85 to <90% (E1, 0/1)
        assert "Not FSM eligible: 80.0% of pupils in the 100% band" in text
        assert "0.0% in the 85 to <90% band" in text
        # FSM: C in 95 to <100% (0/1), F1 and F2 in <85% (0/2)
        assert "FSM eligible: 0.0% of pupils in the 95 to <100% band" in text


class TestWindows:
    def test_ks4_year_window_leaves_out_half_term_six(self):
        cal = ks_bands.Calendar(
            pd.DataFrame(CALENDAR_2023_24).assign(
                start_date=lambda f: pd.to_datetime(f["start_date"]),
                end_date=lambda f: pd.to_datetime(f["end_date"]),
            )
        )
        (ks4,) = ks_bands.window_periods(cal, YEAR, "year", 4)
        (ks2,) = ks_bands.window_periods(cal, YEAR, "year", 2)
        assert ks4.end == pd.Timestamp("2024-05-24") and ks2.end == pd.Timestamp("2024-07-19")
        with pytest.raises(ks_bands.UsageError, match="2020/21 to 2023/24"):
            ks_bands.window_periods(cal, YEAR, "key_stage", 2)
        with pytest.raises(ks_bands.UsageError, match="window must be one of"):
            ks_bands.window_periods(cal, YEAR, "spring", 2)


# --------------------------------------------------------------------------------------
# KS4 over the key stage: the DfE rule on possible sessions
# --------------------------------------------------------------------------------------

PREV = "2022/23"
CALENDAR_2022_23 = [
    {"academic_year": PREV, "half_term": ht, "start_date": s, "end_date": e}
    for ht, s, e in (
        (1, "2022-09-05", "2022-10-21"),
        (2, "2022-10-31", "2022-12-16"),
        (3, "2023-01-04", "2023-02-10"),
        (4, "2023-02-20", "2023-03-31"),
        (5, "2023-04-17", "2023-05-26"),
        (6, "2023-06-05", "2023-07-21"),
    )
]
K = {f"K{i}": make_upn(100 + i) for i in range(1, 9)}
#: name -> (codes in 2022/23, codes in 2023/24, attainment8, em_4plus, em_5plus)
KS4 = {
    "K1": (["/"] * 20, ["/"] * 20, "60", T, T),
    "K2": (["/"] * 20, ["/"] * 18 + ["I"] * 2, "50", T, F),
    "K3": (["/"] * 20, ["/"] * 20, "40", F, F),
    "K4": (["/"] * 17, ["/"] * 20, "20", F, F),  # 17 is 15% below the mode of 20: excluded
    "K5": (["/"] * 18, ["/"] * 20, "", T, T),  # 18 is exactly 10% below: kept
    "K6": ([], ["/"] * 20, "10", F, F),  # not on roll in 2022/23: excluded
    "K7": ([], [], "45", T, F),  # no marks at all: unmatched
    "K8": (["/"] * 20 + ["O"] * 2, ["/"] * 16 + ["O"] * 4, "30", F, F),  # 36/42
}


@pytest.fixture(scope="module")
def ks4_cohort(tmp_path_factory):
    from builders import write_folder

    marks, pupils, results = [], [], []
    for name, (prev, this, a8, e4, e5) in KS4.items():
        upn = K[name]
        marks += sessions(upn, URN_B, prev, start="2022-09-05") if prev else []
        marks += sessions(upn, URN_B, this, start="2023-09-04") if this else []
        pupils.append(pupil(upn, URN_B, academic_year=PREV, year_group="10"))
        pupils.append(pupil(upn, URN_B, year_group="11", sen="E" if name == "K8" else "N"))
        results.append(
            {
                "upn": upn,
                "academic_year": YEAR,
                "attainment8": a8,
                "em_4plus": e4,
                "em_5plus": e5,
                "ks2_prior": 100.0 + len(results),
            }
        )
    folder = write_folder(
        tmp_path_factory.mktemp("ks4"),
        pupils=pupils,
        calendar=CALENDAR_2022_23 + CALENDAR_2023_24,
        marks=marks,
        ks4=results,
    )
    ds = load_dataset(folder)
    return ks_bands.load_cohort(ds, key_stage=4, academic_year=YEAR, window="key_stage")


class TestKs4KeyStageWindow:
    def test_rows_include_excluded_pupils(self, ks4_cohort):
        t = ks_bands.outcome_table(ks4_cohort)
        assert list(t.columns) == [
            "band",
            "pupils",
            "attainment8_mean",
            "em_4plus_pct",
            "em_5plus_pct",
        ]
        assert list(t["band"]) == [*BANDS, UNMATCHED, EXCLUDED, TOTAL]
        assert list(t["pupils"]) == [3, 1, 0, 1, 0, 1, 2, 8]

    def test_sessions_summed_over_the_key_stage(self, ks4_cohort):
        p = ks4_cohort.pupils.set_index("upn")
        assert p.loc[K["K2"], "attendance_pct"] == 95.0
        assert p.loc[K["K8"], "attendance_pct"] == pytest.approx(3600 / 42)
        assert p.loc[K["K5"], "sessions_possible"] == 38

    def test_means_and_rates(self, ks4_cohort):
        t = _by_band(ks_bands.outcome_table(ks4_cohort, ci=True))
        assert t.loc["100%", "attainment8_mean"] == 50.0  # K5's missing score left out
        assert t.loc["100%", "em_4plus_pct"] == pytest.approx(200 / 3)
        assert t.loc[EXCLUDED, "attainment8_mean"] == 15.0
        assert t.loc[TOTAL, "attainment8_mean"] == pytest.approx(255 / 7)
        assert t.loc[TOTAL, "em_5plus_pct"] == 25.0
        # t interval for the mean of 60 and 40: 50 +/- 12.706 * 10
        assert t.loc["100%", "attainment8_mean_ci_high"] == pytest.approx(50 + 12.7062 * 10, 1e-4)
        assert math.isnan(t.loc["90 to <95%", "em_4plus_pct"])

    def test_window_spans_both_years(self, ks4_cohort):
        assert [p.academic_year for p in ks4_cohort.periods] == [PREV, YEAR]


# --------------------------------------------------------------------------------------
# The trend test and the adjusted model
# --------------------------------------------------------------------------------------


class TestCochranArmitage:
    def test_r_prop_trend_test_example(self):
        # R documentation, prop.trend.test: X-squared = 8.2249, df = 1, p-value = 0.004132
        res = ks_model.cochran_armitage([83, 90, 129, 70], [86, 93, 136, 82])
        assert res.statistic == pytest.approx(8.2249, abs=1e-4)
        assert res.p_value == pytest.approx(0.004132, abs=1e-6)
        assert res.z < 0

    def test_no_trend_and_undefined(self):
        assert ks_model.cochran_armitage([5, 5, 5], [10, 10, 10]).statistic == pytest.approx(0)
        assert math.isnan(ks_model.cochran_armitage([10, 10], [10, 10]).p_value)
        assert math.isnan(ks_model.cochran_armitage([3, 0], [10, 0]).p_value)

    def test_band_trend_on_fixture(self, ks2_cohort):
        # RWM by band: 4/5, 1/3, 1/1, 0/1, 0/2 with scores 1..5
        expected = ks_model.cochran_armitage([4, 1, 1, 0, 0], [5, 3, 1, 1, 2])
        assert ks_model.band_trend(ks2_cohort) == expected
        assert expected.z < 0


def _simulated(n: int = 4000, seed: int = 7) -> pd.DataFrame:
    """Outcomes from a logistic model: band odds ratios 1 (top), 0.8, 0.5; FSM 0.6; prior."""
    rng = np.random.default_rng(seed)
    band = rng.choice(["top", "middle", "bottom"], size=n, p=[0.5, 0.3, 0.2])
    fsm = rng.random(n) < 0.25
    sen = rng.choice(["N", "K"], size=n, p=[0.85, 0.15])
    prior = rng.normal(0, 1, n)
    log_or = {"top": 0.0, "middle": np.log(0.8), "bottom": np.log(0.5)}
    eta = 0.8 + pd.Series(band).map(log_or).to_numpy() + np.log(0.6) * fsm + 0.9 * prior
    eta -= 0.5 * (sen == "K")
    y = rng.random(n) < 1 / (1 + np.exp(-eta))
    return pd.DataFrame({"band": band, "y": y, "fsm": fsm, "sen": sen, "prior": prior})


COVS = {"fsm": "numeric", "sen": "N", "prior": "numeric"}


class TestAdjustedModel:
    def test_recovers_known_odds_ratio(self):
        res = ks_model.fit_band_logit(_simulated(), "y", ["top", "middle", "bottom"], COVS)
        t = res.table.set_index("band")
        assert list(res.table.columns) == ks_model.TABLE_COLUMNS
        assert t.loc["top", "odds_ratio"] == 1.0
        assert t.loc["bottom", "ci_low"] < 0.5 < t.loc["bottom", "ci_high"]
        assert t.loc["bottom", "ci_high"] < 1
        assert t.loc["middle", "ci_low"] < 0.8 < t.loc["middle", "ci_high"]
        assert t["n"].sum() == res.n_model == 4000

    def test_empty_and_separated_bands(self):
        frame = _simulated(1500)
        frame = frame[frame["band"] != "middle"].copy()
        frame.loc[frame["band"] == "bottom", "y"] = False  # nobody in the bottom band succeeds
        res = ks_model.fit_band_logit(frame, "y", ["top", "middle", "bottom"], COVS)
        t = res.table.set_index("band")
        assert t.loc["middle", "n"] == 0 and math.isnan(t.loc["middle", "odds_ratio"])
        assert math.isnan(t.loc["bottom", "odds_ratio"]) and t.loc["bottom", "n"] > 0
        assert t.loc["top", "odds_ratio"] == 1.0
        assert any("bottom" in note for note in res.notes)

    def test_empty_reference_band(self):
        frame = _simulated(500)
        frame = frame[frame["band"] != "top"]
        res = ks_model.fit_band_logit(frame, "y", ["top", "middle", "bottom"], COVS)
        assert res.table["odds_ratio"].isna().all()
        assert "reference band" in res.notes[0]

    def test_missing_covariates_left_out_and_counted(self):
        frame = _simulated(800)
        frame["fsm"] = frame["fsm"].astype("boolean")
        frame.loc[frame.index[:10], "fsm"] = pd.NA
        res = ks_model.fit_band_logit(frame, "y", ["top", "middle", "bottom"], COVS)
        assert res.n_model == 790
        assert res.notes[0].startswith("10 pupils")

    def test_on_the_ks4_fixture_handles_tiny_cohorts(self, ks4_cohort):
        res = ks_model.adjusted_odds_ratios(ks4_cohort)
        assert list(res.table["band"]) == BANDS
        assert list(res.table["n"]) == [3, 1, 0, 1, 0]


class TestReferenceClusteringMargins:
    def test_reference_band_is_95_to_under_100(self):
        from attendance_lib.engine.bands import PRESETS, from_edges

        assert ks_model.reference_band(PRESETS["cbc"]) == "95 to <100%"
        assert ks_model.reference_band(PRESETS["dfe_5pp"]) == "95 to 100%"
        assert ks_model.reference_band(PRESETS["five_categories"]) == "95% or more (expected)"
        assert ks_model.reference_band(from_edges([100, 97, 90])) == "97 to <100%"

    def test_odds_ratios_against_the_chosen_reference(self):
        # band only: top 8/10, middle 6/10, bottom 3/10; reference middle
        # OR(top) = (8/2) / (6/4) = 8/3; OR(bottom) = (3/7) / (6/4) = 2/7
        frame = pd.DataFrame(
            {
                "band": ["top"] * 10 + ["middle"] * 10 + ["bottom"] * 10,
                "y": [1] * 8 + [0] * 2 + [1] * 6 + [0] * 4 + [1] * 3 + [0] * 7,
            }
        )
        res = ks_model.fit_band_logit(
            frame, "y", ["top", "middle", "bottom"], {}, reference="middle"
        )
        t = res.table.set_index("band")
        assert res.reference == "middle" and t.loc["middle", "odds_ratio"] == 1.0
        assert t.loc["top", "odds_ratio"] == pytest.approx(8 / 3, rel=1e-6)
        assert t.loc["bottom", "odds_ratio"] == pytest.approx(2 / 7, rel=1e-6)
        # saturated model: the adjusted percentage is each band's own rate
        assert t["adjusted_pct"].tolist() == pytest.approx([80, 60, 30], abs=1e-6)
        assert (t["adjusted_ci_low"] < t["adjusted_pct"]).all()
        assert (t["adjusted_pct"] < t["adjusted_ci_high"]).all()
        # delta method on the logit scale: 60% of 10 -> se(logit) = 1 / sqrt(10 * 0.6 * 0.4)
        half = 1.959964 / math.sqrt(10 * 0.6 * 0.4)
        logit = math.log(0.6 / 0.4)
        low = 100 / (1 + math.exp(-(logit - half)))
        assert t.loc["middle", "adjusted_ci_low"] == pytest.approx(low, rel=1e-4)

    def test_standard_errors_clustered_by_school(self):
        import statsmodels.api as sm

        frame = _simulated(2000, seed=3)
        rng = np.random.default_rng(5)
        frame["urn"] = rng.integers(0, 25, len(frame))
        school = rng.normal(0, 1.0, 25)  # a school effect the model leaves out
        eta = school[frame["urn"]] + np.where(frame["band"] == "bottom", -0.7, 0.0)
        frame["y"] = rng.random(len(frame)) < 1 / (1 + np.exp(-eta))
        bands = ["top", "middle", "bottom"]
        naive = ks_model.fit_band_logit(frame, "y", bands, {})
        clustered = ks_model.fit_band_logit(frame, "y", bands, {}, cluster_col="urn")
        assert clustered.clusters == 25 and naive.clusters == 0
        n_row = naive.table.set_index("band").loc["bottom"]
        c_row = clustered.table.set_index("band").loc["bottom"]
        assert c_row["odds_ratio"] == pytest.approx(n_row["odds_ratio"])
        assert c_row["ci_high"] / c_row["ci_low"] > n_row["ci_high"] / n_row["ci_low"]
        # the same interval as statsmodels' GLM with school-clustered errors
        x = sm.add_constant(
            pd.DataFrame(
                {
                    f"band_{i}": (frame["band"] == b).astype(float)
                    for i, b in [(1, "middle"), (2, "bottom")]
                }
            )
        )
        glm = sm.GLM(frame["y"].astype(float), x, family=sm.families.Binomial()).fit(
            cov_type="cluster", cov_kwds={"groups": frame["urn"].to_numpy()}
        )
        assert c_row["ci_low"] == pytest.approx(math.exp(glm.conf_int().loc["band_2", 0]), rel=1e-3)

    def test_missing_school_is_its_own_cluster(self):
        codes = ks_model.cluster_codes(pd.Series([101, None, 101, 202, None]))
        assert len(set(codes)) == 4 and codes[0] == codes[2]
