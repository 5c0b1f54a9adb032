"""How published figures are rounded, and the GSS symbol that stands for a suppressed value.

The DfE and GSS round half up for display (2.25 -> 2.3), not Python's round-half-to-even.
Every layer that turns a figure into text or a table uses these, so the sentences, the alt
text, the tables and the CSVs agree. Suppression itself (which cells become ``c``) is
:mod:`attendance_lib.present.disclosure`.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

#: The GSS symbol for a suppressed (confidential) value.
SUPPRESSED = "c"
#: The GSS symbol for a value that is not available (missing, or not collected).
NOT_AVAILABLE = "x"
#: The GSS symbol for a value that is not applicable (a ratio to a rate of zero, say).
NOT_APPLICABLE = "z"
#: The EES symbol for a positive value that rounds to zero.
LOW = "low"


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


def format_p(p: float) -> str:
    """A p-value for readers: ``< 0.001``, or to three decimal places (``0.042``).

    Never scientific notation (``6.22e-307`` is shown as ``< 0.001``); missing -> ``not
    available``.

    Examples
    --------
    >>> format_p(6.22e-307)
    '< 0.001'
    >>> format_p(0.0416)
    '0.042'
    """
    if p is None or pd.isna(p):
        return "not available"
    if p < 0.001:
        return "< 0.001"
    if p > 0.999:
        return "> 0.999"
    return f"{round_half_up(float(p), 3):.3f}"


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
