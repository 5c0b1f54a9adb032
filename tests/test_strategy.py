"""The termly strategy report's figures against values worked out by hand on a tiny LA.

The fixture (2023/24; ages are on 31 August 2023):

======  =====  ==========  =====================================================  ==========
pupil   year   DOB         marks                                                   in cohort
======  =====  ==========  =====================================================  ==========
P1      5      2013-05-01  A, HT1: 18 ``/`` + 2 ``I``                              yes
P2      R      2019-03-01  A, HT1: 5 ``/`` + 5 ``O``                               no (age 4)
P3      11     2008-01-10  A, HT1: 9 ``/`` + 1 ``O``; HT6: 10 ``O``                yes, HT6 out
P4      10     2008-08-15  A, HT1: 10 ``/``; HT6: 10 ``N`` (aged 15 by DOB)       yes, HT6 out
P5      3      2016-01-01  A, HT1: 4 ``#`` (no possible session)                   zero possible
P6      8      2011-02-02  A, HT1: 5 ``/`` + 5 ``G``; B, HT3: 19 ``/`` + 1 ``C``   2 enrolments
P7      11     (none)      A, HT1: 10 ``/``; HT6: 4 ``O`` (NC year 11)             yes, HT6 out
P8      R      (none)      A, HT1: 10 ``O``                                        no (NC year R)
P9      -      -           A, HT1: 10 ``O`` (no pupils.csv row in any year)        no record
======  =====  ==========  =====================================================  ==========

Whole year, DfE cohort: enrolments P1, P3, P4, P6@A, P6@B, P7 = 6; possible 20+10+10+10+20+10
= 80; absent 2 + 1 + 0 + 5 + 1 + 0 = 9 (authorised I 2 + C 1 = 3, unauthorised O 1 + G 5 = 6).
Persistent: P1 (2/20 = 10%), P3 (1/10), P6@A (5/10) = 3 of 6; severe: P6@A = 1 of 6.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import CALENDAR_2023_24, URN_A, URN_B, make_upn, marks_frame, sessions

from attendance_lib.analyses.shared import characteristics, dfe_cohort
from attendance_lib.analyses.strategy import termly as strategy
from attendance_lib.analyses.strategy.funnel import (
    ABOVE_998,
    WITHIN,
    by_locality,
    by_school,
    funnel_columns,
)
from attendance_lib.core.academic_calendar import Calendar
from attendance_lib.core.errors import UsageError
from attendance_lib.engine.sessions import code_counts_from_marks

P = {i: make_upn(i) for i in range(1, 10)}
HT1, HT3, HT6 = "2023-09-04", "2024-01-03", "2024-06-03"
YEAR = "2023/24"
SCHOOLS = pd.DataFrame(
    {
        "urn": [URN_A, URN_B],
        "school_name": ["School A", "School B"],
        "phase": ["primary", "secondary"],
        "locality": ["East", "West"],
        "officer": ["Officer One", "Officer Two"],
    }
)


def _pupil(n, year_group, dob, *, year=YEAR, fsm=False, sen="N", sex="F"):
    return {
        "upn": P[n], "academic_year": year, "urn": URN_A, "year_group": year_group,
        "date_of_birth": pd.Timestamp(dob) if dob else pd.NaT, "sex": sex, "fsm": fsm,
        "sen": sen, "ethnicity": None, "eal": None,
    }  # fmt: skip


def fixture_pupils() -> pd.DataFrame:
    rows = [
        _pupil(1, "5", "2013-05-01", fsm=True),
        _pupil(2, "R", "2019-03-01"),
        _pupil(3, "11", "2008-01-10", sen="K", sex="M"),
        _pupil(4, "10", "2008-08-15", sen="E"),
        _pupil(5, "3", "2016-01-01"),
        _pupil(6, "8", "2011-02-02", fsm=True, sex="M"),
        _pupil(7, "11", None),
        _pupil(8, "R", None),
    ]
    frame = pd.DataFrame(rows)
    frame["date_of_birth"] = pd.to_datetime(frame["date_of_birth"])
    return frame


def fixture_marks() -> pd.DataFrame:
    rows = [
        *sessions(P[1], URN_A, ["/"] * 18 + ["I"] * 2, HT1),
        *sessions(P[2], URN_A, ["/"] * 5 + ["O"] * 5, HT1),
        *sessions(P[3], URN_A, ["/"] * 9 + ["O"], HT1),
        *sessions(P[3], URN_A, ["O"] * 10, HT6),
        *sessions(P[4], URN_A, ["/"] * 10, HT1),
        *sessions(P[4], URN_A, ["N"] * 10, HT6),
        *sessions(P[5], URN_A, ["#"] * 4, HT1),
        *sessions(P[6], URN_A, ["/"] * 5 + ["G"] * 5, HT1),
        *sessions(P[6], URN_B, ["/"] * 19 + ["C"], HT3),
        *sessions(P[7], URN_A, ["/"] * 10, HT1),
        *sessions(P[7], URN_A, ["O"] * 4, HT6),
        *sessions(P[8], URN_A, ["O"] * 10, HT1),
        *sessions(P[9], URN_A, ["O"] * 10, HT1),
    ]
    return marks_frame(rows)


@pytest.fixture(scope="module")
def cube() -> pd.DataFrame:
    return code_counts_from_marks(fixture_marks(), Calendar(pd.DataFrame(CALENDAR_2023_24).assign(
        start_date=lambda f: pd.to_datetime(f["start_date"]),
        end_date=lambda f: pd.to_datetime(f["end_date"]),
    )))  # fmt: skip


@pytest.fixture(scope="module")
def year(cube) -> dfe_cohort.PeriodEnrolments:
    return dfe_cohort.period_enrolments(cube, fixture_pupils(), YEAR, 6)


def _headline_value(table: pd.DataFrame, measure: str) -> float:
    return float(table.set_index("measure").loc[measure, "value_pct"])


class TestCohort:
    def test_ages_and_year_11_rule(self):
        status = dfe_cohort.cohort_status(fixture_pupils()).set_index("upn")
        assert status.loc[P[2], "age"] == 4 and not status.loc[P[2], "in_cohort"]
        assert status.loc[P[3], "age"] == 15 and status.loc[P[3], "drop_last_half_term"]
        # aged 15 by date of birth although recorded in Year 10
        assert status.loc[P[4], "drop_last_half_term"] and status.loc[P[4], "in_cohort"]
        assert status.loc[P[1], "age"] == 10 and not status.loc[P[1], "drop_last_half_term"]
        # no date of birth: NC year decides
        assert status.loc[P[7], "basis"] == "NC year" and status.loc[P[7], "drop_last_half_term"]
        assert not status.loc[P[8], "in_cohort"]

    def test_enrolments_and_exclusions(self, year):
        keys = set(zip(year.table["upn"], year.table["urn"], strict=True))
        assert keys == {
            (P[1], URN_A), (P[3], URN_A), (P[4], URN_A), (P[6], URN_A), (P[6], URN_B), (P[7], URN_A)
        }  # fmt: skip
        excluded = year.excluded.set_index("reason")["enrolments"]
        assert excluded[dfe_cohort.NO_PUPIL_RECORD] == 1
        assert excluded[dfe_cohort.OUTSIDE_AGE] == 2
        assert excluded[dfe_cohort.ZERO_POSSIBLE] == 1
        assert year.zero_possible == 1

    def test_sixth_half_term_left_out_for_15_year_olds(self, year):
        t = year.table.set_index(["upn", "urn"])
        assert t.loc[(P[3], URN_A), "sessions_possible"] == 10
        assert t.loc[(P[3], URN_A), "sessions_unauthorised"] == 1
        assert t.loc[(P[4], URN_A), "sessions_unauthorised"] == 0
        assert t.loc[(P[7], URN_A), "sessions_possible"] == 10

    def test_all_cohort_keeps_everyone(self, cube):
        every = dfe_cohort.period_enrolments(cube, fixture_pupils(), YEAR, 6, cohort="all")
        # P2, P8, P9 come in; P3/P4/P7 keep their sixth half term; P5 still zero possible
        assert len(every.table) == 9
        assert every.zero_possible == 1
        t = every.table.set_index(["upn", "urn"])
        assert t.loc[(P[3], URN_A), "sessions_unauthorised"] == 11

    def test_bad_cohort(self, cube):
        with pytest.raises(UsageError):
            dfe_cohort.period_enrolments(cube, fixture_pupils(), YEAR, 6, cohort="everyone")


class TestHeadline:
    def test_whole_year(self, year):
        h = strategy.headline(year.table)
        assert list(h["measure"]) == list(strategy.MEASURES)
        assert (h["enrolments"] == 6).all() and (h["sessions_possible"] == 80).all()
        assert _headline_value(h, "overall_absence") == pytest.approx(9 / 80 * 100)
        assert _headline_value(h, "authorised_absence") == pytest.approx(3 / 80 * 100)
        assert _headline_value(h, "unauthorised_absence") == pytest.approx(6 / 80 * 100)
        assert _headline_value(h, "attendance") == pytest.approx(71 / 80 * 100)
        assert _headline_value(h, "persistent_absence") == pytest.approx(50.0)
        assert _headline_value(h, "severe_absence") == pytest.approx(100 / 6)
        assert h["previous_year_pct"].isna().all()

    def test_to_end_of_autumn(self, cube):
        autumn = dfe_cohort.period_enrolments(cube, fixture_pupils(), YEAR, 2)
        h = strategy.headline(autumn.table)
        # P6 at school B has no autumn marks: 5 enrolments, 60 possible, 8 absent
        assert (h["enrolments"] == 5).all() and (h["sessions_possible"] == 60).all()
        assert _headline_value(h, "overall_absence") == pytest.approx(8 / 60 * 100)
        assert _headline_value(h, "persistent_absence") == pytest.approx(60.0)
        assert _headline_value(h, "severe_absence") == pytest.approx(20.0)

    def test_previous_year_and_change(self, year, cube):
        autumn = dfe_cohort.period_enrolments(cube, fixture_pupils(), YEAR, 2)
        h = strategy.headline(year.table, autumn.table).set_index("measure")
        assert h.loc["overall_absence", "previous_year_pct"] == pytest.approx(8 / 60 * 100)
        # the change is that of the figures as shown: 11.3% (11.25) minus 13.3% (13.33)
        assert h.loc["overall_absence", "change_pp"] == pytest.approx(-2.0)
        assert h.loc["overall_absence", "previous_year_enrolments"] == 5


def _bench(rows):
    base = {
        "geographic_level": "National", "country_name": "England", "region_name": None,
        "la_name": None, "area_name": None, "education_phase": "Total",
        "sess_overall_percent": np.nan, "sess_authorised_percent": np.nan,
        "sess_unauthorised_percent": np.nan, "enrolments_pa_10_exact_percent": np.nan,
        "enrolments_pa_50_exact_percent": np.nan, "basis": None,
    }  # fmt: skip
    return pd.DataFrame([base | r for r in rows])


class TestComparators:
    def test_matching_period_and_fallbacks(self):
        bench = _bench(
            [
                {
                    "time_period": 202324,
                    "time_identifier": "Academic year",
                    "sess_overall_percent": 7.1,
                    "enrolments_pa_10_exact_percent": 20.0,
                    "basis": "census",
                },
                {
                    "time_period": 202223,
                    "time_identifier": "Autumn and spring term",
                    "sess_overall_percent": 7.3,
                },
                {
                    "time_period": 202324,
                    "time_identifier": "Academic year",
                    "sess_overall_percent": 9.9,
                    "education_phase": "State-funded primary",
                },
                {
                    "time_period": 202324,
                    "time_identifier": "Autumn term",
                    "geographic_level": "Regional",
                    "region_name": "Yorkshire and The Humber",
                    "sess_overall_percent": 7.1,
                    "basis": "daily",
                },
            ]  # fmt: skip
        )
        year = strategy.comparator_figures(bench, ["England"], YEAR, "year").set_index("measure")
        assert year.loc["overall_absence", "value_pct"] == 7.1  # the Total row, not primary
        assert year.loc["attendance", "value_pct"] == pytest.approx(92.9)
        assert year.loc["persistent_absence", "value_pct"] == 20.0
        assert year.loc["overall_absence", "basis"] == "census"
        assert year.loc["overall_absence", "period"] == "2023/24 full year"
        assert year.loc["overall_absence", "note"] == ""
        # only the same period: last year's spring figure is not this year's
        spring = strategy.comparator_figures(bench, ["England"], YEAR, "spring")
        spring = spring.set_index("measure")
        assert spring["value_pct"].isna().all()
        assert spring.loc["overall_absence", "note"] == (
            "not in the benchmarks supplied for this period "
            "(2023/24 autumn and spring terms, census, total)"
        )
        later = strategy.comparator_figures(bench, ["England"], "2024/25", "spring")
        assert later["value_pct"].isna().all()
        assert later["note"].iloc[0].startswith("not yet published for this period (2024/25")
        assert strategy.comparator_note(later) == (
            "Comparators: England: not yet published for this period "
            "(2024/25 autumn and spring terms, census, total). "
            "Change: this year minus last, in percentage points."
        )
        # only the same basis: a daily-data figure is not a census one
        region = strategy.comparator_figures(bench, ["Yorkshire and The Humber"], YEAR, "autumn")
        assert region["value_pct"].isna().all()
        region = strategy.comparator_figures(
            bench, ["Yorkshire and The Humber"], YEAR, "autumn", basis="daily"
        ).set_index("measure")
        assert region.loc["overall_absence", "value_pct"] == 7.1
        # only the same phase
        primary = strategy.comparator_figures(bench, ["England"], YEAR, "year", phase="primary")
        assert primary.set_index("measure").loc["overall_absence", "value_pct"] == 9.9
        missing = strategy.comparator_figures(bench, ["Wales"], YEAR, "year")
        assert missing["value_pct"].isna().all()
        assert "not in the benchmarks" in missing["note"].iloc[0]

    def test_statistical_neighbours_are_a_comparator_group(self):
        la = {"geographic_level": "Local authority", "country_name": "England",
              "time_period": 202324, "time_identifier": "Academic year"}  # fmt: skip
        bench = _bench(
            [
                la
                | {"la_name": "Kirklees", "new_la_code": "E08000034", "sess_overall_percent": 7.0},
                la | {"la_name": "Oldham", "new_la_code": "E08000004", "sess_overall_percent": 8.0},
                la | {"la_name": "Leeds", "new_la_code": "E08000035", "sess_overall_percent": 6.0},
            ]
        )
        out = strategy.comparator_figures(
            bench, [], YEAR, "year", statistical_neighbours=["kirklees", "E08000004"]
        ).set_index("measure")
        assert out.loc["overall_absence", "value_pct"] == pytest.approx(7.5)
        assert out.loc["overall_absence", "area"] == "Statistical neighbours"
        assert "average of 2" in out.loc["overall_absence", "note"]

    def test_headline_columns(self, year):
        bench = _bench(
            [
                {
                    "time_period": 202324,
                    "time_identifier": "Academic year",
                    "sess_overall_percent": 7.1,
                    "basis": "census",
                }
            ]  # fmt: skip
        )
        comp = strategy.comparator_figures(bench, ["England"], YEAR, "year")
        h = strategy.headline(year.table, None, comp).set_index("measure")
        assert h.loc["overall_absence", "england_pct"] == 7.1
        assert h.loc["overall_absence", "england_basis"] == "census"
        assert h.loc["overall_absence", "england_period"] == "2023/24 full year"


class TestFiveCategories:
    def test_overall_and_per_school(self, year):
        out = strategy.five_categories(year.table, SCHOOLS, all_label="Test LA")
        labels = [
            strategy.category_name(b) for b in strategy.resolve_bands("five_categories").labels
        ]
        # named by attendance range: "persistently absent" keeps its DfE meaning elsewhere
        assert labels[0] == "95% or more" and labels[2] == "80% to 90%"
        la = out[out["urn"] == ""].set_index("category")["enrolments"]
        # P4, P6@B (exactly 95%), P7 >= 95; P1, P3 exactly 90%; P6@A exactly 50%
        assert la.reindex(labels).tolist() == [3, 0, 2, 0, 1]
        assert (out.loc[out["urn"] == "", "school_name"] == "Test LA").all()
        a = out[out["urn"] == str(URN_A)].set_index("category")
        assert a["enrolments"].reindex(labels).tolist() == [2, 0, 2, 0, 1]
        assert a["pct"].reindex(labels).tolist() == pytest.approx([40, 0, 40, 0, 20])
        b = out[out["urn"] == str(URN_B)].set_index("category")["enrolments"]
        assert b.reindex(labels).tolist() == [1, 0, 0, 0, 0]
        assert len(out) == 15


class TestReasons:
    def test_rates_and_shares(self, year):
        r = strategy.absence_reasons(year.cube, 80).set_index("reason")
        assert r.loc["illness", "sessions"] == 2
        assert r.loc["holidays", "sessions"] == 5  # G: unauthorised holiday
        assert r.loc["other authorised (C)", "sessions"] == 1
        assert r.loc["unauthorised: other (O)", "sessions"] == 1
        assert r["sessions"].sum() == 9
        assert r.loc["holidays", "rate_pct"] == pytest.approx(5 / 80 * 100)
        assert r.loc["illness", "share_pct"] == pytest.approx(2 / 9 * 100)
        assert "unauthorised: not yet established (N)" not in r.index  # P4's N was in HT6


class TestCharacteristics:
    def test_fsm_and_cin_gaps(self, year):
        services = pd.DataFrame(
            {
                "upn": [P[3], P[4]],
                "service": ["cin", "cpp"],
                "start_date": pd.to_datetime(["2023-10-01", "2022-01-01"]),
                "end_date": pd.to_datetime([None, "2023-08-01"]),
            }
        )
        opened = characteristics.services_open(services, "2023-09-04", "2024-07-19")
        assert opened.to_dict("list") == {"upn": [P[3]], "service": ["cin"]}
        table = characteristics.attach_characteristics(
            year.table, fixture_pupils(), SCHOOLS, opened
        )
        out = characteristics.by_characteristic(table).set_index(["characteristic", "group"])
        fsm = out.loc[("Free school meals", "eligible")]
        assert fsm["enrolments"] == 3  # P1 and P6 at both schools
        assert fsm["absence_pct"] == pytest.approx(8 / 50 * 100)
        assert fsm["pa_pct"] == pytest.approx(200 / 3)
        assert fsm["absence_gap_pp"] == pytest.approx(8 / 50 * 100 - 1 / 30 * 100)
        assert fsm["pa_gap_pp"] == pytest.approx(200 / 3 - 100 / 3)
        assert fsm["sa_gap_pp"] == pytest.approx(100 / 3)
        cin = out.loc[("Child in need (CIN)", "yes")]
        assert cin["enrolments"] == 1
        assert cin["absence_gap_pp"] == pytest.approx(10 - 8 / 70 * 100)
        assert ("Child protection plan (CPP)", "yes") not in out.index  # closed before the year
        assert out.loc[("Child protection plan (CPP)", "no"), "enrolments"] == 6
        sen = out.loc["Special educational needs"]
        assert set(sen.index) == {"no identified SEN", "SEN support", "EHC plan"}
        assert "Ethnicity" not in out.index.get_level_values(0)

    def test_one_school_table_gets_the_same_characteristics_as_the_whole_table(self, year):
        whole = characteristics.attach_characteristics(
            year.table, fixture_pupils(), SCHOOLS, characteristics.services_open(None, 0, 0)
        )
        one = year.table[year.table["urn"] == URN_B].reset_index(drop=True)
        alone = characteristics.attach_characteristics(
            one, fixture_pupils(), SCHOOLS, characteristics.services_open(None, 0, 0)
        )
        expected = whole[whole["urn"] == URN_B].reset_index(drop=True)
        pd.testing.assert_frame_equal(alone, expected)

    def test_services_by_pupil_joins_each_pupils_sorted_words(self):
        opened = pd.DataFrame(
            {
                "upn": [P[2], P[1], P[2], P[1], P[3]],
                "service": ["cpp", "youth_justice", "cin", "early_help", "some_new_service"],
            }
        )
        out = characteristics.services_by_pupil(opened)
        assert out.index.tolist() == sorted([P[1], P[2], P[3]]) and out.index.name == "upn"
        assert out.to_dict() == {
            P[1]: "early help; youth justice",
            P[2]: "child in need (CIN); child protection plan (CPP)",
            P[3]: "some_new_service",  # a service without words keeps its name
        }
        assert characteristics.services_by_pupil(opened.iloc[:0]).empty


class TestSchools:
    def test_by_school_and_funnel(self, year):
        table = year.table.merge(SCHOOLS[["urn", "locality"]], on="urn")
        out = by_school(table, None, SCHOOLS).set_index("urn")
        assert out.loc[URN_A, "enrolments"] == 5
        assert out.loc[URN_A, "pa_pct"] == pytest.approx(60.0)
        assert out.loc[URN_B, "pa_pct"] == 0.0
        loc = by_locality(table, None).set_index("locality")
        assert loc.loc["East", "schools"] == 1 and loc.loc["West", "enrolments"] == 1

    def test_funnel_positions(self):
        # LA rate 20%: at n = 400 the 99.8% limit is 20 + 3.09 * 2 = 26.2
        pos = funnel_columns(pd.Series([30.0, 21.0]), pd.Series([400, 400]), 20.0)
        assert pos["funnel_position"].tolist() == [ABOVE_998, WITHIN]
        assert pos.loc[0, "limit_998_high"] == pytest.approx(20 + 3.0902 * 2, abs=1e-3)


class TestTermChange:
    def test_previous_term(self):
        assert strategy.previous_term(YEAR, "spring") == (YEAR, "autumn")
        assert strategy.previous_term(YEAR, "autumn") == ("2022/23", "summer")
        assert strategy.previous_term(YEAR, "year") == ("2022/23", "year")

    def test_term_alone(self, cube):
        pupils = fixture_pupils()
        spring = dfe_cohort.period_enrolments(cube, pupils, YEAR, 4, first_ht=3)
        autumn = dfe_cohort.period_enrolments(cube, pupils, YEAR, 2, first_ht=1)
        c = strategy.term_change(spring.table, autumn.table).set_index("measure")
        assert c.loc["overall_absence", "this_term_pct"] == pytest.approx(5.0)  # P6@B 1/20
        assert c.loc["overall_absence", "previous_term_pct"] == pytest.approx(8 / 60 * 100)
        assert c.loc["overall_absence", "this_term_enrolments"] == 1


class TestEveryPublishedColumnHasALabel:
    """Readers see column heads in words: every column these tables publish is in the
    glossary (:mod:`attendance_lib.present.labels`), so no identifier reaches a page."""

    def test_termly_tables(self, year, cube):
        from attendance_lib.analyses.shared.characteristics import by_characteristic
        from attendance_lib.present.labels import has_label

        table = year.table.merge(SCHOOLS[["urn", "locality", "phase"]], on="urn")
        comp = strategy.comparator_figures(None, ["England"], YEAR, "year")
        headline = strategy.headline(year.table, year.table, comp)
        shown, _ = strategy.shown_headline(headline, ["England"])
        tables = [
            shown,
            strategy.term_change(year.table, year.table),
            strategy.by_phase(table, table),
            strategy.five_categories(year.table, SCHOOLS, all_label="LA"),
            by_school(table, table, SCHOOLS),
            by_locality(table, table),
            by_characteristic(year.table),
            strategy.absence_reasons(year.cube, 80, year.cube, 80),
        ]
        missing = {c for t in tables for c in t.columns if not has_label(c)}
        assert missing == set()
