"""The runner's disclosure attack: it recovers small counts from a leaking table, and none from
a table protected by ``publish_table``."""

from __future__ import annotations

import nbformat
import pandas as pd
import pytest

from attendance_lib.present import notebook as present
from attendance_lib.present.disclosure import structure
from attendance_lib.runner import publish
from attendance_lib.runner.disclosure_attack import (
    attack_table,
    check_report,
    infer_structure,
    parse_cell,
)


def test_cells_are_intervals_as_rounded():
    assert parse_cell("1.1", exact=False) == pytest.approx((1.05, 1.15))
    assert parse_cell("361", exact=True) == (361, 361)
    assert parse_cell("1,200", exact=True) == (1200, 1200)
    assert parse_cell("low", exact=False) == (0.0, 0.05)
    assert parse_cell("c", exact=True) is None and parse_cell("x", exact=False) is None


def _as_published(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype(str)


def test_rate_times_denominator_leak_is_found():
    # the example: sa_enrolments c, but 1.1% of 361 = 4
    leaking = _as_published(
        pd.DataFrame({"enrolments": [361], "sa_enrolments": ["c"], "sa_pct": [1.1]})
    )
    found = attack_table("by_school", leaking, infer_structure(leaking))
    assert [(f.row, f.column) for f in found] == [(0, "sa_enrolments")]
    # a share published without its count: 0.5% of 558 = 3
    alone = _as_published(pd.DataFrame({"enrolments": [558], "sa_pct": [0.5]}))
    spec = structure(counts=["enrolments"], shares=["sa_pct"], denominator="enrolments")
    assert [f.column for f in attack_table("t", alone, spec)] == ["sa_pct"]
    # rounding leaves doubt: 1.1% of 2000 is 21 to 23, not small
    fine = _as_published(
        pd.DataFrame({"enrolments": [2000], "sa_enrolments": ["c"], "sa_pct": [1.1]})
    )
    assert attack_table("t", fine, infer_structure(fine)) == []


def test_total_minus_parts_leak_is_found_and_chains():
    # sign_test: no_change c, but 2720 - 2291 - 427 = 2
    leaking = _as_published(
        pd.DataFrame({"pupils": [2720], "improved": [2291], "no_change": ["c"], "worse": [427]})
    )
    spec = structure(
        counts=["pupils", "improved", "no_change", "worse"],
        row_sums={"pupils": ["improved", "no_change", "worse"]},
    )
    assert [f.column for f in attack_table("sign_test", leaking, spec)] == ["no_change"]
    # five categories: the total minus four visible categories
    five = _as_published(
        pd.DataFrame({"category": list("abcde") + ["all"], "n": [50, 30, 10, 6, "c", 99]})
    )
    spec = structure(counts=["n"], total_rows={"column": "category", "label": "all"})
    assert [(f.row, f.column) for f in attack_table("five", five, spec)] == [(4, "n")]


def test_breakdown_against_its_parent_is_found():
    parent = _as_published(pd.DataFrame({"band": ["low"], "pupils": [30]}))
    child = _as_published(
        pd.DataFrame({"band": ["low", "low"], "sen": ["y", "n"], "pupils": ["c", 27]})
    )
    spec = structure(counts=["pupils"], breaks_down={"table": "by_band", "on": ["band"]})
    found = attack_table("by_band_sen", child, spec, {"by_band": parent})
    assert [(f.row, f.column) for f in found] == [(0, "pupils")]


@pytest.fixture
def shown(monkeypatch):
    captured: list[dict] = []
    monkeypatch.setattr(present, "display", lambda obj, raw=False: captured.append(obj))
    return captured


def _notebook(outputs: list[dict]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [nbformat.v4.new_output("display_data", data=o) for o in outputs]
    nb.cells.append(cell)
    return nb


def _demo_tables(shown):
    """The issue's demo examples, published through publish_table."""
    present.report_header("T", {})
    schools = pd.DataFrame(
        {
            "school_name": ["Fernhill", "Ashgrove", "Beck"],
            "enrolments": [361, 558, 420],
            "pa_enrolments": [85, 10, 60],
            "sa_enrolments": [4, 3, 22],
        }
    )
    schools["sa_pct"] = schools["sa_enrolments"] / schools["enrolments"] * 100
    schools["pa_pct"] = schools["pa_enrolments"] / schools["enrolments"] * 100
    present.publish_table(
        schools, "by_school", caption="Schools", counts=["enrolments", "pa_enrolments", "sa_enrolments"],
        shares={"sa_pct": "sa_enrolments", "pa_pct": "pa_enrolments"}, denominator="enrolments",
    )  # fmt: skip
    rows = []
    for school, counts in {
        "All": [300, 120, 60, 21, 9],
        "A": [150, 60, 30, 9, 1],
        "B": [150, 60, 30, 12, 8],
    }.items():
        total = sum(counts)
        rows += [
            {"school_name": school, "category": k, "enrolments": n, "total_enrolments": total, "pct": n / total * 100}
            for k, n in zip("abcde", counts, strict=True)
        ]  # fmt: skip
    present.publish_table(
        pd.DataFrame(rows), "five_categories", caption="Five", counts=["enrolments", "total_enrolments"],
        shares={"pct": "enrolments"}, denominator="total_enrolments",
        total_rows={"column": "school_name", "label": "All", "within": ["category"]},
        group_totals={"part": "enrolments", "total": "total_enrolments", "within": ["school_name"]},
    )  # fmt: skip
    band = pd.DataFrame({"band": ["90-95", "95+"], "pupils": [40, 80]})
    present.publish_table(band, "ks2_by_band", caption="Band", counts=["pupils"])
    sen = pd.DataFrame({"band": ["90-95"] * 3 + ["95+"] * 3, "sen": ["none", "support", "ehc"] * 2,
                        "pupils": [30, 7, 3, 70, 6, 4]})  # fmt: skip
    present.publish_table(
        sen, "ks2_by_band_sen", caption="SEN", counts=["pupils"],
        breaks_down={"table": "ks2_by_band", "on": ["band"]},
    )  # fmt: skip
    sign = pd.DataFrame({"pupils": [2720], "improved": [2291], "no_change": [2], "worse": [427]})
    present.publish_table(
        sign, "sign_test", caption="Sign test", counts=list(sign),
        row_sums={"pupils": ["improved", "no_change", "worse"]},
    )  # fmt: skip
    return _notebook([o for o in shown if present.TABLE_MIME in o])


def test_tables_protected_by_publish_table_resist_the_attack(shown, tmp_path):
    nb = _demo_tables(shown)
    publish.write_tables(nb, tmp_path)
    assert check_report(nb, tmp_path) == []
    # and the small numbers really were hidden
    sign = pd.read_csv(tmp_path / "tables" / "sign_test.csv", dtype=str)
    assert sign.loc[0, "no_change"] == "c" and (sign.loc[0] == "c").sum() >= 2


def test_the_same_tables_without_secondary_suppression_fail(shown, tmp_path):
    nb = _demo_tables(shown)
    publish.write_tables(nb, tmp_path)
    # undo the secondary suppression the way a careless notebook would: publish the raw sums
    path = tmp_path / "tables" / "sign_test.csv"
    leaky = pd.read_csv(path, dtype=str)
    leaky.loc[0, ["pupils", "improved", "worse"]] = ["2720", "2291", "427"]
    leaky.to_csv(path, index=False)
    found = check_report(nb, tmp_path)
    assert [(f.table, f.column) for f in found] == [("sign_test", "no_change")]
    assert "can be worked out" in str(found[0])


def test_only_public_tables_are_attacked(shown, tmp_path):
    present.report_header("T", {}, audience="school")
    frame = pd.DataFrame({"enrolments": [361], "sa_enrolments": [4]})
    frame["sa_pct"] = 4 / 361 * 100
    present.publish_table(
        frame, "mine", caption="Mine", counts=["enrolments", "sa_enrolments"], rates=["sa_pct"],
        denominator="enrolments", audience="school", own=[True],
    )  # fmt: skip
    nb = _notebook([o for o in shown if present.TABLE_MIME in o])
    publish.write_tables(nb, tmp_path)
    assert pd.read_csv(tmp_path / "tables" / "mine.csv")["sa_enrolments"].tolist() == [4]
    assert check_report(nb, tmp_path) == []
