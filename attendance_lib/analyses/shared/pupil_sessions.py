"""The one owner of which sessions count for a pupil over a date range.

Every pupil-level window in the workbench (impact baseline and review windows, persistent
absence in the following year, the cohort worklist, TSM pupil lists, KS attendance windows)
counts a pupil's sessions through this module, so the rules below are applied once:

- **Year 11 study leave.** The sixth half term of the academic year in which a pupil is in
  National Curriculum Year 11 does not count. Year 11 means aged 15 on 31 August before the
  academic year (DfE age basis, :func:`~attendance_lib.core.academic_calendar.age_on_31_august`,
  from ``pupils.csv``'s ``date_of_birth``), or, where the date of birth is missing, year group
  ``11`` that year. This is the DfE's own rule: its absence statistics leave out the sixth half
  term for pupils aged 15 (*Pupil absence in schools in England*, methodology, "Year 11").
  Without it, study leave (code ``S``, an authorised absence) makes almost every Year 11 pupil
  persistently absent over any window that reaches June.
- **Within the pupil's academic year (on request).** With ``academic_years=`` a window is
  clipped to that academic year's half terms (first day of half term 1 to last day of half term
  6 in ``calendar.csv``), so a window never runs into the next year's school.
- **Pupil level.** Sessions are summed over all the pupil's enrolments in the window before any
  rate (DfE: rates from summed sessions).

Two ways to count, one set of rules:

- :class:`PupilSessions` (built once from the marks: a dense cumulative count per pupil and
  school day, :class:`MarkIndex`) answers any number of (upn, start, end) windows as lookups.
  ``PupilSessions.build(marks, pupils, calendar)``, then ``.window_counts(requests, start=,
  end=, academic_year=None)``.
- :func:`pupil_summary` is :func:`~attendance_lib.engine.sessions.summarise` (by pupil or
  enrolment) over one date range with study leave taken out: use it where a report summarises
  every pupil over one window (cohort worklist, TSM pupil lists, KS windows).

School days: :func:`school_days` lists the weekdays inside a half term of ``calendar.csv``;
windows measured in school days (impact) are built from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from attendance_lib.core.academic_calendar import (
    Calendar,
    age_on_31_august,
    parse_academic_year,
)
from attendance_lib.core.codes import GROUP_COLUMNS, Group
from attendance_lib.core.errors import UsageError
from attendance_lib.engine.sessions import (
    COUNT_COLUMNS,
    Summary,
    add_rates,
    mark_date_range,
    possible_days,
    possible_mark_cells,
    summarise,
    weekly_counts_of,
)

#: Half term left out for Year 11 (study leave and exams).
STUDY_LEAVE_HALF_TERM = 6
#: Age on 31 August before the academic year of a National Curriculum Year 11 pupil.
YEAR_11_AGE = 15
_POSSIBLE = [Group.PRESENT, Group.AEA, Group.AUTHORISED, Group.UNAUTHORISED]


def school_days(calendar: Calendar) -> np.ndarray:
    """Every school day in ``calendar.csv``: a weekday inside a half term, sorted.

    Returns
    -------
    numpy.ndarray
        ``datetime64[D]`` dates (bank holidays inside a half term count: schools have no marks
        on them, so they add no session).
    """
    pieces = [
        pd.bdate_range(r.start_date, r.end_date).to_numpy().astype("datetime64[D]")
        for r in calendar.table.itertuples()
    ]
    if not pieces:
        return np.zeros(0, dtype="datetime64[D]")
    return np.unique(np.concatenate(pieces))


def year_11_years(pupils: pd.DataFrame) -> pd.DataFrame:
    """(upn, academic_year) of every pupil record in National Curriculum Year 11.

    Year 11: aged 15 on 31 August before the academic year by ``date_of_birth``; where the date
    of birth is missing (or the column is absent), year group ``11`` that year.
    """
    cols = ["upn", "academic_year"]
    if pupils is None or pupils.empty:
        return pd.DataFrame(columns=cols)
    p = pupils.assign(upn=pupils["upn"].astype(str))
    by_group = p["year_group"].astype(str).str.strip() == "11"
    if "date_of_birth" in p:
        dob = pd.to_datetime(p["date_of_birth"])
        age = pd.Series(pd.NA, index=p.index, dtype="Int64")
        for year, rows in p.groupby("academic_year").groups.items():
            age.loc[rows] = age_on_31_august(dob.loc[rows], str(year)).to_numpy()
        y11 = (age == YEAR_11_AGE).fillna(False).to_numpy(dtype=bool)
        y11 = np.where(dob.isna().to_numpy(), by_group.to_numpy(), y11)
    else:
        y11 = by_group.to_numpy()
    return p.loc[y11, cols].drop_duplicates().reset_index(drop=True)


def study_leave(pupils: pd.DataFrame, calendar: Calendar) -> pd.DataFrame:
    """The dates that do not count for each Year 11 pupil: their year's sixth half term.

    Returns
    -------
    DataFrame
        upn, academic_year, start, end (both ends included); years whose sixth half term is not
        in ``calendar.csv`` are left out (nothing of them is in the data either).
    """
    y11 = year_11_years(pupils)
    t = calendar.table
    ht6 = t[t["half_term"] == STUDY_LEAVE_HALF_TERM][["academic_year", "start_date", "end_date"]]
    out = y11.merge(ht6, on="academic_year", how="inner")
    return out.rename(columns={"start_date": "start", "end_date": "end"}).reset_index(drop=True)


@dataclass(frozen=True)
class MarkIndex:
    """Cumulative possible sessions per pupil, school day and group, for window counts.

    ``cum[d, p, g]`` is pupil ``p``'s sessions in group ``g`` (present, AEA, authorised,
    unauthorised; all the pupil's enrolments together) on the dates ``days[:d]``, where
    ``days`` are the dates on which any pupil has a possible mark. Built once: the SQL engine
    numbers every possible mark by pupil, day and group, a piece at a time (the marks are
    never loaded into pandas), and each is counted into its cell; then any number of window
    counts are a lookup each. Memory: school days x pupils x 4
    small integers (142 MB for the demo LA: 31,000 pupils, 575 school days). Days come
    first: a window shared by many pupils (a comparison pool's start date) reads two rows of
    pupils in order, not one scattered cell per pupil. ``last_date`` is the
    latest date with any mark, possible or not.

    It counts every possible session; :class:`PupilSessions` applies the rules of this module
    (study leave, the pupil's academic year) on top.

    Weekly counts (a folder imported from the DfE weekly download) are indexed by
    :meth:`from_weekly`: then a window is counted in whole weeks (:attr:`whole_weeks`).
    """

    categories: pd.Index
    days: np.ndarray
    cum: np.ndarray
    last_date: pd.Timestamp
    #: Weekly counts only: the first day of the period ending on each of ``days`` (else None).
    period_first: np.ndarray | None = None

    @property
    def whole_weeks(self) -> bool:
        """True when built from weekly counts: windows are counted in whole weeks."""
        return self.period_first is not None

    @classmethod
    def build(cls, marks, *, engine: str | None = None) -> MarkIndex:
        """Index ``marks``: a DataFrame, a :class:`~attendance_lib.contract.dataset.Dataset` or a path.

        ``engine`` as for :func:`~attendance_lib.engine.sessions.summarise`. Raises ``ValueError``
        naming any code that is not in the code table. Weekly counts go to :meth:`from_weekly`.
        """
        weekly = weekly_counts_of(marks)
        if weekly is not None:
            return cls.from_weekly(weekly)
        totals = summarise(marks, by="pupil", engine=engine).table  # refuses unknown codes
        categories = pd.Index(totals["upn"], dtype=str)
        days = possible_days(marks, engine=engine)
        most = int(totals["sessions_possible"].max()) if len(totals) else 0
        dtype = np.int16 if most < np.iinfo(np.int16).max else np.int32
        width = len(days) + 1  # 1-based: cum[0] is the zero before any day
        cum = np.zeros(width * len(categories) * len(_POSSIBLE), dtype=dtype)
        for pupil, day, grp in possible_mark_cells(marks, categories, days, engine=engine):
            cell = ((day + 1) * len(categories) + pupil) * len(_POSSIBLE) + grp
            np.add.at(cum, cell, np.ones(len(cell), dtype=dtype))  # a day holds several marks
        cum = cum.reshape(width, len(categories), len(_POSSIBLE))
        _accumulate_days(cum)
        return cls(
            categories=pd.Index(categories, dtype=str),
            days=days,
            cum=cum,
            last_date=mark_date_range(marks, engine=engine)[1],
        )

    @classmethod
    def from_weekly(cls, weekly: pd.DataFrame) -> MarkIndex:
        """Index weekly counts (``upn, urn, week_start, week_end`` and the count columns).

        ``days`` are the periods' last weekdays (the Friday before each period's Sunday) and
        ``cum[k, p]`` the pupil's sessions in the periods ending on ``days[:k]``, summed over
        enrolments; :meth:`counts` then counts a period in a window when its Friday lies
        inside and it starts no earlier than the Monday of the window's first week, so a
        period is never split. ``last_date`` is the last Sunday covered. Raises
        :class:`UsageError` when no period is a single week (a lone download): no window but
        the whole span could be counted.
        """
        ends = weekly["week_end"].to_numpy(dtype="datetime64[D]").astype(np.int64) - 2
        starts = weekly["week_start"].to_numpy(dtype="datetime64[D]").astype(np.int64)
        if len(ends) and not (ends - starts == 4).any():
            raise UsageError(
                "the weekly data hold no single weeks (one download, or downloads more than a "
                "week apart), so no window of whole weeks can be counted: import the weekly "
                "downloads that cover the windows, one per Monday"
            )
        days, position = np.unique(ends, return_inverse=True)
        first = np.full(len(days), np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first, position, starts)
        codes, categories = pd.factorize(weekly["upn"].astype(str))
        matrix = weekly[[GROUP_COLUMNS[g] for g in _POSSIBLE]].to_numpy(dtype=np.int64)
        cum = np.zeros((len(days) + 1, len(categories), len(_POSSIBLE)), dtype=np.int32)
        np.add.at(cum, (position + 1, codes), matrix.astype(np.int32))
        _accumulate_days(cum)
        return cls(
            categories=pd.Index(categories, dtype=str),
            days=days,
            cum=cum,
            last_date=pd.Timestamp(weekly["week_end"].max()),  # NaT for an empty table
            period_first=np.maximum.accumulate(first),
        )

    def codes(self, upns) -> np.ndarray:
        """Position of each UPN in the index (-1 for a pupil with no possible mark)."""
        return self.categories.get_indexer(pd.Index(upns).astype(str)).astype(np.int64)

    def counts(self, upns, starts, ends, *, codes: np.ndarray | None = None) -> np.ndarray:
        """Sessions per group (present, AEA, authorised, unauthorised) for each window.

        Every possible session counts (no study-leave rule: see :class:`PupilSessions`).
        ``codes`` (from :meth:`codes`) may be given instead of looking the UPNs up again.
        """
        r_upn = self.codes(upns) if codes is None else codes
        r_start = _days(starts, len(r_upn))
        r_end = _days(ends, len(r_upn))
        lo = np.searchsorted(self.days, r_start, side="left")
        if self.period_first is not None:  # weekly: no period reaching before the window's week
            monday = r_start - (r_start + 3) % 7  # day 0 (1970-01-01) was a Thursday
            lo = np.maximum(lo, np.searchsorted(self.period_first, monday, side="left"))
        hi = np.searchsorted(self.days, r_end, side="right")
        hi = np.where((r_upn < 0) | (r_end < r_start), lo, np.maximum(hi, lo))
        if not len(self.categories):  # no possible mark at all
            return np.zeros((len(r_upn), len(_POSSIBLE)), dtype=np.int64)
        row = np.maximum(r_upn, 0)
        if len(row) and (lo == lo[0]).all() and (hi == hi[0]).all():  # one window for all
            return self.cum[hi[0]][row].astype(np.int64) - self.cum[lo[0]][row]
        return self.cum[hi, row].astype(np.int64) - self.cum[lo, row]


def _accumulate_days(cum: np.ndarray) -> None:
    """Running totals over the first axis (days), in place, a day at a time (no copy)."""
    for d in range(1, len(cum)):
        np.add(cum[d - 1], cum[d], out=cum[d])


def _days(dates, n: int) -> np.ndarray:
    """Dates (a scalar or an array) as int64 day numbers, broadcast to ``n`` (NaT: far past)."""
    if np.ndim(dates) == 0:
        value = pd.Timestamp(dates)
        return np.full(n, np.datetime64(value, "D").astype(np.int64))
    arr = dates.to_numpy() if isinstance(dates, pd.Series | pd.Index) else np.asarray(dates)
    if not np.issubdtype(arr.dtype, np.datetime64):
        arr = pd.to_datetime(pd.Series(arr)).to_numpy()
    return arr.astype("datetime64[D]").astype(np.int64)


@dataclass(frozen=True)
class PupilSessions:
    """Sessions that count for a pupil over any number of windows (see the module docstring).

    Build with :meth:`build`; ``index`` is the :class:`MarkIndex` (all possible sessions),
    ``leave`` the study-leave spans (:func:`study_leave`) with the pupils' index codes,
    ``calendar`` the term dates. ``last_date`` is the latest mark in the data.
    """

    index: MarkIndex
    leave: pd.DataFrame
    calendar: Calendar
    spans: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    def build(
        cls,
        marks,
        pupils: pd.DataFrame,
        calendar: Calendar,
        *,
        engine: str | None = None,
    ) -> PupilSessions:
        """Index ``marks`` (or reuse a :class:`MarkIndex`) with ``pupils.csv`` and the calendar."""
        index = marks if isinstance(marks, MarkIndex) else MarkIndex.build(marks, engine=engine)
        leave = study_leave(pupils, calendar)
        leave = leave.assign(_code=index.codes(leave["upn"]))
        leave = leave[leave["_code"] >= 0].reset_index(drop=True)
        return cls(index=index, leave=leave, calendar=calendar, spans=_dense_spans(leave, index))

    @property
    def last_date(self) -> pd.Timestamp:
        return self.index.last_date

    def codes(self, upns) -> np.ndarray:
        return self.index.codes(upns)

    def counts(
        self,
        upns,
        starts,
        ends,
        *,
        academic_years=None,
        codes: np.ndarray | None = None,
    ) -> np.ndarray:
        """Sessions per group (present, AEA, authorised, unauthorised) that count, per window.

        Parameters
        ----------
        upns, starts, ends
            One window per row (both ends included); ``starts`` / ``ends`` may be scalars.
        academic_years
            Optional academic year per row (or one for all): the window is clipped to that
            year's half terms. ``None``: no clipping.
        codes
            Index codes of the UPNs (:meth:`codes`) instead of ``upns``.
        """
        r_upn = self.index.codes(upns) if codes is None else np.asarray(codes, dtype=np.int64)
        n = len(r_upn)
        lo = _days(starts, n)
        hi = _days(ends, n)
        if academic_years is not None:
            years = (
                np.full(n, academic_years, dtype=object)
                if np.ndim(academic_years) == 0
                else np.asarray(academic_years, dtype=object)
            )
            first, last = self._year_days(years)
            lo = np.maximum(lo, first)
            hi = np.minimum(hi, last)
        out = self.index.counts(
            None, lo.astype("datetime64[D]"), hi.astype("datetime64[D]"), codes=r_upn
        )
        if len(self.leave) and n:
            out = out - self._leave_overlap(r_upn, lo, hi)
        return out

    def _year_days(self, years: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = self.calendar.table
        bounds = t.groupby("academic_year").agg(
            first=("start_date", "min"), last=("end_date", "max")
        )
        first = pd.Series(years).map(bounds["first"]).to_numpy(dtype="datetime64[ns]", copy=True)
        last = pd.Series(years).map(bounds["last"]).to_numpy(dtype="datetime64[ns]", copy=True)
        unknown = pd.isna(first)
        if unknown.any():  # years outside the calendar: bounded by 1 Sep .. 31 Aug
            ys = pd.Series(years[unknown]).map(parse_academic_year)
            first[unknown] = pd.to_datetime(ys.astype(str) + "-09-01").to_numpy()
            last[unknown] = pd.to_datetime((ys + 1).astype(str) + "-08-31").to_numpy()
        return _days(first, len(first)), _days(last, len(last))

    def _leave_overlap(self, r_upn: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Sessions inside each window that fall in the pupil's study leave."""
        out = np.zeros((len(r_upn), len(_POSSIBLE)), dtype=np.int64)
        first, last = self.spans if self.spans is not None else _dense_spans(self.leave, self.index)
        row = np.maximum(r_upn, 0)
        for j in range(first.shape[1]):
            s = np.maximum(lo, first[row, j])
            e = np.minimum(hi, last[row, j])
            keep = (r_upn >= 0) & (s <= e)
            if not keep.any():
                continue
            out[keep] += self.index.counts(
                None,
                s[keep].astype("datetime64[D]"),
                e[keep].astype("datetime64[D]"),
                codes=r_upn[keep],
            )
        return out

    def window_counts(
        self,
        requests: pd.DataFrame,
        *,
        start: str = "start",
        end: str = "end",
        academic_year: str | None = None,
    ) -> pd.DataFrame:
        """Pupil-level counts, rates and PA / severe flags for many (upn, start, end) windows.

        ``requests`` has ``upn`` and the ``start`` / ``end`` date columns (other columns are
        kept); ``academic_year`` names a column of academic years to clip each window to.
        Rates are NaN where nothing counted.
        """
        years = None if academic_year is None else requests[academic_year].to_numpy(dtype=object)
        sums = self.counts(requests["upn"], requests[start], requests[end], academic_years=years)
        return counts_frame(requests, sums)


def _dense_spans(leave: pd.DataFrame, index: MarkIndex) -> tuple[np.ndarray, np.ndarray]:
    """Study-leave spans as (pupils x spans) first / last day numbers (empty spans: last < first)."""
    n = len(index.categories)
    k = int(leave.groupby("_code").size().max()) if len(leave) else 0
    first = np.ones((n, k), dtype=np.int64)
    last = np.zeros((n, k), dtype=np.int64)
    if k:
        j = leave.groupby("_code").cumcount().to_numpy()
        codes = leave["_code"].to_numpy()
        first[codes, j] = _days(leave["start"], len(leave))
        last[codes, j] = _days(leave["end"], len(leave))
    return first, last


def counts_frame(requests: pd.DataFrame, sums: np.ndarray) -> pd.DataFrame:
    """``requests`` with the count columns from a (n, 4) group array, rates and flags added."""
    out = requests.copy()
    for g in _POSSIBLE:
        out[GROUP_COLUMNS[g]] = sums[:, int(g)]
    out["sessions_possible"] = sums.sum(axis=1)
    return add_rates(out[[*requests.columns, *COUNT_COLUMNS]])


def pupil_summary(
    marks,
    start,
    end,
    pupils: pd.DataFrame,
    calendar: Calendar,
    *,
    by: str = "pupil",
    engine: str | None = None,
) -> Summary:
    """:func:`~attendance_lib.engine.sessions.summarise` over ``start``..``end`` with the
    sessions that do not count (Year 11 study leave) taken out.

    Same arguments and result as ``summarise`` plus ``pupils`` (``pupils.csv``) and the
    calendar. Pupils (or enrolments) left with no possible session move to ``zero_possible``.
    """
    base = summarise(marks, start, end, by=by, engine=engine)
    keys = ["upn", "urn"] if by == "enrolment" else ["upn"]
    leave = study_leave(pupils, calendar)
    lo, hi = (
        pd.Timestamp(start) if start is not None else None,
        pd.Timestamp(end) if end is not None else None,
    )
    table = base.table
    for (s, e), rows in leave.groupby(["start", "end"]):
        s2 = s if lo is None else max(s, lo)
        e2 = e if hi is None else min(e, hi)
        if s2 > e2:
            continue
        sub = summarise(marks, s2, e2, by=by, engine=engine).table
        sub = sub[sub["upn"].astype(str).isin(set(rows["upn"]))]
        if sub.empty:
            continue
        sub = sub[[*keys, *COUNT_COLUMNS]].set_index(keys)
        t = table.set_index(keys)
        common = t.index.intersection(sub.index)
        t.loc[common, COUNT_COLUMNS] = t.loc[common, COUNT_COLUMNS] - sub.loc[common, COUNT_COLUMNS]
        table = t.reset_index()
    if table is base.table:
        return base
    table = table[[*keys, *COUNT_COLUMNS]].astype({c: np.int64 for c in COUNT_COLUMNS})
    zero = table["sessions_possible"] == 0
    zero_possible = pd.concat([base.zero_possible, table.loc[zero, keys]])
    table = add_rates(table[~zero].sort_values(keys).reset_index(drop=True))
    return Summary(table=table, zero_possible=zero_possible.reset_index(drop=True))
