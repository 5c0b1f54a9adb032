"""The attendance team's interventions and their (known) effect.

Modelled on Bradford's Persistent Absence Team: one officer per locality assesses about 40
children a half term (scaled to the LA's size), chosen from pupils who were persistently
absent (absence >= 10% of possible sessions) in the 12 weeks before the assessment and have no
open episode with another service (source ``data``), plus some referred from multi-agency
panels (source ``panel``; these may have services). Each pupil is assessed at most once, so
the baseline used to pick a pupil is never touched by an earlier intervention.

The effect is applied to counterfactual marks drawn first: in the review window (start date to
start + 83 days, inclusive) each absence session of a treated pupil is turned into a present
session with probability ``q``, chosen so that the expected gain over the interventions is
``true_effect_pp`` percentage points of attendance. For the 12 weeks after the window the
probability decays with a six-week half-life, then stops. The realised effect on the treated
(mean over interventions of treated minus counterfactual attendance %, over possible
sessions in the review window) is measured from the two grids and recorded in
``synth_truth.json``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .grid import Grid, code, expand_ranges, is_absence, is_possible
from .marks import Context
from .schools import OFFICERS
from .services import OpenServices

PANELS = ("MARAC", "Breaking the Cycle", "Anti-Social Behaviour Panel")
PER_OFFICER_PER_HALF_TERM = 40  # at the default 25,000 pupils (Bradford: "at least 40")
MIN_PER_OFFICER_PER_HALF_TERM = 5
DEFAULT_PUPILS = 25_000
PANEL_SHARE = 0.12
WINDOW_DAYS = 84  # the baseline and review windows: 12 weeks
MIN_BASELINE_SESSIONS = 20
ASSESSMENT_DAYS = 20  # assessments start in the first four weeks of a half term
PA_THRESHOLD = 0.10
DECAY_HALF_LIFE_DAYS = 42
DECAY_DAYS = 84


def per_officer(n_pupils: int) -> int:
    """Assessments per officer per half term for an LA of ``n_pupils``."""
    return max(
        MIN_PER_OFFICER_PER_HALF_TERM,
        int(round(PER_OFFICER_PER_HALF_TERM * n_pupils / DEFAULT_PUPILS)),
    )


def _cumulative(grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    possible, absent, _ = grid.session_counts()
    zeros = np.zeros((possible.shape[0], 1), dtype=np.int32)
    return (
        np.hstack([zeros, np.cumsum(possible, axis=1, dtype=np.int32)]),
        np.hstack([zeros, np.cumsum(absent, axis=1, dtype=np.int32)]),
    )


def select_interventions(
    rng: np.random.Generator,
    grid: Grid,
    ctx: Context,
    services: pd.DataFrame,
    n_pupils: int,
) -> pd.DataFrame:
    """Pick the assessed pupils, half term by half term (see the module docstring).

    Returns pid, officer, start (school-day index), start_date, source, panel.
    """
    dates = pd.DatetimeIndex(ctx.dates)
    d = ctx.days.days
    cum_pos, cum_abs = _cumulative(grid)
    n_p = grid.school.shape[0]
    loc_of_school = ctx.schools["locality"].to_numpy()
    g_year = ctx.per_pupil_year("g")
    treated = np.zeros(n_p, dtype=bool)
    open_services = OpenServices(services, n_p)
    k = per_officer(n_pupils)
    rows = []
    idx = pd.Series(np.arange(len(d)), index=d.index)
    bounds = idx.groupby([d["ay"], d["half_term"]]).agg(["min", "max"])
    for (ay, _ht), (first, ht_last) in bounds.iterrows():
        if first == 0:
            continue  # no baseline before the first half term of the data
        last_start = min(first + ASSESSMENT_DAYS - 1, ht_last)
        for locality, officer in OFFICERS.items():
            starts = np.sort(rng.integers(first, last_start + 1, size=k))
            sources = np.where(rng.random(k) < PANEL_SHARE, "panel", "data")
            for s, source in zip(starts, sources, strict=True):
                when = dates[s]
                lo = int(dates.searchsorted(when - pd.Timedelta(days=WINDOW_DAYS)))
                pos = cum_pos[:, s] - cum_pos[:, lo]
                rate = (cum_abs[:, s] - cum_abs[:, lo]) / np.maximum(pos, 1)
                sch = grid.school[:, s]
                ok = (sch >= 0) & ~treated & (pos >= MIN_BASELINE_SESSIONS)
                ok &= (g_year[:, ay] >= 1) & (g_year[:, ay] <= 11)
                ok &= loc_of_school[np.maximum(sch, 0)] == locality
                service = open_services.at(when)
                if source == "data":
                    ok &= (rate >= PA_THRESHOLD) & ~service
                    w = rate
                else:
                    ok &= rate >= PA_THRESHOLD / 2
                    w = rate * (1 + 3 * service)
                cand = np.flatnonzero(ok)
                if len(cand) == 0:
                    continue
                pid = rng.choice(cand, p=w[cand] / w[cand].sum())
                treated[pid] = True
                rows.append(
                    (
                        pid,
                        officer,
                        s,
                        when,
                        source,
                        PANELS[rng.integers(len(PANELS))] if source == "panel" else None,
                    )
                )
    out = pd.DataFrame(rows, columns=["pid", "officer", "start", "start_date", "source", "panel"])
    return out.sort_values(["start", "officer", "pid"], kind="stable").reset_index(drop=True)


def apply_effect(
    rng: np.random.Generator,
    cf: Grid,
    chosen: pd.DataFrame,
    ctx: Context,
    true_effect_pp: float,
) -> tuple[Grid, dict]:
    """Return the treated grid and the truth about the effect (see the module docstring)."""
    treated = cf.copy()
    dates = pd.DatetimeIndex(ctx.dates)
    start = chosen["start_date"]
    win_last = dates.searchsorted(start + pd.Timedelta(days=WINDOW_DAYS - 1), side="right") - 1
    owner, day = expand_ranges(chosen["start"].to_numpy(), win_last)
    p = chosen["pid"].to_numpy()[owner]
    possible = np.zeros(len(chosen))
    absent = np.zeros(len(chosen))
    for arr in (cf.am, cf.pm):
        v = arr[p, day]
        possible += np.bincount(owner, weights=is_possible(v), minlength=len(chosen))
        absent += np.bincount(owner, weights=is_absence(v), minlength=len(chosen))
    has = possible > 0
    mean_abs = float((absent[has] / possible[has]).mean()) if has.any() else 0.0
    q = 0.0 if mean_abs == 0 else true_effect_pp / 100 / mean_abs
    q_used = min(q, 1.0)
    # the review window, then a decaying effect
    d_last = (
        dates.searchsorted(start + pd.Timedelta(days=WINDOW_DAYS + DECAY_DAYS - 1), side="right")
        - 1
    )
    owner2, day2 = expand_ranges(chosen["start"].to_numpy(), d_last)
    p2 = chosen["pid"].to_numpy()[owner2]
    since = (dates[day2] - start.to_numpy()[owner2]).days.to_numpy()
    prob = np.where(
        since < WINDOW_DAYS, q_used, q_used * 0.5 ** ((since - WINDOW_DAYS) / DECAY_HALF_LIFE_DAYS)
    )
    for arr, present in ((treated.am, "/"), (treated.pm, "\\")):
        v = arr[p2, day2]
        flip = is_absence(v) & (rng.random(len(v)) < prob)
        arr[p2[flip], day2[flip]] = code(present)
    gained = np.zeros(len(chosen))
    for a_cf, a_tr in ((cf.am, treated.am), (cf.pm, treated.pm)):
        gained += np.bincount(
            owner,
            weights=is_absence(a_cf[p, day]) & ~is_absence(a_tr[p, day]),
            minlength=len(chosen),
        )
    effect = 100 * gained[has] / possible[has]
    truth = {
        "true_effect_pp": float(true_effect_pp),
        "realised_effect_pp": round(float(effect.mean()), 4) if has.any() else None,
        "interventions_measured": int(has.sum()),
        "counterfactual_absence_pct_in_window": round(100 * float(mean_abs), 4),
        "conversion_probability": round(q_used, 6),
        "effect_capped": bool(q > 1.0),
        "review_window": "start_date to start_date + 83 days inclusive",
        "effect_model": (
            "each absence session of a treated pupil in the review window is turned into a "
            "present session with probability conversion_probability; for 84 days after the "
            "window the probability halves every 42 days; no effect after that"
        ),
    }
    return treated, truth


def intervention_table(
    chosen: pd.DataFrame, upns: np.ndarray, last_date: pd.Timestamp
) -> pd.DataFrame:
    """interventions.csv rows."""
    review = chosen["start_date"] + pd.Timedelta(days=WINDOW_DAYS)
    return pd.DataFrame(
        {
            "intervention_id": [f"PAT{i + 1:05d}" for i in range(len(chosen))],
            "upn": upns[chosen["pid"].to_numpy()],
            "officer": chosen["officer"],
            "start_date": chosen["start_date"],
            "source": chosen["source"],
            "panel": chosen["panel"],
            "review_date": review,
            "status": np.where(review <= last_date, "reviewed", "open"),
        }
    )
