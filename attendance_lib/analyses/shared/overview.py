"""Plain-text overviews of a dataset for the terminal (``validate`` and ``demo``)."""

from __future__ import annotations

from attendance_lib.contract.dataset import Dataset
from attendance_lib.contract.reading import TABLES
from attendance_lib.core.academic_calendar import Calendar
from attendance_lib.core.numbers import round_half_up
from attendance_lib.engine.sessions import overall_rates, summarise


def dataset_overview(ds: Dataset) -> str:
    """Tables found with their row counts, the academic years covered, and any warnings."""
    lines = [f"Data folder: {ds.root}  (fingerprint {ds.fingerprint})"]
    for name in TABLES:
        rows = ds.count_marks() if name == "marks" else _rows(getattr(ds, name))
        if rows is None:
            lines.append(f"  {name:<14} not supplied (optional)")
        else:
            lines.append(f"  {name:<14} {rows:>12,} rows")
    lines.append(f"  academic years: {', '.join(Calendar(ds.calendar).years)}")
    lines.append(f"  schools: {len(ds.schools):,} in {ds.schools['locality'].nunique()} localities")
    for warning in ds.warnings:
        lines.append(f"  warning: {warning}")
    return "\n".join(lines)


def _rows(frame) -> int | None:
    return None if frame is None else len(frame)


def headline_summary(ds: Dataset) -> str:
    """Enrolment-level absence, persistent and severe absence for each academic year."""
    if ds.marks_path is None:
        return "No register marks: no headline figures."
    cal = Calendar(ds.calendar)
    lines = ["Headline figures (all enrolments with marks, full academic year, enrolment level):"]
    lines.append(f"  {'year':<9}{'enrolments':>12}{'absence %':>11}{'PA %':>8}{'SA %':>8}")
    for year in cal.years:
        start, end = cal.year_bounds(year)
        table = summarise(ds, start, end).table
        if table.empty:
            continue
        r = overall_rates(table)
        lines.append(
            f"  {year:<9}{int(r['enrolments']):>12,}{round_half_up(r['absence_pct']):>11}"
            f"{round_half_up(r['pa_pct']):>8}{round_half_up(r['sa_pct']):>8}"
        )
    return "\n".join(lines)
