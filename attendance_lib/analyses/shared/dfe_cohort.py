"""The DfE-comparable cohort and enrolment-level figures for a period, from the code cube.

Definitions (DfE, *Pupil absence in schools in England* methodology; data contract,
"Derived measures"):

- the headline cohort is pupils aged 5 to 15 on 31 August before the academic year
  (by date of birth where given, otherwise National Curriculum years 1 to 11);
- alternative provision and pupil referral units (schools of phase
  ``alternative_provision``) are left out of the headline and reported on their own line,
  as the DfE publishes them separately (:attr:`PeriodEnrolments.ap`);
- every enrolment counts, as in the DfE's figures: an enrolment with no ``pupils.csv`` row
  for its year takes the pupil's age from the row of their nearest year (date of birth, or
  the year group shifted by the years between, :func:`nearest_year_rows`); only what stays
  unknown (no row in any year, or a year group that cannot be shifted) is left out, and it
  is counted;
- for 15-year-olds (Year 11: age 15 on 31 August, or NC year 11 when no date of birth is
  given) the sixth half term is left out, because most have left for examinations;
- figures are at enrolment level (pupil + school, within one academic year); enrolments
  with no possible session in the period are left out of every rate and counted;
- rates come from summed sessions; persistent / severe absence is the share of enrolments
  with absence % >= 10 / >= 50.

A period is a run of half terms within one academic year (e.g. half terms 1 to 4 = the
year to the end of the spring term). The cube (:func:`attendance_lib.engine.sessions.code_counts`) is
already split by half term, so a period is a filter on ``half_term``, never a date search.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from attendance_lib.contract.reading import YEAR_GROUPS
from attendance_lib.core.academic_calendar import (
    TERM_HALF_TERMS,
    age_on_31_august,
    parse_academic_year,
)
from attendance_lib.core.columns import text_in
from attendance_lib.core.errors import UsageError
from attendance_lib.engine.sessions import COUNT_COLUMNS, add_rates, counts_from_cube

#: Cohorts a report can use: the DfE-comparable cohort, or every enrolment with marks.
COHORTS = ("dfe", "all")
#: Youngest and oldest age on 31 August in the DfE cohort.
MIN_AGE, MAX_AGE = 5, 15
#: National Curriculum years used when no date of birth is given.
NC_YEARS = tuple(str(y) for y in range(1, 12))
#: The half term left out for 15-year-olds (Year 11).
LAST_HALF_TERM = 6
#: The enrolment key of a period's table.
ENROLMENT_KEYS = ["upn", "urn", "academic_year"]

NO_PUPIL_RECORD = "no pupil record giving the pupil's age, in that year or any other"
ALTERNATIVE_PROVISION = (
    "at alternative provision or a pupil referral unit (published separately, as the DfE does)"
)
#: The school phase of alternative provision and pupil referral units (schools.csv).
AP_PHASE = "alternative_provision"
OUTSIDE_AGE = "outside the DfE cohort (not aged 5 to 15 on 31 August / not NC years 1 to 11)"
ZERO_POSSIBLE = "no possible session in the period"


def describe_cohort(cohort: str) -> str:
    """One sentence saying which enrolments a report counts (shown on the page)."""
    check_cohort(cohort)
    if cohort == "dfe":
        return (
            "DfE-comparable cohort: enrolments of pupils aged 5 to 15 on 31 August before the "
            "academic year (by date of birth where given, otherwise National Curriculum years "
            "1 to 11), with the sixth half term left out for 15-year-olds (Year 11); "
            "alternative provision and pupil referral units are reported on their own line, "
            "not in the headline; an enrolment with no pupil record for its year takes the "
            "pupil's age from their nearest year's row; enrolments with no possible session "
            "are left out and counted."
        )
    return (
        "All enrolments with register marks, of any age (not comparable with DfE figures); "
        "enrolments with no possible session are left out and counted."
    )


def check_cohort(cohort: str) -> None:
    """Raise :class:`UsageError` unless ``cohort`` is ``dfe`` or ``all``."""
    if cohort not in COHORTS:
        raise UsageError(f"cohort must be one of {', '.join(COHORTS)}, got {cohort!r}")


def last_half_term(term: str) -> int:
    """The last half term of the year to the end of ``term`` (autumn 2, spring 4, summer/year 6)."""
    try:
        return TERM_HALF_TERMS[term][1]
    except KeyError:
        raise UsageError(
            f"term must be one of {', '.join(TERM_HALF_TERMS)}, got {term!r}"
        ) from None


def cohort_status(pupils: pd.DataFrame) -> pd.DataFrame:
    """Per pupil and academic year: age on 31 August, DfE cohort membership, Year 11 rule.

    Returns
    -------
    DataFrame
        upn, academic_year, age (Int64; missing without a date of birth), in_cohort,
        drop_last_half_term (15-year-olds), basis (``date of birth`` or ``NC year``).
    """
    out = pupils[["upn", "academic_year", "year_group"]].copy()
    out["academic_year"] = out["academic_year"].astype(str)
    dob = (
        pupils["date_of_birth"]
        if "date_of_birth" in pupils
        else pd.Series(pd.NaT, index=pupils.index, dtype="datetime64[ns]")
    )
    age = pd.Series(pd.NA, index=pupils.index, dtype="Int64")
    for year, idx in out.groupby("academic_year").groups.items():
        age.loc[idx] = age_on_31_august(dob.loc[idx], str(year)).to_numpy()
    out["age"] = age
    has_dob = age.notna().to_numpy()
    age_ok = age.fillna(-1).to_numpy().astype(int)
    year_group = out["year_group"].astype(str).to_numpy()
    by_age = (age_ok >= MIN_AGE) & (age_ok <= MAX_AGE)
    by_year = np.isin(year_group, NC_YEARS)
    out["in_cohort"] = np.where(has_dob, by_age, by_year)
    out["drop_last_half_term"] = np.where(has_dob, age_ok == MAX_AGE, year_group == "11")
    out["basis"] = np.where(has_dob, "date of birth", "NC year")
    return out.drop(columns="year_group")


@dataclass(frozen=True)
class YearStatus:
    """:func:`cohort_status` of every pupils.csv row of one academic year (:func:`year_status`).

    It answers for that year only: :func:`apply_cohort` refuses it for a cube of another
    year, where its missing rows would be taken for pupils without a record.
    """

    academic_year: str
    table: pd.DataFrame


def year_status(pupils: pd.DataFrame, academic_year: str) -> YearStatus:
    """:func:`cohort_status` of the pupils.csv rows of one academic year (the same rows as the
    whole table's status for that year: the status is a row's own)."""
    rows = pupils[pupils["academic_year"].astype(str).to_numpy() == academic_year]
    return YearStatus(academic_year=academic_year, table=cohort_status(rows))


def cached_year_status(dataset, academic_year: str) -> YearStatus:
    """:func:`year_status` of a dataset's pupils, computed once and shared.

    Kept in the dataset's cache (:meth:`~attendance_lib.contract.dataset.Dataset.cached_result`:
    keyed by the data fingerprint, the code and the year), so the school packs of a fan-out
    and the reports beside them do not each work out the status of every pupil of the LA.
    Pass it as ``status`` to :func:`period_enrolments` for a period of that year.
    """
    year = str(academic_year)
    return dataset.cached_result(
        "cohort_status", {"academic_year": year}, lambda: year_status(dataset.pupils, year)
    )


def nearest_year_rows(pupils: pd.DataFrame, keys: pd.DataFrame) -> pd.DataFrame:
    """pupils.csv-like rows for pupil-years that have none, from the pupil's nearest year.

    ``keys`` holds upn and academic_year. For each key with no row of its own, the pupil's
    row in the nearest academic year (ties: the earlier year) is copied to the key's year:
    the date of birth is kept (so age on 31 August is exact) and the year group is moved
    along N1, N2, R, 1 .. 14 by the number of years between (Year 6 in 2022/23 is Year 7
    in 2023/24). A year group that would move off that ladder is left missing.

    Returns upn, academic_year, year_group, date_of_birth, from_year; keys whose pupil has
    no row in any year are not returned.
    """
    cols = ["upn", "academic_year", "year_group", "date_of_birth", "from_year"]
    wanted = keys[["upn", "academic_year"]].astype(str).drop_duplicates()
    have = pupils[["upn", "academic_year"]].astype(str).drop_duplicates()
    missing = wanted.merge(have, how="left", indicator=True)
    missing = missing.loc[missing["_merge"] == "left_only", ["upn", "academic_year"]]
    if missing.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    source = pupils[pupils["upn"].astype(str).isin(missing["upn"])].copy()
    source["upn"] = source["upn"].astype(str)
    source["from_year"] = source["academic_year"].astype(str)
    if "date_of_birth" not in source:
        source["date_of_birth"] = pd.NaT
    pairs = missing.merge(
        source[["upn", "from_year", "year_group", "date_of_birth"]], on="upn", how="inner"
    )
    if pairs.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    target = pairs["academic_year"].map(parse_academic_year)
    shift = target - pairs["from_year"].map(parse_academic_year)
    pairs["_distance"] = shift.abs()
    pairs["_from"] = pairs["from_year"].map(parse_academic_year)
    pairs = pairs.sort_values(["upn", "academic_year", "_distance", "_from"], kind="stable")
    best = pairs.drop_duplicates(["upn", "academic_year"]).copy()
    shift = best["academic_year"].map(parse_academic_year) - best["_from"]
    ladder = {g: i for i, g in enumerate(YEAR_GROUPS)}
    position = best["year_group"].astype(object).map(ladder) + shift
    inside = position.between(0, len(YEAR_GROUPS) - 1)
    best["year_group"] = [
        YEAR_GROUPS[int(p)] if ok else None for p, ok in zip(position, inside, strict=True)
    ]
    return best[cols].reset_index(drop=True)


def is_alternative_provision(urns: pd.Series, schools: pd.DataFrame | None) -> np.ndarray:
    """True for enrolments at a school whose phase is alternative provision (or a PRU)."""
    if schools is None or "phase" not in schools:
        return np.zeros(len(urns), dtype=bool)
    ap = set(schools.loc[schools["phase"].astype(str) == AP_PHASE, "urn"].astype("int64"))
    return urns.astype("int64").isin(ap).to_numpy()


@dataclass(frozen=True)
class PeriodEnrolments:
    """Enrolment-level figures for one period.

    ``table``: one row per enrolment with a possible session (upn, urn, academic_year, the
    count columns, rates, persistent / severe flags). ``cube``: the cube rows counted (cohort
    applied, the sixth half term of 15-year-olds removed), for code-level breakdowns.
    ``excluded``: reason, enrolments — every enrolment with marks in the period that is not
    in ``table``, by reason (nothing is dropped silently). ``ap``: the enrolments at
    alternative provision and pupil referral units, in the same form as ``table``, reported
    on their own line (empty unless the DfE cohort was asked for with ``schools``).
    ``age_from_nearest_year``: enrolments whose age came from the pupil's nearest year's row.
    """

    table: pd.DataFrame
    cube: pd.DataFrame
    excluded: pd.DataFrame
    ap: pd.DataFrame = field(default_factory=pd.DataFrame)
    age_from_nearest_year: int = 0

    @property
    def with_ap(self) -> pd.DataFrame:
        """``table`` and ``ap`` together: every enrolment, for school-by-school tables."""
        if self.ap.empty:
            return self.table
        return pd.concat([self.table, self.ap], ignore_index=True)

    @property
    def zero_possible(self) -> int:
        """Enrolments left out because they had no possible session."""
        rows = self.excluded.loc[self.excluded["reason"] == ZERO_POSSIBLE, "enrolments"]
        return int(rows.sum())


def with_nearest_years(pupils: pd.DataFrame, keys: pd.DataFrame) -> pd.DataFrame:
    """pupils.csv with a row added for each pupil-year of ``keys`` it lacks (:func:`nearest_year_rows`).

    Added rows that still give no age (no date of birth and no year group) are not added.
    """
    extra = nearest_year_additions(pupils, keys)
    if extra.empty:
        return pupils
    base = pupils[["upn", "academic_year", "year_group"]].copy()
    base["date_of_birth"] = pupils["date_of_birth"] if "date_of_birth" in pupils else pd.NaT
    return pd.concat([base, extra], ignore_index=True)


def nearest_year_additions(pupils: pd.DataFrame, keys: pd.DataFrame) -> pd.DataFrame:
    """The rows :func:`with_nearest_years` adds: upn, academic_year, year_group, date_of_birth
    of each pupil-year of ``keys`` without a pupils.csv row, where its nearest year gives an age."""
    extra = nearest_year_rows(pupils, keys)
    extra = extra[extra["date_of_birth"].notna() | extra["year_group"].notna()]
    return extra.drop(columns="from_year").assign(
        date_of_birth=lambda f: pd.to_datetime(f["date_of_birth"]),
        year_group=lambda f: f["year_group"].astype(object),
    )


def pair_codes(a: pd.Series, b: pd.Series) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """A number for each distinct (a, b) pair, in order of first appearance, and the pairs'
    values (missing values are values too). Integer arithmetic on each column's codes: no
    tuple per row."""
    codes_a, values_a = pd.factorize(a, use_na_sentinel=False)
    codes_b, values_b = pd.factorize(b, use_na_sentinel=False)
    width = max(len(values_b), 1)
    pair, first = pd.factorize(codes_a.astype(np.int64) * width + codes_b)
    return pair, (np.asarray(values_a)[first // width], np.asarray(values_b)[first % width])


def apply_cohort(
    cube: pd.DataFrame,
    pupils: pd.DataFrame,
    cohort: str = "dfe",
    *,
    status: YearStatus | None = None,
    by_school: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Keep the cube rows of the chosen cohort; count the enrolments left out, by reason.

    ``status`` is the cohort status of the cube's one academic year, worked out beforehand
    (:func:`cached_year_status`); without it, the status of every row of ``pupils`` is worked
    out here. Either way the result is the same. A status of another year than the cube's
    raises ``ValueError``.

    Returns
    -------
    kept
        The cube rows counted: cohort members only, without the sixth half term of
        15-year-olds.
    excluded
        reason, enrolments: enrolments (upn + urn + academic year) with marks that are not in
        the cohort, or whose age stays unknown after :func:`nearest_year_rows`. With
        ``cohort="all"`` this is empty. With ``by_school``, counted for each school of the
        cube apart: urn, reason, enrolments (urns ascending, each school's reasons in the
        same order, zero counts included), what the cube of each school alone would give.
    dropped_only
        The keys of cohort enrolments whose only marks were in the dropped sixth half term;
        they are reported as enrolments with no possible session.
    """
    check_cohort(cohort)
    none = _excluded_frame([], [], [], by_school)
    no_keys = pd.DataFrame({k: pd.Series(dtype=str) for k in ENROLMENT_KEYS})
    if cohort == "all" or cube.empty:
        return cube, none, no_keys
    # The cohort status is a pupil-year's: look each distinct pupil-year up once (a large LA's
    # cube has millions of rows, one per half term and code) and spread it over its rows.
    pupil_year, (upns, years) = pair_codes(cube["upn"], cube["academic_year"])
    frame = pd.DataFrame(
        {"upn": pd.Index(upns).astype(str), "academic_year": pd.Index(years).astype(str)}
    )
    columns = ["upn", "academic_year", "in_cohort", "drop_last_half_term"]
    merge = {"on": ["upn", "academic_year"], "how": "left", "validate": "one_to_one"}
    if status is None:
        known_status = cohort_status(pupils)[columns]
    else:  # only the cube's pupils' rows are joined (a school's few hundred of the LA's)
        years = set(frame["academic_year"])
        if years != {status.academic_year}:
            raise ValueError(
                f"the cohort status is for {status.academic_year}; the cube holds "
                + ", ".join(sorted(years))
            )
        rows = text_in(status.table["upn"], frame["upn"])
        known_status = status.table.loc[rows, columns]
    merged = frame.merge(known_status, **merge)
    unknown = merged["in_cohort"].isna().to_numpy()
    if unknown.any():  # only pupil-years with no row of their own look at other years
        added = nearest_year_additions(pupils, frame.loc[unknown, ["upn", "academic_year"]])
        if not added.empty:
            both = pd.concat([known_status, cohort_status(added)[columns]], ignore_index=True)
            merged = frame.merge(both, **merge)
    known = merged["in_cohort"].notna().to_numpy()[pupil_year]
    inside = merged["in_cohort"].fillna(False).to_numpy(dtype=bool)[pupil_year]
    drop_ht = merged["drop_last_half_term"].fillna(False).to_numpy(dtype=bool)[pupil_year]
    keep = inside & ~(drop_ht & (cube["half_term"].to_numpy() == LAST_HALF_TERM))
    enrolment, (_, enrolment_urn) = pair_codes(pd.Series(pupil_year), cube["urn"])
    reasons = [NO_PUPIL_RECORD, OUTSIDE_AGE]
    left_out = [np.unique(enrolment[~known]), np.unique(enrolment[known & ~inside])]
    if by_school:
        urns = np.unique(enrolment_urn)
        counts = [_per_school(enrolment_urn[ids], urns) for ids in left_out]
        excluded = _excluded_frame(urns, reasons, counts, True)
    else:
        excluded = _excluded_frame([], reasons, [[len(ids)] for ids in left_out], False)
    kept_enrolments = np.unique(enrolment[keep])
    dropped = inside & ~keep
    _, first = np.unique(enrolment[dropped], return_index=True)
    rows = np.flatnonzero(dropped)[np.sort(first)]  # each enrolment's first row, in order
    rows = rows[~np.isin(enrolment[rows], kept_enrolments)]
    only = cube.iloc[rows][ENROLMENT_KEYS].astype({"upn": str, "academic_year": str})
    only = only.reset_index(drop=True)
    return cube[keep].reset_index(drop=True), excluded, only


def _per_school(urns_of: np.ndarray, urns: np.ndarray) -> np.ndarray:
    """How many of ``urns_of`` (one urn per enrolment) are each of ``urns`` (sorted)."""
    return np.bincount(np.searchsorted(urns, urns_of), minlength=len(urns)).astype(np.int64)


def _excluded_frame(urns, reasons: list[str], counts, by_school: bool) -> pd.DataFrame:
    """The ``excluded`` table: reason, enrolments (``counts[i]`` for ``reasons[i]``); with
    ``by_school``, a block of the reasons for each urn (``counts[i][j]``: reason i, urn j)."""
    if not by_school:
        enrolments = [int(c[0]) for c in counts]
        return pd.DataFrame(
            {
                "reason": pd.Series(reasons, dtype=str),
                "enrolments": pd.Series(enrolments, dtype="int64"),
            }
        )
    urns = np.asarray(urns, dtype=np.int64)
    return pd.DataFrame(
        {
            "urn": np.repeat(urns, len(reasons)),
            "reason": pd.Series(list(reasons) * len(urns), dtype=str),
            "enrolments": np.asarray(
                [int(counts[i][j]) for j in range(len(urns)) for i in range(len(reasons))],
                dtype=np.int64,
            ),
        }
    )


def in_period(
    cube: pd.DataFrame, academic_year: str, last_ht: int, *, first_ht: int = 1
) -> pd.DataFrame:
    """The cube rows of half terms ``first_ht`` to ``last_ht`` (both included) of a year."""
    of_year = text_in(cube["academic_year"], [academic_year])
    hts = cube["half_term"].to_numpy()
    return cube[of_year & (hts >= first_ht) & (hts <= last_ht)]


def period_enrolments(
    cube: pd.DataFrame,
    pupils: pd.DataFrame,
    academic_year: str,
    last_ht: int,
    *,
    first_ht: int = 1,
    cohort: str = "dfe",
    schools: pd.DataFrame | None = None,
    status: YearStatus | None = None,
    by_school: bool = False,
) -> PeriodEnrolments:
    """Enrolment-level counts, rates and flags for half terms ``first_ht``..``last_ht`` of a year.

    Parameters
    ----------
    cube
        The code cube (upn, urn, academic_year, half_term, code, sessions).
    pupils
        pupils.csv as loaded (upn, academic_year, year_group, date_of_birth).
    academic_year
        e.g. ``"2023/24"``.
    last_ht, first_ht
        The half terms included (both ends included).
    cohort
        ``"dfe"`` (default; see the module docstring) or ``"all"``.
    schools
        schools.csv (urn, phase). With the DfE cohort, enrolments at alternative provision
        and pupil referral units are moved from ``table`` to ``ap`` and counted in
        ``excluded``; without it, nothing is moved.
    status
        The cohort status of ``pupils``' rows of ``academic_year``, worked out beforehand
        (:func:`cached_year_status`); see :func:`apply_cohort`.
    by_school
        ``excluded`` for each school of the period apart (urn, reason, enrolments), each
        school's rows those the school's cube alone would give; the other fields are the
        same either way. So the packs work out every school's enrolments in one pass.
    """
    window = in_period(cube, academic_year, last_ht, first_ht=first_ht)
    kept, excluded, dropped_only = apply_cohort(
        window, pupils, cohort, status=status, by_school=by_school
    )
    ap_rows = (
        is_alternative_provision(kept["urn"], schools)
        if cohort == "dfe"
        else np.zeros(len(kept), dtype=bool)
    )
    ap_only = is_alternative_provision(dropped_only["urn"], schools) if ap_rows.any() else None
    table, zero_urns = _enrolment_table(kept[~ap_rows])
    only_urns = dropped_only["urn"].to_numpy(dtype=np.int64)
    ap_keys = kept.loc[ap_rows, ENROLMENT_KEYS].drop_duplicates()
    ap_urns = ap_keys["urn"].to_numpy(dtype=np.int64)
    if ap_only is not None:
        ap_urns = np.concatenate([ap_urns, only_urns[ap_only]])
        only_urns = only_urns[~ap_only]
    ap, _ = _enrolment_table(kept[ap_rows])
    zero_urns = np.concatenate([zero_urns, only_urns])
    if by_school:
        excluded = _with_zero_and_ap(excluded, window["urn"], zero_urns, ap_urns)
    else:
        n_zero, n_ap = len(zero_urns), len(ap_urns)
        extra = [(ZERO_POSSIBLE, n_zero)] + ([(ALTERNATIVE_PROVISION, n_ap)] if n_ap else [])
        excluded = pd.concat(
            [excluded, pd.DataFrame(extra, columns=["reason", "enrolments"])], ignore_index=True
        )
    excluded["enrolments"] = excluded["enrolments"].astype("int64")
    nearest = 0
    if cohort == "dfe" and len(table):
        rows = pupils  # or the status (a row per pupils row of the year), for the table's pupils
        if status is not None:
            rows = status.table[status.table["upn"].isin(table["upn"]).to_numpy()]
        have = rows[["upn", "academic_year"]].astype(str).drop_duplicates()
        keys = table[ENROLMENT_KEYS].merge(have, how="left", indicator=True)
        nearest = int((keys["_merge"] == "left_only").sum())
    return PeriodEnrolments(
        table=table,
        cube=kept[~ap_rows].reset_index(drop=True),
        excluded=excluded,
        ap=ap,
        age_from_nearest_year=nearest,
    )


def _enrolment_table(kept: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per enrolment with a possible session, and the urn of each with none."""
    counts = counts_from_cube(kept, ENROLMENT_KEYS) if not kept.empty else _empty_counts()
    counts["upn"] = counts["upn"].astype(str)
    counts["academic_year"] = counts["academic_year"].astype(str)
    counts["urn"] = counts["urn"].astype("int64")
    zero = counts["sessions_possible"].to_numpy() == 0
    table = add_rates(counts[~zero].reset_index(drop=True))
    table = table.sort_values(["urn", "upn"], kind="stable").reset_index(drop=True)
    return table, counts["urn"].to_numpy(dtype=np.int64)[zero]


def _with_zero_and_ap(
    excluded: pd.DataFrame, window_urns: pd.Series, zero_urns: np.ndarray, ap_urns: np.ndarray
) -> pd.DataFrame:
    """:func:`period_enrolments`' ``excluded`` by school: each school's rows from
    :func:`apply_cohort`, then its enrolments with no possible session, then (where it has
    any) those at alternative provision, as the school's cube alone would give them."""
    urns = np.unique(window_urns.to_numpy(dtype=np.int64))
    n_zero, n_ap = _per_school(zero_urns, urns), _per_school(ap_urns, urns)
    rows = {u: [] for u in urns.tolist()}
    for urn, reason, n in excluded[["urn", "reason", "enrolments"]].itertuples(index=False):
        rows[int(urn)].append((reason, int(n)))
    out = []
    for j, urn in enumerate(urns.tolist()):
        extra = [(ZERO_POSSIBLE, int(n_zero[j]))]
        extra += [(ALTERNATIVE_PROVISION, int(n_ap[j]))] if n_ap[j] else []
        out += [(urn, reason, n) for reason, n in rows[urn] + extra]
    return pd.DataFrame(
        {
            "urn": pd.Series([r[0] for r in out], dtype="int64"),
            "reason": pd.Series([r[1] for r in out], dtype=str),
            "enrolments": pd.Series([r[2] for r in out], dtype="int64"),
        }
    )


def describe_nearest_year(period: PeriodEnrolments) -> str:
    """A sentence for the page: enrolments whose age came from another year's pupils.csv row."""
    n = period.age_from_nearest_year
    if not n:
        return ""
    return (
        f"{n:,} enrolment{'s' if n != 1 else ''} had no pupil record for the year; the "
        "pupil's age was taken from their nearest year's row (year group shifted)."
    )


def _empty_counts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "upn": pd.Series(dtype=str),
            "urn": pd.Series(dtype="int64"),
            "academic_year": pd.Series(dtype=str),
            **{c: pd.Series(dtype="int64") for c in COUNT_COLUMNS},
        }
    )
