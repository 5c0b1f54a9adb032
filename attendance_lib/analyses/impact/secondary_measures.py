"""Secondary measures: the LA's persistent absence rate by year against its region and England.

Definitions:

- LA persistent absence rate (computed from the data): DfE headline basis, i.e. the share of
  enrolments in the DfE-comparable cohort (aged 5 to 15, sixth half term left out for
  15-year-olds; :mod:`attendance_lib.analyses.shared.dfe_cohort`) whose absence over the academic
  year is >= 10% of possible sessions; enrolments with no possible session are left out and
  counted. A year is complete when the data reaches the last day of its last half term.
- Published figures: full-year persistent absence rates for phase "Total"
  (``enrolments_pa_10_exact_percent`` in census files), for England (National), the region
  (Regional) and the LA itself (Local authority) where present, as
  :func:`attendance_lib.importers.benchmarks.normalise_benchmarks` reads them. Part-year rows
  (for example "Autumn term") and the daily-data files' "Academic year" rows, which are the
  year to date, are not comparable with a full-year figure and are not used.
- Targets (Bradford's secondary measures, as parameters): "in line with the region" by the end
  of ``region_target_year`` means the LA rate is at most the region's rate plus
  ``in_line_tolerance_pp``; "better than England" by the end of ``england_target_year`` means
  the LA rate is strictly below England's. A target is ``pending`` while its year is not
  complete in the data or the comparator figure is not in ``benchmarks.csv``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from attendance_lib.analyses.shared.dfe_cohort import ZERO_POSSIBLE, period_enrolments
from attendance_lib.core.academic_calendar import (
    Calendar,
    parse_academic_year,
)
from attendance_lib.core.errors import UsageError
from attendance_lib.importers.benchmarks import normalise_benchmarks

#: How :func:`attendance_lib.importers.benchmarks.period_words` ends a full-year period.
FULL_YEAR_WORDS = "full year"
SECONDARY_COLUMNS = [
    "academic_year",
    "complete",
    "enrolments",
    "pa_enrolments",
    "zero_possible_enrolments",
    "la_pa_pct",
    "la_published_pa_pct",
    "region_pa_pct",
    "england_pa_pct",
    "gap_to_region_pp",
    "gap_to_england_pp",
    "target",
    "status",
    "note",
]


def la_pa_by_year(
    cube: pd.DataFrame, pupils: pd.DataFrame, calendar: Calendar, last_date
) -> pd.DataFrame:
    """The LA's enrolment-level persistent absence rate per academic year (DfE cohort).

    Returns
    -------
    DataFrame
        academic_year, complete, enrolments (with a possible session), pa_enrolments,
        zero_possible_enrolments, la_pa_pct.
    """
    rows = []
    for year in sorted(cube["academic_year"].astype(str).unique()):
        period = period_enrolments(cube, pupils, year, 6)
        table = period.table
        n = len(table)
        pa = int(table["persistent_absent"].sum())
        rows.append(
            {
                "academic_year": year,
                "complete": calendar.is_complete(year, last_date),
                "enrolments": n,
                "pa_enrolments": pa,
                "zero_possible_enrolments": int(
                    period.excluded.loc[
                        period.excluded["reason"] == ZERO_POSSIBLE, "enrolments"
                    ].sum()
                ),
                "la_pa_pct": 100 * pa / n if n else np.nan,
            }
        )
    return pd.DataFrame(rows)


def benchmark_pa(
    benchmarks: pd.DataFrame | None, *, region: str = "", la_name: str = ""
) -> tuple[pd.DataFrame, str, str]:
    """Full-year published PA rates by academic year for England, the region and the LA.

    ``benchmarks`` is ``benchmarks.csv`` as loaded (EES census or daily-data columns), or the
    comparator table of :func:`attendance_lib.importers.benchmarks.normalise_benchmarks`,
    which owns what each file's rows mean. Only rows whose period is a full year are used:
    a census "Academic year" row is; a daily-data "Academic year" row is the year to date
    (whatever week it was published) and never is, nor is any part-year row. ``region`` /
    ``la_name``: which area to use when there are several; empty means the only one present.
    With both census and daily full-year rows for a year, census is used.

    Returns
    -------
    (DataFrame, str, str)
        academic_year, england_pa_pct, region_pa_pct, la_published_pa_pct; and the region and
        LA names used ("" when none).
    """
    cols = ["academic_year", "england_pa_pct", "region_pa_pct", "la_published_pa_pct"]
    if benchmarks is None or benchmarks.empty:
        return pd.DataFrame(columns=cols), "", ""
    normal = {"measure", "period", "basis", "area"} <= set(benchmarks.columns)
    table = benchmarks if normal else normalise_benchmarks(benchmarks).table
    period = table["period"].astype(str)
    b = table[
        (table["measure"] == "persistent_absence")
        & (table["phase"] == "total")
        & period.str.endswith(f" {FULL_YEAR_WORDS}").to_numpy()
    ]
    b = b.assign(
        academic_year=b["period"].astype(str).str.split(" ").str[0],
        _rank=(b["basis"] != "census").astype(int),
    ).sort_values("_rank", kind="stable")
    pieces = {}
    chosen = {}
    for level, col, wanted in (
        ("National", "england_pa_pct", ""),
        ("Regional", "region_pa_pct", region),
        ("Local authority", "la_published_pa_pct", la_name),
    ):
        rows = b[(b["geographic_level"] == level) & b["value_pct"].notna()]
        names = sorted(rows["area"].dropna().astype(str).unique())
        if level != "National":
            if wanted:
                rows = rows[rows["area"] == wanted]
            elif len(names) > 1:
                raise UsageError(
                    f"benchmarks.csv has several {level.lower()} areas ({', '.join(names)}); "
                    "name the one to use"
                )
            chosen[level] = wanted or (names[0] if names else "")
        pieces[col] = rows.drop_duplicates("academic_year").set_index("academic_year")["value_pct"]
    out = pd.DataFrame(pieces).rename_axis("academic_year").reset_index()
    return out.reindex(columns=cols), chosen.get("Regional", ""), chosen.get("Local authority", "")


def secondary_disclosure() -> dict:
    """``publish_table`` arguments for a :func:`secondary_measures` table.

    The LA's PA rate is a share of enrolments: it is suppressed when the persistently absent
    enrolments are 1 to 4 (``pa_enrolments``, private: used to suppress, never shown), and
    the gaps to the region and England follow it (comparator + gap would give it back).
    """
    return {
        "counts": ["enrolments", "zero_possible_enrolments", "pa_enrolments"],
        "rates": ["la_pa_pct", "gap_to_region_pp", "gap_to_england_pp"],
        "denominator": "enrolments",
        "shares": {"la_pa_pct": "pa_enrolments"},
        "follows": {"gap_to_region_pp": "la_pa_pct", "gap_to_england_pp": "la_pa_pct"},
        "private": ["pa_enrolments"],
    }


def secondary_measures(
    la_rates: pd.DataFrame,
    benchmarks: pd.DataFrame,
    *,
    region_target_year: str = "2022/23",
    england_target_year: str = "2025/26",
    in_line_tolerance_pp: float = 0.0,
) -> pd.DataFrame:
    """The LA's PA rate by year against region and England, with the target years marked.

    Parameters
    ----------
    la_rates
        :func:`la_pa_by_year` output.
    benchmarks
        The first value of :func:`benchmark_pa`.
    region_target_year, england_target_year
        The years by whose end the LA should be in line with the region / better than England.
    in_line_tolerance_pp
        "In line" allows the LA to be this many points above the region (default 0: at or
        below the region's rate).

    Returns
    -------
    DataFrame
        One row per academic year in the data, the benchmarks or the targets; gaps are
        LA (computed) minus comparator, in percentage points; ``target`` names the target of a
        target year, ``status`` is met / not met / pending on target years (empty otherwise).
    """
    for y in (region_target_year, england_target_year):
        parse_academic_year(y)
    years = sorted(
        set(la_rates["academic_year"])
        | set(benchmarks["academic_year"])
        | {region_target_year, england_target_year}
    )
    out = pd.DataFrame({"academic_year": years})
    out = out.merge(la_rates, on="academic_year", how="left").merge(
        benchmarks, on="academic_year", how="left"
    )
    out["complete"] = out["complete"].astype("boolean").fillna(False).astype(bool)
    out["gap_to_region_pp"] = out["la_pa_pct"] - out["region_pa_pct"]
    out["gap_to_england_pp"] = out["la_pa_pct"] - out["england_pa_pct"]
    out["target"] = ""
    out["status"] = ""
    out["note"] = ""
    for year, label, gap, ok in (
        (
            region_target_year,
            "in line with region",
            "gap_to_region_pp",
            lambda g: g <= in_line_tolerance_pp,
        ),
        (england_target_year, "better than England", "gap_to_england_pp", lambda g: g < 0),
    ):
        i = out.index[out["academic_year"] == year][0]
        out.loc[i, "target"] = (
            label if not out.loc[i, "target"] else f"{out.loc[i, 'target']}; {label}"
        )
        comparator = "region_pa_pct" if gap == "gap_to_region_pp" else "england_pa_pct"
        notes = []
        if not out.loc[i, "complete"]:
            notes.append("year not complete in the data")
        if pd.isna(out.loc[i, comparator]):
            place = "England" if comparator.startswith("england") else "regional"
            notes.append(f"no full-year {place} figure in the benchmark files")
        if notes:
            status = "pending"
        else:
            status = "met" if ok(out.loc[i, gap]) else "not met"
        out.loc[i, "status"] = (
            status if not out.loc[i, "status"] else f"{out.loc[i, 'status']}; {status}"
        )
        joined = "; ".join(notes)
        out.loc[i, "note"] = joined if not out.loc[i, "note"] else f"{out.loc[i, 'note']}; {joined}"
    return out[SECONDARY_COLUMNS]
