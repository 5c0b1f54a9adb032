"""The privacy gate: a report not marked ``restricted`` must carry no pupil identifiers.

Checked in every file about to be published (:func:`check_folder`): the HTML page, the tables
(CSV and ``tables.xlsx``), ``run.json`` and the executed notebook:

- anything shaped like a Unique Pupil Number: 13 characters, a letter, 11 digits, then a digit
  or (temporary UPN) a letter (DfE, *Unique pupil numbers (UPNs)* guidance;
  ``stdnum.gb.upn``). The shape is enough: a check letter is not verified, so a mistyped
  UPN is caught too;
- a UPN in disguise. Text is normalised first (:func:`normalise`: Unicode NFKC, so full-width
  letters and digits become plain ones; zero-width and other invisible characters removed;
  HTML entities decoded). Then, within one value (a table cell, a sentence, a JSON string),
  letters and digits are joined across spaces and punctuation, so ``C380 2001 1700 1``,
  ``C-380-...`` and ``pupilC380200117001x`` are found when the joined run has a valid UPN
  check letter (which keeps runs of figures from looking like UPNs). In laid-out text (printed
  tables, code) words are joined one at a time;
- a column that holds pupil names: a header named like ``name``, ``forename``, ``surname``,
  ``first_name``, ``pupil_name``... (the data contract's optional ``forename`` and
  ``surname`` are identifiers: any name column in a report not restricted is a leak).
  ``school_name``, ``la_name`` and similar are not pupil names.

Only an ``<img>``'s own embedded image is skipped; a ``data:`` prefix anywhere else is text.
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from bs4 import BeautifulSoup

#: Anything shaped like a UPN (or temporary UPN), standing alone as a word. The letters may be
#: any script's (a Cyrillic "А" looks like a Latin "A").
UPN_SHAPE = re.compile(r"(?<![^\W_])[^\W\d_][0-9]{11}[^\W_](?![^\W_])")
#: A UPN-shaped run in text whose separators have been removed; the check letter decides.
_JOINED_SHAPE = re.compile(r"(?<![0-9])(?=([A-Z][0-9]{11}[0-9A-Z])(?![0-9]))")
#: Column headers that hold pupil names.
NAME_COLUMN = re.compile(
    r"^(?:(?:pupil|child|student|learner|young_person|full|first|last|given|family|middle|"
    r"preferred|legal|fore|sur)_?)?names?$|^(?:fore|sur)names?$"
)
#: An embedded image (only ever skipped as the ``src`` of an ``<img>``, where no data value goes).
_DATA_IMAGE = re.compile(r"^\s*data:image/[a-z0-9.+-]+;base64,", re.IGNORECASE)
#: Lower-case hexadecimal runs of 12 or more (the data fingerprint, file hashes) and UUIDs
#: (cell and kernel ids): never identifiers, and joined they could look like one.
_HEX_RUN = re.compile(
    r"(?<![0-9A-Za-z])(?:[0-9a-f]{12,}|[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12})(?![0-9A-Za-z])"
)
_NOT_ALNUM = re.compile(r"[^0-9A-Z]+")
#: Unicode categories removed before scanning: format characters (zero-width space, joiners,
#: soft hyphen, direction marks) and combining marks.
_INVISIBLE = frozenset({"Cf", "Mn", "Me"})
#: JSON keys whose values are embedded images, not text.
_IMAGE_KEYS = re.compile(r"^image/")
#: UPN check letters (DfE; ``stdnum.gb.upn``).
_ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ0123456789"


@dataclass(frozen=True)
class PrivacyFinding:
    """One thing the gate found: where, what kind, and the (masked) value."""

    where: str
    kind: str  # "upn" or "name column"
    value: str

    def __str__(self) -> str:
        return f"{self.where}: {self.kind} {self.value}"


def mask(upn: str) -> str:
    """Show a found identifier without repeating it in full: ``A12345678901B`` -> ``A1*********1B``."""
    return upn[:2] + "*" * (len(upn) - 4) + upn[-2:]


def _normalise_header(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(name).strip().lower()).strip("_")


def is_name_column(name: str) -> bool:
    """True for a header that holds pupil names (``Forename``, ``pupil name``, ``surname``)."""
    return bool(NAME_COLUMN.match(_normalise_header(name)))


def normalise(text: str) -> str:
    """Text as the gate reads it: Unicode NFKC (full-width and other compatibility forms to
    plain ones), invisible characters removed, every decimal digit written 0-9."""
    text = unicodedata.normalize("NFKC", str(text))
    if text.isascii():
        return text
    out = []
    for ch in text:
        if unicodedata.category(ch) in _INVISIBLE:
            continue
        out.append(str(unicodedata.digit(ch)) if ch.isdecimal() and not ch.isascii() else ch)
    return "".join(out)


def has_upn_check_letter(candidate: str) -> bool:
    """True when the first character is the UPN check letter of the twelve that follow."""
    candidate = candidate.upper()
    if len(candidate) != 13 or any(c not in _ALPHABET for c in candidate[1:]):
        return False
    check = sum(i * _ALPHABET.index(c) for i, c in enumerate(candidate[1:], 2)) % 23
    return _ALPHABET[check] == candidate[0]


def _joined_upns(text: str) -> list[str]:
    """UPNs (with a valid check letter) once letters and digits are joined across spaces and
    punctuation: ``A123 4567 8901 2``, ``A-1234-...``, ``pupilA123456789012x``."""
    joined = _NOT_ALNUM.sub("", _HEX_RUN.sub(" ", text).upper())
    return [m.group(1) for m in _JOINED_SHAPE.finditer(joined) if has_upn_check_letter(m.group(1))]


def find_upns(text: str, *, join: bool = True) -> list[str]:
    """UPN-shaped strings in ``text`` after :func:`normalise`.

    A 13-character word shaped like a UPN is found whatever its check letter (a mistyped UPN
    is still an identifier). With ``join`` (for one value: a table cell, a sentence, a JSON
    string), letters and digits are also joined across spaces, punctuation and neighbouring
    letters, and a run with a valid check letter is found too.
    """
    text = normalise(text)
    found = [m.group() for m in UPN_SHAPE.finditer(text)]
    if join:
        found += [u for u in _joined_upns(text) if u not in {f.upper() for f in found}]
    return list(dict.fromkeys(found))


def scan_text(text: str, where: str, *, join: bool = True) -> list[PrivacyFinding]:
    """UPN-shaped strings in one piece of text (see :func:`find_upns`)."""
    return [PrivacyFinding(where, "upn", mask(u)) for u in find_upns(text, join=join)]


_LAYOUT = re.compile(r"\s{2,}|[\n\t]")


def scan_piece(text: str, where: str) -> list[PrivacyFinding]:
    """One value (:func:`scan_text`), or a laid-out text such as a printed table
    (:func:`scan_blob`, so figures in neighbouring columns are never joined)."""
    if not _LAYOUT.search(text):
        return scan_text(text, where)
    return scan_blob(text, where)


def scan_blob(text: str, where: str) -> list[PrivacyFinding]:
    """A long text (printed output, code): shapes anywhere, joins within each word only."""
    text = normalise(text)
    findings = scan_text(text, where, join=False)
    seen = {f.value for f in findings}
    for word in set(text.split()):
        for f in scan_text(word, where):
            if f.value not in seen:
                seen.add(f.value)
                findings.append(f)
    return findings


def scan_table(frame: pd.DataFrame, where: str) -> list[PrivacyFinding]:
    """Name columns and UPN-shaped values (in any column, and in the headers) of a table."""
    findings = [
        PrivacyFinding(where, "name column", repr(str(c)))
        for c in frame.columns
        if is_name_column(normalise(str(c)))
    ]
    for column in frame.columns:
        findings += scan_text(str(column), f"{where} (headers)")
    for column in frame.columns:
        values = frame[column].dropna().astype(str).unique()
        hits = [(v, find_upns(v)) for v in values]
        hits = [u for _, found in hits for u in found]
        findings += [
            PrivacyFinding(f"{where}, column {column!r}", "upn", mask(u))
            for u in list(dict.fromkeys(hits))[:5]
        ]
    return findings


def scan_html(html: str, where: str = "report.html") -> list[PrivacyFinding]:
    """UPN-shaped strings in every text and attribute of the page, and name-like headers.

    Entities are decoded first (``&#65;123...`` is ``A123...``); each text node and each
    attribute value is one piece of text. Only an ``<img>``'s embedded image is skipped.
    """
    soup = BeautifulSoup(html, "html.parser")
    findings = [
        PrivacyFinding(where, "name column", repr(th.get_text().strip()))
        for th in soup.find_all("th")
        if is_name_column(normalise(th.get_text()))
    ]
    pieces = [str(t) for t in soup.find_all(string=True)]
    for tag in soup.find_all(True):
        for name, value in tag.attrs.items():
            text = " ".join(value) if isinstance(value, list) else str(value)
            if tag.name == "img" and name == "src" and _DATA_IMAGE.match(text):
                continue
            pieces.append(text)
    seen: set[str] = set()
    for piece in pieces:
        for f in scan_piece(piece, where):
            if f.value not in seen:
                seen.add(f.value)
                findings.append(f)
    return findings


def check_report(html: str, tables: dict[str, pd.DataFrame]) -> list[PrivacyFinding]:
    """Everything the gate finds in one report's HTML and tables (empty = clean)."""
    findings = scan_html(html)
    for name, frame in tables.items():
        findings += scan_table(frame, f"tables/{name}.csv")
    return findings


def _unique(findings: list[PrivacyFinding]) -> list[PrivacyFinding]:
    return list(dict.fromkeys(findings))


def scan_json(data: Any, where: str) -> list[PrivacyFinding]:
    """Every key and string of a JSON document (``run.json``, a notebook's metadata)."""
    findings: list[PrivacyFinding] = []
    for key, text in _json_strings(data):
        if _IMAGE_KEYS.match(key):
            continue
        findings += scan_piece(text, where)
    return _unique(findings)


def _json_strings(data: Any, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(data, dict):
        for k, v in data.items():
            yield "", str(k)
            yield from _json_strings(v, str(k))
    elif isinstance(data, list):
        for v in data:
            yield from _json_strings(v, key)
    elif data is not None and not isinstance(data, bool):
        yield key, str(data)


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def scan_notebook(nb: dict[str, Any], where: str) -> list[PrivacyFinding]:
    """A notebook: cell sources, every output (HTML as HTML, images skipped) and metadata."""
    findings = scan_json(nb.get("metadata", {}), f"{where} (metadata)")
    for n, cell in enumerate(nb.get("cells", []), 1):
        here = f"{where}, cell {n}"
        findings += scan_blob(_text(cell.get("source", "")), here)
        findings += scan_json(cell.get("metadata", {}), here)
        for out in cell.get("outputs", []):
            if "text" in out:
                findings += scan_blob(_text(out["text"]), here)
            for line in out.get("traceback", []) or []:
                findings += scan_blob(str(line), here)
            for mime, value in (out.get("data") or {}).items():
                if mime.startswith("image/"):
                    continue
                if mime == "text/html":
                    findings += scan_html(_text(value), here)
                elif isinstance(value, dict):
                    findings += scan_json(value, here)
                else:
                    findings += scan_blob(_text(value), here)
    return _unique(findings)


def scan_csv(path: Path, where: str) -> list[PrivacyFinding]:
    """A published CSV as written: name-like headers and UPN-shaped cells."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        return []
    return scan_table(pd.DataFrame(rows[1:], columns=_dedupe(rows[0])), where)


def scan_xlsx(path: Path, where: str) -> list[PrivacyFinding]:
    """Every sheet of a published workbook: names, headers and cells."""
    import openpyxl  # only needed here

    findings: list[PrivacyFinding] = []
    book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        for sheet in book.worksheets:
            findings += scan_text(sheet.title, f"{where} (sheet names)")
            rows = [
                ["" if v is None else str(v) for v in row]
                for row in sheet.iter_rows(values_only=True)
            ]
            if rows:
                frame = pd.DataFrame(rows[1:], columns=_dedupe(rows[0]))
                findings += scan_table(frame, f"{where}, sheet {sheet.title!r}")
    finally:
        book.close()
    return findings


def _dedupe(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for h in headers:
        seen[h] = seen.get(h, 0) + 1
        out.append(h if seen[h] == 1 else f"{h} ({seen[h]})")
    return out


def check_folder(folder: Path) -> list[PrivacyFinding]:
    """Everything the gate finds in every file about to be published from ``folder``.

    HTML pages, tables (CSV and xlsx), ``run.json`` and any notebook; any other file is read
    as text. Paths in the findings are relative to ``folder``.
    """
    findings: list[PrivacyFinding] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        where = path.relative_to(folder).as_posix()
        suffix = path.suffix.lower()
        if suffix in {".html", ".htm"}:
            findings += scan_html(path.read_text(encoding="utf-8"), where)
        elif suffix == ".csv":
            findings += scan_csv(path, where)
        elif suffix == ".xlsx":
            findings += scan_xlsx(path, where)
        elif suffix == ".ipynb":
            findings += scan_notebook(json.loads(path.read_text(encoding="utf-8")), where)
        elif suffix == ".json":
            findings += scan_json(json.loads(path.read_text(encoding="utf-8")), where)
        else:
            findings += scan_blob(path.read_text(encoding="utf-8", errors="replace"), where)
    return findings
