"""Half-up rounding (DfE display convention) and small-number suppression."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from attendance_lib.core.numbers import SUPPRESSED, round_half_up
from attendance_lib.present.disclosure import (
    DEFAULT_THRESHOLD,
    Structure,
    is_suppressed_count,
    is_suppressed_rate,
    low_share,
    protect,
    structure,
    suppress,
)


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (2.25, 1, 2.3),  # Python's round() gives 2.2 (binary float below 2.25)
        (0.05, 1, 0.1),
        (0.15, 1, 0.2),
        (1.45, 1, 1.5),
        (2.35, 1, 2.4),
        (8.65, 1, 8.7),
        (12.95, 1, 13.0),
        (99.95, 1, 100.0),
        (2.24, 1, 2.2),
        (-0.05, 1, -0.1),  # half away from zero
        (-2.25, 1, -2.3),
        (2.675, 2, 2.68),  # round() gives 2.67
        (1.005, 2, 1.01),
        (2.5, 0, 3.0),  # round() gives 2
        (3.5, 0, 4.0),
        (10.0, 1, 10.0),
        (0, 1, 0.0),
    ],
)
def test_round_half_up_scalars(value, decimals, expected):
    assert round_half_up(value, decimals) == expected


def test_python_round_differs_where_half_up_matters():
    # the reason the helper exists
    assert round(2.25, 1) == 2.2 and round_half_up(2.25) == 2.3
    assert round(2.5) == 2 and round_half_up(2.5, 0) == 3.0


def test_round_half_up_series_array_and_missing():
    s = pd.Series([2.25, np.nan, 0.05, None], dtype="float64")
    out = round_half_up(s)
    assert isinstance(out, pd.Series)
    assert out.iloc[0] == 2.3 and out.iloc[2] == 0.1
    assert out.isna().tolist() == [False, True, False, True]
    arr = round_half_up(np.array([1.25, 4.45, np.nan]))
    assert arr[:2].tolist() == [1.3, 4.5] and np.isnan(arr[2])
    assert round_half_up(np.array([])).size == 0
    assert np.isnan(round_half_up(np.nan)) and np.isnan(round_half_up(None))
    assert round_half_up(np.float64(7.85)) == 7.9


def test_round_half_up_integers():
    assert round_half_up(pd.Series([1, 2, 3])).tolist() == [1.0, 2.0, 3.0]


def test_suppressed_counts_are_one_to_four_by_default():
    counts = pd.Series([0, 1, 2, 3, 4, 5, 6, 100])
    assert is_suppressed_count(counts).tolist() == [False, True, True, True, True] + [False] * 3
    # a list works too; the threshold moves the cut
    assert is_suppressed_count([9, 10], threshold=10).tolist() == [True, False]


def test_suppressed_rates_rest_on_fewer_than_five():
    assert is_suppressed_rate([0, 4, 5, np.nan]).tolist() == [True, True, False, True]
    assert is_suppressed_rate(pd.Series([9, 10]), threshold=10).tolist() == [True, False]


def test_suppress_table_counts_and_rates():
    table = pd.DataFrame(
        {
            "school": ["A", "B", "C", "D"],
            "pupils": [3, 5, 0, 40],
            "pa": [1, 0, 0, 12],
            "pa_pct": [33.3, 0.0, np.nan, 30.0],
        }
    )
    out = suppress(table, counts=["pupils", "pa"], rates=["pa_pct"], denominator="pupils")
    assert out["pupils"].tolist() == [SUPPRESSED, 5, 0, 40]
    assert out["pa"].tolist() == [SUPPRESSED, 0, 0, 12]
    assert out["pa_pct"].tolist()[0] == SUPPRESSED
    assert out["pa_pct"].tolist()[1] == 0.0
    assert out["pa_pct"].tolist()[2] == SUPPRESSED  # denominator 0
    assert out["pa_pct"].tolist()[3] == 30.0
    assert out["school"].tolist() == ["A", "B", "C", "D"]
    # the input is left alone
    assert table["pupils"].tolist() == [3, 5, 0, 40]
    assert SUPPRESSED == "c"


def test_a_share_in_a_long_table_and_a_row_with_no_data():
    """PA as a row of a long table (its count private); a year with no data stays x."""
    table = pd.DataFrame(
        {
            "measure": ["absence", "persistent", "severe", "persistent"],
            "enrolments": [34, 34, 34, np.nan],
            "counted": [np.nan, 9, 1, np.nan],  # the share's own count; none for a session rate
            "value_pct": [7.9, 26.5, 2.9, np.nan],
            "gap_pp": [1.0, 6.5, np.nan, np.nan],
        }
    )
    out = protect(
        table,
        structure(
            counts=["enrolments", "counted"],
            rates=["value_pct", "gap_pp"],
            denominator="enrolments",
            shares={"value_pct": "counted"},
            follows={"gap_pp": "value_pct"},
        ),
    )
    assert out["value_pct"].tolist()[:3] == [7.9, 26.5, SUPPRESSED]  # 2.9% of 34 is 1 pupil
    assert np.isnan(out["value_pct"].tolist()[3])  # no data: not available, not confidential
    assert out["gap_pp"].tolist()[:2] == [1.0, 6.5] and np.isnan(out["gap_pp"].tolist()[3])


def test_suppress_threshold_is_configurable_and_rates_need_a_denominator():
    table = pd.DataFrame({"n": [7, 10], "rate": [50.0, 60.0]})
    out = suppress(table, counts=["n"], rates=["rate"], denominator="n", threshold=10)
    assert out["n"].tolist() == ["c", 10]
    assert out["rate"].tolist() == ["c", 60.0]
    untouched = suppress(table, rates=["rate"])
    assert untouched["rate"].tolist() == [50.0, 60.0]


def test_round_half_up_never_gives_negative_zero():
    # a change of -0.04 percentage points is shown as 0.0, not -0.0
    value = round_half_up(-0.04)
    assert value == 0.0 and math.copysign(1.0, value) == 1.0
    assert round_half_up(-0.05) == -0.1


def test_format_pct_rounds_half_up_like_the_tables():
    from attendance_lib.core.numbers import format_pct

    assert format_pct(2.25) == "2.3%"  # Python's f"{2.25:.1f}" gives 2.2
    assert format_pct(0.05) == "0.1%"
    assert format_pct(-0.04, sign=True, unit="") == "+0.0"
    assert format_pct(4.15, sign=True, unit=" points") == "+4.2 points"
    assert format_pct(90, 0) == "90%"
    assert format_pct(float("nan")) == "not available"


# --- secondary suppression, symbols and audiences ------------------------------------------

from attendance_lib.present.disclosure import (  # noqa: E402
    DisclosureError,
    suppression_applies,
)


def _hidden(frame: pd.DataFrame) -> set[tuple[int, str]]:
    return {
        (r, c) for c in frame.columns for r in range(len(frame)) if frame[c].iloc[r] == SUPPRESSED
    }


def test_a_share_is_suppressed_with_its_count_and_when_its_implied_count_is_small():
    # sa_pct x enrolments / 100 gives the count back: 1.1% of 361 = 4
    table = pd.DataFrame(
        {"enrolments": [361, 558, 200], "sa": [4, 3, 50], "sa_pct": [1.108, 0.538, 25.0]}
    )
    out = protect(
        table,
        structure(counts=["enrolments", "sa"], shares={"sa_pct": "sa"}, denominator="enrolments"),
    )
    assert out["sa_pct"].tolist() == ["c", "c", 25.0]
    # without the count column the share is still checked: 0.54% of 558 = 3
    alone = protect(
        table[["enrolments", "sa_pct"]],
        structure(counts=["enrolments"], shares=["sa_pct"], denominator="enrolments"),
    )
    assert alone["sa_pct"].tolist() == ["c", "c", 25.0]


def test_total_minus_parts_needs_a_second_suppressed_part():
    # five categories summing to a total: one small category alone could be worked out
    table = pd.DataFrame(
        {"total": [100, 60], "a": [50, 20], "b": [30, 30], "c": [17, 7], "d": [3, 3]}
    )
    out = protect(
        table, structure(counts=["total", "a", "b", "c", "d"], row_sums={"total": list("abcd")})
    )
    # the next-smallest part is suppressed with the small one
    assert _hidden(out) == {(0, "d"), (0, "c"), (1, "d"), (1, "c")}


def test_total_rows_and_group_totals_protect_columns():
    table = pd.DataFrame(
        {
            "school": ["All", "All", "X", "X", "Y", "Y"],
            "category": ["in", "out", "in", "out", "in", "out"],
            "n": [120, 12, 60, 2, 60, 10],
            "total": [132, 132, 62, 62, 70, 70],
        }
    )
    spec = structure(
        counts=["n", "total"],
        total_rows={"column": "school", "label": "All", "within": ["category"]},
        group_totals={"part": "n", "total": "total", "within": ["school"]},
    )
    out = protect(table, spec)
    hidden = _hidden(out)
    assert (3, "n") in hidden  # the 2
    # X's total minus its other category, and the LA row minus Y, would give it back
    assert (2, "n") in hidden or (2, "total") in hidden
    assert (5, "n") in hidden or (1, "n") in hidden


def test_breaks_down_uses_the_parent_table():
    parent = pd.DataFrame({"band": ["low", "high"], "pupils": [30, 40]})
    child = pd.DataFrame(
        {
            "band": ["low", "low", "high", "high"],
            "sen": ["y", "n", "y", "n"],
            "pupils": [3, 27, 10, 30],
        }
    )
    spec = structure(counts=["pupils"], breaks_down={"table": "by_band", "on": ["band"]})
    out = protect(child, spec, parents={"by_band": parent})
    assert _hidden(out) == {(0, "pupils"), (1, "pupils")}
    # a suppressed parent cell cannot be rebuilt from the child's visible parts
    hidden_parent = parent.astype(object).copy()
    hidden_parent.loc[0, "pupils"] = SUPPRESSED
    clean = pd.DataFrame({"band": ["low", "low"], "sen": ["y", "n"], "pupils": [10, 20]})
    out = protect(clean, spec, parents={"by_band": hidden_parent})
    assert _hidden(out) == {(0, "pupils")}


def test_differences_are_suppressed_with_what_they_differ_from():
    table = pd.DataFrame(
        {"n": [3, 50], "now_pct": [10.0, 20.0], "then_pct": [12.0, 18.0], "change_pp": [-2.0, 2.0]}
    )
    spec = structure(
        counts=["n"],
        rates=["now_pct", "then_pct", "change_pp"],
        denominator="n",
        denominators={"then_pct": "n"},
        differences={"change_pp": ["now_pct", "then_pct"]},
    )
    out = protect(table, spec)
    assert out.loc[0].tolist() == ["c", "c", "c", "c"]
    assert out.loc[1].tolist() == [50, 20.0, 18.0, 2.0]


def test_a_cell_that_cannot_be_protected_is_an_error():
    # a breakdown with one group equals its parent's (published) row: nothing can hide it
    parent = pd.DataFrame({"band": ["low"], "pupils": [3]}).astype(object)
    child = pd.DataFrame({"band": ["low"], "sen": ["y"], "pupils": [3]})
    spec = structure(counts=["pupils"], breaks_down={"table": "p", "on": ["band"]})
    with pytest.raises(DisclosureError, match="worked out"):
        protect(child, spec, parents={"p": parent})
    # the total itself is a complement when it is in the same table
    table = pd.DataFrame({"total": [3], "only": [3]})
    out = protect(table, structure(counts=["only"], row_sums={"total": ["only"]}))
    assert out.loc[0].tolist() == ["c", "c"]


def test_audience_decides_who_is_protected():
    assert suppression_applies("public", own=True) and suppression_applies("public", own=False)
    assert not suppression_applies("school", own=True) and suppression_applies("school", own=False)
    assert not suppression_applies("restricted", own=False)
    with pytest.raises(ValueError, match="audience"):
        suppression_applies("everyone", own=False)
    table = pd.DataFrame({"area": ["School", "LA"], "n": [2, 3]})
    spec = structure(counts=["n"])
    assert protect(table, spec, audience="school", own=[True, False])["n"].tolist() == [2, "c"]
    assert protect(table, spec, audience="restricted")["n"].tolist() == [2, 3]
    assert protect(table, spec)["n"].tolist() == ["c", "c"]


def test_a_structure_travels_to_the_runner_unchanged():
    # the runner's disclosure attack rebuilds the table's arithmetic from run.json
    spec = structure(
        counts=["pupils", "pa"],
        rates=["absence_pct"],
        denominator="pupils",
        denominators={"pa_pct": "enrolments"},
        shares={"pa_pct": "pa", "sa_pct": None},
        row_sums={"pupils": ["boys", "girls"]},
        total_rows={"column": "school", "label": "All schools", "within": ["phase"]},
        group_totals={"part": "pa", "total": "all_pa", "within": ["urn"]},
        differences={"change": ["this_pct", "last_pct"]},
        breaks_down={"table": "headline", "on": ["phase"], "columns": {"pupils": "enrolments"}},
        follows={"gap": "pa_pct"},
        threshold=10,
    )
    assert Structure.from_json(json.loads(json.dumps(spec.to_json()))) == spec
    assert Structure.from_json({}) == Structure()
    assert Structure().threshold == DEFAULT_THRESHOLD == 5


@pytest.mark.parametrize(
    ("value", "decimals", "low"),
    [
        (0.04, 1, True),  # shown as 0.0 but not zero: "low"
        (0.049, 1, True),
        (0.05, 1, False),  # rounds half up to 0.1
        (0.004, 2, True),
        (0.005, 2, False),
        (0.0, 1, False),  # a true zero is shown as 0.0
        (-0.01, 1, False),
        (float("nan"), 1, False),
    ],
)
def test_low_is_a_positive_share_that_rounds_to_zero(value, decimals, low):
    assert low_share(value, decimals) is low
    if decimals == 1:  # one decimal place unless told otherwise
        assert low_share(value) is low


def test_a_count_written_as_text_is_still_suppressed():
    # a column read as text ("3") is published as the number 3: it must be protected as one
    frame = pd.DataFrame({"school": ["A", "B", "C"], "pupils": ["3", "40", "c"]})
    out = protect(frame, structure(counts=["pupils"]))
    assert out["pupils"].tolist() == [SUPPRESSED, "40", SUPPRESSED]


def test_the_declared_sums_a_reader_can_do():
    from attendance_lib.present.disclosure import linear_sums

    frame = pd.DataFrame(
        {
            "school": ["A", "B", "All", "C"],
            "phase": ["p", "p", "p", "s"],
            "pupils": [10, 20, 30, 5],
            "pa": [1, 2, 3, 1],
            "all_pa": [3, 3, 3, 1],
            "change": [1.0, 2.0, 3.0, 4.0],
            "this": [5.0, 6.0, 7.0, 8.0],
            "last": [4.0, 4.0, 4.0, 4.0],
        }
    )
    spec = structure(
        counts=["pupils"],
        total_rows=[
            {"column": "not_here", "label": "x"},
            {"column": "school", "label": "All", "within": ["phase"]},
        ],
        group_totals={"part": "pa", "total": "all_pa", "within": ["phase"]},
        differences={"change": ["this", "last"]},
        breaks_down=[
            {"table": "not_published", "on": ["phase"]},
            {"table": "parent", "on": ["phase"], "columns": {"pupils": "enrolments"}},
        ],
    )
    parent = pd.DataFrame({"phase": ["s", "p"], "enrolments": [5, 30]})
    sums = linear_sums(frame, spec, {"parent": parent})
    assert sums == [
        # the All row is A + B (C is in another phase)
        [(("", 2, "pupils"), 1.0), (("", 0, "pupils"), -1.0), (("", 1, "pupils"), -1.0)],
        # each phase's all_pa (on any of its rows) is the sum of its pa
        [(("", 0, "all_pa"), 1.0)] + [(("", i, "pa"), -1.0) for i in (0, 1, 2)],
        [(("", 3, "all_pa"), 1.0), (("", 3, "pa"), -1.0)],
        # change = this - last, row by row
        *([(("", r, "change"), 1.0), (("", r, "this"), -1.0), (("", r, "last"), 1.0)]
          for r in range(4)),
        # the parent's enrolments for each phase are this table's pupils of that phase
        [(("parent", 0, "enrolments"), 1.0), (("", 3, "pupils"), -1.0)],
        [(("parent", 1, "enrolments"), 1.0)] + [(("", i, "pupils"), -1.0) for i in (0, 1, 2)],
    ]  # fmt: skip


def test_a_rate_rests_on_its_own_denominator_or_the_tables():
    spec = structure(denominator="pupils", denominators={"last_pct": "last_pupils"})
    assert spec.denominator_of("last_pct") == "last_pupils"
    assert spec.denominator_of("this_pct") == "pupils"


def test_a_share_without_its_count_is_suppressed_on_the_implied_count_and_followers_with_it():
    # 40 pupils: 2.5 % is 1 pupil, 7.5 % is 3, 12.5 % is 5 (published), 5 % is 2
    frame = pd.DataFrame(
        {
            "pupils": [40, 40, 40, 40, 40],
            "pa_pct": [2.5, 7.5, 12.5, 0.0, 5.0],
            "gap": [1.0, 2.0, None, 4.0, None],  # a gap to the LA, built from pa_pct
        }
    )
    spec = structure(denominator="pupils", shares={"pa_pct": None}, follows={"gap": "pa_pct"})
    out = protect(frame, spec)
    assert out["pa_pct"].tolist() == [SUPPRESSED, SUPPRESSED, 12.5, 0.0, SUPPRESSED]
    # the gap goes wherever its rate goes; a gap that is not there stays missing
    assert out["gap"].tolist()[:2] == [SUPPRESSED, SUPPRESSED] and out["gap"].iloc[3] == 4.0
    assert pd.isna(out["gap"].iloc[2]) and pd.isna(out["gap"].iloc[4])


def test_the_complement_is_the_smallest_visible_non_zero_cell_and_errors_name_the_row():
    # 22 = 2 + 0 + 10 + 10: the 2 is suppressed; the complement is a 10 (the first), not the 0
    frame = pd.DataFrame({"total": [22], "a": [2], "b": [0], "c": [10], "d": [10]})
    out = protect(
        frame, structure(counts=["a", "b", "c", "d"], row_sums={"total": ["a", "b", "c", "d"]})
    )
    assert out.loc[0].tolist() == [22, SUPPRESSED, 0, SUPPRESSED, 10]
    # the second row of a breakdown is alone under its parent's total: nothing can hide it
    parent = pd.DataFrame({"band": ["low"], "pupils": [3]}).astype(object)
    child = pd.DataFrame({"band": ["x", "low"], "sen": ["n", "y"], "pupils": [10, 3]})
    spec = structure(counts=["pupils"], breaks_down={"table": "p", "on": ["band"]})
    with pytest.raises(DisclosureError, match=r"^column 'pupils' row 2: a suppressed figure"):
        protect(child, spec, parents={"p": parent})
