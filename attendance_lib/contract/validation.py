"""Validation rules that span rows and tables (types are checked while reading, in contract).

Each rule is a small function that adds problems to a :class:`~attendance_lib.contract.reading.ProblemLog`,
naming the file, the 1-based row and the column, and saying what was expected:

- keys are unique (``schools.urn``, ``pupils`` upn + academic year, ...);
- referential links: a pupil's urn is in schools.csv, a mark's upn is in pupils.csv, a mark's urn
  is in schools.csv;
- UPN check letters (python-stdnum's ``stdnum.gb.upn``; temporary UPNs allowed);
- mark dates lie inside a half term of calendar.csv;
- census totals: authorised + unauthorised <= possible, no negative counts;
- services end on or after they start; calendar half terms run 1..6 forwards without overlap;
- identical duplicate marks are collapsed with a warning that counts them; duplicates that
  disagree on the code are errors listing the rows;
- a pupil has a possible mark (present, approved activity or absent) at one school at most in
  each session: a dual-registered pupil's other school records ``D`` (DfE, "School attendance:
  guidance for schools", dual registration), so possible sessions never exceed the calendar's;
- marks on a Saturday or Sunday are counted in a warning (they still count: a school may
  open on a weekend, but usually a date is wrong).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from stdnum.exceptions import InvalidComponent, ValidationError
from stdnum.gb import upn as stdnum_upn
from tqdm.auto import tqdm

from attendance_lib.contract.marks_screen import screen_parquet_marks
from attendance_lib.contract.reading import TABLES, ProblemLog, read_marks, rows_where
from attendance_lib.core.academic_calendar import Calendar
from attendance_lib.core.codes import Group, group_lookup


@dataclass(frozen=True)
class CheckedMarks:
    """The marks as validated.

    ``as_stored`` is true when a Parquet file passed the aggregate screen
    (:mod:`attendance_lib.contract.marks_screen`): there is nothing to collapse or trim, so the engines
    read the file directly and ``marks`` is None. Otherwise ``marks`` holds the checked marks
    (text trimmed, identical duplicates collapsed).
    """

    marks: pd.DataFrame | None
    as_stored: bool


def validate_dataset(
    tables: Mapping[str, pd.DataFrame | None],
    paths: Mapping[str, Path | None],
    log: ProblemLog,
    *,
    progress: bool = False,
) -> CheckedMarks | None:
    """Run every rule over freshly read tables, adding problems and warnings to ``log``.

    ``tables`` maps each contract table name (not marks) to its DataFrame or None; ``paths``
    gives every table's file (marks included). A Parquet marks file is first screened with
    aggregates (:func:`~attendance_lib.contract.marks_screen.screen_parquet_marks`); only a file that
    fails the screen, or a CSV, is read here into pandas, column by column, and checked mark
    by mark, so every problem is reported with its row. Returns None when the folder has no
    readable marks. ``progress`` shows a bar
    over the steps (reading and checking millions of marks takes seconds).
    """
    with tqdm(total=5, desc="validating", unit="step", disable=not progress, leave=False) as bar:
        return _validate(tables, paths, log, bar)


def _validate(tables, paths, log: ProblemLog, bar: tqdm) -> CheckedMarks | None:
    bar.set_postfix_str("tables")
    pupils, schools, calendar_table = (
        tables.get("pupils"),
        tables.get("schools"),
        tables.get("calendar"),
    )
    for name, spec in TABLES.items():
        frame = tables.get(name)
        if frame is not None and spec.key:
            check_unique_key(frame, spec.key, paths[name].name, log)
    if pupils is not None:
        check_upns(pupils["upn"], paths["pupils"].name, log)
        if schools is not None:
            check_in(pupils["urn"], schools["urn"], paths["pupils"].name, "urn", "schools.csv", log)
    calendar = None
    if calendar_table is not None:
        check_calendar(calendar_table, paths["calendar"].name, log)
        # A calendar with unreadable dates (already reported, e.g. written dd/mm/yyyy) is not
        # used to check mark dates: every mark would be reported outside it.
        if calendar_table[["start_date", "end_date"]].notna().all().all():
            calendar = Calendar(calendar_table)
    if tables.get("absence_terms") is not None:
        check_census_totals(tables["absence_terms"], paths["absence_terms"].name, log)
    if tables.get("services") is not None:
        check_date_order(tables["services"], "start_date", "end_date", paths["services"].name, log)
    if tables.get("benchmarks") is not None:
        check_benchmark_areas(tables["benchmarks"], paths["benchmarks"].name, log)
    if tables.get("weekly") is not None:
        check_weekly(tables["weekly"], pupils, schools, paths["weekly"].name, log)
    bar.update()
    if paths["marks"] is None:
        return None
    screenable = pupils is not None and schools is not None and calendar is not None
    if paths["marks"].suffix == ".parquet" and screenable:
        bar.set_postfix_str("screening marks")
        reason = screen_parquet_marks(paths["marks"], pupils["upn"], schools["urn"], calendar)
        if reason is None:
            bar.update(4)
            return CheckedMarks(None, as_stored=True)
        bar.set_postfix_str(f"reading marks ({reason})")
    else:
        bar.set_postfix_str("reading marks")
    marks = read_marks(paths["marks"], log)
    bar.update()
    if marks is None:
        return None
    file = paths["marks"].name
    bar.set_postfix_str("linking marks to pupils and schools")
    if pupils is not None:
        check_marks_links(marks, pupils, schools, file, log)
    bar.update()
    bar.set_postfix_str("mark dates")
    if calendar is not None:
        check_mark_dates(marks, calendar, file, log)
    check_weekend_marks(marks, file, log)
    check_dual_registration(marks, file, log)
    bar.update()
    bar.set_postfix_str("duplicate marks")
    marks, _ = collapse_duplicate_marks(marks, file, log)
    bar.update()
    return CheckedMarks(marks, as_stored=False)


def check_unique_key(frame: pd.DataFrame, key: tuple[str, ...], file: str, log: ProblemLog) -> None:
    """Every key value occurs once; later repeats are reported with the first row they repeat."""
    dup = frame.duplicated(list(key), keep="first").to_numpy()
    if not dup.any():
        return
    first_row = (
        frame.reset_index()
        .groupby(list(key), dropna=False, sort=False)["index"]
        .transform("min")
        .to_numpy()
        + 1
    )
    rows = np.flatnonzero(dup) + 1
    log.rows(
        file,
        ", ".join(key),
        rows,
        lambda first: f"duplicate key: the same {' + '.join(key)} as row {first}",
        first_row[dup],
    )


def upn_is_valid(upn: str) -> bool:
    """13 characters, digits in the middle, a valid check letter; temporary UPNs allowed.

    Uses python-stdnum's ``stdnum.gb.upn`` for the format and the check letter. Unlike
    ``stdnum.gb.upn.is_valid`` it accepts any three-digit LA number: the contract asks for the
    check letter, and LA codes change (new unitary authorities) faster than any fixed list.
    """
    try:
        stdnum_upn.validate(upn)
    except InvalidComponent:  # an LA number stdnum does not list: check the letter only
        number = stdnum_upn.compact(upn)
        return stdnum_upn.calc_check_digit(number[1:]) == number[0]
    except ValidationError:
        return False
    return True


#: stdnum.gb.upn's alphabet: check letters are its first 23 characters.
_UPN_ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ0123456789"
_UPN_INDEX = np.full(256, -1, dtype=np.int64)
_UPN_INDEX[np.frombuffer(_UPN_ALPHABET.encode(), dtype=np.uint8)] = np.arange(len(_UPN_ALPHABET))


def upns_valid(upns) -> np.ndarray:
    """:func:`upn_is_valid` for many UPNs at once (a boolean array, the same answers).

    UPNs already in their compact form (13 ASCII characters, upper case) are checked with
    array arithmetic, as stdnum does one by one: digits in positions 2-12, a last character
    from the alphabet, and a first character equal to the weighted sum (weights 2..13) of
    the other twelve modulo 23. Anything else goes to :func:`upn_is_valid` itself.
    """
    values = list(upns)
    out = np.zeros(len(values), dtype=bool)
    compact = [
        i
        for i, v in enumerate(values)
        if isinstance(v, str) and len(v) == 13 and v.isascii() and v == v.upper()
    ]
    if compact:
        text = "".join(values[i] for i in compact).encode("ascii")
        chars = np.frombuffer(text, dtype=np.uint8).reshape(-1, 13)
        index = _UPN_INDEX[chars]
        middle = chars[:, 1:12]
        digits = ((middle >= ord("0")) & (middle <= ord("9"))).all(axis=1)
        check = (index[:, 1:] * np.arange(2, 14)).sum(axis=1) % 23
        out[compact] = digits & (index[:, 12] >= 0) & (index[:, 0] == check)
    done = set(compact)
    for i, v in enumerate(values):
        if i not in done:
            out[i] = isinstance(v, str) and upn_is_valid(v)
    return out


def check_upns(upns: pd.Series, file: str, log: ProblemLog) -> None:
    """UPNs have 13 characters and a valid check letter (temporary UPNs allowed)."""
    unique = pd.unique(upns.dropna())
    invalid = set(unique[~upns_valid(unique)])
    if invalid:
        bad = upns.isin(invalid).to_numpy()
        log.rows(
            file,
            "upn",
            np.flatnonzero(bad) + 1,
            lambda v: f"{v!r} is not a valid UPN (13 characters with a correct check letter)",
            upns[bad].to_numpy(),
        )


def check_in(
    values: pd.Series, allowed: pd.Series, file: str, column: str, other: str, log: ProblemLog
):
    """Every non-missing value appears in ``allowed`` (a referential link)."""
    bad = (values.notna() & ~values.isin(allowed.dropna())).to_numpy()
    log.rows(
        file,
        column,
        np.flatnonzero(bad) + 1,
        lambda v: f"{v} is not in {other}",
        values[bad].to_numpy(),
    )


def check_calendar(calendar: pd.DataFrame, file: str, log: ProblemLog) -> None:
    """Half terms are numbered 1..6, end on or after they start, and do not overlap."""
    rows = np.arange(1, len(calendar) + 1)
    bad_ht = (~calendar["half_term"].between(1, 6)).fillna(False).to_numpy()
    log.rows(file, "half_term", rows[bad_ht], "half term must be 1 to 6")
    check_date_order(calendar, "start_date", "end_date", file, log)
    ordered = calendar.dropna(subset=["start_date", "end_date"]).sort_values("start_date")
    overlap = ordered["start_date"].to_numpy()[1:] <= ordered["end_date"].to_numpy()[:-1]
    log.rows(
        file,
        "start_date",
        ordered.index.to_numpy()[1:][overlap] + 1,
        "half term starts before the previous half term ends",
    )


def check_date_order(frame: pd.DataFrame, start: str, end: str, file: str, log: ProblemLog) -> None:
    """``end`` is on or after ``start`` where both are given."""
    bad = (frame[end] < frame[start]).fillna(False).to_numpy()
    log.rows(file, end, np.flatnonzero(bad) + 1, f"is before {start}")


def check_census_totals(terms: pd.DataFrame, file: str, log: ProblemLog) -> None:
    """Census termly totals: no negative counts; authorised + unauthorised <= possible."""
    counts = ["sessions_possible", "sessions_authorised", "sessions_unauthorised"]
    for col in counts:
        bad = (terms[col] < 0).fillna(False).to_numpy()
        log.rows(file, col, np.flatnonzero(bad) + 1, "must not be negative")
    over = (
        (terms["sessions_authorised"] + terms["sessions_unauthorised"] > terms["sessions_possible"])
        .fillna(False)
        .to_numpy()
    )
    log.rows(
        file,
        "sessions_authorised",
        np.flatnonzero(over) + 1,
        "authorised + unauthorised sessions exceed sessions_possible",
    )


def check_benchmark_areas(bench: pd.DataFrame, file: str, log: ProblemLog) -> None:
    """Each row names its area in country_name, region_name, la_name or area_name."""
    names = bench[["country_name", "region_name", "la_name", "area_name"]]
    bad = names.isna().all(axis=1).to_numpy()
    log.rows(
        file,
        "area_name",
        np.flatnonzero(bad) + 1,
        "no area name: give country_name, region_name, la_name or area_name",
    )


def check_weekly(
    weekly: pd.DataFrame,
    pupils: pd.DataFrame | None,
    schools: pd.DataFrame | None,
    file: str,
    log: ProblemLog,
) -> None:
    """Weekly session counts: Monday-to-Sunday periods, DfE arithmetic, links to pupils and schools.

    ``week_start`` is a Monday and ``week_end`` a later Sunday (a row may cover several weeks,
    such as the first file of a year); counts are not negative and possible = present +
    approved educational activity + authorised + unauthorised.
    """
    start, end = weekly["week_start"], weekly["week_end"]
    log.rows(
        file,
        "week_start",
        rows_where((start.dt.day_of_week != 0).fillna(False).to_numpy()),
        "is not a Monday (weeks run Monday to Sunday)",
    )
    bad_end = ((end.dt.day_of_week != 6) | (end <= start)).fillna(False).to_numpy()
    log.rows(file, "week_end", rows_where(bad_end), "is not a Sunday after week_start")
    parts = ["sessions_present", "sessions_aea", "sessions_authorised", "sessions_unauthorised"]
    for col in ["sessions_possible", *parts]:
        log.rows(file, col, rows_where((weekly[col] < 0).fillna(False).to_numpy()), "is negative")
    total = weekly[parts].sum(axis=1, min_count=len(parts))
    adds_up = (total == weekly["sessions_possible"]).fillna(True).to_numpy()
    log.rows(
        file,
        "sessions_possible",
        rows_where(~adds_up),
        "is not present + aea + authorised + unauthorised (DfE arithmetic)",
    )
    if pupils is not None:
        check_in(weekly["upn"], pupils["upn"], file, "upn", "pupils.csv", log)
    if schools is not None:
        check_in(weekly["urn"], schools["urn"], file, "urn", "schools.csv", log)


def check_marks_links(
    marks: pd.DataFrame,
    pupils: pd.DataFrame,
    schools: pd.DataFrame | None,
    file: str,
    log: ProblemLog,
) -> None:
    """A mark's upn is in pupils.csv and its urn in schools.csv (checked per category, then rows)."""
    known = set(pupils["upn"].dropna())
    unknown = [u for u in marks["upn"].cat.categories if u not in known]
    if unknown:
        bad = marks["upn"].isin(unknown).to_numpy()
        log.rows(
            file,
            "upn",
            np.flatnonzero(bad) + 1,
            lambda v: f"{v} is not in pupils.csv",
            marks["upn"].astype(object).to_numpy()[bad],
        )
    if schools is not None:
        urns = pd.unique(marks["urn"])
        urns = urns[urns >= 0]  # -1 holds a urn already reported as not a valid number
        missing = np.setdiff1d(urns, schools["urn"].dropna().to_numpy().astype(np.int64))
        if missing.size:
            bad = np.isin(marks["urn"].to_numpy(), missing)
            log.rows(
                file,
                "urn",
                np.flatnonzero(bad) + 1,
                lambda v: f"{v} is not in schools.csv",
                marks["urn"].to_numpy()[bad],
            )


def check_mark_dates(marks: pd.DataFrame, calendar: Calendar, file: str, log: ProblemLog) -> None:
    """Every mark's date lies inside a half term of calendar.csv."""
    dates = marks["date"].to_numpy()
    ok = calendar.in_calendar(dates) | np.isnat(dates)
    if not ok.all():
        bad = ~ok
        log.rows(
            file,
            "date",
            np.flatnonzero(bad) + 1,
            lambda v: f"{str(v)[:10]} is not inside any half term in calendar.csv",
            dates[bad],
        )


def check_weekend_marks(marks: pd.DataFrame, file: str, log: ProblemLog) -> None:
    """Marks dated on a Saturday or Sunday are counted in a warning naming the first rows.

    A warning, not an error: some schools open on a weekend (a Saturday school, a catch-up
    day) and their sessions count. More often a date is wrong, so validation says how many.
    """
    weekend = (marks["date"].dt.day_of_week >= 5).fillna(False).to_numpy()
    if weekend.any():
        rows = rows_where(weekend)
        first = ", ".join(str(r) for r in rows[:5])
        log.warnings.append(
            f"{file}: {rows.size:,} {'mark is' if rows.size == 1 else 'marks are'} on a Saturday"
            f" or Sunday (row{'s' if rows.size > 1 else ''} {first}"
            f"{', ...' if rows.size > 5 else ''}); they count as the code says: check the dates"
        )


def check_dual_registration(marks: pd.DataFrame, file: str, log: ProblemLog) -> None:
    """A pupil has a possible mark at one school at most in each session (date + AM/PM).

    A dual-registered pupil is on two schools' registers, but only the school the pupil is
    at records attendance or absence for a session; the other records ``D`` (not a possible
    session). The DfE counts each session once, at the main registration's school for
    absence. Possible marks for the same pupil and session at two schools would count the
    session twice (140 possible sessions in a 37-day half term), so each such row after the
    first is an error naming the row and the other school.
    """
    groups = group_lookup(marks["code"].cat.categories)
    code_ids = marks["code"].cat.codes.to_numpy()
    possible = (code_ids >= 0) & (groups[np.clip(code_ids, 0, None)] < int(Group.NOT_POSSIBLE))
    possible &= marks["upn"].cat.codes.to_numpy() >= 0
    possible &= ~marks["date"].isna().to_numpy()
    idx = np.flatnonzero(possible)
    if idx.size < 2:
        return
    upn = marks["upn"].cat.codes.to_numpy()[idx].astype(np.int64)
    days = marks["date"].to_numpy()[idx].astype("datetime64[D]").astype(np.int64)
    days -= days.min()
    pm = (marks["session"].astype(object).to_numpy()[idx] == "PM").astype(np.int64)
    slot = (upn * (int(days.max()) + 1) + days) * 2 + pm
    urn = marks["urn"].to_numpy()[idx]
    order = np.lexsort((idx, urn, slot))
    slot, urn, idx = slot[order], urn[order], idx[order]
    same_slot = np.r_[False, slot[1:] == slot[:-1]]
    group_start = np.maximum.accumulate(np.where(same_slot, 0, np.arange(slot.size)))
    other_school = same_slot & (urn != urn[group_start])
    if not other_school.any():
        return
    bad = idx[other_school]
    first = idx[group_start][other_school]
    order = np.argsort(bad, kind="stable")
    log.rows(
        file,
        "urn",
        bad[order] + 1,
        lambda pair: (
            f"the same pupil, date and session has a possible mark at URN {pair[0]} in row "
            f"{pair[1]}: a pupil counts at one school per session (a dual-registered pupil's "
            "other school records D)"
        ),
        list(zip(marks["urn"].to_numpy()[first[order]], first[order] + 1, strict=True)),
    )


def mark_keys(marks: pd.DataFrame) -> np.ndarray:
    """One int64 per mark encoding (urn, upn, date, session), ordered as a sort by those columns."""
    upn_codes = marks["upn"].cat.codes.to_numpy().astype(np.int64)
    cats = marks["upn"].cat.categories.to_numpy(dtype=object)
    rank = np.empty(len(cats), dtype=np.int64)
    rank[np.argsort(cats.astype(str), kind="stable")] = np.arange(len(cats))
    upn_rank = np.where(upn_codes >= 0, rank[np.clip(upn_codes, 0, None)], -1) + 1
    urn_ids, urn_uniques = pd.factorize(marks["urn"].to_numpy())
    urn_rank = np.empty(len(urn_uniques), dtype=np.int64)
    urn_rank[np.argsort(urn_uniques, kind="stable")] = np.arange(len(urn_uniques))
    urn_idx = urn_rank[urn_ids]
    days = marks["date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    days = days - days.min() if len(days) else days
    n_days = int(days.max()) + 1 if len(days) else 1
    sessions = list(marks["session"].cat.categories)
    pm_code = sessions.index("PM") if "PM" in sessions else -2
    pm = (marks["session"].cat.codes.to_numpy() == pm_code).astype(np.int64)
    return ((urn_idx * (len(cats) + 1) + upn_rank) * n_days + days) * 2 + pm


def collapse_duplicate_marks(
    marks: pd.DataFrame, file: str, log: ProblemLog
) -> tuple[pd.DataFrame, int]:
    """Drop identical duplicate marks (with a warning that counts them); report conflicting ones.

    The key is (upn, urn, date, session). A sorted file is checked in one linear pass.
    Returns the marks without the dropped rows and how many rows were dropped.
    """
    if len(marks) < 2:
        return marks, 0
    keys = mark_keys(marks)
    if np.all(keys[1:] > keys[:-1]):
        return marks, 0
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    repeat = np.zeros(len(keys), dtype=bool)
    repeat[1:] = sorted_keys[1:] == sorted_keys[:-1]
    if not repeat.any():
        return marks, 0
    codes = marks["code"].cat.codes.to_numpy()[order]
    group_start = np.flatnonzero(~repeat)
    group_of = np.cumsum(~repeat) - 1
    first_code = codes[group_start][group_of]
    conflict_group = np.zeros(len(group_start), dtype=bool)
    np.logical_or.at(conflict_group, group_of[codes != first_code], True)
    conflicting = conflict_group[group_of] & (repeat | np.r_[repeat[1:], False])
    if conflicting.any():
        rows = np.sort(order[conflicting]) + 1
        log.rows(
            file,
            "code",
            rows,
            "conflicting duplicate: the same upn, urn, date and session has another code in another row",
        )
    identical = repeat & ~conflict_group[group_of]
    n_drop = int(identical.sum())
    if n_drop:
        log.warnings.append(
            f"{file}: {n_drop:,} identical duplicate mark rows (same upn, urn, date, session and code) were collapsed"
        )
        keep = np.ones(len(keys), dtype=bool)
        keep[order[identical]] = False
        marks = marks[keep].reset_index(drop=True)
    return marks, n_drop
