"""Key stage 2 and key stage 4 outcomes by attendance band.

Local authorities publish how attainment falls with attendance (Central Bedfordshire's
"2022 Key Stage 2 by Attendance Analysis": 100%, 95 to 100, 90 to 95, 85 to 90, under 85,
Unmatched, Total). This module builds that table from a data folder:

- **Cohort**: one row per results row of ``ks2.csv`` / ``ks4.csv`` for the assessment year.
- **Attendance** is pupil level over the window: a pupil's sessions are summed over all their
  enrolments, then attendance % = (present + approved educational activity) / possible x 100
  (DfE definition; :func:`attendance_lib.engine.sessions.add_rates`). Register marks are used; a pupil
  with no mark at all in a window period falls back to census termly totals
  (``absence_terms.csv``) for the terms lying wholly inside that period.
- **Windows**: ``autumn_spring`` (default) = first day of half term 1 to last day of half
  term 4 of the assessment year, both included (as in the Central Bedfordshire table);
  ``year`` = half terms 1 to 6 (1 to 5 for KS4: the DfE leaves out Year 11's sixth
  half term); ``key_stage`` = every academic year of the key stage
  (Years 3 to 6 for KS2, Years 10 and 11 for KS4), with the DfE rule of *The link between
  absence and attainment at KS2 and KS4* that keeps only pupils whose possible sessions in
  each year lie within 10% of the most common (modal) number of possible sessions for that
  year among the cohort. Pupils failing the rule are not dropped: they form their own row.
- **Rows**: each band in order (:mod:`attendance_lib.engine.bands`), then ``Unmatched`` (results
  with no possible session in the window: no marks, no census totals, or only
  not-possible codes), then, for the ``key_stage`` window only, the pupils excluded by the
  10% rule, then ``Total`` (every results row).
- **Rates**: % of pupils in the row reaching the standard, with a 95% Wilson interval
  (:func:`attendance_lib.engine.stats.wilson_interval`). A missing result for a subject (empty
  cell) leaves that pupil out of that subject's denominator only; ``pupils`` counts every
  results row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats as _st

from attendance_lib.core.academic_calendar import Calendar, parse_academic_year, previous_year
from attendance_lib.core.errors import UsageError
from attendance_lib.core.numbers import SUPPRESSED, format_pct, round_half_up
from attendance_lib.engine.bands import Bands, assign, resolve_bands
from attendance_lib.engine.sessions import COUNT_COLUMNS, add_rates, census_counts, summarise
from attendance_lib.engine.stats import wilson_interval

UNMATCHED = "Unmatched"
EXCLUDED = "Excluded (possible sessions not within 10% of the mode)"
TOTAL = "Total"
WINDOWS = ("autumn_spring", "year", "key_stage")
#: Possible sessions in each year must lie within this share of the year's mode (DfE).
MODE_TOLERANCE = 0.10


@dataclass(frozen=True)
class KeyStage:
    """What a key stage's results file holds and how its table is laid out."""

    number: int
    table: str
    years_in_stage: int  # academic years of the key stage (KS2: Years 3-6; KS4: Years 10-11)
    rates: tuple[tuple[str, str], ...]  # (published column, results column), boolean results
    means: tuple[tuple[str, str], ...]  # (published column, results column), numeric results
    headline: str  # results column the model and trend test use
    headline_words: str
    headline_short: str
    prior: str


KEY_STAGES: dict[int, KeyStage] = {
    2: KeyStage(
        2,
        "ks2",
        4,
        (
            ("rwm_pct", "rwm_expected"),
            ("read_pct", "read_expected"),
            ("writ_pct", "writ_expected"),
            ("mat_pct", "mat_expected"),
        ),
        (),
        "rwm_expected",
        "the expected standard in reading, writing and maths",
        "the expected standard in RWM",
        "ks1_prior",
    ),
    4: KeyStage(
        4,
        "ks4",
        2,
        (("em_4plus_pct", "em_4plus"), ("em_5plus_pct", "em_5plus")),
        (("attainment8_mean", "attainment8"),),
        "em_4plus",
        "grade 4 or above in English and maths",
        "grade 4+ in English and maths",
        "ks2_prior",
    ),
}

#: The DfE's national figures, quoted for context (whole key stage absence, not one window).
NATIONAL_CONTEXT: dict[int, dict[str, object]] = {
    2: {
        "no_absence_pct": 83.9,
        "persistent_pct": 40.2,
        "measure": "reached the expected standard in reading, writing and maths",
        "stage": "KS2",
    },
    4: {
        "no_absence_pct": 83.7,
        "persistent_pct": 35.6,
        "measure": "achieved grades 9 to 4 in English and maths",
        "stage": "KS4",
    },
}
NATIONAL_SOURCE = (
    "Department for Education, *The link between absence and attainment at KS2 and KS4*, "
    "2018/19 academic year (Explore Education Statistics; state-funded mainstream schools "
    "in England; absence across all years of the key stage)"
)


def key_stage_spec(key_stage: int) -> KeyStage:
    """The :class:`KeyStage` for 2 or 4 (:class:`UsageError` otherwise)."""
    try:
        return KEY_STAGES[int(key_stage)]
    except (KeyError, ValueError, TypeError):
        raise UsageError(f"key_stage must be 2 or 4, got {key_stage!r}") from None


@dataclass(frozen=True)
class Period:
    """One academic year's part of a window, both dates included."""

    academic_year: str
    start: pd.Timestamp
    end: pd.Timestamp


def window_periods(
    calendar: Calendar, academic_year: str, window: str, key_stage: int
) -> list[Period]:
    """The window as one period per academic year (oldest first).

    ``autumn_spring``: half terms 1-4 of ``academic_year``; ``year``: half terms 1-6;
    ``key_stage``: half terms 1-6 of each year of the key stage ending in ``academic_year``.
    For KS4 the assessment year stops at the end of half term 5 in the ``year`` and
    ``key_stage`` windows: the DfE leaves the sixth half term out for Year 11 (pupils aged 15),
    whose summer is exam and study leave.
    """
    spec = key_stage_spec(key_stage)
    parse_academic_year(academic_year)
    last_ht = 5 if spec.number == 4 else 6
    if window == "autumn_spring":
        return [Period(academic_year, *calendar.span(academic_year, 1, 4))]
    if window == "year":
        return [Period(academic_year, *calendar.span(academic_year, 1, last_ht))]
    if window != "key_stage":
        raise UsageError(f"window must be one of {', '.join(WINDOWS)}, got {window!r}")
    years = [academic_year]
    for _ in range(spec.years_in_stage - 1):
        years.insert(0, previous_year(years[0]))
    missing = [y for y in years if y not in calendar.years]
    if missing:
        raise UsageError(
            f"the key_stage window for KS{spec.number} {academic_year} needs term dates for "
            f"{years[0]} to {years[-1]}; calendar.csv has no {', '.join(missing)}"
        )
    periods = [Period(y, *calendar.year_bounds(y)) for y in years[:-1]]
    return [*periods, Period(academic_year, *calendar.span(academic_year, 1, last_ht))]


def describe_window(periods: list[Period], window: str) -> str:
    """The window in words, e.g. ``autumn and spring terms of 2023/24 (4 September ...)``."""
    first, last = periods[0].start, periods[-1].end
    dates = f"{first.day} {first:%B %Y} to {last.day} {last:%B %Y}"
    if window == "autumn_spring":
        return f"autumn and spring terms of {periods[0].academic_year} ({dates})"
    if window == "year":
        return f"the academic year {periods[0].academic_year} ({dates})"
    return (
        f"the whole key stage, {periods[0].academic_year} to {periods[-1].academic_year} ({dates})"
    )


def pupil_sessions(
    marks: pd.DataFrame | None,
    absence_terms: pd.DataFrame | None,
    calendar: Calendar,
    period: Period,
    upns,
) -> pd.DataFrame:
    """Session counts per pupil over one period, summed over the pupil's enrolments.

    Marks first (:func:`attendance_lib.engine.sessions.summarise` with ``by="pupil"``); pupils with no
    mark at all in the period take census totals for the terms wholly inside it
    (:func:`attendance_lib.engine.sessions.census_counts`). Returns upn, the five count columns
    and ``source`` (``marks`` or ``census``) for every pupil of ``upns`` found in either,
    including pupils with no possible session (``sessions_possible`` 0).
    """
    upns = pd.Index(pd.unique(pd.Series(upns, dtype=object)))
    frames = []
    with_marks: set[str] = set()
    if marks is not None and len(marks):
        mine = marks[marks["upn"].isin(upns).to_numpy()]
        if len(mine):
            mine = mine.assign(upn=mine["upn"].cat.remove_unused_categories())
            summary = summarise(mine, period.start, period.end, by="pupil", calendar=calendar)
            counted = summary.table[["upn", *COUNT_COLUMNS]]
            zero = summary.zero_possible.assign(**{c: 0 for c in COUNT_COLUMNS})
            from_marks = pd.concat([counted, zero[["upn", *COUNT_COLUMNS]]], ignore_index=True)
            frames.append(from_marks.assign(source="marks"))
            with_marks = set(from_marks["upn"].astype(str))
    if absence_terms is not None and len(absence_terms):
        terms = absence_terms[
            (absence_terms["academic_year"] == period.academic_year)
            & absence_terms["upn"].isin(upns)
            & ~absence_terms["upn"].isin(with_marks)
        ]
        if len(terms):
            census = census_counts(terms, calendar, period.start, period.end)
            census = census.groupby("upn", as_index=False)[COUNT_COLUMNS].sum()
            frames.append(census.assign(source="census"))
    if not frames:
        return pd.DataFrame(columns=["upn", *COUNT_COLUMNS, "source"])
    out = pd.concat(frames, ignore_index=True)
    out["upn"] = out["upn"].astype(str)
    return out


def _within_mode(possible: pd.Series) -> pd.Series:
    """True where possible sessions lie within 10% of the mode of the non-zero values.

    Integer arithmetic: ``10 * |possible - mode| <= mode``. Ties for the mode: the smallest.
    """
    positive = possible[possible > 0]
    if positive.empty:
        return pd.Series(False, index=possible.index)
    mode = int(positive.mode().min())
    return (possible - mode).abs() * round(1 / MODE_TOLERANCE) <= mode


def window_attendance(
    marks: pd.DataFrame | None,
    absence_terms: pd.DataFrame | None,
    calendar: Calendar,
    periods: list[Period],
    upns,
    *,
    mode_rule: bool = False,
) -> pd.DataFrame:
    """Pupil-level attendance over a window made of one or more periods.

    Returns one row per upn of ``upns``: the five count columns summed over periods,
    ``attendance_pct`` (NaN when nothing was possible), ``source`` (``marks``, ``census``,
    ``marks and census`` or ``none``) and ``status``: ``matched``, ``unmatched`` (no possible
    session) or, with ``mode_rule``, ``excluded`` (some year's possible sessions not within
    10% of that year's modal value among these pupils; a year with none counts as 0).
    """
    upns = pd.Index(pd.unique(pd.Series(upns, dtype=object).astype(str)), name="upn")
    total = pd.DataFrame(0, index=upns, columns=COUNT_COLUMNS, dtype=np.int64)
    sources = pd.DataFrame(False, index=upns, columns=["marks", "census"])
    keep = pd.Series(True, index=upns)
    for period in periods:
        got = pupil_sessions(marks, absence_terms, calendar, period, upns).set_index("upn")
        counts = got[COUNT_COLUMNS].reindex(upns, fill_value=0).astype(np.int64)
        total += counts
        for src in ("marks", "census"):
            hit = got.index[got["source"] == src]
            sources.loc[sources.index.isin(hit), src] = True
        if mode_rule:
            keep &= _within_mode(counts["sessions_possible"])
    out = add_rates(total.reset_index(), flags=False)
    src = np.select(
        [sources["marks"] & sources["census"], sources["marks"], sources["census"]],
        ["marks and census", "marks", "census"],
        "none",
    )
    out["source"] = src
    matched = out["sessions_possible"].to_numpy() > 0
    status = np.where(matched, "matched", "unmatched").astype(object)
    if mode_rule:
        status[matched & ~keep.to_numpy()] = "excluded"
    out["status"] = status
    return out


@dataclass(frozen=True)
class Cohort:
    """Results rows of one key stage and year with their attendance band.

    ``pupils`` has one row per results row: upn, ``band`` (ordered categorical over
    :attr:`row_labels` minus Total), the count columns, attendance_pct, source, status, the
    results columns (booleans as 1.0/0.0/NaN), and the characteristics ``fsm``, ``sen``,
    ``sex``, ``birth_month`` (months after September, 0-11), ``prior`` and ``urn`` (the
    pupil's school in pupils.csv for the assessment year) where known.
    """

    key_stage: int
    academic_year: str
    window: str
    periods: tuple[Period, ...]
    bands: Bands
    pupils: pd.DataFrame = field(repr=False)

    @property
    def spec(self) -> KeyStage:
        return key_stage_spec(self.key_stage)

    @property
    def group_labels(self) -> list[str]:
        """Bands, Unmatched and (key_stage window) Excluded: the categories of ``band``."""
        extra = [EXCLUDED] if self.window == "key_stage" else []
        return [*self.bands.labels, UNMATCHED, *extra]

    @property
    def row_labels(self) -> list[str]:
        """The table's rows in order: bands, Unmatched, (Excluded,) Total."""
        return [*self.group_labels, TOTAL]

    @property
    def window_text(self) -> str:
        return describe_window(list(self.periods), self.window)


def _as_float(series: pd.Series) -> pd.Series:
    """Booleans (possibly with gaps) or numbers as float64 with NaN for missing."""
    return pd.to_numeric(series.astype("Float64"), errors="coerce").astype("float64")


def build_cohort(
    results: pd.DataFrame,
    pupils: pd.DataFrame | None,
    marks: pd.DataFrame | None,
    absence_terms: pd.DataFrame | None,
    calendar: pd.DataFrame | Calendar,
    *,
    key_stage: int,
    academic_year: str,
    window: str = "autumn_spring",
    bands="cbc",
) -> Cohort:
    """The cohort table from contract-typed frames (see :func:`load_cohort` for a folder).

    ``results`` is ``ks2.csv`` or ``ks4.csv``; rows of other academic years are ignored.
    ``pupils`` (``pupils.csv``) supplies characteristics for ``academic_year``.
    """
    spec = key_stage_spec(key_stage)
    cal = calendar if isinstance(calendar, Calendar) else Calendar(calendar)
    band_set = resolve_bands(bands)
    periods = window_periods(cal, academic_year, window, key_stage)
    res = results[results["academic_year"] == academic_year].reset_index(drop=True)
    upns = res["upn"].astype(str)
    att = window_attendance(
        marks, absence_terms, cal, periods, upns, mode_rule=window == "key_stage"
    ).set_index("upn")
    frame = pd.DataFrame({"upn": upns})
    frame = frame.join(att, on="upn")
    labels = [*band_set.labels, UNMATCHED] + ([EXCLUDED] if window == "key_stage" else [])
    band = pd.Series(assign(frame["attendance_pct"], band_set), dtype=object)
    band[frame["status"].to_numpy() == "unmatched"] = UNMATCHED
    band[frame["status"].to_numpy() == "excluded"] = EXCLUDED
    frame.insert(1, "band", pd.Categorical(band, categories=labels, ordered=True))
    for _, col in (*spec.rates, *spec.means):
        frame[col] = _as_float(res[col])
    frame = frame.join(_characteristics(pupils, res, spec, academic_year))
    return Cohort(spec.number, academic_year, window, tuple(periods), band_set, frame)


def _characteristics(
    pupils: pd.DataFrame | None, res: pd.DataFrame, spec: KeyStage, academic_year: str
) -> pd.DataFrame:
    """fsm, sen, sex, birth_month and prior for each results row (missing where unknown)."""
    out = pd.DataFrame(index=res.index)
    if pupils is not None:
        year = pupils[pupils["academic_year"] == academic_year].drop_duplicates("upn")
        year = year.set_index(year["upn"].astype(str))
        upn = res["upn"].astype(str)
        out["fsm"] = upn.map(year["fsm"].astype("boolean")).astype("boolean")
        out["sen"] = upn.map(year["sen"])
        out["sex"] = upn.map(year["sex"])
        if "urn" in year:  # the school in the assessment year: the model's cluster
            out["urn"] = upn.map(year["urn"])
        if "date_of_birth" in year and year["date_of_birth"].notna().any():
            dob = pd.to_datetime(upn.map(year["date_of_birth"]))
            out["birth_month"] = ((dob.dt.month - 9) % 12).astype("float64")
    else:
        out["fsm"] = pd.array([pd.NA] * len(res), dtype="boolean")
        out["sen"] = None
        out["sex"] = None
    if spec.prior in res and res[spec.prior].notna().any():
        out["prior"] = pd.to_numeric(res[spec.prior], errors="coerce").astype("float64")
    return out


def load_cohort(
    ds,
    *,
    key_stage: int,
    academic_year: str,
    window: str = "autumn_spring",
    bands="cbc",
) -> Cohort:
    """:func:`build_cohort` for a :class:`~attendance_lib.contract.dataset.Dataset`.

    Reads only the cohort's marks inside the window (``ds.marks_for``).
    """
    spec = key_stage_spec(key_stage)
    results = getattr(ds, spec.table)
    if results is None:
        raise UsageError(f"the data folder has no {spec.table}.csv, so there is nothing to show")
    if not (results["academic_year"] == academic_year).any():
        years = ", ".join(sorted(results["academic_year"].unique()))
        raise UsageError(f"{spec.table}.csv has no results for {academic_year} (it has {years})")
    cal = Calendar(ds.calendar)
    periods = window_periods(cal, academic_year, window, key_stage)
    upns = results.loc[results["academic_year"] == academic_year, "upn"].astype(str).unique()
    marks = ds.marks_for(upns=upns, start=periods[0].start, end=periods[-1].end)
    return build_cohort(
        results,
        ds.pupils,
        marks,
        ds.absence_terms,
        cal,
        key_stage=key_stage,
        academic_year=academic_year,
        window=window,
        bands=bands,
    )


# --------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------

#: Labels for the breakdowns, in display order.
GROUP_LABELS = {
    "fsm": {True: "FSM eligible", False: "Not FSM eligible"},
    "sen": {"N": "No SEN", "K": "SEN support", "E": "EHC plan"},
}
UNKNOWN = "Not known"


def _group_column(frame: pd.DataFrame, by: str) -> pd.Categorical:
    names = GROUP_LABELS.get(by)
    raw = frame[by].astype(object) if by in frame else pd.Series(None, index=frame.index)
    if names is None:
        values = raw.where(raw.notna(), UNKNOWN).astype(str)
        cats = sorted(set(values) - {UNKNOWN})
    else:
        values = raw.map(lambda v: names.get(v, UNKNOWN) if pd.notna(v) else UNKNOWN)
        cats = list(names.values())
    if (values == UNKNOWN).any():
        cats.append(UNKNOWN)
    return pd.Categorical(values, categories=cats, ordered=True)


def band_statistics(cohort: Cohort, by: str | None = None) -> pd.DataFrame:
    """Everything behind the published tables, one row per table row.

    Columns: band, (``by``,) pupils; for each rate: the published column (percent), its
    ``_n`` (pupils with a result), ``_count`` (pupils reaching the standard), ``_ci_low`` and
    ``_ci_high`` (95% Wilson); for each mean: the mean, ``_n``, ``_ci_low``/``_ci_high``
    (95% t interval). Rows: every band (empty ones with 0 pupils), Unmatched, (Excluded,)
    Total; with ``by``, every row label crossed with every group present.
    """
    spec = cohort.spec
    frame = cohort.pupils
    keys = ["band"]
    data = frame[["band"]].copy()
    if by is not None:
        data[by] = _group_column(frame, by)
        keys.append(by)
    cols = [c for _, c in (*spec.rates, *spec.means)]
    for col in cols:
        data[col] = frame[col]
        data[f"{col}__n"] = frame[col].notna().astype(np.int64)
    parts = [_aggregate(data, keys, spec)]
    total = data.assign(band=pd.Categorical([TOTAL] * len(data), categories=[TOTAL]))
    parts.append(_aggregate(total, keys, spec))
    out = pd.concat(parts, ignore_index=True)
    out["band"] = pd.Categorical(
        out["band"].astype(str), categories=cohort.row_labels, ordered=True
    )
    out = out.sort_values(keys, kind="stable").reset_index(drop=True)
    out["band"] = out["band"].astype(str)
    return out


def _aggregate(data: pd.DataFrame, keys: list[str], spec: KeyStage) -> pd.DataFrame:
    grouped = data.groupby(keys, observed=False, sort=True)
    out = grouped.size().rename("pupils").to_frame()
    for name, col in spec.rates:
        count = grouped[col].sum(min_count=0).astype(np.int64)
        n = grouped[f"{col}__n"].sum().astype(np.int64)
        low, high = wilson_interval(count.to_numpy(), n.to_numpy())
        with np.errstate(invalid="ignore", divide="ignore"):
            out[name] = np.where(n > 0, 100 * count / n.where(n > 0, 1), np.nan)
        out[f"{name}_n"], out[f"{name}_count"] = n, count
        out[f"{name}_ci_low"], out[f"{name}_ci_high"] = low, high
    for name, col in spec.means:
        n = grouped[f"{col}__n"].sum().astype(np.int64)
        mean = grouped[col].mean()
        sd = grouped[col].std(ddof=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            half = _st.t.ppf(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
        half = half.where(n > 1)
        out[name], out[f"{name}_n"] = mean, n
        out[f"{name}_ci_low"], out[f"{name}_ci_high"] = mean - half, mean + half
    out["pupils"] = out["pupils"].astype(np.int64)
    return out.reset_index()


def published_columns(key_stage: int, *, ci: bool = False) -> list[str]:
    """The exact columns of ``ks2_by_band`` / ``ks4_by_band`` (or their ``_ci`` tables)."""
    spec = key_stage_spec(key_stage)
    names = [name for name, _ in spec.means] + [name for name, _ in spec.rates]
    if not ci:
        return ["band", "pupils", *names]
    return ["band", "pupils", *[f"{n}{s}" for n in names for s in ("", "_ci_low", "_ci_high")]]


def outcome_table(
    cohort: Cohort,
    *,
    ci: bool = False,
    by: str | None = None,
    suppress_below: int | None = None,
) -> pd.DataFrame:
    """The published band table (``ks2_by_band``, ``ks4_by_band``, or ``_ci`` with intervals).

    Rates are unrounded percentages. With ``suppress_below``, a rate or mean whose own
    denominator (pupils with a result for that subject) is below the threshold is replaced
    by ``c`` here; :func:`attendance_lib.present.notebook.publish_table` then applies the row rule
    (counts of 1-4 and anything resting on fewer than ``suppress_below`` pupils).
    """
    stats = band_statistics(cohort, by)
    cols = published_columns(cohort.key_stage, ci=ci)
    if by is not None:
        cols.insert(1, by)
    out = stats[cols].copy()
    if suppress_below is not None:
        spec = cohort.spec
        for name, _ in (*spec.rates, *spec.means):
            thin = (stats[f"{name}_n"] < suppress_below).to_numpy()
            for col in [c for c in out if c == name or c.startswith(f"{name}_ci_")]:
                out[col] = out[col].astype(object).where(~thin, SUPPRESSED)
    return out


def column_kinds(key_stage: int, *, ci: bool = False) -> dict[str, list[str]]:
    """``counts``, ``rates`` and ``means`` of a band table, as :func:`present.publish_table` wants."""
    cols = published_columns(key_stage, ci=ci)
    means = [n for n, _ in key_stage_spec(key_stage).means]
    is_mean = [c for c in cols if any(c.startswith(m) for m in means)]
    rates = [c for c in cols if c not in ("band", "pupils") and c not in is_mean]
    return {"counts": ["pupils"], "rates": rates, "means": is_mean}


def headline_column(key_stage: int) -> str:
    """The published rate column of the headline measure (``rwm_pct`` or ``em_4plus_pct``)."""
    spec = key_stage_spec(key_stage)
    return next(n for n, c in spec.rates if c == spec.headline)


def chartable(cohort: Cohort, suppress_below: int) -> pd.DataFrame:
    """Band rows of :func:`band_statistics` whose headline rate is published (may be charted).

    A band is left out when it has fewer than ``suppress_below`` pupils, or fewer pupils
    than that with a headline result, exactly as the table suppresses it.
    """
    name = headline_column(cohort.key_stage)
    stats = band_statistics(cohort)
    rows = (
        stats["band"].isin(cohort.bands.labels)
        & (stats["pupils"] >= suppress_below)
        & (stats[f"{name}_n"] >= suppress_below)
    )
    return stats[rows].reset_index(drop=True)


def describe_chart(cohort: Cohort, suppress_below: int) -> str:
    """Alt text for the gradient chart: the charted values in words."""
    name = headline_column(cohort.key_stage)
    shown = chartable(cohort, suppress_below)
    values = "; ".join(f"{r['band']}: {format_pct(r[name])}" for _, r in shown.iterrows())
    left_out = len(cohort.bands.labels) - len(shown)
    tail = f" ({left_out} band(s) with too few pupils not shown)" if left_out else ""
    return (
        f"Percentage of pupils reaching {cohort.spec.headline_words} by attendance band, with "
        f"95% intervals. {values or 'No band has enough pupils to show'}{tail}."
    )


def table_note(cohort: Cohort) -> str:
    """The band table's footnote: who is counted where, including missing results."""
    spec = cohort.spec
    p = cohort.pupils
    cols = [c for _, c in (*spec.rates, *spec.means)]
    missing = int(p[cols].isna().any(axis=1).sum())
    parts = [
        f"Pupils: every {spec.table.upper()} result for {cohort.academic_year}. Attendance over "
        f"{cohort.window_text}, each pupil's sessions summed over all their schools.",
        f"Unmatched: {int((p['band'] == UNMATCHED).sum()):,} results with no possible session "
        "in the window (no register marks or census totals).",
    ]
    if cohort.window == "key_stage":
        parts.append(
            f"Excluded: {int((p['band'] == EXCLUDED).sum()):,} pupils whose possible sessions "
            "in some year of the key stage were not within 10% of that year's most common "
            "value (DfE rule); they are counted in the Total."
        )
    if missing:
        parts.append(
            f"{missing:,} pupils have a missing result for at least one measure; each is left "
            "out of that measure's percentage (or mean) only."
        )
    return " ".join(parts)


def _extremes(rows: pd.DataFrame, labels: list[str], name: str, suppress_below: int):
    """Highest and lowest band whose ``name`` rate is published (None if fewer than two)."""
    rows = rows.set_index("band").reindex(labels)
    shown = rows[rows[f"{name}_n"] >= suppress_below]
    if len(shown) < 2:
        return None
    return shown.index[0], shown.iloc[0][name], shown.index[-1], shown.iloc[-1][name]


def _gap_words(ends, words: str) -> str:
    top, top_pct, bottom, bottom_pct = ends
    gap = round_half_up(top_pct - bottom_pct, 1)
    return (
        f"{format_pct(top_pct)} of pupils in the {top} band reached {words}, against "
        f"{format_pct(bottom_pct)} in the {bottom} band: a gap of {gap:.1f} percentage points"
    )


def describe_gap(cohort: Cohort, suppress_below: int = 5) -> str:
    """The gap between the top and bottom band on the headline measure, in words.

    When the top or bottom band is too small to publish, says so and compares the highest
    and lowest bands that can be shown instead.
    """
    name = headline_column(cohort.key_stage)
    labels = cohort.bands.labels
    ends = _extremes(band_statistics(cohort), labels, name, suppress_below)
    if ends is None:
        return "Fewer than two bands have enough pupils to compare."
    text = _gap_words(ends, cohort.spec.headline_words) + "."
    if (ends[0], ends[2]) == (labels[0], labels[-1]):
        return text[0].upper() + text[1:]
    return (
        f"The top band ({labels[0]}) or the bottom band ({labels[-1]}) has fewer than "
        f"{suppress_below} pupils with a result, so the comparison uses the highest and lowest "
        f"bands that can be shown: {text}"
    )


def describe_within(cohort: Cohort, by: str, suppress_below: int = 5) -> str:
    """The gap between the highest and lowest published band within each group of ``by``."""
    name = headline_column(cohort.key_stage)
    stats = band_statistics(cohort, by)
    parts = []
    for group, rows in stats.groupby(by, observed=True, sort=False):
        if group == UNKNOWN:
            continue
        ends = _extremes(rows, cohort.bands.labels, name, suppress_below)
        if ends is None:
            parts.append(f"{group}: too few pupils to compare bands")
        else:
            parts.append(f"{group}: {_gap_words(ends, 'it')}")
    return (
        f"Within each group, the highest and lowest attendance bands with at least "
        f"{suppress_below} pupils, on reaching {cohort.spec.headline_words}. "
        + "; ".join(parts)
        + "."
    )


def national_context(key_stage: int) -> str:
    """The DfE's national figures for the key stage, with year and source, in words."""
    ctx = NATIONAL_CONTEXT[key_stage_spec(key_stage).number]
    return (
        f"Nationally, among pupils with no missed sessions over {ctx['stage']}, "
        f"{ctx['no_absence_pct']}% {ctx['measure']}, compared with {ctx['persistent_pct']}% "
        f"of pupils who were persistently absent. Source: {NATIONAL_SOURCE}."
    )
