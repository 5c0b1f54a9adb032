"""The DfE weekly pupil-level download ("Monitor your school attendance", VYED) into a data folder.

Each download is a CSV of year-to-date figures per pupil enrolment (UPN + URN): sessions from
the start of the academic year, or from admission, to the Friday before the Monday it was
published; leavers stay in, with their figures to the leaving date. The file name carries
that Monday: ``Official_Sensitive_<UKPRN>_School_Attendance_<DDMMYYYY>.csv``.

The DfE's own arithmetic holds on every row: possible = present + approved educational
activity + authorised + unauthorised, and absent = authorised + unauthorised (present
sessions exclude approved educational activity).

:func:`import_vyed` reads any number of downloads and writes a contract folder: ``schools``,
``pupils`` (with the characteristics the file carries), the calendar passed in and a
``weekly`` table, one row per enrolment and period with the sessions of that period: the
difference between consecutive files (the first file of a year covers from the Monday of the
week the year starts). Periods run Monday to Sunday. Import problems (a cumulative figure
that goes down, parts that do not add up, an enrolment that vanishes, a UPN counted at two
schools on the same days) are reported together as a :class:`DataError`, naming file, row
and column; nothing is written then.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from attendance_lib.contract.dataset import read_dataset
from attendance_lib.contract.reading import (
    TABLES,
    YEAR_GROUPS,
    ProblemLog,
    read_table,
)
from attendance_lib.contract.validation import check_calendar, upns_valid
from attendance_lib.core.academic_calendar import Calendar, academic_year_of
from attendance_lib.core.errors import DataError, UsageError
from attendance_lib.core.vyed_layout import VYED_LAYOUT

#: The columns of the download, as NCER documents the DfE layout.
LAYOUT: tuple[str, ...] = VYED_LAYOUT
#: VYED session columns and the contract's count columns they become.
SESSION_COLUMNS: dict[str, str] = {
    "possible_sessions": "sessions_possible",
    "present_sessions": "sessions_present",
    "approved_educational_activity_sessions": "sessions_aea",
    "authorised_absent_sessions": "sessions_authorised",
    "unauthorised_absent_sessions": "sessions_unauthorised",
}
COUNTS = list(SESSION_COLUMNS.values())
#: Yes/no/unknown flags and the pupils column each becomes.
FLAG_COLUMNS: dict[str, str] = {
    "english_additional_language": "eal",
    "compulsory_school_age": "compulsory_school_age",
    "sen_support": "sen_support",
    "free_school_meals": "fsm",
    "education_health_care_plan": "ehcp",
    "looked_after_child": "cla",
    "previously_looked_after_child": "plac",
    "child_in_need": "cin",
    "child_protection_plan": "cpp",
}
#: Columns the import reads; any other column of the layout may be missing.
REQUIRED: tuple[str, ...] = (
    "upn",
    "dob",
    "sex",
    "ethnicity",
    *FLAG_COLUMNS,
    "primary_sen_type",
    "secondary_sen_type",
    "unique_reference_number",
    "year_group",
    "school_local_authority_name",
    "learning_provider_ukprn",
    "school_name",
    "phase",
    "pupil_surname",
    "pupil_forename",
    "admission_date",
    "leaving_date",
    "absent_sessions",
    *SESSION_COLUMNS,
)
PHASES = TABLES["schools"].column("phase").allowed
FILE_DATE = re.compile(r"(\d{2})(\d{2})(\d{4})(?=\.csv$)", re.IGNORECASE)
FILE_UKPRN = re.compile(r"^Official_Sensitive_(\d+)_", re.IGNORECASE)
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}
_UNKNOWN = {"unknown", "not known", "u"}
_SEX = {"m": "M", "male": "M", "f": "F", "female": "F"}


@dataclass(frozen=True)
class ImportResult:
    """What :func:`import_vyed` wrote: the folder, rows per table and the files read."""

    out_dir: Path
    counts: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)


# --------------------------------------------------------------------------------------
# Reading one download
# --------------------------------------------------------------------------------------


def publication_date(path: Path, as_of=None) -> pd.Timestamp | None:
    """The Monday a download was published: from its name (``..._DDMMYYYY.csv``) or ``as_of``.

    A file whose name carries a date uses it; ``as_of`` serves files whose names carry none.
    None when neither gives a date (the caller reports it).
    """
    match = FILE_DATE.search(path.name)
    if match:
        day, month, year = (int(g) for g in match.groups())
        try:
            return pd.Timestamp(year=year, month=month, day=day)
        except ValueError:
            return None
    return None if as_of is None else pd.Timestamp(as_of).normalize()


def _names(columns) -> list[str]:
    return [re.sub(r"[\s\-]+", "_", str(c).strip().lower()) for c in columns]


def _text(raw: pd.DataFrame, column: str) -> pd.Series:
    out = raw[column].astype("string").str.strip()
    return out.mask(out == "")


def _parse_flags(text: pd.Series, where: Where, column: str) -> pd.Series:
    low = text.str.lower()
    yes = low.isin(_YES).fillna(False).to_numpy()
    no = low.isin(_NO).fillna(False).to_numpy()
    unknown = low.isin(_UNKNOWN).fillna(False).to_numpy() | text.isna().to_numpy()
    bad = ~(yes | no | unknown)
    where.rows(
        column,
        bad,
        lambda v: f"{v!r} is not yes, no or unknown",
        text[bad].to_numpy(),
    )
    out = pd.array(yes, dtype="boolean")
    out[~(yes | no)] = pd.NA
    return pd.Series(out, index=text.index)


def parse_dates(text: pd.Series, where: Where, column: str) -> pd.Series:
    """Dates written dd/mm/yyyy or ISO yyyy-mm-dd (with or without a time); others reported."""
    unique = pd.Series(text.dropna().unique(), dtype="string")  # dates repeat: parse each once
    iso = unique.str.extract(r"^(\d{4}-\d{2}-\d{2})(?:[ T][\d:.]*)?$")[0]
    uk = unique.str.extract(r"^(\d{1,2}/\d{1,2}/\d{4})(?: [\d:.]*)?$")[0]
    dates = pd.to_datetime(iso, format="%Y-%m-%d", errors="coerce").fillna(
        pd.to_datetime(uk, format="%d/%m/%Y", errors="coerce")
    )
    lookup = pd.Series(dates.to_numpy(), index=unique.to_numpy(dtype=object))
    parsed = pd.Series(
        lookup.reindex(text.to_numpy(dtype=object)).to_numpy(), index=text.index
    ).astype("datetime64[ns]")
    bad = (text.notna() & parsed.isna()).to_numpy()
    where.rows(
        column,
        bad,
        lambda v: f"{v!r} is not a date as dd/mm/yyyy or yyyy-mm-dd",
        text[bad].to_numpy(),
    )
    return parsed


def _parse_counts(text: pd.Series, where: Where, column: str) -> pd.Series:
    num = pd.to_numeric(text, errors="coerce")
    bad = (num.isna() | (num % 1 != 0) | (num < 0)).to_numpy()
    where.rows(
        column,
        bad,
        lambda v: f"{v!r} is not a whole number of sessions (0 or more)",
        text[bad].to_numpy(),
    )
    return num.fillna(0).astype(np.int64)


def read_vyed_file(path: Path, log: ProblemLog, *, as_of=None) -> pd.DataFrame | None:
    """Read one download as text; problems go to ``log``. None when it cannot be read at all.

    Headers are matched case-insensitively, with spaces and hyphens read as underscores (so
    ``learning_provider-ukprn`` is ``learning_provider_ukprn``). Returns the file's columns
    with ``file``, ``row`` (1 = first data row), ``published`` (the Monday) and ``series``
    (the UKPRN in the file name); :func:`type_rows` types them.
    """
    file = path.name
    published = publication_date(path, as_of)
    if published is None:
        log.add(
            file,
            None,
            None,
            "the file name carries no publication date (..._DDMMYYYY.csv); give --as-of",
        )
        return None
    if published.day_of_week != 0:
        log.add(
            file,
            None,
            None,
            f"the publication date {published:%d/%m/%Y} is a {published:%A}; downloads are "
            "published on Mondays (figures to the Friday before)",
        )
        return None
    try:
        wanted = set(REQUIRED)
        raw = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            encoding="utf-8-sig",
            usecols=lambda c: _names([c])[0] in wanted,  # only the columns the import reads
        )
    except UnicodeDecodeError as exc:
        log.add(file, None, None, f"is not UTF-8 text ({exc.reason})")
        return None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        log.add(file, None, None, f"is not a readable CSV: {exc}")
        return None
    raw.columns = _names(raw.columns)
    missing = [c for c in REQUIRED if c not in raw.columns]
    for column in missing:
        log.add(file, None, column, "expected column of the DfE weekly download is missing")
    if missing:
        return None
    raw.insert(0, "file", file)
    raw.insert(1, "row", np.arange(1, len(raw) + 1))
    raw.insert(2, "published", published)
    match = FILE_UKPRN.match(file)
    raw.insert(3, "series", match.group(1) if match else "")
    return raw


#: Text columns with few distinct values, kept as categories (a national import is millions of rows).
_CATEGORIES = (
    "file",
    "series",
    "year_group",
    "sex",
    "phase",
    "ethnicity",
    "primary_sen_type",
    "secondary_sen_type",
    "school_name",
    "local_authority",
    "ukprn",
    "forename",
    "surname",
)
#: Rows typed at once: large enough to be fast, small enough to bound the memory of the text.
BATCH_ROWS = 500_000


def concat_typed(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate typed batches, keeping categorical columns categorical (categories united)."""
    if len(frames) == 1:
        return frames[0]
    out = pd.concat(frames, ignore_index=True)
    for column in _CATEGORIES:
        out[column] = pd.api.types.union_categoricals(
            [f[column] for f in frames], ignore_order=True
        )
    return out


class Where:
    """Reports problems for rows of several files at once: each row's file and row number."""

    def __init__(self, raw: pd.DataFrame, log: ProblemLog) -> None:
        self.files = raw["file"].to_numpy()
        self.row_numbers = raw["row"].to_numpy()
        self.log = log

    def rows(self, column: str, bad, message, values=None) -> None:
        """Like :meth:`ProblemLog.rows`, for a boolean mask over the rows of every file."""
        bad = np.asarray(bad, dtype=bool)
        if not bad.any():
            return
        if values is not None:
            items = list(values)
            values = np.empty(len(items), dtype=object)
            values[:] = items
        flagged = self.files[bad]
        for file in dict.fromkeys(flagged):
            mine = flagged == file
            picked = None if values is None else values[mine]
            self.log.rows(file, column, self.row_numbers[bad][mine], message, picked)


def type_rows(raw: pd.DataFrame, log: ProblemLog) -> pd.DataFrame:
    """Type the rows of any number of downloads (from :func:`read_vyed_file`), reporting values
    that do not fit and rows that break the DfE arithmetic."""
    where = Where(raw, log)
    out = raw[["file", "row", "published", "series"]].copy()
    upn = _text(raw, "upn").str.upper()
    bad = ~upns_valid(upn.fillna("").to_numpy(dtype=object))
    where.rows(
        "upn",
        bad,
        lambda v: f"{v!r} is not a valid UPN (13 characters with a correct check letter)",
        upn[bad].fillna("").to_numpy(),
    )
    out["upn"] = upn.astype(object)
    urn_text = _text(raw, "unique_reference_number")
    urn = pd.to_numeric(urn_text, errors="coerce")
    bad = (urn.isna() | (urn % 1 != 0)).to_numpy()
    where.rows(
        "unique_reference_number",
        bad,
        lambda v: f"{v!r} is not a URN (a whole number)",
        urn_text[bad].to_numpy(),
    )
    out["urn"] = urn.fillna(-1).astype(np.int64)
    for column, name in SESSION_COLUMNS.items():
        out[name] = _parse_counts(_text(raw, column), where, column)
    absent = _parse_counts(_text(raw, "absent_sessions"), where, "absent_sessions")
    for column, name in FLAG_COLUMNS.items():
        out[name] = _parse_flags(_text(raw, column), where, column)
    for column, name in (("dob", "date_of_birth"), ("admission_date", "admission_date")):
        out[name] = parse_dates(_text(raw, column), where, column)
    out["leaving_date"] = parse_dates(_text(raw, "leaving_date"), where, "leaving_date")
    year_group = _text(raw, "year_group").str.upper().str.replace(r"^0+(\d)", r"\1", regex=True)
    year_group = year_group.str.replace(r"^(?:YEAR|Y)\s*", "", regex=True).replace(
        {"RECEPTION": "R", "NURSERY 1": "N1", "NURSERY 2": "N2"}
    )
    bad = ~year_group.isin(YEAR_GROUPS).fillna(False).to_numpy()
    where.rows(
        "year_group",
        bad,
        lambda v: f"{v!r} is not a year group (N2, N1, R, 1 to 14)",
        _text(raw, "year_group")[bad].to_numpy(),
    )
    out["year_group"] = year_group.astype(object)
    sex = _text(raw, "sex").str.lower()
    out["sex"] = sex.map(_SEX).astype(object)
    bad = (sex.notna() & ~sex.isin([*_SEX, *_UNKNOWN])).to_numpy()
    where.rows(
        "sex",
        bad,
        lambda v: f"{v!r} is not M, F, male, female or unknown",
        _text(raw, "sex")[bad].to_numpy(),
    )
    phase = _text(raw, "phase").str.lower().str.replace(r"[\s\-]+", "_", regex=True)
    bad = ~phase.isin(PHASES).fillna(False).to_numpy()
    where.rows(
        "phase",
        bad,
        lambda v: f"{v!r} is not one of {', '.join(PHASES)}",
        _text(raw, "phase")[bad].to_numpy(),
    )
    out["phase"] = phase.astype(object)
    for column, name in (
        ("ethnicity", "ethnicity"),
        ("primary_sen_type", "primary_sen_type"),
        ("secondary_sen_type", "secondary_sen_type"),
        ("school_name", "school_name"),
        ("school_local_authority_name", "local_authority"),
        ("learning_provider_ukprn", "ukprn"),
        ("pupil_forename", "forename"),
        ("pupil_surname", "surname"),
    ):
        out[name] = _text(raw, column).astype(object)
    for column in ("school_name", "school_local_authority_name"):
        where.rows(column, _text(raw, column).isna().to_numpy(), "is empty")
    _check_arithmetic(out, absent, where)
    for column in _CATEGORIES:
        out[column] = out[column].astype("category")
    return out


def _check_arithmetic(out: pd.DataFrame, absent: pd.Series, where: Where) -> None:
    """possible = present + AEA + authorised + unauthorised; absent = authorised + unauthorised."""
    parts = out[COUNTS[1:]].sum(axis=1)
    bad = (parts != out["sessions_possible"]).to_numpy()
    where.rows(
        "possible_sessions",
        bad,
        lambda v: (
            f"is {v[0]}, but present + approved activity + authorised + unauthorised "
            f"sessions add up to {v[1]} (DfE arithmetic)"
        ),
        list(zip(out["sessions_possible"][bad], parts[bad], strict=True)),
    )
    absences = out["sessions_authorised"] + out["sessions_unauthorised"]
    bad = (absences != absent).to_numpy()
    where.rows(
        "absent_sessions",
        bad,
        lambda v: f"is {v[0]}, but authorised + unauthorised absent sessions add up to {v[1]}",
        list(zip(absent[bad], absences[bad], strict=True)),
    )


# --------------------------------------------------------------------------------------
# From cumulative files to weekly periods
# --------------------------------------------------------------------------------------


def _monday(day: pd.Timestamp) -> pd.Timestamp:
    return day - pd.Timedelta(days=day.day_of_week)


def assign_periods(rows: pd.DataFrame, calendar: Calendar, log: ProblemLog) -> pd.DataFrame:
    """Give each row its academic year and period (week_start Monday .. week_end Sunday).

    Files downloaded for the same UKPRN (the LA's or a school's, from the file name) form a
    series; in one academic year each follows the one before. The period of a file runs from
    the Monday its predecessor was published (or, for the year's first file, the Monday of
    the week the year starts) to the Sunday before it was published.
    """
    friday = rows["published"] - pd.Timedelta(days=3)
    years = {d: academic_year_of(d) for d in friday.unique()}
    rows = rows.assign(academic_year=friday.map(years))
    starts = {}
    for (file, year), _ in rows.groupby(["file", "academic_year"]).groups.items():
        if year not in calendar.years:
            log.add(
                file,
                None,
                None,
                f"its figures run to a date in {year}, which the calendar does not cover "
                f"(it has {', '.join(calendar.years)})",
            )
        else:
            starts[year] = _monday(calendar.year_bounds(year)[0])
    series = ["series", "academic_year"]
    dates = rows[[*series, "published"]].drop_duplicates()
    dates = dates.sort_values([*series, "published"])
    dates["previous"] = dates.groupby(series)["published"].shift()
    dates["next"] = dates.groupby(series)["published"].shift(-1)
    rows = rows.merge(dates, on=[*series, "published"], how="left")
    first = rows["academic_year"].map(starts)
    rows["week_start"] = rows["previous"].fillna(first)
    rows["week_end"] = rows["published"] - pd.Timedelta(days=1)
    return rows


def _file_names(rows: pd.DataFrame) -> dict[tuple[str, pd.Timestamp], str]:
    """The file of each series published on each date."""
    pairs = rows[["series", "published", "file"]].drop_duplicates(["series", "published"])
    return {(u, p): f for u, p, f in pairs.itertuples(index=False)}


def weekly_differences(rows: pd.DataFrame, log: ProblemLog) -> pd.DataFrame:
    """Each row's sessions in its period: its figures less the same enrolment's previous ones.

    Reports figures that go down and enrolments missing from the next file of their series.
    """
    keys = ["upn", "urn", "series", "academic_year"]
    before = rows[[*keys, "published", "file", "row", *COUNTS]].rename(
        columns={"published": "previous", "file": "previous_file", "row": "previous_row"}
        | {c: f"{c}_before" for c in COUNTS}
    )
    merged = rows.merge(before, on=[*keys, "previous"], how="left")
    names = _file_names(rows)
    after = rows[[*keys, "published"]].rename(columns={"published": "next"})
    vanished = rows[rows["next"].notna()].merge(
        after, on=[*keys, "next"], how="left", indicator=True
    )
    vanished = vanished[vanished["_merge"] == "left_only"]
    for r in vanished.head(50).itertuples():
        log.add(
            names[(r.series, r.next)],
            None,
            "upn",
            f"{r.upn} (URN {r.urn}) is in {r.file} (row {r.row}) but not in this later file; "
            "leavers stay in later files with their figures to the leaving date",
        )
    if len(vanished) > 50:
        log.add("weekly files", None, "upn", f"... and {len(vanished) - 50:,} more like this")
    for column, name in SESSION_COLUMNS.items():
        prior = merged[f"{name}_before"].fillna(0).astype(np.int64)
        merged[name] = merged[name] - prior
        fell = (merged[name] < 0).to_numpy()
        for r in merged[fell].head(50).itertuples():
            was = getattr(r, f"{name}_before")
            log.add(
                r.file,
                int(r.row),
                column,
                f"{r.upn} (URN {r.urn}) fell from {int(was)} in {r.previous_file} to "
                f"{int(was) + int(getattr(r, name))}: cumulative figures cannot go down",
            )
        if fell.sum() > 50:
            log.add("weekly files", None, column, f"... and {fell.sum() - 50:,} more falls")
    return merged


def check_sessions_per_week(weekly: pd.DataFrame, log: ProblemLog) -> None:
    """A pupil has at most two possible sessions per weekday of a period, over all schools.

    More means the same days were counted at two schools: a UPN that moved between schools
    within a week while still on roll at both (the main school of a dual-registered pupil
    records ``D``, not a possible session, on the days the pupil attends elsewhere).
    """
    keys = ["upn", "week_end"]
    per = weekly.groupby(keys, sort=False).agg(
        possible=("sessions_possible", "sum"), week_start=("week_start", "min")
    )
    per = per.reset_index()
    weekdays = np.busday_count(
        per["week_start"].to_numpy(dtype="datetime64[D]"),
        (per["week_end"] + pd.Timedelta(days=1)).to_numpy(dtype="datetime64[D]"),
    )
    over = per[per["possible"].to_numpy() > 2 * weekdays]
    days_over = weekdays[per["possible"].to_numpy() > 2 * weekdays]
    detail = weekly.merge(over.head(50)[keys], on=keys)
    for r, days in zip(over.head(50).itertuples(), days_over[:50], strict=False):
        mine = detail[(detail["upn"] == r.upn) & (detail["week_end"] == r.week_end)]
        urns = sorted(set(mine["urn"]))
        where = "schools " + " and ".join(map(str, urns)) if len(urns) > 1 else f"URN {urns[0]}"
        log.add(
            mine["file"].iloc[0],
            int(mine["row"].iloc[0]),
            "upn",
            f"{r.upn} has {r.possible} possible sessions at {where} from {r.week_start:%Y-%m-%d} "
            f"to {r.week_end:%Y-%m-%d}, more than the {2 * days} sessions of its {days} weekdays: "
            "a UPN moving between schools within a week is counted at both on the same days",
        )
    if len(over) > 50:
        log.add("weekly files", None, "upn", f"... and {len(over) - 50:,} more like this")


# --------------------------------------------------------------------------------------
# Tables written
# --------------------------------------------------------------------------------------


def schools_table(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per school from its latest file. ``locality`` is the school's local authority:
    the download has no localities (edit schools.csv to add them)."""
    latest = rows.sort_values(["published", "file", "row"]).drop_duplicates("urn", keep="last")
    return (
        latest.assign(locality=latest["local_authority"])[
            ["urn", "school_name", "phase", "locality", "ukprn", "local_authority"]
        ]
        .sort_values("urn")
        .reset_index(drop=True)
    )


#: Characteristics taken from an earlier file of the year when the latest says unknown.
_CARRIED = ("fsm", "sen_support", "ehcp", "sex", "eal", "date_of_birth", "ethnicity")


def pupils_table(rows: pd.DataFrame, log: ProblemLog) -> pd.DataFrame:
    """One row per pupil and academic year, from the pupil's latest file that year.

    When the pupil has more than one enrolment there, the open one (no leaving date) is the
    school of record, else the latest admitted. A characteristic the latest file gives as
    unknown is taken from the latest earlier file of the year that gives it. ``sen`` is E
    with an EHC plan, K on SEN support, N only when both flags say no. ``fsm`` and ``sen``
    unknown in every file of the year (a joiner whose record is not yet complete) stay empty:
    the data contract allows that, reports count them as "not recorded", and nothing is
    guessed. ``sex`` unknown in every file is a problem: the data contract needs it.
    """
    order = rows.assign(open=rows["leaving_date"].isna())
    order = order.sort_values(["published", "open", "admission_date", "file", "row"])
    latest = order.drop_duplicates(["upn", "academic_year"], keep="last").copy()
    # a value unknown in the latest file but given in an earlier one that year: the latest given
    known = order.groupby(["upn", "academic_year"], sort=False)[list(_CARRIED)].last()
    keyed = latest.set_index(["upn", "academic_year"]).index
    for column in _CARRIED:
        latest[column] = latest[column].fillna(known[column].reindex(keyed).set_axis(latest.index))
    sen = pd.Series(pd.NA, index=latest.index, dtype=object)
    sen[(latest["sen_support"] == False) & (latest["ehcp"] == False)] = "N"  # noqa: E712
    sen[latest["sen_support"] == True] = "K"  # noqa: E712
    sen[latest["ehcp"] == True] = "E"  # noqa: E712
    latest["sen"] = sen
    unknown = latest["sex"].isna().to_numpy()
    for r in latest[unknown].head(20).itertuples():
        log.add(
            r.file,
            int(r.row),
            "sex",
            f"is unknown for {r.upn}; pupils.csv needs sex for every pupil "
            "(data contract), and the import does not guess it",
        )
    if unknown.sum() > 20:
        log.add("weekly files", None, "sex", f"... and {unknown.sum() - 20:,} more unknown")
    columns = [
        "upn",
        "academic_year",
        "urn",
        "year_group",
        "date_of_birth",
        "sex",
        "fsm",
        "sen",
        "ethnicity",
        "eal",
        "primary_sen_type",
        "secondary_sen_type",
        "cla",
        "plac",
        "cin",
        "cpp",
        "compulsory_school_age",
        "forename",
        "surname",
    ]
    return latest[columns].sort_values(["upn", "academic_year"]).reset_index(drop=True)


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if isinstance(series.dtype, pd.BooleanDtype) or pd.api.types.is_bool_dtype(series):
            out[column] = series.map({True: "true", False: "false"}).astype(object)
        elif pd.api.types.is_datetime64_any_dtype(series):
            out[column] = series.dt.strftime("%Y-%m-%d")
    out.to_csv(path, index=False, lineterminator="\n")


def _sources(paths) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() == ".csv")
            if not found:
                raise UsageError(f"{p} holds no .csv files")
            files += found
        elif p.is_file():
            files.append(p)
        else:
            raise UsageError(f"{p} does not exist")
    if not files:
        raise UsageError("give at least one weekly download or a folder of them")
    return files


def _check_out(out_dir: Path) -> None:
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise UsageError(f"--out {out_dir} must be a new or empty folder")


def read_vyed(paths, calendar_path, *, as_of=None) -> tuple[dict[str, pd.DataFrame], list[Path]]:
    """Read downloads and a calendar into the tables of a data folder (nothing written).

    Returns the tables ``schools``, ``pupils``, ``calendar`` and ``weekly`` and the files
    read. Raises :class:`DataError` listing every import problem.
    """
    files = _sources(paths)
    log = ProblemLog()
    calendar_path = Path(calendar_path)
    if not calendar_path.is_file():
        raise UsageError(f"calendar {calendar_path} does not exist")
    calendar_table = read_table(calendar_path, TABLES["calendar"], log)
    if calendar_table is not None:
        check_calendar(calendar_table, calendar_path.name, log)
    typed, batch = [], []
    for number, path in enumerate(files, start=1):
        raw = read_vyed_file(path, log, as_of=as_of)
        if raw is not None:
            batch.append(raw)
        if batch and (sum(map(len, batch)) >= BATCH_ROWS or number == len(files)):
            typed.append(type_rows(pd.concat(batch, ignore_index=True), log))
            batch = []
    if log.problems:
        raise DataError(log.problems)
    rows = concat_typed(typed)
    dup = rows.duplicated(["upn", "urn", "published"], keep=False).to_numpy()
    for r in rows[dup].head(20).itertuples():
        log.add(
            r.file,
            int(r.row),
            "upn",
            f"{r.upn} at URN {r.urn} appears more than once for the files published "
            f"{r.published:%d/%m/%Y}",
        )
    if log.problems:
        raise DataError(log.problems)
    calendar = Calendar(calendar_table)
    rows = assign_periods(rows, calendar, log)
    if log.problems:
        raise DataError(log.problems)
    periods = weekly_differences(rows, log)
    check_sessions_per_week(periods, log)
    pupils = pupils_table(rows, log)
    if log.problems:
        raise DataError(log.problems)
    has_sessions = (periods[COUNTS] != 0).any(axis=1).to_numpy()
    weekly = (
        periods.loc[has_sessions, ["upn", "urn", "week_start", "week_end", *COUNTS]]
        .sort_values(["upn", "urn", "week_start"])
        .reset_index(drop=True)
    )
    tables = {
        "schools": schools_table(rows),
        "pupils": pupils,
        "calendar": calendar_table,
        "weekly": weekly,
    }
    return tables, files


def import_vyed(paths, calendar_path, out_dir, *, as_of=None) -> ImportResult:
    """Import DfE weekly pupil-level downloads into a new data folder ``out_dir``.

    Parameters
    ----------
    paths
        Download files, or folders of them (every ``.csv`` inside).
    calendar_path
        The LA's ``calendar.csv`` (contract layout); it is copied into the folder.
    out_dir
        A new or empty folder. Written only when the import has no problem and the result
        passes validation: the tables go to a hidden folder beside it, which is renamed.
    as_of
        The publication Monday of files whose names carry no date.

    Raises
    ------
    DataError
        Every import problem, naming file, row and column.
    UsageError
        A path does not exist, or ``out_dir`` is not empty.
    """
    out_dir = Path(out_dir)
    _check_out(out_dir)
    tables, files = read_vyed(paths, calendar_path, as_of=as_of)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.with_name(f".{out_dir.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        for name in ("schools", "pupils", "calendar"):
            _write_csv(tables[name], tmp / f"{name}.csv")
        tables["weekly"].to_parquet(tmp / "weekly.parquet", index=False)
        read_dataset(tmp)  # the folder must meet the data contract before it appears
        if out_dir.exists():
            out_dir.rmdir()
        tmp.rename(out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return ImportResult(out_dir=out_dir, counts={n: len(t) for n, t in tables.items()}, files=files)
