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
    assert list(filled.index) == list(range(len(PUPILS) + 3))  # one label per row
    # the pupils' own rows keep their dates of birth: C's row of 2022/23 and its copy
    c = filled[filled["upn"] == "C"].set_index("academic_year")["date_of_birth"]
    assert c.to_dict() == {"2022/23": pd.Timestamp("2008-01-10"), YEAR: pd.Timestamp("2008-01-10")}
    # without a date_of_birth column the filled table has one, missing throughout
    no_dob = dfe_cohort.with_nearest_years(PUPILS.drop(columns="date_of_birth"), keys)
    assert len(no_dob) == len(PUPILS) + 3 and no_dob["date_of_birth"].isna().all()
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
    # a cube of two years names both
    two_years = pd.concat([CUBE, CUBE.assign(academic_year="2022/23")], ignore_index=True)
    with pytest.raises(ValueError) as info:
        dfe_cohort.apply_cohort(two_years, PUPILS, status=status)
    assert str(info.value) == "the cohort status is for 2022/23; the cube holds 2022/23, 2023/24"


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


def test_describe_cohort_says_on_the_page_which_enrolments_count() -> None:
    assert dfe_cohort.describe_cohort("dfe") == (
        "DfE-comparable cohort: enrolments of pupils aged 5 to 15 on 31 August before the "
        "academic year (by date of birth where given, otherwise National Curriculum years "
        "1 to 11), with the sixth half term left out for 15-year-olds (Year 11); "
        "alternative provision and pupil referral units are reported on their own line, "
        "not in the headline; an enrolment with no pupil record for its year takes the "
        "pupil's age from their nearest year's row; enrolments with no possible session "
        "are left out and counted."
    )
    assert dfe_cohort.describe_cohort("all") == (
        "All enrolments with register marks, of any age (not comparable with DfE figures); "
        "enrolments with no possible session are left out and counted."
    )


@pytest.mark.parametrize("call", [dfe_cohort.describe_cohort, dfe_cohort.check_cohort])
def test_an_unknown_cohort_is_refused_with_the_choices(call) -> None:
    from attendance_lib.core.errors import UsageError

    with pytest.raises(UsageError) as caught:
        call("everyone")
    assert str(caught.value) == "cohort must be one of dfe, all, got 'everyone'"


@pytest.mark.parametrize("term, last", [("autumn", 2), ("spring", 4), ("summer", 6), ("year", 6)])
def test_last_half_term_of_the_year_to_the_end_of_each_term(term: str, last: int) -> None:
    assert dfe_cohort.last_half_term(term) == last


def test_an_unknown_term_is_refused_with_the_choices() -> None:
    from attendance_lib.core.errors import UsageError

    with pytest.raises(UsageError) as caught:
        dfe_cohort.last_half_term("winter")
    assert str(caught.value) == "term must be one of autumn, spring, summer, year, got 'winter'"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_alternative_provision_is_found_by_the_schools_phase() -> None:
    urns = pd.Series([1, 3, 3, 2])
    assert dfe_cohort.is_alternative_provision(urns, SCHOOLS).tolist() == [
        False,
        True,
        True,
        False,
    ]
    as_text = SCHOOLS.astype({"urn": str})  # urns read as text still match
    assert dfe_cohort.is_alternative_provision(urns, as_text).tolist() == [False, True, True, False]
    for schools in (None, SCHOOLS.drop(columns="phase")):
        found = dfe_cohort.is_alternative_provision(urns, schools)
        assert found.dtype == bool and found.tolist() == [False] * 4


def test_with_ap_adds_the_ap_line_to_the_headline_for_school_tables() -> None:
    period = dfe_cohort.period_enrolments(CUBE, PUPILS, YEAR, 6, schools=SCHOOLS)
    both = period.with_ap
    assert both["upn"].tolist() == ["A", "B", "C", "F"]
    assert both.index.tolist() == [0, 1, 2, 3]
    alone = dfe_cohort.period_enrolments(CUBE, PUPILS, YEAR, 6)
    assert alone.with_ap is alone.table


def test_describe_nearest_year_counts_in_words() -> None:
    def said(n: int) -> str:
        empty = pd.DataFrame()
        return dfe_cohort.describe_nearest_year(
            dfe_cohort.PeriodEnrolments(empty, empty, empty, age_from_nearest_year=n)
        )

    assert said(0) == ""
    assert said(1) == (
        "1 enrolment had no pupil record for the year; the pupil's age was taken from their "
        "nearest year's row (year group shifted)."
    )
    assert said(1234).startswith("1,234 enrolments had no pupil record for the year;")


def test_a_date_of_birth_decides_for_rows_of_their_own_and_rows_from_the_nearest_year() -> None:
    """G (own 2023/24 row) and H (row only in 2022/23) are aged 16 on 31 August 2023 by date
    of birth, though G is recorded in Year 11 and H's Year 10 moves up to Year 11: both are
    outside the cohort. The date of birth must survive the nearest-year filling for both."""
    pupils = pd.DataFrame(
        [_row("G", YEAR, "11", "2007-06-01"), _row("H", "2022/23", "10", "2007-05-01")]
    )
    cube = pd.DataFrame([*_cube_rows("G", 2, 1, 10, 0), *_cube_rows("H", 2, 1, 10, 0)])
    period = dfe_cohort.period_enrolments(cube, pupils, YEAR, 6)
    assert period.table.empty
    excluded = period.excluded.set_index("reason")["enrolments"]
    assert excluded[dfe_cohort.OUTSIDE_AGE] == 2
    assert excluded[dfe_cohort.NO_PUPIL_RECORD] == 0


def test_nearest_year_filling_works_without_a_date_of_birth_column() -> None:
    """J is in Year 6 in 2022/23 only (Year 7 in 2023/24: in); K is in Year 12 (out)."""
    pupils = pd.DataFrame(
        {"upn": ["J", "K"], "academic_year": ["2022/23", YEAR], "year_group": ["6", "12"]}
    )
    cube = pd.DataFrame([*_cube_rows("J", 1, 1, 8, 2), *_cube_rows("K", 2, 1, 10, 0)])
    period = dfe_cohort.period_enrolments(cube, pupils, YEAR, 6)
    assert period.table["upn"].tolist() == ["J"]
    assert period.table["sessions_unauthorised"].tolist() == [2]
    assert period.excluded.set_index("reason")["enrolments"][dfe_cohort.OUTSIDE_AGE] == 1
    assert period.age_from_nearest_year == 1


#: nearest_year_rows' columns, written out (not imported) so a changed column list fails.
NEAREST_YEAR_COLUMNS = ["upn", "academic_year", "year_group", "date_of_birth", "from_year"]


def test_nearest_year_rows_with_nothing_missing_is_empty_with_its_columns() -> None:
    keys = pd.DataFrame({"upn": ["F"], "academic_year": [YEAR]})
    rows = dfe_cohort.nearest_year_rows(PUPILS, keys)
    assert rows.empty
    assert list(rows.columns) == NEAREST_YEAR_COLUMNS


def test_nearest_year_rows_take_the_nearest_year_not_the_earliest_and_one_row_per_key() -> None:
    pupils = pd.DataFrame(
        [
            _row("M", "2019/20", "2"),  # 4 years before 2023/24
            _row("M", "2022/23", "5"),  # 1 year before: nearest
            _row("N", "2020/21", "1"),  # 3 years before
            _row("N", "2025/26", "8"),  # 2 years after: nearest
            _row("G", "2022/23", "R"),  # a tie: one year either side, the earlier wins
            _row("G", "2024/25", "3"),
        ]
    )
    keys = pd.DataFrame({"upn": ["M", "N", "G"], "academic_year": [YEAR] * 3})
    rows = dfe_cohort.nearest_year_rows(pupils, keys)
    assert list(rows.columns) == NEAREST_YEAR_COLUMNS
    assert rows.index.tolist() == [0, 1, 2]
    assert rows[["upn", "from_year", "year_group"]].values.tolist() == [
        ["G", "2022/23", "1"],
        ["M", "2022/23", "6"],
        ["N", "2025/26", "6"],
    ]


@pytest.mark.parametrize(
    "from_year, year_group, moved",
    [
        ("2024/25", "N2", "N1"),  # onto the first rung
        ("2022/23", "13", "14"),  # onto the last rung
        ("2024/25", "N1", None),  # off the bottom
        ("2022/23", "14", None),  # off the top
    ],
)
def test_nearest_year_rows_move_along_n1_to_14_and_no_further(
    from_year: str, year_group: str, moved: str | None
) -> None:
    pupils = pd.DataFrame([_row("L", from_year, year_group)])
    keys = pd.DataFrame({"upn": ["L"], "academic_year": [YEAR]})
    row = dfe_cohort.nearest_year_rows(pupils, keys).iloc[0]
    assert row["year_group"] == moved if moved else pd.isna(row["year_group"])


def test_a_nearest_year_row_takes_its_own_age_not_another_pupils_in_another_year() -> None:
    """X has a row only in 2022/23: born 2007-09-15, aged 15 on 31 August 2023 (in the
    cohort, sixth half term left out). P's row is for 2024/25. Filling X's 2023/24 row must
    not mix it up with P's row (a clash of row labels would age X a year: 16, left out)."""
    pupils = pd.DataFrame(
        [_row("P", "2024/25", "12", "2008-01-01"), _row("X", "2022/23", "10", "2007-09-15")]
    )
    cube = pd.DataFrame([*_cube_rows("X", 2, 1, 10, 0), *_cube_rows("X", 2, 6, 0, 10)])
    period = dfe_cohort.period_enrolments(cube, pupils, YEAR, 6)
    assert period.table["upn"].tolist() == ["X"]
    assert period.table["sessions_possible"].tolist() == [10]
    assert period.excluded.set_index("reason")["enrolments"][dfe_cohort.OUTSIDE_AGE] == 0


def test_a_period_with_no_marks_gives_an_empty_table_of_the_same_columns_and_types() -> None:
    full = dfe_cohort.period_enrolments(CUBE, PUPILS, YEAR, 6).table
    empty = dfe_cohort.period_enrolments(CUBE, PUPILS, "2019/20", 6).table
    assert empty.empty
    assert empty.dtypes.to_dict() == full.dtypes.to_dict()  # counts stay whole numbers


def test_a_cube_with_categorical_keys_and_int32_urns_gives_the_same_table() -> None:
    plain = dfe_cohort.period_enrolments(CUBE, PUPILS, YEAR, 6, schools=SCHOOLS)
    assert plain.table["academic_year"].tolist() == [YEAR] * 3
    assert list(plain.table.columns) == [
        "upn", "urn", "academic_year", "sessions_possible", "sessions_present", "sessions_aea",
        "sessions_authorised", "sessions_unauthorised", "attendance_pct", "absence_pct",
        "authorised_pct", "unauthorised_pct", "persistent_absent", "severe_absent",
    ]  # fmt: skip
    assert plain.table.index.tolist() == [0, 1, 2]
    categorical = CUBE.astype({"upn": "category", "academic_year": "category", "urn": "int32"})
    period = dfe_cohort.period_enrolments(categorical, PUPILS, YEAR, 6, schools=SCHOOLS)
    pd.testing.assert_frame_equal(period.table, plain.table)
    pd.testing.assert_frame_equal(period.ap, plain.ap)


def test_pair_codes_keep_a_missing_value_in_the_second_column_as_a_value() -> None:
    from attendance_lib.analyses.shared.dfe_cohort import pair_codes

    a = pd.Series(["x", "x", "y", "x"])
    b = pd.Series(["2023/24", None, "2023/24", None])
    codes, (left, right) = pair_codes(a, b)
    assert codes.tolist() == [0, 1, 2, 1]
    assert list(left) == ["x", "x", "y"]
    assert right[0] == "2023/24" and pd.isna(right[1]) and right[2] == "2023/24"


def test_alternative_provision_is_found_for_urns_given_as_text() -> None:
    urns = pd.Series(["1", "3", "3", "2"])
    assert dfe_cohort.is_alternative_provision(urns, SCHOOLS).tolist() == [
        False,
        True,
        True,
        False,
    ]


def test_apply_cohort_is_the_dfe_cohort_by_default_and_every_path_gives_the_same_excluded_form():
    kept, excluded, dropped_only = dfe_cohort.apply_cohort(CUBE, PUPILS)
    # the DfE cohort: A, B, C and F (D and E have no age); C's sixth half term left out
    assert sorted(set(kept["upn"])) == ["A", "B", "C", "F"]
    assert len(kept[kept["upn"] == "C"]) == 2 and set(
        kept.loc[kept["upn"] == "C", "half_term"]
    ) == {1}
    assert excluded["enrolments"].tolist() == [2, 0]
    assert dropped_only.empty
    assert list(kept.columns) == list(CUBE.columns)
    assert kept.index.tolist() == list(range(len(kept)))
    for cube, cohort in ((CUBE, "all"), (CUBE.iloc[0:0], "dfe")):
        same, none, no_keys = dfe_cohort.apply_cohort(cube, PUPILS, cohort)
        assert same is cube
        pd.testing.assert_frame_equal(none, excluded.iloc[0:0])
        assert list(no_keys.columns) == ["upn", "urn", "academic_year"] and no_keys.empty
    every = dfe_cohort.period_enrolments(CUBE, PUPILS, YEAR, 6, cohort="all")
    assert list(every.excluded.columns) == ["reason", "enrolments"]
    assert every.excluded.values.tolist() == [[dfe_cohort.ZERO_POSSIBLE, 0]]


def _with_sixth_half_term_only() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cube and pupils with C's marks at urn 1 and Q's at the PRU in half term 6 only."""
    pupils = pd.concat([PUPILS, pd.DataFrame([_row("Q", YEAR, "11", "2008-02-01")])])
    cube = pd.concat(
        [CUBE, pd.DataFrame([*_cube_rows("C", 1, 6, 0, 10), *_cube_rows("Q", 3, 6, 5, 5)])],
        ignore_index=True,
    )
    return cube, pupils


def test_an_enrolment_with_marks_only_in_a_15_year_olds_sixth_half_term_has_no_possible_session():
    """C (15) also has marks at the primary school (urn 1) in half term 6 only, and Q (15,
    at the PRU) only in half term 6: with that half term left out, C's urn-1 enrolment has no
    possible session (counted as such) and Q's is counted on the AP line with F."""
    cube, pupils = _with_sixth_half_term_only()
    _, _, dropped_only = dfe_cohort.apply_cohort(
        cube.astype({"upn": "category", "academic_year": "category"}), pupils
    )
    pd.testing.assert_frame_equal(
        dropped_only,
        pd.DataFrame({"upn": ["C", "Q"], "urn": [1, 3], "academic_year": [YEAR, YEAR]}).astype(
            {"upn": str, "academic_year": str}
        ),
    )
    period = dfe_cohort.period_enrolments(cube, pupils, YEAR, 6, schools=SCHOOLS)
    assert period.table[["upn", "urn"]].values.tolist() == [["A", 1], ["B", 2], ["C", 2]]
    assert period.excluded.index.tolist() == [0, 1, 2, 3]
    assert period.excluded.values.tolist() == [
        [dfe_cohort.NO_PUPIL_RECORD, 2],  # D and E
        [dfe_cohort.OUTSIDE_AGE, 0],
        [dfe_cohort.ZERO_POSSIBLE, 1],
        [dfe_cohort.ALTERNATIVE_PROVISION, 2],
    ]
    assert period.zero_possible == 1


def test_ages_from_the_nearest_year_are_counted_only_for_the_dfe_cohort_and_kept_enrolments():
    every = dfe_cohort.period_enrolments(CUBE, PUPILS, YEAR, 6, cohort="all")
    assert len(every.table) == 6 and every.age_from_nearest_year == 0  # no age is looked at
    unknown = dfe_cohort.period_enrolments(CUBE[CUBE["upn"] == "E"], PUPILS, YEAR, 6)
    assert unknown.table.empty and unknown.age_from_nearest_year == 0
    assert dfe_cohort.describe_nearest_year(unknown) == ""


def test_the_period_cube_is_the_headline_rows_with_the_cubes_columns():
    period = dfe_cohort.period_enrolments(CUBE, PUPILS, YEAR, 6, schools=SCHOOLS)
    assert list(period.cube.columns) == list(CUBE.columns)
    assert period.cube.index.tolist() == list(range(len(period.cube)))
    # A (2 rows), B (4: half terms 1 and 6), C (2: half term 6 left out); not F (AP)
    assert period.cube["upn"].value_counts().sort_index().to_dict() == {"A": 2, "B": 4, "C": 2}
    assert period.cube["sessions"].sum() == 40


def test_cohort_status_ages_are_whole_numbers_missing_without_a_date_of_birth():
    status = dfe_cohort.cohort_status(PUPILS)
    assert status["age"].dtype == "Int64"
    assert status["age"].tolist()[2] == 14  # C, born 2008-01-10, on 31 August 2022
    assert status["age"].isna().tolist() == [True, True, False, True, True]
    assert status["basis"].tolist() == ["NC year"] * 2 + ["date of birth"] + ["NC year"] * 2


@pytest.mark.parametrize("cohort", ["dfe", "all"])
@pytest.mark.parametrize("schools", [None, SCHOOLS])
@pytest.mark.parametrize("sixth_only", [False, True], ids=["cube", "sixth-half-term-only"])
def test_excluded_by_school_is_each_schools_own_cube_alone(cohort, schools, sixth_only):
    """``by_school``: one pass gives each school the exclusions its own rows alone give
    (no pupil record, outside the age range, no possible session, alternative provision);
    also with enrolments whose only marks are a 15-year-old's sixth half term, one of them
    at the PRU (no possible session at urn 1, on the AP line at urn 3)."""
    cube, pupils = _with_sixth_half_term_only() if sixth_only else (CUBE, PUPILS)
    whole = dfe_cohort.period_enrolments(
        cube, pupils, YEAR, 6, cohort=cohort, schools=schools, by_school=True
    )
    plain = dfe_cohort.period_enrolments(cube, pupils, YEAR, 6, cohort=cohort, schools=schools)
    pd.testing.assert_frame_equal(whole.table, plain.table)
    assert sorted(set(whole.excluded["urn"])) == sorted(set(cube["urn"]))
    for urn, rows in whole.excluded.groupby("urn", sort=True):
        alone = dfe_cohort.period_enrolments(
            cube[cube["urn"] == urn], pupils, YEAR, 6, cohort=cohort, schools=schools
        )
        pd.testing.assert_frame_equal(
            rows.drop(columns="urn").reset_index(drop=True), alone.excluded, obj=str(urn)
        )
    # the schools' counts add up to the LA's
    total = whole.excluded.groupby("reason", sort=False)["enrolments"].sum()
    assert total.to_dict() == plain.excluded.set_index("reason")["enrolments"].to_dict()
    assert (whole.excluded["enrolments"].sum() > 0) == (cohort == "dfe")


def test_by_school_exclusions_of_a_period_without_marks_are_empty_of_the_same_types():
    with_marks = dfe_cohort.period_enrolments(
        CUBE, PUPILS, YEAR, 6, schools=SCHOOLS, by_school=True
    ).excluded
    empty = dfe_cohort.period_enrolments(
        CUBE, PUPILS, "2019/20", 6, schools=SCHOOLS, by_school=True
    ).excluded
    assert empty.empty and list(empty.columns) == ["urn", "reason", "enrolments"]
    assert empty.dtypes.to_dict() == with_marks.dtypes.to_dict()
    assert empty.dtypes.astype(str).to_dict() == {
        "urn": "int64",
        "reason": "str",
        "enrolments": "int64",
    }
