"""Key stage 2 (Year 6) and key stage 4 (Year 11) results.

Results depend on prior attainment (the pupil's ``ability``), disadvantage and attendance in
the autumn and spring terms of the exam year, so that the KS2-by-attendance-band table has the
shape of Central Bedfordshire's 2022 table (RWM expected 68% at 100% attendance, 58% at
95-100%, 52%, 46%, and 25% below 85%). About 1% of results belong to pupils with no marks
in the LA that year (UPNs issued by neighbouring LAs): the reports' "Unmatched" row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .calendar import SchoolDays
from .grid import Grid
from .population import Population, make_upns

ATTENDANCE_SLOPE = 0.025  # standardised attainment per percentage point of attendance
UNMATCHED_SHARE = 0.01
NEIGHBOUR_LA = 381  # Calderdale: UPNs of pupils who sat their tests outside our registers


def autumn_spring_attendance(grid: Grid, days: SchoolDays, ay: int) -> np.ndarray:
    """Attendance % per pupil over the autumn and spring terms of year ``ay`` (NaN if none)."""
    dd = days.days
    cols = np.flatnonzero((dd["ay"].to_numpy() == ay) & (dd["half_term"].to_numpy() <= 4))
    sub = Grid(school=grid.school[:, cols], am=grid.am[:, cols], pm=grid.pm[:, cols])
    possible, _, attended = sub.session_counts()
    pos = possible.sum(axis=1, dtype=np.int32)
    att = attended.sum(axis=1, dtype=np.int32)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pos > 0, 100 * att / np.maximum(pos, 1), np.nan)


def _cohort(pop: Population, ay: int, g: int, attendance: np.ndarray) -> pd.DataFrame:
    r = pop.roll
    c = r[(r["ay"] == ay) & (r["g"] == g)]
    pid = c["pid"].to_numpy()
    att = attendance[pid]
    keep = ~np.isnan(att)
    return pd.DataFrame(
        {
            "pid": pid[keep],
            "fsm6": c["fsm6"].to_numpy()[keep],
            "ability": pop.master["ability"].to_numpy()[pid[keep]],
            "att": att[keep],
        }
    )


def _unmatched(
    rng: np.random.Generator, n: int, ay_start: int, g: int, serial0: int
) -> pd.DataFrame:
    k = max(1, int(round(UNMATCHED_SHARE * n)))
    upn = make_upns(
        NEIGHBOUR_LA,
        rng.integers(2000, 2999, size=k),
        np.full(k, (ay_start - g) % 100),
        serial0 + np.arange(k),
    )
    return pd.DataFrame(
        {"upn": upn, "fsm6": rng.random(k) < 0.3, "ability": rng.normal(-0.3, 1.1, k), "att": 93.0}
    )


def build_ks2(
    rng: np.random.Generator, pop: Population, grid: Grid, days: SchoolDays, years: tuple[str, ...]
) -> pd.DataFrame:
    """ks2.csv: one row per Year 6 pupil per year."""
    frames = []
    for ay, name in enumerate(years):
        c = _cohort(pop, ay, 6, autumn_spring_attendance(grid, days, ay))
        c["upn"] = pop.master["upn"].to_numpy()[c["pid"].to_numpy()]
        c = pd.concat([c, _unmatched(rng, len(c), int(name[:4]), 6, 100 * ay)], ignore_index=True)
        n = len(c)
        base = (
            c["ability"].to_numpy()
            - 0.25 * c["fsm6"].to_numpy()
            + ATTENDANCE_SLOPE * (np.minimum(c["att"].to_numpy(), 100) - 95)
        )
        read = base + rng.normal(0, 0.6, n)
        writ = base + rng.normal(0, 0.6, n)
        mat = base + rng.normal(0, 0.6, n)
        cut = -1.1  # about 60% reach the expected standard in all three (England 2023: 60%)
        read_exp, writ_exp, mat_exp = read > cut - 0.25, writ > cut - 0.1, mat > cut - 0.2
        frames.append(
            pd.DataFrame(
                {
                    "upn": c["upn"],
                    "academic_year": name,
                    "rwm_expected": read_exp & writ_exp & mat_exp,
                    "read_expected": read_exp,
                    "writ_expected": writ_exp,
                    "mat_expected": mat_exp,
                    "rwm_higher": (read > 1.3) & (writ > 1.4) & (mat > 1.3),
                    "read_scaled": np.clip(np.round(105 + 6 * read), 80, 120).astype(int),
                    "mat_scaled": np.clip(np.round(104 + 6.5 * mat), 80, 120).astype(int),
                    "ks1_prior": np.clip(
                        np.round(15.5 + 3.2 * c["ability"] + rng.normal(0, 1.2, n), 1), 3.0, 21.0
                    ),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def build_ks4(
    rng: np.random.Generator, pop: Population, grid: Grid, days: SchoolDays, years: tuple[str, ...]
) -> pd.DataFrame:
    """ks4.csv: one row per Year 11 pupil per year."""
    frames = []
    for ay, name in enumerate(years):
        c = _cohort(pop, ay, 11, autumn_spring_attendance(grid, days, ay))
        c["upn"] = pop.master["upn"].to_numpy()[c["pid"].to_numpy()]
        c = pd.concat(
            [c, _unmatched(rng, len(c), int(name[:4]), 11, 500 + 100 * ay)], ignore_index=True
        )
        n = len(c)
        score = (
            c["ability"].to_numpy()
            - 0.3 * c["fsm6"].to_numpy()
            + 0.04 * (np.minimum(c["att"].to_numpy(), 100) - 93)
            + rng.normal(0, 0.45, n)
        )
        a8 = np.clip(np.round(46 + 15 * score, 1), 0, 90)
        eng_maths = score + rng.normal(0, 0.35, n)
        frames.append(
            pd.DataFrame(
                {
                    "upn": c["upn"],
                    "academic_year": name,
                    "attainment8": a8,
                    "em_4plus": eng_maths > -0.45,
                    "em_5plus": eng_maths > 0.1,
                    "ks2_prior": np.clip(
                        np.round(104 + 5 * c["ability"] + rng.normal(0, 1.5, n), 1), 80.0, 120.0
                    ),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
