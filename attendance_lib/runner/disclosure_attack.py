"""The disclosure attack: try to work out a suppressed small count from a public report's tables.

The library suppresses (:mod:`attendance_lib.present.disclosure`); this module checks the
result independently, as a reader with a spreadsheet would, from the CSVs exactly as
published and the arithmetic each table declares (carried with the table from
``publish_table``), plus what can be inferred from the column names alone:

- **rate x denominator**: a share (``sa_pct`` of ``enrolments``) shown to one decimal place
  pins its count to an interval; a count of 1 to 4 is recovered when every whole number in
  that interval is between 1 and 4;
- **total minus parts**: in each declared sum (columns adding to a total, total rows, group
  totals, published differences) a single unknown is the total minus the visible parts;
- **a breakdown against its parent**: the parent table's row minus the breakdown's other rows.

Values recovered are used again (a chain of sums), until nothing more is learnt. Rounded
values are intervals (``1.1`` is 1.05 to 1.15), so rounding is taken into account honestly: a
figure is "recovered" only when the interval leaves no doubt that it is a small count.

Run by the runner on every ``public`` report (:func:`check_report`); a finding fails the run.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd

from attendance_lib.core.numbers import LOW, SUPPRESSED
from attendance_lib.present.disclosure import Structure, linear_sums
from attendance_lib.runner.publish import published_tables

#: Only reports for this audience are attacked (a school's pack shows its own small numbers
#: on purpose; a restricted report identifies pupils anyway).
ATTACKED_AUDIENCE = "public"
_NUMBER = re.compile(r"^[+-]?\d+(?:\.(\d+))?$")
_MAX_ROUNDS = 20

Interval = tuple[float, float]


@dataclass(frozen=True)
class Recovery:
    """A small count that can be worked out: where, and how."""

    table: str
    row: int
    column: str
    how: str

    def __str__(self) -> str:
        return (
            f"{self.table}: row {self.row + 1}, column {self.column}: a count under 5 can be "
            f"worked out ({self.how})"
        )


def parse_cell(text: Any, exact: bool) -> Interval | None:
    """A published cell as the interval it stands for; ``None`` when unknown.

    ``exact`` (a count) gives ``(v, v)``; a rate shown as ``1.1`` gives ``(1.05, 1.15)``.
    ``low`` is a share between 0 and 0.05; ``c``, ``x``, ``z`` and text are unknown.
    """
    if isinstance(text, int | float) and not isinstance(text, bool):
        if math.isnan(text):
            return None
        text = repr(text)
    text = str(text).strip().replace(",", "")
    if text == LOW:
        return (0.0, 0.05)
    match = _NUMBER.match(text)
    if not match:
        return None
    value = float(text)
    if exact:
        return (value, value)
    places = len(match.group(1) or "")
    half = 0.5 * 10.0**-places
    return (value - half, value + half)


def _small(interval: Interval, threshold: int) -> bool:
    """True when every whole number in ``interval`` is 1 to ``threshold - 1`` (and one exists)."""
    lo, hi = math.ceil(interval[0] - 1e-9), math.floor(interval[1] + 1e-9)
    return lo <= hi and lo >= 1 and hi <= threshold - 1


def infer_structure(frame: pd.DataFrame) -> Structure:
    """What a reader can infer from the column names alone.

    Counts: ``enrolments``, ``pupils`` and columns ending ``_enrolments`` or ``_pupils``. A rate
    ``X_pct`` beside a count ``X_enrolments`` (or ``X``) is a share of ``enrolments`` (or
    ``pupils``).
    """
    cols = list(frame.columns)
    counts = [
        c for c in cols if c in {"enrolments", "pupils"} or c.endswith(("_enrolments", "_pupils"))
    ]
    denominator = next((c for c in ("enrolments", "pupils") if c in cols), None)
    shares = {}
    if denominator:
        for c in cols:
            if not c.endswith("_pct") or c.startswith(("previous_", "last_")):
                continue
            stem = c[: -len("_pct")]
            for num in (f"{stem}_enrolments", f"{stem}_pupils", stem):
                if num in counts and num != denominator:
                    shares[c] = num
                    break
    return Structure(
        counts=tuple(counts),
        rates=tuple(shares),
        denominator=denominator,
        shares=tuple(shares.items()),
    )


def merge(declared: Structure | None, inferred: Structure) -> Structure:
    """The declared structure with the inferred counts and shares added."""
    if declared is None:
        return inferred
    shares = dict(inferred.shares) | dict(declared.shares)
    return Structure(
        counts=tuple(dict.fromkeys([*declared.counts, *inferred.counts])),
        rates=tuple(dict.fromkeys([*declared.rates, *shares])),
        denominator=declared.denominator or inferred.denominator,
        denominators=declared.denominators,
        shares=tuple(shares.items()),
        row_sums=declared.row_sums,
        total_rows=declared.total_rows,
        group_totals=declared.group_totals,
        differences=declared.differences,
        breaks_down=declared.breaks_down,
        follows=declared.follows,
        threshold=declared.threshold,
    )


def attack_table(
    name: str,
    frame: pd.DataFrame,
    spec: Structure,
    parents: dict[str, pd.DataFrame] | None = None,
) -> list[Recovery]:
    """Every suppressed small count of ``frame`` (a table as published) that can be worked out,
    and every visible share that pins a count of 1 to 4."""
    parents = parents or {}
    counts = set(spec.counts)
    known: dict[tuple[str, int, str], Interval] = {}
    secret: set[tuple[str, int, str]] = set()
    for tname, table in [("", frame), *parents.items()]:
        for col in table.columns:
            for r, value in enumerate(table[col].tolist()):
                cell = (tname, r, col)
                got = parse_cell(value, exact=col in counts)
                if got is not None:
                    known[cell] = got
                elif tname == "" and str(value).strip() == SUPPRESSED and col in counts:
                    secret.add(cell)
    found: dict[tuple[int, str], Recovery] = {}
    threshold = spec.threshold

    def learn(cell, interval: Interval, how: str) -> bool:
        if cell in known:
            old = known[cell]
            interval = (max(old[0], interval[0]), min(old[1], interval[1]))
            if interval == old:
                return False
        if cell[2] in counts:  # counts are whole numbers
            interval = (math.ceil(interval[0] - 1e-9), math.floor(interval[1] + 1e-9))
        known[cell] = interval
        if cell in secret and _small(interval, threshold):
            found.setdefault((cell[1], cell[2]), Recovery(name, cell[1], cell[2], how))
        return True

    sums = linear_sums(frame, spec, parents)
    shares = dict(spec.shares)
    for _ in range(_MAX_ROUNDS):
        changed = False
        for terms in sums:
            unknown = [(c, k) for c, k in terms if c not in known]
            if len(unknown) != 1:
                continue
            (cell, coef) = unknown[0]
            lo = hi = 0.0
            for c, k in terms:
                if c == cell:
                    continue
                a, b = known[c]
                lo, hi = lo + min(k * a, k * b), hi + max(k * a, k * b)
            bounds = sorted((-lo / coef, -hi / coef))
            changed |= learn(cell, (bounds[0], bounds[1]), "a total minus its visible parts")
        for rate, num in shares.items():
            den = spec.denominator_of(rate)
            if rate not in frame or den not in frame:
                continue
            for r in range(len(frame)):
                rate_i, den_i = known.get(("", r, rate)), known.get(("", r, den))
                if rate_i is None or den_i is None:
                    continue
                implied = (rate_i[0] * den_i[0] / 100, rate_i[1] * den_i[1] / 100)
                how = f"{rate} x {den} / 100"
                if num is not None and num in frame:
                    changed |= learn(("", r, num), implied, how)
                elif _small(implied, threshold):
                    found.setdefault((r, rate), Recovery(name, r, rate, how))
        if not changed:
            break
    return sorted(found.values(), key=lambda f: (f.row, f.column))


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def is_public(spec: Any) -> bool:
    """Whether a report (a :class:`~attendance_lib.runner.params.ReportSpec`) is for the public.

    Its ``audience`` when the params file declares one; otherwise (until every params file does)
    a report not restricted and not run for each school (a school's own pack) is public.
    """
    audience = getattr(spec, "audience", None)
    if audience is not None:
        return audience == ATTACKED_AUDIENCE
    return not spec.restricted and spec.for_each != "school"


def check_report(nb: nbformat.NotebookNode, folder: Path) -> list[Recovery]:
    """Attack every public table of an executed report whose CSVs are in ``folder/tables``.

    The structure each table declared travels in its ``publish_table`` payload; the CSV is
    read back exactly as written. Tables of another audience are not attacked.
    """
    payloads = [
        p for p in published_tables(nb) if p.get("audience", ATTACKED_AUDIENCE) == ATTACKED_AUDIENCE
    ]
    tables = {
        p["name"]: _read_csv(folder / "tables" / f"{p['name']}.csv")
        for p in payloads
        if (folder / "tables" / f"{p['name']}.csv").is_file()
    }
    found: list[Recovery] = []
    for payload in payloads:
        frame = tables.get(payload["name"])
        if frame is None:
            continue
        declared = payload.get("disclosure")
        spec = merge(Structure.from_json(declared) if declared else None, infer_structure(frame))
        parents = {b.table: tables[b.table] for b in spec.breaks_down if b.table in tables}
        found += attack_table(payload["name"], frame, spec, parents)
    return found
