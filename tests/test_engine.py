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
