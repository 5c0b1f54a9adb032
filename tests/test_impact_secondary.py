"""Secondary measures: published benchmarks, gaps and target status (hand-computed)."""

from __future__ import annotations

import pandas as pd
import pytest

from attendance_lib.analyses.impact import secondary_measures as sm
from attendance_lib.core.errors import UsageError


def _bench():
    return pd.DataFrame(
        {
            "time_period": [202223, 202223, 202223, 202324, 202324, 202223],
            "time_identifier": [
                "Academic year",
                "Autumn term",
                "Academic year",
                "Academic year",
                "Academic year",
                "Academic year",
            ],
            "geographic_level": [
                "National",
                "National",
                "Regional",
                "National",
                "Local authority",
                "Regional",
            ],
            "country_name": ["England"] * 6,
            "region_name": [
                None,
                None,
                "Yorkshire and The Humber",
                None,
                None,
                "Yorkshire and The Humber",
            ],
            "la_name": [None, None, None, None, "Bradford", None],
            "education_phase": [
                "Total",
                "Total",
                "Total",
                "Total",
                "Total",
                "State-funded primary",
            ],
            "enrolments_pa_10_exact_percent": [21.2, 24.0, 22.0, 20.0, 23.1, 19.0],
        }
    )


def test_benchmark_pa_uses_full_year_total_rows():
    b, region, la = sm.benchmark_pa(_bench())
    b = b.set_index("academic_year")
    assert region == "Yorkshire and The Humber" and la == "Bradford"
    assert b.loc["2022/23", "england_pa_pct"] == 21.2  # not the autumn-term 24.0
    assert b.loc["2022/23", "region_pa_pct"] == 22.0  # not the primary-only 19.0
    assert b.loc["2023/24", "la_published_pa_pct"] == 23.1
    assert pd.isna(b.loc["2023/24", "region_pa_pct"])


def test_several_regions_need_a_name():
    two = pd.concat([_bench(), _bench().iloc[[2]].assign(region_name="North East")])
    with pytest.raises(UsageError):
        sm.benchmark_pa(two)
    b, region, _ = sm.benchmark_pa(two, region="North East")
    assert region == "North East"


def test_gaps_and_status():
    la = pd.DataFrame(
        {
            "academic_year": ["2022/23", "2023/24"],
            "complete": [True, True],
            "enrolments": [1000, 1000],
            "pa_enrolments": [215, 190],
            "zero_possible_enrolments": [3, 2],
            "la_pa_pct": [21.5, 19.0],
        }
    )
    b, _, _ = sm.benchmark_pa(_bench())
    out = sm.secondary_measures(la, b).set_index("academic_year")
    assert list(out.reset_index().columns) == sm.SECONDARY_COLUMNS
    assert out.loc["2022/23", "gap_to_region_pp"] == pytest.approx(-0.5)
    assert out.loc["2022/23", "target"] == "in line with region"
    assert out.loc["2022/23", "status"] == "met"  # 21.5 <= 22.0
    assert out.loc["2023/24", "gap_to_england_pp"] == pytest.approx(-1.0)
    assert out.loc["2023/24", "status"] == ""  # not a target year
    assert out.loc["2025/26", "status"] == "pending"  # target year not in the data
    strict = sm.secondary_measures(la.assign(la_pa_pct=[22.4, 19.0]), b).set_index("academic_year")
    assert strict.loc["2022/23", "status"] == "not met"
    loose = sm.secondary_measures(la.assign(la_pa_pct=[22.4, 19.0]), b, in_line_tolerance_pp=0.5)
    assert loose.set_index("academic_year").loc["2022/23", "status"] == "met"
    early = sm.secondary_measures(la, b, england_target_year="2023/24").set_index("academic_year")
    assert early.loc["2023/24", "status"] == "met"  # 19.0 < 20.0


def test_incomplete_target_year_is_pending():
    la = pd.DataFrame(
        {
            "academic_year": ["2022/23"],
            "complete": [False],
            "enrolments": [10],
            "pa_enrolments": [1],
            "zero_possible_enrolments": [0],
            "la_pa_pct": [10.0],
        }
    )
    b, _, _ = sm.benchmark_pa(_bench())
    out = sm.secondary_measures(la, b).set_index("academic_year")
    assert out.loc["2022/23", "status"] == "pending"
    assert "not complete" in out.loc["2022/23", "note"]
