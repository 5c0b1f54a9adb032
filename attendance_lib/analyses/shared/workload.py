"""Workload against an expectation: only the officers and half terms that are off it.

A workload table (one row per officer and half term, a count and the expected number) is
mostly rows that say "40 40 Yes". Readers need the exceptions: :func:`off_expectation` keeps
the rows whose count differs from the expectation, and :func:`expectation_summary` says in one
sentence how many met it, so the exceptions can be shown in the report and the full table
left to the workbook.
"""

from __future__ import annotations

import pandas as pd


def off_expectation(
    table: pd.DataFrame, *, count: str, expected: str = "expected", below_only: bool = False
) -> pd.DataFrame:
    """The rows of ``table`` whose ``count`` is not the ``expected`` number.

    ``below_only`` keeps only the rows short of it. The row order is kept; the index is reset.

    Examples
    --------
    >>> t = pd.DataFrame({"officer": ["A", "A", "B"], "started": [40, 31, 45], "expected": 40})
    >>> off_expectation(t, count="started")["started"].tolist()
    [31, 45]
    """
    for col in (count, expected):
        if col not in table:
            raise KeyError(f"off_expectation: no column {col!r}")
    off = table[count] < table[expected] if below_only else table[count] != table[expected]
    return table[off.to_numpy(dtype=bool)].reset_index(drop=True)


def expectation_summary(
    table: pd.DataFrame, *, count: str, expected: str = "expected", what: str = "officer half terms"
) -> str:
    """One sentence: how many rows met the expectation exactly, fell short of it, exceeded it.

    >>> t = pd.DataFrame({"started": [40, 31, 45, 40], "expected": 40})
    >>> expectation_summary(t, count="started")
    'Of 4 officer half terms, 2 met the expectation of 40 exactly, 1 fell short of it and 1 exceeded it.'
    """
    n = len(table)
    if n == 0:
        return f"No {what} to compare with the expectation."
    short = int((table[count] < table[expected]).sum())
    over = int((table[count] > table[expected]).sum())
    levels = sorted(pd.unique(table[expected]))
    target = str(levels[0]) if len(levels) == 1 else "the expected number"
    return (
        f"Of {n} {what}, {n - short - over} met the expectation of {target} exactly, "
        f"{short} fell short of it and {over} exceeded it."
    )
