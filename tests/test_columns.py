"""``core.columns.text_in`` gives what pandas' ``isin`` gives on text, by Arrow's lookup."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from attendance_lib.core.columns import key_numbers, text_in

UPN_LIKE = st.one_of(st.none(), st.sampled_from(["A1", "A2", "b3", "", " A1", "Ω9"]))


@given(st.lists(UPN_LIKE, max_size=30), st.lists(UPN_LIKE, max_size=30))
def test_the_same_answer_as_pandas_isin_on_text(column, values):
    series = pd.Series(column, dtype="str")
    expected = series.isin(values).to_numpy(dtype=bool)
    got = text_in(series, values)
    assert got.dtype == bool and got.shape == (len(column),)
    assert got.tolist() == expected.tolist()
    # whatever holds the values: a Series, an Index, an object array, a set
    assert text_in(series, pd.Series(values, dtype="str")).tolist() == expected.tolist()
    assert text_in(series, pd.Index(values, dtype="str")).tolist() == expected.tolist()
    assert text_in(series.to_numpy(dtype=object), set(values)).tolist() == expected.tolist()


def test_missing_matches_only_missing_and_values_are_read_as_text():
    column = pd.Series(["A1", None, "7", "B2"], dtype="str")
    assert text_in(column, ["A1"]).tolist() == [True, False, False, False]
    assert text_in(column, ["A1", None]).tolist() == [True, True, False, False]
    assert text_in(column, [7]).tolist() == [False, False, True, False]  # 7 read as "7"
    assert text_in(column, []).tolist() == [False] * 4
    assert text_in(pd.Series([], dtype="str"), ["A1"]).tolist() == []
    assert text_in(pd.Index(["A1", "B2"]), np.array(["B2"])).tolist() == [False, True]
    # a value set with repeats and a column of numbers read as text
    assert text_in(pd.Series([1, 2, 3]), pd.Series(["3", "3", "1"])).tolist() == [True, False, True]


@given(
    st.lists(UPN_LIKE, max_size=30),
    st.lists(UPN_LIKE, max_size=30),
    st.lists(st.sampled_from(["A1", "Z9", "7"]), max_size=3),
)
def test_a_categorical_column_gives_the_answer_of_its_values_as_text(column, values, unused):
    # answered for the categories, spread by the codes: missing values and categories no
    # value uses included, as a Series or an Index
    categories = sorted({v for v in column if v is not None} | set(unused))
    series = pd.Series(pd.Categorical(column, categories=categories))
    expected = series.astype(str).isin(values).to_numpy(dtype=bool)
    assert text_in(series, values).tolist() == expected.tolist()
    assert text_in(pd.CategoricalIndex(series), values).tolist() == expected.tolist()


def test_a_categorical_column_of_numbers_is_read_as_text():
    column = pd.Series(pd.Categorical([7, None, 3, 7]))
    assert text_in(column, ["7"]).tolist() == [True, False, False, True]
    assert text_in(column, ["3", None]).tolist() == [False, True, True, False]


KEY_VALUES = st.one_of(st.none(), st.sampled_from(["A1", "B2", "7"]))


@given(
    st.lists(st.tuples(KEY_VALUES, st.integers(0, 3), KEY_VALUES), max_size=40),
    st.booleans(),
)
def test_key_numbers_are_groupbys_numbers_in_order_of_first_appearance(rows, categorical):
    # text (as categories or as text) with missing values, and numbers
    frame = pd.DataFrame(rows, columns=["upn", "urn", "year"]).astype(
        {"upn": "category" if categorical else "str", "urn": "int64", "year": "str"}
    )
    expected = frame.groupby(list(frame), sort=False, dropna=False, observed=True).ngroup()
    assert key_numbers(frame).tolist() == expected.tolist()
