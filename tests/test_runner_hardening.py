"""The runner on hostile names and disguised identifiers, end to end (issue 13; marked slow)."""

from __future__ import annotations

import json

import openpyxl
import pandas as pd
import pytest
from bs4 import BeautifulSoup
from hostile_fixtures import DISGUISED_UPNS, FORMULA_PAYLOADS, SCRIPT_PAYLOADS, write_hostile_la
from runner_fixtures import runner_project  # noqa: F401  (fixture)

from attendance_lib.core.errors import ReportError
from attendance_lib.runner import publish, run_report

slow = pytest.mark.slow


@slow
def test_a_report_on_hostile_names_is_inert_and_names_no_folder(runner_project, tmp_path):  # noqa: F811
    root = runner_project("hostile", data=True)
    write_hostile_la(root / "data" / "la")
    out = tmp_path / "out"
    outcome = run_report(root / "params" / "hostile.yaml", out_dir=out, progress=False)
    assert outcome.ok
    page = (out / "hostile.html").read_text()
    assert publish.active_content(page) == []
    soup = BeautifulSoup(page, "html.parser")
    text = soup.find("main").get_text()
    for payload in SCRIPT_PAYLOADS:
        assert payload in text  # shown as written, as text
    assert not soup.find_all(["svg", "img"]) or all(
        i.get("src", "").startswith("data:image/") for i in soup.find_all("img")
    )
    # spreadsheet-safe tables
    csv = pd.read_csv(out / "tables" / "schools.csv", dtype=str)
    assert f"'{FORMULA_PAYLOADS[0]}" in csv["locality"].tolist()
    assert f"'{FORMULA_PAYLOADS[1]}" in csv["officer"].tolist()
    sheet = openpyxl.load_workbook(out / "tables.xlsx")["Schools"]
    assert not [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    # no absolute path in anything published
    audit = tmp_path / "_runs" / "out"
    run = json.loads((audit / "run.json").read_text())
    assert run["inputs"]["data_dir"] == "data/la" and run["parameters"]["data_dir"] == "data/la"
    for path in [*out.rglob("*"), *audit.rglob("*")]:
        if path.is_file() and path.suffix != ".xlsx":
            body = path.read_text()
            assert str(root) not in body and str(tmp_path) not in body, path


@slow
@pytest.mark.parametrize("disguise", ["spaced", "zero-width space", "glued to letters"])
def test_a_disguised_upn_in_a_school_name_fails_the_gate(runner_project, tmp_path, disguise):  # noqa: F811
    root = runner_project("hostile", data=True)
    schools = pd.read_csv(root / "data" / "la" / "schools.csv")
    schools.loc[0, "school_name"] = f"Moor Lane {DISGUISED_UPNS[disguise]}"
    schools.to_csv(root / "data" / "la" / "schools.csv", index=False)
    out = tmp_path / "out"
    with pytest.raises(ReportError, match="privacy gate") as err:
        run_report(root / "params" / "hostile.yaml", out_dir=out, progress=False)
    assert "C380200117001" not in str(err.value)
    assert not (out / "hostile.html").exists()
    folders = [out, tmp_path / "_runs" / "out"]  # neither the report nor the audit folder
    assert not [p for f in folders if f.exists() for p in f.rglob("*.ipynb")]
    assert (root / "failed-runs" / "hostile" / "hostile.ipynb").is_file()
