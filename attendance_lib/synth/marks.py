"""Session marks: the absence model.

Whether a pupil is absent on a school day is a Bernoulli draw on the logit scale::

    logit = intercept + u_pupil + characteristics(year) + year_group + school + day + z_pupil,week

* ``u_pupil``: a persistent propensity (normal, plus about 1% chronic cases far above it);
* characteristics: FSM, SEN support and EHC plan that year;
* ``day``: Friday and Monday effects, the last days before a break, a winter peak
  (December to February, mainly illness) and a small downward trend across years;
* ``z``: a weekly AR(1) spell component per pupil (rho = 0.8 a week), so absence comes in
  spells and pupils picked for high absence in one window partly improve without help
  (regression to the mean).

An absent day carries one reason for both sessions (illness most often, more in winter;
unauthorised ``O`` more common for high-absence pupils; ``N`` left unresolved at some schools).
Single-session marks (late ``L`` and ``U``, medical appointments ``M``) are added on top.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .calendar import SchoolDays
from .grid import Grid, code
from .population import Population

INTERCEPT = -4.05
RHO_WEEK = 0.8  # AR(1) coefficient of the weekly spell component
SD_SPELL = 0.75  # stationary standard deviation of the spell component
FSM_EFFECT, SEN_K_EFFECT, SEN_E_EFFECT = 0.62, 0.3, 0.55
#: Year group effects (N2 = -1, R = 0, 1..13): secondary above primary, rising to Year 11.
YEAR_GROUP_EFFECT = {
    -1: 0.3,
    0: 0.3,
    1: 0.25,
    2: 0.2,
    3: 0.15,
    4: 0.15,
    5: 0.15,
    6: 0.2,
    7: 0.12,
    8: 0.27,
    9: 0.4,
    10: 0.48,
    11: 0.5,
    12: 0.45,
    13: 0.55,
}
PHASE_EFFECT = {
    "primary": 0.0,
    "secondary": 0.0,
    "special": 0.3,
    "all_through": 0.0,
    "alternative_provision": 1.2,
}
YEAR_TREND = (0.0, -0.05, -0.09, -0.11, -0.12)


@dataclass(frozen=True)
class Context:
    """What the mark generators need to know about the LA."""

    days: SchoolDays
    schools: pd.DataFrame
    pop: Population
    years: tuple[str, ...]

    @property
    def dates(self) -> np.ndarray:
        return self.days.days["date"].to_numpy()

    def per_pupil_year(self, column: str, fill: int = -9) -> np.ndarray:
        """(pupil, year) array of a roll column."""
        r = self.pop.roll
        out = np.full((len(self.pop.master), len(self.years)), fill, dtype=np.int16)
        out[r["pid"].to_numpy(), r["ay"].to_numpy()] = r[column].to_numpy()
        return out


def day_effect(days: SchoolDays) -> np.ndarray:
    """Logit shift of each school day (weekday, end of half term, winter, year trend)."""
    d = days.days
    dow = np.array([0.05, -0.05, -0.05, 0.0, 0.22])[d["dow"].to_numpy()]
    to_break = d["to_break"].to_numpy()
    end = np.where(to_break == 0, 0.35, np.where(to_break <= 4, 0.12, 0.0))
    start = np.where(d["from_break"].to_numpy() == 0, 0.1, 0.0)
    month = d["month"].to_numpy()
    season = np.select([month == 12, np.isin(month, (1, 2)), month == 7], [0.28, 0.2, 0.12], 0.0)
    trend = np.asarray(YEAR_TREND)[np.minimum(d["ay"].to_numpy(), len(YEAR_TREND) - 1)]
    return (dow + end + start + season + trend).astype(np.float32)


def spell_component(rng: np.random.Generator, n_pupils: int, n_weeks: int) -> np.ndarray:
    """Weekly AR(1) series per pupil, stationary sd :data:`SD_SPELL`, float32 (P, W)."""
    z = np.empty((n_pupils, n_weeks), dtype=np.float32)
    z[:, 0] = rng.normal(0, SD_SPELL, n_pupils)
    eps_sd = SD_SPELL * np.sqrt(1 - RHO_WEEK**2)
    for w in range(1, n_weeks):
        z[:, w] = RHO_WEEK * z[:, w - 1] + rng.normal(0, eps_sd, n_pupils)
    return z


def draw_base_marks(rng: np.random.Generator, grid: Grid, ctx: Context) -> None:
    """Fill every on-roll cell of ``grid`` with present or absence codes (in place)."""
    n_days = ctx.days.n
    cells = np.flatnonzero(grid.school.ravel() >= 0)
    p = (cells // n_days).astype(np.int32)
    d = (cells % n_days).astype(np.int32)
    ay = ctx.days.days["ay"].to_numpy()[d]
    s = grid.school.ravel()[cells]
    fsm, sen, g = (ctx.per_pupil_year(c) for c in ("fsm", "sen", "g"))
    u = ctx.pop.master["u"].to_numpy(np.float32)
    ch = (FSM_EFFECT * (fsm == 1) + SEN_K_EFFECT * (sen == 1) + SEN_E_EFFECT * (sen == 2)).astype(
        np.float32
    )
    yg_lookup = np.zeros(32, dtype=np.float32)
    for k, v in YEAR_GROUP_EFFECT.items():
        yg_lookup[k + 2] = v
    sch_eff = (
        ctx.schools["_effect"].to_numpy() + ctx.schools["phase"].map(PHASE_EFFECT).to_numpy()
    ).astype(np.float32)
    week = ctx.days.days["week"].to_numpy()
    z = spell_component(rng, len(u), int(week.max()) + 1)
    logit = (
        INTERCEPT
        + u[p]
        + ch[p, ay]
        + yg_lookup[g[p, ay] + 2]
        + sch_eff[s]
        + day_effect(ctx.days)[d]
        + z[p, week[d]]
    )
    del z
    absent = rng.random(len(cells), dtype=np.float32) < 1 / (1 + np.exp(-logit))
    am = np.where(absent, 0, code("/")).astype(np.int8)
    pm = np.where(absent, 0, code("\\")).astype(np.int8)
    # reasons for absent days
    ia = np.flatnonzero(absent)
    month = ctx.days.days["month"].to_numpy()[d[ia]]
    winter = np.isin(month, (12, 1, 2))
    risk = np.clip(u[p[ia]] + ch[p[ia], ay[ia]], -2, 3)
    poor = ctx.schools["_poor_coding"].to_numpy()[s[ia]]
    weights = np.stack(
        [
            np.where(winter, 0.85, 0.58),  # I illness
            np.full(len(ia), 0.05),  # M medical
            np.full(len(ia), 0.05),  # C other authorised
            0.1 * np.exp(0.75 * risk),  # O unauthorised
            np.where(poor, 0.12, 0.006),  # N not yet established
        ],
        axis=1,
    )
    cum = np.cumsum(weights, axis=1)
    pick = (rng.random(len(ia))[:, None] * cum[:, -1:] > cum).sum(axis=1)
    reason = np.array([code(c) for c in ("I", "M", "C", "O", "N")], dtype=np.int8)[pick]
    am[ia] = reason
    pm[ia] = reason
    # single-session marks on present days
    ip = np.flatnonzero(~absent)
    r = rng.random(len(ip), dtype=np.float32)
    late_risk = 0.015 * np.exp(0.5 * np.clip(u[p[ip]], -2, 3))
    am[ip[r < late_risk]] = code("L")
    am[ip[(r >= late_risk) & (r < late_risk * 1.15)]] = code("U")
    r2 = rng.random(len(ip), dtype=np.float32)
    am[ip[r2 < 0.003]] = code("M")
    pm[ip[(r2 >= 0.003) & (r2 < 0.006)]] = code("M")
    grid.am.ravel()[cells] = am
    grid.pm.ravel()[cells] = pm
