"""Register codes that come in episodes or on particular days, painted over the base marks.

Order matters: later painters win. Legacy codes (H, F, J, Y) are only used before
19 August 2024 (:data:`attendance_lib.core.codes.CODES_2024_FROM`) and the 2024 codes (C1, C2, J1,
K, Q, Y1-Y7) only from then on; before it a part-time timetable is ``C``, off-site
provision ``B``, an interview ``J`` and an unexpected closure ``Y``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.codes import CODES_2024_FROM
from .grid import Grid, code, expand_ranges, is_absence, is_attendance
from .marks import Context

#: Eid al-Fitr and Eid al-Adha school days in the years the generator usually covers.
EID_DATES = ("2023-04-21", "2023-06-28", "2024-04-10", "2025-03-31", "2025-06-06")


class Painter:
    """Paints codes onto ranges of a pupil's days, only where the pupil is on roll."""

    def __init__(self, rng: np.random.Generator, grid: Grid, ctx: Context) -> None:
        self.rng, self.grid, self.ctx = rng, grid, ctx
        self.n_days = ctx.days.n
        self.new_era = ctx.dates >= np.datetime64(CODES_2024_FROM)
        d = ctx.days.days
        self.ay = d["ay"].to_numpy()
        key = d["ay"].to_numpy() * 10 + d["half_term"].to_numpy()
        self.ht_first = pd.Series(np.arange(len(d))).groupby(key).min()
        self.ht_last = pd.Series(np.arange(len(d))).groupby(key).max()
        r = ctx.pop.roll
        self.roll = r.assign(u=ctx.pop.master["u"].to_numpy()[r["pid"].to_numpy()])

    def paint(self, pid, first, last, am, pm=None, *, where=None, dows=None) -> None:
        """Set AM (and PM) codes for ``pid[i]`` on days ``first[i]..last[i]``.

        ``am``/``pm`` are a code string, an array of grid codes per range, or ``None`` to
        leave that session alone; ``where``: ``"present"`` or ``"absent"`` restricts the cells.
        """
        first = np.clip(np.asarray(first), 0, self.n_days - 1)
        last = np.clip(np.asarray(last), 0, self.n_days - 1)
        owner, day = expand_ranges(first, last)
        p = np.asarray(pid)[owner]
        keep = self.grid.school[p, day] >= 0
        if dows is not None:
            keep &= self.ctx.days.days["dow"].to_numpy()[day] == np.asarray(dows)[owner]
        p, day, owner = p[keep], day[keep], owner[keep]
        for arr, val in ((self.grid.am, am), (self.grid.pm, pm)):
            if val is None:
                continue
            cur = arr[p, day]
            ok = np.ones(len(p), dtype=bool)
            if where == "present":
                ok = is_attendance(cur)
            elif where == "absent":
                ok = is_absence(cur)
            v = (
                np.full(len(p), code(val), dtype=np.int8)
                if isinstance(val, str)
                else np.asarray(val, dtype=np.int8)[owner]
            )
            arr[p[ok], day[ok]] = v[ok]

    def era_code(self, days: np.ndarray, legacy: str, new: str) -> np.ndarray:
        """Grid code per day: ``legacy`` before 19 August 2024, ``new`` from then."""
        return np.where(self.new_era[days], code(new), code(legacy)).astype(np.int8)

    def pick(
        self, mask: np.ndarray, share: float, weight: np.ndarray | None = None
    ) -> pd.DataFrame:
        """Draw about ``share`` of the roll rows in ``mask`` (optionally weighted)."""
        rows = self.roll[mask]
        k = int(round(share * len(rows)))
        if k == 0 or len(rows) == 0:
            return rows.iloc[:0]
        k = max(1, min(k, len(rows)))
        w = None if weight is None else weight[mask] / weight[mask].sum()
        return rows.iloc[np.sort(self.rng.choice(len(rows), size=k, replace=False, p=w))]

    def random_start(self, rows: pd.DataFrame, lo: int = 0, hi_margin: int = 0) -> np.ndarray:
        ay = rows["ay"].to_numpy()
        first = self.ctx.days.year_first[ay] + lo
        last = self.ctx.days.year_last[ay] - hi_margin
        return first + (self.rng.random(len(rows)) * (last - first + 1)).astype(np.int64)


def term_time_holidays(pt: Painter) -> None:
    """Family holidays in term time, next to a break: G (H or F before August 2024)."""
    r = pt.roll
    share = np.where(r["g"] <= 6, 0.09, 0.05)
    rows = r[pt.rng.random(len(r)) < share]
    n = len(rows)
    ht = pt.rng.integers(1, 7, size=n)
    key = rows["ay"].to_numpy() * 10 + ht
    length = pt.rng.integers(3, 11, size=n)
    before = pt.rng.random(n) < 0.6
    hf, hl = pt.ht_first.reindex(key).to_numpy(), pt.ht_last.reindex(key).to_numpy()
    first = np.where(before, hl - length + 1, hf)
    last = np.where(before, hl, hf + length - 1)
    r2 = pt.rng.random(n)
    legacy = np.where(r2 < 0.85, code("G"), np.where(r2 < 0.98, code("H"), code("F")))
    codes = np.where(pt.new_era[first], code("G"), legacy).astype(np.int8)
    pt.paint(rows["pid"], first, last, codes, codes)


def exclusions(pt: Painter) -> None:
    """Suspensions (E), mostly in secondary and for pupils with high absence propensity."""
    r = pt.roll
    base = np.where(r["g"] >= 7, 0.05, 0.007) * np.exp(0.6 * np.clip(r["u"], -1, 3))
    for repeat in (1.0, 0.35):
        rows = r[pt.rng.random(len(r)) < base * repeat]
        start = pt.random_start(rows, 5, 5)
        length = pt.rng.choice([1, 2, 3, 5], size=len(rows), p=[0.45, 0.3, 0.15, 0.1])
        pt.paint(rows["pid"], start, start + length - 1, "E", "E")


def reduced_timetables(pt: Painter) -> None:
    """Part-time timetables: afternoons C2 (C before August 2024)."""
    r = pt.roll
    rows = pt.pick(
        ((r["g"] >= 1) & (r["g"] <= 11)).to_numpy(), 0.004, np.exp(1.5 * r["u"].to_numpy())
    )
    start = pt.random_start(rows, 0, 20)
    last = start + pt.rng.integers(20, 51, size=len(rows))
    owner, day = expand_ranges(start, np.minimum(last, pt.n_days - 1))
    pt.paint(rows["pid"].to_numpy()[owner], day, day, None, pt.era_code(day, "C", "C2"))


def off_site(pt: Painter, schools: pd.DataFrame) -> None:
    """Off-site approved provision one day a week for a half term: B (K from August 2024)."""
    r = pt.roll
    offsite = schools["_offsite"].to_numpy()[r["school"].to_numpy()]
    rows = pt.pick(offsite & (r["g"] >= 9).to_numpy() & (r["g"] <= 11).to_numpy(), 0.04)
    ht = pt.rng.integers(1, 7, size=len(rows))
    key = rows["ay"].to_numpy() * 10 + ht
    hf, hl = pt.ht_first.reindex(key).to_numpy(), pt.ht_last.reindex(key).to_numpy()
    dow = pt.rng.integers(0, 5, size=len(rows))
    owner, day = expand_ranges(hf, hl)
    keep = pt.ctx.days.days["dow"].to_numpy()[day] == dow[owner]
    owner, day = owner[keep], day[keep]
    c = pt.era_code(day, "B", "K")
    pt.paint(rows["pid"].to_numpy()[owner], day, day, c, c, where="present")


def religious_observance(pt: Painter) -> None:
    """R on Eid for many Muslim families (approximated through the ethnicity groups)."""
    eth = pt.ctx.pop.master["ethnicity"].to_numpy()
    share = {"Asian": 0.55, "Any other ethnic group": 0.25, "Black": 0.15, "Mixed": 0.05}
    dates = pt.ctx.dates
    for ds in EID_DATES:
        hit = np.flatnonzero(dates == np.datetime64(ds))
        if len(hit) == 0:
            continue
        prob = np.array([share.get(e, 0.0) for e in eth])
        pid = np.flatnonzero(pt.rng.random(len(eth)) < prob)
        day = np.full(len(pid), hit[0])
        pt.paint(pid, day, day, "R", "R")


def school_activities(pt: Painter, schools: pd.DataFrame) -> None:
    """Trips (V), sport (P), Year 10 work experience (W), Year 11 study leave (S) and
    Year 11/13 interviews (J, J1 from August 2024)."""
    r = pt.roll
    rng = pt.rng
    # one trip day per school, year group and year
    n_s = len(schools)
    trip = pt.ctx.days.year_first[r["ay"].to_numpy()] + _trip_offset(r, n_s, rng, pt.ctx.days)
    pt.paint(r["pid"], trip, trip, "V", "V", where="present")
    sec = (schools["phase"].to_numpy() == "secondary")[r["school"].to_numpy()]
    rows = r[sec & (rng.random(len(r)) < 0.6)]
    day = pt.random_start(rows)
    pt.paint(rows["pid"], day, day, None, "P", where="present")
    wex = np.arange(n_s) % 2 == 0  # half the secondaries: work experience; the rest study leave
    ht6 = pt.ht_first.reindex(r["ay"].to_numpy() * 10 + 6).to_numpy()
    ht6_last = pt.ht_last.reindex(r["ay"].to_numpy() * 10 + 6).to_numpy()
    m = (r["g"] == 10).to_numpy() & sec & wex[r["school"].to_numpy()]
    pt.paint(r["pid"][m], ht6[m] + 5, ht6[m] + 9, "W", "W", where="present")
    m = (r["g"] == 11).to_numpy() & sec & ~wex[r["school"].to_numpy()]
    pt.paint(r["pid"][m], ht6[m] + 5, ht6_last[m], "S", "S")
    rows = r[r["g"].isin([11, 13]).to_numpy() & (rng.random(len(r)) < 0.04)]
    day = pt.random_start(rows)
    pt.paint(rows["pid"], day, day, pt.era_code(day, "J", "J1"), None, where="present")


def _trip_offset(r: pd.DataFrame, n_schools: int, rng: np.random.Generator, days) -> np.ndarray:
    """A random day offset per (school, year group, year), shared by the pupils in it."""
    n_years = len(days.year_first)
    span = days.year_last - days.year_first
    table = (rng.random((n_schools, 20, n_years)) * (span[None, None, :] - 10)).astype(np.int64) + 5
    return table[r["school"].to_numpy(), r["g"].to_numpy() + 2, r["ay"].to_numpy()]


def rare_codes(pt: Painter, schools: pd.DataFrame) -> None:
    """Rarely used codes: T, C1, the Y family and Q (new codes only from August 2024)."""
    r = pt.roll
    rng = pt.rng
    n = len(r)
    everyone = np.ones(n, dtype=bool)
    u = r["u"].to_numpy()

    year_is_new = pt.new_era[pt.ctx.days.year_first[r["ay"].to_numpy()]]

    def spells(mask, share, lo, hi, c, new_only=True, weight=None):
        rows = pt.pick(mask & year_is_new if new_only else mask, share, weight)
        start = pt.random_start(rows, 0, hi)
        length = rng.integers(lo, hi + 1, size=len(rows))
        pt.paint(rows["pid"], start, start + length - 1, c, c)

    spells(everyone, 0.002, 10, 20, "T", new_only=False)
    spells(everyone, 0.0015, 1, 3, "C1")
    spells((r["g"] <= 11).to_numpy(), 0.003, 1, 5, "Y1")
    spells((r["g"] >= 9).to_numpy(), 0.0008, 5, 15, "Y5", weight=np.exp(2 * u))
    spells(everyone, 0.0005, 2, 5, "Y6")
    spells(everyone, 0.001, 1, 2, "Y7")
    spells(everyone, 0.0006, 2, 5, "Q")
    # whole-school closures (snow): the fifth day of the spring term at a quarter of schools
    d = pt.ctx.days
    closed = rng.random((len(schools), len(d.year_first))) < 0.25
    sch = r["school"].to_numpy()
    snow = pt.ht_first.reindex(r["ay"].to_numpy() * 10 + 3).to_numpy() + 4
    m = closed[sch, r["ay"].to_numpy()]
    c = pt.era_code(snow[m], "Y", "Y4")
    pt.paint(r["pid"][m], snow[m], snow[m], c, c)
    # the day after: widespread transport disruption for some pupils (from August 2024)
    m = ~m & pt.new_era[snow + 1] & (rng.random(n) < 0.05)
    pt.paint(r["pid"][m], snow[m] + 1, snow[m] + 1, "Y2", "Y2")
    # part of the premises closed: one year group at one school for two days a year
    for ay in np.flatnonzero(pt.new_era[d.year_first]):
        one = r[r["ay"] == ay].iloc[rng.integers((r["ay"] == ay).sum())]
        m = ((r["ay"] == ay) & (r["school"] == one["school"]) & (r["g"] == one["g"])).to_numpy()
        day = d.year_first[ay] + 60
        pt.paint(r["pid"][m], np.full(m.sum(), day), np.full(m.sum(), day + 1), "Y3", "Y3")


def non_compulsory_and_joiners(pt: Painter) -> None:
    """X for nursery afternoons and the staggered reception start; Z before a joiner starts."""
    r = pt.roll
    d = pt.ctx.days
    m = (r["g"] == -1).to_numpy()
    pt.paint(r["pid"][m], d.year_first[r["ay"][m]], d.year_last[r["ay"][m]], None, "X")
    rows = r[(r["g"] == 0).to_numpy() & (pt.rng.random(len(r)) < 0.6)]
    first = d.year_first[rows["ay"].to_numpy()]
    pt.paint(rows["pid"], first, first + pt.rng.integers(3, 9, size=len(rows)), "X", "X")
    e = pt.ctx.pop.enrolments
    e = e[e["z_days"] > 0]
    pt.paint(e["pid"], e["first"] - e["z_days"], e["first"] - 1, "Z", "Z")


def inset(pt: Painter, inset_days: np.ndarray) -> None:
    """``#`` on the school's INSET days (planned closure: not a possible session)."""
    cells = np.flatnonzero(pt.grid.school.ravel() >= 0)
    s = pt.grid.school.ravel()[cells]
    d = cells % pt.n_days
    hit = cells[inset_days[s, d]]
    pt.grid.am.ravel()[hit] = code("#")
    pt.grid.pm.ravel()[hit] = code("#")


def unresolved_recent(pt: Painter) -> None:
    """Absences in the last two weeks of the data are often still N (not yet established)."""
    lo = pt.n_days - 10
    for arr in (pt.grid.am, pt.grid.pm):
        block = arr[:, lo:]
        hit = is_absence(block) & (pt.rng.random(block.shape) < 0.3)
        block[hit] = code("N")


def paint_episodes(
    rng: np.random.Generator, grid: Grid, ctx: Context, inset_days: np.ndarray
) -> None:
    """Apply every painter in order (see the module docstring)."""
    pt = Painter(rng, grid, ctx)
    term_time_holidays(pt)
    exclusions(pt)
    reduced_timetables(pt)
    off_site(pt, ctx.schools)
    religious_observance(pt)
    school_activities(pt, ctx.schools)
    rare_codes(pt, ctx.schools)
    non_compulsory_and_joiners(pt)
    unresolved_recent(pt)
    inset(pt, inset_days)
