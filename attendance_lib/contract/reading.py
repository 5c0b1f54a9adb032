"""The data contract: which tables a data folder holds, their columns and types, and reading them.

Follows ``docs/data-contract.md`` (v1). Each table is ``<name>.csv`` or ``<name>.parquet``;
``marks.parquet`` may also be a directory of (hive-partitioned) Parquet files, e.g. one per
academic year and school, as written for national-scale work.
Column names are matched case-insensitively after trimming; extra columns are kept; a
missing required column is an error naming file and column. Every value that does not
fit its type is reported with file, row (1 = first data row) and column, many at once.

:func:`attendance_lib.contract.dataset.load_dataset` builds on this module to read a whole folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from attendance_lib.core.errors import DataError, Problem, UsageError

#: How many rows of one kind of problem are listed one by one before they are summarised.
MAX_ROWS_LISTED = 10

_TRUE = {"true", "1", "y", "yes", "t"}
_FALSE = {"false", "0", "n", "no", "f"}
YEAR_GROUPS = ("N1", "N2", "R", *[str(i) for i in range(1, 15)])


@dataclass(frozen=True)
class Column:
    """One column of a contract table.

    ``kind`` is one of text, int, float, bool, date, academic_year, year_group.
    ``required``: the column must be present. ``nullable``: empty cells are allowed.
    ``allowed``: the values a text column may take (exact match after trimming).
    """

    name: str
    kind: str = "text"
    required: bool = True
    nullable: bool = False
    allowed: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Table:
    """A contract table: its name, columns, key and whether the folder must have it."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    required: bool = True

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _opt(name: str, kind: str = "text", **kw) -> Column:
    return Column(name, kind, required=False, nullable=True, **kw)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "schools",
            (
                Column("urn", "int"),
                Column("school_name"),
                Column(
                    "phase",
                    allowed=(
                        "primary",
                        "secondary",
                        "special",
                        "all_through",
                        "alternative_provision",
                    ),
                ),
                Column("locality"),
                _opt("officer"),
                _opt("light_touch", "bool"),
            ),
            key=("urn",),
        ),
        Table(
            "pupils",
            (
                Column("upn"),
                Column("academic_year", "academic_year"),
                Column("urn", "int"),
                Column("year_group", "year_group"),
                _opt("date_of_birth", "date"),
                Column("sex", allowed=("F", "M")),
                # empty = unknown (a joiner in the DfE weekly download): never taken as no
                Column("fsm", "bool", nullable=True),
                _opt("fsm6", "bool"),
                Column("sen", nullable=True, allowed=("N", "K", "E")),
                _opt("ethnicity"),
                _opt("eal", "bool"),
            ),
            key=("upn", "academic_year"),
        ),
        Table(
            "calendar",
            (
                Column("academic_year", "academic_year"),
                Column("half_term", "int"),
                Column("start_date", "date"),
                Column("end_date", "date"),
            ),
            key=("academic_year", "half_term"),
        ),
        Table(
            "marks",
            (
                Column("upn"),
                Column("urn", "int"),
                Column("date", "date"),
                Column("session", allowed=("AM", "PM")),
                Column("code"),
            ),
            key=("upn", "urn", "date", "session"),
        ),
        Table(
            "weekly",
            (
                Column("upn"),
                Column("urn", "int"),
                Column("week_start", "date"),
                Column("week_end", "date"),
                Column("sessions_possible", "int"),
                Column("sessions_present", "int"),
                Column("sessions_aea", "int"),
                Column("sessions_authorised", "int"),
                Column("sessions_unauthorised", "int"),
            ),
            key=("upn", "urn", "week_start"),
            required=False,
        ),
        Table(
            "absence_terms",
            (
                Column("upn"),
                Column("urn", "int"),
                Column("academic_year", "academic_year"),
                Column("term", allowed=("autumn", "spring", "summer")),
                Column("sessions_possible", "int"),
                Column("sessions_authorised", "int"),
                Column("sessions_unauthorised", "int"),
            ),
            key=("upn", "urn", "academic_year", "term"),
            required=False,
        ),
        Table(
            "ks2",
            (
                Column("upn"),
                Column("academic_year", "academic_year"),
                Column("rwm_expected", "bool", nullable=True),
                Column("read_expected", "bool", nullable=True),
                Column("writ_expected", "bool", nullable=True),
                Column("mat_expected", "bool", nullable=True),
                _opt("rwm_higher", "bool"),
                _opt("read_scaled", "int"),
                _opt("mat_scaled", "int"),
                _opt("ks1_prior", "float"),
            ),
            key=("upn", "academic_year"),
            required=False,
        ),
        Table(
            "ks4",
            (
                Column("upn"),
                Column("academic_year", "academic_year"),
                Column("attainment8", "float", nullable=True),
                Column("em_4plus", "bool", nullable=True),
                Column("em_5plus", "bool", nullable=True),
                _opt("ks2_prior", "float"),
            ),
            key=("upn", "academic_year"),
            required=False,
        ),
        Table(
            "services",
            (
                Column("upn"),
                Column(
                    "service",
                    allowed=("cin", "cpp", "cla", "early_help", "youth_justice", "other"),
                ),
                Column("start_date", "date"),
                Column("end_date", "date", nullable=True),
            ),
            required=False,
        ),
        Table(
            "interventions",
            (
                Column("intervention_id"),
                Column("upn"),
                Column("officer"),
                Column("start_date", "date"),
                _opt("source", allowed=("data", "panel")),
                _opt("panel"),
                _opt("review_date", "date"),
                _opt("status"),
            ),
            key=("intervention_id",),
            required=False,
        ),
        Table(
            "benchmarks",
            (
                Column("time_period", "int"),
                Column("time_identifier"),
                Column(
                    "geographic_level",
                    allowed=("National", "Regional", "Local authority"),
                ),
                _opt("country_name"),
                _opt("region_name"),
                _opt("la_name"),
                _opt("area_name"),
                _opt("education_phase"),
                _opt("school_type"),
                _opt("sess_overall_percent", "float"),
                _opt("sess_authorised_percent", "float"),
                _opt("sess_unauthorised_percent", "float"),
                _opt("enrolments_pa_10_exact_percent", "float"),
                _opt("enrolments_pa_50_exact_percent", "float"),
                _opt("basis", allowed=("census", "daily")),
            ),
            required=False,
        ),
    )
}


# --------------------------------------------------------------------------------------
# Problems, capped per kind so a broken million-row file gives a readable report
# --------------------------------------------------------------------------------------


class ProblemLog:
    """Collects problems; lists the first rows of each kind and summarises the rest."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.warnings: list[str] = []

    def add(self, file: str, row: int | None, column: str | None, message: str) -> None:
        self.problems.append(Problem(file, row, column, message))

    def rows(self, file: str, column: str | None, rows: np.ndarray, message, values=None) -> None:
        """Report ``message`` for each 1-based row in ``rows`` (first few listed, rest counted).

        ``message`` is a string, or a function of the offending value when ``values`` is given.
        """
        rows = np.asarray(rows)
        if rows.size == 0:
            return
        for i, row in enumerate(rows[:MAX_ROWS_LISTED]):
            text = message(values[i]) if values is not None else message
            self.add(file, int(row), column, text)
        if rows.size > MAX_ROWS_LISTED:
            text = message(values[MAX_ROWS_LISTED]) if values is not None else message
            self.add(
                file,
                None,
                column,
                f"... and {rows.size - MAX_ROWS_LISTED:,} more rows like this ({text})",
            )


# --------------------------------------------------------------------------------------
# Reading one table
# --------------------------------------------------------------------------------------


def rows_where(mask: np.ndarray) -> np.ndarray:
    """1-based data row numbers where ``mask`` is true (no array the length of the table)."""
    return np.flatnonzero(mask) + 1


def missing_required_tables(paths: dict[str, Path | None]) -> list[str]:
    """The required tables a folder lacks. ``marks`` is optional when ``weekly`` counts are present."""
    return [
        name
        for name, spec in TABLES.items()
        if spec.required
        and paths.get(name) is None
        and not (name == "marks" and paths.get("weekly") is not None)
    ]


def find_table_file(root: Path, name: str) -> Path | None:
    """The file holding table ``name`` in ``root`` (Parquet preferred), or None."""
    for suffix in (".parquet", ".csv"):
        path = root / f"{name}{suffix}"
        if path.is_file() or (suffix == ".parquet" and path.is_dir()):
            return path
    return None


def _normalise_names(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.rename(columns=lambda c: str(c).strip().lower())


def _read_raw(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return _normalise_names(pq.read_table(path).to_pandas())
    try:
        frame = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            encoding="utf-8-sig",
            skipinitialspace=False,
        )
    except UnicodeDecodeError as exc:
        raise DataError(
            [Problem(path.name, None, None, f"is not UTF-8 text ({exc.reason})")]
        ) from None
    except pd.errors.ParserError as exc:
        raise DataError([Problem(path.name, None, None, f"is not a readable CSV: {exc}")]) from None
    except pd.errors.EmptyDataError:
        raise DataError([Problem(path.name, None, None, "is empty (no header row)")]) from None
    return _normalise_names(frame)


def _as_text(series: pd.Series) -> pd.Series:
    """Trimmed strings with missing values as NA (works for CSV text and Parquet types)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    out = series.astype("string").str.strip()
    return out.mask(out == "")


def coerce_column(series: pd.Series, col: Column, file: str, log: ProblemLog) -> pd.Series:
    """Convert one column to its contract type, reporting values that do not fit."""
    rows = np.arange(1, len(series) + 1)
    kind = col.kind
    if kind == "date" and pd.api.types.is_datetime64_any_dtype(series):
        out = series.dt.normalize()
        bad = np.zeros(len(series), dtype=bool)
        missing = out.isna().to_numpy()
    elif kind == "int" and pd.api.types.is_integer_dtype(series):
        out = series.astype("Int64")
        bad = np.zeros(len(series), dtype=bool)
        missing = out.isna().to_numpy()
    elif kind == "bool" and pd.api.types.is_bool_dtype(series):
        out = series.astype("boolean")
        bad = np.zeros(len(series), dtype=bool)
        missing = out.isna().to_numpy()
    else:
        text = _as_text(series)
        missing = text.isna().to_numpy()
        if kind == "text":
            out = text.astype(object).where(~missing, None)
            bad = np.zeros(len(series), dtype=bool)
            if col.allowed is not None:
                bad = ~missing & ~text.isin(col.allowed).fillna(False).to_numpy()
                log.rows(
                    file,
                    col.name,
                    rows[bad],
                    lambda v: f"{v!r} is not allowed; expected one of {', '.join(col.allowed)}",
                    text[bad].to_numpy(),
                )
                bad = np.zeros(len(series), dtype=bool)
        elif kind == "int":
            num = pd.to_numeric(text, errors="coerce")
            bad = ~missing & (num.isna() | (num % 1 != 0)).to_numpy()
            out = num.where(~bad).astype("Float64").round().astype("Int64")
            _report_bad(log, file, col.name, rows, bad, text, "a whole number")
        elif kind == "float":
            num = pd.to_numeric(text, errors="coerce")
            bad = ~missing & num.isna().to_numpy()
            out = num.astype("float64")
            _report_bad(log, file, col.name, rows, bad, text, "a number")
        elif kind == "bool":
            low = text.str.lower()
            is_t = low.isin(_TRUE).fillna(False).to_numpy()
            is_f = low.isin(_FALSE).fillna(False).to_numpy()
            bad = ~missing & ~is_t & ~is_f
            out = pd.array(np.where(is_t, True, False), dtype="boolean")
            out[missing | bad] = pd.NA
            out = pd.Series(out, index=series.index)
            _report_bad(log, file, col.name, rows, bad, text, "true/false, 1/0 or Y/N")
        elif kind == "date":
            iso = text.str.fullmatch(r"\d{4}-\d{2}-\d{2}").fillna(False).to_numpy()
            parsed = pd.to_datetime(text.where(iso), format="%Y-%m-%d", errors="coerce")
            bad = ~missing & parsed.isna().to_numpy()
            out = parsed
            _report_bad(log, file, col.name, rows, bad, text, "a date as YYYY-MM-DD")
        elif kind == "academic_year":
            ok = text.str.fullmatch(r"\d{4}/\d{2}").fillna(False).to_numpy()
            first = pd.to_numeric(text.str[:4], errors="coerce")
            second = pd.to_numeric(text.str[5:7], errors="coerce")
            ok &= ((first + 1) % 100 == second).fillna(False).to_numpy()
            bad = ~missing & ~ok
            out = text.astype(object).where(~missing, None)
            _report_bad(log, file, col.name, rows, bad, text, "an academic year such as 2023/24")
        elif kind == "year_group":
            norm = text.str.upper().str.replace(r"^0+(\d)", r"\1", regex=True)
            bad = ~missing & ~norm.isin(YEAR_GROUPS).fillna(False).to_numpy()
            out = norm.astype(object).where(~missing, None)
            _report_bad(log, file, col.name, rows, bad, text, "N1, N2, R or 1 to 14")
        else:  # pragma: no cover - a programming error in TABLES
            raise ValueError(f"unknown column kind {kind}")
    if not col.nullable:
        log.rows(file, col.name, rows[missing], "is empty; a value is required")
    return out


def _report_bad(log, file, column, rows, bad, text, expected):
    log.rows(file, column, rows[bad], lambda v: f"{v!r} is not {expected}", text[bad].to_numpy())


def read_table(path: Path, spec: Table, log: ProblemLog) -> pd.DataFrame | None:
    """Read and type one table; problems go to ``log``. None when a required column is missing."""
    raw = _read_raw(path)
    file = path.name
    missing = [c.name for c in spec.columns if c.required and c.name not in raw.columns]
    for name in missing:
        log.add(file, None, name, "required column is missing")
    if missing:
        return None
    out = raw.copy()
    for col in spec.columns:
        if col.name in raw.columns:
            out[col.name] = coerce_column(raw[col.name], col, file, log)
        else:
            # float64 cannot hold pd.NA; an absent float column is all NaN (as read_table types it)
            missing_value = np.nan if col.kind == "float" else pd.NA
            out[col.name] = pd.Series(missing_value, index=raw.index, dtype=_empty_dtype(col.kind))
    return out.reset_index(drop=True)


def _empty_dtype(kind: str) -> str:
    return {
        "int": "Int64",
        "float": "float64",
        "bool": "boolean",
        "date": "datetime64[ns]",
    }.get(kind, "object")


# --------------------------------------------------------------------------------------
# Marks: large, so read column-wise from Parquet into categoricals
# --------------------------------------------------------------------------------------


def read_marks(
    path: Path,
    log: ProblemLog,
    *,
    filter_expression: pads.Expression | None = None,
) -> pd.DataFrame | None:
    """Read register marks into compact columns.

    Returns columns upn (category), urn (int32), date (datetime64), session (category) and
    code (category), in file order, with a ``row`` column (1-based data row) kept only when
    problems need reporting. Parquet is read through Arrow without building Python strings.
    """
    spec = TABLES["marks"]
    file = path.name
    if path.suffix != ".parquet":
        frame = read_table(path, spec, log)
        if frame is None:
            return None
        if filter_expression is not None:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            frame = table.filter(filter_expression).to_pandas()
        return _compact_marks(frame, file, log)
    dataset = pads.dataset(path, format="parquet", partitioning="hive")
    names = {n.strip().lower(): n for n in dataset.schema.names}
    missing = [c.name for c in spec.columns if c.name not in names]
    for name in missing:
        log.add(file, None, name, "required column is missing")
    if missing:
        return None
    cols = {c.name: pads.field(names[c.name]) for c in spec.columns}
    table = dataset.to_table(columns=cols, filter=_rename_filter(filter_expression, names))
    return _compact_marks_arrow(table, file, log)


def _rename_filter(expr, names):
    # Filters are written with contract names; the file's own spelling may differ in case.
    if expr is None or all(k == v for k, v in names.items()):
        return expr
    raise UsageError("filtered reads need marks.parquet columns spelled in lower case")


def _compact_marks_arrow(table: pa.Table, file: str, log: ProblemLog) -> pd.DataFrame:
    out = {}
    for name in ("upn", "session", "code"):
        col = table.column(name)
        if not pa.types.is_dictionary(col.type):
            col = (
                pc.utf8_trim_whitespace(col.cast(pa.string()))
                if name != "code"
                else col.cast(pa.string())
            )
            col = col.dictionary_encode()
        out[name] = col.to_pandas()
        if not isinstance(out[name].dtype, pd.CategoricalDtype):  # pragma: no cover
            out[name] = out[name].astype("category")
    urn = table.column("urn")
    if pa.types.is_integer(urn.type):
        out["urn"] = urn.to_numpy(zero_copy_only=False)
        bad_urn = np.zeros(table.num_rows, dtype=bool)
        if urn.null_count:
            bad_urn = pd.isna(urn.to_pandas()).to_numpy()
            out["urn"] = urn.fill_null(-1).to_numpy()
    else:
        num = pd.to_numeric(urn.to_pandas().astype("string").str.strip(), errors="coerce")
        bad_urn = num.isna().to_numpy()
        out["urn"] = num.fillna(-1).to_numpy()
    log.rows(file, "urn", rows_where(bad_urn), "is not a whole number")
    date = table.column("date")
    if pa.types.is_date(date.type):
        d = date.cast(pa.timestamp("s")).to_pandas()
    elif pa.types.is_timestamp(date.type):
        d = date.cast(pa.timestamp("s")).to_pandas().dt.normalize()
    else:
        d = pd.to_datetime(
            date.to_pandas().astype("string").str.strip(), format="%Y-%m-%d", errors="coerce"
        )
    log.rows(file, "date", rows_where(d.isna().to_numpy()), "is not a date as YYYY-MM-DD")
    frame = pd.DataFrame(
        {
            "upn": out["upn"],
            "urn": out["urn"].astype(np.int32),
            "date": d,
            "session": out["session"],
            "code": out["code"],
        }
    )
    _check_marks_values(frame, file, log)
    return frame


def _compact_marks(frame: pd.DataFrame, file: str, log: ProblemLog) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "upn": frame["upn"].astype("category"),
            "urn": frame["urn"].fillna(-1).astype(np.int32),
            "date": pd.to_datetime(frame["date"]),
            "session": frame["session"].astype("category"),
            "code": _as_text(frame["code"]).astype("category"),
        }
    )
    # read_table already reported type problems for the text columns; codes are checked here.
    _check_marks_values(out, file, log, session_checked=True)
    return out


def _check_marks_values(frame: pd.DataFrame, file: str, log: ProblemLog, session_checked=False):
    from attendance_lib.core.codes import CODE_GROUP

    code_cats = frame["code"].cat.categories
    unknown = [c for c in code_cats if c not in CODE_GROUP]
    if unknown:
        bad = frame["code"].isin(unknown).to_numpy()
        log.rows(
            file,
            "code",
            rows_where(bad),
            lambda v: f"{v!r} is not a register code (see the code table in docs/data-contract.md)",
            frame["code"].astype(object).to_numpy()[bad],
        )
    missing_code = frame["code"].cat.codes.to_numpy() < 0
    log.rows(
        file,
        "code",
        rows_where(missing_code),
        "is empty; every session needs a register code (- is not a code)",
    )
    if not session_checked and not set(frame["session"].cat.categories) <= {"AM", "PM"}:
        bad = ~frame["session"].isin(["AM", "PM"]).to_numpy()
        log.rows(
            file,
            "session",
            rows_where(bad),
            lambda v: f"{v!r} is not allowed; expected AM or PM",
            frame["session"].astype(object).to_numpy()[bad],
        )
    missing_upn = frame["upn"].cat.codes.to_numpy() < 0
    if missing_upn.any():
        log.rows(file, "upn", rows_where(missing_upn), "is empty; a value is required")
