"""Pupils, their yearly characteristics and their enrolments.

The population moves through the years as a real one does: each September everyone goes up
a year, Year 6 transfers to a secondary (mostly in the same locality), some Year 11s stay
for the sixth form, Year 13 and most Year 11 leave, a new nursery and reception intake
arrives and a few per cent move in and out of the LA. Within a year some pupils join or
leave part-way, some move school (two enrolments in a year) and a few go to the pupil
referral unit, either dual registered (the main school marks ``D``) or sole registered.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from stdnum.gb import upn as stdnum_upn

from .calendar import SchoolDays, start_year
from .schools import LA_NUMBER

#: DfE ethnicity major groups and their shares (a Bradford-like mix).
ETHNICITY: dict[str, float] = {
    "Asian": 0.42,
    "White": 0.44,
    "Mixed": 0.06,
    "Black": 0.025,
    "Chinese": 0.003,
    "Any other ethnic group": 0.027,
    "Unclassified": 0.025,
}
#: Share with English as an additional language, by ethnicity.
EAL_SHARE = {
    "Asian": 0.75,
    "White": 0.07,
    "Mixed": 0.12,
    "Black": 0.4,
    "Chinese": 0.6,
    "Any other ethnic group": 0.6,
    "Unclassified": 0.2,
}

#: Relative size of each year group (N2 = -1, R = 0, 1..13) against a Year 1..11 cohort.
YEAR_WEIGHT = {-1: 0.25, **dict.fromkeys(range(0, 12), 1.0), 12: 0.35, 13: 0.3}
SPECIAL_SHARE = 0.012  # pupils at special schools
CHRONIC_SHARE = 0.022  # pupils with a chronic, very high absence propensity


def year_group_label(g: np.ndarray) -> np.ndarray:
    """Integer year group (-2 N1, -1 N2, 0 R, 1..14) -> label used in pupils.csv."""
    labels = np.array(["N1", "N2", "R"] + [str(i) for i in range(1, 15)], dtype=object)
    return labels[np.asarray(g) + 2]


def make_upns(la: int, estab: np.ndarray, yy: np.ndarray, serial: np.ndarray) -> np.ndarray:
    """Build 13-character UPNs: check letter, LA number, DfE number, issue year, serial.

    The check letter is ``stdnum.gb.upn.calc_check_digit`` of the 12 digits that follow it.
    """
    body = [f"{la:03d}{e:04d}{y:02d}{s:03d}" for e, y, s in zip(estab, yy, serial, strict=True)]
    return np.array([stdnum_upn.calc_check_digit(b) + b for b in body], dtype=object)


@dataclass
class Population:
    """The generated pupils.

    Attributes
    ----------
    master : DataFrame
        One row per pupil (index = pupil id ``pid``): upn, date_of_birth, sex, ethnicity, eal,
        ``u`` (persistent absence propensity, logit scale), ``ability`` (standardised),
        ``chronic``.
    roll : DataFrame
        One row per pupil per academic year: pid, ay (year index), g (year group), fsm, fsm6,
        sen, school (index of the school of record at the January census).
    enrolments : DataFrame
        One row per enrolment per year: pid, school, ay, first, last (global school-day
        indexes, inclusive), dual (an AP placement while still on the main school's roll),
        z_days (sessions marked Z before the start, for joiners from outside the LA).
    """

    master: pd.DataFrame
    roll: pd.DataFrame
    enrolments: pd.DataFrame


class _Builder:
    """Holds the growing pupil arrays while the years are simulated."""

    def __init__(self, rng: np.random.Generator, schools: pd.DataFrame) -> None:
        self.rng = rng
        self.schools = schools
        self.cols: dict[str, list[np.ndarray]] = {
            k: [] for k in ("entry", "sex", "eth", "u", "ability", "chronic", "fsm", "fsm6", "sen")
        }
        self.n = 0

    def new(self, entry: np.ndarray, school: np.ndarray) -> np.ndarray:
        """Create pupils entering reception in ``entry`` and first seen at ``school``."""
        rng, k = self.rng, len(entry)
        dep = self.schools["_dep"].to_numpy()[school]
        special = self.schools["phase"].to_numpy()[school] == "special"
        eth = rng.choice(len(ETHNICITY), size=k, p=np.array(list(ETHNICITY.values())))
        fsm = rng.random(k) < 1 / (1 + np.exp(-(-1.15 + 0.7 * dep)))
        fsm6 = fsm | (rng.random(k) < 0.1)
        r = rng.random(k)
        sen = np.where(special | (r < 0.025), 2, np.where(r < 0.16, 1, 0)).astype(np.int8)
        chronic = rng.random(k) < CHRONIC_SHARE
        u = rng.normal(0, 0.72, k) + 3.4 * chronic + 0.1 * dep
        ability = rng.normal(0, 1, k) - 0.35 * fsm - 0.7 * (sen == 1) - 1.6 * (sen == 2) - 0.2 * u
        for name, arr in (
            ("entry", entry),
            ("sex", rng.random(k) < 0.49),
            ("eth", eth),
            ("u", u),
            ("ability", ability),
            ("chronic", chronic),
            ("fsm", fsm),
            ("fsm6", fsm6),
            ("sen", sen),
        ):
            self.cols[name].append(np.asarray(arr))
        pids = np.arange(self.n, self.n + k)
        self.n += k
        return pids

    def array(self, name: str) -> np.ndarray:
        a = np.concatenate(self.cols[name])
        self.cols[name] = [a]
        return a


def _choose(
    rng: np.random.Generator, candidates: np.ndarray, weights: np.ndarray, k: int
) -> np.ndarray:
    if len(candidates) == 0:
        raise ValueError("no school of the needed phase")
    p = weights / weights.sum()
    return rng.choice(candidates, size=k, p=p)


def build_population(
    rng: np.random.Generator,
    schools: pd.DataFrame,
    days: SchoolDays,
    n_pupils: int,
    years: tuple[str, ...],
) -> Population:
    """Simulate the pupils of the LA over ``years`` (see the module docstring)."""
    phase = schools["phase"].to_numpy()
    size = schools["_size"].to_numpy()
    locality = schools["locality"].to_numpy()
    pri, sec = np.flatnonzero(phase == "primary"), np.flatnonzero(phase == "secondary")
    spe, ap = np.flatnonzero(phase == "special"), np.flatnonzero(phase == "alternative_provision")
    nursery = np.flatnonzero(schools["_nursery"].to_numpy())
    sixth = np.flatnonzero(schools["_sixth"].to_numpy())
    n_per = n_pupils / sum(YEAR_WEIGHT.values())
    b = _Builder(rng, schools)

    def school_for(g: np.ndarray) -> np.ndarray:
        out = np.empty(len(g), dtype=np.int64)
        special = (g >= 0) & (rng.random(len(g)) < SPECIAL_SHARE)
        groups = (
            (special, spe),
            (~special & (g == -1), nursery if len(nursery) else pri),
            (~special & (g >= 0) & (g <= 6), pri),
            (~special & (g >= 7) & (g <= 11), sec),
            (~special & (g >= 12), sixth),
        )
        for mask, cand in groups:
            if mask.any():
                out[mask] = _choose(rng, cand, size[cand], int(mask.sum()))
        return out

    def intake(g_values: np.ndarray, y0: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        sch = school_for(g_values)
        return b.new(y0 - g_values, sch), g_values, sch

    y_first = start_year(years[0])
    counts = {g: int(round(n_per * w * rng.uniform(0.95, 1.05))) for g, w in YEAR_WEIGHT.items()}
    g0 = np.concatenate([np.full(k, g) for g, k in counts.items()])
    pid, g, sch = intake(g0, y_first)
    rolls, enrols = [], []
    leavers = np.array([], dtype=np.int64)  # left part-way through the previous year
    census = [days.index_of(pd.Timestamp(start_year(ay) + 1, 1, 15)) for ay in years]
    for yi, ay in enumerate(years):
        y0 = start_year(ay)
        if yi > 0:
            pid, g, sch = _next_year(rng, pid, g, sch, leavers, phase, locality, sec, sixth, spe, b)
            n_new = int(round(n_per * rng.uniform(0.97, 1.03)))
            new_r = max(0, n_new - int((g == 0).sum()))
            adds = [np.zeros(new_r, dtype=np.int64)]
            if len(nursery):
                adds.append(np.full(int(round(n_per * YEAR_WEIGHT[-1])), -1))
            adds.append(rng.integers(1, 12, size=int(0.045 * n_per * 11)))
            p2, g2, s2 = intake(np.concatenate(adds), y0)
            in_migrants = p2[g2 >= 1]
            pid, g, sch = (
                np.concatenate([pid, p2]),
                np.concatenate([g, g2]),
                np.concatenate([sch, s2]),
            )
            _update_characteristics(rng, b, pid)
        else:
            in_migrants = pid[rng.random(len(pid)) < 0.03]
        enrol, leavers = _enrolments(
            rng, days, yi, pid, g, sch, in_migrants, phase, size, ap, b.array("u")
        )
        enrols.append(enrol)
        fsm, fsm6, sen = b.array("fsm"), b.array("fsm6"), b.array("sen")
        rolls.append(
            pd.DataFrame(
                {"pid": pid, "ay": yi, "g": g, "fsm": fsm[pid], "fsm6": fsm6[pid], "sen": sen[pid]}
            )
        )
    enrolments = pd.concat(enrols, ignore_index=True)
    roll = pd.concat(rolls, ignore_index=True)
    roll["school"] = _school_of_record(enrolments, roll, census)
    master = _master(rng, b, schools, pri)
    return Population(master=master, roll=roll, enrolments=enrolments)


def _next_year(rng, pid, g, sch, leavers, phase, locality, sec, sixth, spe, b):
    """Move the roll on to the next September."""
    n = len(pid)
    keep = ~np.isin(pid, leavers) & (rng.random(n) >= 0.03)
    is_sixth_school = np.isin(sch, sixth)
    keep &= g != 13
    keep &= (g != 11) | (is_sixth_school & (rng.random(n) < 0.45))
    pid, g, sch = pid[keep], g[keep] + 1, sch[keep].copy()
    to_sec = (g == 7) & (phase[sch] == "primary")
    for loc in np.unique(locality[sch[to_sec]]):
        movers = np.flatnonzero(to_sec & (locality[sch] == loc))
        local = sec[locality[sec] == loc]
        pool = np.where(rng.random(len(movers)) < 0.8, 1, 0)
        chosen = rng.choice(sec, size=len(movers))
        if len(local):
            chosen = np.where(pool == 1, rng.choice(local, size=len(movers)), chosen)
        sch[movers] = chosen
    to_special = (
        (phase[sch] != "special") & (b.array("sen")[pid] == 2) & (rng.random(len(pid)) < 0.05)
    )
    if len(spe):
        sch[to_special] = rng.choice(spe, size=int(to_special.sum()))
    return pid, g, sch


def _update_characteristics(rng, b: _Builder, pid: np.ndarray) -> None:
    """Year-on-year changes: FSM eligibility comes and goes, SEN is identified or ends."""
    fsm, fsm6, sen = b.array("fsm"), b.array("fsm6"), b.array("sen")
    r = rng.random(len(pid))
    cur = fsm[pid]
    fsm[pid] = np.where(cur, r >= 0.1, r < 0.035)
    fsm6[pid] |= fsm[pid]
    s = sen[pid]
    r = rng.random(len(pid))
    sen[pid] = np.where(
        (s == 0) & (r < 0.03),
        1,
        np.where((s == 1) & (r < 0.07), 0, np.where((s == 1) & (r > 0.96), 2, s)),
    )


def _enrolments(rng, days: SchoolDays, yi, pid, g, sch, in_migrants, phase, size, ap, u):
    """One enrolment per pupil for the year, then mid-year joins, leaves, moves and AP."""
    first, last = days.year_first[yi], days.year_last[yi]
    n = len(pid)
    e = pd.DataFrame(
        {
            "pid": pid,
            "school": sch,
            "ay": yi,
            "first": first,
            "last": last,
            "dual": False,
            "z_days": 0,
        }
    )
    span = last - first
    # mid-year joiners: half of the in-migrants
    join = np.isin(pid, in_migrants) & (rng.random(n) < 0.5)
    jd = first + rng.integers(10, span - 10, size=n)
    e.loc[join, "first"] = jd[join]
    z = np.where(rng.random(n) < 0.4, rng.integers(1, 6, size=n), 0)
    e.loc[join, "z_days"] = np.minimum(z[join], jd[join] - first)
    # leavers and movers (disjoint from joiners)
    r = rng.random(n)
    leave = ~join & (r < 0.015) & (g >= 0)
    mainstream = np.isin(phase[sch], ("primary", "secondary"))
    move = ~join & (r >= 0.015) & (r < 0.03) & mainstream & (g >= 0)
    cut = first + rng.integers(15, span - 15, size=n)
    e.loc[leave, "last"] = cut[leave]
    e.loc[move, "last"] = cut[move]
    idx = np.flatnonzero(move)
    gap = rng.integers(1, 6, size=len(idx))
    new_sch = np.array(
        [
            rng.choice(np.flatnonzero((phase == phase[s]) & (np.arange(len(phase)) != s)))
            if ((phase == phase[s]).sum() > 1)
            else s
            for s in sch[idx]
        ],
        dtype=np.int64,
    )
    moved = pd.DataFrame(
        {
            "pid": pid[idx],
            "school": new_sch,
            "ay": yi,
            "first": np.minimum(cut[idx] + gap, last),
            "last": last,
            "dual": False,
            "z_days": 0,
        }
    )
    moved = moved[moved["school"].to_numpy() != sch[idx]]
    # alternative provision placements for secondary-age pupils with high propensity
    frames = [e, moved]
    if len(ap):
        cand = np.flatnonzero((g >= 7) & (g <= 11) & ~join & ~leave & ~move)
        w = np.exp(1.8 * u[pid[cand]])
        k = min(len(cand), max(1, int(round(0.007 * len(cand)))))
        chosen = rng.choice(cand, size=k, replace=False, p=w / w.sum())
        ht_starts = days.days.index[(days.days["ay"] == yi) & (days.days["from_break"] == 0)]
        start = rng.choice(ht_starts[:5].to_numpy(), size=k)
        dual = rng.random(k) < 0.75
        e.loc[chosen[~dual], "last"] = start[~dual] - 1
        frames.append(
            pd.DataFrame(
                {
                    "pid": pid[chosen],
                    "school": ap[0],
                    "ay": yi,
                    "first": start,
                    "last": last,
                    "dual": dual,
                    "z_days": 0,
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    out = out[out["last"] >= out["first"]]
    leavers = pid[leave]
    return out.astype({"first": np.int32, "last": np.int32, "school": np.int64}), leavers


def _school_of_record(enrol: pd.DataFrame, roll: pd.DataFrame, census: list[int]) -> np.ndarray:
    """The school each pupil is registered at on census day (else their latest enrolment);
    dual-registered pupils are recorded at their main school."""
    e = enrol[~enrol["dual"]].copy()
    c = np.asarray(census)[e["ay"].to_numpy()]
    e["covers"] = (e["first"] <= c) & (e["last"] >= c)
    e = e.sort_values(["pid", "ay", "covers", "last"], ascending=[True, True, False, False])
    e = e.drop_duplicates(["pid", "ay"])
    m = roll[["pid", "ay"]].merge(e[["pid", "ay", "school"]], on=["pid", "ay"], how="left")
    return m["school"].to_numpy()


def _master(rng, b: _Builder, schools: pd.DataFrame, pri: np.ndarray) -> pd.DataFrame:
    """One row per pupil with a UPN and fixed characteristics."""
    entry = b.array("entry")
    n = len(entry)
    yy = entry % 100
    order = np.lexsort((rng.random(n), yy))
    rank = np.empty(n, dtype=np.int64)
    sorted_yy = yy[order]
    starts = np.searchsorted(sorted_yy, sorted_yy, side="left")
    rank[order] = np.arange(n) - starts
    estabs = schools["_estab"].to_numpy()[pri if len(pri) else slice(None)]
    if rank.max() >= 1000 * len(estabs):
        raise ValueError("too many pupils per primary school to issue unique UPNs")
    upn = make_upns(LA_NUMBER, estabs[rank % len(estabs)], yy, rank // len(estabs))
    # date of birth: born between 1 September (entry - 5) and 31 August (entry - 4)
    start = pd.to_datetime([f"{y - 5}-09-01" for y in entry])
    dob = start + pd.to_timedelta(rng.integers(0, 365, size=n), unit="D")
    eth_names = np.array(list(ETHNICITY), dtype=object)
    eth = eth_names[b.array("eth")]
    eal = rng.random(n) < np.array([EAL_SHARE[x] for x in eth])
    return pd.DataFrame(
        {
            "upn": upn,
            "date_of_birth": dob.date,
            "sex": np.where(b.array("sex"), "F", "M"),
            "ethnicity": eth,
            "eal": eal,
            "u": b.array("u"),
            "ability": b.array("ability"),
            "chronic": b.array("chronic"),
        }
    )
