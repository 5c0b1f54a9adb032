"""Session-level MIS exports into contract marks, by a mapping file.

A mapping (YAML) says how an export's shape becomes ``marks`` (upn, urn, date, session,
code); nothing is guessed, and every value the mapping does not cover is listed with how
many rows have it. Examples for Wonde-, SIMS- and Arbor-style exports are in
``docs/mappings/``. Keys:

``columns``
    Contract column -> export column: ``upn``, ``date``, ``session``, ``code``, and ``urn``
    unless ``urn`` (a constant school URN) is given. Headers match case-insensitively.
``urn``
    The school's URN, for an export of one school without a school column.
``pupils``
    For exports keyed by an MIS pupil id instead of the UPN: ``file`` (CSV, relative to the
    mapping), ``id`` and ``upn`` (its columns), and optionally ``urn`` (the school of each
    id: Wonde's student ids belong to one school). ``columns.upn`` then names the id column.
``date_formats``
    ``strftime`` formats tried in order (default ``["%Y-%m-%d"]``); a date that none reads
    is listed.
``sessions``
    Export session label -> ``AM`` or ``PM`` (for example ``A: AM``, ``P: PM``, ``1: AM``).
``codes``
    Export code -> DfE register code (for example Wonde attendance code ids, or an MIS's own
    codes). With ``dfe_codes_as_is: true``, DfE codes in the export are kept as they are and
    ``codes`` maps only the others.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from attendance_lib.contract.reading import find_table_file
from attendance_lib.contract.validation import upns_valid
from attendance_lib.core.codes import CODE_GROUP
from attendance_lib.core.errors import DataError, Problem, UsageError
from attendance_lib.core.files import write_atomically

KEYS = {"columns", "urn", "pupils", "date_formats", "sessions", "codes", "dfe_codes_as_is"}
#: How many rows of one unmapped value are named (the rest are counted).
MAX_LISTED = 20


def load_mapping(path: str | Path) -> dict:
    """Read and check a mapping file. Raises :class:`UsageError` naming what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"mapping {path} does not exist")
    try:
        mapping = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise UsageError(f"mapping {path.name} is not valid YAML: {exc}") from None
    if not isinstance(mapping, dict):
        raise UsageError(f"mapping {path.name} must be a YAML mapping of keys")
    unknown = set(mapping) - KEYS
    if unknown:
        raise UsageError(
            f"mapping {path.name}: unknown keys {', '.join(sorted(unknown))} "
            f"(expected {', '.join(sorted(KEYS))})"
        )
    columns = mapping.get("columns") or {}
    pupils = mapping.get("pupils")
    urn_given = "urn" in mapping or (isinstance(pupils, dict) and "urn" in pupils)
    needed = ["upn", "date", "session", "code"] + ([] if urn_given else ["urn"])
    missing = [c for c in needed if c not in columns]
    if missing:
        raise UsageError(f"mapping {path.name}: columns needs {', '.join(missing)}")
    sessions = {str(k): str(v) for k, v in (mapping.get("sessions") or {}).items()}
    bad = sorted(v for v in set(sessions.values()) if v not in ("AM", "PM"))
    if bad or not sessions:
        raise UsageError(f"mapping {path.name}: sessions must map labels to AM or PM")
    codes = {str(k): str(v) for k, v in (mapping.get("codes") or {}).items()}
    bad = sorted(v for v in set(codes.values()) if v not in CODE_GROUP)
    if bad:
        raise UsageError(f"mapping {path.name}: codes map to {', '.join(bad)}, not DfE codes")
    if not codes and not mapping.get("dfe_codes_as_is"):
        raise UsageError(f"mapping {path.name}: give codes, or dfe_codes_as_is: true")
    formats = mapping.get("date_formats") or ["%Y-%m-%d"]
    if pupils is not None:
        if not isinstance(pupils, dict) or not {"file", "id", "upn"} <= set(pupils):
            raise UsageError(f"mapping {path.name}: pupils needs file, id and upn")
        pupils = {**pupils, "file": (path.parent / str(pupils["file"])).resolve()}
    return {
        "columns": {k: str(v).strip().lower() for k, v in columns.items()},
        "urn": mapping.get("urn"),
        "pupils": pupils,
        "date_formats": [str(f) for f in formats],
        "sessions": sessions,
        "codes": codes,
        "dfe_codes_as_is": bool(mapping.get("dfe_codes_as_is")),
    }


def _unmapped(
    problems: list[Problem], file: str, column: str, values: pd.Series, what: str
) -> None:
    """One problem per unmapped value, with its count and first row."""
    bad = values.dropna()
    if bad.empty:
        return
    counts = bad.value_counts()
    positions = pd.Series(np.arange(len(values))[values.notna().to_numpy()], index=bad.to_numpy())
    rows_of = positions[~positions.index.duplicated()] + 1
    for value, n in counts.head(MAX_LISTED).items():
        problems.append(
            Problem(
                file,
                int(rows_of[value]),
                column,
                f"{value!r} is not in the mapping's {what} ({n:,} rows; first at this row)",
            )
        )
    if len(counts) > MAX_LISTED:
        problems.append(
            Problem(
                file, None, column, f"... and {len(counts) - MAX_LISTED:,} more unmapped values"
            )
        )


def map_marks(export: pd.DataFrame, mapping: dict, file: str) -> pd.DataFrame:
    """Apply a mapping to an export (all text columns) and return contract marks.

    Raises :class:`DataError` listing every missing column and unmapped value with its count.
    """
    export = export.rename(columns=lambda c: str(c).strip().lower())
    cols = mapping["columns"]
    problems = [
        Problem(file, None, source, f"column for {target} is missing from the export")
        for target, source in cols.items()
        if source not in export.columns
    ]
    if problems:
        raise DataError(problems)

    def text(target: str) -> pd.Series:
        out = export[cols[target]].astype("string").str.strip()
        return out.mask(out == "")

    upn = text("upn")
    urn = None
    if mapping["pupils"] is not None:
        spec = mapping["pupils"]
        if not Path(spec["file"]).is_file():
            raise UsageError(f"the mapping's pupils file {spec['file']} does not exist")
        lookup = pd.read_csv(spec["file"], dtype=str, keep_default_na=False, encoding="utf-8-sig")
        lookup = lookup.rename(columns=lambda c: str(c).strip().lower())
        wanted = [str(spec[k]).lower() for k in ("id", "upn", "urn") if k in spec]
        absent = [c for c in wanted if c not in lookup.columns]
        if absent:
            raise UsageError(f"pupils file {Path(spec['file']).name} has no {', '.join(absent)}")
        key = lookup[str(spec["id"]).lower()].str.strip()
        if key.duplicated().any():
            raise UsageError(
                f"pupils file {Path(spec['file']).name}: ids repeat "
                f"({', '.join(key[key.duplicated()].unique()[:5])}); each id needs one pupil"
            )
        if "urn" in spec:
            urns = pd.to_numeric(lookup[str(spec["urn"]).lower()], errors="coerce")
            urn = text("upn").map(dict(zip(key, urns, strict=True)))
        ids = dict(
            zip(
                lookup[str(spec["id"]).lower()].str.strip(),
                lookup[str(spec["upn"]).lower()].str.strip(),
                strict=True,
            )
        )
        mapped = upn.map(ids)
        _unmapped(
            problems,
            file,
            cols["upn"],
            upn.where(mapped.isna()),
            f"pupils file ({Path(spec['file']).name})",
        )
        upn = mapped
    upn = upn.str.upper()
    invalid = upn.notna().to_numpy() & ~upns_valid(upn.fillna("").to_numpy(dtype=object))
    _unmapped(problems, file, cols["upn"], upn.where(invalid), "valid UPNs (check letter)")
    missing = upn.isna().to_numpy() & text("upn").isna().to_numpy()
    if missing.any():
        problems.append(
            Problem(
                file,
                int(np.flatnonzero(missing)[0]) + 1,
                cols["upn"],
                f"is empty ({missing.sum():,} rows)",
            )
        )
    if mapping["urn"] is not None:
        urn = pd.Series(int(mapping["urn"]), index=export.index)
    elif urn is not None:  # from the pupils file
        no_urn = urn.isna() & upn.notna()
        _unmapped(
            problems,
            file,
            cols["upn"],
            text("upn").where(no_urn),
            "pupils file's URNs (whole numbers)",
        )
    else:
        urn_text = text("urn")
        urn = pd.to_numeric(urn_text, errors="coerce")
        _unmapped(
            problems,
            file,
            cols["urn"],
            urn_text.fillna("(empty)").where(urn.isna()),
            "whole-number URNs",
        )
    date_text = text("date")
    date = pd.Series(pd.NaT, index=export.index, dtype="datetime64[ns]")
    for fmt in mapping["date_formats"]:
        date = date.fillna(
            pd.to_datetime(
                date_text.fillna("(empty)").where(date.isna()), format=fmt, errors="coerce"
            )
        )
    _unmapped(
        problems,
        file,
        cols["date"],
        date_text.fillna("(empty)").where(date.isna()),
        f"date formats ({', '.join(mapping['date_formats'])})",
    )
    session_text = text("session")
    session = session_text.map(mapping["sessions"])
    _unmapped(
        problems,
        file,
        cols["session"],
        session_text.fillna("(empty)").where(session.isna()),
        "sessions",
    )
    code_text = export[cols["code"]].astype("string").str.strip()
    code = code_text.map(mapping["codes"])
    if mapping["dfe_codes_as_is"]:
        code = code.fillna(code_text.where(code_text.isin(list(CODE_GROUP))))
    _unmapped(problems, file, cols["code"], code_text.fillna("(empty)").where(code.isna()), "codes")
    if problems:
        raise DataError(problems)
    return pd.DataFrame(
        {
            "upn": upn.astype(str).to_numpy(),
            "urn": urn.astype(np.int64).to_numpy(),
            "date": date.dt.normalize().to_numpy(),
            "session": session.astype(str).to_numpy(),
            "code": code.astype(str).to_numpy(),
        }
    )


def import_marks(export_path: str | Path, mapping_path: str | Path, out_dir: str | Path) -> Path:
    """Map a session-level export to ``out_dir/marks.parquet`` (written atomically).

    ``out_dir`` may already hold the other tables, but not marks. Raises
    :class:`DataError` (unmapped values, missing columns) or :class:`UsageError`.
    """
    export_path, out_dir = Path(export_path), Path(out_dir)
    if not export_path.is_file():
        raise UsageError(f"export {export_path} does not exist")
    mapping = load_mapping(mapping_path)
    if out_dir.is_dir() and find_table_file(out_dir, "marks") is not None:
        raise UsageError(f"{out_dir} already has marks; choose another --out")
    try:
        export = pd.read_csv(
            export_path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig"
        )
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(
            [Problem(export_path.name, None, None, f"is not a readable CSV: {exc}")]
        ) from None
    marks = map_marks(export, mapping, export_path.name)
    table = pa.Table.from_pandas(
        marks.assign(urn=marks["urn"].astype(np.int32), date=marks["date"].dt.date),
        preserve_index=False,
    )
    path = out_dir / "marks.parquet"
    write_atomically(path, lambda tmp: pq.write_table(table, tmp))
    return path
