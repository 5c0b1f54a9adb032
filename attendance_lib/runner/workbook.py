"""A report's published tables for readers: ``tables.xlsx`` and the CSVs' metadata file.

The workbook opens on a **Notes** sheet (title, description, source, period, audience, the
GSS symbols and what each means, and one line per table), then one sheet per table with:
headers in words, bold, frozen and filtered; numbers stored as numbers (counts ``#,##0``,
rates and percentages ``0.0``); column widths set; a readable sheet name (words, at most 31
characters, unique). Every text cell and header goes through
:func:`attendance_lib.runner.publish.spreadsheet_safe_text`, so no value is a formula.

The CSVs stay tidy open data with their stable snake_case names (EES practice); beside them
``tables/metadata.csv`` gives each column's label, type and unit.

Labels come from :func:`column_label`, which reads the one glossary
(:mod:`attendance_lib.present.labels`).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from attendance_lib.present import labels
from attendance_lib.runner.params import AUDIENCE_WORDS

WORKBOOK_NAME = "tables.xlsx"
#: The metadata file beside the CSVs (one row per table and column).
METADATA_NAME = "metadata.csv"
NOTES_SHEET = "Notes"
#: Excel's limit on a sheet name, and characters it refuses in one.
SHEET_NAME_MAX = 31
_SHEET_BAD = re.compile(r"[\[\]:*?/\\']")
#: The GSS/EES symbols a published table may hold, and what each means.
SYMBOLS = (
    ("c", "Confidential: suppressed to protect pupils (a count of 1 to 4, or a figure that "
     "would reveal one)"),
    ("x", "Not available"),
    ("z", "Not applicable"),
    ("low", "Rounds to zero, but is not zero"),
)  # fmt: skip
COUNT_FORMAT = "#,##0"
RATE_FORMAT = "0.0"
_RATE_NAME = re.compile(r"(?:_pct|_pp|_rate|_ratio|^rate|^pct)$|_pct_|percent")
MIN_WIDTH, MAX_WIDTH = 8, 48


@dataclass(frozen=True)
class ReportContext:
    """What the Notes sheet says about the report."""

    title: str
    audience: str
    period: str | None = None
    description: str = ""
    source: str = ""


def column_label(name: str) -> str:
    """A column name as readers see it: ``pa_pct`` -> ``PA (%)``.

    The workbook and the metadata file take their words from the glossary
    (:func:`attendance_lib.present.labels.label`), as the HTML does.
    """
    return labels.label(name)


def column_kind(name: str, values: list[Any], kinds: dict[str, str] | None = None) -> str:
    """``count``, ``rate``, ``number`` or ``text``: from the table's own declaration if given."""
    if kinds and name in kinds:
        kind = kinds[name]
        return "rate" if kind in {"rate", "mean"} else kind
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if not numbers:
        return "text"
    return "rate" if _RATE_NAME.search(name) else "number"


def _number_format(kind: str, value: Any) -> str:
    if kind == "count":
        return COUNT_FORMAT
    if kind == "rate":
        return RATE_FORMAT
    if kind == "integer":  # a code such as a URN keeps its digits
        return "0"
    # any other number: whole numbers keep their digits, a measure one decimal
    return "0" if isinstance(value, int) or float(value).is_integer() else RATE_FORMAT


def sheet_title(name: str) -> str:
    """A table's name as a sheet title: its glossary label, else the name in words."""
    return labels.label(name) if labels.has_label(name) else labels.fallback_words(name)


def sheet_names(names: list[str], words: Callable[[str], str] = sheet_title) -> list[str]:
    """Readable, unique sheet names of at most 31 characters, one per table name."""
    used = {NOTES_SHEET.lower()}
    out = []
    for name in names:
        base = _SHEET_BAD.sub(" ", words(name)).strip()[:SHEET_NAME_MAX].strip() or "Table"
        sheet, n = base, 2
        while sheet.lower() in used:
            suffix = f" {n}"
            sheet = base[: SHEET_NAME_MAX - len(suffix)].rstrip() + suffix
            n += 1
        used.add(sheet.lower())
        out.append(sheet)
    return out


def _cell_value(value: Any, safe: Callable[[Any], Any]) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int | float):
        return value
    return safe(str(value))


def _width(texts: list[str]) -> float:
    longest = max((len(t) for t in texts), default=0)
    return float(min(MAX_WIDTH, max(MIN_WIDTH, longest + 2)))


def write_workbook(
    payloads: list[dict[str, Any]],
    path: Path,
    context: ReportContext,
    safe: Callable[[Any], Any],
) -> None:
    """Write ``tables.xlsx``: the Notes sheet, then one formatted sheet per table payload."""
    book = Workbook()
    notes = book.active
    notes.title = NOTES_SHEET
    sheets = sheet_names([p["name"] for p in payloads])
    bold = Font(bold=True)
    rows: list[tuple[Any, ...]] = [
        ("Title", context.title),
        ("About", context.description or "Not stated"),
        ("Source", context.source or "Not stated"),
        ("Period", context.period or "Not stated"),
        ("Audience", AUDIENCE_WORDS.get(context.audience, context.audience)),
        (),
        ("Symbol", "Meaning"),
        *SYMBOLS,
        (),
        ("Sheet", "What it shows"),
        *[(sheet, p.get("caption", "")) for sheet, p in zip(sheets, payloads, strict=True)],
    ]
    for row in rows:
        notes.append([safe(v) if isinstance(v, str) else v for v in row])
    for row in notes.iter_rows(min_col=1, max_col=1):
        row[0].font = bold
    notes["A1"].font = Font(bold=True, size=14)
    notes["B1"].font = Font(bold=True, size=14)
    for n, row in enumerate(rows, 1):
        if row in {("Symbol", "Meaning"), ("Sheet", "What it shows")}:
            notes.cell(n, 2).font = bold
    notes.column_dimensions["A"].width = max(12.0, _width(sheets) + 1)
    notes.column_dimensions["B"].width = 100
    for row in notes.iter_rows(min_col=2, max_col=2):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")

    for sheet_name, payload in zip(sheets, payloads, strict=True):
        sheet = book.create_sheet(sheet_name)
        columns = [str(c) for c in payload["columns"]]
        records = payload["records"]
        kinds = payload.get("kinds") or {}
        labels = [safe(column_label(c)) for c in columns]
        sheet.append(labels)
        for record in records:
            sheet.append([_cell_value(record.get(c), safe) for c in columns])
        for n, column in enumerate(columns, 1):
            values = [r.get(column) for r in records]
            kind = column_kind(column, values, kinds)
            letter = get_column_letter(n)
            header = sheet.cell(1, n)
            header.font = bold
            header.alignment = Alignment(wrap_text=True, vertical="top")
            if kind != "text":
                for (cell,) in sheet.iter_rows(min_row=2, min_col=n, max_col=n):
                    if isinstance(cell.value, int | float):
                        cell.number_format = _number_format(kind, cell.value)
                    cell.alignment = Alignment(horizontal="right")
            texts = [str(v) for v in values if v is not None]
            sheet.column_dimensions[letter].width = max(
                _width(texts), min(_width([labels[n - 1]]), 20.0)
            )
        sheet.freeze_panes = "A2"
        if columns:
            last = get_column_letter(len(columns))
            sheet.auto_filter.ref = f"A1:{last}{max(1, len(records) + 1)}"
    book.save(path)


def write_metadata(payloads: list[dict[str, Any]], path: Path, safe: Callable[[Any], Any]) -> None:
    """Write ``tables/metadata.csv``: each table's columns with label, type, unit and decimals.

    Columns follow the EES metadata file where they apply: ``table``, ``col_name``,
    ``col_type`` (``Filter`` for a text column, ``Indicator`` for a figure), ``label``,
    ``indicator_unit`` (``%`` for rates) and ``indicator_dp``.
    """
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle, lineterminator="\r\n")
        out.writerow(["table", "col_name", "col_type", "label", "indicator_unit", "indicator_dp"])
        for payload in payloads:
            kinds = payload.get("kinds") or {}
            for column in payload["columns"]:
                values = [r.get(column) for r in payload["records"]]
                kind = column_kind(str(column), values, kinds)
                figure = kind in {"count", "rate", "number"}
                out.writerow(
                    [
                        payload["name"],
                        safe(str(column)),
                        "Indicator" if figure else "Filter",
                        safe(column_label(str(column))),
                        "%" if kind == "rate" and "_pct" in str(column) else "",
                        {"count": "0", "rate": "1", "number": "1"}.get(kind, ""),
                    ]
                )
