"""The privacy gate: a report not marked ``restricted`` must carry no pupil identifiers.

Checked in the published HTML and in every published table:

- anything shaped like a Unique Pupil Number: 13 characters, a letter, 11 digits, then a digit
  or (temporary UPN) a letter (DfE, *Unique pupil numbers (UPNs)* guidance;
  ``stdnum.gb.upn``). The shape is enough: a check letter is not verified, so a mistyped
  UPN is caught too;
- a column that holds pupil names: a header named like ``name``, ``forename``, ``surname``,
  ``first_name``, ``pupil_name``... (the data contract has no name column, so any is a leak).
  ``school_name``, ``la_name`` and similar are not pupil names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

import pandas as pd

#: Anything shaped like a UPN (or temporary UPN), standing alone as a word.
UPN_SHAPE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][0-9]{11}[0-9A-Za-z](?![A-Za-z0-9])")
#: Column headers that hold pupil names.
NAME_COLUMN = re.compile(
    r"^(?:(?:pupil|child|student|learner|young_person|full|first|last|given|family|middle|"
    r"preferred|legal|fore|sur)_?)?names?$|^(?:fore|sur)names?$"
)
_DATA_URI = re.compile(r"data:[a-z]+/[a-z0-9.+-]+;base64,[A-Za-z0-9+/=\s]+", re.IGNORECASE)


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


def scan_text(text: str, where: str) -> list[PrivacyFinding]:
    """UPN-shaped strings in ``text`` (embedded base64 images are skipped)."""
    text = _DATA_URI.sub(" ", text)
    return [PrivacyFinding(where, "upn", mask(m.group())) for m in UPN_SHAPE.finditer(text)]


def scan_table(frame: pd.DataFrame, where: str) -> list[PrivacyFinding]:
    """Name columns and UPN-shaped values (in any column, and in the headers) of a table."""
    findings = [
        PrivacyFinding(where, "name column", repr(str(c)))
        for c in frame.columns
        if is_name_column(c)
    ]
    findings += scan_text(" ".join(map(str, frame.columns)), f"{where} (headers)")
    for column in frame.columns:
        values = frame[column].dropna().astype(str)
        hits = values[values.str.contains(UPN_SHAPE)]
        findings += [
            PrivacyFinding(f"{where}, column {column!r}", "upn", mask(UPN_SHAPE.search(v).group()))
            for v in hits.unique()[:5]
        ]
    return findings


class _HeaderCells(HTMLParser):
    """Collects the text of every ``<th>`` in a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.headers: list[str] = []
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        if tag == "th":
            self._depth += 1
            self.headers.append("")

    def handle_endtag(self, tag):
        if tag == "th" and self._depth:
            self._depth -= 1

    def handle_data(self, data):
        if self._depth:
            self.headers[-1] += data


def scan_html(html: str, where: str = "report.html") -> list[PrivacyFinding]:
    """UPN-shaped strings anywhere in the page and name-like table headers."""
    parser = _HeaderCells()
    parser.feed(html)
    findings = [
        PrivacyFinding(where, "name column", repr(h.strip()))
        for h in parser.headers
        if is_name_column(h)
    ]
    return findings + scan_text(html, where)


def check_report(html: str, tables: dict[str, pd.DataFrame]) -> list[PrivacyFinding]:
    """Everything the gate finds in one report's HTML and tables (empty = clean)."""
    findings = scan_html(html)
    for name, frame in tables.items():
        findings += scan_table(frame, f"tables/{name}.csv")
    return findings
