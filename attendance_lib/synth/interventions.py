"""The attendance team's interventions and their (known) effect.

Modelled on Bradford's Persistent Absence Team: one officer per locality assesses about 40
children a half term (scaled to the LA's size), chosen by one of two mechanisms
(``selection``):

- ``observed`` (the default): from pupils who were persistently absent (absence >= 10% of
  possible sessions) over the baseline (the 60 school days before the assessment) and have no
  open episode with another service (source ``data``), each with weight proportional to their
  baseline absence rate;
- ``propensity``: officers know the children and choose on their *underlying* propensity to be
  absent (the absence model's pupil, characteristics, year group and school terms, without the
  weekly spells), weight proportional to that expected absence rate (as ``observed`` weights
  the baseline rate); the
  12-week baseline measures that propensity with noise, so the chosen children's baselines are
  not extreme for them and a comparison matched on the baseline alone regresses further;

plus some referred from multi-agency panels (source ``panel``; these may have services). Each
pupil is assessed at most once, so the baseline used to pick a pupil is never touched by an
earlier intervention. A school day is a weekday inside a half term of ``calendar.csv``, as in
the impact report.

The effect is applied to counterfactual marks drawn first: in the review window (the 60 school
days from the start date, the start included) each absence session of a treated pupil, other
than Year 11 study leave (the sixth half term, which never counts), is turned into a present
session with probability ``q``, chosen so that the expected gain over the interventions is
``true_effect_pp`` percentage points of attendance. For the 60 school days after the window the
probability decays with a 30-school-day half-life, then stops. The realised effect on each
treated pupil (treated minus counterfactual attendance %, over the sessions of the review
window that count) is measured from the two grids: its mean is recorded in
``synth_truth.json`` and each intervention's in :attr:`SynthResult.effects`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .calendar import calendar_table
from .grid import Grid, code, expand_ranges, is_absence, is_possible
from .marks import (
    FSM_EFFECT,
    INTERCEPT,
    PHASE_EFFECT,
    SEN_E_EFFECT,
    SEN_K_EFFECT,
    YEAR_GROUP_EFFECT,
    Context,
)
from .schools import OFFICERS
from .services import OpenServices

PANELS = ("MARAC", "Breaking the Cycle", "Anti-Social Behaviour Panel")
PER_OFFICER_PER_HALF_TERM = 40  # at the default 25,000 pupils (Bradford: "at least 40")
MIN_PER_OFFICER_PER_HALF_TERM = 5
DEFAULT_PUPILS = 25_000
PANEL_SHARE = 0.12
WINDOW_SCHOOL_DAYS = 60  # the baseline and review windows: 12 school weeks
SELECTIONS = ("observed", "propensity")
MIN_BASELINE_SESSIONS = 20
ASSESSMENT_DAYS = 20  # assessments start in the first four weeks of a half term
PA_THRESHOLD = 0.10
DECAY_HALF_LIFE_DAYS = 30  # school days
DECAY_DAYS = 60  # school days


def per_officer(n_pupils: int) -> int:
    """Assessments per officer per half term for an LA of ``n_pupils``."""
    return max(
        MIN_PER_OFFICER_PER_HALF_TERM,
        int(round(PER_OFFICER_PER_HALF_TERM * n_pupils / DEFAULT_PUPILS)),
    )


def _cumulative(grid: Grid, leave: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative possible and absent sessions per pupil and day, study leave left out."""
    possible, absent, _ = grid.session_counts()
    possible[leave] = 0
    absent[leave] = 0
    zeros = np.zeros((possible.shape[0], 1), dtype=np.int32)
    return (
        np.hstack([zeros, np.cumsum(possible, axis=1, dtype=np.int32)]),
        np.hstack([zeros, np.cumsum(absent, axis=1, dtype=np.int32)]),
    )


def calendar_school_days(ctx: Context) -> np.ndarray:
    """Weekdays inside a half term of the LA's calendar.csv (bank holidays included), sorted."""
    cal = calendar_table(ctx.years)
    days = [pd.bdate_range(r.start_date, r.end_date) for r in cal.itertuples()]
    return np.unique(np.concatenate([d.to_numpy() for d in days])).astype("datetime64[ns]")


def school_day_windows(ctx: Context, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Grid index of the first baseline day and of the last review day for grid start days.

    The baseline is the 60 school days (weekdays in a half term) before the start, the review
    the 60 from it, as :mod:`attendance_lib.analyses.impact.windows` defines them.
    """
    dates = ctx.dates.astype("datetime64[ns]")
    cal = calendar_school_days(ctx)
    i = np.searchsorted(cal, dates[starts])
    base_first = cal[np.maximum(i - WINDOW_SCHOOL_DAYS, 0)]
    review_last = cal[np.minimum(i + WINDOW_SCHOOL_DAYS - 1, len(cal) - 1)]
    lo = np.searchsorted(dates, base_first, side="left")
    hi = np.searchsorted(dates, review_last, side="right") - 1
    return lo, hi


def study_leave_days(ctx: Context) -> np.ndarray:
    """Boolean (pupil, day): the day is in the sixth half term of the pupil's Year 11."""
    d = ctx.days.days
    g_year = ctx.per_pupil_year("g")
    ht6 = d["half_term"].to_numpy() == 6
    ay = d["ay"].to_numpy()
    return (g_year[:, ay] == 11) & ht6[None, :]


def underlying_logit(ctx: Context, ay: int) -> np.ndarray:
    """Each pupil's absence logit in year ``ay`` from the absence model's pupil,
    characteristics and year-group terms (no school, day or weekly spell terms)."""
    g = ctx.per_pupil_year("g")[:, ay]
    fsm = ctx.per_pupil_year("fsm")[:, ay]
    sen = ctx.per_pupil_year("sen")[:, ay]
    yg = np.array([YEAR_GROUP_EFFECT.get(v, 0.0) for v in range(-2, 30)])[np.clip(g + 2, 0, 31)]
    return (
        INTERCEPT
        + ctx.pop.master["u"].to_numpy()
        + FSM_EFFECT * (fsm == 1)
        + SEN_K_EFFECT * (sen == 1)
        + SEN_E_EFFECT * (sen == 2)
        + yg
    )


def school_effects(ctx: Context) -> np.ndarray:
    """Each school's absence logit shift (school and phase terms of the absence model)."""
    return ctx.schools["_effect"].to_numpy() + ctx.schools["phase"].map(PHASE_EFFECT).to_numpy()


def select_interventions(
    rng: np.random.Generator,
    grid: Grid,
    ctx: Context,
    services: pd.DataFrame,
    n_pupils: int,
    selection: str = "observed",
) -> pd.DataFrame:
    """Pick the assessed pupils, half term by half term (see the module docstring).

    Returns pid, officer, start (school-day index), start_date, source, panel.
    """
    if selection not in SELECTIONS:
        raise ValueError(f"selection must be one of {', '.join(SELECTIONS)}, got {selection!r}")
    dates = pd.DatetimeIndex(ctx.dates)
    d = ctx.days.days
    cum_pos, cum_abs = _cumulative(grid, study_leave_days(ctx))
    n_p = grid.school.shape[0]
    loc_of_school = ctx.schools["locality"].to_numpy()
    g_year = ctx.per_pupil_year("g")
    treated = np.zeros(n_p, dtype=bool)
    open_services = OpenServices(services, n_p)
    k = per_officer(n_pupils)
    rows = []
    idx = pd.Series(np.arange(len(d)), index=d.index)
    base_lo = school_day_windows(ctx, np.arange(len(d)))[0]
    latent: dict[int, np.ndarray] = {}
    sch_effect = school_effects(ctx)
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
                lo = int(base_lo[s])
                pos = cum_pos[:, s] - cum_pos[:, lo]
                rate = (cum_abs[:, s] - cum_abs[:, lo]) / np.maximum(pos, 1)
                sch = grid.school[:, s]
                ok = (sch >= 0) & ~treated & (pos >= MIN_BASELINE_SESSIONS)
                ok &= (g_year[:, ay] >= 1) & (g_year[:, ay] <= 11)
                ok &= loc_of_school[np.maximum(sch, 0)] == locality
                service = open_services.at(when)
                if selection == "propensity":
                    if ay not in latent:
                        latent[ay] = underlying_logit(ctx, ay)
                    logit = latent[ay] + sch_effect[np.maximum(sch, 0)]
                    w = 1 / (1 + np.exp(-logit))
                    ok &= ~service if source == "data" else True
                    if source == "panel":
                        w = w * (1 + 3 * service)
                elif source == "data":
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
) -> tuple[Grid, dict, pd.DataFrame]:
    """Return the treated grid, the truth about the effect (see the module docstring) and each
    intervention's realised effect (pid, start, review_possible, sessions_gained, effect_pp;
    ``effect_pp`` NaN where the window has no session that counts)."""
    treated = cf.copy()
    starts = chosen["start"].to_numpy()
    _, win_last = school_day_windows(ctx, starts)
    leave = study_leave_days(ctx)
    owner, day = expand_ranges(starts, win_last)
    p = chosen["pid"].to_numpy()[owner]
    counts = ~leave[p, day]
    possible = np.zeros(len(chosen))
    absent = np.zeros(len(chosen))
    for arr in (cf.am, cf.pm):
        v = arr[p, day]
        possible += np.bincount(owner, weights=is_possible(v) & counts, minlength=len(chosen))
        absent += np.bincount(owner, weights=is_absence(v) & counts, minlength=len(chosen))
    has = possible > 0
    mean_abs = float((absent[has] / possible[has]).mean()) if has.any() else 0.0
    q = 0.0 if mean_abs == 0 else true_effect_pp / 100 / mean_abs
    q_used = min(q, 1.0)
    # the review window, then a decaying effect over the next DECAY_DAYS school days
    d_last = np.minimum(win_last + DECAY_DAYS, ctx.days.n - 1)
    owner2, day2 = expand_ranges(starts, d_last)
    p2 = chosen["pid"].to_numpy()[owner2]
    after = day2 - win_last[owner2]
    prob = np.where(after <= 0, q_used, q_used * 0.5 ** (after / DECAY_HALF_LIFE_DAYS))
    prob = np.where(leave[p2, day2], 0.0, prob)
    for arr, present in ((treated.am, "/"), (treated.pm, "\\")):
        v = arr[p2, day2]
        flip = is_absence(v) & (rng.random(len(v)) < prob)
        arr[p2[flip], day2[flip]] = code(present)
    gained = np.zeros(len(chosen))
    for a_cf, a_tr in ((cf.am, treated.am), (cf.pm, treated.pm)):
        gained += np.bincount(
            owner,
            weights=is_absence(a_cf[p, day]) & ~is_absence(a_tr[p, day]) & counts,
            minlength=len(chosen),
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        per = np.where(has, 100 * gained / np.maximum(possible, 1), np.nan)
    effects = pd.DataFrame(
        {
            "pid": chosen["pid"].to_numpy(),
            "start_date": chosen["start_date"].to_numpy(),
            "review_possible": possible.astype(np.int64),
            "sessions_gained": gained.astype(np.int64),
            "effect_pp": per,
        }
    )
    truth = {
        "true_effect_pp": float(true_effect_pp),
        "realised_effect_pp": round(float(np.nanmean(per)), 4) if has.any() else None,
        "interventions_measured": int(has.sum()),
        "counterfactual_absence_pct_in_window": round(100 * float(mean_abs), 4),
        "conversion_probability": round(q_used, 6),
        "effect_capped": bool(q > 1.0),
        "review_window": (
            "the 60 school days (weekdays inside a half term) from start_date, start included; "
            "Year 11's sixth half term (study leave) never counts"
        ),
        "effect_model": (
            "each absence session of a treated pupil in the review window, other than Year 11 "
            "study leave, is turned into a present session with probability "
            "conversion_probability; for 60 school days after the window the probability halves "
            "every 30 school days; no effect after that"
        ),
    }
    return treated, truth, effects


def intervention_table(
    chosen: pd.DataFrame, upns: np.ndarray, last_date: pd.Timestamp, ctx: Context
) -> pd.DataFrame:
    """interventions.csv rows (review date: the last day of the 60-school-day review window)."""
    cal = calendar_school_days(ctx)
    i = np.searchsorted(cal, chosen["start_date"].to_numpy().astype("datetime64[ns]"))
    beyond = i + WINDOW_SCHOOL_DAYS - 1 >= len(cal)
    review = pd.Series(cal[np.minimum(i + WINDOW_SCHOOL_DAYS - 1, len(cal) - 1)])
    review[beyond] = pd.NaT
    review = pd.to_datetime(review).fillna(
        chosen["start_date"].reset_index(drop=True) + pd.Timedelta(days=84)
    )
    return pd.DataFrame(
        {
            "intervention_id": [f"PAT{i + 1:05d}" for i in range(len(chosen))],
            "upn": upns[chosen["pid"].to_numpy()],
            "officer": chosen["officer"].to_numpy(),
            "start_date": chosen["start_date"].to_numpy(),
            "source": chosen["source"].to_numpy(),
            "panel": chosen["panel"].to_numpy(),
            "review_date": review.to_numpy(),
            "status": np.where(review.to_numpy() <= np.datetime64(last_date), "reviewed", "open"),
        }
    )
