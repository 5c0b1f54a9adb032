"""The small edges that decide a published figure, each pinned by a test that a planted bug fails.

Issue 18 planted these bugs one at a time and the whole suite still passed:

- ``publish_table`` ignoring ``suppress_below`` (``present/notebook.py``);
- the privacy gate's UPN pattern missing lower-case temporary UPNs (``runner/privacy.py``);
- the DfE cohort including pupils aged 16, or leaving out pupils aged 5
  (``analyses/shared/dfe_cohort.py``);
- a 31 August birthday counted as not yet had (``core/academic_calendar.py``).

Each test below fails with the matching bug planted (docs/testing.md, "Planted bugs").
The fixture LA (``test_fixture_la.py``) checks the same edges end to end.
"""

from __future__ import annotations

import pandas as pd
import pytest
from builders import make_upn

from attendance_lib.analyses.shared import dfe_cohort
from attendance_lib.core.academic_calendar import age_on_31_august
from attendance_lib.present import notebook as present
from attendance_lib.runner import privacy

# --------------------------------------------------------------------------------------
# Ages on 31 August (the DfE basis): the birthday on 31 August itself has been had
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dob, year, age",
    [
        ("2018-08-31", "2023/24", 5),  # fifth birthday on the reference day itself
        ("2018-09-01", "2023/24", 4),  # one day later: still 4 on 31 August 2023
        ("2018-08-30", "2023/24", 5),
        ("2007-08-31", "2023/24", 16),
        ("2007-09-01", "2023/24", 15),  # Year 11 in 2023/24
        ("2008-08-31", "2024/25", 16),
        ("2008-02-29", "2024/25", 16),  # leap-day birthday: had by 31 August
    ],
)
def test_age_on_31_august_counts_the_birthday_on_the_day(dob: str, year: str, age: int) -> None:
    got = age_on_31_august(pd.Series(pd.to_datetime([dob])), year)
    assert int(got.iloc[0]) == age


def test_ages_are_whole_numbers_and_missing_without_a_date_of_birth() -> None:
    got = age_on_31_august(pd.Series(pd.to_datetime(["2018-08-31", None])), "2023/24")
    assert str(got.dtype) == "Int64"
    assert got.iloc[0] == 5 and got.iloc[1] is pd.NA


@pytest.mark.parametrize(
    "date, year",
    [
        ("2023-08-31", "2022/23"),
        ("2023-09-01", "2023/24"),  # 1 September opens the academic year
        ("2023-09-30", "2023/24"),
        ("2023-10-01", "2023/24"),
        ("2024-01-01", "2023/24"),
    ],
)
def test_the_academic_year_runs_from_1_september_to_31_august(date: str, year: str) -> None:
    from attendance_lib.core.academic_calendar import academic_year_of

    assert academic_year_of(date) == year


# --------------------------------------------------------------------------------------
# The DfE cohort: aged 5 to 15 on 31 August, both ends included
# --------------------------------------------------------------------------------------


def _status(rows: list[tuple[str, str, str | None]]) -> pd.DataFrame:
    pupils = pd.DataFrame(
        {
            "upn": [make_upn(i) for i in range(len(rows))],
            "academic_year": [r[0] for r in rows],
            "year_group": [r[1] for r in rows],
            "date_of_birth": pd.to_datetime([r[2] for r in rows]),
        }
    )
    return dfe_cohort.cohort_status(pupils).set_index("upn")


def test_dfe_cohort_keeps_ages_5_and_15_and_leaves_out_4_and_16() -> None:
    rows = [
        ("2024/25", "1", "2019-08-31"),  # 5 on 31 Aug 2024 (birthday on the day): in
        ("2024/25", "R", "2019-09-01"),  # 4: out
        ("2024/25", "11", "2009-06-15"),  # 15: in, sixth half term dropped
        ("2024/25", "12", "2008-08-31"),  # 16 (birthday on the day): out
        ("2024/25", "11", "2008-09-01"),  # 15 (born a day later): in, Year 11
        ("2024/25", "6", "2013-12-01"),  # 10: in, sixth half term kept
    ]
    status = _status(rows)
    assert status["age"].tolist() == [5, 4, 15, 16, 15, 10]
    assert status["in_cohort"].tolist() == [True, False, True, False, True, True]
    assert status["drop_last_half_term"].tolist() == [False, False, True, False, True, False]


@pytest.mark.parametrize(
    "year_group, in_cohort, drop",
    [("R", False, False), ("1", True, False), ("11", True, True), ("12", False, False)],
)
def test_dfe_cohort_without_a_date_of_birth_uses_nc_years_1_to_11(
    year_group: str, in_cohort: bool, drop: bool
) -> None:
    status = _status([("2024/25", year_group, None)])
    assert bool(status["in_cohort"].iloc[0]) is in_cohort
    assert bool(status["drop_last_half_term"].iloc[0]) is drop
    assert status["basis"].iloc[0] == "NC year"


# --------------------------------------------------------------------------------------
# publish_table honours its own suppress_below
# --------------------------------------------------------------------------------------


@pytest.fixture
def shown(monkeypatch) -> list[dict]:
    captured: list[dict] = []
    monkeypatch.setattr(present, "display", lambda obj, raw=False: captured.append(obj))
    return captured


def test_publish_table_suppresses_below_its_own_threshold(shown: list[dict]) -> None:
    table = pd.DataFrame(
        {"group": ["A", "B", "C"], "pupils": [12, 7, 4], "absence_pct": [8.25, 14.0, 20.0]}
    )
    kwargs = dict(caption="By group", counts=["pupils"], rates=["absence_pct"])
    published = present.publish_table(
        table, "t10", denominator="pupils", suppress_below=10, **kwargs
    )
    # threshold 10: 7 and 4 pupils are both c, and so are their rates; 12 is shown
    assert published["pupils"].tolist() == [12, "c", "c"]
    assert published["absence_pct"].tolist() == [8.3, "c", "c"]
    assert "a count of 1 to 9" in shown[-1]["text/html"]
    # the default threshold (5) would have shown the 7
    default = present.publish_table(table, "t5", denominator="pupils", **kwargs)
    assert default["pupils"].tolist() == [12, 7, "c"]
    assert default["absence_pct"].tolist() == [8.3, 14.0, "c"]


# --------------------------------------------------------------------------------------
# The privacy gate finds temporary UPNs in any case
# --------------------------------------------------------------------------------------

#: A temporary UPN ends in a letter. The check letter is deliberately wrong in some: the shape
#: alone must be enough (a mistyped UPN is still an identifier).
TEMPORARY = [
    "A12345678901b",  # lower-case final letter
    "a12345678901B",  # lower-case first letter
    "a12345678901b",  # all lower case
    "z38000001234q",
]


@pytest.mark.parametrize("upn", TEMPORARY)
def test_privacy_gate_finds_lower_case_temporary_upns(upn: str) -> None:
    assert privacy.find_upns(upn) == [upn]
    assert privacy.find_upns(f"pupil {upn} moved school") == [upn]
    assert privacy.find_upns(f"{upn}   12   3.4", join=False) == [upn]


def test_privacy_gate_refuses_a_table_holding_a_lower_case_temporary_upn(tmp_path) -> None:
    (tmp_path / "tables").mkdir()
    pd.DataFrame({"group": ["all", "x"], "note": ["fine", "see a12345678901b"]}).to_csv(
        tmp_path / "tables" / "t.csv", index=False
    )
    findings = privacy.check_folder(tmp_path)
    assert [f.kind for f in findings] == ["upn"]
    assert "t.csv" in findings[0].where


# --------------------------------------------------------------------------------------
# format_pct rounds half up at the places asked for (a mutant rounding to one place survived)
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, decimals, text",
    [(1.005, 2, "1.01%"), (1.45, 0, "1%"), (2.5, 0, "3%"), (6.25, 1, "6.3%")],
)
def test_format_pct_rounds_half_up_at_its_own_decimals(
    value: float, decimals: int, text: str
) -> None:
    from attendance_lib.core.numbers import format_pct

    assert format_pct(value, decimals) == text


def test_an_unknown_term_is_a_usage_error_naming_the_terms() -> None:
    from builders import CALENDAR_2023_24

    from attendance_lib.core.academic_calendar import Calendar
    from attendance_lib.core.errors import UsageError

    table = pd.DataFrame(CALENDAR_2023_24).astype(
        {"start_date": "datetime64[ns]", "end_date": "datetime64[ns]"}
    )
    calendar = Calendar(table)
    assert calendar.term_bounds("2023/24", "spring") == (
        pd.Timestamp("2024-01-03"),
        pd.Timestamp("2024-03-28"),
    )
    message = "term must be one of autumn, spring, summer, year, got 'winter'"
    for call in (calendar.term_bounds, calendar.to_end_of):
        with pytest.raises(UsageError) as exc:
            call("2023/24", "winter")
        assert str(exc.value) == message


# --------------------------------------------------------------------------------------
# Custom band edges: every band's edges exactly (mutants of from_edges survived)
# --------------------------------------------------------------------------------------


def test_custom_band_edges_exactly() -> None:
    from attendance_lib.engine.bands import Band, from_edges

    bands = from_edges([100, 0.5])
    assert bands.name == "custom"
    assert bands.bands == (
        Band("100%", 100, 100, True, True),
        Band("0.5 to <100%", 0.5, 100, True, False),
        Band("<0.5%", 0, 0.5, True, False),
    )


@pytest.mark.parametrize(
    "edges, message",
    [
        (["ninety"], "band edges must be numbers, got ['ninety']"),
        ([100.5], "band edges must lie in (0, 100], got [100.5]"),
        ([0], "band edges must lie in (0, 100], got [0]"),
        ([], "band edges must lie in (0, 100], got []"),
    ],
)
def test_bad_band_edges_are_usage_errors_naming_them(edges: list, message: str) -> None:
    from attendance_lib.core.errors import UsageError
    from attendance_lib.engine.bands import from_edges

    with pytest.raises(UsageError) as exc:
        from_edges(edges)
    assert str(exc.value) == message


def test_assign_bands_missing_values_and_messages() -> None:
    from attendance_lib.core.errors import UsageError
    from attendance_lib.engine.bands import assign, resolve_bands

    got = assign([95.0, None, 84.9], "cbc")
    assert got[0] == "95 to <100%" and pd.isna(got[1]) and got[2] == "<85%"
    with pytest.raises(ValueError) as exc:
        assign([101.0], "cbc")
    assert str(exc.value) == "attendance percentages must lie between 0 and 100"
    with pytest.raises(UsageError) as exc:
        resolve_bands("cbd")
    assert str(exc.value) == (
        "unknown bands preset 'cbd'; expected one of cbc, dfe_5pp, five_categories "
        "or a list of edges such as [100, 95, 90, 85]"
    )


def test_half_term_of_and_in_calendar_at_the_edges() -> None:
    import numpy as np
    from builders import CALENDAR_2023_24

    from attendance_lib.core.academic_calendar import Calendar

    table = pd.DataFrame(CALENDAR_2023_24).astype(
        {"start_date": "datetime64[ns]", "end_date": "datetime64[ns]"}
    )
    calendar = Calendar(table)
    # before the first half term, its first and last days, a holiday, the last day of the year
    dates = ["2023-09-03", "2023-09-04", "2023-10-20", "2023-10-23", "2024-07-19", "2024-07-22"]
    got = calendar.half_term_of(dates)
    assert str(got["half_term"].dtype) == "Int64"
    assert got["half_term"].tolist() == [pd.NA, 1, 1, pd.NA, 6, pd.NA]
    years = [None if pd.isna(y) else y for y in got["academic_year"]]
    assert years == [None, "2023/24", "2023/24", None, "2023/24", None]
    inside = calendar.in_calendar(pd.to_datetime(dates).to_numpy())
    assert inside.tolist() == [False, True, True, False, True, False]
    empty = Calendar(table.iloc[0:0])
    none = empty.half_term_of(dates[:2])
    assert str(none["half_term"].dtype) == "Int64" and none["half_term"].isna().all()
    assert list(none.columns) == ["academic_year", "half_term"]
    assert empty.in_calendar(np.array(dates[:2], dtype="datetime64[ns]")).tolist() == [False, False]
    assert empty.in_calendar(np.array(dates[:2], dtype="datetime64[ns]")).dtype == bool  # a mask


@pytest.mark.parametrize("text", ["2023/25", "2023-24", "23/24", "2023/2024"])
def test_an_academic_year_not_written_2023_24_is_a_usage_error(text: str) -> None:
    from attendance_lib.core.academic_calendar import parse_academic_year
    from attendance_lib.core.errors import UsageError

    with pytest.raises(UsageError, match=f"^academic year must look like 2023/24, got '{text}'$"):
        parse_academic_year(text)
    assert parse_academic_year(" 2099/00 ") == 2099


def test_half_term_bounds_and_half_terms_across_two_academic_years() -> None:
    from builders import CALENDAR_2023_24

    from attendance_lib.core.academic_calendar import Calendar
    from attendance_lib.core.errors import UsageError

    summer_2023 = {
        "academic_year": "2022/23",
        "half_term": 6,
        "start_date": "2023-06-05",
        "end_date": "2023-07-21",
    }
    table = pd.DataFrame([summer_2023, *CALENDAR_2023_24]).astype(
        {"start_date": "datetime64[ns]", "end_date": "datetime64[ns]"}
    )
    calendar = Calendar(table)
    assert calendar.half_term_bounds("2023/24", 3) == (
        pd.Timestamp("2024-01-03"),
        pd.Timestamp("2024-02-09"),
    )
    assert calendar.half_term_bounds("2022/23", 6)[1] == pd.Timestamp("2023-07-21")
    with pytest.raises(UsageError, match=r"^half term 5 of 2022/23 is not in calendar.csv$"):
        calendar.half_term_bounds("2022/23", 5)
    with pytest.raises(
        UsageError,
        match=r"^academic year 2021/22 is not in calendar.csv \(it has 2022/23, 2023/24\)$",
    ):
        calendar.half_term_bounds("2021/22", 1)
    with pytest.raises(UsageError, match=r"\(it has no years\)$"):
        Calendar(table.iloc[0:0]).year_bounds("2023/24")
    with pytest.raises(UsageError, match=r"^half terms 7-8 of 2023/24 are not in calendar.csv$"):
        calendar.span("2023/24", 7, 8)
    # the last half term of one year and the first of the next: each keeps its own year,
    # whatever the order of the rows in calendar.csv
    for cal in (calendar, Calendar(table.iloc[::-1])):
        got = cal.half_term_of(["2023-06-05", "2023-07-21", "2023-09-04"])
        assert got["academic_year"].tolist() == ["2022/23", "2022/23", "2023/24"]
        assert got["half_term"].tolist() == [6, 6, 1]


def test_dfe_cohort_goes_by_date_of_birth_when_the_year_group_disagrees() -> None:
    rows = [
        ("2024/25", "R", "2019-08-31"),  # 5 but kept in Reception: in, by age
        ("2024/25", "11", "2008-08-31"),  # 16 but recorded in Year 11: out, by age
        ("2024/25", "10", "2009-06-15"),  # 15 but recorded in Year 10: sixth half term dropped
        ("2024/25", "12", "2009-09-01"),  # 14 but recorded in Year 12: in
    ]
    status = _status(rows)
    assert status["in_cohort"].tolist() == [True, False, True, True]
    assert status["drop_last_half_term"].tolist() == [False, False, True, False]
    assert set(status["basis"]) == {"date of birth"}
    assert status["academic_year"].tolist() == ["2024/25"] * 4
