"""Progress to the strategy's targets, with a straight-line trajectory from the first year.

A targets file (YAML) lists targets such as Central Bedfordshire's for 2027/28 (overall
attendance 94.5%, persistent absence 15%, FSM persistent absence 25%)::

    targets:
      - measure: attendance          # a headline measure (see strategy.MEASURES)
        group: all                   # all, fsm, sen_support, ehc_plan, or a school phase
        target_pct: 94.5
        target_year: 2027/28

Each target is compared with the same measure, for the same group, over the same part of
the year as the report (year to the end of the term) in every academic year in the data.
The trajectory runs in a straight line from the first year in the data to the target in the
target year; ``gap_pp`` is current minus target in percentage points.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from attendance_lib.analyses.strategy.termly import HIGHER_IS_BETTER, MEASURES, measures
from attendance_lib.core.academic_calendar import parse_academic_year
from attendance_lib.core.errors import UsageError

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
    return pd.DataFrame(rows)


def progress(targets: pd.DataFrame, history: pd.DataFrame, academic_year: str) -> pd.DataFrame:
    """Where each measure stands against its target this year.

    Returns measure, group, baseline_year, baseline_pct, current_pct, enrolments (this year,
    in the group), target_pct,
    target_year, trajectory_pct (the straight line from baseline to target, read at this
    year), gap_pp (current - target), met (target reached, in the measure's better direction)
    and on_trajectory (at or better than the trajectory).
    """
    rows = []
    now = parse_academic_year(academic_year)
    for t in targets.itertuples(index=False):
        past = history[(history["measure"] == t.measure) & (history["group"] == t.group)]
        past = past[past["academic_year"].map(parse_academic_year) <= now].dropna(
            subset=["value_pct"]
        )
        past = past.sort_values("academic_year")
        this = past[past["academic_year"] == academic_year]
        current = float(this["value_pct"].iloc[0]) if len(this) else np.nan
        enrolments = int(this["enrolments"].iloc[0]) if len(this) else 0
        base_year = past["academic_year"].iloc[0] if len(past) else academic_year
        base = float(past["value_pct"].iloc[0]) if len(past) else np.nan
        trajectory = _line(base_year, base, t.target_year, t.target_pct, academic_year)
        better = 1 if t.measure in HIGHER_IS_BETTER else -1
        rows.append(
            {
                "measure": t.measure,
                "group": t.group,
                "baseline_year": base_year,
                "baseline_pct": base,
                "current_pct": current,
                "enrolments": enrolments,
                "target_pct": t.target_pct,
                "target_year": t.target_year,
                "trajectory_pct": trajectory,
                "gap_pp": current - t.target_pct,
                "met": bool(better * (current - t.target_pct) >= 0)
                if current == current
                else False,
                "on_trajectory": (
                    bool(better * (current - trajectory) >= 0) if current == current else False
                ),
            }
        )
    return pd.DataFrame(rows)


def _line(year0: str, value0: float, year1: str, value1: float, at: str) -> float:
    x0, x1, x = (parse_academic_year(y) for y in (year0, year1, at))
    if x1 <= x0:
        return value1
    return value0 + (value1 - value0) * (min(x, x1) - x0) / (x1 - x0)


def trajectory(target_row: pd.Series) -> pd.DataFrame:
    """The trajectory line of one :func:`progress` row, year by year to the target year.

    Returns academic_year, trajectory_pct.
    """
    first = parse_academic_year(target_row["baseline_year"])
    last = parse_academic_year(target_row["target_year"])
    years = [f"{y}/{(y + 1) % 100:02d}" for y in range(first, max(last, first) + 1)]
    values = [
        _line(
            target_row["baseline_year"], target_row["baseline_pct"],
            target_row["target_year"], target_row["target_pct"], y,
        )
        for y in years
    ]  # fmt: skip
    return pd.DataFrame({"academic_year": years, "trajectory_pct": values})


def describe_target(measure: str, group: str) -> str:
    """``persistent absence, pupils eligible for free school meals``."""
    words = GROUP_WORDS.get(group, f"{group.replace('_', ' ')} schools")
    return f"{measure.replace('_', ' ')}, {words}"
