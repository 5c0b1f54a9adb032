"""The per-intervention evaluation, the primary measures, breakdowns and workload.

Every expected value below is worked out by hand from the fixture in the comments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_impact_fixtures import calendar, days, marks, pupils, schools

from attendance_lib.analyses.impact import evaluation as im

# 60 school days each side: baseline 2023-10-02..2024-01-14, review 2024-01-15..2024-04-29
START = pd.Timestamp("2024-01-15")


def _data():
    rows = (
        # P1: baseline 9 present + 1 unauthorised = 90.0%; review 19 + 1 = 95.0%: +5.0 exactly.
        days("2023-11-01", 9, "/", "P1")
        + [("P1", 1, "2023-11-20", "N")]
        + days("2024-01-20", 19, "/", "P1")
        + [("P1", 1, "2024-02-20", "N")]
        # next year 9 present + 1 absent = 10% absence: persistently absent (>= 10).
        + days("2024-09-10", 9, "/", "P1")
        + [("P1", 1, "2024-10-01", "I")]
        # P2: nothing in the baseline window (not evaluable); next year 20 present.
        + days("2024-01-20", 5, "/", "P2")
        + days("2024-09-10", 20, "/", "P2")
        # P3: only not-possible codes in both windows; no marks next year.
        + days("2023-11-01", 5, "X", "P3")
        + days("2024-01-20", 5, "X", "P3")
        # P4: baseline 100%, review 50% (worse); next year 19 + 1 = 5% absence.
        + days("2023-11-01", 10, "/", "P4", urn=2)
        + days("2024-01-20", 5, "/", "P4", urn=2)
        + days("2024-02-01", 5, "O", "P4", urn=2)
        + days("2024-09-10", 19, "/", "P4", urn=2)
        + [("P4", 2, "2024-10-01", "G")]
    )
    ivs = pd.DataFrame(
        {
            "intervention_id": ["I1", "I2", "I3", "I4"],
            "upn": ["P1", "P2", "P3", "P4"],
            "officer": ["Ann", "Ann", "Bob", "Bob"],
            "start_date": [START] * 4,
            "source": ["data", "panel", "data", None],
        }
    )
    pup = pupils([(u, "2023/24", 2 if u == "P4" else 1, "6", False, "N") for u in ivs["upn"]])
    sch = schools(
        [(1, "Ash Primary", "primary", "East", "Ann"), (2, "Elm Primary", "primary", "West", "Bob")]
    )
    return ivs, marks(rows), pup, sch


def _evaluate(last_date="2025-07-18", **kw):
    ivs, m, pup, sch = _data()
    out = im.evaluate_interventions(ivs, m, pup, sch, calendar(), last_date=last_date, **kw)
    return out.set_index("intervention_id")


def test_baseline_review_and_change():
    ev = _evaluate()
    assert ev.loc["I1", "baseline_attendance_pct"] == 90.0
    assert ev.loc["I1", "review_attendance_pct"] == 95.0
    assert ev.loc["I1", "change_pp"] == pytest.approx(5.0)
    assert ev.loc["I4", "change_pp"] == pytest.approx(-50.0)
    assert ev.loc["I1", "improved"] and not ev.loc["I4", "improved"]
    assert ev.loc["I4", "worsened"]
    assert ev.loc["I1", "locality"] == "East" and ev.loc["I4", "locality"] == "West"


def test_not_evaluable_are_counted_with_a_reason():
    ev = _evaluate()
    assert list(ev["evaluable"]) == [True, False, False, True]
    assert ev.loc["I2", "not_evaluable_reason"] == "no possible session in the baseline window"
    assert ev.loc["I3", "not_evaluable_reason"] == "no possible session in either window"
    assert pd.isna(ev.loc["I2", "improved"]) and np.isnan(ev.loc["I2", "change_pp"])
    summary = im.not_evaluable_summary(ev.reset_index())
    assert list(summary.columns) == ["reason", "interventions"]
    assert summary.values.tolist() == [
        ["no possible session in either window", 1],
        ["no possible session in the baseline window", 1],
    ]


def test_improvement_threshold_is_strict_and_exact():
    assert not _evaluate(min_improvement_pp=5)["improved"]["I1"]  # +5.0 is not more than 5
    assert _evaluate(min_improvement_pp=4.99)["improved"]["I1"]


def test_next_year_persistent_absence_when_complete():
    ev = _evaluate()
    assert list(ev["next_year_status"]) == ["complete", "complete", "no sessions", "complete"]
    assert ev.loc["I1", "pa_next_year"] is True or ev.loc["I1", "pa_next_year"] == True  # noqa: E712
    assert not ev.loc["I2", "pa_next_year"] and not ev.loc["I4", "pa_next_year"]
    assert pd.isna(ev.loc["I3", "pa_next_year"])


def test_next_year_pending_when_data_stop_before_its_last_day():
    ev = _evaluate(last_date="2025-07-17")
    assert set(ev["next_year_status"]) == {"pending"}
    assert ev["pa_next_year"].isna().all()
    pm = im.primary_measures(ev.reset_index()).set_index("measure")
    assert pm.loc["not_pa_next_year", "status"] == "pending"
    assert pm.loc["not_pa_next_year", "n"] == 0


def test_a_pending_review_is_left_out_of_primary_measure_1_and_counted_beside_it():
    # the data stop on 1 Mar 2024, before the review windows end on 29 Apr 2024
    ev = _evaluate(last_date="2024-03-01")
    assert list(ev["review_status"]) == ["pending"] * 4
    pm = im.primary_measures(ev.reset_index()).set_index("measure")
    assert pm.loc["improved_after_12_weeks", "n"] == 0
    assert pm.loc["improved_after_12_weeks", "pending"] == 4  # every review is still running
    assert pm.loc["improved_after_12_weeks", "status"] == "pending"
    text = im.describe_primary(pm.reset_index(), im.sign_test_table(ev.reset_index()))
    assert "4 more are pending" in text


def test_primary_measure_1_with_and_without_summer_crossings():
    ivs, m, pup, sch = _data()
    late = pd.Timestamp("2024-06-24")  # review 24 Jun .. 1 Nov 2024, across the summer
    rows = days("2024-04-01", 30, "/", "P5") + days("2024-05-01", 5, "O", "P5")
    rows += days("2024-06-24", 20, "/", "P5") + days("2024-09-02", 30, "/", "P5")
    ivs = pd.concat(
        [ivs, pd.DataFrame({"intervention_id": ["I5"], "upn": ["P5"], "officer": ["Ann"],
                            "start_date": [late], "source": ["data"]})],
        ignore_index=True,
    )  # fmt: skip
    m = pd.concat([m.astype(str).astype({"urn": int, "date": "datetime64[ns]"}), marks(rows)])
    m = m.astype({"upn": "category", "urn": "int32", "session": "category", "code": "category"})
    pup = pd.concat([pup, pupils([("P5", "2023/24", 1, "6", False, "N")])], ignore_index=True)
    ev = im.evaluate_interventions(ivs, m, pup, sch, calendar(), last_date="2025-07-18")
    ev = ev.set_index("intervention_id")
    assert ev.loc["I5", "crosses_summer"] and not ev.loc["I1", "crosses_summer"]
    assert ev.loc["I5", "improved"]
    pm = im.primary_measures(ev.reset_index()).set_index("measure")
    assert (pm.loc["improved_after_12_weeks", ["n", "meeting"]] == [3, 2]).all()
    assert (pm.loc["improved_excluding_summer", ["n", "meeting"]] == [2, 1]).all()


def test_primary_measures_on_the_fixture():
    pm = im.primary_measures(_evaluate().reset_index()).set_index("measure")
    assert list(pm.reset_index().columns) == im.PRIMARY_COLUMNS
    # improved: 1 of 2 evaluable; not PA next year: P2 and P4 of P1, P2, P4.
    assert (pm.loc["improved_after_12_weeks", ["n", "meeting"]] == [2, 1]).all()
    assert pm.loc["improved_after_12_weeks", "status"] == "not met"
    assert (pm.loc["not_pa_next_year", ["n", "meeting"]] == [3, 2]).all()
    assert pm.loc["not_pa_next_year", "meeting_pct"] == pytest.approx(200 / 3)
    assert pm.loc["not_pa_next_year", "target_pct"] == 75.0


def test_wilson_interval_and_met_at_the_target():
    # 9 of 10 improved: Wilson 95% interval 59.58% to 98.21% (Newcombe 1998, table I).
    ev = pd.DataFrame(
        {
            "evaluable": [True] * 10,
            "improved": [True] * 9 + [False],
            "change_pp": [1.0] * 9 + [-1.0],
            "pa_next_year": pd.array([False] * 3 + [True], dtype="boolean").tolist() * 2
            + [pd.NA] * 2,
            "next_year_status": ["complete"] * 8 + ["no sessions"] * 2,
            "review_complete": [True] * 10,
            "crosses_summer": [False] * 10,
        }
    )
    ev["pa_next_year"] = ev["pa_next_year"].astype("boolean")
    pm = im.primary_measures(ev).set_index("measure")
    row = pm.loc["improved_after_12_weeks"]
    assert row["meeting_pct"] == 90.0 and row["status"] == "met"  # point estimate equal to target
    assert row["ci_low"] == pytest.approx(59.58, abs=0.01)
    assert row["ci_high"] == pytest.approx(98.21, abs=0.01)
    # 6 of 8 not persistently absent = 75.0%: met at the 75% target.
    assert pm.loc["not_pa_next_year", "meeting_pct"] == 75.0
    assert pm.loc["not_pa_next_year", "status"] == "met"


def test_sign_test_table_leaves_ties_out():
    ev = pd.DataFrame(
        {
            "evaluable": [True] * 7 + [False],
            "review_complete": [True] * 6 + [False, True],
            "change_pp": [3, 2, 1, -1, 0, 0, 5, np.nan],  # the pending +5 is left out
        }
    )
    table = im.sign_test_table(ev)
    assert list(table.columns) == ["evaluable", "increased", "decreased", "no_change", "p_value"]
    st = table.iloc[0]
    assert st["evaluable"] == 6
    assert (st["increased"], st["decreased"], st["no_change"]) == (3, 1, 2)
    assert st["p_value"] == pytest.approx(0.625)  # 2 * P(X >= 3 | n=4, p=0.5) = 2 * 5/16


def test_breakdown_by_source_labels_and_missing():
    out = im.impact_breakdown(_evaluate().reset_index(), "source").set_index("group")
    assert set(out.index) == {"data-led", "panel", "not recorded"}
    assert out.loc["data-led", "interventions"] == 2
    assert out.loc["data-led", "evaluable"] == 1 and out.loc["data-led", "improved_pct"] == 100.0
    assert out.loc["not recorded", "mean_change_pp"] == pytest.approx(-50.0)
    # 1 of 1 improved: Wilson 95% interval 20.7 to 100 (z = 1.96), never 100 to 100
    assert out.loc["data-led", "ci_low"] == pytest.approx(20.65, abs=0.01)
    assert out.loc["data-led", "ci_high"] == pytest.approx(100.0)


def test_select_interventions_filters():
    ev = _evaluate().reset_index()
    assert len(im.select_interventions(ev, officer="Bob")) == 2
    assert len(im.select_interventions(ev, locality="West")) == 1
    assert len(im.select_interventions(ev, started_from="2024-01-16")) == 0


def test_workload_per_officer_per_half_term():
    ivs = pd.DataFrame(
        {
            "officer": ["Ann", "Ann", "Ann", "Bob"],
            # HT1, half-term holiday after HT1 (counts in HT1), HT3, HT2.
            "start_date": pd.to_datetime(["2023-09-10", "2023-10-25", "2024-01-05", "2023-11-01"]),
        }
    )
    out = im.workload(ivs, calendar(), expected=40)
    got = {(r.officer, r.half_term): r.assessments for r in out.itertuples()}
    assert got == {("Ann", 1): 2, ("Ann", 2): 0, ("Ann", 3): 1, ("Bob", 2): 1, ("Bob", 3): 0}
    assert (out["difference"] == out["assessments"] - 40).all()
    assert not out["meets_expectation"].any()


def test_workload_shows_only_the_half_terms_off_the_expectation():
    ivs = pd.DataFrame(
        {
            "officer": ["Ann"] * 3 + ["Bob"],
            "start_date": pd.to_datetime(["2023-09-10", "2023-09-11", "2023-11-01", "2023-11-02"]),
        }
    )
    load = im.workload(ivs, calendar(), expected=2)
    # Ann: HT1 2 (met), HT2 1 (short); Bob: HT2 1 (short)
    short = im.workload_off_expectation(load)
    assert [(r.officer, r.half_term, r.assessments) for r in short.itertuples()] == [
        ("Ann", 2, 1),
        ("Bob", 2, 1),
    ]
    assert list(short.columns) == [
        "officer", "academic_year", "half_term", "assessments", "expected", "difference",
    ]  # fmt: skip
    assert short.index.tolist() == [0, 1]
    assert im.describe_workload(load) == (
        "2 officers, 3 officer half terms, against the expectation of 2 assessments a half "
        "term: 1 met it and 2 fell short; those are listed below."
    )
    assert im.describe_workload(load[load["meets_expectation"]]).endswith("every one met it.")


def _described(**overrides) -> pd.DataFrame:
    """Six evaluated interventions, by hand: 3 evaluable; of those, 2 cross the summer and 1
    has a short baseline (the not-evaluable rows' flags must not count); reviews of rows 2
    and 6 not yet complete; next year complete 2, pending 3, no sessions 1."""
    frame = pd.DataFrame(
        {
            "evaluable": [True, True, True, False, False, False],
            "not_evaluable_reason": ["", "", "", "in review", "in baseline", "in review"],
            "crosses_summer": [True, False, True, True, True, False],
            "baseline_short": [False, True, False, True, True, True],
            "review_complete": [True, False, True, True, True, False],
            "next_year_status": [
                "complete", "pending", "no sessions", "complete", "pending", "pending",
            ],
        }
    )  # fmt: skip
    return frame.assign(**overrides)


def test_describe_evaluation_counts_each_group_in_words():
    assert im.describe_evaluation(_described()) == (
        "6 interventions were selected; 3 could be evaluated. Not evaluable (no possible "
        "session in a window; counted, not dropped): 3 (in review: 2; in baseline: 1).\n\n"
        "The review window is the 60 school days (12 school weeks; weekdays inside a half "
        "term, so holidays are passed over) from the start date, and the baseline the same "
        "length before it. 2 interventions have a review window that is not yet complete in "
        "the data: they are pending, left out of the measures and counted beside them. 2 "
        "evaluable review windows cross the summer holiday (for Year 6 into Year 7 possibly "
        "two schools); the first primary measure is given with and without them. 1 baselines "
        "have fewer school days in the data than the full length (the start is early in the "
        "data) and use what there is. Year 11's sixth half term (study leave) never counts."
        "\n\nFollowing academic year: complete for 2, pending (not yet complete in the data) "
        "for 3, and 1 pupils had no possible session that year (for example, they left the "
        "LA's schools)."
    )


def test_describe_evaluation_window_length_in_school_or_calendar_days_and_no_reasons():
    every = _described(evaluable=True)
    text = im.describe_evaluation(every, weeks=6, unit="calendar_weeks")
    assert (
        "Not evaluable (no possible session in a window; counted, not dropped): 0 (none)." in text
    )
    assert "The review window is the 42 calendar days (6 weeks) from the start date" in text
    text = im.describe_evaluation(every, weeks=4)
    assert "the 20 school days (4 school weeks; weekdays inside a half term" in text
    all_known = _described(next_year_status="complete")
    assert (
        "complete for 6, pending (not yet complete in the data) for 0, and 0 pupils"
        in im.describe_evaluation(all_known)
    )
    none_known = _described(next_year_status="pending")
    assert (
        "complete for 0, pending (not yet complete in the data) for 6, and 0 pupils"
        in im.describe_evaluation(none_known)
    )


def _measures(rows: list[tuple]) -> pd.DataFrame:
    cols = ["measure", "n", "meeting", "pending", "meeting_pct", "ci_low", "ci_high"]
    frame = pd.DataFrame(rows, columns=cols)
    frame["target_pct"] = 90.0
    frame["status"] = np.where(
        frame["n"] == 0, "pending", np.where(frame["meeting_pct"] >= 90.0, "met", "not met")
    )
    return frame[im.PRIMARY_COLUMNS]


def _signs(up: int, down: int, p: float) -> pd.DataFrame:
    return pd.DataFrame(
        {"evaluable": [up + down], "increased": [up], "decreased": [down], "no_change": [0],
         "p_value": [p]}
    )  # fmt: skip


def test_describe_primary_says_each_measure_its_interval_against_the_target_and_the_sign_test():
    from attendance_lib.core.markup import strong

    measures = _measures(
        [
            # the interval's low end on the target: wholly above (>=); 1,234 pending
            ("improved_after_12_weeks", 1500, 1425, 1234, 95.0, 90.0, 97.0),
            # the high end on the target: it includes the target (not wholly below)
            ("improved_excluding_summer", 10, 8, 0, 80.0, 49.0, 90.0),
            ("not_pa_next_year", 10, 5, 0, 50.0, 23.66, 76.34),  # wholly below
        ]
    )
    text = im.describe_primary(measures, _signs(1234, 5, 0.0001))
    assert text.split("\n") == [
        "- 1,425 of 1,500 (95.0%, 95% interval 90.0% to 97.0%) had higher attendance over the "
        f"review window than the baseline; the target is 90%. Status: {strong('met')} (point "
        "estimate against the target); the interval lies wholly above the target. 1,234 more "
        "are pending (not yet complete in the data) and are left out.",
        "- 8 of 10 (80.0%, 95% interval 49.0% to 90.0%) had higher attendance over the review "
        "window than the baseline, leaving out review windows that cross the summer holiday; "
        f"the target is 90%. Status: {strong('not met')} (point estimate against the target); "
        "the interval includes the target.",
        "- 5 of 10 (50.0%, 95% interval 23.7% to 76.3%) were not persistently absent in the "
        f"following academic year; the target is 90%. Status: {strong('not met')} (point "
        "estimate against the target); the interval lies wholly below the target.",
        "- Sign test: attendance rose for 1,234 and fell for 5 of the evaluable interventions "
        "with a complete review window (those unchanged are left out); two-sided exact sign "
        "test p < 0.001.",
    ]


def test_describe_primary_with_nothing_to_judge_and_the_p_value_spelt_out():
    measures = _measures([("not_pa_next_year", 0, 0, 3, np.nan, np.nan, np.nan)])
    text = im.describe_primary(measures, _signs(3, 1, 0.625))
    assert text.split("\n") == [
        "- No intervention can be judged yet on whether the children were not persistently "
        "absent in the following academic year. 3 more are pending (not yet complete in the "
        "data) and are left out.",
        "- Sign test: attendance rose for 3 and fell for 1 of the evaluable interventions with "
        "a complete review window (those unchanged are left out); two-sided exact sign test "
        "p = 0.625.",
    ]
    nothing = _measures([("not_pa_next_year", 0, 0, 0, np.nan, np.nan, np.nan)])
    text = im.describe_primary(nothing, _signs(0, 0, np.nan))
    assert text.split("\n")[0].endswith("in the following academic year.")
    assert text.endswith("two-sided exact sign test not computable.")
    assert im.describe_primary(nothing, _signs(9, 0, 0.9995)).endswith("test p > 0.999.")


def test_select_interventions_includes_both_ends_and_empty_filters_select_everything():
    ev = pd.DataFrame(
        {
            "intervention_id": ["I1", "I2", "I3", "I4"],
            "start_date": pd.to_datetime(["2024-01-14", "2024-01-15", "2024-01-16", "2024-01-17"]),
            "officer": ["Ann", "Bob", "Ann", "Bob"],
            "locality": ["East", "East", "West", "West"],
        }
    )

    def ids(**kw) -> list[str]:
        out = im.select_interventions(ev, **kw)
        assert out.index.tolist() == list(range(len(out)))
        return out["intervention_id"].tolist()

    assert ids(started_from="2024-01-15", started_to="2024-01-16") == ["I2", "I3"]
    assert ids(started_from="", started_to=None, officer="", locality=None) == [
        "I1",
        "I2",
        "I3",
        "I4",
    ]
    assert ids(officer="Ann", locality="West") == ["I3"]
    assert ids(started_to="2024-01-14") == ["I1"]
    assert ids(started_from="2024-01-15", officer="Ann") == ["I3"]  # both filters apply
    assert list(im.select_interventions(ev, officer="Bob").columns) == list(ev.columns)


def test_workload_before_the_calendar_on_a_half_terms_first_day_and_without_an_officer():
    ivs = pd.DataFrame(
        {
            "officer": [None, None, "Cy", "Cy"],
            # before the calendar's first day; HT1's first day (it counts in HT1);
            # 2024/25 HT1's first day and the day after
            "start_date": ["2023-09-01", "2023-09-04", "2024-09-02", "2024-09-03"],
        }
    )
    out = im.workload(ivs, calendar(), expected=1)
    assert list(out.columns) == [
        "officer",
        "academic_year",
        "half_term",
        "assessments",
        "expected",
        "difference",
        "meets_expectation",
    ]
    rows = [tuple(r) for r in out.itertuples(index=False)]
    nobody = "not recorded"
    assert rows == [
        ("Cy", "2024/25", 1, 2, 1, 1, True),
        (nobody, "before calendar", 0, 1, 1, 0, True),
        (nobody, "2023/24", 1, 1, 1, 0, True),
        *[(nobody, "2023/24", ht, 0, 1, -1, False) for ht in range(2, 7)],
        (nobody, "2024/25", 1, 0, 1, -1, False),
    ]
    assert out["assessments"].dtype == "int64"


def test_workload_of_no_interventions_is_empty_and_said_so():
    empty = im.workload(pd.DataFrame({"officer": [], "start_date": []}), calendar())
    assert empty.empty and list(empty.columns)[:3] == ["officer", "academic_year", "half_term"]
    assert len(empty.columns) == 7
    assert im.describe_workload(empty) == "No assessments were started in the selection."
    one = im.workload(pd.DataFrame({"officer": ["Ann"], "start_date": ["2023-09-04"]}), calendar())
    assert im.describe_workload(one) == (
        "1 officer, 1 officer half terms, against the expectation of 40 assessments a half "
        "term: 0 met it and 1 fell short; those are listed below."
    )


def test_impact_breakdown_by_officer_counts_only_complete_evaluable_reviews():
    ev = pd.DataFrame(
        {
            "officer": ["Ann", "Ann", "Ann", "Bob", None, "Cy", "Ann"],
            "evaluable": [True, True, False, True, True, False, True],
            "review_complete": [True, False, True, True, True, False, True],
            "improved": pd.array([True, True, pd.NA, False, True, pd.NA, False], dtype="boolean"),
            "change_pp": [4.0, 10.0, np.nan, -2.0, 1.0, np.nan, -2.0],
            "pa_next_year": pd.array(
                [False, pd.NA, True, True, False, pd.NA, pd.NA], dtype="boolean"
            ),
        }
    )
    out = im.impact_breakdown(ev, "officer")
    assert list(out.columns) == [
        "breakdown", "group", "interventions", "evaluable", "improved", "improved_pct",
        "ci_low", "ci_high", "mean_change_pp", "next_year_known", "not_pa_next_year",
        "not_pa_next_year_pct",
    ]  # fmt: skip
    assert set(out["breakdown"]) == {"officer"}
    assert out["group"].tolist() == ["Ann", "Bob", "Cy", "not recorded"]
    counts = ["interventions", "evaluable", "improved", "next_year_known", "not_pa_next_year"]
    assert out[counts].values.tolist() == [[4, 2, 1, 2, 1], [1, 1, 0, 1, 0], [1, 0, 0, 0, 0],
                                           [1, 1, 1, 1, 1]]  # fmt: skip
    assert all(out[c].dtype == "int64" for c in counts)
    t = out.set_index("group")
    # Ann's pending review (+10) is left out of the mean and the rate: 1 of 2, (4 - 2) / 2
    assert t.loc["Ann", "mean_change_pp"] == 1.0 and t.loc["Ann", "improved_pct"] == 50.0
    assert t.loc["Ann", "ci_low"] == pytest.approx(9.45, abs=0.01)
    assert t.loc["Ann", "ci_high"] == pytest.approx(90.55, abs=0.01)
    assert t.loc["Ann", "not_pa_next_year_pct"] == 50.0
    assert t.loc["Bob", "improved_pct"] == 0.0 and t.loc["Bob", "not_pa_next_year_pct"] == 0.0
    # 0 of 1: Wilson 95% interval 0 to 79.35 (z = 1.96)
    assert t.loc["Bob", "ci_low"] == pytest.approx(0.0, abs=1e-9)
    assert t.loc["Bob", "ci_high"] == pytest.approx(79.35, abs=0.01)
    assert t.loc["not recorded", "improved_pct"] == 100.0
    assert t.loc["not recorded", "not_pa_next_year_pct"] == 100.0
    # nothing to rate: no rate, not 0%
    assert pd.isna(t.loc["Cy", "improved_pct"]) and pd.isna(t.loc["Cy", "not_pa_next_year_pct"])
    assert pd.isna(t.loc["Cy", "mean_change_pp"])


def test_improvement_counts_approved_educational_activity_as_attended():
    # baseline 9 of 10 attended = 90%; review 18 present + 1 approved educational activity
    # of 20 = 95%: +5 points exactly, compared in whole numbers
    base = pd.DataFrame({"sessions_present": [9], "sessions_aea": [0], "sessions_possible": [10]})
    review = pd.DataFrame(
        {"sessions_present": [18], "sessions_aea": [1], "sessions_possible": [20]}
    )
    assert im._exceeds(base, review, 4.99).tolist() == [True]
    assert im._exceeds(base, review, 5).tolist() == [False]
    assert im._exceeds(review, base, 0.0).tolist() == [False]  # not worse
    assert im._exceeds(review, base, -5.01).tolist() == [True]  # -5 > -5.01
    # the baseline's AEA counts too: 8 + 1 of 10 = 90%, the same +5
    base_aea = base.assign(sessions_present=[8], sessions_aea=[1])
    assert im._exceeds(base_aea, review, 4.99).tolist() == [True]
    assert im._exceeds(base_aea, review, 5).tolist() == [False]


def test_pupil_context_is_the_start_years_record_and_not_recorded_without_one():
    pup = pupils(
        [
            ("P1", "2023/24", 2, "6", True, "K"),
            ("P1", "2024/25", 1, "7", False, "N"),  # another year: not used
        ]
    )
    sch = schools(
        [(1, "Ash Primary", "primary", "East", "Ann"), (2, "Elm Primary", "primary", "West", "Bob")]
    )
    upns = pd.Series(["P1", "P9"], index=[10, 11])
    out = im.pupil_context(upns, pd.Series(["2023/24", "2023/24"], index=[10, 11]), pup, sch)
    assert out.index.tolist() == [10, 11]
    assert list(out.columns) == ["urn", "year_group", "fsm", "sen", "locality", "phase"]
    assert out.loc[10, ["urn", "year_group", "fsm", "sen", "locality", "phase"]].tolist() == [
        2, "6", True, "K", "West", "primary",
    ]  # fmt: skip
    assert out.loc[11, "locality"] == "not recorded"
    assert out.loc[11, ["urn", "year_group", "fsm", "sen", "phase"]].isna().all()


@pytest.mark.parametrize(
    "last_date, reason, status",
    [
        # the data stop before the review window's last day: pending, not "no session"
        ("2024-01-12", "review window not yet in the data (pending)", "pending"),
        ("2025-07-18", "no possible session in the review window", "complete"),
    ],
)
def test_marks_only_before_the_start_leave_the_review_empty_pending_or_complete(
    last_date, reason, status
):
    ivs, m, pup, sch = _data()
    before = m[m["date"] < START]
    ev = im.evaluate_interventions(ivs, before, pup, sch, calendar(), last_date=last_date)
    ev = ev.set_index("intervention_id")
    assert ev["baseline_possible"].tolist() == [10, 0, 0, 10]
    assert ev["review_possible"].tolist() == [0, 0, 0, 0]
    assert not ev["evaluable"].any()
    assert ev.loc["I1", "not_evaluable_reason"] == reason
    assert ev.loc["I4", "not_evaluable_reason"] == reason
    assert ev.loc["I2", "not_evaluable_reason"] == "no possible session in either window"
    assert ev["review_status"].tolist() == [status] * 4
    assert ev["improved"].isna().all() and ev["worsened"].isna().all()
    assert ev.loc["I1", "baseline_attendance_pct"] == 90.0


def test_primary_measures_count_pending_per_measure_against_the_targets_given():
    ev = pd.DataFrame(
        {
            "evaluable": [True, True, True, True, False, False],
            "review_complete": [True, True, False, False, True, False],
            "crosses_summer": [False, True, False, True, False, False],
            "improved": pd.array([True, False, True, False, pd.NA, pd.NA], dtype="boolean"),
            "pa_next_year": pd.array([False, True, pd.NA, pd.NA, pd.NA, pd.NA], dtype="boolean"),
            "next_year_status": [
                "complete", "complete", "pending", "pending", "no sessions", "no sessions",
            ],
        }
    )  # fmt: skip
    pm = im.primary_measures(ev, target_improved=0.5, target_not_pa_next_year=0.6)
    assert list(pm.columns) == im.PRIMARY_COLUMNS
    rows = pm[["measure", "n", "meeting", "pending", "meeting_pct", "target_pct", "status"]]
    assert rows.values.tolist() == [
        # complete evaluable reviews: rows 1-2; pending: every review not complete (3, 4, 6)
        ["improved_after_12_weeks", 2, 1, 3, 50.0, 50.0, "met"],
        # without the summer: row 1; pending without the summer: rows 3 and 6
        ["improved_excluding_summer", 1, 1, 2, 100.0, 50.0, "met"],
        # next year known for rows 1-2, row 1 not persistently absent; pending 3 and 4
        ["not_pa_next_year", 2, 1, 2, 50.0, 60.0, "not met"],
    ]
    waiting = im.primary_measures(ev.assign(review_complete=False, pa_next_year=pd.NA))
    assert waiting["n"].tolist() == [0, 0, 0]
    assert waiting["status"].tolist() == ["pending"] * 3
    assert waiting["meeting_pct"].isna().all()
    assert waiting["target_pct"].tolist() == [90.0, 90.0, 75.0]


def test_impact_pupils_and_not_evaluable_tables_list_their_columns_in_order():
    ev = _evaluate().reset_index()
    late = ev.assign(start_date=ev["start_date"] - pd.to_timedelta([0, 0, 1, 0], unit="D"))
    pupils_table = im.impact_pupils(late.iloc[::-1])
    assert list(pupils_table.columns) == im.IMPACT_PUPIL_COLUMNS
    # by start date, then intervention id: I3 started a day earlier
    assert pupils_table["intervention_id"].tolist() == ["I3", "I1", "I2", "I4"]
    rows = im.not_evaluable(ev)
    assert list(rows.columns) == [
        "intervention_id", "upn", "officer", "start_date", "not_evaluable_reason",
    ]  # fmt: skip
    assert rows[["intervention_id", "not_evaluable_reason"]].values.tolist() == [
        ["I2", "no possible session in the baseline window"],
        ["I3", "no possible session in either window"],
    ]


def test_describe_primary_goes_on_after_a_measure_with_nothing_to_judge():
    measures = _measures(
        [
            ("improved_after_12_weeks", 0, 0, 2, np.nan, np.nan, np.nan),
            ("not_pa_next_year", 10, 5, 0, 50.0, 23.66, 76.34),
        ]
    )
    lines = im.describe_primary(measures, _signs(3, 1, 0.625)).split("\n")
    assert len(lines) == 3
    assert lines[0].startswith("- No intervention can be judged yet")
    assert lines[1].startswith("- 5 of 10 (50.0%, 95% interval 23.7% to 76.3%) were not")
    assert lines[2].startswith("- Sign test:")


def test_breakdown_by_source_keeps_a_source_it_has_no_label_for():
    ev = _evaluate().reset_index()
    ev["source"] = ["data", "panel", "referral", None]
    out = im.impact_breakdown(ev, "source")
    assert out["group"].tolist() == ["data-led", "not recorded", "panel", "referral"]
    assert out["interventions"].tolist() == [1, 1, 1, 1]


def test_the_default_windows_are_12_school_weeks_each_side_of_the_start():
    ev = _evaluate()
    # 60 school days each side (see START): baseline 2023-10-02..2024-01-14, review
    # 2024-01-15..2024-04-29
    assert (ev["baseline_start"] == pd.Timestamp("2023-10-02")).all()
    assert (ev["baseline_end"] == pd.Timestamp("2024-01-14")).all()
    assert (ev["review_start"] == START).all()
    assert (ev["review_end"] == pd.Timestamp("2024-04-29")).all()


def test_any_rise_counts_as_improved_by_default_with_a_text_start_date_and_a_fresh_index():
    # baseline 39 of 40 sessions = 97.5%; review 59 of 60 = 98.33%: +0.83 points
    rows = (
        days("2023-11-01", 20, "/", "P1")
        + days("2023-11-01", 19, "/", "P1", session="PM")
        + [("P1", 1, "2023-11-20", "N", "PM")]
        + days("2024-01-15", 59, "/", "P1")
        + [("P1", 1, "2024-03-14", "N")]
    )
    ivs = pd.DataFrame(
        {
            "intervention_id": ["I1"],
            "upn": ["P1"],
            "officer": ["Ann"],
            "start_date": ["2024-01-15"],
        },
        index=[7],
    )  # the start date as read from a CSV: text
    pup = pupils([("P1", "2023/24", 1, "6", False, "N")])
    sch = schools([(1, "Ash Primary", "primary", "East", "Ann")])
    ev = im.evaluate_interventions(ivs, marks(rows), pup, sch, calendar(), last_date="2025-07-18")
    assert ev.index.tolist() == [0]
    assert list(ev.columns[:4]) == ["intervention_id", "upn", "officer", "start_date"]
    assert ev.loc[0, "start_date"] == START
    assert ev.loc[0, "baseline_attendance_pct"] == 97.5
    assert ev.loc[0, "change_pp"] == pytest.approx(98 + 1 / 3 - 97.5)
    assert bool(ev.loc[0, "improved"]) and not bool(ev.loc[0, "worsened"])


def test_year_11_study_leave_never_counts_in_a_window_and_prebuilt_sessions_give_the_same():
    """P1 is in Year 11 in 2023/24; start 13 May 2024. Baseline: 10 days present in the spring
    (100%). Review: 5 days present in half term 5, then 5 days absent in half term 6, which
    is study leave and does not count: 5 of 5 = 100%, no change (50% if it counted)."""
    from attendance_lib.analyses.shared.pupil_sessions import PupilSessions

    start = pd.Timestamp("2024-05-13")
    rows = (
        days("2024-04-15", 10, "/", "P1")
        + days("2024-05-13", 5, "/", "P1")
        + days("2024-06-03", 5, "O", "P1")
    )
    ivs = pd.DataFrame(
        {"intervention_id": ["I1"], "upn": ["P1"], "officer": ["Ann"], "start_date": [start]}
    )
    pup = pupils([("P1", "2023/24", 1, "11", False, "N")])
    sch = schools([(1, "Ash Primary", "primary", "East", "Ann")])
    m, cal = marks(rows), calendar()
    ev = im.evaluate_interventions(ivs, m, pup, sch, cal, last_date="2025-07-18")
    assert ev.loc[0, "baseline_attendance_pct"] == 100.0
    assert ev.loc[0, "review_possible"] == 5
    assert ev.loc[0, "review_attendance_pct"] == 100.0
    assert ev.loc[0, "change_pp"] == 0.0
    assert not bool(ev.loc[0, "improved"]) and not bool(ev.loc[0, "worsened"])
    sessions = PupilSessions.build(m, pup, cal)
    again = im.evaluate_interventions(ivs, sessions, pup, sch, cal, last_date="2025-07-18")
    pd.testing.assert_frame_equal(again, ev)


def test_a_baseline_reaching_before_the_first_mark_is_short_and_counts_only_days_in_the_data():
    # The fixture's marks start on Wednesday 1 November 2023; the baseline of 60 school days
    # starts on 2 October. In the data: 1-3 Nov (3), 6 Nov-15 Dec (30), 18-19 Dec (2),
    # 3-5 Jan (3), 8-12 Jan (5) = 43 school days, fewer than 60.
    ev = _evaluate()
    assert ev["baseline_short"].all()
    assert (ev["baseline_days"] == 43).all()
    # (the sentence counts the evaluable interventions: I1 and I4)
    assert "2 baselines have fewer school days in the data" in im.describe_evaluation(
        ev.reset_index()
    )


def test_open_service_source_and_the_default_last_date_come_through():
    ivs, m, pup, sch = _data()
    services = pd.DataFrame(
        {
            "upn": ["P1", "P4", "P2"],
            "start_date": pd.to_datetime(["2024-01-01", "2023-12-01", "2024-01-16"]),
            "end_date": pd.to_datetime([None, "2024-01-10", None]),
        }
    )
    ev = im.evaluate_interventions(
        ivs.drop(columns="source"), m, pup, sch, calendar(), services=services
    )
    # open on 15 January: P1 (open-ended); not P4 (ended on the 10th) nor P2 (from the 16th)
    assert ev["open_service"].tolist() == [True, False, False, False]
    assert ev["source"].isna().all()
    # the data end with the latest mark, 1 October 2024: reviews complete, next year pending
    assert ev["review_status"].tolist() == ["complete"] * 4
    assert ev["next_year_status"].tolist() == ["pending"] * 4


def test_a_review_running_past_the_calendar_counts_what_the_data_hold_and_is_pending():
    start = pd.Timestamp("2025-06-16")  # 60 school days would run past 18 July 2025
    rows = days("2025-05-01", 10, "/", "P1") + days("2025-06-16", 4, "/", "P1")
    rows += [("P1", 1, "2025-06-20", "N")]
    ivs = pd.DataFrame(
        {"intervention_id": ["I9"], "upn": ["P1"], "officer": ["Ann"], "start_date": [start]}
    )
    pup = pupils([("P1", "2024/25", 1, "6", False, "N")])
    sch = schools([(1, "Ash Primary", "primary", "East", "Ann")])
    ev = im.evaluate_interventions(ivs, marks(rows), pup, sch, calendar(), last_date="2025-07-18")
    row = ev.iloc[0]
    assert pd.isna(row["review_end"])
    assert row["review_possible"] == 5 and row["review_attendance_pct"] == 80.0
    assert row["evaluable"] and row["not_evaluable_reason"] == ""
    assert row["review_status"] == "pending" and not row["review_complete"]


def test_improved_and_worsened_are_nullable_flags_missing_where_not_evaluable():
    ev = _evaluate()
    assert ev["improved"].dtype == "boolean" and ev["worsened"].dtype == "boolean"
    assert ev["improved"].tolist() == [True, pd.NA, pd.NA, False]
    assert ev["worsened"].tolist() == [False, pd.NA, pd.NA, True]
    assert ev.loc["I1", "not_evaluable_reason"] == "" and ev.loc["I4", "not_evaluable_reason"] == ""


def _one_pupil(rows, start=START, last_date="2025-07-18") -> pd.Series:
    ivs = pd.DataFrame(
        {"intervention_id": ["I1"], "upn": ["P1"], "officer": ["Ann"], "start_date": [start]}
    )
    pup = pupils([("P1", "2023/24", 1, "6", False, "N")])
    sch = schools([(1, "Ash Primary", "primary", "East", "Ann")])
    ev = im.evaluate_interventions(ivs, marks(rows), pup, sch, calendar(), last_date=last_date)
    return ev.iloc[0]


def test_one_possible_session_in_each_window_is_enough_to_evaluate():
    row = _one_pupil([("P1", 1, "2023-11-01", "/"), ("P1", 1, "2024-02-01", "N")])
    assert (row["baseline_possible"], row["review_possible"]) == (1, 1)
    assert row["evaluable"] and row["change_pp"] == -100.0 and row["worsened"]
    # one baseline session and the data stopping before the review: pending, not "no session"
    early = _one_pupil([("P1", 1, "2023-11-01", "/")], last_date="2024-01-20")
    assert early["not_evaluable_reason"] == "review window not yet in the data (pending)"


def test_a_review_ending_on_the_last_date_of_the_data_is_complete():
    rows = [("P1", 1, "2023-11-01", "/"), ("P1", 1, "2024-02-01", "/")]
    assert _one_pupil(rows, last_date="2024-04-29")["review_complete"]  # the review's last day
    assert not _one_pupil(rows, last_date="2024-04-28")["review_complete"]


def test_any_fall_counts_as_worsened():
    # baseline 59 of 60 = 98.33%; review 39 of 40 = 97.5%: -0.83 points
    rows = (
        days("2023-10-02", 59, "/", "P1")
        + [("P1", 1, "2023-12-01", "N", "PM")]
        + days("2024-01-15", 20, "/", "P1")
        + days("2024-01-15", 19, "/", "P1", session="PM")
        + [("P1", 1, "2024-02-05", "N", "PM")]
    )
    row = _one_pupil(rows)
    assert (row["baseline_possible"], row["review_possible"]) == (60, 40)
    assert row["worsened"] and not row["improved"]


def test_earlier_and_history_windows_count_their_possible_sessions():
    # start 15 Jan 2024: the earlier window is 4 Sep-1 Oct 2023 (the calendar's first 20
    # school days before the baseline); 5 days present, 5 absent: 10 possible, 50%
    rows = days("2023-09-04", 5, "/", "P1") + days("2023-09-11", 5, "N", "P1")
    rows += [("P1", 1, "2023-11-01", "/"), ("P1", 1, "2024-02-01", "/")]
    row = _one_pupil(rows)
    assert (row["earlier_start"], row["earlier_end"]) == (
        pd.Timestamp("2023-09-04"),
        pd.Timestamp("2023-10-01"),
    )
    assert row["earlier_possible"] == 10 and row["earlier_attendance_pct"] == 50.0
    assert row["history_possible"] == 0 and np.isnan(row["history_attendance_pct"])
    # start 3 Mar 2025: the history lies in 2023/24, before the earlier window; 5 days
    # present in November 2023
    later = [("P1", 1, "2025-02-03", "/"), ("P1", 1, "2025-03-10", "/")]
    row = _one_pupil(days("2023-11-06", 5, "/", "P1") + later, start=pd.Timestamp("2025-03-03"))
    assert row["history_start"] <= pd.Timestamp("2023-11-06") < row["history_end"]
    assert row["history_possible"] == 5 and row["history_attendance_pct"] == 100.0
    assert row["earlier_possible"] == 0


def test_one_possible_session_in_the_following_year_is_enough_to_judge_it():
    rows = [("P1", 1, "2023-11-01", "/"), ("P1", 1, "2024-02-01", "/")]
    row = _one_pupil(rows + [("P1", 1, "2024-09-10", "N")])
    assert row["next_year_status"] == "complete" and row["pa_next_year"]  # 1 of 1 absent
    none = _one_pupil(rows + [("P1", 1, "2024-09-10", "X")])  # not a possible session
    assert none["next_year_status"] == "no sessions" and pd.isna(none["pa_next_year"])


@pytest.mark.parametrize(
    "kw, baseline_start, review_end",
    [
        # 30 school days from 15 Jan: 15 Jan-9 Feb (20), 19 Feb-1 Mar (10); and before it
        ({"weeks": 6}, "2023-11-20", "2024-03-01"),
        # 12 calendar weeks: 84 days from 15 Jan 2024 is 7 Apr; the baseline 84 days before
        ({"unit": "calendar_weeks"}, "2023-10-23", "2024-04-07"),
        # the baseline from the first day of the academic year
        ({"baseline": "year_to_date"}, "2023-09-04", "2024-04-29"),
    ],
)
def test_window_options_reach_the_windows(kw, baseline_start, review_end):
    ev = _evaluate(**kw)
    assert (ev["baseline_start"] == pd.Timestamp(baseline_start)).all()
    assert (ev["baseline_end"] == pd.Timestamp("2024-01-14")).all()
    assert (ev["review_end"] == pd.Timestamp(review_end)).all()
