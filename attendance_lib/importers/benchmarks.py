"""Comparators from Explore Education Statistics (EES) files, exactly as downloaded.

Two kinds of file are read, any number of each, and the kind comes from the columns:

- **census** (*Pupil absence in schools in England*): ``sess_overall_percent``,
  ``sess_authorised_percent``, ``sess_unauthorised_percent``,
  ``enrolments_pa_10_exact_percent``, ``enrolments_pa_50_exact_percent``; time identifiers
  "Autumn term", "Autumn and spring term", "Academic year" (a full year).
- **daily** (*Pupil attendance in schools*, from schools' daily data): ``attendance_perc``,
  ``overall_absence_perc``, ``authorised_absence_perc``, ``unauthorised_absence_perc``,
  ``pa_perc`` (and ``sa_perc`` where published). Its "Academic year" rows are the year to
  date, never a full year.

Values: quoted numbers, thousands separators and a BOM are read; the EES symbols ``c``,
``x``, ``z``, ``low``, ``u``, ``:``, ``~`` and ``.`` are not available (left out, counted).
Geographic levels National, Regional and Local authority are kept (area from
``country_name``, ``region_name`` or ``la_name``; ``new_la_code`` and ``old_la_code`` kept
for matching statistical neighbours); rows at other levels are counted, not used.

:func:`normalise_benchmarks` gives one row per comparator: geographic_level, area,
time_period, period (in words: "2025/26 year to date", "2023/24 autumn term", "2023/24 full
year"), basis (census or daily), phase (total, primary, secondary, special), measure
(attendance, overall_absence, authorised_absence, unauthorised_absence, persistent_absence,
severe_absence) and value_pct. Census files give no attendance column: their attendance is
100 - overall absence, by definition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from attendance_lib.contract.reading import ProblemLog, rows_where
from attendance_lib.core.errors import DataError, UsageError

#: The columns written by ``attendance-workbench benchmarks``, in order.
OUTPUT_COLUMNS = [
    "geographic_level",
    "area",
    "time_period",
    "period",
    "basis",
    "phase",
    "measure",
    "value_pct",
]
#: Extra columns kept in memory for matching areas by code.
CODE_COLUMNS = ["new_la_code", "old_la_code"]
MEASURES = (
    "attendance",
    "overall_absence",
    "authorised_absence",
    "unauthorised_absence",
    "persistent_absence",
    "severe_absence",
)
CENSUS_COLUMNS: dict[str, str] = {
    "sess_overall_percent": "overall_absence",
    "sess_authorised_percent": "authorised_absence",
    "sess_unauthorised_percent": "unauthorised_absence",
    "enrolments_pa_10_exact_percent": "persistent_absence",
    "enrolments_pa_50_exact_percent": "severe_absence",
}
DAILY_COLUMNS: dict[str, str] = {
    "attendance_perc": "attendance",
    "overall_absence_perc": "overall_absence",
    "authorised_absence_perc": "authorised_absence",
    "unauthorised_absence_perc": "unauthorised_absence",
    "pa_perc": "persistent_absence",
    "sa_perc": "severe_absence",
}
#: EES symbols for a figure that is not available (suppressed, not applicable, ...).
NOT_AVAILABLE = frozenset({"c", "x", "z", "low", "u", ".", ":", "~", ""})
LEVELS = {"national": "National", "regional": "Regional", "local authority": "Local authority"}
AREA_COLUMN = {"National": "country_name", "Regional": "region_name", "Local authority": "la_name"}
#: Census time identifiers and the period words they give.
CENSUS_PERIODS = {
    "autumn term": "autumn term",
    "spring term": "spring term",
    "summer term": "summer term",
    "autumn and spring term": "autumn and spring terms",
    "autumn and spring terms": "autumn and spring terms",
    "academic year": "full year",
}
_TOTAL_PHASES = {"total", "all schools", "all", "state-funded total", "all state-funded"}


@dataclass(frozen=True)
class Comparators:
    """The normalised comparators and what was left out (in words, for the command line)."""

    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def basis_of(columns) -> str | None:
    """``census`` or ``daily`` from a file's columns (None when it has neither kind)."""
    names = set(columns)
    if names & set(CENSUS_COLUMNS):
        return "census"
    if names & set(DAILY_COLUMNS):
        return "daily"
    return None


def phase_of(value) -> str:
    """``total``, ``primary``, ``secondary``, ``special`` (or the value in lower case)."""
    text = "" if pd.isna(value) else str(value).strip().lower()
    if text in _TOTAL_PHASES or text == "":
        return "total"
    for phase in ("primary", "secondary", "special"):
        if phase in text:
            return phase
    return text


def academic_year_words(time_period) -> str:
    """``202324`` -> ``2023/24``; any other form as it is."""
    text = str(time_period).strip()
    if re.fullmatch(r"\d{6}", text):
        return f"{text[:4]}/{text[4:]}"
    return text


def period_words(time_period, time_identifier, basis: str) -> str:
    """The period in words: "2023/24 autumn term", "2023/24 full year", "2025/26 year to date".

    A daily-data "Academic year" row is the year to date (the daily collection publishes the
    current year as it goes), never a full year.
    """
    year = academic_year_words(time_period)
    ident = re.sub(r"\s+", " ", str(time_identifier).strip().lower())
    if basis == "daily" and ident in ("academic year", "year to date"):
        return f"{year} year to date"
    return f"{year} {CENSUS_PERIODS.get(ident, ident)}"


def numbers(series: pd.Series, file: str, column: str, log: ProblemLog) -> pd.Series:
    """Numbers from EES text: quotes and thousands separators dropped, symbols -> NaN.

    Anything else that is not a number is a problem naming file, row and column.
    """
    if pd.api.types.is_numeric_dtype(series):
        return series.astype("float64")
    text = series.astype("string").str.strip().str.strip('"').str.replace(",", "", regex=False)
    text = text.fillna("")
    symbol = text.str.lower().isin(NOT_AVAILABLE).to_numpy()
    value = pd.to_numeric(text.mask(symbol), errors="coerce")
    bad = ~symbol & value.isna().to_numpy()
    log.rows(
        file,
        column,
        rows_where(bad),
        lambda v: f"{v!r} is not a number or an EES symbol (c, x, z, low, u, .)",
        series[bad].to_numpy(),
    )
    return value.astype("float64")


def read_ees(path: Path, log: ProblemLog) -> tuple[pd.DataFrame | None, list[str]]:
    """Read one EES file into normalised comparator rows (with the LA codes); notes on rows left out."""
    file = path.name
    try:
        raw = pd.read_csv(
            path, dtype=str, keep_default_na=False, na_values=[], encoding="utf-8-sig"
        )
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        log.add(file, None, None, f"is not a readable CSV file: {exc}")
        return None, []
    return normalise_frame(raw, file, log)


def normalise_frame(raw: pd.DataFrame, file: str, log: ProblemLog):
    """Normalise one EES table (as read, or as typed by the contract). See :func:`read_ees`."""
    raw = raw.rename(columns=lambda c: str(c).strip().lower()).reset_index(drop=True)
    notes: list[str] = []
    declared = raw.get("basis")
    # a table typed by the contract has every optional column, empty where the file had none
    basis = basis_of([c for c in raw.columns if raw[c].notna().any()])
    if basis is None:
        log.add(
            file,
            None,
            None,
            "has no comparator columns: expected census columns (sess_overall_percent, "
            "enrolments_pa_10_exact_percent, ...) or daily-data columns (attendance_perc, "
            "overall_absence_perc, pa_perc, ...)",
        )
        return None, notes
    for column in ("time_period", "time_identifier", "geographic_level"):
        if column not in raw:
            log.add(file, None, column, "required column is missing")
    if any(c not in raw for c in ("time_period", "time_identifier", "geographic_level")):
        return None, notes
    level = raw["geographic_level"].astype("string").str.strip().str.lower().map(LEVELS)
    kept = level.notna().to_numpy()
    if (~kept).any():
        others = sorted(set(raw.loc[~kept, "geographic_level"].astype(str)))
        notes.append(
            f"{file}: {int((~kept).sum()):,} rows at other geographic levels "
            f"({', '.join(others)}) not used"
        )
    if "characteristic" in raw:
        total = raw["characteristic"].astype("string").str.strip().str.lower().isin(_TOTAL_PHASES)
        dropped = kept & ~total.fillna(False).to_numpy()
        if dropped.any():
            notes.append(f"{file}: {int(dropped.sum()):,} rows for pupil characteristics not used")
        kept &= ~dropped
    area = pd.Series(pd.NA, index=raw.index, dtype=object)
    for name, column in AREA_COLUMN.items():
        if column in raw:
            rows = (level == name).fillna(False).to_numpy()
            area[rows] = raw.loc[rows, column]
    if "area_name" in raw:
        area = area.fillna(raw["area_name"])
    no_area = kept & area.isna().to_numpy()
    log.rows(file, "geographic_level", rows_where(no_area), "has no area name for its level")
    phase_column = next((c for c in ("education_phase", "school_type", "phase") if c in raw), None)
    phase = raw[phase_column].map(phase_of) if phase_column else pd.Series("total", index=raw.index)
    row_basis = pd.Series(basis, index=raw.index, dtype=object)
    if declared is not None:
        stated = declared.astype("string").str.strip().str.lower()
        row_basis = stated.where(stated.isin(["census", "daily"]), basis).astype(object)
    periods = pd.Series(
        [
            period_words(tp, ti, b)
            for tp, ti, b in zip(raw["time_period"], raw["time_identifier"], row_basis, strict=True)
        ],
        index=raw.index,
        dtype=object,
    )
    for frame_column in ("time_frame", "breakdown"):  # daily files: "Year to date" rows
        if frame_column in raw:
            ytd = raw[frame_column].astype("string").str.strip().str.lower()
            ytd = ytd.isin(["year to date", "ytd"]).fillna(False).to_numpy()
            years = raw["time_period"].map(academic_year_words)
            periods[ytd] = (years[ytd] + " year to date").to_numpy()
    columns = CENSUS_COLUMNS if basis == "census" else DAILY_COLUMNS
    values = {
        measure: numbers(raw[column], file, column, log)
        for column, measure in columns.items()
        if column in raw
    }
    if basis == "census" and "overall_absence" in values and "attendance" not in values:
        values["attendance"] = (100 - values["overall_absence"]).round(10)
    base = pd.DataFrame(
        {
            "geographic_level": level,
            "area": area.astype("string").str.strip(),
            "time_period": raw["time_period"].astype("string").str.strip(),
            "period": periods,
            "basis": row_basis,
            "phase": phase,
            **{c: raw[c].astype("string").str.strip() if c in raw else pd.NA for c in CODE_COLUMNS},
        }
    )[kept & ~no_area]
    parts = [
        base.assign(measure=measure, value_pct=values[measure][base.index])
        for measure in MEASURES
        if measure in values
    ]
    out = pd.concat(parts, ignore_index=True)
    missing = out["value_pct"].isna()
    if missing.any():
        notes.append(f"{file}: {int(missing.sum()):,} figures not available (EES symbols)")
    return out[~missing].reset_index(drop=True), notes


def benchmark_files(folder: str | Path) -> list[Path]:
    """EES files of a folder: ``benchmarks.csv`` and ``benchmarks/*.csv`` of a data folder,
    or, in a folder that has neither, every ``.csv`` in it."""
    folder = Path(folder)
    if folder.is_file():
        return [folder]
    if not folder.is_dir():
        raise UsageError(f"{folder} does not exist")
    files = [folder / "benchmarks.csv"] if (folder / "benchmarks.csv").is_file() else []
    if (folder / "benchmarks").is_dir():
        files += sorted((folder / "benchmarks").glob("*.csv"))
    if not files and not (folder / "schools.csv").exists():
        files = sorted(folder.glob("*.csv"))
    return files


def normalise_benchmarks(sources) -> Comparators:
    """Read EES files (paths, or DataFrames as the contract typed them) into comparators.

    ``sources`` is a folder, a file, a DataFrame, or a list of them. Raises
    :class:`DataError` listing every problem, naming file, row and column.
    """
    if isinstance(sources, str | Path | pd.DataFrame):
        sources = [sources]
    log = ProblemLog()
    frames, notes = [], []
    for source in sources:
        if isinstance(source, pd.DataFrame):
            frame, found = normalise_frame(source, "benchmarks.csv", log)
            frames.append(frame)
            notes += found
            continue
        for path in benchmark_files(source):
            frame, found = read_ees(path, log)
            frames.append(frame)
            notes += found
    if log.problems:
        raise DataError(log.problems)
    frames = [f for f in frames if f is not None and not f.empty]
    if not frames:
        return Comparators(pd.DataFrame(columns=OUTPUT_COLUMNS + CODE_COLUMNS), notes)
    table = pd.concat(frames, ignore_index=True)
    table = table.drop_duplicates(OUTPUT_COLUMNS).reset_index(drop=True)
    return Comparators(table, notes)


def comparator_group(table: pd.DataFrame, members, name: str) -> pd.DataFrame:
    """A comparator group (such as statistical neighbours) from its member LAs' figures.

    Members are LA names, new codes (E08000032) or old codes (380), matched
    case-insensitively. For each period, basis, phase and measure the group's figure is the
    unweighted mean of the members' published rates, as the DfE's statistical-neighbour
    averages are; ``members`` says how many of them had the figure. Rows have the
    comparator columns, with ``area`` = ``name`` and geographic_level ``Comparator group``.
    """
    wanted = {str(m).strip().lower() for m in members}
    las = table[table["geographic_level"] == "Local authority"]
    keys = [las["area"].astype(str).str.lower()]
    keys += [las[c].astype("string").str.lower().fillna("") for c in CODE_COLUMNS if c in las]
    match = np.zeros(len(las), dtype=bool)
    for key in keys:
        match |= key.isin(wanted).to_numpy()
    chosen = las[match]
    columns = ["time_period", "period", "basis", "phase", "measure"]
    if chosen.empty:
        return pd.DataFrame(columns=[*OUTPUT_COLUMNS, "members"])
    group = chosen.groupby(columns, as_index=False).agg(
        value_pct=("value_pct", "mean"), members=("area", "nunique")
    )
    group.insert(0, "area", name)
    group.insert(0, "geographic_level", "Comparator group")
    return group[[*OUTPUT_COLUMNS, "members"]]
