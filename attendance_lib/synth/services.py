"""Other professionals' involvement (services.csv).

Episodes of children in need (cin), child protection plans (cpp), looked-after children
(cla), early help, youth justice and other services. Each pupil's chance of an episode rises
with their absence propensity and disadvantage, so children with a social worker have much
higher absence than average (DfE 2022/23: CIN 48.8% and CPP 57.5% persistently absent
against 21.2% of all pupils, as quoted by Bath and North East Somerset).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .calendar import SchoolDays
from .population import Population

#: service -> (share of pupils with an episode in a year, mean length in days,
#: weight on absence propensity, weight on disadvantage)
SERVICES: dict[str, tuple[float, float, float, float]] = {
    "cin": (0.037, 300, 1.1, 0.8),
    "cpp": (0.005, 270, 1.3, 0.9),
    "cla": (0.016, 1000, 0.5, 0.6),
    "early_help": (0.03, 200, 0.8, 0.6),
    "youth_justice": (0.003, 240, 1.2, 0.6),
    "other": (0.01, 180, 0.5, 0.3),
}


def build_services(rng: np.random.Generator, pop: Population, days: SchoolDays) -> pd.DataFrame:
    """services.csv rows: upn, service, start_date, end_date (NaT = still open)."""
    d0 = days.days["date"].iloc[0]
    d1 = days.days["date"].iloc[-1]
    n_years = len(days.year_first)
    roll = pop.roll
    first_year = roll.groupby("pid")["fsm6"].max()
    pids = first_year.index.to_numpy()
    u = pop.master["u"].to_numpy()[pids]
    dis = first_year.to_numpy().astype(float)
    span = (d1 - d0).days + 365
    frames = []
    for service, (share, mean_len, bu, bd) in SERVICES.items():
        # an episode starting uniformly over the span overlaps a given year with probability
        # (365 + length) / span, so this many episodes give ``share`` of each year's pupils
        k = int(round(share * len(roll) / n_years * span / (365 + mean_len)))
        k = min(k, len(pids))
        if k == 0:
            continue
        w = np.exp(bu * np.clip(u, -2, 3) + bd * dis)
        chosen = rng.choice(pids, size=k, replace=False, p=w / w.sum())
        start = (
            d0 - pd.Timedelta(days=365) + pd.to_timedelta(rng.integers(0, span, size=k), unit="D")
        )
        end = start + pd.to_timedelta(rng.exponential(mean_len, size=k).astype(int) + 14, unit="D")
        end = end.where(end <= d1, pd.NaT)
        frames.append(
            pd.DataFrame({"pid": chosen, "service": service, "start_date": start, "end_date": end})
        )
    out = pd.concat(frames, ignore_index=True)
    out["upn"] = pop.master["upn"].to_numpy()[out["pid"].to_numpy()]
    return out.sort_values(["start_date", "upn", "service"], kind="stable").reset_index(drop=True)


class OpenServices:
    """Answers "which pupils have an open episode on this date?" quickly, many times."""

    def __init__(self, services: pd.DataFrame, n_pupils: int) -> None:
        self.pid = services["pid"].to_numpy()
        self.start = services["start_date"].to_numpy("datetime64[ns]")
        end = services["end_date"].to_numpy("datetime64[ns]")
        self.end = np.where(np.isnat(end), np.datetime64("2262-01-01", "ns"), end)
        self.n = n_pupils

    def at(self, when: pd.Timestamp) -> np.ndarray:
        """Boolean per pupil id: an episode is open on ``when`` (start and end included)."""
        t = np.datetime64(when, "ns")
        out = np.zeros(self.n, dtype=bool)
        out[self.pid[(self.start <= t) & (self.end >= t)]] = True
        return out
