"""The privacy gate is hard to fool: disguised UPNs are found in every published file (issue 13)."""

from __future__ import annotations

import json

import openpyxl
import pandas as pd
import pytest
from hostile_fixtures import DISGUISED_UPNS, TEMPORARY_UPN, UPN
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from attendance_lib.present.notebook import say_html
from attendance_lib.runner import privacy

DISGUISES = pytest.mark.parametrize("text", DISGUISED_UPNS.values(), ids=DISGUISED_UPNS.keys())


@DISGUISES
def test_a_disguised_upn_in_a_value_is_found(text):
    assert [f.kind for f in privacy.scan_text(f"Pupil {text} was absent", "t")] == ["upn"]


@DISGUISES
def test_a_disguised_upn_in_a_sentence_on_the_page_is_found(text):
    page = say_html(f"The school {text} is open.")
    assert [f.kind for f in privacy.scan_html(page)] == ["upn"]


@DISGUISES
def test_a_disguised_upn_in_a_table_cell_is_found(text):
    frame = pd.DataFrame({"school_name": ["Moor Lane", text], "pupils": [10, 20]})
    assert [f.kind for f in privacy.scan_table(frame, "tables/t.csv")] == ["upn"]


def test_an_entity_encoded_upn_in_html_is_found():
    assert [f.kind for f in privacy.scan_html("<p>&#67;380200117001</p>")] == ["upn"]
    assert [f.kind for f in privacy.scan_html('<p title="&#67;380200117001">x</p>')] == ["upn"]


def test_only_an_images_own_data_is_skipped():
    image = f'<img src="data:image/png;base64,xx{UPN}yy" alt="chart">'
    assert privacy.scan_html(image) == []
    # the image's other attributes are read, and a UPN met twice is reported once
    image = f'<p>{TEMPORARY_UPN}</p><img src="data:image/png;base64,xx" alt="{TEMPORARY_UPN}">'
    assert [f.value for f in privacy.scan_html(image)] == [privacy.mask(TEMPORARY_UPN)]
    alt_only = f'<img src="data:image/png;base64,xx" alt="{TEMPORARY_UPN}">'
    assert [f.value for f in privacy.scan_html(alt_only)] == [privacy.mask(TEMPORARY_UPN)]
    assert privacy.scan_html(f'<a href="data:image/png;base64,{UPN}">x</a>')


@pytest.mark.parametrize(
    "text",
    [
        "In 2023/24 100,001 pupils had 1,234,567 sessions",
        "Total 1,200 5.25 7.85 40 123",
        "fingerprint aaf5d7db5f95e81e, marks.parquet 0123456789ab",
        "sha256 " + "0123456789abcdef" * 4,
        "cell id ffffffa8-3533-7406-812f-ffffffffffff",  # joined: A835337406812, a valid UPN
    ],
)
def test_figures_and_hashes_are_not_upns(text):
    assert privacy.scan_text(text, "t") == []


def test_the_check_letter():
    assert privacy.has_upn_check_letter(UPN) and privacy.has_upn_check_letter(TEMPORARY_UPN)
    assert not privacy.has_upn_check_letter("A" + UPN[1:])


def test_a_mistyped_upn_standing_alone_is_still_found():
    """The plain shape needs no valid check letter: a typo is still an identifier."""
    assert privacy.find_upns("B380200117001") == ["B380200117001"]
    assert privacy.find_upns("pupilB380200117001x") == []  # joined: the check letter decides


def _write_report(folder, *, text="", cell="", header="school_name", sheet_value="", run=None):
    (folder / "tables").mkdir(parents=True)
    (folder / "r.html").write_text(f"<html><body><p>{text}</p></body></html>")
    pd.DataFrame({header: ["Moor Lane", cell]}).to_csv(folder / "tables" / "t.csv", index=False)
    book = openpyxl.Workbook()
    book.active.title = "t"
    book.active.append([header])
    book.active.append([sheet_value])
    book.save(folder / "tables.xlsx")
    (folder / "run.json").write_text(json.dumps(run or {"title": "T"}))
    return folder


def test_check_folder_is_clean_on_a_clean_report(tmp_path):
    assert privacy.check_folder(_write_report(tmp_path / "r")) == []


@pytest.mark.parametrize(
    "where, kwargs",
    [
        ("r.html", {"text": DISGUISED_UPNS["spaced"]}),
        ("tables/t.csv", {"cell": DISGUISED_UPNS["zero-width space"]}),
        ("tables.xlsx", {"sheet_value": DISGUISED_UPNS["glued to letters"]}),
        ("run.json", {"run": {"parameters": {"la_name": DISGUISED_UPNS["hyphenated"]}}}),
        ("tables/t.csv", {"header": "Forename"}),
    ],
)
def test_check_folder_scans_every_published_file(tmp_path, where, kwargs):
    found = privacy.check_folder(_write_report(tmp_path / "r", **kwargs))
    assert any(f.where.startswith(where) for f in found), found


def test_check_folder_scans_a_notebook_but_not_its_images(tmp_path):
    cell = new_code_cell(f'upn = "{UPN}"')
    cell.outputs = [
        new_output("display_data", data={"image/png": "xxB380200117001yy"}),
        new_output("stream", name="stdout", text=f"row 1  pupil{TEMPORARY_UPN}x\n"),
    ]
    folder = tmp_path / "r"
    folder.mkdir()
    (folder / "r.ipynb").write_text(json.dumps(new_notebook(cells=[cell])))
    found = privacy.check_folder(folder)
    # the source and the printed output, not the image
    assert {f.value for f in found} == {privacy.mask(UPN), privacy.mask(TEMPORARY_UPN)}


def test_a_printed_table_does_not_join_neighbouring_figures():
    text = "   band      pupils  rate\n5  Unmatched     20            40.68         55.0   25.0\n"
    assert privacy.scan_blob(text, "t") == []


def test_the_contracts_name_columns_are_identifiers():
    # pupils.csv may carry forename and surname (for the restricted TSM pack's pupil list)
    assert privacy.is_name_column("forename") and privacy.is_name_column("surname")
    assert privacy.is_name_column("Forename") and not privacy.is_name_column("school_name")


# UPNs with valid check letters (LA 380), one for each place a notebook can hold text.
UPN_IN = {
    "notebook metadata": "R380200117002",
    "cell metadata": "F380200117003",
    "stream": "V380200117004",
    "traceback": "J380200117005",
    "html output": "Y380200117006",
    "json output": "M380200117007",
    "text output": "B380200117008",
    "image output": "Q380200117009",
}


def test_a_notebook_is_scanned_everywhere_but_its_images_and_each_finding_names_its_cell():
    notebook = new_notebook(metadata={"title": UPN_IN["notebook metadata"]})
    clean = new_code_cell("x = 1")
    cell = new_code_cell(
        ["y = 2\n", f'upn = "{UPN}"\n'], metadata={"tags": [UPN_IN["cell metadata"]]}
    )
    # entity-encoded: only read as HTML is it a UPN; the image comes first among the outputs
    html = "<p>&#" + str(ord(UPN_IN["html output"][0])) + ";" + UPN_IN["html output"][1:] + "</p>"
    cell.outputs = [
        new_output("stream", name="stdout", text=["row 1\n", f"pupil {UPN_IN['stream']}\n"]),
        new_output(
            "error", ename="E", evalue="e", traceback=[f"line 1 {UPN_IN['traceback']}", "line 2"]
        ),
        new_output(
            "display_data",
            data={
                "image/png": f"xx{UPN_IN['image output']}yy",
                "text/html": html,
                "application/json": {"pupil": UPN_IN["json output"]},
                "text/plain": f"pupil {UPN_IN['text output']}",
            },
        ),
    ]
    notebook.cells = [new_markdown_cell("No outputs here"), clean, cell]
    found = privacy.scan_notebook(notebook, "r.ipynb")
    assert {(f.where, f.kind, f.value) for f in found} == {
        ("r.ipynb (metadata)", "upn", privacy.mask(UPN_IN["notebook metadata"])),
        *(
            ("r.ipynb, cell 3", "upn", privacy.mask(u))
            for u in [
                UPN,
                *(UPN_IN[k] for k in UPN_IN if k not in {"notebook metadata", "image output"}),
            ]
        ),
    }
    assert len(found) == len(UPN_IN)  # each once: seven found, the image's left out
    assert privacy.scan_notebook({}, "empty.ipynb") == []


def test_a_workbook_is_scanned_in_sheet_names_headers_cells_and_formulas(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = UPN_IN["stream"]
    sheet.append(["school_name", "Forename", None])
    sheet.append(["Moor Lane", None, f'="{UPN}"'])  # a formula: its text is published too
    book.create_sheet("summary").append(["pupils"])
    book.save(tmp_path / "tables.xlsx")
    found = privacy.scan_xlsx(tmp_path / "tables.xlsx", "tables.xlsx")
    where = f"tables.xlsx, sheet {UPN_IN['stream']!r}"
    assert {(f.where, f.kind, f.value) for f in found} == {
        ("tables.xlsx (sheet names)", "upn", privacy.mask(UPN_IN["stream"])),
        (where, "name column", "'Forename'"),
        (f"{where}, column ''", "upn", privacy.mask(UPN)),  # the empty header
    }


def test_a_report_is_checked_in_its_page_and_every_table():
    page = f"<p>{UPN_IN['text output']}</p>"
    tables = {
        "a": pd.DataFrame({"school_name": [UPN]}),
        "b": pd.DataFrame({"surname": ["Smith"]}),
    }
    found = privacy.check_report(page, tables)
    assert {(f.where, f.kind) for f in found} == {
        ("report.html", "upn"),
        ("tables/a.csv, column 'school_name'", "upn"),
        ("tables/b.csv", "name column"),
    }


def test_printed_text_reports_each_upn_once_with_its_place():
    # a plain UPN and one glued into a word, the glued one twice in different words
    text = f"see {UPN_IN['text output']} and pupil{UPN}x\n  also x{UPN}y\n"
    found = privacy.scan_blob(text, "out.txt")
    assert [(f.where, f.value) for f in found] == [
        ("out.txt", privacy.mask(UPN_IN["text output"])),
        ("out.txt", privacy.mask(UPN)),
    ]


def test_check_folder_reads_each_kind_of_file_as_what_it_is_and_names_each_place(tmp_path):
    upn_page, upn_nb, upn_key, upn_list, upn_note, upn_csv = (
        "R380200117002",
        "F380200117003",
        "V380200117004",
        "J380200117005",
        "Y380200117006",
        "M380200117007",
    )
    image_upn = "Q380200117009"  # inside embedded images only: never reported
    (tmp_path / "tables").mkdir()
    # .htm too; a laid-out paragraph (two spaces) and a pupil-name header
    (tmp_path / "page.htm").write_text(
        f"<table><tr><th>Pupil name</th></tr></table><p>Zoë  {upn_page}</p>", encoding="utf-8"
    )
    (tmp_path / "r.ipynb").write_text(
        json.dumps(new_notebook(cells=[new_code_cell(f'upn = "{upn_nb}"')])), encoding="utf-8"
    )
    # JSON: an image first (skipped, and the rest still read), a UPN as a key, one in a list
    run = {
        "image/png": f"xx{image_upn}yy",
        "outputs": {"image/svg+xml": [f"xx{image_upn}yy"]},
        "parameters": {upn_key: True, "notes": ["fine", None, f"pupil {upn_list}"]},
    }
    (tmp_path / "run.json").write_text(json.dumps(run), encoding="utf-8")
    # any other file is read as text, undecodable bytes and all
    (tmp_path / "notes.txt").write_bytes(b"\xff\xfe pupil " + upn_note.encode() + b"\n")
    (tmp_path / "run.log").write_text(f"pupil {upn_note}\n", encoding="utf-8")
    # a CSV with a repeated header: the UPN in the first data row, under the second copy
    (tmp_path / "tables" / "t.csv").write_text(
        f"school_name,school_name\nMoor Lane,{upn_csv}\nHigh Street,x\n", encoding="utf-8"
    )
    found = privacy.check_folder(tmp_path)
    assert [(f.where, f.kind, f.value) for f in found] == [
        ("notes.txt", "upn", privacy.mask(upn_note)),
        ("page.htm", "name column", "'Pupil name'"),
        ("page.htm", "upn", privacy.mask(upn_page)),
        ("r.ipynb, cell 1", "upn", privacy.mask(upn_nb)),
        ("run.json", "upn", privacy.mask(upn_key)),
        ("run.json", "upn", privacy.mask(upn_list)),
        ("run.log", "upn", privacy.mask(upn_note)),
        ("tables/t.csv, column 'school_name (2)'", "upn", privacy.mask(upn_csv)),
    ]


def test_the_check_letter_needs_thirteen_characters_from_its_alphabet():
    assert not privacy.has_upn_check_letter(UPN + "1")
    assert not privacy.has_upn_check_letter(UPN[:-1])
    # I, O and S are not in the UPN alphabet, wherever they stand
    assert not privacy.has_upn_check_letter("CI80200117001")
    assert not privacy.has_upn_check_letter("C38020011700O")


def test_a_table_is_read_in_its_headers_and_a_column_of_upns_shows_five():
    valid = list(UPN_IN.values())[:6]
    frame = pd.DataFrame({UPN: [1, 2, 3, 4, 5, 6], "pupils": valid, "Surname:": [""] * 6})
    found = privacy.scan_table(frame, "t.csv")
    assert (
        [(f.where, f.kind, f.value) for f in found]
        == [
            ("t.csv", "name column", "'Surname:'"),  # punctuation round a name header
            ("t.csv (headers)", "upn", privacy.mask(UPN)),
            *(("t.csv, column 'pupils'", "upn", privacy.mask(u)) for u in valid[:5]),
        ]
    )


def test_digits_of_any_script_are_read_as_digits():
    arabic_indic = "".join(chr(0x0660 + int(d)) for d in UPN[1:])
    assert privacy.find_upns(f"Zoë {UPN[0]}{arabic_indic}") == [UPN]
    assert privacy.normalise("Zoë ٣") == "Zoë 3"
