"""Progress to the strategy's targets, with a straight-line trajectory from the first year.

A targets file (YAML) lists targets such as Central Bedfordshire's for 2027/28 (overall
attendance 94.5%, persistent absence 15%, FSM persistent absence 25%)::

    targets:
      - measure: attendance          # a headline measure (see strategy.MEASURES)
        group: all                   # all, fsm, sen_support, ehc_plan, or a school phase
        target_pct: 94.5
        target_year: 2027/28

Targets are set for the **full year**, so they are judged only on full-year figures
(:func:`progress`):

- The trajectory runs in a straight line from the baseline (the first full year in the data)
  to the target in the target year. ``met`` and ``gap_pp`` use the latest full year.
- A report part-way through a year (to the end of the autumn or spring term) never sets a
  part-year figure against the full-year target: absence is higher in autumn and spring
  than over the whole year (in the demo LA, 2023/24 persistent absence was 17.8% to the
  end of the spring term and 16.2% for the full year). The part-year figure is compared
  with the same point last year, and with a **part-year trajectory**: the full-year
  trajectory moved by the baseline year's gap between its part-year and full-year figures
  (``seasonal_gap_pp``), so both lines assume the same seasonal pattern as the baseline.
- "Ahead of", "level with" and "behind" the trajectory, and "met", compare the figures as
  published (rounded half up to one decimal place), so the words and the tables agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from attendance_lib.analyses.shared.dfe_cohort import last_half_term
from attendance_lib.analyses.strategy.termly import (
    HIGHER_IS_BETTER,
    MEASURES,
    measures,
    year_to_date,
)
from attendance_lib.core.academic_calendar import Calendar, parse_academic_year
from attendance_lib.core.errors import UsageError
from attendance_lib.core.numbers import format_pct, round_half_up

#: Groups a target may be set for, with the rows of an enrolment table they select.
GROUPS = {
    "all": lambda t: pd.Series(True, index=t.index),
    "fsm": lambda t: t["fsm"].astype("boolean").fillna(False).astype(bool),
    "sen_support": lambda t: t["sen"].eq("K"),
    "ehc_plan": lambda t: t["sen"].eq("E"),
    "social_worker": lambda t: t["social_worker"].astype(bool),
}
GROUP_WORDS = {
    "all": "all pupils",
    "fsm": "pupils eligible for free school meals",
    "sen_support": "pupils on SEN support",
    "ehc_plan": "pupils with an EHC plan",
    "social_worker": "pupils with a social worker",
}
PHASES = ("primary", "secondary", "special", "all_through", "alternative_provision")


def load_targets(path: str | Path) -> pd.DataFrame:
    """Read and check a targets file.

    Returns measure, group, target_pct, target_year, one row per target.

    Raises
    ------
    UsageError
        Naming the file and the target when a measure, group, value or year is not valid.
    """
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path}: targets file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not valid YAML: {exc}") from exc
    items = data.get("targets") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise UsageError(f"{path}: expected a list under 'targets:'")
    rows = []
    for i, item in enumerate(items, 1):
        where = f"{path}: target {i}"
        if not isinstance(item, dict):
            raise UsageError(f"{where}: expected measure, group, target_pct, target_year")
        measure, group = item.get("measure"), item.get("group", "all")
        if measure not in MEASURES:
            raise UsageError(f"{where}: measure must be one of {', '.join(MEASURES)}")
        if group not in GROUPS and group not in PHASES:
            raise UsageError(f"{where}: group must be one of {', '.join([*GROUPS, *PHASES])}")
        value = item.get("target_pct")
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
            raise UsageError(f"{where}: target_pct must be a number from 0 to 100")
        year = str(item.get("target_year", ""))
        try:
            parse_academic_year(year)
        except UsageError as exc:
            raise UsageError(f"{where}: target_year: {exc}") from None
        rows.append(
            {"measure": measure, "group": group, "target_pct": float(value), "target_year": year}
        )
    return pd.DataFrame(rows)


def select_group(table: pd.DataFrame, group: str) -> pd.DataFrame:
    """The rows of an enrolment table (with characteristics attached) in a target group."""
    if group in GROUPS:
        return table[GROUPS[group](table).to_numpy()]
    return table[table["phase"].eq(group).to_numpy()]


def target_history(targets: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Each target's measure in each year: academic_year, measure, group, value_pct, enrolments.

    ``tables`` maps academic year -> enrolment table for the same part of that year.
    """
    rows = []
    for year, table in sorted(tables.items()):
        for group in targets["group"].unique():
            values = measures(select_group(table, group)).set_index("measure")
            for measure in targets.loc[targets["group"] == group, "measure"]:
                rows.append(
                    {
                        "academic_year": year,
                        "measure": measure,
                        "group": group,
                        "value_pct": values.loc[measure, "value_pct"],
                        "enrolments": int(values.loc[measure, "enrolments"]),
                    }
                )
    columns = ["academic_year", "measure", "group", "value_pct", "enrolments"]
    return pd.DataFrame(rows, columns=columns)


#: Words for where a figure stands against its trajectory.
AHEAD, LEVEL, BEHIND = "ahead of", "level with", "behind"
#: ``basis`` of a :func:`progress` row.
FULL_YEAR, PART_YEAR = "full year", "part year"


def standing(value: float, reference: float, measure: str) -> str:
    """:data:`AHEAD`, :data:`LEVEL` or :data:`BEHIND` on the published (rounded) figures; "" if unknown.

    Higher is better for attendance, lower for absence measures.
    """
    if pd.isna(value) or pd.isna(reference):
        return ""
    better = 1 if measure in HIGHER_IS_BETTER else -1
    diff = better * (round_half_up(float(value)) - round_half_up(float(reference)))
    if round(diff, 9) == 0:
        return LEVEL
    return AHEAD if diff > 0 else BEHIND


def _value(history: pd.DataFrame, year: str) -> tuple[float, int]:
    row = history[history["academic_year"] == year]
    if row.empty or pd.isna(row["value_pct"].iloc[0]):
        return np.nan, 0
    return float(row["value_pct"].iloc[0]), int(row["enrolments"].iloc[0])


def progress(
    targets: pd.DataFrame,
    history: pd.DataFrame,
    academic_year: str,
    *,
    full_year: pd.DataFrame | None = None,
    part_year: bool = False,
) -> pd.DataFrame:
    """Where each measure stands against its full-year target, on the right basis.

    Parameters
    ----------
    history
        :func:`target_history` for the report's period in each year (the year to the end
        of the report's term).
    full_year
        :func:`target_history` of complete years' full-year figures; needed when
        ``part_year`` (ignored otherwise: ``history`` is then full-year).
    part_year
        True when the report stops before the end of the year.

    Returns
    -------
    DataFrame
        measure, group, basis (:data:`FULL_YEAR` / :data:`PART_YEAR`), current_pct,
        enrolments, same_point_last_year_pct, change_pp, trajectory_pct (for the
        current figure's basis: the part-year trajectory for a part-year report),
        trajectory_status (:func:`standing`), on_trajectory (ahead of or level with),
        baseline_year, baseline_pct (full year), seasonal_gap_pp (baseline year's part-year
        minus full-year figure; 0 for a full-year report), full_year (the latest complete
        year up to the report's year, "" if none), full_year_pct, full_year_trajectory_pct,
        full_year_status, target_pct, target_year, gap_pp (full_year_pct - target) and
        met (the target reached in that full year; never judged on a part-year figure).
    """
    full = history if not part_year else full_year
    if full is None:
        raise ValueError("a part-year report needs full_year figures to judge its targets")
    now = parse_academic_year(academic_year)
    last = f"{now - 1}/{now % 100:02d}"
    rows = []
    for t in targets.itertuples(index=False):
        pick = (history["measure"] == t.measure) & (history["group"] == t.group)
        same = history[pick]
        fpick = (full["measure"] == t.measure) & (full["group"] == t.group)
        years = full[fpick].dropna(subset=["value_pct"])
        years = years[years["academic_year"].map(parse_academic_year) <= now]
        if part_year:  # a baseline needs both figures for the same year
            both = same.dropna(subset=["value_pct"])["academic_year"]
            years = years[years["academic_year"].isin(both)]
        years = years.sort_values("academic_year")
        current, enrolments = _value(same, academic_year)
        before, _ = _value(same, last)
        base_year = years["academic_year"].iloc[0] if len(years) else ""
        base = float(years["value_pct"].iloc[0]) if len(years) else np.nan
        gap = _value(same, base_year)[0] - base if part_year and base_year else 0.0
        full_traj = (
            _line(base_year, base, t.target_year, t.target_pct, academic_year)
            if base_year
            else np.nan
        )
        traj = full_traj + gap
        all_full = full[fpick].dropna(subset=["value_pct"])
        all_full = all_full[all_full["academic_year"].map(parse_academic_year) <= now]
        latest = all_full["academic_year"].max() if len(all_full) else ""
        latest_pct = _value(all_full, latest)[0] if latest else np.nan
        latest_traj = (
            _line(base_year, base, t.target_year, t.target_pct, latest)
            if latest and base_year
            else np.nan
        )
        status = standing(current, traj, t.measure)
        met = standing(latest_pct, t.target_pct, t.measure) in (AHEAD, LEVEL)
        rows.append(
            {
                "measure": t.measure,
                "group": t.group,
                "basis": PART_YEAR if part_year else FULL_YEAR,
                "current_pct": current,
                "enrolments": enrolments,
                "same_point_last_year_pct": before,
                "change_pp": current - before,
                "trajectory_pct": traj,
                "trajectory_status": status,
                "on_trajectory": status in (AHEAD, LEVEL),
                "baseline_year": base_year,
                "baseline_pct": base,
                "seasonal_gap_pp": gap,
                "full_year": latest,
                "full_year_pct": latest_pct,
                "full_year_trajectory_pct": latest_traj,
                "full_year_status": standing(latest_pct, latest_traj, t.measure),
                "target_pct": t.target_pct,
                "target_year": t.target_year,
                "gap_pp": latest_pct - t.target_pct,
                "met": bool(met),
            }
        )
    return pd.DataFrame(rows)


def describe_progress(progress_rows: pd.DataFrame, period_words: str = "") -> list[str]:
    """One sentence per target, restating the :func:`progress` table (same words, same basis)."""
    out = []
    for row in progress_rows.itertuples(index=False):
        label = describe_target(row.measure, row.group).capitalize()
        target = f"{format_pct(row.target_pct)} by {row.target_year}"
        if row.basis == PART_YEAR:
            if pd.isna(row.current_pct):
                continue
            text = f"{label}: {format_pct(row.current_pct)}"
            text += f" {period_words}" if period_words else ""
            if not pd.isna(row.same_point_last_year_pct):
                text += f" ({format_pct(row.same_point_last_year_pct)} at the same point last year)"
            if row.trajectory_status:
                text += (
                    f", {row.trajectory_status} the part-year trajectory "
                    f"({format_pct(row.trajectory_pct)})"
                )
            text += (
                f". The target of {target} is for the full year, so it is judged on full-year "
                "figures only"
            )
            if row.full_year:
                text += (
                    f": in {row.full_year}, the latest full year, "
                    f"{format_pct(row.full_year_pct)}, {row.full_year_status} the trajectory "
                    f"({format_pct(row.full_year_trajectory_pct)})"
                    + ("; the target is met." if row.met else ".")
                )
            else:
                text += "; there is no full-year figure yet."
        else:
            if pd.isna(row.current_pct):
                continue
            gap = abs(round_half_up(round(float(row.gap_pp), 9)))
            status = (
                "the target is met" if row.met else f"{gap:.1f} percentage points from the target"
            )
            track = (
                f", {row.trajectory_status} the straight-line trajectory "
                f"({format_pct(row.trajectory_pct)} this year)"
                if row.trajectory_status
                else ""
            )
            text = (
                f"{label}: {format_pct(row.current_pct)} for the full year against a target of "
                f"{target}; {status}{track}."
            )
        out.append(text)
    return out


def _line(year0: str, value0: float, year1: str, value1: float, at: str) -> float:
    x0, x1, x = (parse_academic_year(y) for y in (year0, year1, at))
    if x1 <= x0:
        return value1
    return value0 + (value1 - value0) * (min(x, x1) - x0) / (x1 - x0)


def trajectory(target_row: pd.Series, *, part_year: bool = False) -> pd.DataFrame:
    """The trajectory line of one :func:`progress` row, year by year to the target year.

    ``part_year``: the part-year trajectory (moved by ``seasonal_gap_pp``). Returns
    academic_year, trajectory_pct (empty when the row has no baseline).
    """
    if not target_row["baseline_year"]:
        return pd.DataFrame({"academic_year": [], "trajectory_pct": []})
    first = parse_academic_year(target_row["baseline_year"])
    last = parse_academic_year(target_row["target_year"])
    years = [f"{y}/{(y + 1) % 100:02d}" for y in range(first, max(last, first) + 1)]
    shift = float(target_row.get("seasonal_gap_pp", 0.0)) if part_year else 0.0
    values = [
        _line(
            target_row["baseline_year"], target_row["baseline_pct"],
            target_row["target_year"], target_row["target_pct"], y,
        ) + shift
        for y in years
    ]  # fmt: skip
    return pd.DataFrame({"academic_year": years, "trajectory_pct": values})


#: The :func:`progress` columns published, in order.
PUBLISHED_COLUMNS = [
    "measure", "group", "basis", "current_pct", "enrolments", "same_point_last_year_pct",
    "change_pp", "trajectory_pct", "trajectory_status", "full_year", "full_year_pct",
    "full_year_trajectory_pct", "full_year_status", "target_pct", "target_year", "gap_pp", "met",
]  # fmt: skip
TABLE_NOTE = (
    "Current: this report's period; trajectory: for the same basis (part year or full "
    "year). Full year: the latest complete year, on which the target is judged; gap: that "
    "year minus the target (percentage points). Higher is better for attendance, lower for "
    "absence measures."
)


@dataclass(frozen=True)
class Tracking:
    """Targets tracked for a report: the figures behind :func:`progress` and the result.

    ``history``: the report's period in each year; ``full_year``: complete years' full-year
    figures (the same frame as ``history`` for a full-year report); ``part_year``: whether
    the report stops before the end of the year.
    """

    history: pd.DataFrame
    full_year: pd.DataFrame
    progress: pd.DataFrame
    part_year: bool


def track(
    ds, cube: pd.DataFrame, wanted: pd.DataFrame, academic_year: str, term: str, *, cohort: str
) -> Tracking:
    """Targets against the data folder: each year's figures on both bases, then :func:`progress`.

    Years are those of calendar.csv up to ``academic_year``; full-year figures come from the
    years before it when the report is part-year (the current year is not complete).
    """
    years = [y for y in Calendar(ds.calendar).years if y <= academic_year]

    def figures(period: str, chosen: list[str]) -> pd.DataFrame:
        tables = {y: year_to_date(ds, cube, y, period, cohort=cohort).table for y in chosen}
        return target_history(wanted, tables)

    history = figures(term, years)
    part_year = last_half_term(term) < 6
    full = figures("year", [y for y in years if y < academic_year]) if part_year else history
    result = progress(wanted, history, academic_year, full_year=full, part_year=part_year)
    return Tracking(history, full, result, part_year)


def draw_progress(ax, row: pd.Series, tracking: Tracking, part_words: str, colours) -> None:
    """Draw one target on matplotlib axes: actual figures and trajectories on each basis, the target.

    Full-year figures with the full-year trajectory; for a part-year report also the
    part-year figures (``part_words``, e.g. "to the end of the spring term") with the
    part-year trajectory. ``colours``: the house palette.
    """

    def mine(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[(frame["measure"] == row["measure"]) & (frame["group"] == row["group"])]

    series = [("full year", mine(tracking.full_year), trajectory(row))]
    if tracking.part_year:
        series.append((part_words, mine(tracking.history), trajectory(row, part_year=True)))
    ticks = {parse_academic_year(row["target_year"]): row["target_year"]}
    for colour, (name, done, line) in zip(colours, series, strict=False):
        for frame, style, what in ((done, "-", "actual"), (line, "--", "trajectory")):
            years = frame["academic_year"].tolist()
            ticks |= {parse_academic_year(y): y for y in years}
            values = frame["value_pct" if what == "actual" else "trajectory_pct"]
            x = [parse_academic_year(y) for y in years]
            marker = "o" if what == "actual" else None
            ax.plot(
                x, values, linestyle=style, marker=marker, color=colour, label=f"{what}, {name}"
            )
    x_target = parse_academic_year(row["target_year"])
    ax.plot(
        [x_target],
        [row["target_pct"]],
        "*",
        markersize=14,
        color="#000000",
        label="full-year target",
    )
    ax.set_xticks(sorted(ticks), [ticks[k] for k in sorted(ticks)])
    ax.legend(frameon=False, fontsize=8)


def describe_progress_chart(row: pd.Series, part_year: bool, part_words: str) -> str:
    """Alt text for :func:`draw_progress`."""
    label = describe_target(row["measure"], row["group"])
    part = f", and figures {part_words} with the part-year trajectory" if part_year else ""
    return (
        f"{label}: actual full-year figures by year with their straight-line trajectory{part}, "
        f"and the full-year target of {format_pct(row['target_pct'])} by {row['target_year']}."
    )


def describe_target(measure: str, group: str) -> str:
    """``persistent absence, pupils eligible for free school meals``."""
    words = GROUP_WORDS.get(group, f"{group.replace('_', ' ')} schools")
    return f"{measure.replace('_', ' ')}, {words}"
