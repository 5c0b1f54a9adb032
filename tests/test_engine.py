"""The register engine on hand-computed cases (DfE definitions, data contract "Derived measures")."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import (
    CALENDAR_2023_24,
    URN_A,
    URN_B,
    make_upn,
    mark,
    marks_frame,
    sessions,
    sessions_over_calendar,
    write_folder,
)

from attendance_lib.contract.dataset import load_dataset
from attendance_lib.core import marks_sql
from attendance_lib.core.academic_calendar import Calendar
from attendance_lib.core.sql_engines import run_sql
from attendance_lib.engine import sessions as engine
from attendance_lib.engine.sessions import COUNT_COLUMNS, add_rates, group_rates, summarise

P1, P2, P3 = make_upn(1), make_upn(2), make_upn(3)
OUTPUT_COLUMNS = [
    "upn",
    "urn",
    *COUNT_COLUMNS,
    "attendance_pct",
    "absence_pct",
    "authorised_pct",
    "unauthorised_pct",
    "persistent_absent",
    "severe_absent",
]

# One column of expected counts per group, from the data contract's table (typed by hand).
GROUP_OF = {
    "sessions_present": ["/", "\\", "L"],
    "sessions_aea": ["K", "V", "P", "W", "B", "J"],
    "sessions_authorised": ["C", "C1", "C2", "E", "I", "M", "J1", "R", "S", "T", "H", "F"],
    "sessions_unauthorised": ["G", "N", "O", "U"],
    None: ["D", "X", "Q", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7", "Z", "#", "Y"],
}
CASES = [(code, col) for col, codes_ in GROUP_OF.items() for code in codes_]


def one_row(table: pd.DataFrame, **key) -> pd.Series:
    hit = table
    for k, v in key.items():
        hit = hit[hit[k] == v]
    assert len(hit) == 1, hit
    return hit.iloc[0]


@pytest.mark.parametrize(("code", "column"), CASES)
def test_each_code_counts_in_its_group(code, column):
    # three sessions of the code, then one present session
    marks = marks_frame(sessions(P1, URN_A, [code, code, code, "/"]))
    row = one_row(summarise(marks).table, upn=P1)
    expected = dict.fromkeys(COUNT_COLUMNS[1:], 0)
    expected["sessions_present"] += 1
    if column is not None:
        expected[column] += 3
    for col, value in expected.items():
        assert row[col] == value, col
    assert row["sessions_possible"] == 1 + (3 if column else 0)


def test_rates_hand_computed():
    # 20 sessions: 14 present, 2 AEA, 3 authorised, 1 unauthorised
    codes_ = ["/"] * 7 + ["\\"] * 6 + ["L"] + ["V", "K"] + ["I", "M", "H"] + ["N"] + ["#"] * 2
    row = one_row(summarise(marks_frame(sessions(P1, URN_A, codes_))).table, upn=P1)
    assert row["sessions_possible"] == 20
    assert row["attendance_pct"] == 80.0
    assert row["absence_pct"] == 20.0
    assert row["authorised_pct"] == 15.0
    assert row["unauthorised_pct"] == 5.0
    assert row["persistent_absent"] and not row["severe_absent"]


def test_output_columns_and_types():
    table = summarise(marks_frame(sessions(P1, URN_A, ["/", "I"]))).table
    assert list(table.columns) == OUTPUT_COLUMNS
    assert table["persistent_absent"].dtype == bool
    for col in COUNT_COLUMNS:
        assert pd.api.types.is_integer_dtype(table[col])
    pupil = summarise(marks_frame(sessions(P1, URN_A, ["/", "I"])), by="pupil").table
    assert list(pupil.columns) == [c for c in OUTPUT_COLUMNS if c != "urn"]


def test_exactly_ten_percent_is_persistent_and_just_under_is_not():
    pa = ["I"] * 19 + ["/"] * 171  # 19 of 190 = 10.0 %
    not_pa = ["I"] * 18 + ["/"] * 172  # 18 of 190 = 9.47 %
    marks = marks_frame(
        sessions_over_calendar(P1, URN_A, pa) + sessions_over_calendar(P2, URN_A, not_pa)
    )
    table = summarise(marks).table
    a, b = one_row(table, upn=P1), one_row(table, upn=P2)
    assert a["sessions_possible"] == b["sessions_possible"] == 190
    assert a["absence_pct"] == 10.0 and a["persistent_absent"]
    assert not b["persistent_absent"]
    assert not a["severe_absent"]


def test_exactly_fifty_percent_is_severe_and_just_under_is_not():
    sa = ["N"] * 95 + ["/"] * 95
    not_sa = ["N"] * 94 + ["/"] * 96
    marks = marks_frame(
        sessions_over_calendar(P1, URN_A, sa) + sessions_over_calendar(P2, URN_A, not_sa)
    )
    table = summarise(marks).table
    assert one_row(table, upn=P1)["severe_absent"]
    assert one_row(table, upn=P1)["absence_pct"] == 50.0
    assert not one_row(table, upn=P2)["severe_absent"]
    assert one_row(table, upn=P2)["persistent_absent"]


def test_window_includes_both_end_dates():
    # Mon 4 Sep .. Fri 8 Sep 2023; one absence per day, AM
    codes_ = ["I", "/"] * 5
    marks = marks_frame(sessions(P1, URN_A, codes_))
    row = one_row(summarise(marks, "2023-09-05", "2023-09-07").table, upn=P1)
    assert row["sessions_possible"] == 6  # Tue, Wed, Thu: both sessions of each
    assert row["sessions_authorised"] == 3
    one_day = one_row(summarise(marks, "2023-09-08", "2023-09-08").table, upn=P1)
    assert one_day["sessions_possible"] == 2
    assert one_row(summarise(marks, None, "2023-09-04").table, upn=P1)["sessions_possible"] == 2
    assert one_row(summarise(marks, "2023-09-08", None).table, upn=P1)["sessions_possible"] == 2
    assert summarise(marks, "2023-09-09", "2023-09-30").table.empty


def test_window_accepts_timestamps_and_strings_alike():
    marks = marks_frame(sessions(P1, URN_A, ["I", "/"] * 5))
    a = summarise(marks, pd.Timestamp("2023-09-05"), pd.Timestamp("2023-09-07")).table
    b = summarise(marks, "2023-09-05", "2023-09-07").table
    pd.testing.assert_frame_equal(a, b)


def test_mid_year_school_move_two_enrolments_and_pupil_sum():
    # At A: 20 sessions, 1 illness (5 %, not PA). At B: 20 sessions, 3 unauthorised (15 %, PA).
    at_a = sessions(P1, URN_A, ["I"] + ["/"] * 19, start="2023-09-04")
    at_b = sessions(P1, URN_B, ["N"] * 3 + ["/"] * 17, start="2023-09-25")
    marks = marks_frame(at_a + at_b)
    enrol = summarise(marks).table
    assert len(enrol) == 2
    a, b = one_row(enrol, urn=URN_A), one_row(enrol, urn=URN_B)
    assert (a["sessions_possible"], a["absence_pct"], a["persistent_absent"]) == (20, 5.0, False)
    assert (b["sessions_possible"], b["absence_pct"], b["persistent_absent"]) == (20, 15.0, True)
    pupil = one_row(summarise(marks, by="pupil").table, upn=P1)
    assert pupil["sessions_possible"] == 40
    assert pupil["sessions_authorised"] == 1 and pupil["sessions_unauthorised"] == 3
    assert pupil["absence_pct"] == 10.0 and pupil["persistent_absent"]  # 4 of 40


def test_summary_sql_counts_per_enrolment_unless_asked_per_pupil():
    # The SQL both engines run: without ``by`` one row per (upn, urn), as its docstring says.
    at_a = sessions(P1, URN_A, ["I"] + ["/"] * 9, start="2023-09-04")
    at_b = sessions(P1, URN_B, ["N"] * 2 + ["/"] * 8, start="2023-09-25")
    relations = {"marks": marks_frame(at_a + at_b), "codes": marks_sql.codes_frame()}
    per_enrolment = run_sql(marks_sql.summary_sql(), relations)
    assert list(per_enrolment["urn"]) == [URN_A, URN_B]
    assert list(per_enrolment["sessions_possible"]) == [10, 10]
    per_pupil = run_sql(marks_sql.summary_sql(by="pupil"), relations)
    assert "urn" not in per_pupil and list(per_pupil["sessions_possible"]) == [20]


def test_dual_registration_counts_only_where_attendance_was_recorded():
    # Main school B records attendance; A (the other school) records D for the same sessions.
    codes_b = ["/"] * 8 + ["I"] * 2
    marks = marks_frame(sessions(P1, URN_A, ["D"] * 10) + sessions(P1, URN_B, codes_b))
    result = summarise(marks)
    assert list(result.table["urn"]) == [URN_B]
    b = one_row(result.table, urn=URN_B)
    assert (b["sessions_possible"], b["sessions_authorised"]) == (10, 2)
    assert result.zero_possible.to_dict("records") == [{"upn": P1, "urn": URN_A}]
    pupil = one_row(summarise(marks, by="pupil").table, upn=P1)
    assert pupil["sessions_possible"] == 10 and pupil["absence_pct"] == 20.0


def test_zero_possible_enrolments_are_left_out_and_counted():
    marks = marks_frame(
        sessions(P1, URN_A, ["X"] * 6)  # non-compulsory age only
        + sessions(P2, URN_A, ["#", "#", "Y1", "Z"])  # closures and not-possible codes only
        + sessions(P3, URN_A, ["/", "I"])
    )
    result = summarise(marks)
    assert list(result.table["upn"]) == [P3]
    assert sorted(result.zero_possible["upn"]) == sorted([P1, P2])
    assert list(result.zero_possible.columns) == ["upn", "urn"]
    by_pupil = summarise(marks, by="pupil")
    assert list(by_pupil.zero_possible.columns) == ["upn"]
    assert len(by_pupil.zero_possible) == 2
    assert not by_pupil.table["attendance_pct"].isna().any()


def test_zero_possible_inside_window_only():
    # P1 has X in the window but a possible session outside it
    marks = marks_frame(sessions(P1, URN_A, ["X", "X", "/", "/"]))
    result = summarise(marks, "2023-09-04", "2023-09-04")
    assert result.table.empty and len(result.zero_possible) == 1


def test_summarise_rejects_bad_by_and_unknown_codes():
    marks = marks_frame(sessions(P1, URN_A, ["/"]))
    with pytest.raises(ValueError, match="by must be"):
        summarise(marks, by="school")
    with pytest.raises(ValueError, match="-"):
        summarise(marks_frame(sessions(P1, URN_A, ["/", "-"])))


def test_summarise_sorted_by_upn_then_urn():
    marks = marks_frame(
        sessions(P2, URN_B, ["/"]) + sessions(P2, URN_A, ["/"]) + sessions(P1, URN_B, ["/"])
    )
    table = summarise(marks).table
    expected = sorted([(P1, URN_B), (P2, URN_A), (P2, URN_B)])
    assert list(zip(table["upn"], table["urn"], strict=True)) == expected


def test_add_rates_from_counts_without_possible_and_zero_possible():
    counts = pd.DataFrame(
        {
            "sessions_present": [19, 0],
            "sessions_aea": [0, 0],
            "sessions_authorised": [1, 0],
            "sessions_unauthorised": [0, 0],
        }
    )
    out = add_rates(counts)
    assert list(out["sessions_possible"]) == [20, 0]
    assert out.loc[0, "attendance_pct"] == 95.0 and out.loc[0, "absence_pct"] == 5.0
    assert np.isnan(out.loc[1, "attendance_pct"])
    assert not out.loc[1, "persistent_absent"] and not out.loc[1, "severe_absent"]
    assert "persistent_absent" not in add_rates(counts, flags=False)


def test_group_rates_sum_sessions_not_average_percentages():
    table = add_rates(
        pd.DataFrame(
            {
                "school": ["A", "A", "B"],
                "sessions_possible": [10, 90, 100],
                "sessions_present": [5, 90, 97],
                "sessions_aea": [0, 0, 0],
                "sessions_authorised": [5, 0, 2],
                "sessions_unauthorised": [0, 0, 1],
            }
        )
    )
    out = group_rates(table, "school").set_index("school")
    # A: 5 absent of 100 possible = 5 % (the average of 50 % and 0 % would be 25 %)
    assert out.loc["A", "absence_pct"] == 5.0
    assert out.loc["A", "enrolments"] == 2 and out.loc["A", "sessions_possible"] == 100
    assert out.loc["A", "pa_pct"] == 50.0 and out.loc["A", "sa_pct"] == 50.0
    assert out.loc["B", "absence_pct"] == 3.0 and out.loc["B", "unauthorised_pct"] == 1.0
    assert out.loc["B", "pa_pct"] == 0.0
    overall = engine.overall_rates(table)
    assert overall["sessions_possible"] == 200 and overall["absence_pct"] == 4.0
    assert overall["enrolments"] == 3
    assert overall["pa_pct"] == pytest.approx(100 / 3)


def test_group_rates_by_several_keys():
    table = add_rates(
        pd.DataFrame(
            {
                "a": [1, 1, 2],
                "b": ["x", "y", "x"],
                "sessions_present": [9, 8, 10],
                "sessions_aea": [0, 0, 0],
                "sessions_authorised": [1, 2, 0],
                "sessions_unauthorised": [0, 0, 0],
            }
        )
    )
    out = group_rates(table, ["a", "b"])
    assert len(out) == 3 and set(out.columns) >= {"a", "b", "absence_pct"}


def _cube_marks():
    # P1 at A: three sessions in half term 1, two in half term 2 (one of them I)
    rows = sessions(P1, URN_A, ["/", "/", "N"])
    rows += sessions(P1, URN_A, ["/", "I"], start="2023-10-30")
    rows += sessions(P2, URN_B, ["#", "/"], start="2024-01-03")
    return marks_frame(rows)


def test_code_counts_from_marks_per_half_term_and_code():
    cube = engine.code_counts_from_marks(_cube_marks(), Calendar(pd.DataFrame(CALENDAR_2023_24)))
    assert list(cube.columns) == ["upn", "urn", "academic_year", "half_term", "code", "sessions"]
    got = {
        (r.upn, r.urn, r.academic_year, int(r.half_term), r.code): int(r.sessions)
        for r in cube.itertuples()
    }
    assert got == {
        (P1, URN_A, "2023/24", 1, "/"): 2,
        (P1, URN_A, "2023/24", 1, "N"): 1,
        (P1, URN_A, "2023/24", 2, "/"): 1,
        (P1, URN_A, "2023/24", 2, "I"): 1,
        (P2, URN_B, "2023/24", 3, "#"): 1,
        (P2, URN_B, "2023/24", 3, "/"): 1,
    }


def test_the_cube_read_in_pieces_is_the_same_cube(monkeypatch):
    from attendance_lib.core import sql_engines

    calendar = Calendar(pd.DataFrame(CALENDAR_2023_24))
    whole = engine.code_counts_from_marks(_cube_marks(), calendar)
    monkeypatch.setattr(sql_engines, "BATCH_ROWS", 2)  # six rows: three pieces
    pd.testing.assert_frame_equal(engine.code_counts_from_marks(_cube_marks(), calendar), whole)


def test_the_cube_in_two_pieces_is_the_whole_cube_in_the_cubes_types(monkeypatch):
    calendar = Calendar(pd.DataFrame(CALENDAR_2023_24))
    whole = engine.code_counts_from_marks(_cube_marks(), calendar)
    assert whole["half_term"].dtype == np.int8 and whole["sessions"].dtype == np.int32
    assert whole["urn"].dtype == np.int64
    real = engine.run_sql_batches

    def two_pieces(*args, **kwargs):
        frame = pd.concat(list(real(*args, **kwargs)), ignore_index=True)
        yield frame.iloc[:4]  # P1's rows: P2's categories come only in the second piece
        yield frame.iloc[4:]

    monkeypatch.setattr(engine, "run_sql_batches", two_pieces)
    pd.testing.assert_frame_equal(engine.code_counts_from_marks(_cube_marks(), calendar), whole)


def test_counts_from_cube_match_summarise():
    marks = _cube_marks()
    calendar = pd.DataFrame(CALENDAR_2023_24).assign(
        start_date=lambda f: pd.to_datetime(f["start_date"]),
        end_date=lambda f: pd.to_datetime(f["end_date"]),
    )
    cube = engine.code_counts_from_marks(marks, Calendar(calendar))
    counts = engine.counts_from_cube(cube, ["upn", "urn"])
    counts["upn"] = counts["upn"].astype(str)
    direct = summarise(marks).table[["upn", "urn", *COUNT_COLUMNS]]
    merged = direct.merge(counts, on=["upn", "urn"], suffixes=("", "_cube"))
    assert len(merged) == 2
    for col in COUNT_COLUMNS:
        assert (merged[col] == merged[f"{col}_cube"]).all(), col
    by_ht = engine.counts_from_cube(cube, ["upn", "half_term"])
    p1_ht2 = by_ht[(by_ht["upn"] == P1) & (by_ht["half_term"] == 2)].iloc[0]
    assert (p1_ht2["sessions_possible"], p1_ht2["sessions_authorised"]) == (2, 1)


def test_counts_from_cube_keys_in_order_of_first_appearance_with_their_values_as_read():
    # Keys numbered as they first appear (B before A), a missing URN its own key, a
    # categorical year and an int8 half term given back as their values (text, int64).
    cube = pd.DataFrame(
        {
            "upn": ["B", "A", "B", "A", "B"],
            "urn": [2.0, np.nan, 2.0, np.nan, 1.0],
            "academic_year": pd.Categorical(["2024/25"] * 5, categories=["2023/24", "2024/25"]),
            "half_term": np.array([1, 1, 1, 2, 1], dtype=np.int8),
            "code": ["/", "N", "I", "/", "B"],
            "sessions": [2, 1, 1, 2, 1],
        }
    )
    got = engine.counts_from_cube(cube, ["upn", "urn", "academic_year"])
    assert got["upn"].tolist() == ["B", "A", "B"]
    assert got["urn"].tolist()[::2] == [2.0, 1.0] and np.isnan(got["urn"].iloc[1])
    assert got["academic_year"].tolist() == ["2024/25"] * 3
    assert not isinstance(got["academic_year"].dtype, pd.CategoricalDtype)
    # B at URN 2: two present, one authorised absence; A: one unauthorised, two present;
    # B at URN 1: one approved educational activity
    assert got["sessions_possible"].tolist() == [3, 3, 1]
    assert got["sessions_present"].tolist() == [2, 2, 0]
    assert got["sessions_authorised"].tolist() == [1, 0, 0]
    assert got["sessions_unauthorised"].tolist() == [0, 1, 0]
    assert got["sessions_aea"].tolist() == [0, 0, 1]
    by_half = engine.counts_from_cube(cube, ["half_term"])
    assert by_half["half_term"].dtype == np.int64
    assert by_half.set_index("half_term")["sessions_possible"].to_dict() == {1: 5, 2: 2}
    empty = engine.counts_from_cube(cube.iloc[:0], ["upn", "urn"])
    assert empty.empty and list(empty.columns[:2]) == ["upn", "urn"]


def test_code_counts_is_cached_per_dataset(tmp_path):
    folder = write_folder(tmp_path, marks=sessions(P1, URN_A, ["/", "I", "N"]))
    ds = load_dataset(folder)
    cube = engine.code_counts(ds)
    assert (ds.cache_dir / "code_counts.parquet").is_file()
    assert int(cube["sessions"].sum()) == 3
    again = engine.code_counts(load_dataset(folder))
    assert int(again["sessions"].sum()) == 3


def test_census_counts_take_terms_wholly_inside_the_window():
    calendar = Calendar(
        pd.DataFrame(CALENDAR_2023_24).assign(
            start_date=lambda f: pd.to_datetime(f["start_date"]),
            end_date=lambda f: pd.to_datetime(f["end_date"]),
        )
    )
    terms = pd.DataFrame(
        {
            "upn": [P1, P1, P2],
            "urn": [URN_A, URN_A, URN_B],
            "academic_year": "2023/24",
            "term": ["autumn", "spring", "autumn"],
            "sessions_possible": [140, 100, 120],
            "sessions_authorised": [10, 4, 0],
            "sessions_unauthorised": [4, 6, 12],
        }
    )
    autumn = engine.census_counts(terms, calendar, "2023-09-04", "2023-12-20")
    row = one_row(autumn, upn=P1)
    assert row["sessions_possible"] == 140 and row["sessions_present"] == 126
    assert row["sessions_aea"] == 0
    both = engine.census_counts(terms, calendar, "2023-09-01", "2024-03-28")
    assert one_row(both, upn=P1)["sessions_possible"] == 240
    # the window stops one day short of the spring term's end: spring left out
    short = engine.census_counts(terms, calendar, "2023-09-04", "2024-03-27")
    assert one_row(short, upn=P1)["sessions_possible"] == 140
    assert list(autumn.columns) == ["upn", "urn", *COUNT_COLUMNS]
    rated = add_rates(autumn)
    assert one_row(rated, upn=P2)["absence_pct"] == 10.0


def test_mark_helper_builds_contract_rows():
    assert mark(P1, URN_A, "2023-09-04", "AM", "/")["code"] == "/"


def test_mark_date_range_from_a_frame_a_file_and_a_dataset(tmp_path):
    rows = sessions(P1, URN_A, ["/", "I"]) + sessions(P1, URN_A, ["N"], start="2023-10-20")
    expected = (pd.Timestamp("2023-09-04"), pd.Timestamp("2023-10-20"))
    assert engine.mark_date_range(marks_frame(rows)) == expected
    folder = write_folder(tmp_path, marks=rows, marks_format="parquet")
    assert engine.mark_date_range(folder / "marks.parquet") == expected
    assert engine.mark_date_range(load_dataset(folder)) == expected


# --------------------------------------------------------------------------------------
# Weekly counts (an imported DfE weekly download): summarised, checked and cubed by the
# engine without marks. Every figure below is summed by hand from WEEKLY's rows.
# --------------------------------------------------------------------------------------


def _weekly(rows) -> pd.DataFrame:
    return pd.DataFrame(
        rows,
        columns=["upn", "urn", "week_start", "week_end", *COUNT_COLUMNS],
    ).assign(
        week_start=lambda f: pd.to_datetime(f["week_start"]),
        week_end=lambda f: pd.to_datetime(f["week_end"]),
    )


def _calendar(rows=CALENDAR_2023_24) -> Calendar:
    return Calendar(
        pd.DataFrame(rows).assign(
            start_date=lambda f: pd.to_datetime(f["start_date"]),
            end_date=lambda f: pd.to_datetime(f["end_date"]),
        )
    )


#      upn urn     week_start    week_end      possible present aea auth unauth
WEEKLY = [
    (P1, URN_A, "2023-09-04", "2023-09-17", 20, 17, 1, 2, 0),  # the year's first file: 2 weeks
    (P1, URN_A, "2023-09-18", "2023-09-24", 10, 8, 0, 0, 2),
    (P1, URN_B, "2023-09-25", "2023-10-01", 10, 5, 0, 0, 5),
    (P2, URN_B, "2023-09-18", "2023-09-24", 10, 9, 0, 1, 0),
    (P3, URN_A, "2023-09-25", "2023-10-01", 0, 0, 0, 0, 0),  # no possible session
    (P2, URN_B, "2023-10-30", "2023-11-05", 10, 10, 0, 0, 0),  # half term 2
    (P3, URN_B, "2024-01-01", "2024-01-07", 6, 6, 0, 0, 0),  # half term 3 begins on Wednesday
]


def _counts(table: pd.DataFrame, keys=("upn", "urn")) -> dict:
    return {
        tuple(r[k] for k in keys): tuple(int(r[c]) for c in COUNT_COLUMNS)
        for _, r in table.iterrows()
    }


def test_weekly_counts_summed_per_enrolment_and_per_pupil_with_rates_and_flags():
    weekly = _weekly(WEEKLY)
    result = engine.summarise_weekly(weekly)
    assert _counts(result.table) == {
        (P1, URN_A): (30, 25, 1, 2, 2),
        (P1, URN_B): (10, 5, 0, 0, 5),
        (P2, URN_B): (20, 19, 0, 1, 0),
        (P3, URN_B): (6, 6, 0, 0, 0),
    }
    assert list(zip(result.table["upn"], result.table["urn"], strict=True)) == sorted(
        [(P1, URN_A), (P1, URN_B), (P2, URN_B), (P3, URN_B)]
    )
    assert list(result.table.columns) == OUTPUT_COLUMNS
    for col in COUNT_COLUMNS:
        assert result.table[col].dtype == np.int64, col
    p1a = one_row(result.table, upn=P1, urn=URN_A)
    assert p1a["attendance_pct"] == pytest.approx(26 * 100 / 30)  # present 25 + AEA 1
    assert p1a["absence_pct"] == pytest.approx(4 * 100 / 30)
    assert p1a["persistent_absent"] and not p1a["severe_absent"]
    p1b = one_row(result.table, upn=P1, urn=URN_B)
    assert p1b["absence_pct"] == 50.0 and p1b["severe_absent"]
    assert not one_row(result.table, upn=P2)["persistent_absent"]  # 1 of 20 = 5 %
    assert result.zero_possible.to_dict("records") == [{"upn": P3, "urn": URN_A}]

    pupils = engine.summarise_weekly(weekly, by="pupil")
    assert _counts(pupils.table, ("upn",)) == {
        (P1,): (40, 30, 1, 2, 7),
        (P2,): (20, 19, 0, 1, 0),
        (P3,): (6, 6, 0, 0, 0),
    }
    assert "urn" not in pupils.table
    p1 = one_row(pupils.table, upn=P1)
    assert p1["attendance_pct"] == 77.5 and p1["absence_pct"] == 22.5
    assert p1["persistent_absent"] and not p1["severe_absent"]
    assert pupils.zero_possible.empty and list(pupils.zero_possible.columns) == ["upn"]


def test_weekly_window_takes_the_periods_it_holds_whole():
    weekly = _weekly(WEEKLY)
    # Monday 18 September to Sunday 24 September: rows 2 and 4 only
    week = engine.summarise_weekly(weekly, "2023-09-18", "2023-09-24")
    assert _counts(week.table) == {(P1, URN_A): (10, 8, 0, 0, 2), (P2, URN_B): (10, 9, 0, 1, 0)}
    assert week.zero_possible.empty
    # ending on the Friday or Saturday of the last week is the same window as its Sunday
    for end in ("2023-09-22", "2023-09-23", pd.Timestamp("2023-09-24")):
        got = engine.summarise_weekly(weekly, pd.Timestamp("2023-09-18"), end)
        assert _counts(got.table) == _counts(week.table), end
    # from 18 September to Friday 29 September: P3's empty week is in, and left out
    two = engine.summarise_weekly(weekly, "2023-09-18", "2023-09-29")
    assert _counts(two.table) == {
        (P1, URN_A): (10, 8, 0, 0, 2),
        (P1, URN_B): (10, 5, 0, 0, 5),
        (P2, URN_B): (10, 9, 0, 1, 0),
    }
    assert two.zero_possible.to_dict("records") == [{"upn": P3, "urn": URN_A}]
    # a Monday of a week with no row (no period holds it) is a valid start
    later = engine.summarise_weekly(weekly, "2023-10-09", None)
    assert _counts(later.table) == {(P2, URN_B): (10, 10, 0, 0, 0), (P3, URN_B): (6, 6, 0, 0, 0)}
    upto = engine.summarise_weekly(weekly, None, "2023-09-17")
    assert _counts(upto.table) == {(P1, URN_A): (20, 17, 1, 2, 0)}
    # URNs stored narrower come back as the marks summary types them
    narrow = engine.summarise_weekly(weekly.astype({"urn": np.int32}), None, "2023-09-17")
    assert narrow.table["urn"].dtype == np.int64


def test_summarise_and_mark_date_range_read_weekly_counts_and_a_datasets_calendar():
    from types import SimpleNamespace

    weekly = _weekly(WEEKLY)
    direct = engine.summarise_weekly(weekly, "2023-09-18", "2023-10-01", "pupil")
    via = summarise(weekly, "2023-09-18", "2023-10-01", by="pupil")
    pd.testing.assert_frame_equal(via.table, direct.table)
    pd.testing.assert_frame_equal(via.zero_possible, direct.zero_possible)
    assert engine.mark_date_range(weekly) == (
        pd.Timestamp("2023-09-04"),
        pd.Timestamp("2024-01-07"),
    )
    # a dataset holding weekly counts and no marks; its own calendar lets the window start on
    # Wednesday 3 January, the first school day of its week
    calendar = _calendar().table
    ds = SimpleNamespace(marks_path=None, weekly=weekly, calendar=calendar, root="folder")
    assert engine.weekly_counts_of(ds) is weekly
    got = summarise(ds, "2024-01-03", "2024-01-05").table
    assert _counts(got) == {(P3, URN_B): (6, 6, 0, 0, 0)}
    no_calendar = SimpleNamespace(marks_path=None, weekly=weekly, calendar=None, root="f")
    with pytest.raises(engine.UsageError, match="nearest are 2024-01-01$"):
        summarise(no_calendar, "2024-01-03", "2024-01-05")
    # a given calendar is used rather than none
    assert _counts(summarise(no_calendar, "2024-01-03", calendar=_calendar()).table) == {
        (P3, URN_B): (6, 6, 0, 0, 0)
    }
    # and rather than the dataset's own (here one whose spring term begins on Monday 1 January)
    monday = [dict(r) for r in CALENDAR_2023_24]
    monday[2] = {**monday[2], "start_date": "2024-01-01"}
    own = SimpleNamespace(marks_path=None, weekly=weekly, calendar=_calendar(monday).table)
    with pytest.raises(engine.UsageError, match="nearest are 2024-01-01$"):
        summarise(own, "2024-01-03")
    assert _counts(summarise(own, "2024-01-03", calendar=_calendar()).table) == {
        (P3, URN_B): (6, 6, 0, 0, 0)
    }
    assert engine.mark_date_range(ds) == (pd.Timestamp("2023-09-04"), pd.Timestamp("2024-01-07"))
    # marks (a frame without week_start, a path, a dataset with a marks file) are not weekly
    assert engine.weekly_counts_of(weekly.drop(columns="week_start")) is None
    assert engine.weekly_counts_of("marks.parquet") is None
    assert engine.weekly_counts_of(SimpleNamespace(marks_path="m.parquet", weekly=weekly)) is None
    assert engine.weekly_counts_of(SimpleNamespace(marks_path=None, weekly=None)) is None


def _refused_start(weekly, start, nearest, calendar=None):
    day = pd.Timestamp(start)
    message = (
        f"the window starts on {day:%A %Y-%m-%d}; with weekly data it must start on a Monday "
        f"that begins a covered week: the nearest are {nearest}"
    )
    with pytest.raises(engine.UsageError) as info:
        engine.check_weekly_window(weekly, start, None, calendar)
    assert str(info.value) == message


def _refused_end(weekly, end, nearest, calendar=None):
    day = pd.Timestamp(end)
    message = (
        f"the window ends on {day:%A %Y-%m-%d}; with weekly data it must end on the Friday, "
        f"Saturday or Sunday of a covered week: the nearest Fridays are {nearest}"
    )
    with pytest.raises(engine.UsageError) as info:
        engine.check_weekly_window(weekly, None, end, calendar)
    assert str(info.value) == message


def test_a_weekly_window_must_start_on_a_monday_that_splits_no_period():
    weekly = _weekly(WEEKLY)
    _refused_start(weekly, "2023-09-11", "2023-09-04 or 2023-09-18")  # inside the 2-week file
    _refused_start(weekly, "2023-09-19", "2023-09-18 or 2023-09-25")  # a Tuesday
    _refused_start(weekly, "2023-09-17", "2023-09-04 or 2023-09-18")  # a Sunday
    _refused_start(weekly, "2023-08-28", "2023-09-04")  # before the first week
    _refused_start(weekly, "2024-01-08", "2024-01-01")  # after the last week
    for start in ("2023-09-04", "2023-09-18", "2023-10-09", "2024-01-01"):
        engine.check_weekly_window(weekly, start, None)  # no error
    # Wednesday 3 January: Monday and Tuesday are holidays in the calendar, Thursday is not
    engine.check_weekly_window(weekly, "2024-01-03", None, _calendar())
    _refused_start(weekly, "2024-01-03", "2024-01-01", None)
    _refused_start(weekly, "2024-01-04", "2024-01-01", _calendar())  # Wednesday is school
    with pytest.raises(engine.UsageError, match="^the weekly table is empty: no window"):
        engine.check_weekly_window(weekly.iloc[:0], "2023-09-04", None)


def test_a_weekly_window_must_end_at_the_end_of_a_week_that_splits_no_period():
    weekly = _weekly(WEEKLY)
    _refused_end(weekly, "2023-09-21", "2023-09-15 or 2023-09-22")  # a Thursday
    _refused_end(weekly, "2023-09-08", "2023-09-15")  # inside the two-week file
    _refused_end(weekly, "2023-09-10", "2023-09-15")  # its first Sunday
    _refused_end(weekly, "2024-01-12", "2024-01-05")  # after the last week
    _refused_end(weekly, "2023-08-27", "2023-09-15")  # before the first week
    for end in ("2023-09-15", "2023-09-16", "2023-09-17", "2024-01-05", "2024-01-07"):
        engine.check_weekly_window(weekly, None, end)  # no error
    # a half term ending on Thursday 28 September, the next beginning on Monday 2 October:
    # its week may end on the Thursday (Friday is no school day; the next week is not in it)
    short = [dict(r) for r in CALENDAR_2023_24]
    short[0] = {**short[0], "end_date": "2023-09-28"}
    short[1] = {**short[1], "start_date": "2023-10-02"}
    calendar = _calendar(short)
    engine.check_weekly_window(weekly, None, "2023-09-28", calendar)
    got = engine.summarise_weekly(weekly, "2023-09-18", "2023-09-28", calendar=calendar)
    assert _counts(got.table) == {
        (P1, URN_A): (10, 8, 0, 0, 2),
        (P1, URN_B): (10, 5, 0, 0, 5),
        (P2, URN_B): (10, 9, 0, 1, 0),
    }
    _refused_end(weekly, "2023-09-28", "2023-09-22 or 2023-09-29")  # without the calendar
    with pytest.raises(engine.UsageError, match="nearest Fridays are 2023-09-22 or 2023-09-29"):
        engine.summarise_weekly(weekly, "2023-09-18", "2023-09-27", calendar=calendar)
    _refused_end(weekly, "2023-09-27", "2023-09-22 or 2023-09-29", calendar)  # Thursday is school
    _refused_end(weekly, "2023-09-26", "2023-09-22 or 2023-09-29", calendar)


def test_weekly_valid_dates_leave_out_those_inside_another_pupils_longer_period():
    weekly = _weekly(
        [
            (P1, URN_A, "2023-09-04", "2023-09-17", 20, 20, 0, 0, 0),
            (P2, URN_A, "2023-09-04", "2023-09-10", 10, 10, 0, 0, 0),
            (P2, URN_A, "2023-09-11", "2023-09-17", 10, 10, 0, 0, 0),
            (P2, URN_A, "2023-09-18", "2023-09-24", 10, 10, 0, 0, 0),
        ]
    )
    _refused_start(weekly, "2023-09-11", "2023-09-04 or 2023-09-18")
    _refused_end(weekly, "2023-09-08", "2023-09-15")
    _refused_end(weekly, "2023-09-10", "2023-09-15")


def test_the_first_day_of_a_year_starting_midweek_is_a_valid_start():
    # the year (and its first file) begins on Wednesday 6 September
    weekly = _weekly([(P1, URN_A, "2023-09-06", "2023-09-17", 16, 15, 0, 1, 0)])
    late = [dict(r) for r in CALENDAR_2023_24]
    late[0] = {**late[0], "start_date": "2023-09-06"}
    calendar = _calendar(late)
    got = engine.summarise_weekly(weekly, "2023-09-06", "2023-09-17", calendar=calendar)
    assert _counts(got.table) == {(P1, URN_A): (16, 15, 0, 1, 0)}
    # without the calendar the Monday before the first file is not covered
    _refused_start(weekly, "2023-09-06", "2023-09-06")
    # and the year's first day is valid only when no period holds it
    held = _weekly(
        [
            (P1, URN_A, "2023-08-28", "2023-09-10", 16, 15, 0, 1, 0),
            (P1, URN_A, "2023-09-11", "2023-09-17", 10, 10, 0, 0, 0),
        ]
    )
    _refused_start(held, "2023-09-06", "2023-08-28 or 2023-09-11", calendar)


def test_the_cube_from_weekly_counts_puts_each_period_in_its_half_term():
    weekly = _weekly(WEEKLY)
    cube = engine.cube_from_weekly(weekly, _calendar())
    assert list(cube.columns) == ["upn", "urn", "academic_year", "half_term", "grp", "sessions"]
    got = {
        (r.upn, r.urn, r.academic_year, int(r.half_term), int(r.grp)): int(r.sessions)
        for r in cube.itertuples()
    }
    assert got == {
        (P1, URN_A, "2023/24", 1, 0): 25,
        (P1, URN_A, "2023/24", 1, 1): 1,
        (P1, URN_A, "2023/24", 1, 2): 2,
        (P1, URN_A, "2023/24", 1, 3): 2,
        (P1, URN_B, "2023/24", 1, 0): 5,
        (P1, URN_B, "2023/24", 1, 3): 5,
        (P2, URN_B, "2023/24", 1, 0): 9,
        (P2, URN_B, "2023/24", 1, 2): 1,
        (P2, URN_B, "2023/24", 2, 0): 10,
        (P3, URN_B, "2023/24", 3, 0): 6,
    }
    keys = list(zip(cube["upn"], cube["urn"], cube["half_term"], cube["grp"], strict=True))
    assert keys == sorted(keys)
    assert isinstance(cube["upn"].dtype, pd.CategoricalDtype)
    assert isinstance(cube["academic_year"].dtype, pd.CategoricalDtype)
    assert (cube["urn"].dtype, cube["half_term"].dtype, cube["grp"].dtype) == (
        np.int64,
        np.int8,
        np.int8,
    )
    assert cube["sessions"].dtype == np.int32
    # the cube sums back to the weekly summary (P3's empty enrolment has no row)
    counts = engine.counts_from_cube(cube, ["upn", "urn"])
    counts["upn"] = counts["upn"].astype(str)
    assert _counts(counts) == _counts(engine.summarise_weekly(weekly).table)
    by_half = engine.counts_from_cube(cube, ["upn", "half_term"])
    by_half["upn"] = by_half["upn"].astype(str)
    assert _counts(by_half, ("upn", "half_term"))[(P2, 2)] == (10, 10, 0, 0, 0)


@pytest.mark.parametrize(
    ("start", "end", "where"),
    [
        ("2023-10-23", "2023-10-29", "no half term"),
        ("2023-10-16", "2023-11-05", "more than one half term"),
    ],
)
def test_a_weekly_period_outside_one_half_term_cannot_be_cubed(start, end, where):
    weekly = _weekly([*WEEKLY, (P1, URN_A, start, end, 5, 5, 0, 0, 0)])
    message = (
        f"the weekly period {start} to {end} falls in {where} of calendar.csv, "
        "so its sessions cannot be given a half term"
    )
    with pytest.raises(engine.UsageError) as info:
        engine.cube_from_weekly(weekly, _calendar())
    assert str(info.value) == message


# --------------------------------------------------------------------------------------
# The engine's other queries over marks, each worked from the marks below.
# --------------------------------------------------------------------------------------


def _daily_marks():
    return marks_frame(
        sessions(P1, URN_A, ["/", "I", "X", "/"])  # Mon 4 Sep: / I; Tue 5 Sep: X /
        + sessions(P1, URN_B, ["/", "D"])  # dual registration on Monday: / D
        + sessions(P2, URN_A, ["N", "N", "L"])  # Mon: N N; Tue: L
        + sessions(P3, URN_A, ["/"])
        + sessions(P3, URN_B, ["/"])  # P3 at both schools on the same day
    )


DAILY = {
    (P1, "2023-09-04", 0): 2,  # present at A and at B
    (P1, "2023-09-04", 2): 1,
    (P1, "2023-09-05", 0): 1,  # X and D count nowhere
    (P2, "2023-09-04", 3): 2,
    (P2, "2023-09-05", 0): 1,
    (P3, "2023-09-04", 0): 2,
}


def test_possible_days_and_mark_cells_number_every_possible_mark_in_pieces(monkeypatch):
    from collections import Counter

    from attendance_lib.core import sql_engines

    marks = _daily_marks()
    days = engine.possible_days(marks)
    assert days.dtype == np.int64
    dates = days.astype("datetime64[D]").astype(str).tolist()
    assert dates == ["2023-09-04", "2023-09-05"]  # sorted; X and D alone make no day
    undated = pd.concat([marks, marks.iloc[:1].assign(date=pd.NaT)], ignore_index=True)
    assert engine.possible_days(undated).tolist() == days.tolist()  # no day for a missing date
    pupils = pd.Index([P3, P2, P1])  # any order: positions are in this index
    monkeypatch.setattr(sql_engines, "BATCH_ROWS", 2)
    pieces = list(engine.possible_mark_cells(marks, pupils, days))
    assert len(pieces) > 1  # eleven marks, a few at a time
    assert all(a.dtype == np.int64 for piece in pieces for a in piece)
    cells = Counter(
        (pupils[p], dates[d], int(g))
        for pupil, day, grp in pieces
        for p, d, g in zip(pupil, day, grp, strict=True)
    )
    assert cells == DAILY  # one element per mark: counted, they are the daily sessions
    # a pupil or a day not numbered is left out
    only = list(engine.possible_mark_cells(marks, pd.Index([P2]), days[1:]))
    assert [(p.tolist(), d.tolist(), g.tolist()) for p, d, g in only if len(p)] == [([0], [0], [0])]


def test_latest_school_is_the_school_of_the_last_possible_mark_larger_urn_on_a_tie():
    marks = _daily_marks()
    got = engine.latest_school(marks)
    assert list(got.columns) == ["upn", "urn"]
    assert list(got["upn"]) == sorted([P1, P2, P3])
    assert dict(zip(got["upn"], got["urn"], strict=True)) == {P1: URN_A, P2: URN_A, P3: URN_B}
    assert got["urn"].dtype == np.int32 and list(got.index) == [0, 1, 2]
    # up to Monday, P1 has possible marks at both schools that day: the larger URN
    monday = engine.latest_school(marks, None, "2023-09-04")
    assert dict(zip(monday["upn"], monday["urn"], strict=True)) == {
        P1: URN_B,
        P2: URN_A,
        P3: URN_B,
    }
    tuesday = engine.latest_school(marks, "2023-09-05", "2023-09-05")
    assert dict(zip(tuesday["upn"], tuesday["urn"], strict=True)) == {P1: URN_A, P2: URN_A}


def test_marks_groups_and_unknown_codes_named():
    marks = marks_frame(sessions(P1, URN_A, ["/", "I", "X", "N", "K", "/"]))
    groups = engine.marks_groups(marks)
    assert groups.tolist() == [0, 2, 4, 3, 1, 0]
    bad = marks_frame(sessions(P1, URN_A, ["/", "?", "-", "?"]))
    with pytest.raises(ValueError) as info:
        engine.marks_groups(bad)
    assert str(info.value) == "unknown register codes: -, ?"


def test_marks_relation_reads_frames_paths_remote_locations_and_datasets(tmp_path):
    from pathlib import Path
    from types import SimpleNamespace

    frame = _daily_marks()
    assert engine.marks_relation(frame) is frame
    assert engine.marks_relation("s3a://bucket/marks.parquet") == "s3a://bucket/marks.parquet"
    assert engine.marks_relation("folder/marks.parquet") == Path("folder/marks.parquet")
    assert engine.marks_relation(Path("m.parquet")) == Path("m.parquet")
    stored = SimpleNamespace(marks_path=Path("m.parquet"), _marks=None, marks_as_stored=True)
    assert engine.marks_relation(stored) == Path("m.parquet")
    loaded = SimpleNamespace(
        marks_path=Path("m.parquet"), _marks=frame, marks_as_stored=True, marks=frame
    )
    assert engine.marks_relation(loaded) is frame
    typed = SimpleNamespace(
        marks_path=Path("m.csv"), _marks=None, marks_as_stored=False, marks=frame
    )
    assert engine.marks_relation(typed) is frame
    weekly = SimpleNamespace(marks_path=None, root="LA", weekly=_weekly(WEEKLY))
    with pytest.raises(engine.UsageError) as info:
        engine.marks_relation(weekly)
    assert str(info.value) == (
        "LA has no register marks: it holds weekly counts only (sessions per week, no register "
        "codes); this needs session marks with their codes"
    )
    with pytest.raises(engine.UsageError) as info:
        engine.marks_relation(SimpleNamespace(marks_path=None, root="LA"))
    assert str(info.value) == "LA has no register marks; this needs session marks with their codes"
    # a dataset whose marks file validation read as stored: the file is read, not pandas
    folder = write_folder(tmp_path, marks=sessions(P1, URN_A, ["/", "I"]), marks_format="parquet")
    ds = load_dataset(folder)
    assert ds.marks_as_stored and engine.marks_relation(ds) == folder / "marks.parquet"
    assert one_row(summarise(ds).table, upn=P1)["sessions_possible"] == 2


def test_the_engine_named_by_the_environment_runs_the_queries(monkeypatch):
    marks = marks_frame(sessions(P1, URN_A, ["/", "I"]))
    monkeypatch.delenv("ATTENDANCE_WORKBENCH_ENGINE", raising=False)
    assert engine.default_engine() == "duckdb"
    assert one_row(summarise(marks).table, upn=P1)["sessions_possible"] == 2
    monkeypatch.setenv("ATTENDANCE_WORKBENCH_ENGINE", "abacus")
    assert engine.default_engine() == "abacus"
    with pytest.raises(engine.UsageError, match="got 'abacus'"):
        summarise(marks)
    with pytest.raises(engine.UsageError, match="got 'abacus'"):
        engine.latest_school(marks)
    with pytest.raises(engine.UsageError, match="got 'abacus'"):
        list(
            engine.possible_mark_cells(
                marks, pd.Index([P1]), engine.possible_days(marks, engine="duckdb")
            )
        )
    with pytest.raises(engine.UsageError, match="got 'abacus'"):
        engine.code_counts_from_marks(marks, _calendar())
    # a named engine wins over the environment, also where unknown codes are looked up
    assert one_row(summarise(marks, engine="duckdb").table, upn=P1)["sessions_possible"] == 2
    assert len(engine.code_counts_from_marks(marks, _calendar(), engine="duckdb")) == 2
    assert engine.latest_school(marks, engine="duckdb")["urn"].tolist() == [URN_A]
    assert engine.mark_date_range(marks, engine="duckdb") == (pd.Timestamp("2023-09-04"),) * 2
    unknown = marks_frame(sessions(P1, URN_A, ["/", "-"]))
    with pytest.raises(ValueError, match=r"^unknown register codes: - \(1 marks\)"):
        summarise(unknown, engine="duckdb")


def test_code_counts_of_a_weekly_dataset_is_its_weekly_cube_cached_apart(tmp_path, monkeypatch):
    from types import SimpleNamespace

    weekly = _weekly(WEEKLY)
    asked = []

    def cached(name, compute):
        asked.append(name)
        return compute()

    calendar = _calendar().table
    ds = SimpleNamespace(marks_path=None, weekly=weekly, calendar=calendar, cached=cached)
    cube = engine.code_counts(ds)
    assert asked == ["weekly_cube"]  # not the marks cube's file
    pd.testing.assert_frame_equal(cube, engine.cube_from_weekly(weekly, _calendar()))
    assert "grp" in cube and "code" not in cube
    # a dataset with marks is counted by the engine it is given
    folder = write_folder(tmp_path, marks=sessions(P1, URN_A, ["/", "I"]))
    monkeypatch.delenv("ATTENDANCE_WORKBENCH_ENGINE", raising=False)
    with pytest.raises(engine.UsageError, match="got 'abacus'"):
        engine.code_counts(load_dataset(folder), engine="abacus")


def test_census_counts_are_whole_numbers_whatever_the_columns_type():
    calendar = _calendar()
    terms = pd.DataFrame(
        {
            "upn": [P1, P1],
            "urn": [URN_A, URN_A],
            "academic_year": "2023/24",
            "term": ["autumn", "spring"],
            "sessions_possible": np.array([140, 100], dtype=np.int32),
            "sessions_authorised": [10.0, 4.0],  # read from a file with a gap elsewhere
            "sessions_unauthorised": np.array([4, 6], dtype=np.int16),
        }
    )
    got = engine.census_counts(terms, calendar, "2023-09-01", "2024-03-28")
    assert got.to_dict("records") == [
        {
            "upn": P1,
            "urn": URN_A,
            "sessions_possible": 240,
            "sessions_present": 216,  # 240 - 14 - 10
            "sessions_aea": 0,
            "sessions_authorised": 14,
            "sessions_unauthorised": 10,
        }
    ]
    for col in COUNT_COLUMNS:
        assert got[col].dtype == np.int64, col


def test_overall_rates_of_an_empty_table_are_zeros_and_missing_rates():
    with_flags = add_rates(
        pd.DataFrame({c: pd.Series([], dtype="int64") for c in COUNT_COLUMNS[1:]})
    )
    got = engine.overall_rates(with_flags)
    counts = ["enrolments", *COUNT_COLUMNS, "pa_enrolments", "sa_enrolments"]
    assert {c: got[c] for c in counts} == dict.fromkeys(counts, 0)
    for rate in ["pa_pct", "sa_pct", "attendance_pct", "absence_pct"]:
        assert np.isnan(got[rate]), rate
    no_flags = engine.overall_rates(with_flags.drop(columns=["persistent_absent", "severe_absent"]))
    assert no_flags["enrolments"] == 0 and no_flags["sessions_possible"] == 0
    assert "pa_pct" not in no_flags and "pa_enrolments" not in no_flags
    assert np.isnan(no_flags["unauthorised_pct"])
    # the same entries as the overall rates of a table with rows
    one = add_rates(pd.DataFrame({c: [int(c == "sessions_present")] for c in COUNT_COLUMNS[1:]}))
    assert list(got.index) == list(engine.overall_rates(one).index)
    plain = one.drop(columns=["persistent_absent", "severe_absent"])
    assert list(no_flags.index) == list(engine.overall_rates(plain).index)


def test_rates_of_a_row_with_nothing_possible_are_missing_without_a_warning():
    import warnings

    counts = pd.DataFrame(
        {
            "sessions_possible": [0, 4],
            "sessions_present": [0, 3],
            "sessions_aea": [0, 0],
            "sessions_authorised": [0, 1],
            "sessions_unauthorised": [0, 0],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a notebook would print a RuntimeWarning to the reader
        out = add_rates(counts)
    for rate in ["attendance_pct", "absence_pct", "authorised_pct", "unauthorised_pct"]:
        assert np.isnan(out.loc[0, rate]), rate
    assert out.loc[1, ["attendance_pct", "absence_pct", "authorised_pct"]].tolist() == [
        75.0,
        25.0,
        25.0,
    ]
    assert out.loc[1, "unauthorised_pct"] == 0.0
    assert out["persistent_absent"].tolist() == [False, True]
    assert out["severe_absent"].tolist() == [False, False]


def test_group_rates_keep_a_missing_group_and_leave_out_unused_categories():
    fsm = pd.Categorical(
        ["eligible", "eligible", None, "not eligible"],
        categories=["eligible", "not eligible", "never used"],
    )
    table = add_rates(
        pd.DataFrame(
            {
                "fsm": fsm,
                "sessions_present": [9, 5, 10, 10],
                "sessions_aea": [0, 0, 0, 0],
                "sessions_authorised": [1, 0, 10, 0],
                "sessions_unauthorised": [0, 5, 0, 0],
            }
        )
    )
    out = group_rates(table, "fsm")
    assert list(out.columns) == [
        "fsm",
        "enrolments",
        *COUNT_COLUMNS,
        "pa_enrolments",
        "sa_enrolments",
        "pa_pct",
        "sa_pct",
        "attendance_pct",
        "absence_pct",
        "authorised_pct",
        "unauthorised_pct",
    ]
    assert out["fsm"].tolist()[:2] == ["eligible", "not eligible"] and pd.isna(out["fsm"][2])
    assert len(out) == 3  # no row for the category nobody is in
    assert out["enrolments"].tolist() == [2, 1, 1]
    assert out["sessions_possible"].tolist() == [20, 10, 20]
    assert out["absence_pct"].tolist() == [30.0, 0.0, 50.0]  # 6 of 20, 0 of 10, 10 of 20
    assert out["pa_enrolments"].tolist() == [2, 0, 1]
    assert out["sa_pct"].tolist() == [50.0, 0.0, 100.0]


def test_persistent_and_severe_absence_just_under_their_thresholds_of_odd_totals():
    # 10 of 101 sessions is 9.90 % (not persistent); 50 of 101 is 49.5 % (not severe)
    counts = pd.DataFrame(
        {
            "sessions_present": [91, 51, 90],
            "sessions_aea": [0, 0, 0],
            "sessions_authorised": [10, 0, 0],
            "sessions_unauthorised": [0, 50, 10],
        }
    )
    out = add_rates(counts)
    assert out["sessions_possible"].tolist() == [101, 101, 100]
    assert out["persistent_absent"].tolist() == [False, True, True]  # 10 of 100 is 10 %
    assert out["severe_absent"].tolist() == [False, False, False]
    assert out.loc[1, "absence_pct"] == pytest.approx(5000 / 101)


def test_mark_date_range_asks_the_engine_it_is_given(monkeypatch):
    marks = marks_frame(sessions(P1, URN_A, ["/", "I", "N"]))
    monkeypatch.setenv("ATTENDANCE_WORKBENCH_ENGINE", "abacus")
    with pytest.raises(engine.UsageError, match="got 'abacus'"):
        engine.mark_date_range(marks)
    assert engine.mark_date_range(marks, engine="duckdb") == (
        pd.Timestamp("2023-09-04"),
        pd.Timestamp("2023-09-05"),
    )


def _factorized_keys(rows: pd.DataFrame) -> pd.DataFrame:
    """What counts_from_cube's keys were before: MultiIndex.factorize of the distinct rows."""
    uniques = pd.MultiIndex.from_frame(rows).factorize()[1]
    return uniques.to_frame(index=False, name=list(rows.columns))


@pytest.mark.parametrize(
    "rows",
    [
        # the cube's keys: text categories (unused ones too), int32/int8 numbers
        pd.DataFrame(
            {
                "upn": pd.Categorical(["B2", "A1", "B2"], categories=["A1", "B2", "C3"]),
                "urn": np.array([7, 7, 9], dtype=np.int32),
                "academic_year": pd.Categorical(["2023/24"] * 3),
                "half_term": np.array([1, 2, 1], dtype=np.int8),
            }
        ).astype({"upn": pd.CategoricalDtype(pd.Index(["A1", "B2", "C3"], dtype="str"))}),
        pd.DataFrame({"urn": pd.Categorical([3, 1, 3])}),  # categories of numbers
        # the factorize's own way: a missing key, floats, booleans, object text
        pd.DataFrame({"upn": pd.Categorical(["A1", None]), "urn": [1, 2]}),
        pd.DataFrame({"sen": [True, False], "rate": [0.5, 1.0]}),
        pd.DataFrame({"upn": pd.Series(["A1", "B2"], dtype=object), "urn": [1, 2]}),
    ],
)
def test_count_keys_keep_the_values_and_types_the_multiindex_factorize_gave(rows):
    got = engine._key_frame(rows.drop_duplicates().reset_index(drop=True))
    pd.testing.assert_frame_equal(got, _factorized_keys(rows.drop_duplicates()), check_exact=True)
