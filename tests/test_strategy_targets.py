"""Targets, team activity and the generated narrative, on hand-made inputs."""

from __future__ import annotations

import pandas as pd
import pytest
from builders import CALENDAR_2023_24, make_upn, sessions, write_folder

from attendance_lib.analyses.strategy import narrative, targets, team_activity
from attendance_lib.contract.dataset import load_dataset
from attendance_lib.core.academic_calendar import Calendar
from attendance_lib.core.errors import UsageError
from attendance_lib.engine.sessions import code_counts


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


def _history(values: dict[str, float], measure: str = "persistent_absence") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "academic_year": list(values),
            "measure": measure,
            "group": "all",
            "value_pct": list(values.values()),
            "enrolments": 100,
        }
    )


class TestTargetBasis:
    """A full-year target judged only on full-year figures; part-year figures on their own basis.

    Persistent absence, target 16.5% by 2027/28. Full year: 2022/23 17.0, 2023/24 16.2.
    To the end of spring: 2022/23 18.5, 2023/24 17.8, 2024/25 17.0.
    Baseline 2022/23; seasonal gap 18.5 - 17.0 = 1.5 points.
    Full-year trajectory: 17.0 - 0.5 * k / 5 after k years: 2023/24 16.9, 2024/25 16.8.
    Part-year trajectory 2024/25: 16.8 + 1.5 = 18.3; 17.0 is ahead of it.
    The latest full year (2023/24) 16.2 meets 16.5, although no part-year figure does.
    """

    wanted = pd.DataFrame(
        {
            "measure": ["persistent_absence"],
            "group": ["all"],
            "target_pct": [16.5],
            "target_year": ["2027/28"],
        }
    )
    full = _history({"2022/23": 17.0, "2023/24": 16.2})
    part = _history({"2022/23": 18.5, "2023/24": 17.8, "2024/25": 17.0})

    def test_part_year_report(self):
        p = targets.progress(self.wanted, self.part, "2024/25", full_year=self.full, part_year=True)
        row = p.iloc[0]
        assert row["basis"] == targets.PART_YEAR
        assert row["current_pct"] == 17.0 and row["same_point_last_year_pct"] == 17.8
        assert row["change_pp"] == pytest.approx(-0.8)
        assert row["baseline_year"] == "2022/23" and row["seasonal_gap_pp"] == pytest.approx(1.5)
        assert row["trajectory_pct"] == pytest.approx(18.3)
        assert row["trajectory_status"] == targets.AHEAD and row["on_trajectory"]
        # judged on the latest full year only
        assert row["full_year"] == "2023/24" and row["full_year_pct"] == 16.2
        assert row["full_year_trajectory_pct"] == pytest.approx(16.9)
        assert row["full_year_status"] == targets.AHEAD
        assert row["gap_pp"] == pytest.approx(16.2 - 16.5) and row["met"]
        line = targets.trajectory(row, part_year=True)
        assert line["trajectory_pct"].iloc[0] == pytest.approx(18.5)
        assert line["trajectory_pct"].iloc[-1] == pytest.approx(18.0)  # target + seasonal gap

    def test_part_year_never_meets_a_full_year_target(self):
        # no complete year yet: nothing to judge the target on, and no trajectory
        p = targets.progress(
            self.wanted, self.part, "2024/25", full_year=self.full.iloc[:0], part_year=True
        )
        row = p.iloc[0]
        assert not row["met"] and row["full_year"] == "" and row["trajectory_status"] == ""
        assert "no full-year figure yet" in targets.describe_progress(p)[0]
        with pytest.raises(ValueError):
            targets.progress(self.wanted, self.part, "2024/25", part_year=True)

    def test_full_year_report(self):
        p = targets.progress(self.wanted, self.full, "2023/24")
        row = p.iloc[0]
        assert row["basis"] == targets.FULL_YEAR and row["seasonal_gap_pp"] == 0
        assert row["trajectory_pct"] == pytest.approx(16.9)
        assert row["met"] and row["full_year"] == "2023/24"

    def test_standing_uses_the_published_figures(self):
        assert targets.standing(16.64, 16.6, "persistent_absence") == targets.LEVEL
        assert targets.standing(16.66, 16.6, "persistent_absence") == targets.BEHIND
        assert targets.standing(93.3, 93.2, "attendance") == targets.AHEAD
        assert targets.standing(float("nan"), 93.2, "attendance") == ""

    def test_sentence_agrees_with_the_table(self):
        p = targets.progress(self.wanted, self.part, "2024/25", full_year=self.full, part_year=True)
        (text,) = narrative.target_sentences(p, "2024/25 to the end of the spring term")
        assert text == (
            "Persistent absence, all pupils: 17.0% in 2024/25 to the end of the spring term "
            "(17.8% at the same point last year), ahead of the part-year trajectory (18.3%). "
            "The target of 16.5% by 2027/28 is for the full year, so it is judged on full-year "
            "figures only: in 2023/24, the latest full year, 16.2%, ahead of the trajectory "
            "(16.9%); the target is met."
        )


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
        # 17.75 shows as 17.8 and 16.74 as 16.7: the words say 1.1, as the reader subtracts
        assert narrative.change_words(16.74, 17.75) == "down 1.1 percentage points from 17.8%"
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
            # 6.3% and 7.0% as shown: down 0.7 (the unrounded change, 0.75, would say 0.8)
            "In 2023/24, full year, overall absence in Testshire was 6.3%, down 0.7 percentage "
            "points from 7.0% a year earlier at the same point."
        )
        assert "unchanged from 16.0%" in text[1]
        assert text[2].endswith("was 1.0% (no figure for the same point a year earlier).")


class TestComparatorsTargetsAndOpening:
    HEADLINE = pd.DataFrame(
        {
            "measure": ["overall_absence", "persistent_absence", "severe_absence"],
            "value_pct": [6.7, 16.74, 1.2],
            "previous_year_pct": [6.7, 17.75, 1.0],
            "england_pct": [float("nan")] * 3,
            "england_period": [""] * 3,
        }
    )

    def test_a_comparator_of_another_period_is_not_yet_published(self):
        text = narrative.comparator_sentences(self.HEADLINE, ["England"], "2024/25")
        assert text == ["England's figures are not yet published for this period (2024/25)."]
        same = self.HEADLINE.assign(england_pct=[6.0, 17.0, 1.0])
        text = narrative.comparator_sentences(same, ["England"])
        assert (
            text[0] == "Overall absence (6.7%) was above England (6.0%, the same period and basis)."
        )
        assert text[1].startswith("Persistent absence (16.7%) was below England")

    def test_opening_says_what_changed_means_and_next(self):
        schools = pd.DataFrame({"funnel_position": ["above the 99.8% limit", "within the limits"]})
        parts = narrative.opening(
            headline=self.HEADLINE, schools=schools, progress=None, la_name="Testshire",
            period="2024/25", next_period="the year to the end of the summer term",
        )  # fmt: skip
        assert list(parts) == ["What changed", "What it means", "What happens next"]
        assert parts["What changed"][1] == (
            "Persistent absence: from 17.8% to 16.7% (down 1.1 points) against the same point "
            "a year earlier."
        )
        assert "no change" in parts["What changed"][0]
        assert parts["What it means"][0] == (
            "Compared with a year earlier in Testshire, persistent absence fell, severe absence "
            "rose and overall absence was unchanged."
        )
        assert parts["What it means"][1].startswith("1 of 2 schools")
        assert parts["What happens next"][-1] == (
            "The next report covers the year to the end of the summer term."
        )


class TestWorkload:
    def test_only_rows_off_the_expectation(self):
        from attendance_lib.analyses.shared.workload import expectation_summary, off_expectation

        t = pd.DataFrame({"officer": list("AABB"), "started": [40, 39, 41, 40], "expected": 40})
        assert off_expectation(t, count="started")["started"].tolist() == [39, 41]
        assert off_expectation(t, count="started", below_only=True)["officer"].tolist() == ["A"]
        assert expectation_summary(t, count="started") == (
            "Of 4 officer half terms, 2 met the expectation of 40 exactly, 1 fell short of it "
            "and 1 exceeded it."
        )
        with pytest.raises(KeyError, match="assessments"):
            off_expectation(t, count="assessments")


@pytest.fixture(scope="module")
def track_folder(tmp_path_factory):
    """Two pupils in 2023/24, for :class:`TestTrack`."""
    p1, p2 = make_upn(1), make_upn(2)
    marks = [
        *sessions(p1, 100001, ["/"] * 8 + ["O"] * 2),
        *sessions(p1, 100001, ["/"] * 10, "2024-01-08"),
        *sessions(p2, 100001, ["/"] * 10),
        *sessions(p2, 100001, ["/"] * 10, "2024-01-08"),
    ]
    return write_folder(tmp_path_factory.mktemp("track"), marks=marks)


class TestTrack:
    """``track`` on a data folder with one year (2023/24): autumn 1 and spring 1 marks.

    P1: 10 sessions in autumn 1, 2 absent (20%); 10 in spring 1 (half term 3), 0 absent.
    P2: 10 in autumn 1, none absent; 10 in spring 1, none absent.
    To the end of spring: P1 2/20 = 10% (persistent), P2 0/20: PA 50%.
    """

    wanted = pd.DataFrame(
        {
            "measure": ["persistent_absence"],
            "group": ["all"],
            "target_pct": [40.0],
            "target_year": ["2027/28"],
        }
    )

    def _track(self, folder, term):
        ds = load_dataset(folder)
        return targets.track(ds, code_counts(ds), self.wanted, "2023/24", term, cohort="dfe")

    def test_part_year_has_no_full_year_to_judge_on(self, track_folder):
        tracked = self._track(track_folder, "spring")
        row = tracked.progress.iloc[0]
        assert tracked.part_year and tracked.full_year.empty
        assert row["current_pct"] == pytest.approx(50.0) and row["basis"] == targets.PART_YEAR
        assert row["full_year"] == "" and not row["met"]  # 50% is not judged against 40%

    def test_full_year_report_judges_its_own_year(self, track_folder):
        tracked = self._track(track_folder, "year")
        row = tracked.progress.iloc[0]
        assert not tracked.part_year and row["full_year"] == "2023/24"
        assert row["full_year_pct"] == pytest.approx(50.0) and not row["met"]
        assert row["gap_pp"] == pytest.approx(10.0)
