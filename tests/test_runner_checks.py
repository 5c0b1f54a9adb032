"""The privacy gate and the offline check, on deliberately bad HTML and tables (no kernel)."""

from __future__ import annotations

import nbformat
import pandas as pd
import pytest
from bs4 import BeautifulSoup
from nbconvert import HTMLExporter
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from attendance_lib.runner import publish
from attendance_lib.runner.offline import external_loads
from attendance_lib.runner.privacy import check_report, is_name_column, scan_html, scan_table
from attendance_lib.runner.publish import export_html, label_table_regions

# ---------------------------------------------------------------- privacy


@pytest.mark.parametrize(
    "text",
    [
        "pupil A123456789012 was absent",  # permanent UPN shape
        "temporary UPN B12345678901C here",  # temporary: letter in the last place
        "<td>A123456789012</td>",
        "upn=a123456789012;",  # lower case still caught
    ],
)
def test_upn_shapes_are_found(text):
    assert [f.kind for f in scan_html(text)] == ["upn"]


@pytest.mark.parametrize(
    "text",
    [
        "URN 100001 and 2023/24",
        "fingerprint aaf5d7db5f95e81e",  # 16 hex chars: not a UPN
        "A1234567890123",  # 14 characters
        "A12345678901",  # 12 characters
        "1A23456789012",  # starts with a digit
        '<img src="data:image/png;base64,xxA123456789012yy+A123456789012/">',  # embedded image
    ],
)
def test_non_upns_are_not_found(text):
    assert scan_html(text) == []


def test_found_upn_is_masked_in_the_message():
    (finding,) = scan_html("A123456789012")
    assert "A123456789012" not in str(finding)
    assert finding.value == "A1*********12"


@pytest.mark.parametrize(
    "name", ["name", "Forename", "surname", "pupil name", "First_Name", "LAST NAME"]
)
def test_name_columns(name):
    assert is_name_column(name)


@pytest.mark.parametrize("name", ["school_name", "la_name", "officer", "urn", "names_of_panels"])
def test_not_name_columns(name):
    assert not is_name_column(name)


def test_scan_table_finds_upn_values_and_name_columns():
    frame = pd.DataFrame({"forename": ["Ann"], "ref": ["B12345678901C"], "school_name": ["X"]})
    kinds = sorted(f.kind for f in scan_table(frame, "tables/t.csv"))
    assert kinds == ["name column", "upn"]


def test_html_table_header_with_pupil_name_is_found():
    html = "<table><tr><th>Pupil name</th><th>School name</th></tr></table>"
    assert [f.kind for f in scan_html(html)] == ["name column"]


def test_check_report_clean():
    frame = pd.DataFrame({"school_name": ["Moor Lane"], "urn": [100001], "pupils": [30]})
    assert check_report("<p>All schools</p>", {"t": frame}) == []


# ---------------------------------------------------------------- offline


@pytest.mark.parametrize(
    ("html", "where"),
    [
        ('<script src="https://cdn.example.org/require.js"></script>', "script"),
        ('<link rel="stylesheet" href="http://fonts.example.org/a.css">', "link"),
        ('<img src="//cdn.example.org/x.png" alt="x">', "img"),
        ('<img srcset="a.png 1x, https://e.org/b.png 2x" alt="x">', "img"),
        ("<style>@import url('https://e.org/f.css');</style>", "style"),
        ("<style>@import 'https://e.org/f.css';</style>", "style"),
        ("<style>body { background: url(https://e.org/bg.png) }</style>", "style"),
        ("<div style=\"background-image: url('//e.org/bg.png')\"></div>", "div"),
        ('<iframe src="https://e.org/"></iframe>', "iframe"),
        ('<svg><image href="https://e.org/i.png"/></svg>', "image"),
    ],
)
def test_external_loads_are_found(html, where):
    found = external_loads(html)
    assert [f.tag for f in found] == [where]


def test_local_and_embedded_resources_and_links_are_fine():
    html = (
        '<a href="https://www.gov.uk/government/publications/x">guidance</a>'
        '<img src="data:image/png;base64,AAAA" alt="x"><a href="#section-1">jump</a>'
        "<style>.x { background: url(data:image/svg+xml;base64,AAAA) }</style>"
        '<link rel="stylesheet" href="local.css">'
    )
    assert external_loads(html) == []


def _notebook_with_outputs() -> nbformat.NotebookNode:
    cell = new_code_cell("x = 1")
    cell.outputs = [
        new_output("display_data", data={"text/html": "<h2>Section one</h2><p>Hello</p>"}),
        new_output("stream", name="stderr", text="UserWarning: something internal\n"),
        new_output("stream", name="stdout", text="debug print\n"),
        new_output("execute_result", data={"text/plain": "'bare value'"}, execution_count=1),
    ]
    nb = new_notebook(cells=[new_markdown_cell("## Section two\n\n$x^2$ maths"), cell])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def test_nbconvert_lab_template_would_fail_the_check():
    """The check catches the real violation it exists for: lab's require.js and MathJax."""
    html, _ = HTMLExporter(template_name="lab").from_notebook_node(_notebook_with_outputs())
    urls = " ".join(f.url for f in external_loads(html))
    assert "require" in urls and "mathjax" in urls.lower()


def test_our_template_is_offline_code_free_and_has_contents():
    html = export_html(_notebook_with_outputs(), title="T", audience="public")
    assert external_loads(html) == []
    assert "<script" not in html
    assert "x = 1" not in html  # no code
    assert "In&nbsp;[" not in html and "In [" not in html  # no prompts
    assert "UserWarning" not in html and "debug print" not in html  # no streams
    assert "bare value" not in html  # only what the present helpers display
    assert 'id="aw-toc"' in html and 'href="#Section-two"' in html
    assert "OFFICIAL-SENSITIVE" not in html


def test_page_images_have_alt_text_and_a_policy_from_one_parse():
    """What nbconvert's exporter adds after rendering, now added on the page's one parse."""
    nb = _notebook_with_outputs()
    nb.cells[1].outputs.append(
        new_output("display_data", data={"text/html": '<img src="data:image/png;base64,AAAA">'})
    )
    soup = BeautifulSoup(export_html(nb, title="T", audience="public"), "html.parser")
    assert [img["alt"] for img in soup.find_all("img")] == [publish.MISSING_ALT]
    policies = soup.find_all("meta", attrs={"http-equiv": "Content-Security-Policy"})
    assert len(policies) == 1 and policies[0]["content"] == publish.CONTENT_SECURITY_POLICY
    assert policies[0].parent.name == "head"
    assert policies[0].find_previous_sibling("meta", charset=True) is not None  # after charset


def test_focusable_outputs_does_what_nbconvert_does():
    """``.jp-Notebook div.jp-Cell-inputWrapper`` and ``div.jp-OutputArea-output`` get
    ``tabindex="0"``, only inside a ``.jp-Notebook``; an image without alt text gets one."""
    html = (
        '<div class="jp-Notebook"><div class="jp-Cell-inputWrapper"></div>'
        '<div><div class="x jp-OutputArea-output"></div></div><img src="a" alt="chart"></div>'
        '<div class="jp-OutputArea-output"></div><img src="b">'
    )
    soup = BeautifulSoup(html, "html.parser")
    publish._focusable_outputs(soup)
    marked = [d["class"] for d in soup.find_all("div", tabindex="0")]
    assert marked == [["jp-Cell-inputWrapper"], ["x", "jp-OutputArea-output"]]
    assert [img["alt"] for img in soup.find_all("img")] == ["chart", publish.MISSING_ALT]


def test_restricted_page_is_marked():
    html = export_html(_notebook_with_outputs(), title="T", audience="restricted")
    assert html.count("OFFICIAL-SENSITIVE") == 2  # top and bottom of the page (every sheet)
    assert 'class="aw-audience-restricted aw-marked"' in html


def test_school_pack_is_marked_official_and_public_page_is_not_marked():
    html = export_html(_notebook_with_outputs(), title="T", audience="school")
    assert html.count(">OFFICIAL<") == 2 and "OFFICIAL-SENSITIVE" not in html
    public = export_html(_notebook_with_outputs(), title="T", audience="public")
    assert "aw-marking" not in public.split("</style>", 1)[1]


def test_markdown_cells_are_published_and_only_code_input_is_hidden():
    """nbconvert renders Markdown inside .jp-InputArea: the stylesheet must not hide it."""
    html = export_html(_notebook_with_outputs(), title="T", audience="public")
    soup = BeautifulSoup(html, "html.parser")
    heading = soup.find("h2", id="Section-two")
    assert heading is not None and heading.find_parent(class_="jp-MarkdownCell") is not None
    css = soup.find("style").get_text()
    hidden = [
        rule.split("{")[0].strip()
        for rule in css.split("}")
        if "display: none" in rule.split("{")[-1] and "InputArea" in rule.split("{")[0]
    ]
    assert hidden and all(".jp-CodeCell .jp-InputArea" in rule for rule in hidden), hidden


def test_table_wrappers_are_labelled_focusable_regions():
    html = export_html(_notebook_with_outputs(), title="T", audience="public")
    wrap = (
        '<div class="aw-table-wrap"><table class="aw-table"><caption>Pupils &amp; groups</caption>'
    )
    page = label_table_regions(f"<main>{wrap}</table></div></main>")
    region = BeautifulSoup(page, "html.parser").find("div")
    assert region["role"] == "region" and region["tabindex"] == "0"
    assert region["aria-label"] == "Table: Pupils & groups"
    assert "aw-print-frame" in html


def test_page_is_what_nbconvert_exporter_gives_but_parsed_once():
    """``_PageExporter`` leaves out only ``HTMLExporter``'s own parse: the same page (up to
    whitespace between tags) as nbconvert's exporter followed by the workbench's steps."""
    import re

    nb = _notebook_with_outputs()
    nb.cells[1].outputs.append(
        new_output("display_data", data={"text/html": '<img src="data:image/png;base64,AAAA">'})
    )
    stock = HTMLExporter(
        template_name=publish.TEMPLATE_NAME,
        extra_template_basedirs=[str(publish.TEMPLATES_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    stripped = publish._strip_for_html(nb)
    stripped.metadata["title"] = "T"
    stripped.metadata["attendance_workbench"] = {
        "audience": "school",
        "marking": publish.MARKINGS["school"],
    }
    html, _ = stock.from_notebook_node(stripped, resources={"metadata": {"name": "T"}})
    soup = BeautifulSoup(html, "html.parser")
    publish._label_table_regions(soup)
    publish._add_table_of_contents(soup)
    publish._add_content_security_policy(soup)
    ours = export_html(nb, title="T", audience="school")
    assert re.sub(r"\s+", " ", ours) == re.sub(r"\s+", " ", str(soup))
