"""Published pages forbid script, the runner refuses active content, tables are spreadsheet-safe."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest
from bs4 import BeautifulSoup
from hostile_fixtures import (  # noqa: F401  (fixtures)
    FORMULA_PAYLOADS,
    SCRIPT_PAYLOADS,
    formula_payload,
    script_payload,
)
from nbformat.v4 import new_code_cell, new_notebook, new_output

from attendance_lib.present.notebook import TABLE_MIME, say_html
from attendance_lib.runner import publish


def _notebook(*html: str, table: dict | None = None):
    cell = new_code_cell("x = 1")
    cell.outputs = [new_output("display_data", data={"text/html": h}) for h in html]
    if table is not None:
        cell.outputs.append(new_output("display_data", data={TABLE_MIME: table}))
    nb = new_notebook(cells=[cell])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def test_the_page_carries_a_content_security_policy_that_forbids_script():
    page = publish.export_html(_notebook("<p>Hello</p>"), title="T", audience="public")
    head = BeautifulSoup(page, "html.parser").find("head")
    meta = head.find("meta", attrs={"http-equiv": "Content-Security-Policy"})
    assert meta is not None and meta["content"] == publish.CONTENT_SECURITY_POLICY
    policy = dict(part.strip().split(" ", 1) for part in meta["content"].split(";"))
    assert policy["script-src"] == "'none'" and policy["default-src"] == "'none'"
    assert policy["img-src"] == "data:"  # the embedded charts still show
    assert policy["style-src"] == "'unsafe-inline'"  # the page's own stylesheet still applies
    # it comes before anything else the browser reads in <head> but the character set
    assert [t.name for t in head.find_all(True)][:2] == ["meta", "meta"]
    assert publish.active_content(page) == []


def test_sentences_with_payloads_export_without_active_content(script_payload):  # noqa: F811
    page = publish.export_html(
        _notebook(say_html(f"School {script_payload} and {script_payload}.")),
        title=script_payload,
        audience="public",
    )
    assert publish.active_content(page) == []
    assert "<img" not in page.split("<main", 1)[1] and "<svg" not in page


@pytest.mark.parametrize(
    "html, found",
    [
        ("<script>alert(1)</script>", "<script> element"),
        ('<img src="x" onerror="alert(1)">', "<img onerror> event handler"),
        ('<svg onload="alert(1)"></svg>', "<svg onload> event handler"),
        ('<a href="javascript:alert(1)">x</a>', "<a href> javascript: URL"),
        ('<a href=" JaVa\tScRiPt:alert(1)">x</a>', "<a href> javascript: URL"),
        ('<a href="&#106;avascript:alert(1)">x</a>', "<a href> javascript: URL"),
        ('<iframe src="about:blank"></iframe>', "<iframe> element"),
        ('<a href="data:text/html,<script>alert(1)</script>">x</a>', "<a href> data: URL"),
        ('<form><button formaction="javascript:alert(1)">x</button></form>', "javascript: URL"),
        ("<SCRIPT SRC=x></SCRIPT>", "<script> element"),
        ('<img src="x" onerror="alert(1)" />', "<img onerror> event handler"),  # self-closing
        ("<div onclick>x</div>", "<div onclick> event handler"),  # no value
        ('<a href="#ok" href="javascript:alert(1)">x</a>', "<a href> javascript: URL"),  # repeated
        ('<object data="data:text/html,x"></object>', "<object data> data: URL"),
    ],
)
def test_active_content_is_found(html, found):
    assert any(found in f for f in publish.active_content(f"<html><body>{html}</body></html>"))


def test_embedded_images_and_plain_links_are_not_active_content():
    html = (
        '<img src="data:image/png;base64,iVBORw0KGgo=" alt="chart">'
        '<a href="#section-1">x</a><a href="https://www.gov.uk/">gov.uk</a>'
        '<p class="note" title="javascript is mentioned">data: text</p>'
    )
    assert publish.active_content(html) == []


# ---------------------------------------------------------------- spreadsheet formulas


@pytest.mark.parametrize(
    "value, written",
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-3.5", "-3.5"),  # a number written as text stays that number
        ("Moor Lane", "Moor Lane"),
        ("c", "c"),
        (-3, -3),
        (-2.5, -2.5),
        (None, None),
    ],
)
def test_spreadsheet_safe_text(value, written):
    assert publish.spreadsheet_safe_text(value) == written


def test_tables_csv_and_xlsx_hold_no_live_formula(tmp_path):
    table = {
        "name": "schools",
        "caption": "Schools",
        "columns": ["school_name", "change_pp", "=header"],
        "records": [
            {"school_name": p, "change_pp": -1.5 - n, "=header": n}
            for n, p in enumerate(FORMULA_PAYLOADS + SCRIPT_PAYLOADS)
        ],
    }
    [csv_path] = publish.write_tables(_notebook(table=table), tmp_path)
    csv = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    assert list(csv.columns) == ["school_name", "change_pp", "'=header"]
    names = csv["school_name"].tolist()
    assert names[: len(FORMULA_PAYLOADS)] == [f"'{p}" for p in FORMULA_PAYLOADS]
    assert names[len(FORMULA_PAYLOADS) :] == list(SCRIPT_PAYLOADS)
    assert csv["change_pp"].iloc[0] == "-1.5"  # negative numbers stay numbers
    book = openpyxl.load_workbook(tmp_path / "tables.xlsx")
    assert book.sheetnames == ["Notes", "Schools"]
    sheet = book["Schools"]
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    numbers = [c.value for c in cells if c.column == 2 and c.row > 1]
    assert all(isinstance(v, float) and v < 0 for v in numbers)
    assert sheet["A2"].value == f"'{FORMULA_PAYLOADS[0]}"
