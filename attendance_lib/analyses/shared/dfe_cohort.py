"""The DfE-comparable cohort and enrolment-level figures for a period, from the code cube.

Definitions (DfE, *Pupil absence in schools in England* methodology; data contract,
"Derived measures"):

- the headline cohort is pupils aged 5 to 15 on 31 August before the academic year
  (by date of birth where given, otherwise National Curriculum years 1 to 11);
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

from dataclasses import dataclass

import numpy as np
import pandas as pd

from attendance_lib.core.academic_calendar import TERM_HALF_TERMS, age_on_31_august
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

NO_PUPIL_RECORD = "no pupils.csv row for the pupil in that year (age unknown)"
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
            "enrolments with no possible session are left out and counted."
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
class PeriodEnrolments:
    """Enrolment-level figures for one period.

    ``table``: one row per enrolment with a possible session (upn, urn, academic_year, the
    count columns, rates, persistent / severe flags). ``cube``: the cube rows counted (cohort
    applied, the sixth half term of 15-year-olds removed), for code-level breakdowns.
    ``excluded``: reason, enrolments — every enrolment with marks in the period that is not
    in ``table``, by reason (nothing is dropped silently).
    """

    table: pd.DataFrame
    cube: pd.DataFrame
    excluded: pd.DataFrame

    @property
    def zero_possible(self) -> int:
        """Enrolments left out because they had no possible session."""
        rows = self.excluded.loc[self.excluded["reason"] == ZERO_POSSIBLE, "enrolments"]
        return int(rows.sum())


def apply_cohort(
    cube: pd.DataFrame, pupils: pd.DataFrame, cohort: str = "dfe"
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Keep the cube rows of the chosen cohort; count the enrolments left out, by reason.

    Returns
    -------
    kept
        The cube rows counted: cohort members only, without the sixth half term of
        15-year-olds.
    excluded
        reason, enrolments: enrolments (upn + urn + academic year) with marks that are not in
        the cohort. With ``cohort="all"`` this is empty.
    dropped_only
        The keys of cohort enrolments whose only marks were in the dropped sixth half term;
        they are reported as enrolments with no possible session.
    """
    check_cohort(cohort)
    none = pd.DataFrame({"reason": pd.Series(dtype=str), "enrolments": pd.Series(dtype="int64")})
    no_keys = pd.DataFrame({k: pd.Series(dtype=str) for k in ENROLMENT_KEYS})
    if cohort == "all" or cube.empty:
        return cube, none, no_keys
    status = cohort_status(pupils)
    frame = cube[["upn", "urn", "academic_year", "half_term"]].assign(
        upn=cube["upn"].astype(str), academic_year=cube["academic_year"].astype(str)
    )
    merged = frame.merge(
        status[["upn", "academic_year", "in_cohort", "drop_last_half_term"]],
        on=["upn", "academic_year"],
        how="left",
        validate="many_to_one",
    )
    known = merged["in_cohort"].notna().to_numpy()
    inside = merged["in_cohort"].fillna(False).to_numpy(dtype=bool)
    drop_ht = merged["drop_last_half_term"].fillna(False).to_numpy(dtype=bool)
    keep = inside & ~(drop_ht & (merged["half_term"].to_numpy() == LAST_HALF_TERM))
    excluded = pd.DataFrame(
        {
            "reason": [NO_PUPIL_RECORD, OUTSIDE_AGE],
            "enrolments": [
                len(merged.loc[~known, ENROLMENT_KEYS].drop_duplicates()),
                len(merged.loc[known & ~inside, ENROLMENT_KEYS].drop_duplicates()),
            ],
        }
    )
    dropped = merged.loc[inside & ~keep, ENROLMENT_KEYS].drop_duplicates()
    kept_keys = merged.loc[keep, ENROLMENT_KEYS].drop_duplicates()
    only = dropped.merge(kept_keys, how="left", indicator=True)
    only = only.loc[only["_merge"] == "left_only", ENROLMENT_KEYS].reset_index(drop=True)
    return cube[keep].reset_index(drop=True), excluded, only


def period_enrolments(
    cube: pd.DataFrame,
    pupils: pd.DataFrame,
    academic_year: str,
    last_ht: int,
    *,
    first_ht: int = 1,
    cohort: str = "dfe",
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
    """
    years = cube["academic_year"].astype(str).to_numpy()
    hts = cube["half_term"].to_numpy()
    window = cube[(years == academic_year) & (hts >= first_ht) & (hts <= last_ht)]
    kept, excluded, dropped_only = apply_cohort(window, pupils, cohort)
    counts = counts_from_cube(kept, ENROLMENT_KEYS) if not kept.empty else _empty_counts()
    counts["upn"] = counts["upn"].astype(str)
    counts["academic_year"] = counts["academic_year"].astype(str)
    counts["urn"] = counts["urn"].astype("int64")
    zero = counts["sessions_possible"].to_numpy() == 0
    n_zero = int(zero.sum()) + len(dropped_only)
    table = add_rates(counts[~zero].reset_index(drop=True))
    table = table.sort_values(["urn", "upn"], kind="stable").reset_index(drop=True)
    excluded = pd.concat(
        [excluded, pd.DataFrame({"reason": [ZERO_POSSIBLE], "enrolments": [n_zero]})],
        ignore_index=True,
    )
    excluded["enrolments"] = excluded["enrolments"].astype("int64")
    return PeriodEnrolments(table=table, cube=kept, excluded=excluded)


def _empty_counts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "upn": pd.Series(dtype=str),
            "urn": pd.Series(dtype="int64"),
            "academic_year": pd.Series(dtype=str),
            **{c: pd.Series(dtype="int64") for c in COUNT_COLUMNS},
        }
    )
