"""Operations on text columns that pandas' own methods do slowly.

pandas 3 keeps text in pyarrow arrays (the ``str`` dtype). Its ``Series.isin`` on such a column
turns every value it is given into a Python object before asking pyarrow (0.66 CPU s for
100,000 UPNs against 100,000, about 25 times Arrow's own hash lookup), and a large LA's
reports ask that of every pupil several times.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def text_in(column: pd.Series | pd.Index, values: Iterable) -> np.ndarray:
    """Whether each value of ``column`` is among ``values``, both read as text: a bool array.

    The same answer as ``column.astype(str).isin(values)`` for text values: a missing value
    matches a missing value, and nothing else does. Values are compared as text (the number
    ``1`` matches the text ``"1"``), so give UPNs as text.

    A categorical column (the code cube's, the marks') is answered for its categories, then
    spread by its codes: its values are never made into text one by one.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = np.asarray(column.array.codes)
        # a missing value has code -1: the last place, the missing value's answer
        answers = text_in(pd.Series([*column.array.categories, None], dtype=object), values)
        return answers[codes]
    left = pa.array(pd.Series(column, copy=False).astype("str"))
    if not isinstance(values, pd.Series | pd.Index):
        values = pd.Series(list(values), dtype=object)
    right = pa.array(pd.Series(values, copy=False).astype("str"), type=left.type).unique()
    return np.asarray(pc.is_in(left, value_set=right), dtype=bool)


def key_numbers(frame: pd.DataFrame) -> np.ndarray:
    """One number per row for its combination of values, numbered in order of first appearance.

    Equal rows get equal numbers, and a missing value equals another missing value: what
    ``frame.groupby(list(frame), sort=False, dropna=False, observed=True).ngroup()`` gives,
    without hashing a tuple per row. Each column is numbered on its own (a categorical column
    by its codes), then folded into the numbers so far, which stay below the number of rows.
    """
    number = np.zeros(len(frame), dtype=np.int64)
    for name in frame.columns:
        col = frame[name]
        if isinstance(col.dtype, pd.CategoricalDtype):  # -1 (missing) becomes 0
            codes = col.cat.codes.to_numpy().astype(np.int64) + 1
            size = len(col.cat.categories) + 1
        else:
            codes, uniques = pd.factorize(col, use_na_sentinel=False)
            size = len(uniques)
        number = pd.factorize(number * size + codes)[0].astype(np.int64)
    return number
