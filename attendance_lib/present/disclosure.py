"""Small-number suppression for published figures.

In published output, counts of 1 to 4 and rates built on fewer than 5 pupils are shown as
``c`` (GSS "confidential"); the threshold is configurable. Rounding is
:mod:`attendance_lib.core.numbers`.
"""

from __future__ import annotations

import pandas as pd

from attendance_lib.core.numbers import SUPPRESSED

#: Default: counts below this (but above zero) are suppressed, and rates on fewer pupils.
DEFAULT_THRESHOLD = 5


def is_suppressed_count(counts, threshold: int = DEFAULT_THRESHOLD):
    """True where a count must not be published: ``0 < count < threshold``.

    Zero is published (a true zero discloses nothing about an individual).
    """
    counts = pd.Series(counts) if not isinstance(counts, pd.Series) else counts
    return (counts > 0) & (counts < threshold)


def is_suppressed_rate(denominators, threshold: int = DEFAULT_THRESHOLD):
    """True where a rate or mean rests on fewer than ``threshold`` pupils (including zero)."""
    denominators = (
        pd.Series(denominators) if not isinstance(denominators, pd.Series) else denominators
    )
    return denominators.fillna(0) < threshold


def suppress(
    table: pd.DataFrame,
    *,
    counts: list[str] | tuple[str, ...] = (),
    rates: list[str] | tuple[str, ...] = (),
    denominator: str | None = None,
    threshold: int = DEFAULT_THRESHOLD,
) -> pd.DataFrame:
    """Return a copy of ``table`` with suppressed cells replaced by ``"c"``.

    Parameters
    ----------
    counts
        Count columns: values 1..threshold-1 become ``c``.
    rates
        Rate or mean columns: become ``c`` on rows whose ``denominator`` is below
        ``threshold``. Without a denominator, rates are left as they are.
    denominator
        The column holding the number of pupils (or enrolments) each rate rests on.

    The affected columns become ``object`` dtype; other values are left unrounded.
    """
    out = table.copy()
    for col in counts:
        mask = is_suppressed_count(out[col], threshold)
        out[col] = out[col].astype(object).where(~mask, SUPPRESSED)
    if denominator is not None:
        mask = is_suppressed_rate(table[denominator], threshold)
        for col in rates:
            out[col] = out[col].astype(object).where(~mask, SUPPRESSED)
    return out
