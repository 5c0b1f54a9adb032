"""Attendance bands with explicit edges.

A band set is an ordered list of bands, best attendance first. Each band states its lower
and upper edge and whether each edge is included, so a value of exactly 95.0 or 90.0 or
50.0 lands where the definition says and nowhere else.

Presets
-------
``cbc``
    Central Bedfordshire's KS2-by-attendance table: 100%; 95 to <100; 90 to <95;
    85 to <90; <85.
``dfe_5pp``
    Five-point bands as in DfE attainment-by-attendance analyses: 95-100, 90 to <95, ...,
    50 to <55, <50.
``five_categories``
    The five attendance categories used at Targeting Support Meetings (Lincolnshire strategy,
    DfE *Working together*): >= 95 expected; > 90 and < 95 at risk of PA; >= 80 and <= 90 PA;
    > 50 and < 80 at risk of severe; <= 50 severe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from attendance_lib.core.errors import UsageError


@dataclass(frozen=True)
class Band:
    """One band: ``low <= x <= high`` with each edge inclusive or not."""

    label: str
    low: float
    high: float
    low_inclusive: bool = True
    high_inclusive: bool = False

    def contains(self, values: np.ndarray) -> np.ndarray:
        above = values >= self.low if self.low_inclusive else values > self.low
        below = values <= self.high if self.high_inclusive else values < self.high
        return above & below


@dataclass(frozen=True)
class Bands:
    """An ordered set of bands (best attendance first)."""

    name: str
    bands: tuple[Band, ...]

    @property
    def labels(self) -> list[str]:
        return [b.label for b in self.bands]


def from_edges(edges: Sequence[float]) -> Bands:
    """Bands from explicit edges, e.g. ``[100, 95, 90, 85]``.

    Edges are sorted descending; each band includes its lower edge and excludes its upper
    edge, except that an edge of 100 gets a band of its own (exactly 100%) and the top band
    otherwise includes 100. The last band runs from 0 to below the smallest edge.
    """
    try:
        cuts = sorted({float(e) for e in edges}, reverse=True)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"band edges must be numbers, got {list(edges)!r}") from exc
    if not cuts or any(not 0 < c <= 100 for c in cuts):
        raise UsageError(f"band edges must lie in (0, 100], got {list(edges)!r}")
    bands: list[Band] = []
    upper = 100.0
    if cuts[0] == 100:
        bands.append(Band("100%", 100, 100, True, True))
        cuts = cuts[1:]
    for c in cuts:
        top_incl = upper == 100 and not bands
        label = f"{_fmt(c)} to {'' if top_incl else '<'}{_fmt(upper)}%"
        bands.append(Band(label, c, upper, True, top_incl))
        upper = c
    bands.append(Band(f"<{_fmt(upper)}%", 0, upper, True, False))
    return Bands("custom", tuple(bands))


def _fmt(x: float) -> str:
    return f"{x:g}"


PRESETS: dict[str, Bands] = {
    "cbc": Bands(
        "cbc",
        (
            Band("100%", 100, 100, True, True),
            Band("95 to <100%", 95, 100),
            Band("90 to <95%", 90, 95),
            Band("85 to <90%", 85, 90),
            Band("<85%", 0, 85),
        ),
    ),
    # five-point bands are what from_edges makes of 95, 90, ..., 50
    "dfe_5pp": Bands("dfe_5pp", from_edges(range(95, 45, -5)).bands),
    "five_categories": Bands(
        "five_categories",
        (
            Band("95% or more (expected)", 95, 100, True, True),
            Band("over 90% and under 95% (at risk of PA)", 90, 95, False, False),
            Band("80% to 90% (persistently absent)", 80, 90, True, True),
            Band("over 50% and under 80% (at risk of severe)", 50, 80, False, False),
            Band("50% or less (severely absent)", 0, 50, True, True),
        ),
    ),
}


def resolve_bands(spec: str | Sequence[float] | Bands) -> Bands:
    """A preset name (``cbc``, ``dfe_5pp``, ``five_categories``), explicit edges, or Bands."""
    if isinstance(spec, Bands):
        return spec
    if isinstance(spec, str):
        try:
            return PRESETS[spec]
        except KeyError:
            raise UsageError(
                f"unknown bands preset {spec!r}; expected one of {', '.join(PRESETS)} "
                "or a list of edges such as [100, 95, 90, 85]"
            ) from None
    return from_edges(spec)


def assign(attendance_pct, bands: Bands | str | Sequence[float]) -> pd.Categorical:
    """The band of each attendance percentage, as an ordered categorical (best band first).

    Missing values get no band (NaN). Values outside 0..100 raise ``ValueError``.
    """
    bands = resolve_bands(bands)
    values = np.asarray(attendance_pct, dtype="float64")
    if np.any((values < 0) | (values > 100)):
        raise ValueError("attendance percentages must lie between 0 and 100")
    codes = np.full(values.shape, -1, dtype=np.int16)
    for i, band in enumerate(bands.bands):
        hit = band.contains(values) & (codes == -1)
        codes[hit] = i
    return pd.Categorical.from_codes(codes, categories=bands.labels, ordered=True)
