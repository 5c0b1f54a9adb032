"""Half-up rounding and small-number suppression for published figures.

Rounding: the DfE and GSS round half up for display (2.25 -> 2.3), not Python's
round-half-to-even. Suppression: in published output, counts of 1 to 4 and rates built on
fewer than 5 pupils are shown as ``c`` (GSS "confidential"); the threshold is configurable.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

#: The GSS symbol for a suppressed (confidential) value.
SUPPRESSED = "c"
#: Default: counts below this (but above zero) are suppressed, and rates on fewer pupils.
DEFAULT_THRESHOLD = 5


def round_half_up(values, decimals: int = 1):
    """Round half away from zero at ``decimals`` places (DfE display convention).

    Works on a scalar, a NumPy array or a pandas Series; missing values stay missing.
    Each value is rounded through its shortest decimal representation, so ``2.25``
    becomes ``2.3`` even though the binary float is slightly below 2.25.

    Examples
    --------
    >>> round_half_up(2.25)
    2.3
    >>> round_half_up(-0.05)
    -0.1
    """
    quantum = Decimal(1).scaleb(-decimals)

    def one(x):
        if x is None or (isinstance(x, float) and np.isnan(x)) or x is pd.NA:
            return np.nan
        # + 0.0 turns a negative zero (-0.04 -> -0.0) into 0.0, so tables never show "-0.0"
        return float(Decimal(repr(float(x))).quantize(quantum, rounding=ROUND_HALF_UP)) + 0.0

    if isinstance(values, pd.Series):
        return values.astype("float64").map(one)
    if isinstance(values, np.ndarray):
        return np.vectorize(one, otypes=[float])(values) if values.size else values.astype(float)
    return one(values)


def format_pct(value, decimals: int = 1, *, sign: bool = False, unit: str = "%") -> str:
    """A rate for sentences, alt text and chart labels, rounded half up like the tables.

    ``6.25`` -> ``"6.3%"``; ``sign=True`` gives ``"+6.3%"`` for changes; ``unit=""`` drops the
    per cent sign (for percentage points, say); missing -> ``"not available"``.

    Examples
    --------
    >>> format_pct(6.25)
    '6.3%'
    >>> format_pct(-0.04, sign=True, unit=" points")
    '+0.0 points'
    """
    if value is None or pd.isna(value):
        return "not available"
    rounded = round_half_up(float(value), decimals)
    return f"{rounded:{'+' if sign else ''}.{decimals}f}{unit}"


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
