"""Targeting Support Meeting packs: hand-computed figures on tiny fixtures.

Pack fixture (2023/24, autumn; all pupils aged 5 to 15; each has 20 sessions in half term 1):

====  ======  ====  =======  =================================  =================
pupil school  year  notes    marks                              attendance
====  ======  ====  =======  =================================  =================
S1    A       5     FSM      18 ``/`` + 2 ``N``                 90% (PA)
S2    A       5     SEN K    20 ``/``                           100%
S3    A       6     EHC, CLA 10 ``/`` + 10 ``C2``               50% (PA, SA)
S4    B       8              19 ``/`` + 1 ``E``                 95%
S5    B       9     FSM      16 ``/`` + 4 ``O``                 80% (PA)
====  ======  ====  =======  =================================  =================

School A: 3 enrolments, attendance 48/60 = 80%, PA 2/3, SA 1/3. LA: 5 enrolments,
attendance 83/100 = 83%, PA 3/5, SA 1/5. FSM LA-wide: S1 + S5, attendance 34/40 = 85%.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from builders import (
    CALENDAR_2023_24,
    URN_A,
    URN_B,
    make_upn,
    marks_frame,
    pupil,
    sessions,
    sessions_over_calendar,
    write_folder,
)

from attendance_lib import synth
from attendance_lib.analyses.shared import dfe_cohort
from attendance_lib.analyses.shared.characteristics import attach_characteristics, services_open
from attendance_lib.analyses.strategy import school_pack
from attendance_lib.contract.dataset import load_dataset
from attendance_lib.core.academic_calendar import Calendar
from attendance_lib.engine.sessions import code_counts_from_marks

YEAR = "2023/24"
S = {i: make_upn(100 + i) for i in range(1, 6)}
HT1 = "2023-09-04"


def _calendar() -> Calendar:
    frame = pd.DataFrame(CALENDAR_2023_24)
    for c in ("start_date", "end_date"):
        frame[c] = pd.to_datetime(frame[c])
    return Calendar(frame)


@pytest.fixture(scope="module")
def pack_ds(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pack")
    pupils = [
        pupil(S[1], URN_A, year_group="5", fsm="true", date_of_birth="2014-01-01"),
        pupil(S[2], URN_A, year_group="5", sen="K", date_of_birth="2014-02-01"),
        pupil(S[3], URN_A, year_group="6", sen="E", date_of_birth="2013-01-01"),
        pupil(S[4], URN_B, year_group="8", date_of_birth="2011-01-01"),
        pupil(S[5], URN_B, year_group="9", fsm="true", date_of_birth="2010-01-01"),
    ]
    marks = [
        *sessions(S[1], URN_A, ["/"] * 18 + ["N"] * 2, HT1),
        *sessions(S[2], URN_A, ["/"] * 20, HT1),
        *sessions(S[3], URN_A, ["/"] * 10 + ["C2"] * 10, HT1),
        *sessions(S[4], URN_B, ["/"] * 19 + ["E"], HT1),
        *sessions(S[5], URN_B, ["/"] * 16 + ["O"] * 4, HT1),
    ]
    services = [{"upn": S[3], "service": "cla", "start_date": "2020-01-01", "end_date": ""}]
    interventions = [
        {"intervention_id": "I1", "upn": S[1], "officer": "Officer One", "start_date": "2023-10-02"}
    ]
    folder = write_folder(
        tmp, pupils=pupils, marks=marks, services=services, interventions=interventions
    )
    return load_dataset(folder)


@pytest.fixture(scope="module")
def ref(pack_ds):
    return school_pack.pack_reference(pack_ds, YEAR, "autumn")


class TestAgainstLA:
    def test_school_phase_la(self, ref):
        out = school_pack.school_vs_la(
            ref, URN_A, "primary", school_name="School A", la_name="Test LA"
        ).set_index("area")
        assert out.loc["School A", "enrolments"] == 3
        assert out.loc["School A", "attendance_pct"] == pytest.approx(80.0)
        assert out.loc["School A", "pa_pct"] == pytest.approx(200 / 3)
        assert out.loc["School A", "sa_pct"] == pytest.approx(100 / 3)
        # School A is the LA's only primary school: it is never compared with itself
        assert "Other primary schools" not in out.index
        assert not school_pack.has_phase_peers(ref, URN_A, "primary")
        assert out.loc["Test LA", "enrolments"] == 5
        assert out.loc["Test LA", "attendance_pct"] == pytest.approx(83.0)
        assert out.loc["Test LA", "pa_pct"] == pytest.approx(60.0)
        assert out.loc["Test LA", "sa_pct"] == pytest.approx(20.0)
        assert np.isnan(out.loc["Test LA", "last_year_attendance_pct"])

    def test_other_schools_of_the_phase_leave_the_school_out(self):
        phase = pd.DataFrame(
            {"enrolments": [10], "sessions_possible": [100], "sessions_present": [90],
             "sessions_aea": [0], "sessions_authorised": [6], "sessions_unauthorised": [4],
             "pa_enrolments": [4], "sa_enrolments": [1]}
        )  # fmt: skip
        school = phase.assign(
            enrolments=4, sessions_possible=40, sessions_present=30, sessions_authorised=6,
            sessions_unauthorised=4, pa_enrolments=3, sa_enrolments=1,
        )  # fmt: skip
        (row,) = school_pack._others(phase, school, []).to_dict(orient="records")
        assert row["enrolments"] == 6 and row["attendance_pct"] == pytest.approx(100.0)
        assert row["pa_pct"] == pytest.approx(100 / 6) and row["sa_pct"] == 0.0
        assert school_pack.peers_label("alternative_provision") == "Other alternative provision"

    def test_reference_is_cached(self, pack_ds, ref):
        again = school_pack.pack_reference(pack_ds, YEAR, "autumn")
        pd.testing.assert_frame_equal(again.rates, ref.rates, check_dtype=False)
        assert any(p.name.startswith(f"tsm_reference_{school_pack.CACHE_VERSION}_2023-24_autumn_dfe") for p in
                   pack_ds.cache_dir.iterdir())  # fmt: skip

    def test_a_schools_rows_give_the_same_figures(self, pack_ds, ref):
        cube = school_pack.school_period(pack_ds, URN_A, YEAR, "autumn").cube
        names = {"school_name": "A", "la_name": "LA"}
        mine = ref.for_school(URN_A, "primary")
        for table in (mine.rates, mine.trend, mine.codes):
            assert not (table["key"] == str(URN_B)).any()  # no other school's rows
            assert set(table["scope"]) <= {"la", "phase", "school"}
        for whole, part in [
            (school_pack.school_vs_la(t, URN_A, "primary", **names) for t in (ref, mine)),
            (school_pack.school_trend(t, URN_A, "primary", **names) for t in (ref, mine)),
            (school_pack.groups_vs_la(t, URN_A, **names) for t in (ref, mine)),
            (school_pack.code_attention(t, URN_A, cube) for t in (ref, mine)),
        ]:
            pd.testing.assert_frame_equal(part, whole)
        assert school_pack.has_phase_peers(mine, URN_A, "primary") == (
            school_pack.has_phase_peers(ref, URN_A, "primary")
        )

    def test_groups(self, ref):
        out = school_pack.groups_vs_la(ref, URN_A, school_name="A", la_name="LA")
        out = out.set_index(["group", "area"])
        fsm = out.loc[("eligible for free school meals", "A")]
        assert fsm["enrolments"] == 1 and fsm["attendance_pct"] == pytest.approx(90.0)
        fsm_la = out.loc[("eligible for free school meals", "LA")]
        assert fsm_la["enrolments"] == 2 and fsm_la["attendance_pct"] == pytest.approx(85.0)
        social = out.loc[("with a social worker (CIN, CPP or CLA)", "A")]
        assert social["enrolments"] == 1 and social["sa_pct"] == pytest.approx(100.0)
        assert out.loc[("EHC plan", "A"), "enrolments"] == 1
        assert out.loc[("SEN support", "LA"), "pa_pct"] == 0.0  # S2 only: 100% attendance

    def test_trend(self, ref):
        out = school_pack.school_trend(
            ref, URN_A, "primary", school_name="School A", la_name="Test LA"
        )
        la = out[(out["area"] == "Test LA") & (out["half_term"] == 1)]
        assert la["attendance_pct"].iloc[0] == pytest.approx(83.0)
        assert la["enrolments"].iloc[0] == 5
        school = out[(out["area"] == "School A") & (out["half_term"] == 1)]
        assert school["attendance_pct"].iloc[0] == pytest.approx(80.0)

    def test_code_attention(self, pack_ds, ref):
        period = school_pack.school_period(pack_ds, URN_A, YEAR, "autumn")
        out = school_pack.code_attention(ref, URN_A, period.cube).set_index("code")
        assert out.loc["N", "sessions"] == 2 and out.loc["N", "pupils"] == 1
        assert out.loc["N", "rate_pct"] == pytest.approx(2 / 60 * 100)
        assert out.loc["N", "la_rate_pct"] == pytest.approx(2.0)
        assert out.loc["C2", "rate_pct"] == pytest.approx(10 / 60 * 100)
        assert out.loc["E", "sessions"] == 0 and out.loc["E", "la_rate_pct"] == pytest.approx(1.0)
        # no ratio against an LA rate of zero: not applicable
        assert out.loc["N", "ratio_to_la"] == pytest.approx((2 / 60 * 100) / 2.0)
        assert out.loc["B", "la_rate_pct"] == 0.0 and out.loc["B", "ratio_to_la"] == "z"

    def test_pupils_to_discuss(self, pack_ds):
        period = school_pack.school_period(pack_ds, URN_A, YEAR, "autumn")
        assert set(period.penalty["urn"]) == {URN_A}
        falling = school_pack.falling_attendance(period.cube, 2)
        penalty = period.penalty
        listed = school_pack.pupils_to_discuss(
            period.table, falling, penalty, period.open_services, pack_ds.interventions,
            at=period.end,
        ).set_index("upn")  # fmt: skip
        assert list(listed.index) == [S[3], S[1]]  # most absent first; S2 not listed
        assert listed.loc[S[3], "severe"] and not listed.loc[S[3], "persistent"]
        assert listed.loc[S[1], "persistent"]
        assert listed.loc[S[3], "other_services"] == "looked after (CLA)"
        assert listed.loc[S[1], "attendance_team"] == "Officer One"  # review due 25 Dec
        names = pd.DataFrame(
            {"upn": [S[1], S[3]], "forename": ["Ann", "Cal"], "surname": ["Lee", "Roe"]}
        )
        named = school_pack.pupils_to_discuss(
            period.table, falling, penalty, period.open_services, pack_ds.interventions,
            at=period.end, names=names,
        )  # fmt: skip
        assert list(named.columns[:3]) == ["upn", "forename", "surname"]
        assert named.set_index("upn").loc[S[3], "surname"] == "Roe"
        summary = school_pack.discussion_summary(listed.reset_index()).set_index("reason")
        assert summary["pupils"].tolist() == [1, 1, 0, 0, 2]
        assert summary.iloc[-1]["with_other_services"] == 1


class TestFiveCategoriesByYear:
    def test_counts(self):
        table = pd.DataFrame(
            {
                "attendance_pct": [100.0, 95.0, 92.0, 90.0, 50.0],
                "year_group": ["5", "5", "5", "6", "6"],
            }
        )
        out = school_pack.five_categories_by_year(table)
        labels = [
            school_pack.category_name(b)
            for b in school_pack.resolve_bands("five_categories").labels
        ]
        every = out[out["year_group"] == "All"].set_index("category")
        assert every["enrolments"].reindex(labels).tolist() == [2, 1, 1, 0, 1]
        y5 = out[out["year_group"] == "5"].set_index("category")
        assert y5["enrolments"].reindex(labels).tolist() == [2, 1, 0, 0, 0]
        assert y5["pct"].reindex(labels).tolist() == pytest.approx([200 / 3, 100 / 3, 0, 0, 0])
        assert list(dict.fromkeys(out["year_group"])) == ["All", "5", "6"]


# ------------------------------------------------------------------------------------------
# Penalty-notice threshold: 10 unauthorised sessions within 50 school days
# ------------------------------------------------------------------------------------------

N_DAYS = 60


def _codes(unauthorised_am_days=(), both_days=(), other=None) -> list[str]:
    """Codes for N_DAYS school days: present except the given AM / whole days."""
    codes = ["/"] * (2 * N_DAYS)
    for d in unauthorised_am_days:
        codes[2 * d] = "O"
    for d in both_days:
        codes[2 * d] = codes[2 * d + 1] = "G"
    for d, code in (other or {}).items():
        codes[2 * d] = code
    return codes


def _school_days() -> list[pd.Timestamp]:
    days = np.concatenate(
        [pd.bdate_range(h["start_date"], h["end_date"]).to_numpy() for h in CALENDAR_2023_24]
    )
    return [pd.Timestamp(d) for d in days[:N_DAYS]]


@pytest.fixture(scope="module")
def penalty():
    q = {i: make_upn(200 + i) for i in range(5)}
    rows = [
        *sessions_over_calendar(q[0], URN_A, _codes()),
        # 10 sessions in the first 5 days: reached on day 4
        *sessions_over_calendar(q[1], URN_A, _codes(both_days=range(5))),
        # 5 + 5 sessions 46 days apart (days 0-4 and 46-50): the nearest 10 span 51 days
        *sessions_over_calendar(q[2], URN_A, _codes([0, 1, 2, 3, 4, 46, 47, 48, 49, 50])),
        # days 0-4 and 45-49 (G, N and O all unauthorised): 10 within 50 days, across half term
        *sessions_over_calendar(
            q[3], URN_A, _codes([0, 1, 2, 3, 4, 45, 46], other={47: "N", 48: "G", 49: "U"})
        ),
        # 9 unauthorised and 5 authorised (I) sessions in a fortnight: not reached
        *sessions_over_calendar(
            q[4], URN_A, _codes(range(9), other={10: "I", 11: "I", 12: "I", 13: "I", 14: "I"})
        ),
    ]
    return q, school_pack.penalty_threshold(marks_frame(rows)).set_index("upn")


class TestPenaltyThreshold:
    def test_reached(self, penalty):
        q, out = penalty
        days = _school_days()
        assert out.loc[q[1], "reached"] and out.loc[q[1], "reached_on"] == days[4]
        assert out.loc[q[3], "reached"] and out.loc[q[3], "reached_on"] == days[49]
        assert days[49] == pd.Timestamp("2023-11-17")  # 50 school days, 10.5 calendar weeks
        assert out.loc[q[3], "max_in_window"] == 10

    def test_not_reached(self, penalty):
        q, out = penalty
        assert not out.loc[q[0], "reached"] and out.loc[q[0], "max_in_window"] == 0
        assert not out.loc[q[2], "reached"] and out.loc[q[2], "max_in_window"] == 9
        assert out.loc[q[2], "unauthorised_sessions"] == 10
        assert not out.loc[q[4], "reached"] and out.loc[q[4], "max_in_window"] == 9
        assert pd.isna(out.loc[q[4], "reached_on"])

    def test_shorter_window_parameter(self, penalty):
        q, _ = penalty
        rows = sessions_over_calendar(q[1], URN_A, _codes(both_days=range(5)))
        out = school_pack.penalty_threshold(marks_frame(rows), window_days=4)
        assert not out["reached"].iloc[0] and out["max_in_window"].iloc[0] == 8

    def test_each_school_counts_its_own_school_days(self):
        q, s = make_upn(260), make_upn(261)
        days = _school_days()
        closed = {str(d.date()) for d in days[20:30]}  # school B recorded no marks these days
        at_b = [
            m
            for m in sessions_over_calendar(s, URN_B, _codes(both_days=[0, 1, 2, 57, 58]))
            if m["date"] not in closed
        ]
        rows = [*sessions_over_calendar(q, URN_A, _codes(both_days=[0, 1, 2, 57, 58])), *at_b]
        out = school_pack.penalty_threshold(marks_frame(rows))
        assert out[["upn", "urn"]].values.tolist() == [[q, URN_A], [s, URN_B]]
        by = out.set_index("upn")
        # at A the ten sessions span 59 school days; at B, closed for 10 of them, 49
        assert not by.loc[q, "reached"] and by.loc[q, "max_in_window"] == 6
        assert by.loc[s, "reached"] and by.loc[s, "reached_on"] == days[58]
        assert by.loc[s, "unauthorised_sessions"] == 10


class TestFalling:
    def test_at_risk_and_falling(self):
        r1, r2 = make_upn(301), make_upn(302)
        rows = [
            *sessions(r1, URN_A, ["/"] * 19 + ["I"], HT1),
            *sessions(r1, URN_A, ["/"] * 18 + ["I"] * 2, "2023-10-30"),
            *sessions(r2, URN_A, ["/"] * 18 + ["I"] * 2, HT1),
            *sessions(r2, URN_A, ["/"] * 19 + ["I"], "2023-10-30"),
        ]
        cube = code_counts_from_marks(marks_frame(rows), _calendar())
        out = school_pack.falling_attendance(cube, 2).set_index("upn")
        assert out.loc[r1, "falling"] and out.loc[r1, "latest_attendance_pct"] == 90.0
        assert not out.loc[r2, "falling"] and out.loc[r2, "earlier_attendance_pct"] == 90.0


def test_cohort_status_is_worked_out_once_per_dataset_and_year(pack_ds, tmp_path, monkeypatch):
    monkeypatch.setenv("ATTENDANCE_WORKBENCH_CACHE", str(tmp_path / "cache"))  # a new cache
    calls = []
    real = dfe_cohort.year_status
    monkeypatch.setattr(dfe_cohort, "year_status", lambda p, y: calls.append(y) or real(p, y))
    first = dfe_cohort.cached_year_status(pack_ds, YEAR)
    again = dfe_cohort.cached_year_status(pack_ds, YEAR)  # read back, not worked out
    pd.testing.assert_frame_equal(again.table, first.table)
    pd.testing.assert_frame_equal(first.table, real(pack_ds.pupils, YEAR).table)
    assert calls == [YEAR] and again.academic_year == YEAR
    assert dfe_cohort.cached_year_status(pack_ds, "2022/23").table.empty  # another year: its own
    assert calls == [YEAR, "2022/23"]


def test_every_pack_column_has_a_label(pack_ds, ref):
    from attendance_lib.present.labels import has_label

    period = school_pack.school_period(pack_ds, URN_A, YEAR, "autumn")
    names = {"school_name": "A", "la_name": "LA"}
    falling = school_pack.falling_attendance(period.cube, 2)
    penalty = period.penalty
    pupils = school_pack.pupils_to_discuss(
        period.table, falling, penalty, period.open_services, pack_ds.interventions, at=period.end
    )
    tables = [
        school_pack.school_vs_la(ref, URN_A, "primary", **names),
        school_pack.groups_vs_la(ref, URN_A, **names),
        school_pack.code_attention(ref, URN_A, period.cube),
        school_pack.five_categories_by_year(period.table),
        school_pack.discussion_summary(pupils),
        pupils,
    ]
    missing = {c for t in tables for c in t.columns if not has_label(c)}
    assert sorted(missing) == []


def test_school_period_is_computed_once_per_school_and_shared(pack_ds, tmp_path, monkeypatch):
    """The school's public and restricted packs compute its tables once between them."""
    monkeypatch.setenv("ATTENDANCE_WORKBENCH_CACHE", str(tmp_path / "cache"))  # a new cache
    calls = []
    real = school_pack.compute_school_period

    def counted(ds, urn, *args):
        calls.append((urn, *args))
        return real(ds, urn, *args)

    monkeypatch.setattr(school_pack, "compute_school_period", counted)
    first = school_pack.school_period(pack_ds, URN_A, YEAR, "autumn")
    again = school_pack.school_period(pack_ds, URN_A, YEAR, "autumn")  # read back
    assert calls == [(URN_A, YEAR, "autumn", "dfe")]
    direct = real(pack_ds, URN_A, YEAR, "autumn")
    for part in ("table", "cube", "penalty", "open_services", "excluded"):
        pd.testing.assert_frame_equal(getattr(again, part), getattr(direct, part))
        pd.testing.assert_frame_equal(getattr(first, part), getattr(direct, part))
    assert (again.start, again.end) == (direct.start, direct.end)
    # another school, term or cohort is its own result
    other = school_pack.school_period(pack_ds, URN_B, YEAR, "autumn")
    school_pack.school_period(pack_ds, URN_A, YEAR, "autumn", cohort="all")
    assert calls[1:] == [(URN_B, YEAR, "autumn", "dfe"), (URN_A, YEAR, "autumn", "all")]
    assert set(other.table["urn"]) == {URN_B} and set(other.penalty["urn"]) == {URN_B}
    # only the school's pupils' services are kept
    assert set(other.open_services["upn"]) <= set(other.table["upn"])


# --------------------------------------------------------------------------------------
# Every school's tables from one pass over the LA = each school's own marks alone
# --------------------------------------------------------------------------------------

LA_SMALL_DATA = Path(__file__).resolve().parent / "fixtures" / "la_small" / "data"


def _from_own_marks(ds, urn: int, year: str, term: str, cohort: str) -> dict:
    """What a school's marks alone give (the packs' method before the LA-wide pass)."""
    calendar = Calendar(ds.calendar)
    start, end = calendar.to_end_of(year, term)
    marks = ds.marks_for(urns=[urn], start=start, end=end)
    if marks.empty:  # the cube of no marks could not be counted: the pass gives empty tables
        return None
    cube = code_counts_from_marks(marks, calendar)
    enrol = dfe_cohort.period_enrolments(
        cube, ds.pupils, year, dfe_cohort.last_half_term(term), cohort=cohort
    )
    opened = services_open(ds.services, start, end)
    opened = opened[opened["upn"].isin(enrol.table["upn"].astype(str)).to_numpy()]
    table = attach_characteristics(enrol.table, ds.pupils, ds.schools, opened)
    in_cohort = marks["upn"].astype(str).isin(set(table["upn"])).to_numpy()
    return {
        "table": table,
        "cube": enrol.cube,
        "penalty": school_pack.penalty_threshold(marks[in_cohort].reset_index(drop=True)),
        "open_services": opened.reset_index(drop=True),
        "excluded": enrol.excluded,
    }


@pytest.fixture(scope="module")
def la_datasets(tmp_path_factory):
    """The hand-worked fixture LA (a move, dual registration, ages 4 to 16, Year 11's sixth
    half term, zero-possible enrolments) with a fourth school that has no marks, and a small
    synthetic LA."""
    root = tmp_path_factory.mktemp("la_wide")
    small = root / "small"
    shutil.copytree(LA_SMALL_DATA, small)
    with (small / "schools.csv").open("a", encoding="utf-8") as fh:
        fh.write("100004,Fixture Closed School,secondary,West,Officer B\n")
    synthetic = root / "synthetic"
    synth.generate(synthetic, seed=3, pupils=600, schools=5, progress=False)
    return [load_dataset(small), load_dataset(synthetic)]


@pytest.mark.parametrize("cohort", ["dfe", "all"])
def test_every_schools_tables_from_the_la_pass_are_its_own_marks_alone(
    la_datasets, tmp_path, monkeypatch, cohort
):
    monkeypatch.setenv("ATTENDANCE_WORKBENCH_CACHE", str(tmp_path / "cache"))
    checked = 0
    for ds in la_datasets:
        year = sorted(set(ds.calendar["academic_year"].astype(str)))[-1]
        for term in ("spring", "year"):  # the packs' usual term, and Year 11's sixth half term
            for urn in ds.schools["urn"].astype(int):
                got = school_pack.school_period(ds, urn, year, term, cohort)
                want = _from_own_marks(ds, urn, year, term, cohort)
                if want is None:
                    assert got.table.empty and got.cube.empty and got.penalty.empty
                    assert got.excluded["enrolments"].sum() == 0
                    continue
                for part, frame in want.items():
                    pd.testing.assert_frame_equal(
                        getattr(got, part), frame, obj=f"{urn} {year} {term} {part}"
                    )
                checked += len(want["table"])
    assert checked > 500  # enrolments compared, over both LAs


def test_the_la_pass_stores_each_school_apart_and_runs_once(pack_ds, tmp_path, monkeypatch):
    """A school's pack reads its own part: the pass runs once for every school and each
    school's tables are a file of their own."""
    monkeypatch.setenv("ATTENDANCE_WORKBENCH_CACHE", str(tmp_path / "cache"))
    calls = []
    real = school_pack.school_tables

    def counted(*args, **kwargs):
        calls.append(kwargs.get("urns"))
        return real(*args, **kwargs)

    monkeypatch.setattr(school_pack, "school_tables", counted)
    a = school_pack.school_period(pack_ds, URN_A, YEAR, "autumn")
    b = school_pack.school_period(pack_ds, URN_B, YEAR, "autumn")
    assert calls == [None]  # one pass for both schools
    assert set(a.table["urn"]) == {URN_A} and set(b.table["urn"]) == {URN_B}
    parts = [
        p for p in pack_ds.cache_dir.rglob("*.pickle") if p.parent.name.startswith("school_tables")
    ]
    assert sorted(p.stem for p in parts) == sorted([str(URN_A), str(URN_B)])
