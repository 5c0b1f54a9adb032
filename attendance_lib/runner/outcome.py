"""What a run produced, and the text the command line prints about it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from attendance_lib.runner.execute import CellFailure

OK = "ok"
FAILED = "failed"


@dataclass
class UnitOutcome:
    """One executed notebook: a report, or one school's report of a ``for_each`` file.

    Attributes
    ----------
    label
        ``<params stem>`` or ``<params stem>/<urn>``.
    status
        ``"ok"`` or ``"failed"``.
    out_dir
        The report folder (on failure: where the report would have gone).
    html, notebook, tables
        The published files (``None``/empty on failure).
    failed_notebook
        The executed notebook kept for inspection when the run failed (if it got that far).
    failure
        The failing cell and its error, when a cell raised.
    message
        Any other reason for failure (kernel start, privacy gate, external load, bad data).
    """

    label: str
    title: str
    status: str
    out_dir: Path
    seconds: float = 0.0
    urn: int | None = None
    html: Path | None = None
    notebook: Path | None = None
    tables: list[Path] = field(default_factory=list)
    failed_notebook: Path | None = None
    failure: CellFailure | None = None
    message: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == OK


@dataclass
class RunOutcome:
    """One parameter file's run: one unit, or one per school with ``for_each: school``."""

    params_file: Path
    report: str
    title: str
    restricted: bool
    units: list[UnitOutcome]
    seconds: float = 0.0
    audience: str = "public"

    @property
    def ok(self) -> bool:
        return all(u.ok for u in self.units)

    @property
    def failed(self) -> list[UnitOutcome]:
        return [u for u in self.units if not u.ok]


@dataclass
class RunAllOutcome:
    """Every parameter file in a folder, and the index page written at the end."""

    reports: list[RunOutcome]
    index: Path | None = None
    seconds: float = 0.0
    #: How many kernels ran at once and why, e.g. ``2 workers (2 cores, 23.1 GB available,
    #: 3 GB per worker); DuckDB limited to 1,536 MB in each``.
    workers: str | None = None

    @property
    def units(self) -> list[UnitOutcome]:
        return [u for r in self.reports for u in r.units]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.reports)


def _rel(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def _indent(text: str, by: str = "    ") -> str:
    return "\n".join(by + line for line in text.splitlines())


def format_unit(unit: UnitOutcome) -> str:
    """One unit in a line (ok) or a few lines (failed: the cell, the error, the kept notebook)."""
    if unit.ok:
        n = len(unit.tables)
        return (
            f"ok      {unit.label}  {_rel(unit.html)}  "
            f"({n} table{'s' if n != 1 else ''}, {unit.seconds:.1f} s)"
        )
    lines = [f"FAILED  {unit.label}  ({unit.seconds:.1f} s)"]
    if unit.failure is not None:
        lines.append(_indent(unit.failure.describe()))
    if unit.message:
        lines.append(_indent(unit.message))
    if unit.failed_notebook is not None:
        lines.append(f"    executed notebook kept: {_rel(unit.failed_notebook)}")
    return "\n".join(lines)


def _summary(units: list[UnitOutcome], seconds: float) -> str:
    failed = sum(not u.ok for u in units)
    noun = "report" if len(units) == 1 else "reports"
    return f"{len(units)} {noun}: {len(units) - failed} ok, {failed} failed ({seconds:.1f} s)"


def format_outcome(outcome: RunOutcome | RunAllOutcome) -> str:
    """The text the command line prints after ``run`` or ``run-all``: failures last."""
    units = outcome.units
    lines = [format_unit(u) for u in sorted(units, key=lambda u: (not u.ok, u.label))]
    if len(units) > 1 or isinstance(outcome, RunAllOutcome):
        lines.append(_summary(units, outcome.seconds))
    if isinstance(outcome, RunAllOutcome) and outcome.workers:
        lines.append(f"ran on {outcome.workers}")
    if isinstance(outcome, RunAllOutcome) and outcome.index is not None:
        lines.append(f"index: {_rel(outcome.index)}")
    return "\n".join(lines)
