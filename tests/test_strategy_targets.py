"""Targets, team activity and the generated narrative, on hand-made inputs."""

from __future__ import annotations

import pandas as pd
import pytest
from builders import CALENDAR_2023_24

from attendance_lib.analyses.strategy import narrative, targets, team_activity
from attendance_lib.core.academic_calendar import Calendar
from attendance_lib.core.errors import UsageError


def _calendar() -> Calendar:
    frame = pd.DataFrame(CALENDAR_2023_24)
    for c in ("start_date", "end_date"):
        frame[c] = pd.to_datetime(frame[c])
    return Calendar(frame)


class TestTargets:
    def test_load(self, tmp_path):
        path = tmp_path / "t.yaml"
        path.write_text(
            "targets:\n"
            "  - {measure: attendance, group: all, target_pct: 94.5, target_year: 2027/28}\n"
            "  - {measure: persistent_absence, group: fsm, target_pct: 25, target_year: 2027/28}\n"
        )
        t = targets.load_targets(path)
        assert t.to_dict("list") == {
            "measure": ["attendance", "persistent_absence"],
            "group": ["all", "fsm"],
            "target_pct": [94.5, 25.0],
            "target_year": ["2027/28", "2027/28"],
        }

    @pytest.mark.parametrize(
        "item",
        [
            "{measure: attendence, target_pct: 94.5, target_year: 2027/28}",
            "{measure: attendance, group: boys, target_pct: 94.5, target_year: 2027/28}",
            "{measure: attendance, target_pct: 194.5, target_year: 2027/28}",
            "{measure: attendance, target_pct: 94.5, target_year: 2027}",
        ],
    )
    def test_bad_target(self, tmp_path, item):
        path = tmp_path / "t.yaml"
        path.write_text(f"targets:\n  - {item}\n")
        with pytest.raises(UsageError, match="target 1"):
            targets.load_targets(path)

    def test_progress_and_trajectory(self):
        wanted = pd.DataFrame(
            {
                "measure": ["attendance", "persistent_absence"],
                "group": ["all", "all"],
                "target_pct": [94.5, 15.0],
                "target_year": ["2027/28", "2027/28"],
            }
        )
        history = pd.DataFrame(
            {
                "academic_year": ["2022/23", "2023/24", "2024/25"] * 2,
                "measure": ["attendance"] * 3 + ["persistent_absence"] * 3,
                "group": "all",
                "value_pct": [92.0, 92.5, 93.2, 20.0, 19.0, 18.5],
                "enrolments": 100,
            }
        )
        p = targets.progress(wanted, history, "2024/25").set_index("measure")
        # baseline 2022/23; five years to 2027/28; two years on: 2/5 of the way
        assert p.loc["attendance", "trajectory_pct"] == pytest.approx(93.0)
        assert p.loc["attendance", "gap_pp"] == pytest.approx(93.2 - 94.5)
        assert p.loc["attendance", "on_trajectory"] and not p.loc["attendance", "met"]
        assert p.loc["persistent_absence", "trajectory_pct"] == pytest.approx(18.0)
        assert not p.loc["persistent_absence", "on_trajectory"]  # 18.5 > 18: behind
        line = targets.trajectory(p.reset_index().iloc[1])
        assert line["academic_year"].tolist()[-1] == "2027/28"
        assert line["trajectory_pct"].tolist() == pytest.approx([20, 19, 18, 17, 16, 15])


class TestTeamActivity:
    interventions = pd.DataFrame(
        {
            "intervention_id": ["1", "2", "3", "4"],
            "upn": ["a", "b", "c", "d"],
            "officer": ["Ann", "Ann", "Ann", "Bob"],
            "start_date": pd.to_datetime(
                ["2023-09-05", "2023-10-20", "2023-11-01", "2023-10-25"]  # the last: half term
            ),
            "review_date": pd.to_datetime([None, "2023-10-27", None, None]),
        }
    )

    def test_started(self):
        out = team_activity.started_by_half_term(
            self.interventions, _calendar(), "2023/24", 2, officers=["Cat"]
        )
        got = out.set_index(["officer", "half_term"])["started"].to_dict()
        assert got == {("Ann", 1): 2, ("Ann", 2): 1, ("Cat", 1): 0, ("Cat", 2): 0}
        assert not out["met"].any() and (out["expected"] == 40).all()

    def test_open_cohorts(self):
        out = team_activity.open_cohorts(self.interventions, _calendar(), "2023/24", "2023-11-10")
        rows = out.set_index(["officer", "half_term"])
        # Ann HT1: started 5 Sep (review 28 Nov: open) and 20 Oct (review 27 Oct: due)
        assert rows.loc[("Ann", 1), "open"] == 1 and rows.loc[("Ann", 1), "reviews_due"] == 1
        assert rows.loc[("Ann", 1), "next_review"] == pd.Timestamp("2023-11-28")
        assert rows.loc[("Ann", 2), "open"] == 1
        outside = team_activity.outside_half_terms(
            self.interventions, _calendar(), "2023-09-01", "2023-12-31"
        )
        assert outside == 1  # Bob's, in the half-term holiday


class TestNarrative:
    def test_change_words(self):
        assert narrative.change_words(6.25, 5.7) == "up 0.6 percentage points from 5.7%"
        assert narrative.change_words(5.72, 5.7) == "unchanged from 5.7%"
        assert narrative.change_words(5.0, 5.5) == "down 0.5 percentage points from 5.5%"

    def test_sentences_restate_figures(self):
        headline = pd.DataFrame(
            {
                "measure": ["overall_absence", "persistent_absence", "severe_absence"],
                "value_pct": [6.25, 16.0, 1.0],
                "previous_year_pct": [7.0, 16.04, float("nan")],
            }
        )
        text = narrative.headline_sentences(headline, "Testshire", "2023/24, full year")
        assert text[0] == (
            "In 2023/24, full year, overall absence in Testshire was 6.3%, down 0.8 percentage "
            "points from 7.0% a year earlier at the same point."
        )
        assert "unchanged from 16.0%" in text[1]
        assert text[2].endswith("was 1.0% (no figure for the same point a year earlier).")
