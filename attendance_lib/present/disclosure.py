"""Disclosure control for published tables: primary and secondary suppression, by audience.

Following GSS/EES practice (GSS, *Statistical disclosure control* guidance; EES symbols):

- **primary suppression**: a count of 1 to 4 (``threshold - 1``) becomes ``c``; a rate becomes
  ``c`` wherever its numerator or denominator is suppressed or under the threshold;
- **secondary (complementary) suppression**: no suppressed cell may be worked out from the
  published cells of the same report. A table declares its arithmetic (:class:`Structure`):
  which rate is a share of which count (rate x denominator gives the count back), which columns
  add up to a total column, which rows are totals of the others, which differences are
  published, and which other published table it breaks down. Wherever a suppressed cell is the
  only unknown of such a sum, the next-smallest cell of that sum is suppressed too, and so on
  until every sum has none or at least two unknowns;
- **symbols**: ``c`` confidential, ``x`` not available, ``z`` not applicable, ``low`` a
  positive share that rounds to zero (:mod:`attendance_lib.core.numbers`).

Who is protected depends on the audience (:func:`suppression_applies`):

- ``public`` (councillors, partners, the web): every cell is controlled;
- ``school`` (a school's own pack, for the school and the LA): the school's own pupils' figures
  are shown as they are (the school knows its pupils); figures about other schools' pupils
  (LA-wide rows) are controlled;
- ``restricted`` (named officers, with pupil identifiers): nothing is suppressed.

The runner checks the result independently: :mod:`attendance_lib.runner.disclosure_attack`
attacks every public table as published and fails the run if it recovers a small count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from attendance_lib.core.numbers import LOW, NOT_APPLICABLE, NOT_AVAILABLE, SUPPRESSED

#: Default: counts below this (but above zero) are suppressed, and rates on fewer pupils.
DEFAULT_THRESHOLD = 5
#: The audiences a report can be written for (one per params file).
AUDIENCES = ("public", "school", "restricted")
#: Every symbol a published cell may hold instead of a number.
SYMBOLS = frozenset({SUPPRESSED, NOT_AVAILABLE, NOT_APPLICABLE, LOW})


class DisclosureError(ValueError):
    """A table cannot be protected as declared (a suppressed cell has no possible complement)."""


def check_audience(audience: str) -> str:
    """``audience`` itself, or a clear error if it is not one of :data:`AUDIENCES`."""
    if audience not in AUDIENCES:
        raise ValueError(f"audience {audience!r}: use one of {', '.join(AUDIENCES)}")
    return audience


def suppression_applies(audience: str, own: bool) -> bool:
    """Whether small numbers in a row are suppressed for this audience.

    ``own`` is True for a row about the reading school's own pupils. Public: always;
    school: only rows that are not the school's own; restricted: never.
    """
    check_audience(audience)
    if audience == "public":
        return True
    if audience == "school":
        return not own
    return False


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


@dataclass(frozen=True)
class TotalRows:
    """Rows that are totals of other rows: where ``column == label``, each count column holds
    the sum of that column over the other rows with the same ``within`` values."""

    column: str
    label: Any
    within: tuple[str, ...] = ()


@dataclass(frozen=True)
class GroupTotal:
    """Within each group of rows (same ``within`` values), ``part`` sums to ``total`` (a column
    repeated on every row of the group), e.g. five categories summing to all enrolments."""

    part: str
    total: str
    within: tuple[str, ...]


@dataclass(frozen=True)
class BreaksDown:
    """This table breaks down another published table: summing each count column over the rows
    that share ``on`` values gives the parent's row with the same values (columns of the same
    name; ``columns`` maps this table's name to the parent's where they differ)."""

    table: str
    on: tuple[str, ...]
    columns: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Structure:
    """The arithmetic a reader can do with a table (what secondary suppression protects).

    ``shares`` maps a rate (a percentage of the denominator) to its numerator column, or to
    ``None`` when the count is not published (it is rate x denominator / 100). ``denominators``
    maps rate columns to their own denominator column (default ``denominator``).
    ``differences`` maps a column to the two it is the difference of (``a - b``).
    ``follows`` maps a column to another it is built from (a gap to the rest of the LA from
    the group's rate, say): it is suppressed wherever that one is.
    """

    counts: tuple[str, ...] = ()
    rates: tuple[str, ...] = ()
    denominator: str | None = None
    denominators: tuple[tuple[str, str], ...] = ()
    shares: tuple[tuple[str, str | None], ...] = ()
    row_sums: tuple[tuple[str, tuple[str, ...]], ...] = ()
    total_rows: tuple[TotalRows, ...] = ()
    group_totals: tuple[GroupTotal, ...] = ()
    differences: tuple[tuple[str, str, str], ...] = ()
    breaks_down: tuple[BreaksDown, ...] = ()
    follows: tuple[tuple[str, str], ...] = ()
    threshold: int = DEFAULT_THRESHOLD

    def denominator_of(self, rate: str) -> str | None:
        return dict(self.denominators).get(rate, self.denominator)

    def to_json(self) -> dict[str, Any]:
        """The structure as plain JSON (travels with the published table to the runner)."""
        return {
            "counts": list(self.counts),
            "rates": list(self.rates),
            "denominator": self.denominator,
            "denominators": dict(self.denominators),
            "shares": dict(self.shares),
            "row_sums": {k: list(v) for k, v in self.row_sums},
            "total_rows": [
                {"column": t.column, "label": t.label, "within": list(t.within)}
                for t in self.total_rows
            ],
            "group_totals": [
                {"part": g.part, "total": g.total, "within": list(g.within)}
                for g in self.group_totals
            ],
            "differences": {k: [a, b] for k, a, b in self.differences},
            "breaks_down": [
                {"table": b.table, "on": list(b.on), "columns": dict(b.columns)}
                for b in self.breaks_down
            ],
            "follows": dict(self.follows),
            "threshold": self.threshold,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Structure:
        """The inverse of :meth:`to_json`."""
        return cls(
            counts=tuple(data.get("counts", ())),
            rates=tuple(data.get("rates", ())),
            denominator=data.get("denominator"),
            denominators=tuple(dict(data.get("denominators", {})).items()),
            shares=tuple(dict(data.get("shares", {})).items()),
            row_sums=tuple((k, tuple(v)) for k, v in dict(data.get("row_sums", {})).items()),
            total_rows=tuple(
                TotalRows(t["column"], t["label"], tuple(t.get("within", ())))
                for t in data.get("total_rows", ())
            ),
            group_totals=tuple(
                GroupTotal(g["part"], g["total"], tuple(g["within"]))
                for g in data.get("group_totals", ())
            ),
            differences=tuple(
                (k, v[0], v[1]) for k, v in dict(data.get("differences", {})).items()
            ),
            breaks_down=tuple(
                BreaksDown(b["table"], tuple(b["on"]), tuple(dict(b.get("columns", {})).items()))
                for b in data.get("breaks_down", ())
            ),
            follows=tuple(dict(data.get("follows", {})).items()),
            threshold=int(data.get("threshold", DEFAULT_THRESHOLD)),
        )


def structure(
    *,
    counts: Iterable[str] = (),
    rates: Iterable[str] = (),
    denominator: str | None = None,
    denominators: Mapping[str, str] | None = None,
    shares: Mapping[str, str | None] | Iterable[str] = (),
    row_sums: Mapping[str, Sequence[str]] | None = None,
    total_rows: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    group_totals: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    differences: Mapping[str, Sequence[str]] | None = None,
    breaks_down: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    follows: Mapping[str, str] | None = None,
    threshold: int = DEFAULT_THRESHOLD,
) -> Structure:
    """A :class:`Structure` from plain arguments (as :func:`publish_table` takes them).

    ``total_rows={"column": "school_name", "label": "All schools", "within": ["category"]}``;
    ``group_totals={"part": "enrolments", "total": "total_enrolments", "within": ["urn"]}``;
    ``breaks_down={"table": "ks2_by_band", "on": ["band"]}``; each may also be a list.
    """

    def many(value):
        if value is None:
            return []
        return [value] if isinstance(value, Mapping) else list(value)

    share_map = dict(shares) if isinstance(shares, Mapping) else dict.fromkeys(shares)
    rate_list = list(dict.fromkeys([*rates, *share_map]))
    return Structure(
        counts=tuple(counts),
        rates=tuple(rate_list),
        denominator=denominator,
        denominators=tuple((denominators or {}).items()),
        shares=tuple(share_map.items()),
        row_sums=tuple((k, tuple(v)) for k, v in (row_sums or {}).items()),
        total_rows=tuple(
            TotalRows(t["column"], t["label"], tuple(t.get("within", ()))) for t in many(total_rows)
        ),
        group_totals=tuple(
            GroupTotal(g["part"], g["total"], tuple(g.get("within", ())))
            for g in many(group_totals)
        ),
        differences=tuple((k, v[0], v[1]) for k, v in (differences or {}).items()),
        breaks_down=tuple(
            BreaksDown(b["table"], tuple(b["on"]), tuple(dict(b.get("columns", {})).items()))
            for b in many(breaks_down)
        ),
        follows=tuple((follows or {}).items()),
        threshold=threshold,
    )


# --- the linear sums a reader can do -------------------------------------------------------

Cell = tuple[str, int, str]  # (table, row position, column); "" is the table being published


def _key(frame: pd.DataFrame, cols: Sequence[str]) -> list[tuple]:
    if not cols:
        return [()] * len(frame)
    return [tuple(r) for r in frame[list(cols)].astype(object).itertuples(index=False)]


def linear_sums(
    frame: pd.DataFrame,
    spec: Structure,
    parents: Mapping[str, pd.DataFrame] | None = None,
) -> list[list[tuple[Cell, float]]]:
    """Every declared sum as a list of ``(cell, coefficient)`` adding up to zero.

    Cells of this table are ``("", row, column)``; a parent's are ``(name, row, column)``.
    Used both to protect a table and (in the runner) to attack it.
    """
    sums: list[list[tuple[Cell, float]]] = []
    n = len(frame)
    for total, parts in spec.row_sums:
        for r in range(n):
            sums.append([(("", r, total), 1.0)] + [(("", r, p), -1.0) for p in parts])
    for t in spec.total_rows:
        if t.column not in frame:
            continue
        is_total = frame[t.column].astype(object).eq(t.label).to_numpy()
        keys = _key(frame, t.within)
        for r in np.flatnonzero(is_total):
            members = [i for i in range(n) if not is_total[i] and keys[i] == keys[r]]
            if not members:
                continue
            for col in spec.counts:
                sums.append([(("", int(r), col), 1.0)] + [(("", i, col), -1.0) for i in members])
    for g in spec.group_totals:
        keys = _key(frame, g.within)
        groups: dict[tuple, list[int]] = {}
        for i, k in enumerate(keys):
            groups.setdefault(k, []).append(i)
        for rows in groups.values():
            # the total is repeated on each row: any one of them stands for it
            sums.append([(("", rows[0], g.total), 1.0)] + [(("", i, g.part), -1.0) for i in rows])
    for name, a, b in spec.differences:
        for r in range(n):
            sums.append([(("", r, name), 1.0), (("", r, a), -1.0), (("", r, b), 1.0)])
    for b in spec.breaks_down:
        parent = (parents or {}).get(b.table)
        if parent is None:
            continue
        rename = dict(b.columns)
        mine, theirs = _key(frame, b.on), _key(parent, b.on)
        for p_row, pk in enumerate(theirs):
            members = [i for i, k in enumerate(mine) if k == pk]
            if not members:
                continue
            for col in spec.counts:
                other = rename.get(col, col)
                if other not in parent:
                    continue
                sums.append(
                    [((b.table, p_row, other), 1.0)] + [(("", i, col), -1.0) for i in members]
                )
    return [s for s in sums if all(c[2] in frame or c[0] != "" for c, _ in s)]


def _number(value: Any) -> float:
    # a symbol (c, x, z, low) is unknown; a number written as text ("3") is still a number
    if (isinstance(value, str) and value in SYMBOLS) or value is None or value is pd.NA:
        return np.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return np.nan


def protect(
    frame: pd.DataFrame,
    spec: Structure,
    *,
    audience: str = "public",
    own: Sequence[bool] | None = None,
    parents: Mapping[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Return a copy of ``frame`` with primary and secondary suppression applied (``c``).

    Parameters
    ----------
    frame
        The table, unrounded.
    spec
        Its arithmetic (:func:`structure`).
    audience
        ``public``, ``school`` or ``restricted`` (:func:`suppression_applies`).
    own
        For ``school``: True on the rows about the school's own pupils (shown as they are).
    parents
        Tables already published in this report, by name, as published (for ``breaks_down``).

    Complements are the smallest non-zero visible cells of a sum (a zero if there is none).
    Raises :class:`DisclosureError` where a suppressed cell is alone in a sum with nothing left
    to suppress.
    """
    check_audience(audience)
    out = frame.copy()
    n = len(frame)
    own_rows = np.zeros(n, bool) if own is None else np.asarray(own, bool)
    controlled = np.array([suppression_applies(audience, o) for o in own_rows], bool)
    if not controlled.any():
        return out
    values = {c: frame[c].map(_number).to_numpy(float) for c in frame.columns}
    hidden: set[Cell] = set()
    threshold = spec.threshold

    def suppress_cell(cell: Cell) -> bool:
        if cell in hidden or not controlled[cell[1]]:
            return False
        hidden.add(cell)
        return True

    # primary: counts 1..threshold-1
    for col in spec.counts:
        if col not in frame:
            continue
        v = values[col]
        for r in np.flatnonzero((v > 0) & (v < threshold)):
            suppress_cell(("", int(r), col))

    shares = dict(spec.shares)

    def rate_rules() -> bool:
        changed = False
        for rate in spec.rates:
            if rate not in frame:
                continue
            den = spec.denominator_of(rate)
            num = shares.get(rate)
            for r in range(n):
                if ("", r, rate) in hidden or not controlled[r]:
                    continue
                reason = False
                if den is not None and den in frame:
                    d = values[den][r]
                    if np.isnan(d) and np.isnan(values[rate][r]):
                        continue  # no data for the row at all: stays x, nothing to hide
                    reason = ("", r, den) in hidden or not (d >= threshold)
                if rate in shares and not reason:
                    if num is not None and num in frame:
                        k = values[num][r]
                        reason = ("", r, num) in hidden or (0 < k < threshold)
                    elif den is not None and den in frame:
                        implied = values[rate][r] * values[den][r] / 100
                        reason = bool(0 < round(implied, 6) < threshold)
                if reason:
                    changed |= suppress_cell(("", r, rate))
        for col, source in spec.follows:
            if col in frame and source in frame:
                for r in range(n):
                    if ("", r, source) in hidden and not np.isnan(values[col][r]):
                        changed |= suppress_cell(("", r, col))
        return changed

    sums = linear_sums(frame, spec, parents)
    parent_hidden = {
        (name, r, c)
        for name, table in (parents or {}).items()
        for c in table.columns
        for r in np.flatnonzero(table[c].astype(object).eq(SUPPRESSED).to_numpy())
    }

    def is_unknown(cell: Cell) -> bool:
        if cell[0]:
            return cell in parent_hidden
        return cell in hidden or np.isnan(values[cell[2]][cell[1]])

    def complement(terms: list[tuple[Cell, float]]) -> Cell | None:
        options = [c for c, _ in terms if not c[0] and not is_unknown(c) and controlled[c[1]]]
        if not options:
            return None
        size = {c: abs(values[c[2]][c[1]]) for c in options}
        nonzero = [c for c in options if size[c] > 0]
        return min(nonzero or options, key=lambda c: (size[c], c[1], c[2]))

    changed = True
    while changed:
        changed = rate_rules()
        for terms in sums:
            unknown = [c for c, _ in terms if is_unknown(c)]
            if len(unknown) != 1 or not (unknown[0] in hidden or unknown[0] in parent_hidden):
                continue
            pick = complement(terms)
            if pick is None:
                where = unknown[0]
                raise DisclosureError(
                    f"column {where[2]!r} row {where[1] + 1}: a suppressed figure could be "
                    "worked out from the others and there is nothing left to suppress with it"
                )
            changed |= suppress_cell(pick)
    for _, r, c in hidden:
        out[c] = out[c].astype(object)
        out.iat[r, out.columns.get_loc(c)] = SUPPRESSED
    return out


def suppress(
    table: pd.DataFrame,
    *,
    counts: list[str] | tuple[str, ...] = (),
    rates: list[str] | tuple[str, ...] = (),
    denominator: str | None = None,
    threshold: int = DEFAULT_THRESHOLD,
) -> pd.DataFrame:
    """Primary suppression only: counts 1 to ``threshold - 1`` and rates on fewer than
    ``threshold`` pupils become ``c`` (:func:`protect` adds the secondary suppression)."""
    return protect(
        table,
        structure(counts=counts, rates=rates, denominator=denominator, threshold=threshold),
    )


def low_share(value: float, decimals: int = 1) -> bool:
    """True for a positive share that rounds to zero at ``decimals`` places (shown ``low``)."""
    return bool(pd.notna(value) and 0 < value < 0.5 * 10.0**-decimals)


__all__ = [
    "AUDIENCES",
    "DEFAULT_THRESHOLD",
    "SYMBOLS",
    "BreaksDown",
    "DisclosureError",
    "GroupTotal",
    "Structure",
    "TotalRows",
    "check_audience",
    "is_suppressed_count",
    "is_suppressed_rate",
    "linear_sums",
    "low_share",
    "protect",
    "structure",
    "suppress",
    "suppression_applies",
]
