"""benchmarks: EES census and daily-data files, as downloaded, into one comparator table.

The fixtures in ``tests/fixtures/ees/`` follow the EES layouts: a census absence file (with
a BOM, quoted numbers with thousands separators, fractional counts, the symbols c, x, z, low
and ., and a geographic level the workbench does not use) and a daily-data year-to-date file
(``*_perc`` columns, ``education_phase``, "Academic year" that is the year to date).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from attendance_lib.analyses.strategy import termly
from attendance_lib.cli import main
from attendance_lib.core.errors import DataError
from attendance_lib.importers.benchmarks import (
    OUTPUT_COLUMNS,
    comparator_group,
    normalise_benchmarks,
    period_words,
)

EES = Path(__file__).resolve().parent / "fixtures" / "ees"
CENSUS = EES / "census_absence_2023_24.csv"
DAILY = EES / "daily_attendance_ytd_2025_26.csv"


def figure(table, area, period, measure, phase="total"):
    rows = table[
        (table["area"] == area)
        & (table["period"] == period)
        & (table["measure"] == measure)
        & (table["phase"] == phase)
    ]
    assert len(rows) <= 1
    return rows.iloc[0] if len(rows) else None


def test_census_file_as_downloaded():
    result = normalise_benchmarks(CENSUS)
    table = result.table
    assert set(table["basis"]) == {"census"}
    england = figure(table, "England", "2023/24 full year", "overall_absence")
    assert england["value_pct"] == 7.1  # quoted "7.1" after a BOM-prefixed header
    assert england["geographic_level"] == "National"
    assert figure(table, "England", "2023/24 full year", "attendance")["value_pct"] == 92.9
    assert (
        figure(table, "England", "2023/24 autumn term", "persistent_absence")["value_pct"] == 17.4
    )
    assert figure(table, "England", "2023/24 autumn and spring terms", "severe_absence") is not None
    assert figure(table, "England", "2023/24 autumn term", "severe_absence") is None  # "."
    assert figure(table, "England", "2023/24 full year", "overall_absence", "primary") is not None
    bradford = figure(table, "Bradford", "2023/24 full year", "persistent_absence")
    assert (bradford["new_la_code"], bradford["old_la_code"]) == ("E08000032", "380")
    assert figure(table, "Bradford", "2023/24 full year", "severe_absence") is None  # low
    assert "Keighley" not in set(table["area"])
    assert any("Local authority district" in n for n in result.notes)
    assert any("2 figures not available" in n for n in result.notes)


def test_daily_file_is_year_to_date_never_full_year():
    table = normalise_benchmarks(DAILY).table
    assert set(table["basis"]) == {"daily"}
    assert set(table["period"]) == {"2025/26 year to date"}
    bradford = figure(table, "Bradford", "2025/26 year to date", "attendance")
    assert bradford["value_pct"] == 94.6
    assert figure(table, "Bradford", "2025/26 year to date", "persistent_absence") is None  # u
    assert figure(table, "England", "2025/26 year to date", "persistent_absence", "primary")[
        "value_pct"
    ] == pytest.approx(12.5)


def test_period_words():
    assert period_words("202324", "Autumn term", "census") == "2023/24 autumn term"
    assert period_words(202324, "Academic year", "census") == "2023/24 full year"
    assert period_words("202526", "Academic year", "daily") == "2025/26 year to date"
    assert period_words("202324", "Autumn and spring term", "census") == (
        "2023/24 autumn and spring terms"
    )


def test_a_value_that_is_neither_number_nor_symbol_is_named(tmp_path):
    text = CENSUS.read_text(encoding="utf-8-sig").replace(',"7.1",', ",seven,")
    (tmp_path / "census.csv").write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as err:
        normalise_benchmarks(tmp_path / "census.csv")
    [problem] = err.value.problems
    assert (problem.file, problem.row, problem.column) == (
        "census.csv",
        1,
        "sess_overall_percent",
    )


def test_a_file_without_comparator_columns_is_a_problem(tmp_path):
    (tmp_path / "other.csv").write_text("time_period,geographic_level,x\n202324,National,1\n")
    with pytest.raises(DataError, match="1 data problem") as err:
        normalise_benchmarks(tmp_path)
    assert "no comparator columns" in err.value.problems[0].message


def test_command_writes_one_row_per_comparator(tmp_path, capsys):
    out = tmp_path / "comparators.csv"
    assert main(["benchmarks", str(EES), "--out", str(out)]) == 0
    written = pd.read_csv(out, dtype={"time_period": str})
    assert list(written.columns) == OUTPUT_COLUMNS
    assert not written.duplicated(OUTPUT_COLUMNS[:-1]).any()
    assert set(written["basis"]) == {"census", "daily"}
    assert "not used" in capsys.readouterr().err


def test_data_folder_benchmarks_folder_and_csv_together(tmp_path):
    folder = tmp_path / "la"
    (folder / "benchmarks").mkdir(parents=True)
    (folder / "schools.csv").write_text("urn\n")
    (folder / "benchmarks" / DAILY.name).write_bytes(DAILY.read_bytes())
    (folder / "benchmarks.csv").write_bytes(CENSUS.read_bytes())
    table = normalise_benchmarks(folder).table
    assert set(table["basis"]) == {"census", "daily"}


def test_termly_lookup_shows_only_same_period_basis_and_phase():
    table = normalise_benchmarks([CENSUS, DAILY]).table
    spring = termly.comparator_figures(table, ["England", "Bradford"], "2023/24", "spring")
    spring = spring.set_index(["area", "measure"])
    assert spring.loc[("England", "overall_absence"), "value_pct"] == 6.8
    assert spring.loc[("England", "overall_absence"), "period"] == "2023/24 autumn and spring terms"
    assert pd.isna(spring.loc[("Bradford", "overall_absence"), "value_pct"])
    current = termly.comparator_figures(table, ["England"], "2025/26", "autumn")
    assert current["value_pct"].isna().all()  # the daily year to date is another period


def test_statistical_neighbours_by_name_or_code():
    table = normalise_benchmarks(CENSUS).table
    group = comparator_group(table, ["E08000032"], "Statistical neighbours")
    row = group[(group["measure"] == "overall_absence") & (group["period"] == "2023/24 full year")]
    assert row["value_pct"].tolist() == [7.9]
    assert row["members"].tolist() == [1]
    assert comparator_group(table, ["380"], "SN")["area"].unique().tolist() == ["SN"]


def test_daily_rows_marked_year_to_date_by_time_frame(tmp_path):
    (tmp_path / "daily.csv").write_text(
        "time_period,time_identifier,time_frame,geographic_level,country_name,education_phase,"
        "attendance_perc\n"
        "202526,Week 37,Year to date,National,England,Total,94.1\n"
        "202526,Week 37,Week,National,England,Total,93.0\n"
    )
    table = normalise_benchmarks(tmp_path / "daily.csv").table
    assert table["period"].tolist() == ["2025/26 year to date", "2025/26 week 37"]
