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
#: A valid UPN and disguises of it that a shape-only regex misses.
UPN = "A123456789012"
DISGUISED_UPNS = {
    "spaced": "A123 4567 8901 2",
    "glued to letters": "pupilA123456789012x",
    "zero-width space": "A12345\u200b6789012",
    "lower-case temporary": "a12345678901z",
    "after a data: prefix": "data:A123456789012",
    "hyphenated": "A-1234-5678-9012",
    "full-width digits": "A１２３４５６７８９０１２",
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
