"""Presentation helpers: GSS table formatting, suppression, charts, header, provenance."""

from __future__ import annotations

import base64
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from attendance_lib.present import notebook as present


@pytest.fixture
def shown(monkeypatch):
    """Capture what the helpers display instead of printing it."""
    captured: list[dict] = []
    monkeypatch.setattr(present, "display", lambda obj, raw=False: captured.append(obj))
    return captured


@pytest.fixture
def table():
    return pd.DataFrame(
        {
            "group": ["A", "B", "C", "D"],
            "pupils": [1200, 3, 40, 0],
            "absence_pct": [5.25, 12.0, 7.85, float("nan")],
            "attainment8": [45.55, 30.0, 50.05, float("nan")],
        }
    )


def _cells(html: str) -> list[list[str]]:
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in body.split("</tr>") if row]


def test_publish_table_formats_the_gss_way(shown, table):
    present.publish_table(
        table, "groups", caption="By group", counts=["pupils"], rates=["absence_pct"],
        means=["attainment8"], denominator="pupils",
    )  # fmt: skip
    (out,) = shown
    rows = _cells(out["text/html"])
    # half-up: 5.25 -> 5.3, 7.85 -> 7.9, 45.55 -> 45.6, 50.05 -> 50.1; 1200 -> 1,200
    assert rows[0] == ["A", "1,200", "5.3", "45.6"]
    # 3 pupils: the count and the row's rate and mean suppressed
    assert rows[1] == ["B", "c", "c", "c"]
    assert rows[2] == ["C", "40", "7.9", "50.1"]
    # a true zero is published; rates on zero pupils are suppressed
    assert rows[3] == ["D", "0", "c", "c"]
    assert "<caption>By group</caption>" in out["text/html"]
    assert "c = confidential" in out["text/html"]
    assert '<th scope="col" class="aw-num">Overall absence (%)</th>' in out["text/html"]
    # counts and means are numbers too (right-aligned); the group is text
    assert '<td class="aw-num">1,200</td>' in out["text/html"]
    assert '<td class="aw-num">45.6</td>' in out["text/html"] and "<td>A</td>" in out["text/html"]


def test_published_payload_holds_what_the_page_shows(shown, table):
    result = present.publish_table(
        table, "groups", caption="By group", counts=["pupils"], rates=["absence_pct"],
        denominator="pupils",
    )  # fmt: skip
    payload = shown[0][present.TABLE_MIME]
    assert payload["name"] == "groups" and payload["caption"] == "By group"
    assert payload["columns"] == ["group", "pupils", "absence_pct", "attainment8"]
    # rounded half up as shown (5.25 -> 5.3), symbols as shown (missing -> x)
    assert payload["records"][0] == {
        "group": "A", "pupils": 1200, "absence_pct": 5.3, "attainment8": 45.6,
    }  # fmt: skip
    assert payload["records"][1]["pupils"] == "c" and payload["records"][1]["absence_pct"] == "c"
    assert payload["records"][3]["attainment8"] == "x"
    assert payload["labels"]["absence_pct"] == "Overall absence (%)"
    assert payload["disclosure"]["counts"] == ["pupils"]
    assert result.loc[0, "absence_pct"] == 5.3
    assert result.loc[1, "pupils"] == "c"


def test_a_tables_own_note_follows_its_symbol_notes(shown, table):
    present.publish_table(
        table, "groups", caption="By group", counts=["pupils"], note="Autumn term only."
    )
    page = shown[0]["text/html"]
    assert "c = confidential" in page and "Autumn term only." in page
    assert page.index("c = confidential") < page.index("Autumn term only.")
    assert "None" not in page


def test_no_suppression_no_footnote(shown):
    frame = pd.DataFrame({"school": ["X"], "pupils": [12]})
    present.publish_table(frame, "t", caption="c", counts=["pupils"])
    assert "suppressed" not in shown[0]["text/html"]
    assert _cells(shown[0]["text/html"]) == [["X", "12"]]


def test_named_index_becomes_a_column(shown):
    frame = pd.DataFrame({"pupils": [10, 20]}, index=pd.Index(["East", "West"], name="locality"))
    present.publish_table(frame, "t", caption="c", counts=["pupils"])
    assert shown[0][present.TABLE_MIME]["columns"] == ["locality", "pupils"]


def test_publish_table_rejects_bad_input(shown, table):
    with pytest.raises(KeyError, match="nope"):
        present.publish_table(table, "t", caption="c", counts=["nope"])
    with pytest.raises(KeyError) as info:  # every missing column named, in order
        present.publish_table(table, "t", caption="c", counts=["nope", "gone"])
    assert info.value.args[0] == "publish_table('t'): no column(s) nope, gone"
    with pytest.raises(ValueError, match="denominator"):
        present.publish_table(table, "t", caption="c", rates=["absence_pct"])
    with pytest.raises(ValueError, match="table name"):
        present.publish_table(table, "bad name/..", caption="c")


def test_figure_house_style_and_alt_text(shown):
    fig, ax = present.figure("Absence by group", "Group", "Absence (%)")
    assert ax.get_title(loc="left") == "Absence by group"
    assert ax.get_xlabel() == "Group" and ax.get_ylabel() == "Absence (%)"
    (line,) = ax.plot([1, 2], [3, 4])
    assert line.get_color().lower() == present.OKABE_ITO[0].lower()
    with pytest.raises(ValueError, match="alt text"):
        present.show_figure(fig, alt=" ")
    present.show_figure(fig, alt='Line chart "rising"')
    html = shown[0]["text/html"]
    # the line chart's axis starts above zero: the label and the alt text say so
    assert 'alt="Line chart &quot;rising&quot; The value axis starts at' in html
    assert "does not start at zero" in ax.get_ylabel()
    assert re.search(r"it starts at \d+(\.\d)?\)$", ax.get_ylabel()), ax.get_ylabel()  # a tick
    assert ax.get_ylim()[0] in ax.get_yticks()
    png = base64.b64decode(re.search(r"base64,([A-Za-z0-9+/=]+)", html).group(1))
    assert png.startswith(b"\x89PNG")


def test_bars_start_at_zero_and_panels_share_an_axis(shown):
    fig, ax = present.figure("Reasons", "Rate (%)", "Reason")
    ax.barh(["a", "b"], [3.0, 4.0])
    ax.set_xlim(2, 5)
    with pytest.raises(ValueError, match="start at zero"):
        present.show_figure(fig, alt="Bars")
    fig, ax = present.figure("Reasons", "Reason", "Rate (%)")
    ax.bar(["a", "b"], [93.0, 94.0])
    present.show_figure(fig, alt="Bars")  # matplotlib starts bars at zero by default
    assert shown[-1]["text/plain"] == "Bars"
    fig, axes = present.figure("By phase", "Half term", "PA (%)", panels=["Mainstream", "AP"])
    assert [a.get_title(loc="left") for a in axes] == ["Mainstream", "AP"]
    # each panel has its own axis: AP's 90% is neither squashed into nor cut off the other's
    axes[0].plot([1, 2], [17.0, 20.0])
    axes[0].set_ylim(bottom=0)
    axes[1].plot([1, 2], [85.0, 90.0])
    axes[1].set_ylim(bottom=0)
    assert not axes[0].get_shared_y_axes().joined(axes[0], axes[1])
    assert axes[0].get_ylim()[1] < 30 and axes[1].get_ylim()[1] >= 90
    assert [a.get_ylabel() for a in axes] == ["PA (%)", "PA (%)"]


def test_figure_needs_title_and_labels():
    with pytest.raises(ValueError):
        present.figure("", "x", "y")


def test_header_in_words_and_restricted_banner():
    html = present.header_html(
        "KS2 outcomes", {"academic_year": "2023/24", "data_dir": "/home/x/data/demo", "fsm": True}
    )
    assert "<h1>KS2 outcomes</h1>" in html
    assert "<dt>Academic year</dt><dd>2023/24</dd>" in html
    assert "<dd>demo</dd>" in html and "/home/x" not in html  # folder by name only
    assert "<dd>Yes</dd>" in html and "<dt>Free school meals</dt>" in html
    assert "OFFICIAL-SENSITIVE" not in html
    assert "OFFICIAL-SENSITIVE" in present.header_html("T", {}, restricted=True)


def test_report_header_shows_the_period_and_audience_and_starts_a_new_report(monkeypatch):
    calls = []
    monkeypatch.setattr(present, "display", lambda obj, raw=False: calls.append((obj, raw)))
    present._PUBLISHED["earlier"] = pd.DataFrame()
    params = {"academic_year": "2023/24"}
    present.report_header("Termly", params, audience="school", period="2023/24 autumn")
    ((out, raw),) = calls
    assert raw is True and present._PUBLISHED == {}
    html = present.header_html("Termly", params, audience="school", period="2023/24 autumn")
    assert out["text/html"] == html and out["text/plain"] == "Termly"
    assert out[present.HEADER_MIME] == {
        "title": "Termly", "period": "2023/24 autumn", "audience": "school",
    }  # fmt: skip
    lines = html.split("\n")
    assert lines[0].startswith('<div class="aw-banner" role="note"><strong>OFFICIAL</strong>')
    assert lines[1:3] == [
        "<h1>Termly</h1>",
        f'<p class="aw-meta">Period: 2023/24 autumn. Run on {present.run_date()}</p>',
    ]
    assert lines[3] == '<dl class="aw-params"><dt>Academic year</dt><dd>2023/24</dd></dl>'
    # the retired keyword still means restricted; no period, no parameters, no banner
    calls.clear()
    present.report_header("T", {}, restricted=True)
    assert calls[0][0][present.HEADER_MIME]["audience"] == "restricted"
    assert present.header_html("T", {}, audience=None) == (
        f'<h1>T</h1>\n<p class="aw-meta">Run on {present.run_date()}</p>'
    )
    assert present.header_html("T", {}, audience="school", restricted=False).startswith(
        '<div class="aw-banner"'
    )


def test_a_chart_is_an_embedded_png_at_the_house_resolution_with_its_alt_text():
    import struct

    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 3))
    fig.add_subplot().bar(["a"], [1])
    with pytest.raises(ValueError, match="^every chart needs alt text describing what it shows$"):
        present.figure_html(fig, "   ")
    html = present.figure_html(fig, ' PA by "band" ')
    assert html.endswith('alt="PA by &quot;band&quot;"></figure>')
    png = base64.b64decode(html.split("base64,")[1].split('"')[0])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    # 4 x 3 inches at 110 dots per inch
    assert struct.unpack(">II", png[16:24]) == (4 * 110, 3 * 110)


def test_show_figure_displays_the_chart_raw_with_its_alt_text_and_closes_it(monkeypatch):
    import matplotlib.pyplot as plt

    calls = []
    monkeypatch.setattr(present, "display", lambda obj, raw=False: calls.append((obj, raw)))
    fig = plt.figure(figsize=(2, 2))
    fig.add_subplot().bar(["a"], [1])
    present.show_figure(fig, " PA by band ")
    ((out, raw),) = calls
    assert raw is True and out["text/plain"] == "PA by band"
    assert out["text/html"].startswith('<figure class="aw-figure"><img src="data:image/png')
    assert not plt.fignum_exists(fig.number)  # not shown a second time by pyplot


def test_run_date_is_written_in_words():
    import datetime as dt

    assert present.run_date(dt.date(2026, 3, 5)) == "5 March 2026"


def test_provenance_footer(shown):
    dataset = SimpleNamespace(fingerprint="aaf5d7db5f95e81e", files={"schools.csv": "ab" * 32})
    present.provenance_footer(dataset)
    out = shown[0]
    assert "aaf5d7db5f95e81e" in out["text/html"] and "1 input file" in out["text/html"]
    assert "schools.csv" not in out["text/html"]  # file names only in the audit record
    payload = out[present.PROVENANCE_MIME]
    assert payload["fingerprint"] == "aaf5d7db5f95e81e"
    assert payload["files"] == {"schools.csv": "ab" * 32}
    assert payload["library_version"]


def test_provenance_says_how_many_input_files_and_is_displayed_raw(monkeypatch):
    import datetime as dt

    def footer(count):
        files = {f"f{i}.csv": "ab" for i in range(count)}
        return present.provenance_html("aaf5", files, "1.2", "5 March 2026")

    tail = " &middot; run on 5 March 2026 &middot; attendance-workbench 1.2</p></footer>"
    head = '<footer class="aw-footer"><p>Data fingerprint <code>aaf5</code>'
    assert footer(0) == head + tail
    assert footer(1) == head + " from 1 input file" + tail
    assert footer(2) == head + " from 2 input files" + tail
    calls = []
    monkeypatch.setattr(present, "display", lambda obj, raw=False: calls.append((obj, raw)))
    present.provenance_footer(SimpleNamespace(fingerprint="aaf5"))  # a dataset without files
    ((out, raw),) = calls
    assert raw is True
    assert out["text/plain"] == "Data fingerprint aaf5"
    assert out[present.PROVENANCE_MIME]["files"] == {}
    assert out[present.PROVENANCE_MIME]["run_date"] == dt.date.today().isoformat()


def test_say_shows_escaped_html_and_plain_text_raw(monkeypatch):
    calls = []
    monkeypatch.setattr(present, "display", lambda obj, raw=False: calls.append((obj, raw)))
    present.say("Moor Lane <b>& Co</b> improved.")
    ((out, raw),) = calls
    assert raw is True
    assert out == {
        "text/html": present.say_html("Moor Lane <b>& Co</b> improved."),
        "text/plain": "Moor Lane <b>& Co</b> improved.",
    }
    assert "&lt;b&gt;&amp; Co&lt;/b&gt;" in out["text/html"]


def test_a_period_reads_the_gov_uk_way():
    assert present.period_between("2023-09-04", "2025-03-20") == "4 September 2023 to 20 March 2025"


def test_a_share_that_rounds_to_zero_is_published_as_low(shown):
    # 5 of 20,000 pupils severely absent: 0.025 %, which would show as 0.0
    frame = pd.DataFrame({"pupils": [20_000], "sa": [5], "sa_pct": [0.025], "none_pct": [0.0]})
    published = present.publish_table(
        frame, "t", caption="c", counts=["pupils", "sa"], denominator="pupils",
        shares={"sa_pct": "sa", "none_pct": None},
    )  # fmt: skip
    assert published.loc[0, "sa_pct"] == "low" and published.loc[0, "none_pct"] == 0.0
    assert _cells(shown[0]["text/html"]) == [["20,000", "5", "low", "0.0"]]


def test_published_values_of_numbers_held_in_any_form(shown):
    # an object column mixing Python and NumPy numbers, numeric text, symbols and gaps
    column = [2, 2.25, np.int64(3), np.float32(0.5), "4.45", None, np.nan, "c", True, 10**20]
    frame = pd.DataFrame({"n": pd.Series(column, dtype=object)})
    kinds = {"n": "rate"}
    rates = present._published_values(frame, kinds, {}, set())["n"].tolist()
    assert rates[:5] == [2.0, 2.3, 3.0, 0.5, 4.5]  # rounded half up to one place, as shown
    assert rates[5:8] == ["x", "x", "c"] and rates[8] == 1.0 and rates[9] == 1e20
    counts = present._published_values(frame, {"n": "count"}, {}, set())["n"].tolist()
    assert counts[:5] == [2, 2, 3, 1, 4] and all(type(v) is int for v in counts[:5])
    assert counts[8:] == [1, 10**20]


def test_the_csv_values_are_the_shown_figures_as_numbers(shown):
    frame = pd.DataFrame(
        {
            "school": ["Moor Lane", None],
            "open": [True, False],
            "pupils": [20_000.0, 30.0],
            "sa": [6, 0],
            "sa_pct": [0.03, 0.0],  # 6 of 20,000 at two places: 0.03, not low
            "ratio": [1.005, 2.0],
            "whole": [2.5, 3.5],
        }
    )
    published = present.publish_table(
        frame, "t", caption="c", counts=["pupils", "sa"], rates=["whole", "ratio"],
        denominator="pupils", shares={"sa_pct": "sa"},
        decimals={"ratio": 2, "whole": 0, "sa_pct": 2},
    )  # fmt: skip
    records = published.to_dict("records")
    # booleans Yes/No, missing text x, counts whole, rounded half up at each column's places
    assert records == [
        {"school": "Moor Lane", "open": "Yes", "pupils": 20_000, "sa": 6, "sa_pct": 0.03,
         "ratio": 1.01, "whole": 3},
        {"school": "x", "open": "No", "pupils": 30, "sa": 0, "sa_pct": 0.0, "ratio": 2.0,
         "whole": 4},
    ]  # fmt: skip
    assert [type(v) for v in records[0].values()] == [str, str, int, int, float, float, int]


def test_a_table_is_a_labelled_focusable_region_with_its_notes():
    from attendance_lib.present.notebook import _table_html

    shown = pd.DataFrame({"school": ["A", "B"], "ratio": ["1.2", "c"]})
    caption = 'Pupils "at risk" & more'
    got = _table_html(shown, {"ratio": "number"}, caption, ["n1", "n2"])
    escaped = "Pupils &quot;at risk&quot; &amp; more"
    assert got == (
        f'<div class="aw-table-wrap" role="region" tabindex="0" aria-label="{escaped}">'
        f'<table class="aw-table"><caption>{escaped}</caption>'
        '<thead><tr><th scope="col">School</th><th scope="col" class="aw-num">ratio</th></tr>'
        '</thead><tbody><tr><td>A</td><td class="aw-num">1.2</td></tr>'
        '<tr><td>B</td><td class="aw-num">c</td></tr></tbody></table></div>'
        '<div class="aw-notes"><p>n1</p><p>n2</p></div>'
    )
    assert _table_html(shown, {}, "c", []).endswith("</table></div>")  # no notes, no box


def test_a_school_pack_shows_its_own_rows_and_protects_the_rest(monkeypatch):
    calls = []
    monkeypatch.setattr(present, "display", lambda obj, raw=False: calls.append((obj, raw)))
    frame = pd.DataFrame(
        {
            "urn": [100001.0, 100002.0, np.nan],  # a code with a gap: whole numbers
            "school": ["A", "B", "All"],
            "pupils": [3, 4, 7],
            "pa": [1, 2, 3],
            "pa_pct": [33.3, 50.0, 42.9],
            "gap": [0.25, 1.5, np.nan],  # a plain number: one place, half up
        }
    )
    spec = dict(counts=["pupils", "pa"], denominator="pupils", shares={"pa_pct": "pa"})
    published = present.publish_table(
        frame, "School_pack", caption="Pack", audience="school", own={"urn": 100001}, **spec
    )
    # A is the school's own row: shown; B and the LA row are other pupils: 1-4 suppressed
    assert published.to_dict("records") == [
        {"urn": 100001, "school": "A", "pupils": 3, "pa": 1, "pa_pct": 33.3, "gap": 0.3},
        {"urn": 100002, "school": "B", "pupils": "c", "pa": "c", "pa_pct": "c", "gap": 1.5},
        {"urn": "x", "school": "All", "pupils": 7, "pa": "c", "pa_pct": "c", "gap": "x"},
    ]
    (out, raw) = calls[-1]
    assert raw is True and out["text/plain"] == "Pack (3 rows)"
    assert _cells(out["text/html"])[0] == ["100001", "A", "3", "1", "33.3", "0.3"]
    payload = out[present.TABLE_MIME]
    assert payload["audience"] == "school" and payload["records"][2]["urn"] == "x"
    assert payload["kinds"] == {
        "pupils": "count", "pa": "count", "pa_pct": "rate", "urn": "integer", "gap": "number",
    }  # fmt: skip
    # own rows as booleans; a private count protects the rate but is not published
    published = present.publish_table(
        frame, "t2", caption="c", audience="school", own=[False, True, False], show=False,
        private=["pa"], **spec,
    )  # fmt: skip
    assert published["pupils"].tolist() == ["c", 4, 7]
    assert published["pa_pct"].tolist() == ["c", 50.0, "c"] and "pa" not in published
    (out, raw) = calls[-1]
    assert raw is True and list(out) == [present.TABLE_MIME]
    assert out[present.TABLE_MIME]["disclosure"]["counts"] == ["pupils"]
    assert out[present.TABLE_MIME]["disclosure"]["shares"] == {"pa_pct": None}
    with pytest.raises(KeyError, match="own: no column 'la'"):
        present.publish_table(frame, "t3", caption="c", audience="school", own={"la": 1})


def test_the_table_declares_all_of_its_arithmetic_to_the_runner(shown):
    from attendance_lib.present import disclosure

    frame = pd.DataFrame(
        {
            "school": ["A", "B", "All"],
            "boys": [10, 20, 30],
            "girls": [10, 20, 30],
            "pupils": [20, 40, 60],
            "pa": [10, 10, 20],
            "pa_pct": [50.0, 25.0, 33.3],
            "prev_pupils": [20, 40, 60],
            "prev_pa_pct": [40.0, 25.0, 30.0],
            "change": [10.0, 0.0, 3.3],
            "gap": [16.7, -8.3, 0.0],
        }
    )
    arithmetic = dict(
        counts=["boys", "girls", "pupils", "pa"],
        rates=["prev_pa_pct", "change", "gap"],
        denominator="pupils",
        denominators={"prev_pa_pct": "prev_pupils"},
        shares={"pa_pct": "pa"},
        row_sums={"pupils": ["boys", "girls"]},
        total_rows={"column": "school", "label": "All"},
        group_totals={"part": "pa", "total": "pupils", "within": ["school"]},
        differences={"change": ["pa_pct", "prev_pa_pct"]},
        breaks_down={"table": "parent", "on": ["school"]},
        follows={"gap": "pa_pct"},
    )
    present.publish_table(frame, "t", caption="c", suppress_below=10, **arithmetic)
    declared = shown[-1][present.TABLE_MIME]["disclosure"]
    assert declared == disclosure.structure(threshold=10, **arithmetic).to_json()


def test_symbol_notes_explain_only_the_symbols_used():
    from attendance_lib.present.notebook import symbol_notes

    assert symbol_notes(pd.DataFrame({"a": ["c", "x", "1"]}), 10) == [
        "c = confidential: a count of 1 to 9, a figure based on fewer than 10 pupils, or a "
        "figure from which one of those could be worked out.",
        "x = not available.",
    ]
    assert symbol_notes(pd.DataFrame({"a": ["1", "low", "z"]})) == [
        "z = not applicable.",
        "low = a positive figure that rounds to zero.",
    ]
    assert symbol_notes(pd.DataFrame({"a": ["1"]})) == []


def test_whole_number_codes_are_shown_without_separators_or_places():
    from attendance_lib.present.notebook import _format_column

    cells = pd.Series([3.0, None, "c", 100001.0], dtype=object)
    assert list(_format_column(cells, "integer")) == ["3", "x", "c", "100001"]


def test_bars_start_at_zero_and_a_cut_line_axis_says_where_it_starts():
    from matplotlib.figure import Figure

    from attendance_lib.present.notebook import CUT_AXIS_NOTE, check_axes

    def bars(horizontal: bool, low: float) -> Figure:
        fig = Figure()
        ax = fig.add_subplot()
        ax.set_title("T")
        (ax.barh if horizontal else ax.bar)(["a", "b"], [3, 4])
        (ax.set_xlim if horizontal else ax.set_ylim)(low, 5)
        return fig

    for horizontal in (True, False):
        assert check_axes(bars(horizontal, 0)) == []
        with pytest.raises(ValueError, match="^bar chart 'T': bars must start at zero$"):
            check_axes(bars(horizontal, 1))

    def line(bottom: float, label: str = "Attendance (%)") -> Figure:
        fig = Figure()
        ax = fig.add_subplot()
        ax.plot([1, 2], [92, 95])
        ax.set_yticks([90, 92, 94, 96])
        ax.set_ylim(bottom, 96)
        ax.set_ylabel(label)
        return fig

    fig = line(91.3)  # cut: moved down to the tick at 90 and said on the axis and in words
    assert check_axes(fig) == ["The value axis starts at 90, not zero."]
    assert fig.axes[0].get_ylim()[0] == 90
    assert fig.axes[0].get_ylabel() == f"Attendance (%)\n({CUT_AXIS_NOTE}: it starts at 90)"
    assert check_axes(fig) == []  # said once
    assert check_axes(line(92)) == ["The value axis starts at 92, not zero."]  # on a tick
    assert check_axes(line(0)) == [] and check_axes(line(91.3, label="")) == []


def test_text_cells_read_in_words():
    from attendance_lib.present.notebook import _format_column

    cells = pd.Series(["alternative_provision", "Moor Lane", 12, True, np.bool_(False), None])
    shown = _format_column(cells.astype(object), "text")
    assert list(shown) == ["Alternative provision", "Moor Lane", "12", "Yes", "No", "x"]


def test_rates_and_means_shown_rounded_half_up_with_thousands_only_where_the_kind_has_them():
    from attendance_lib.present.notebook import _format_column

    # 12.25 and 0.25 are exact in binary: Python's own format would round them to even
    assert list(_format_column(pd.Series([12.25, 0.25, 99.95]), "rate")) == ["12.3", "0.3", "100.0"]
    assert list(_format_column(pd.Series([1234.25, None]), "mean")) == ["1,234.3", "x"]
    assert list(_format_column(pd.Series([1234.25]), "mean", decimals=0)) == ["1,234"]
    # a float column of another kind: rounded half up, no thousands separator
    assert list(_format_column(pd.Series([1234.25, 0.05]), "text")) == ["1234.3", "0.1"]
    assert list(_format_column(pd.Series([12345.0, 7.0]), "count")) == ["12,345", "7"]


def test_a_formatted_column_keeps_its_rows_index_and_a_missing_boolean_is_x():
    from attendance_lib.present.notebook import _format_column

    index = [5, 9, 2]
    for cells, kind in [
        (pd.Series([1.0, None, 3.0], index=index), "count"),
        (pd.Series(["a", "b", None], index=index), "text"),
        (pd.Series([True, None, False], index=index, dtype="boolean"), "text"),
    ]:
        shown = _format_column(cells, kind)
        assert list(shown.index) == index
    assert list(shown) == ["Yes", "x", "No"]


def test_booleans_read_yes_no_and_an_empty_table_says_none():
    from attendance_lib.present.notebook import _format_column, _table_html

    shown = _format_column(pd.Series([True, False]), "text")
    assert list(shown) == ["Yes", "No"]
    empty = pd.DataFrame({"reason": pd.Series([], dtype=str)})
    assert "None." in _table_html(empty, {}, "Nothing to show", [])


def test_headings_come_from_the_glossary():
    from attendance_lib.present.labels import fallback_words, has_label, label, labels_for

    assert label("pa_pct") == "Persistent absence (%)"
    assert label("last_year_sa_pct") == "Severe absence, a year earlier (%)"
    assert label("previous_year_enrolments") == "Enrolments a year earlier"
    assert label("la_name") == "Local authority"
    assert label("writ_pct") == "Writing (%)"
    assert label("em_4plus_pct") == "Grade 4 or above in English and maths (%)"
    assert label("weeks_before") == "The weeks before the intervention"
    assert label("england_pct") == "England (%)"
    assert label("Fernhill Primary Academy") == "Fernhill Primary Academy"
    assert labels_for(["urn", "cbc"]) == {
        "urn": "URN",
        "cbc": "Comparison built by matching pupils",
    }
    # an unknown identifier never shows its underscores or a file name, but is not "known"
    assert fallback_words("foo_bar_pct") == "Foo bar (%)"
    assert label("pupils.csv") == "Pupils" and "_" not in label("brand_new_column")
    assert not has_label("brand_new_column") and has_label("previous_year_pa_pct")


def test_private_counts_decide_suppression_but_are_not_published(shown):
    frame = pd.DataFrame(
        {"school": ["A", "B"], "enrolments": [60, 80], "previous_year_enrolments": [58, 81],
         "previous_year_pa_enrolments": [3, 12]}
    )  # fmt: skip
    frame["previous_year_pa_pct"] = (
        frame["previous_year_pa_enrolments"] / frame["previous_year_enrolments"] * 100
    )
    out = present.publish_table(
        frame, "t", caption="c", counts=["enrolments", "previous_year_enrolments",
        "previous_year_pa_enrolments"], shares={"previous_year_pa_pct": "previous_year_pa_enrolments"},
        denominator="enrolments", denominators={"previous_year_pa_pct": "previous_year_enrolments"},
        private=["previous_year_enrolments", "previous_year_pa_enrolments"],
    )  # fmt: skip
    assert list(out.columns) == ["school", "enrolments", "previous_year_pa_pct"]
    assert out["previous_year_pa_pct"].tolist() == ["c", 14.8]
    payload = shown[0][present.TABLE_MIME]
    assert "previous_year_pa_enrolments" not in payload["disclosure"]["counts"]


def test_show_false_publishes_to_files_only(shown):
    present.publish_table(
        pd.DataFrame({"n": [10]}), "appendix", caption="c", counts=["n"], show=False
    )
    (out,) = shown
    assert set(out) == {present.TABLE_MIME} and out[present.TABLE_MIME]["shown"] is False


def test_format_p_never_scientific():
    assert present.format_p(6.22e-307) == "< 0.001"
    assert present.format_p(0.0416) == "0.042" and present.format_p(0.0005) == "< 0.001"
    assert present.format_p(1.0) == "> 0.999" and present.format_p(float("nan")) == "not available"


def test_format_p_at_its_edges_and_rounding_half_up():
    # exactly 0.001 and 0.999 are shown as numbers; only beyond them does the text change
    assert present.format_p(0.001) == "0.001" and present.format_p(0.0009) == "< 0.001"
    assert present.format_p(0.999) == "0.999" and present.format_p(0.9991) == "> 0.999"
    # rounded half up at three places: 0.0055 -> 0.006 (Python's format would give 0.005)
    assert present.format_p(0.0055) == "0.006"


def test_shares_named_in_a_list_are_suppressed_on_their_implied_counts(shown):
    # no count column published: A's 1.0% of 200 pupils is 2 pupils (under 5), B's 25.0% of
    # 40 is 10
    frame = pd.DataFrame({"school": ["A", "B"], "pupils": [200, 40], "sa_pct": [1.0, 25.0]})
    published = present.publish_table(
        frame, "t", caption="c", counts=["pupils"], denominator="pupils", shares=["sa_pct"]
    )
    assert published["sa_pct"].tolist() == ["c", 25.0]
    assert _cells(shown[0]["text/html"]) == [["A", "200", "c"], ["B", "40", "25.0"]]
    assert shown[0][present.TABLE_MIME]["disclosure"]["shares"] == {"sa_pct": None}


def test_means_or_shares_alone_still_need_a_denominator(shown, table):
    message = "^publish_table\\('t'\\): rates and means need a denominator column$"
    with pytest.raises(ValueError, match=message):
        present.publish_table(table, "t", caption="c", means=["attainment8"])
    with pytest.raises(ValueError, match=message):
        present.publish_table(table, "t", caption="c", shares={"absence_pct": None})
    assert shown == []


def test_a_private_column_leaves_a_published_shares_count_declared(shown):
    # "prev" is private; sa stays published, so the runner is told sa_pct is sa's share
    frame = pd.DataFrame(
        {"school": ["A"], "pupils": [40], "prev": [38], "sa": [10], "sa_pct": [25.0]}
    )
    published = present.publish_table(
        frame, "t", caption="c", counts=["pupils", "prev", "sa"], denominator="pupils",
        shares={"sa_pct": "sa"}, private=["prev"],
    )  # fmt: skip
    assert published.to_dict("records") == [{"school": "A", "pupils": 40, "sa": 10, "sa_pct": 25.0}]
    declared = shown[0][present.TABLE_MIME]["disclosure"]
    assert declared["counts"] == ["pupils", "sa"] and declared["shares"] == {"sa_pct": "sa"}


def test_the_page_shows_each_column_at_its_own_decimal_places(shown):
    frame = pd.DataFrame(
        {"pupils": [20_000], "sa": [6], "sa_pct": [0.03], "ratio": [1.005], "whole": [2.5]}
    )
    present.publish_table(
        frame, "t", caption="c", counts=["pupils", "sa"], rates=["whole", "ratio"],
        denominator="pupils", shares={"sa_pct": "sa"},
        decimals={"ratio": 2, "whole": 0, "sa_pct": 2},
    )  # fmt: skip
    # 1.005 -> 1.01 and 2.5 -> 3, half up; not 1.0 and 3.0 at the default one place
    assert _cells(shown[0]["text/html"]) == [["20,000", "6", "0.03", "1.01", "3"]]


def test_whole_number_codes_reach_the_csv_without_a_decimal_point(shown):
    from attendance_lib.runner.publish import table_frame

    def csv(frame):
        present.publish_table(frame, "t", caption="c", counts=["pupils"], show=False)
        return table_frame(shown[-1][present.TABLE_MIME]).to_csv(index=False)

    # a URN column with a gap (the LA row) is held as floats; one school alone, too
    gap = pd.DataFrame({"urn": [100001.0, np.nan], "pupils": [12, 30]})
    assert csv(gap) == "urn,pupils\n100001,12\nx,30\n"
    one = pd.DataFrame({"urn": [100001.0], "pupils": [12]})
    assert csv(one) == "urn,pupils\n100001,12\n"


def test_a_rate_held_as_other_text_is_published_as_not_available():
    # a rate column read from a file with "n/a" in it: x, like any missing figure
    frame = pd.DataFrame({"rate": pd.Series([12.25, "n/a", ""], dtype=object)})
    published = present._published_values(frame, {"rate": "rate"}, {}, set())
    assert published["rate"].tolist() == [12.3, "x", "x"]


def test_own_rows_named_by_two_columns_must_match_both(shown):
    # the school's own rows are urn 1 in 2024/25; its 2023/24 row and school 2's 2024/25 row
    # are other pupils, so their counts of 1 to 4 are suppressed
    frame = pd.DataFrame(
        {"urn": [1, 1, 2], "academic_year": ["2023/24", "2024/25", "2024/25"], "pupils": [3, 4, 2]}
    )
    published = present.publish_table(
        frame, "t", caption="c", counts=["pupils"], audience="school",
        own={"urn": 1, "academic_year": "2024/25"},
    )  # fmt: skip
    assert published["pupils"].tolist() == ["c", 4, "c"]
    assert [row[2] for row in _cells(shown[0]["text/html"])] == ["c", "4", "c"]


def test_restricted_false_leaves_a_school_pack_marked_official():
    page = present.header_html("T", {}, audience="school", restricted=False)
    assert page.startswith('<div class="aw-banner" role="note"><strong>OFFICIAL</strong>: ')
    assert "OFFICIAL-SENSITIVE" not in page


def test_columns_at_two_places_keep_their_trailing_zeros(shown):
    frame = pd.DataFrame(
        {
            "pupils": [40, 50, 3],
            "ratio": [2.10, 2.456, 1.0],  # a rate
            "score": [45.10, 30.456, 9.0],  # a mean
            "gap": [1.5, 0.254, 2.0],  # a plain number: not suppressed
        }
    )
    present.publish_table(
        frame, "t", caption="c", counts=["pupils"], rates=["ratio"], means=["score"],
        denominator="pupils", decimals={"ratio": 2, "score": 2, "gap": 2},
    )  # fmt: skip
    # half up at two places: 2.456 -> 2.46, 30.456 -> 30.46, 0.254 -> 0.25; 3 pupils: c
    assert _cells(shown[0]["text/html"]) == [
        ["40", "2.10", "45.10", "1.50"],
        ["50", "2.46", "30.46", "0.25"],
        ["c", "c", "c", "2.00"],
    ]


def test_a_header_lists_every_parameter_in_words():
    page = present.header_html("T", {"academic_year": "2023/24", "fsm": True})
    assert page.endswith(
        '<dl class="aw-params"><dt>Academic year</dt><dd>2023/24</dd>'
        "<dt>Free school meals</dt><dd>Yes</dd></dl>"
    )


def test_show_figure_refuses_a_chart_without_alt_text_and_closes_only_its_own(monkeypatch):
    import matplotlib.pyplot as plt

    monkeypatch.setattr(present, "display", lambda obj, raw=False: None)
    fig = plt.figure(figsize=(2, 2))
    fig.add_subplot().bar(["a"], [1])
    with pytest.raises(ValueError, match="^every chart needs alt text describing what it shows$"):
        present.show_figure(fig, "  ")
    other = plt.figure(figsize=(2, 2))  # the current pyplot figure now
    present.show_figure(fig, "PA by band")
    assert not plt.fignum_exists(fig.number) and plt.fignum_exists(other.number)
    plt.close(other)


def test_a_line_axis_cut_between_zero_and_one_says_so():
    from matplotlib.figure import Figure

    from attendance_lib.present.notebook import check_axes

    fig = Figure()
    ax = fig.add_subplot()
    ax.plot([1, 2], [0.6, 0.9])
    ax.set_ylabel("Share of pupils")
    ax.set_yticks([0.5, 0.75, 1.0])
    ax.set_ylim(0.55, 1.0)
    assert check_axes(fig) == ["The value axis starts at 0.5, not zero."]
    assert ax.get_ylabel() == "Share of pupils\n(axis does not start at zero: it starts at 0.5)"


def test_a_chart_has_the_size_its_caller_gives_and_a_panel_chart_its_title():
    import struct

    with pytest.raises(ValueError, match="^every chart needs a title and labelled axes$"):
        present.figure("T", "x", "")
    fig, ax = present.figure("Reasons", "Reason", "Rate (%)", size=(6.0, 3.0))
    ax.bar(["a"], [1.0])
    png = base64.b64decode(present.figure_html(fig, "Bars").split("base64,")[1].split('"')[0])
    assert struct.unpack(">II", png[16:24]) == (6 * 110, 3 * 110)  # pixels at 110 dpi
    fig, axes = present.figure("PA by phase", "Half term", "PA (%)", panels=["Mainstream", "AP"])
    assert fig.get_suptitle() == "PA by phase"


class _Cache:
    """A dataset's ``cached_result``, in memory: computes once per (name, key)."""

    def __init__(self):
        self.results, self.keys = {}, []

    def cached_result(self, name, key, compute):
        self.keys.append(key)
        self.names = [*getattr(self, "names", []), name]
        marker = (name, repr(sorted(key.items())))
        if marker not in self.results:
            self.results[marker] = compute()
        return self.results[marker]


def test_a_shared_chart_is_drawn_once_for_the_same_key_and_code_and_shown_the_same(monkeypatch):
    from matplotlib.figure import Figure

    shown, drawn, raw_flags = [], [], []

    def display(obj, raw=False):
        shown.append(obj)
        raw_flags.append(raw)

    monkeypatch.setattr(present, "display", display)

    def chart(title):
        def draw():
            drawn.append(title)
            fig = Figure(figsize=(2, 2))
            fig.add_subplot().bar(["a"], [1])
            return fig, f"Bars of {title}"

        return draw

    cache = _Cache()
    present.show_shared_figure(cache, "c", {"urn": 1}, chart("one"))
    present.show_shared_figure(cache, "c", {"urn": 1}, chart("one"))  # the other pack
    assert drawn == ["one"] and shown[0] == shown[1]
    assert raw_flags == [True, True] and cache.names == ["c", "c"]  # the markup, as it is
    assert shown[0]["text/plain"] == "Bars of one"
    assert shown[0]["text/html"].startswith('<figure class="aw-figure"><img src="data:image/png')
    present.show_shared_figure(cache, "c", {"urn": 2}, chart("two"))  # another key: drawn
    assert drawn == ["one", "two"]
    assert {"style", "matplotlib", "draw"} <= set(cache.keys[0])

    def other_draw():  # other code under the same name and key: drawn, not served stale
        drawn.append("other")
        fig = Figure(figsize=(2, 2))
        fig.add_subplot().plot([1, 2], [1, 2])
        return fig, "A line"

    present.show_shared_figure(cache, "c", {"urn": 1}, other_draw)
    assert drawn[-1] == "other" and shown[-1]["text/plain"] == "A line"


def test_code_identity_is_the_code_not_where_it_was_defined():
    def make(offset):
        return compile(
            f"{chr(10) * offset}def f(x):\n    return [x + 1 for _ in 'ab']\n",
            f"cell{offset}",
            "exec",
        )

    first, second = make(0).co_consts[0], make(5).co_consts[0]
    assert first.co_filename != second.co_filename
    assert present.code_identity(first) == present.code_identity(second)
    changed = compile("def f(x):\n    return [x + 2 for _ in 'ab']\n", "cell", "exec").co_consts[0]
    assert present.code_identity(changed) != present.code_identity(first)
    nested = compile("def f(x):\n    return [x + 1 for _ in 'ac']\n", "cell", "exec").co_consts[0]
    assert present.code_identity(nested) != present.code_identity(first)
    # the same bytecode reading other names (globals, arguments) is other code
    reads_a, reads_b = (
        compile(f"def f(x):\n    return {name} + x\n", "cell", "exec").co_consts[0]
        for name in ("a", "b")
    )
    assert reads_a.co_code == reads_b.co_code
    assert present.code_identity(reads_a) != present.code_identity(reads_b)
