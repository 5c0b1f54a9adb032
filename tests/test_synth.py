"""Tests of the seeded synthetic local authority (attendance_lib.synth).

One small LA (3,000 pupils, 12 schools) is generated once per session; a second copy with the
same seed checks reproducibility. Realism ranges are those an attendance analyst expects of
an English LA; they are wide enough for a small LA but fail for a broken generator.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from stdnum.gb import upn as stdnum_upn

from attendance_lib.analyses.shared.pupil_sessions import school_days
from attendance_lib.contract.dataset import load_dataset
from attendance_lib.core.academic_calendar import Calendar
from attendance_lib.core.codes import CODE_GROUP, CODES_2024_FROM, Group
from attendance_lib.engine.sessions import summarise
from attendance_lib.synth import generate
from attendance_lib.synth.calendar import bank_holidays, half_terms
from attendance_lib.synth.population import make_upns

SMALL = {"pupils": 3000, "schools": 12, "progress": False}
FILES = {
    "schools.csv",
    "pupils.csv",
    "calendar.csv",
    "marks.parquet",
    "ks2.csv",
    "ks4.csv",
    "services.csv",
    "interventions.csv",
    "benchmarks.csv",
    "synth_truth.json",
}
YEARS = ("2022/23", "2023/24", "2024/25")
YEAR_BOUNDS = {
    "2022/23": ("2022-09-01", "2023-08-31"),
    "2023/24": ("2023-09-01", "2024-08-31"),
    "2024/25": ("2024-09-01", "2025-08-31"),
}
LEGACY = {"H", "F", "J", "Y"}
NEW_2024 = {"C1", "C2", "J1", "K", "Q", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7"}


@pytest.fixture(scope="session")
def la(tmp_path_factory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("synth_la")
    return out, generate(out, **SMALL)


@pytest.fixture(scope="session")
def ds(la):
    return load_dataset(la[0])


@pytest.fixture(scope="session")
def marks(ds) -> pd.DataFrame:
    m = ds.marks.copy()
    m["group"] = m["code"].astype(str).map({c: int(g) for c, g in CODE_GROUP.items()})
    return m


@pytest.fixture(scope="session")
def enrol_year(ds, marks) -> pd.DataFrame:
    """Enrolment-level full-year summaries for pupils in Years 1-11, with characteristics."""
    frames = []
    for ay, (start, end) in YEAR_BOUNDS.items():
        t = summarise(ds.marks, start, end, by="enrolment").table
        frames.append(t.assign(academic_year=ay))
    t = pd.concat(frames, ignore_index=True)
    t["upn"] = t["upn"].astype(str)
    p = ds.pupils.assign(upn=ds.pupils["upn"].astype(str))
    t = t.merge(
        p[["upn", "academic_year", "year_group", "fsm", "sen"]], on=["upn", "academic_year"]
    )
    t = t.merge(ds.schools[["urn", "phase"]], on="urn")
    return t[t["year_group"].isin([str(i) for i in range(1, 12)])]


# --- hand-checked helpers -------------------------------------------------------------


def test_upn_check_letter_matches_stdnum_example():
    # python-stdnum's documented valid UPN: B801200005001 (LA 801, DfE 2000, 05, 001)
    assert make_upns(801, np.array([2000]), np.array([5]), np.array([1]))[0] == "B801200005001"


def test_bank_holidays_2024_and_special_days():
    assert bank_holidays(2024) == {
        date(2024, 1, 1),
        date(2024, 3, 29),
        date(2024, 4, 1),
        date(2024, 5, 6),
        date(2024, 5, 27),
        date(2024, 8, 26),
        date(2024, 12, 25),
        date(2024, 12, 26),
    }
    assert date(2023, 5, 8) in bank_holidays(2023)  # the Coronation
    assert date(2022, 9, 19) in bank_holidays(2022)  # the Queen's funeral


def test_half_terms_2023_24_follow_the_english_pattern():
    ht = half_terms("2023/24")
    assert ht[0][0] == date(2023, 9, 1)
    assert ht[0][1] == date(2023, 10, 20)  # October half term 23-27 Oct
    assert ht[1] == (date(2023, 10, 30), date(2023, 12, 15))
    assert ht[2] == (date(2024, 1, 3), date(2024, 2, 9))  # February half term 12-16 Feb
    assert ht[3] == (date(2024, 2, 19), date(2024, 3, 22))  # Easter: Good Friday 29 March
    assert ht[4] == (date(2024, 4, 8), date(2024, 5, 24))  # May half term: 27 May
    assert ht[5] == (date(2024, 6, 3), date(2024, 7, 19))


# --- reproducibility and layout --------------------------------------------------------


def test_same_seed_gives_identical_files(la, tmp_path):
    again = generate(tmp_path, **SMALL)
    for name in FILES:
        assert (la[0] / name).read_bytes() == (tmp_path / name).read_bytes(), name
    assert again.counts == la[1].counts


def test_different_seed_differs(la, tmp_path):
    generate(tmp_path, seed=7, **SMALL)
    for name in ("pupils.csv", "marks.parquet", "interventions.csv"):
        assert (la[0] / name).read_bytes() != (tmp_path / name).read_bytes(), name


def test_contract_layout_and_marks_file(la, ds):
    out, result = la
    assert {p.name for p in out.iterdir()} == FILES
    assert ds.ks2 is not None and ds.ks4 is not None and ds.services is not None
    assert ds.interventions is not None and ds.benchmarks is not None
    f = pq.ParquetFile(out / "marks.parquet")
    schema = f.schema_arrow
    assert schema.names == ["upn", "urn", "date", "session", "code"]
    assert schema.field("urn").type == pa.int32()
    assert schema.field("date").type == pa.date32()
    for col in ("upn", "session", "code"):
        assert schema.field(col).type == pa.string()
        enc = f.metadata.row_group(0).column(schema.names.index(col)).encodings
        assert "RLE_DICTIONARY" in enc
    assert all(f.metadata.row_group(i).num_rows <= 1 << 20 for i in range(f.num_row_groups))
    assert f.metadata.num_rows == result.counts["marks"]
    t = f.read().to_pandas()
    key = t[["urn", "upn", "date", "session"]]
    assert key.equals(key.sort_values(["urn", "upn", "date", "session"]).reset_index(drop=True))
    assert not key.duplicated().any()


def test_upns_valid_and_stable_across_years(ds):
    p = ds.pupils.assign(upn=ds.pupils["upn"].astype(str))
    assert p["upn"].map(stdnum_upn.is_valid).all()
    assert (p["upn"].str[1:4] == "380").all()
    assert p.groupby("upn")["date_of_birth"].nunique().max() == 1
    assert p.groupby("upn")["sex"].nunique().max() == 1
    # year groups go up by one from one year to the next
    order = {y: i for i, y in enumerate(YEARS)}
    g = p.assign(y=p["academic_year"].map(order), n=p["year_group"].map(_year_number))
    nxt = g.merge(g, on="upn", suffixes=("", "_next"))
    nxt = nxt[nxt["y_next"] == nxt["y"] + 1]
    assert len(nxt) > 1000
    assert (nxt["n_next"] == nxt["n"] + 1).all()


def _year_number(label: str) -> int:
    return (
        {"N1": -2, "N2": -1, "R": 0}.get(label, None) if label in ("N1", "N2", "R") else int(label)
    )


def test_date_of_birth_matches_year_group(ds):
    p = ds.pupils
    start = pd.to_datetime(p["academic_year"].str[:4] + "-08-31")
    age = (
        start.dt.year
        - p["date_of_birth"].dt.year
        - (
            (start.dt.month < p["date_of_birth"].dt.month)
            | (
                (start.dt.month == p["date_of_birth"].dt.month)
                & (start.dt.day < p["date_of_birth"].dt.day)
            )
        )
    )
    # age on 31 August before the year: reception 4, Year 1 5, ..., Year 11 15
    assert (age == p["year_group"].map(_year_number) + 4).all()
    assert set(p["year_group"]) >= {"R", *map(str, range(1, 12))}
    assert p["sen"].isin(["N", "K", "E"]).all() and p["sex"].isin(["F", "M"]).all()


def test_calendar_and_days_without_marks(ds, marks):
    cal = ds.calendar
    assert (
        len(cal) == 18
        and cal.groupby("academic_year")["half_term"]
        .apply(list)
        .map(lambda x: x == [1, 2, 3, 4, 5, 6])
        .all()
    )
    dates = pd.DatetimeIndex(marks["date"].unique())
    assert (dates.day_of_week < 5).all()
    hols = {pd.Timestamp(d) for y in range(2022, 2026) for d in bank_holidays(y)}
    assert not set(dates) & hols
    for ay, (start, end) in YEAR_BOUNDS.items():
        n = ((dates >= start) & (dates <= end)).sum()
        assert 185 <= n <= 196, (ay, n)
    # five INSET days (#) per school per year for a whole-year enrolment
    inset = marks[marks["code"] == "#"]
    per = inset.groupby(["urn", inset["date"].dt.year + (inset["date"].dt.month >= 9)])[
        "date"
    ].nunique()
    assert per.max() == 5 and per.median() == 5


# --- realism ---------------------------------------------------------------------------


def test_headline_rates_in_range(enrol_year):
    for ay, t in enrol_year.groupby("academic_year"):
        absence = (
            100
            * (t["sessions_authorised"] + t["sessions_unauthorised"]).sum()
            / t["sessions_possible"].sum()
        )
        pa_rate = 100 * t["persistent_absent"].mean()
        sa_rate = 100 * t["severe_absent"].mean()
        assert 6 <= absence <= 8.5, (ay, absence)
        assert 16 <= pa_rate <= 24, (ay, pa_rate)
        assert 0.8 <= sa_rate <= 3, (ay, sa_rate)


def test_gaps_between_groups(enrol_year):
    t = enrol_year
    pa = lambda mask: t.loc[mask, "persistent_absent"].mean()  # noqa: E731
    ratio = pa(t["fsm"]) / pa(~t["fsm"])
    assert 1.5 <= ratio <= 3.0, ratio
    assert pa(t["sen"] == "K") > 1.3 * pa(t["sen"] == "N")
    assert pa(t["sen"] == "E") > 1.3 * pa(t["sen"] == "N")
    assert pa(t["phase"] == "secondary") > 1.3 * pa(t["phase"] == "primary")


def test_social_worker_pupils_well_above_average(ds, enrol_year):
    s = ds.services
    t = enrol_year[enrol_year["academic_year"] == "2023/24"]
    y0, y1 = pd.Timestamp("2023-09-01"), pd.Timestamp("2024-08-31")
    open_in_year = s[(s["start_date"] <= y1) & (s["end_date"].isna() | (s["end_date"] >= y0))]
    sw = set(
        open_in_year.loc[open_in_year["service"].isin(["cin", "cpp", "cla"]), "upn"].astype(str)
    )
    with_sw = t[t["upn"].isin(sw)]
    assert len(with_sw) >= 30
    assert with_sw["persistent_absent"].mean() > 1.5 * t["persistent_absent"].mean()
    n = (ds.pupils["academic_year"] == "2023/24").sum()
    share = open_in_year.groupby("service")["upn"].nunique() / n
    assert 0.015 <= share["cin"] <= 0.06 and 0.015 <= share["early_help"] <= 0.06
    assert 0.002 <= share["cpp"] <= 0.012 and 0.003 <= share["cla"] <= 0.015


def test_winter_illness_friday_and_end_of_term(marks, ds):
    m = marks[marks["group"] != int(Group.NOT_POSSIBLE)]
    month = m["date"].dt.month
    ill = m["code"] == "I"
    assert ill[month.isin([12, 1, 2])].mean() > 1.2 * ill[month.isin([9, 10, 3, 4, 5, 6])].mean()
    absent = m["group"].isin([int(Group.AUTHORISED), int(Group.UNAUTHORISED)])
    dow = m["date"].dt.day_of_week
    assert absent[dow == 4].mean() > 1.1 * absent[dow.isin([1, 2])].mean()
    last_days = set(ds.calendar["end_date"])
    assert absent[m["date"].isin(last_days)].mean() > 1.2 * absent.mean()


def test_term_time_holidays_next_to_breaks(marks, ds):
    days = np.sort(marks["date"].unique())
    ends = set(ds.calendar["end_date"])
    starts = set(ds.calendar["start_date"])
    idx = pd.Series(np.arange(len(days)), index=days)
    edge_idx = np.array(sorted(idx[[d for d in days if d in ends or d in starts]]))
    hol = marks[marks["code"].isin(["G", "H", "F"])]
    hol_idx = idx[hol["date"].to_numpy()].to_numpy()
    dist = np.abs(hol_idx[:, None] - edge_idx[None, :]).min(axis=1)
    assert (dist <= 10).mean() > 0.9
    assert (hol["code"] == "G").mean() > 0.8


def test_legacy_and_2024_codes_respect_the_changeover(marks):
    code = marks["code"].astype(str)
    legacy = marks.loc[code.isin(LEGACY), "date"]
    new = marks.loc[code.isin(NEW_2024), "date"]
    assert len(legacy) and len(new)
    assert legacy.max() < CODES_2024_FROM
    assert new.min() >= CODES_2024_FROM


def test_every_code_group_and_special_code_occurs(marks):
    assert set(marks["group"]) == {int(g) for g in Group}
    present = set(marks["code"].astype(str))
    assert {"D", "X", "#", "N", "C2", "E", "B", "K", "Z", "G", "H", "I", "O", "L", "U"} <= present
    assert set(CODE_GROUP) - present <= set(), set(CODE_GROUP) - present


def test_dual_registration_and_school_moves(marks, ds):
    d = marks[marks["code"] == "D"]
    assert len(d) > 0
    other = marks[marks["code"] != "D"][["upn", "date", "session", "urn"]]
    both = d[["upn", "date", "session", "urn"]].merge(
        other, on=["upn", "date", "session"], suffixes=("", "_other")
    )
    assert len(both) == len(d)  # every D session is recorded at the other school
    ap = set(ds.schools.loc[ds.schools["phase"] == "alternative_provision", "urn"])
    assert set(both["urn_other"]) <= ap
    ms = marks[marks["code"] != "D"]
    ms = ms.assign(ay=ms["date"].dt.year - (ms["date"].dt.month < 9))
    per = ms.groupby(["upn", "ay"], observed=True)["urn"].nunique()
    assert (per >= 2).sum() >= 20


def test_year6_transfers_to_secondary(ds):
    p = ds.pupils.assign(upn=ds.pupils["upn"].astype(str)).merge(
        ds.schools[["urn", "phase"]], on="urn"
    )
    y6 = p[(p["academic_year"] == "2022/23") & (p["year_group"] == "6") & (p["phase"] == "primary")]
    y7 = p[(p["academic_year"] == "2023/24") & (p["year_group"] == "7")]
    moved = y6[["upn"]].merge(y7[["upn", "phase"]], on="upn")
    assert len(moved) > 100
    assert (moved["phase"] == "secondary").mean() > 0.95


def test_ks2_falls_with_attendance_and_has_unmatched(ds):
    k = ds.ks2.assign(upn=ds.ks2["upn"].astype(str))
    frames = []
    for ay, (start, _end) in YEAR_BOUNDS.items():
        spring_end = ds.calendar.query("academic_year == @ay and half_term == 4")["end_date"].iloc[
            0
        ]
        t = summarise(ds.marks, start, spring_end, by="pupil").table
        frames.append(t.assign(academic_year=ay, upn=t["upn"].astype(str)))
    att = pd.concat(frames)[["upn", "academic_year", "attendance_pct"]]
    k = k.merge(att, on=["upn", "academic_year"], how="left")
    unmatched = k["attendance_pct"].isna().mean()
    assert 0.003 <= unmatched <= 0.03
    high = k.loc[k["attendance_pct"] >= 95, "rwm_expected"].mean()
    low = k.loc[k["attendance_pct"] < 85, "rwm_expected"].mean()
    assert 0.6 <= high <= 0.85 and 0.1 <= low <= 0.45 and high - low > 0.25
    assert 0.5 <= k["rwm_expected"].mean() <= 0.7
    k4 = ds.ks4.assign(upn=ds.ks4["upn"].astype(str)).merge(att, on=["upn", "academic_year"])
    assert (
        k4.loc[k4["attendance_pct"] >= 95, "attainment8"].mean()
        > k4.loc[k4["attendance_pct"] < 85, "attainment8"].mean() + 10
    )


# --- interventions and the truth -------------------------------------------------------


def test_interventions_follow_the_selection_rules(ds, marks):
    iv = ds.interventions.assign(upn=ds.interventions["upn"].astype(str))
    assert iv["intervention_id"].is_unique
    assert set(iv["officer"]) == set(ds.schools["officer"])
    assert set(iv["source"]) == {"data", "panel"}
    assert set(iv["panel"].dropna()) <= {
        "MARAC",
        "Breaking the Cycle",
        "Anti-Social Behaviour Panel",
    }
    # the review ends on the 60th school day (weekday inside a half term) from the start
    school = school_days(Calendar(ds.calendar))
    i = np.searchsorted(school, iv["start_date"].to_numpy().astype("datetime64[D]"))
    inside = i + 59 < len(school)
    ends = pd.to_datetime(school[i[inside] + 59])
    assert (iv.loc[inside, "review_date"].to_numpy() == ends.to_numpy()).all()
    base_start = pd.Series(pd.to_datetime(school[np.maximum(i - 60, 0)]), index=iv.index)
    assert iv["upn"].is_unique
    # at least a handful per officer per half term
    cal = ds.calendar
    ht = pd.cut(
        iv["start_date"],
        pd.DatetimeIndex(sorted(cal["start_date"]) + [cal["end_date"].max()]),
        right=False,
        labels=False,
    )
    assert iv.groupby([ht, "officer"]).size().min() >= 5
    # data-sourced: persistently absent over the 60 school days before, no open service
    m = marks.assign(upn=marks["upn"].astype(str))
    daily = (
        m.assign(pos=m["group"] < 4, ab=m["group"].isin([2, 3]))
        .groupby(["upn", "date"], observed=True)[["pos", "ab"]]
        .sum()
        .reset_index()
    )
    j = iv.assign(base_start=base_start).merge(daily, on="upn")
    base = j[(j["date"] >= j["base_start"]) & (j["date"] < j["start_date"])]
    rate = base.groupby("intervention_id")[["pos", "ab"]].sum()
    rate = rate["ab"] / rate["pos"]
    data_ids = iv.loc[iv["source"] == "data", "intervention_id"]
    assert (rate[data_ids] >= 0.10).all()
    s = ds.services.assign(upn=ds.services["upn"].astype(str)).merge(iv, on="upn")
    open_then = s[
        (s["start_date_x"] <= s["start_date_y"])
        & (s["end_date"].isna() | (s["end_date"] >= s["start_date_y"]))
    ]
    assert not set(open_then["intervention_id"]) & set(data_ids)


def test_truth_file_and_realised_effect(la):
    truth = json.loads((la[0] / "synth_truth.json").read_text())
    eff = truth["intervention_effect"]
    assert truth["seed"] == 20240901 and truth["parameters"]["true_effect_pp"] == 4.0
    assert eff["true_effect_pp"] == 4.0
    assert abs(eff["realised_effect_pp"] - 4.0) < 1.0
    assert eff["interventions_measured"] > 100


def test_each_interventions_effect_is_returned(la):
    effects = la[1].effects
    truth = la[1].truth["intervention_effect"]
    assert len(effects) == la[1].counts["interventions"]
    assert effects["effect_pp"].mean() == pytest.approx(truth["realised_effect_pp"], abs=1e-3)
    assert (effects["sessions_gained"] <= effects["review_possible"]).all()


def test_propensity_selection_chooses_on_the_underlying_propensity(tmp_path):
    r = generate(tmp_path, selection="propensity", **SMALL)
    assert r.truth["parameters"]["selection"] == "propensity"
    iv = load_dataset(tmp_path).interventions
    assert iv["upn"].astype(str).is_unique and len(iv) > 100
    with pytest.raises(ValueError, match="selection"):
        generate(tmp_path / "x", selection="guess", **SMALL)


def test_zero_effect_changes_nothing(tmp_path):
    r = generate(tmp_path, true_effect_pp=0.0, **SMALL)
    assert r.truth["intervention_effect"]["realised_effect_pp"] == 0.0


def test_benchmarks_are_published_figures_with_sources(ds):
    b = ds.benchmarks
    assert {"National"} <= set(b["geographic_level"])
    assert b["time_period"].astype(str).str.fullmatch(r"\d{6}").all()
    assert "source" in b.columns and b["source"].notna().all()
    eng = b[
        (b["geographic_level"] == "National")
        & (b["time_period"].astype(str) == "202122")
        & (b["time_identifier"] == "Academic year")
    ]
    assert eng["sess_overall_percent"].iloc[0] == 7.6  # DfE 2021/22, quoted in seed 002
