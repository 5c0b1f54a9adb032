"""Hostile values an MIS export or a typo can put into names (issue 13), as fixtures.

Script payloads (stored XSS), spreadsheet formulas (CSV injection) and UPNs disguised to get
past the privacy gate. ``write_hostile_la`` writes the tiny LA of
:mod:`runner_fixtures` with those names as school names, localities and officers.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from runner_fixtures import write_tiny_la

#: Values that execute script in a browser if a page ever reads them as HTML or Markdown.
SCRIPT_PAYLOADS = (
    '<img src="x" onerror="window.__pwned=1;alert(1)">',
    '<svg onload="window.__pwned=1;alert(1)">',
    "[x](javascript:window.__pwned=1)",
)
#: Values a spreadsheet would evaluate as a formula (OWASP CSV injection).
FORMULA_PAYLOADS = (
    '=HYPERLINK("http://evil.example","x")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
)
#: A valid UPN (check letter, LA 380), a valid temporary UPN, and disguises of them that a
#: shape-only regex misses.
UPN = "C380200117001"
TEMPORARY_UPN = "M38020011701Z"
DISGUISED_UPNS = {
    "spaced": "C380 2001 1700 1",
    "spaced singly": "C 3 8 0 2 0 0 1 1 7 0 0 1",
    "glued to letters": "pupilC380200117001x",
    "zero-width space": "C38020\u200b0117001",
    "soft hyphen": "C380\u00ad200117001",
    "lower-case temporary": "m38020011701z",
    "lower-case temporary, spaced": "m380 2001 1701 z",
    "after a data: prefix": "data:C380200117001",
    "after a data:image prefix": "data:image/png;base64,C380200117001",
    "hyphenated": "C-380-2001-1700-1",
    "full-width": "Ｃ３８０２００１１７００１",
}


def write_hostile_la(folder: Path) -> Path:
    """The tiny LA with script payloads as school names, localities and an officer."""
    write_tiny_la(folder)
    schools = pd.read_csv(folder / "schools.csv")
    schools["school_name"] = list(SCRIPT_PAYLOADS)
    schools["locality"] = [SCRIPT_PAYLOADS[1], SCRIPT_PAYLOADS[2], FORMULA_PAYLOADS[0]]
    schools["officer"] = [SCRIPT_PAYLOADS[0], FORMULA_PAYLOADS[1], "J Smith"]
    schools.to_csv(folder / "schools.csv", index=False)
    return folder


@pytest.fixture(params=SCRIPT_PAYLOADS, ids=("img-onerror", "svg-onload", "md-javascript-link"))
def script_payload(request) -> str:
    """Each script payload in turn."""
    return request.param


@pytest.fixture(params=FORMULA_PAYLOADS)
def formula_payload(request) -> str:
    """Each formula payload in turn."""
    return request.param


@pytest.fixture
def hostile_la(tmp_path: Path) -> Path:
    """A data folder whose school names, localities and officer are script payloads."""
    return write_hostile_la(tmp_path / "hostile_la")
