"""The DfE cohort: AP and PRUs on their own line, and every enrolment given an age if it can be.

Fixture (2023/24; ages on 31 August 2023), one school of each kind: PRIMARY (urn 1),
SECONDARY (urn 2), PRU (urn 3, phase alternative_provision). Each enrolment has 10 possible
sessions in half term 1 and, where shown, 10 in half term 6.

=====  ==========================================  ===========================================
pupil  pupils.csv                                  2023/24 in the DfE cohort?
=====  ==========================================  ===========================================
A      2022/23, Year 6, no date of birth            yes: Year 7 (shifted one year), HT1 1 O
B      2024/25, Year 11, no date of birth           yes: Year 10, keeps HT6 (10 O)
C      2022/23, born 2008-01-10                     yes: aged 15, HT6 (10 O) left out
D      2022/23, Year 14, no date of birth           unknown: Year 14 cannot move up a year
E      none                                         unknown: no row in any year
F      2023/24, Year 9 (own row), at the PRU        on the AP line, not in the headline
=====  ==========================================  ===========================================

Headline: A (1/10 absent), B (10/20), C (0/10 after HT6 is left out): 3 enrolments,
40 possible, 11 absent; persistent A and B (2 of 3), severe B (1 of 3, 10/20 = 50%).
AP line: F, 5 of 10 absent: persistent and severe.
"""

from __future__ import annotations

import pandas as pd
import pytest

from attendance_lib.analyses.shared import dfe_cohort

YEAR = "2023/24"
SCHOOLS = pd.DataFrame(
    {"urn": [1, 2, 3], "phase": ["primary", "secondary", "alternative_provision"]}
)


def _row(upn, year, year_group, dob=None):
    return {
        "upn": upn,
        "academic_year": year,
        "year_group": year_group,
        "date_of_birth": pd.Timestamp(dob) if dob else pd.NaT,
    }


PUPILS = pd.DataFrame(
    [
        _row("A", "2022/23", "6"),
        _row("B", "2024/25", "11"),
        _row("C", "2022/23", "10", "2008-01-10"),
        _row("D", "2022/23", "14"),
        _row("F", YEAR, "9"),
    ]
)


def _cube_rows(upn, urn, ht, present, absent):
    return [
        {"upn": upn, "urn": urn, "academic_year": YEAR, "half_term": ht, "code": "/", "sessions": present},
        {"upn": upn, "urn": urn, "academic_year": YEAR, "half_term": ht, "code": "O", "sessions": absent},
    ]  # fmt: skip


CUBE = pd.DataFrame(
    [
        *_cube_rows("A", 1, 1, 9, 1),
        *_cube_rows("B", 2, 1, 10, 0),
        *_cube_rows("B", 2, 6, 0, 10),
        *_cube_rows("C", 2, 1, 10, 0),
        *_cube_rows("C", 2, 6, 0, 10),
        *_cube_rows("D", 2, 1, 10, 0),
        *_cube_rows("E", 1, 1, 10, 0),
        *_cube_rows("F", 3, 1, 5, 5),
    ]
)


def test_nearest_year_rows_shift_the_year_group():
    keys = pd.DataFrame({"upn": ["A", "B", "C", "D", "E", "F"], "academic_year": YEAR})
    rows = dfe_cohort.nearest_year_rows(PUPILS, keys).set_index("upn")
    assert rows.loc["A", "year_group"] == "7" and rows.loc["A", "from_year"] == "2022/23"
    assert rows.loc["B", "year_group"] == "10" and rows.loc["B", "from_year"] == "2024/25"
    assert rows.loc["C", "date_of_birth"] == pd.Timestamp("2008-01-10")
    assert pd.isna(rows.loc["D", "year_group"])  # off the end of N1 .. 14
    assert "E" not in rows.index and "F" not in rows.index  # none at all / has its own row


def test_nearest_year_tie_takes_the_earlier_year_and_reception_moves_to_year_1():
    pupils = pd.DataFrame([_row("G", "2022/23", "R"), _row("G", "2024/25", "3")])
    keys = pd.DataFrame({"upn": ["G"], "academic_year": [YEAR]})
    row = dfe_cohort.nearest_year_rows(pupils, keys).iloc[0]
    assert row["from_year"] == "2022/23" and row["year_group"] == "1"


def test_ap_out_of_the_headline_and_on_its_own_line():
    period = dfe_cohort.period_enrolments(CUBE, PUPILS, YEAR, 6, schools=SCHOOLS)
    t = period.table.set_index("upn")
    assert sorted(t.index) == ["A", "B", "C"]
    assert t["sessions_possible"].sum() == 40
    assert t[["sessions_unauthorised"]].sum().item() == 11
    assert t.loc["B", "sessions_possible"] == 20  # Year 10 by shifted year group: keeps HT6
    assert t.loc["C", "sessions_possible"] == 10  # aged 15 by date of birth: HT6 left out
    assert t["persistent_absent"].sum() == 2 and t["severe_absent"].sum() == 1
    assert period.ap["upn"].tolist() == ["F"]
    assert period.ap["severe_absent"].tolist() == [True]
    excluded = period.excluded.set_index("reason")["enrolments"]
    assert excluded[dfe_cohort.ALTERNATIVE_PROVISION] == 1
    assert excluded[dfe_cohort.NO_PUPIL_RECORD] == 2  # D and E, counted on the page
    assert excluded[dfe_cohort.OUTSIDE_AGE] == 0
    assert period.age_from_nearest_year == 3  # A, B and C
    assert "3 enrolments had no pupil record" in dfe_cohort.describe_nearest_year(period)


def test_without_schools_or_with_every_enrolment_ap_stays_in():
    no_schools = dfe_cohort.period_enrolments(CUBE, PUPILS, YEAR, 6)
    assert "F" in set(no_schools.table["upn"]) and no_schools.ap.empty
    every = dfe_cohort.period_enrolments(CUBE, PUPILS, YEAR, 6, cohort="all", schools=SCHOOLS)
    assert len(every.table) == 6 and every.ap.empty


@pytest.mark.parametrize("upn", ["D", "E"])
def test_unknown_age_is_counted_not_guessed(upn):
    period = dfe_cohort.period_enrolments(CUBE[CUBE["upn"] == upn], PUPILS, YEAR, 6)
    assert period.table.empty
    assert period.excluded.set_index("reason").loc[dfe_cohort.NO_PUPIL_RECORD, "enrolments"] == 1


def test_nearest_year_additions_are_what_with_nearest_years_adds():
    keys = pd.DataFrame({"upn": ["A", "B", "C", "D", "E", "F"], "academic_year": YEAR})
    added = dfe_cohort.nearest_year_additions(PUPILS, keys).set_index("upn")
    # D's Year 14 cannot move up and it has no date of birth; E has no row; F has its own
    assert sorted(added.index) == ["A", "B", "C"] and set(added["academic_year"]) == {YEAR}
    assert added.loc["A", "year_group"] == "7" and added.loc["B", "year_group"] == "10"
    assert added.loc["C", "date_of_birth"] == pd.Timestamp("2008-01-10")
    filled = dfe_cohort.with_nearest_years(PUPILS, keys)
    assert len(filled) == len(PUPILS) + 3
    assert dfe_cohort.with_nearest_years(PUPILS, keys[keys["upn"] == "F"]) is PUPILS


def test_year_status_is_the_whole_tables_status_for_that_year():
    pupils = pd.concat([PUPILS, pd.DataFrame([_row("G", YEAR, "R", "2019-05-01")])])
    whole = dfe_cohort.cohort_status(pupils)
    status = dfe_cohort.year_status(pupils, YEAR)
    assert status.academic_year == YEAR
    pd.testing.assert_frame_equal(status.table, whole[whole["academic_year"] == YEAR])


def test_a_status_of_another_year_is_refused():
    # its missing rows would be taken for pupils without a record: a silent wrong figure
    status = dfe_cohort.year_status(PUPILS, "2022/23")
    with pytest.raises(
        ValueError, match="the cohort status is for 2022/23; the cube holds 2023/24"
    ):
        dfe_cohort.period_enrolments(CUBE, PUPILS, YEAR, 6, status=status)


@pytest.mark.parametrize("schools", [None, SCHOOLS])
def test_a_status_worked_out_beforehand_gives_the_same_period(schools):
    # only F has a row of its own in 2023/24: A, B and C take their nearest year's, D and E
    # stay unknown, so every path of apply_cohort is taken with and without the status
    status = dfe_cohort.year_status(PUPILS, YEAR)
    plain = dfe_cohort.period_enrolments(CUBE, PUPILS, YEAR, 6, schools=schools)
    given = dfe_cohort.period_enrolments(CUBE, PUPILS, YEAR, 6, schools=schools, status=status)
    for part in ("table", "cube", "excluded", "ap"):
        pd.testing.assert_frame_equal(getattr(given, part), getattr(plain, part))
    assert given.age_from_nearest_year == plain.age_from_nearest_year == 3


def test_pair_codes_number_distinct_pairs_in_order_of_first_appearance():
    from attendance_lib.analyses.shared.dfe_cohort import pair_codes

    a = pd.Series(pd.Categorical(["x", "y", "x", "x", None, "y"]))
    b = pd.Series(["2023/24", "2023/24", "2023/24", "2024/25", "2023/24", "2023/24"])
    codes, (left, right) = pair_codes(a, b)
    assert codes.tolist() == [0, 1, 0, 2, 3, 1]
    assert list(left[:3]) == ["x", "y", "x"] and pd.isna(left[3])
    assert list(right) == ["2023/24", "2023/24", "2024/25", "2023/24"]
