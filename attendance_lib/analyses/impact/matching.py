"""A matched comparison group and the difference-in-differences estimate of impact.

Why: children are chosen for an intervention because their attendance was unusually low, or
because officers know them to be often absent, and such children's attendance moves without
any help (regression to the mean). A before/after comparison alone is therefore biased. The
comparison group shows how much of the change would have happened anyway.

Method (``docs/methodology.md``, "12-week impact evaluation"; Abadie and Imbens 2006, 2011;
Stuart 2010; Austin 2009; EEF evaluation guidance):

- **treated**: evaluable interventions whose review window is complete in the data, with an
  earlier window (the school days before the baseline) in the data and a year group of 1 to 11;
- **pool** (one per start date, so the same calendar windows): pupils of compulsory school age
  (National Curriculum Years 1 to 11 that year in ``pupils.csv``) with no attendance-team
  intervention started on or before the end of the review window (pupils first treated later
  stay eligible: leaving them out would select on the future), with a possible session in the
  baseline and the review window; Year 11 study leave never counts;
- **matching on what officers could see**: exact on the start date, key stage, FSM, SEN
  (N / K / E), an open involvement in ``services.csv`` on the start date and whether the pupil
  has a longer history in the data; within a caliper on baseline attendance (default 2.5
  points), the ``k`` (default 5) comparison pupils nearest on the baseline and the earlier
  window (the 60 school days before the baseline), each difference scaled by the treated
  pupils' standard deviation: the periods officers look at when they choose a child.
  (``distance="score"`` matches instead on a prognostic score, Hansen 2008: review attendance
  predicted in the pool from the same two periods.) With replacement; ties go to the nearer
  baseline, then the lower UPN;
- **change from the usual level** (:func:`before_attendance`): each pupil's change is review
  attendance minus their attendance over the history (up to two school years before the
  earlier window, as much as the data hold), or minus the earlier window where the data hold
  no history. A period used to choose children is unusually bad for them and regresses on its
  own; the history was not used to choose, so it measures the child's usual level without
  that selection, whether officers chose on the recorded 12 weeks or on what they know of the
  child (the synthetic LA's two ``--selection`` mechanisms; Barnett et al. 2005 on taking the
  baseline from a measurement other than the one used to select);
- **the comparison's change at the treated child's level** (:func:`level_scale`): a trend
  moves a child with more absence by more points, so each comparison's change is carried to
  its treated pupil's usual level of absence on the arcsine square-root scale of the absence
  share before it is compared;
- **bias correction** (Abadie and Imbens 2011): each comparison's change is adjusted by the
  difference in predicted change (a linear regression on the matched comparisons of the change
  on baseline and earlier-window attendance) between the treated pupil's and the comparison's
  matched periods, removing what the caliper leaves;
- **estimate**: mean over matched treated pupils of (treated change - mean adjusted change of
  its comparisons), in percentage points; also as days of attendance gained per child over the
  review window and as a standardised effect size (difference / pooled standard deviation of
  review-window attendance, as the EEF reports);
- **interval**: a cluster bootstrap resampling schools (treated pupils and comparison pupils
  with their school of record; a comparison's weight is the number of treated pupils it serves,
  each divided by their ``k``), giving a standard error; the 95% interval uses Student's t with
  (schools - 1) degrees of freedom;
- **pre-trend placebo**: the same difference-in-differences between the earlier window and the
  baseline, which should be near zero;
- **balance**: standardised mean differences of every matching variable and open services,
  before and after matching, on the pooled standard deviation before matching (Austin 2009);
- **sensitivity**: the estimate under another caliper and another number of neighbours.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy import stats as _st

from attendance_lib.analyses.impact.windows import MarkIndex, PupilSessions
from attendance_lib.core.markup import strong
from attendance_lib.core.numbers import format_pct

#: Default caliper on baseline attendance, in percentage points.
DEFAULT_CALIPER_PP = 2.5
#: Default number of nearest comparison pupils per treated pupil.
DEFAULT_NEIGHBOURS = 5
#: Exact-match variables (with the start date and whether a longer history exists).
EXACT_ON = ("key_stage", "fsm", "sen", "open_service")
#: The pre-periods officers can see when they choose a child (the 60 school days before the
#: start and the 60 before those): matched on, and the bias correction's regressors.
SELECTION_COLUMNS = ("baseline_attendance_pct", "earlier_attendance_pct")
#: Pre-period attendance carried with each treated and comparison pupil: the matched periods
#: and the history the change is measured from (:func:`before_attendance`).
HISTORY_COLUMNS = (*SELECTION_COLUMNS, "history_attendance_pct")
#: Sensitivity analyses: (caliper, neighbours) besides the default.
SENSITIVITY = (
    (5.0, DEFAULT_NEIGHBOURS),
    (1.0, DEFAULT_NEIGHBOURS),
    (DEFAULT_CALIPER_PP, 1),
    (DEFAULT_CALIPER_PP, 10),
)
#: Standardised mean difference above which balance is flagged.
SMD_FLAG = 0.1
#: A placebo (pre-trend) estimate is "near zero" when its interval includes 0 and it is below this.
PLACEBO_NEAR_ZERO_PP = 1.0
WINDOW_COLUMNS = [
    "history_start",
    "history_end",
    "earlier_start",
    "earlier_end",
    "baseline_start",
    "baseline_end",
    "review_start",
    "review_end",
]
EFFECT_COLUMNS = [
    "method",
    "estimate_pp",
    "ci_low",
    "ci_high",
    "n_treated",
    "n_comparison",
    "n_schools",
    "days_gained",
    "effect_size",
]
_YEAR_NUMBER = {"N1": -2, "N2": -1, "R": 0}
_SESSIONS_PER_DAY = 2


def key_stage(year_group: pd.Series) -> pd.Series:
    """Key stage of a National Curriculum year group: ``KS1`` (1-2), ``KS2`` (3-6), ``KS3``
    (7-9), ``KS4`` (10-11); missing outside Years 1 to 11 (compulsory school age)."""
    number = pd.to_numeric(year_group.astype(str).str.strip(), errors="coerce")
    out = pd.Series(pd.NA, index=year_group.index, dtype=object)
    for label, lo, hi in (("KS1", 1, 2), ("KS2", 3, 6), ("KS3", 7, 9), ("KS4", 10, 11)):
        out[(number >= lo) & (number <= hi)] = label
    return out


def open_service_on(upns: pd.Series, dates: pd.Series, services: pd.DataFrame | None) -> np.ndarray:
    """True where the pupil had a ``services.csv`` involvement open on the date (started on or
    before it, with no end date or ending on or after it); False where the date is missing.

    Read one date at a time: the involvements open on that date, then which of that date's
    pupils hold one (a comparison pool's rows share their start date)."""
    upn = pd.Series(upns).astype(str).to_numpy(dtype=object)
    if services is None or services.empty or not len(upn):
        return np.zeros(len(upn), dtype=bool)
    svc = services["upn"].astype(str).to_numpy(dtype=object)
    codes = pd.factorize(np.concatenate([upn, svc]))[0]  # each UPN a number: cheap to compare
    return _open_on(codes[: len(upn)], codes[len(upn) :], dates, services)


def _open_on(
    pupil: np.ndarray, holder: np.ndarray, dates: pd.Series, services: pd.DataFrame | None
) -> np.ndarray:
    """:func:`open_service_on` with the pupils and the services' holders already numbered
    (the same number for the same UPN; a holder numbered -1 matches no pupil)."""
    out = np.zeros(len(pupil), dtype=bool)
    if services is None or services.empty or not len(pupil):
        return out
    when = pd.Series(pd.to_datetime(dates)).reset_index(drop=True)
    start, end = services["start_date"], services["end_date"]
    for date, rows in when.groupby(when, sort=False).indices.items():
        opened = ((start <= date) & (end.isna() | (end >= date))).to_numpy(dtype=bool)
        out[rows] = np.isin(pupil[rows], holder[opened])
    return out


def treated_for_matching(evaluated: pd.DataFrame) -> pd.DataFrame:
    """The interventions the comparison applies to, with ``unmatched_reason`` for the others.

    Every evaluable intervention is listed: ``unmatched_reason`` is empty for those that enter
    matching, else ``review pending``, ``year group outside 1 to 11``, ``FSM or SEN not
    recorded`` or ``no earlier window in the data``.
    """
    ev = evaluated[evaluated["evaluable"]].copy()
    reason = pd.Series("", index=ev.index, dtype=object)
    rules = (
        (~ev["review_complete"], "review pending"),
        (ev["key_stage"].isna(), "year group outside 1 to 11"),
        (ev["fsm"].isna() | ev["sen"].isna(), "FSM or SEN not recorded"),
        (ev["earlier_attendance_pct"].isna(), "no earlier window in the data"),
    )
    for mask, why in rules:
        reason[mask.to_numpy(dtype=bool) & (reason == "")] = why
    ev["unmatched_reason"] = reason
    return ev


def comparison_pool(
    evaluated: pd.DataFrame,
    marks: pd.DataFrame | MarkIndex | PupilSessions,
    pupils: pd.DataFrame,
    schools: pd.DataFrame,
    interventions: pd.DataFrame,
    services: pd.DataFrame | None = None,
    *,
    calendar=None,
    caliper_pp: float = max(DEFAULT_CALIPER_PP, *(c for c, _ in SENSITIVITY)),
    all_candidates: bool = False,
    settings: tuple[tuple[float, int], ...] | None = ((DEFAULT_CALIPER_PP, DEFAULT_NEIGHBOURS),)
    + SENSITIVITY,
) -> pd.DataFrame:
    """Candidate comparison pupils for each start date of the interventions to be matched.

    Parameters
    ----------
    evaluated
        :func:`~attendance_lib.analyses.impact.evaluation.evaluate_interventions` output.
    marks
        A :class:`~attendance_lib.analyses.shared.pupil_sessions.PupilSessions` (or marks / a
        MarkIndex with ``calendar`` given, to build one).
    pupils, schools
        ``pupils.csv`` (school, year group, FSM, SEN per academic year) and ``schools.csv``.
    interventions
        Every attendance-team intervention in the data (not only the selected ones): a pupil
        whose first intervention started on or before a review window's end is not a
        comparison for it.
    services
        ``services.csv`` (an open involvement at the start date, for the balance table).
    caliper_pp
        The widest caliper that will be used (so the sensitivity analyses share the pool): only
        candidates that some treated pupil could be matched to within it are kept, that is with
        the same start date, key stage, FSM, SEN, open service and history-or-not, and a
        baseline within ``caliper_pp`` of that treated pupil's.
    settings
        The (caliper, neighbours) settings the pool will be matched with (default: the report's
        and the sensitivity analyses'): only candidates :func:`match_comparisons` picks for
        some treated pupil under one of them are kept. Nearest-neighbour matching picks the
        same pupils from any part of the pool that holds its picks, so matching this pool with
        any of ``settings`` gives exactly the pairs the whole pool would. ``None``: keep every
        matchable candidate. (Matching with ``distance="score"``, which fits the score on the
        pool, needs ``settings=None``.)
    all_candidates
        Keep every eligible candidate whose baseline lies within ``caliper_pp`` of the lowest
        to highest treated baseline on its date, matchable or not (the pool before this version:
        on a large LA tens of millions of rows, most of which no treated pupil can use).

    Returns
    -------
    DataFrame
        One row per (start_date, pupil) eligible as a comparison: upn, urn, academic_year,
        year_group, key_stage, fsm, sen, open_service, the windows, attendance % in each window
        (history NaN where the data has none), review_possible and change_pp.
        ``pool.attrs["candidates"]`` holds, per start date and balance covariate, a tuple
        (start_date, covariate, count, mean, sum of squared deviations) over every eligible
        candidate, cut or kept: what :func:`matching_balance` needs for "before matching", so
        the balance table does not depend on the cut. The pool is built a few start dates at
        a time (about :data:`POOL_CHUNK_ROWS` matchable candidates), so memory follows what is
        kept, not every candidate.
    """
    if isinstance(marks, PupilSessions):
        sessions = marks
    else:
        if calendar is None:
            raise ValueError("comparison_pool needs calendar= unless given PupilSessions")
        sessions = PupilSessions.build(marks, pupils, calendar)
    t = treated_for_matching(evaluated)
    t = t[t["unmatched_reason"] == ""]
    rng = t.groupby("start_date")["baseline_attendance_pct"].agg(["min", "max"])
    dates = t[["start_date", "academic_year", *WINDOW_COLUMNS]].drop_duplicates("start_date")
    dates = dates.join(rng, on="start_date")
    cand = pupils[["upn", "academic_year", "urn", "year_group", "fsm", "sen"]].copy()
    cand["upn"] = cand["upn"].astype(str)
    cand["key_stage"] = key_stage(cand["year_group"])
    cand = cand[cand["key_stage"].notna()].drop_duplicates(["upn", "academic_year"])
    cand["_code"] = sessions.codes(cand["upn"])
    cand = cand[cand["_code"] >= 0].sort_values("_code")
    first = (
        pd.to_datetime(interventions["start_date"])
        .groupby(interventions["upn"].astype(str).to_numpy())
        .min()
    )
    cand["_first"] = cand["upn"].map(first)  # each pupil's first intervention, looked up once
    by_year = {y: f for y, f in cand.groupby("academic_year")}
    treated_on = {d: rows for d, rows in _cells(t).groupby("start_date")}
    # the services' pupils numbered as the candidates are (-1: not among them)
    holders = None if services is None else sessions.codes(services["upn"].astype(str))
    pieces, moments, batch = [], [], []
    for w in dates.itertuples(index=False):
        piece = _eligible_on(sessions, w, by_year.get(w.academic_year), caliper_pp)
        if not len(piece):
            continue
        f = piece["_first"]
        piece = piece[f.isna() | (f > w.review_end)]
        piece = _with_services(piece[[*_POOL_COLUMNS, "_code"]], schools, services, holders)
        moments.append(_moments(piece, w.start_date))
        if not all_candidates:
            piece = piece[_matchable(piece, treated_on[w.start_date], caliper_pp)]
        if len(piece):
            batch.append(piece)
        if sum(map(len, batch)) >= POOL_CHUNK_ROWS:
            pieces.append(_picked(evaluated, batch, None if all_candidates else settings))
            batch = []
    if batch:
        pieces.append(_picked(evaluated, batch, None if all_candidates else settings))
    pieces = [p for p in pieces if len(p)]
    if pieces:
        pool = pd.concat(pieces, ignore_index=True)
    else:
        empty = pd.DataFrame(columns=[*_POOL_COLUMNS, "_code"])
        pool = _with_services(empty, schools, services, holders)
    # Plain tuples: pandas compares attrs when it concatenates frames.
    pool.attrs["candidates"] = tuple(
        r for m in moments for r in m.itertuples(index=False, name=None)
    )
    return pool


_MOMENTS = ["start_date", "covariate", "n", "mean", "m2"]
#: Matchable candidates :func:`comparison_pool` gathers before cutting them to the picked ones.
POOL_CHUNK_ROWS = 300_000


def _picked(
    evaluated: pd.DataFrame, batch: list[pd.DataFrame], settings: tuple | None
) -> pd.DataFrame:
    """The candidates of ``batch`` (whole start dates) that :func:`match_comparisons` picks
    for some treated pupil under one of ``settings`` (all of them when ``settings`` is None)."""
    chunk = pd.concat(batch, ignore_index=True)
    if settings is None or chunk.empty:
        return chunk
    most: dict[float, int] = {}  # the k nearest include the j nearest (j < k): one match a caliper
    for caliper, k in settings:
        most[float(caliper)] = max(int(k), most.get(float(caliper), 0))
    picked = [
        match_comparisons(evaluated, chunk, caliper_pp=caliper, neighbours=k)
        for caliper, k in most.items()
    ]
    picked = pd.concat([p[["start_date", "upn_comparison"]] for p in picked])
    used = pd.MultiIndex.from_frame(picked).unique()
    keys = pd.MultiIndex.from_arrays([chunk["start_date"], chunk["upn"]])
    return chunk[keys.isin(used)].reset_index(drop=True)


def _with_services(
    piece: pd.DataFrame,
    schools: pd.DataFrame,
    services: pd.DataFrame | None,
    holders: np.ndarray | None,
) -> pd.DataFrame:
    """Pool rows with the school's phase, an open service on the start date and change_pp.

    ``piece`` holds the pupils' index codes (``_code``, dropped here) and ``holders`` the
    services' pupils' (:meth:`PupilSessions.codes`), so no UPN is compared as text."""
    pool = piece.merge(schools[["urn", "phase"]], on="urn", how="left")
    codes = pool["_code"].to_numpy(dtype=np.int64)
    pool["open_service"] = _open_on(codes, holders, pool["start_date"], services)
    pool["change_pp"] = pool["review_attendance_pct"] - pool["baseline_attendance_pct"]
    return pool.drop(columns="_code").reset_index(drop=True)


def _cells(frame: pd.DataFrame) -> pd.DataFrame:
    """The start date, exact-match variables and history-or-not, as matching compares them."""
    out = frame[["start_date", *EXACT_ON, "baseline_attendance_pct"]].astype(
        {"fsm": bool, "open_service": bool}
    )
    out["_hist"] = frame["history_attendance_pct"].notna().to_numpy()
    return out


def _matchable(piece: pd.DataFrame, treated: pd.DataFrame, caliper: float) -> np.ndarray:
    """Which candidates of one start date some treated pupil of that date could be matched
    to: the same exact-match cell (:func:`match_comparisons`'s keys) and a baseline within
    ``caliper`` (matching's own pairs, :func:`_caliper_pairs`, so no possible pair is lost)."""
    keep = np.zeros(len(piece), dtype=bool)
    keep[_caliper_pairs(treated, _cells(piece), float(caliper))[1]] = True
    return keep


def _moments(piece: pd.DataFrame, start_date) -> pd.DataFrame:
    """Count, mean and sum of squared deviations of each balance covariate over one start
    date's candidates (missing values left out)."""
    rows = []
    for name, col in _covariates(piece).items():
        v = col.to_numpy(dtype=float)
        v = v[~np.isnan(v)]
        mean = float(v.mean()) if len(v) else np.nan
        m2 = float(((v - mean) ** 2).sum()) if len(v) else np.nan
        rows.append((start_date, name, len(v), mean, m2))
    return pd.DataFrame(rows, columns=_MOMENTS)


_POOL_COLUMNS = [
    "start_date",
    *WINDOW_COLUMNS,
    "upn",
    "urn",
    "academic_year",
    "year_group",
    "key_stage",
    "fsm",
    "sen",
    *HISTORY_COLUMNS,
    "review_attendance_pct",
    "review_possible",
]


def _eligible_on(
    sessions: PupilSessions, w, cand: pd.DataFrame | None, caliper: float
) -> pd.DataFrame:
    """Pupils of the window's academic year with a baseline within reach of a treated pupil's
    on that date and a possible session in the review window (one start date at a time)."""
    if cand is None or cand.empty:
        return pd.DataFrame()
    codes = cand["_code"].to_numpy()
    base = sessions.counts(None, w.baseline_start, w.baseline_end, codes=codes)
    possible = base.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = (base[:, 0] + base[:, 1]) * 100 / possible
    keep = (possible > 0) & (pct >= w.min - caliper) & (pct <= w.max + caliper)
    cand, pct = cand[keep], pct[keep]
    codes = codes[keep]
    rev = sessions.counts(None, w.review_start, w.review_end, codes=codes)
    rev_possible = rev.sum(axis=1)
    ok = rev_possible > 0
    out = cand[ok].copy()
    codes = codes[ok]
    out["baseline_attendance_pct"] = pct[ok]
    out["review_attendance_pct"] = (rev[ok, 0] + rev[ok, 1]) * 100 / rev_possible[ok]
    out["review_possible"] = rev_possible[ok]
    for name in ("earlier", "history"):
        lo, hi = getattr(w, f"{name}_start"), getattr(w, f"{name}_end")
        if pd.isna(lo) or pd.isna(hi):
            out[f"{name}_attendance_pct"] = np.nan
            out[f"{name}_possible"] = 0
            continue
        c = sessions.counts(None, lo, hi, codes=codes)
        p = c.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"{name}_attendance_pct"] = np.where(p > 0, (c[:, 0] + c[:, 1]) * 100 / p, np.nan)
        out[f"{name}_possible"] = p
    for name in ("start_date", *WINDOW_COLUMNS):
        out[name] = getattr(w, name)
    return out


def _design(frame: pd.DataFrame) -> np.ndarray:
    """Design matrix of the bias correction and the prognostic score: intercept, baseline and
    earlier-window attendance (a missing earlier window takes the baseline's value)."""
    base = frame["baseline_attendance_pct"].to_numpy(dtype=float)
    earlier = frame["earlier_attendance_pct"].to_numpy(dtype=float)
    earlier = np.where(np.isnan(earlier), base, earlier)
    return np.column_stack([np.ones(len(frame)), base, earlier])


def before_attendance(frame: pd.DataFrame, suffix: str = "") -> pd.Series:
    """Attendance % the difference in differences measures change from: the history window
    (the pupil's usual level before any period officers could have chosen on), else the earlier
    window where the data hold no history."""
    hist = frame[f"history_attendance_pct{suffix}"]
    return hist.where(hist.notna(), frame[f"earlier_attendance_pct{suffix}"])


#: Absence shares are held within [LEVEL_FLOOR, 1 - LEVEL_FLOOR] in :func:`level_scale`, so a
#: usual level of no absence at all still carries a trend (the factor stays finite).
LEVEL_FLOOR = 0.005


def level_scale(pairs: pd.DataFrame) -> np.ndarray:
    """Factor carrying each comparison pupil's change to its treated pupil's level of absence.

    Trends between the usual level and the review window (age, the season, a year of more
    illness) act on a child's absence, and move a child with much absence by more points than
    a child with little: no child with 2% absence can fall by 5 points. The difference in
    differences assumes the treated children would have changed as their comparisons did, so
    where the treated children's usual level of absence is higher (children chosen on what
    officers know of them are worse, in their usual level, than comparisons with the same
    recorded baseline), each comparison's change is first carried to the treated child's
    level. The scale on which such trends are taken as equal is the arcsine square root of
    the absence share, the variance-stabilising scale of a proportion (Anscombe 1948), between
    equal changes in points (which understates the treated children's trend) and equal changes
    in log-odds (which overstates it on window rates); see docs/impact-simulation.md. A change
    carried by that scale's local slope is multiplied by

        sqrt(a_t (1 - a_t) / (a_c (1 - a_c)))

    where ``a_t`` is the treated pupil's usual absence share (1 - :func:`before_attendance` /
    100) and ``a_c`` the weighted mean usual absence share of its comparisons (a mean, not each
    comparison's own, so one comparison with almost no absence cannot inflate the factor).
    Shares are held within [:data:`LEVEL_FLOOR`, 1 - :data:`LEVEL_FLOOR`]. At equal levels the
    factor is 1. It is a fixed weight per treated pupil (it uses only the usual levels, not the
    review window), so the estimator stays linear in the comparisons' changes and the cluster
    bootstrap applies unchanged. A pair whose comparison has no usual level gets factor 1.

    Returns one factor per row of ``pairs``.
    """
    if pairs.empty:
        return np.ones(0)
    a_t = 1 - before_attendance(pairs).to_numpy(dtype=float) / 100
    a_c = 1 - before_attendance(pairs, "_comparison").to_numpy(dtype=float) / 100
    w = np.where(np.isfinite(a_c), pairs["weight"].to_numpy(dtype=float), 0.0)
    ids = pairs["intervention_id"].to_numpy()
    sums = pd.DataFrame({"wa": w * np.nan_to_num(a_c), "w": w}).groupby(ids).transform("sum")
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_c = (sums["wa"] / sums["w"]).to_numpy()
    t = np.clip(a_t, LEVEL_FLOOR, 1 - LEVEL_FLOOR)
    c = np.clip(mean_c, LEVEL_FLOOR, 1 - LEVEL_FLOOR)
    with np.errstate(invalid="ignore"):
        factor = np.sqrt(t * (1 - t) / (c * (1 - c)))
    return np.where(np.isfinite(factor), factor, 1.0)


def comparison_change(pairs: pd.DataFrame) -> pd.Series:
    """Each comparison pupil's change from their usual level to the review window, in points,
    carried to its treated pupil's level of absence (:func:`level_scale`)."""
    change = pairs["review_attendance_pct_comparison"] - before_attendance(pairs, "_comparison")
    return change * level_scale(pairs)


def _ols(x: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    if len(y) == 0:
        return np.zeros(x.shape[1])
    sw = np.ones(len(y)) if w is None else np.sqrt(np.asarray(w, dtype=float))
    beta, *_ = np.linalg.lstsq(x * sw[:, None], y * sw, rcond=None)
    return beta


def prognostic_score(pool: pd.DataFrame, *frames: pd.DataFrame) -> list[np.ndarray]:
    """Predicted review-window attendance from the baseline and earlier window, fitted in the
    pool (OLS per key stage), for the pool and each of ``frames``."""
    outs = [np.full(len(f), np.nan) for f in (pool, *frames)]
    for ks, rows in pool.groupby("key_stage"):
        beta = _ols(_design(rows), rows["review_attendance_pct"].to_numpy(dtype=float))
        for out, f in zip(outs, (pool, *frames), strict=True):
            m = (f["key_stage"] == ks).to_numpy()
            if m.any():
                out[m] = _design(f[m]) @ beta
    return outs


def match_comparisons(
    evaluated: pd.DataFrame,
    pool: pd.DataFrame,
    *,
    caliper_pp: float = DEFAULT_CALIPER_PP,
    neighbours: int = DEFAULT_NEIGHBOURS,
    distance: str = "history",
) -> pd.DataFrame:
    """Up to ``neighbours`` comparison pupils per treated pupil (with replacement): exact on the
    start date, key stage, FSM, SEN, open service and whether a history exists; baseline
    within ``caliper_pp``; nearest on the pre-intervention history (``distance="history"``: the
    distance over baseline, earlier-window and history attendance, each scaled by the treated
    pupils' standard deviation) or on the prognostic score (``distance="score"``), then on
    baseline, then lower UPN.

    Returns
    -------
    DataFrame
        One row per (matched intervention, comparison pupil): intervention_id, start_date,
        urn (treated), urn_comparison, upn_comparison, the treated and comparison pre-period and
        review attendance (``_comparison`` suffix), change_pp, change_pp_comparison, distance_pp
        (baseline), score_distance, weight (1/k of its treated pupil).

    Memory and time follow the pairs within the caliper, not every pair in a cell: candidates
    are sorted by cell and baseline and each treated pupil reads only its caliper's range
    (:func:`_caliper_pairs`); the columns are put together for the kept pairs only.
    """
    t = treated_for_matching(evaluated)
    t = t[t["unmatched_reason"] == ""]
    cols = [*HISTORY_COLUMNS, "review_attendance_pct", "change_pp"]
    t_cols = ["intervention_id", "start_date", *EXACT_ON, "urn", "review_possible", *cols]
    c_cols = ["upn", "urn", *cols]
    out_cols = [*t_cols, *(f"{k}_comparison" for k in c_cols)]
    if t.empty or pool.empty:
        return pd.DataFrame(columns=[*t_cols, "upn_comparison", "urn_comparison", "weight"])
    ti, ci = _caliper_pairs(_cells(t), _cells(pool), float(caliper_pp))
    b_t = t["baseline_attendance_pct"].to_numpy(dtype=float)
    b_c = pool["baseline_attendance_pct"].to_numpy(dtype=float)
    distance_pp = np.abs(b_t[ti] - b_c[ci])
    if distance == "score":
        c_score, t_score = prognostic_score(pool, t)
        score_distance = np.abs(t_score[ti] - c_score[ci])
    else:  # Mahalanobis-type on the pre-periods, scaled by the treated pupils' SDs
        total = np.zeros(len(ti))
        for col in SELECTION_COLUMNS:
            v = t[col].to_numpy(float)
            sd = float(np.std(v[np.isfinite(v)])) if np.isfinite(v).sum() > 1 else 1.0
            sd = sd or 1.0
            d = (v[ti] - pool[col].to_numpy(float)[ci]) / sd
            total += np.nan_to_num(d) ** 2
        score_distance = np.sqrt(total)
    # By intervention, then distance, baseline distance and the comparison's UPN (a total
    # order: a candidate appears once per start date); the first ``neighbours`` of each.
    treated_rank, comparison_rank = _rank(t["intervention_id"]), _rank(pool["upn"])
    rows = np.lexsort((comparison_rank[ci], distance_pp, score_distance, treated_rank[ti]))
    place = np.arange(len(rows))
    first = np.ones(len(rows), dtype=bool)
    first[1:] = treated_rank[ti[rows[1:]]] != treated_rank[ti[rows[:-1]]]
    rows = rows[place - np.maximum.accumulate(np.where(first, place, 0)) < int(neighbours)]
    left = t[t_cols].take(ti[rows])
    right = pool[c_cols].take(ci[rows])
    pairs = pd.concat(
        [
            left.reset_index(drop=True).astype({"fsm": bool, "open_service": bool}),
            right.reset_index(drop=True).add_suffix("_comparison"),
        ],
        axis=1,
    )[out_cols]
    pairs["distance_pp"] = distance_pp[rows]
    pairs["score_distance"] = score_distance[rows]
    pairs["weight"] = 1 / pairs.groupby("intervention_id")["upn_comparison"].transform("size")
    return pairs


def _rank(values: pd.Series) -> np.ndarray:
    """Each value's place among the distinct values in sorted order (equal values, equal
    places), so that text sorts as numbers would, in the same order.

    Text held by Arrow (pandas' ``str``: the UPNs) is numbered and sorted by Arrow, without
    making a Python string of each value; Arrow's order of UTF-8 text (by bytes) is Python's
    (by code points)."""
    if isinstance(values.array, pd.arrays.ArrowStringArray) and not values.hasnans:
        text = pa.array(values.array)
        if isinstance(text, pa.ChunkedArray):
            text = text.combine_chunks()
        encoded = text.dictionary_encode()
        order = pc.sort_indices(encoded.dictionary).to_numpy()
        places = np.empty(len(order), dtype=np.int64)
        places[order] = np.arange(len(order))
        return places[encoded.indices.to_numpy(zero_copy_only=False)]
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    places = np.empty(len(uniques), dtype=np.int64)
    places[np.argsort(uniques, kind="stable")] = np.arange(len(uniques))
    return places[codes]


def _cell_numbers(*frames: pd.DataFrame) -> np.ndarray:
    """One number per row of ``frames`` (stacked) for its exact-match cell: the start date,
    :data:`EXACT_ON` and history-or-not (:func:`_cells`' columns), equal numbers for equal
    values (missing values equal to each other, as when joining on them)."""
    cell = np.zeros(sum(map(len, frames)), dtype=np.int64)
    for key in ["start_date", *EXACT_ON, "_hist"]:
        values = np.concatenate([f[key].to_numpy() for f in frames])
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        cell = pd.factorize(cell * len(uniques) + codes)[0]
    return cell


def _caliper_pairs(
    treated: pd.DataFrame, pool: pd.DataFrame, caliper: float
) -> tuple[np.ndarray, np.ndarray]:
    """Row positions (treated, candidate) of every pair in the same exact-match cell (start
    date, :data:`EXACT_ON`, history or not; :func:`_cells`) whose baselines differ by at most
    ``caliper`` points: what joining on the cell and then applying the caliper gives, in no
    particular order.

    Candidates are sorted by cell, then baseline; each treated pupil's pairs are one range of
    that order, found by binary search on ``cell * width + baseline`` (``width`` spans every
    baseline and the caliper, so a range never reaches another cell) and then checked with the
    caliper's own test, ``|difference| <= caliper``.
    """
    cell = _cell_numbers(treated, pool)
    t_cell, c_cell = cell[: len(treated)], cell[len(treated) :]
    b_t = treated["baseline_attendance_pct"].to_numpy(dtype=float)
    b_c = pool["baseline_attendance_pct"].to_numpy(dtype=float)
    t_ok, c_ok = np.isfinite(b_t), np.isfinite(b_c)
    if not (t_ok.any() and c_ok.any()):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    reach = max(np.abs(b_t[t_ok]).max(), np.abs(b_c[c_ok]).max())
    search = min(caliper, 2 * reach + 1.0)  # no two baselines differ by more than 2 * reach
    width = 2 * (reach + search) + 2.0
    c_rows = np.flatnonzero(c_ok)
    c_rows = c_rows[np.lexsort((b_c[c_rows], c_cell[c_rows]))]
    sorted_key = c_cell[c_rows] * width + b_c[c_rows]
    t_rows = np.flatnonzero(t_ok)
    centre = t_cell[t_rows] * width + b_t[t_rows]
    slack = search + 1e-6 * width  # rounding of the combined key, far below a caliper's width
    lo = np.searchsorted(sorted_key, centre - slack, side="left")
    hi = np.searchsorted(sorted_key, centre + slack, side="right")
    n = np.maximum(hi - lo, 0)
    ti = np.repeat(t_rows, n)
    start = np.repeat(lo - (np.cumsum(n) - n), n)
    ci = c_rows[start + np.arange(len(ti))]
    keep = (c_cell[ci] == t_cell[ti]) & (np.abs(b_t[ti] - b_c[ci]) <= caliper)
    return ti[keep], ci[keep]


def _comparison_side(pairs: pd.DataFrame) -> pd.DataFrame:
    """The comparison columns of ``pairs`` under the treated names (for the design matrix)."""
    return pd.DataFrame({c: pairs[f"{c}_comparison"].to_numpy() for c in SELECTION_COLUMNS})


@dataclass(frozen=True)
class Contributions:
    """Per-unit contributions of a matched estimator, by school, for the cluster bootstrap.

    ``treated``: urn and value per matched treated pupil; ``comparison``: urn, value and weight
    per (treated, comparison) pair. The estimate is mean(treated value) - weighted mean
    (comparison value).
    """

    treated: pd.DataFrame
    comparison: pd.DataFrame

    def estimate(self) -> float:
        t, c = self.treated, self.comparison
        if t.empty:
            return float("nan")
        if c.empty:  # before/after: no comparison
            return float(t["value"].mean())
        return float(t["value"].mean() - np.average(c["value"], weights=c["weight"]))


def did_contributions(
    pairs: pd.DataFrame, *, outcome: str = "change", bias_correct: bool = True
) -> Contributions:
    """Contributions of the (bias-corrected) difference-in-differences.

    ``outcome="change"``: review - :func:`before_attendance` (the effect), each comparison's
    change carried to its treated pupil's level of absence (:func:`comparison_change`), then
    bias-corrected on the baseline and earlier window; ``"placebo"``: baseline - earlier (the pre-trend placebo, no
    bias correction: it is a check, not an estimate).
    """
    if outcome == "change":
        yt = (pairs["review_attendance_pct"] - before_attendance(pairs)).to_numpy(dtype=float)
        yc = comparison_change(pairs).to_numpy(dtype=float)
    else:
        yt = (pairs["baseline_attendance_pct"] - pairs["earlier_attendance_pct"]).to_numpy(float)
        yc = (
            pairs["baseline_attendance_pct_comparison"] - pairs["earlier_attendance_pct_comparison"]
        ).to_numpy(float)
    w = pairs["weight"].to_numpy(dtype=float)
    ok = np.isfinite(yc)
    w = np.where(ok, w, 0.0)
    yc = np.where(ok, yc, 0.0)
    if bias_correct and outcome == "change" and len(pairs):
        xt = _design(pairs)
        xc = _design(_comparison_side(pairs))
        beta = _ols(xc, yc, w)
        yt = yt - xt @ beta
        yc = yc - xc @ beta
    first = ~pairs["intervention_id"].duplicated().to_numpy() & np.isfinite(yt)
    treated = pd.DataFrame({"urn": pairs["urn"].to_numpy()[first], "value": yt[first]})
    keep = w > 0
    comparison = pd.DataFrame(
        {"urn": pairs["urn_comparison"].to_numpy()[keep], "value": yc[keep], "weight": w[keep]}
    )
    return Contributions(treated=treated, comparison=comparison)


def cluster_bootstrap(
    parts: Contributions, *, reps: int = 2000, seed: int = 12345, confidence: float = 0.95
) -> tuple[float, float, float, int]:
    """Estimate, interval and number of schools by a cluster bootstrap resampling schools.

    Each replicate draws the schools with replacement and recomputes mean(treated) - weighted
    mean(comparison) over the drawn schools' units (treated pupils by their school, comparison
    pupils by theirs, a comparison reused by several treated pupils carrying all its weight;
    mean(treated) alone when there is no comparison). The standard error is the replicates'
    standard deviation times sqrt(G / (G - 1)) for G schools: resampling G schools gives a
    variance with divisor G, which understates it when schools are few (the small-sample
    factor of cluster-robust standard errors, Cameron and Miller 2015). The interval is
    estimate +/- t(G - 1) x that standard error.
    """
    t, c = parts.treated, parts.comparison
    est = parts.estimate()
    urns = pd.Index(pd.unique(np.concatenate([t["urn"].to_numpy(), c["urn"].to_numpy()])))
    g = len(urns)
    if not np.isfinite(est) or g < 2:
        return est, np.nan, np.nan, g
    ti = urns.get_indexer(t["urn"])
    ci = urns.get_indexer(c["urn"])
    t_sum = np.bincount(ti, weights=t["value"], minlength=g)
    t_n = np.bincount(ti, minlength=g).astype(float)
    c_sum = np.bincount(ci, weights=c["value"] * c["weight"], minlength=g)
    c_w = np.bincount(ci, weights=c["weight"], minlength=g)
    rng = np.random.default_rng(seed)
    m = rng.multinomial(g, np.full(g, 1 / g), size=reps).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        draws = (m @ t_sum) / (m @ t_n)
        if len(c):
            draws = draws - (m @ c_sum) / (m @ c_w)
    se = float(np.nanstd(draws, ddof=1)) * np.sqrt(g / (g - 1))
    half = float(_st.t.ppf(0.5 + confidence / 2, g - 1)) * se
    return est, est - half, est + half, g


def before_after(evaluated: pd.DataFrame, *, reps: int = 2000, seed: int = 12345) -> tuple:
    """Mean change over evaluable interventions with a complete review, cluster-bootstrapped
    by school (no comparison): estimate, low, high, interventions, schools."""
    ev = evaluated[evaluated["evaluable"] & evaluated["review_complete"]]
    t = pd.DataFrame(
        {"urn": ev["urn"].fillna(-1).to_numpy(), "value": ev["change_pp"].to_numpy(float)}
    )
    if t.empty:
        return np.nan, np.nan, np.nan, 0, 0
    none = pd.DataFrame({"urn": [], "value": [], "weight": []})
    est, low, high, g = cluster_bootstrap(
        Contributions(treated=t, comparison=none), reps=reps, seed=seed
    )
    return est, low, high, len(t), g


def _days_and_size(pairs: pd.DataFrame, estimate: float) -> tuple[float, float]:
    """Days of attendance gained per child over the review window, and the standardised effect
    size (estimate / pooled SD of review-window attendance, treated and weighted comparison)."""
    if pairs.empty or not np.isfinite(estimate):
        return np.nan, np.nan
    first = ~pairs["intervention_id"].duplicated()
    possible = pairs.loc[first, "review_possible"].to_numpy(float)
    days = estimate / 100 * possible.mean() / _SESSIONS_PER_DAY
    yt = pairs.loc[first, "review_attendance_pct"].to_numpy(float)
    yc = pairs["review_attendance_pct_comparison"].to_numpy(float)
    w = pairs["weight"].to_numpy(float)
    vc = np.average((yc - np.average(yc, weights=w)) ** 2, weights=w)
    sd = np.sqrt((np.var(yt, ddof=1) + vc) / 2) if len(yt) > 1 else np.nan
    return float(days), float(estimate / sd) if sd and np.isfinite(sd) else np.nan


def effect_table(
    evaluated: pd.DataFrame,
    pairs: pd.DataFrame | None,
    *,
    reps: int = 2000,
    seed: int = 12345,
) -> pd.DataFrame:
    """The ``effect`` table: before/after, difference-in-differences and the pre-trend placebo.

    ``before_after``: mean change over evaluable interventions with a complete review window.
    ``difference_in_differences``: the bias-corrected matched estimate (module docstring);
    ``n_treated`` = matched interventions, ``n_comparison`` = distinct comparison pupils.
    ``pre_trend_placebo``: the difference-in-differences from the earlier window to the baseline
    on the same matched pupils (should be near zero). Intervals: cluster bootstrap over schools,
    t with (schools - 1) degrees of freedom. ``days_gained`` and ``effect_size`` are given for
    the difference-in-differences. Pass ``pairs=None`` for no comparison.
    """
    est, low, high, n, g = before_after(evaluated, reps=reps, seed=seed)
    rows = [("before_after", est, low, high, n, 0, g, np.nan, np.nan)]
    if pairs is not None:
        n_t = int(pairs["intervention_id"].nunique())
        n_c = int(pairs["upn_comparison"].nunique())
        est, low, high, g = cluster_bootstrap(did_contributions(pairs), reps=reps, seed=seed)
        days, size = _days_and_size(pairs, est)
        rows.append(("difference_in_differences", est, low, high, n_t, n_c, g, days, size))
        est, low, high, g = cluster_bootstrap(
            did_contributions(pairs, outcome="placebo"), reps=reps, seed=seed
        )
        rows.append(("pre_trend_placebo", est, low, high, n_t, n_c, g, np.nan, np.nan))
    return pd.DataFrame(rows, columns=EFFECT_COLUMNS)


def sensitivity_table(
    evaluated: pd.DataFrame,
    pool: pd.DataFrame,
    *,
    settings=((DEFAULT_CALIPER_PP, DEFAULT_NEIGHBOURS), *SENSITIVITY),
    reps: int = 1000,
    seed: int = 12345,
) -> pd.DataFrame:
    """The difference-in-differences under other calipers and numbers of neighbours.

    Returns caliper_pp, neighbours, estimate_pp, ci_low, ci_high, n_treated, n_comparison.
    """
    rows = []
    for caliper, k in settings:
        pairs = match_comparisons(evaluated, pool, caliper_pp=caliper, neighbours=k)
        est, low, high, _ = (
            cluster_bootstrap(did_contributions(pairs), reps=reps, seed=seed)
            if len(pairs)
            else (np.nan, np.nan, np.nan, 0)
        )
        rows.append(
            (
                float(caliper),
                int(k),
                est,
                low,
                high,
                int(pairs["intervention_id"].nunique()) if len(pairs) else 0,
                int(pairs["upn_comparison"].nunique()) if len(pairs) else 0,
            )
        )
    return pd.DataFrame(
        rows,
        columns=[
            "caliper_pp",
            "neighbours",
            "estimate_pp",
            "ci_low",
            "ci_high",
            "n_treated",
            "n_comparison",
        ],
    )


def _year_number(year_group: pd.Series) -> pd.Series:
    """National Curriculum year as a number (N1 = -2, N2 = -1, R = 0; missing otherwise),
    worked out once per distinct label."""
    codes, labels = pd.factorize(year_group, use_na_sentinel=False)
    numbers = pd.to_numeric(
        pd.Series(labels).astype(str).replace(_YEAR_NUMBER), errors="coerce"
    ).to_numpy(dtype=float)
    return pd.Series(numbers[codes], index=year_group.index)


BALANCE_LABELS = {
    "baseline_attendance_pct": "baseline attendance %",
    "earlier_attendance_pct": "earlier window attendance %",
    "history_attendance_pct": "history attendance % (school year before)",
    "year_group": "year group",
    "fsm_pct": "free school meals %",
    "sen_support_pct": "SEN support %",
    "ehc_plan_pct": "EHC plan %",
    "open_service_pct": "open service involvement %",
}


def _covariates(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "baseline_attendance_pct": frame["baseline_attendance_pct"].to_numpy(dtype=float),
            "earlier_attendance_pct": frame["earlier_attendance_pct"].to_numpy(dtype=float),
            "history_attendance_pct": frame["history_attendance_pct"].to_numpy(dtype=float),
            "year_group": _year_number(frame["year_group"]).to_numpy(dtype=float),
            "fsm_pct": 100 * frame["fsm"].astype(float).to_numpy(),
            "sen_support_pct": 100 * (frame["sen"] == "K").astype(float).to_numpy(),
            "ehc_plan_pct": 100 * (frame["sen"] == "E").astype(float).to_numpy(),
            "open_service_pct": 100 * frame["open_service"].astype(float).to_numpy(),
        }
    )


def _wmean_var(x: pd.DataFrame, w: np.ndarray) -> tuple[pd.Series, pd.Series]:
    w = np.asarray(w, dtype=float)
    out_m, out_v = {}, {}
    for col in x.columns:
        v = x[col].to_numpy(dtype=float)
        ok = ~np.isnan(v) & (w > 0)
        if not ok.any():
            out_m[col], out_v[col] = np.nan, np.nan
            continue
        m = np.average(v[ok], weights=w[ok])
        out_m[col], out_v[col] = m, np.average((v[ok] - m) ** 2, weights=w[ok])
    return pd.Series(out_m), pd.Series(out_v)


def _before_matching(pool: pd.DataFrame, per_date: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Mean and variance of each balance covariate over every eligible candidate, each
    candidate weighted by the number of treated pupils on its start date.

    From ``pool.attrs["candidates"]`` (:func:`comparison_pool`'s per-date moments, which cover
    the candidates cut from the pool too) when present, else from the pool's own rows; the
    per-date moments are combined exactly as a weighted mean and a weighted variance about it.
    """
    moments = pool.attrs.get("candidates")
    if moments is not None:
        moments = pd.DataFrame(list(moments), columns=_MOMENTS)
    else:
        moments = pd.concat(
            [_moments(rows, d) for d, rows in pool.groupby("start_date", sort=False)]
            or [pd.DataFrame(columns=_MOMENTS)],
            ignore_index=True,
        )
    names = list(_covariates(pool.head(0)).columns)
    m = moments.assign(w=moments["start_date"].map(per_date).fillna(0).to_numpy(dtype=float))
    m = m[(m["n"] > 0) & (m["w"] > 0)]
    mean, var = {}, {}
    for name in names:
        r = m[m["covariate"] == name]
        w = r["w"].to_numpy(dtype=float) * r["n"].to_numpy(dtype=float)
        if not w.sum() > 0:
            mean[name], var[name] = np.nan, np.nan
            continue
        mu = r["mean"].to_numpy(dtype=float)
        mean[name] = float((w * mu).sum() / w.sum())
        spread = r["w"].to_numpy(dtype=float) * r["m2"].to_numpy(dtype=float)
        var[name] = float((spread + w * (mu - mean[name]) ** 2).sum() / w.sum())
    return pd.Series(mean), pd.Series(var)


def matching_balance(
    evaluated: pd.DataFrame, pool: pd.DataFrame, pairs: pd.DataFrame
) -> pd.DataFrame:
    """Standardised mean differences of every matching variable and open services, before and
    after matching.

    Before: treated pupils entering matching vs the whole pool, each pool row weighted by the
    number of those treated pupils sharing its start date (the same windows). After: matched
    treated vs their comparisons, each comparison weighted 1/k. Both SMDs use the pooled
    standard deviation before matching: (mean_t - mean_c) / sqrt((var_t + var_c)/2); history
    rows use pupils that have one.

    Returns
    -------
    DataFrame
        covariate (in words), treated_before, comparison_before, smd_before, treated_after,
        comparison_after, smd_after, flag (``SMD above 0.1`` where abs(smd_after) > 0.1).
    """
    t = treated_for_matching(evaluated)
    t = t[t["unmatched_reason"] == ""]
    per_date = t.groupby("start_date").size()
    mt, vt = _wmean_var(_covariates(t), np.ones(len(t)))
    mc, vc = _before_matching(pool, per_date)
    sd = np.sqrt((vt + vc) / 2).replace(0, np.nan)
    matched_t = t.set_index("intervention_id").loc[pairs["intervention_id"].unique()].reset_index()
    comp = (
        pool.set_index(["start_date", "upn"])
        .loc[pd.MultiIndex.from_arrays([pairs["start_date"], pairs["upn_comparison"]])]
        .reset_index()
    )
    at, _ = _wmean_var(_covariates(matched_t), np.ones(len(matched_t)))
    ac, _ = _wmean_var(_covariates(comp), pairs["weight"].to_numpy())
    out = pd.DataFrame(
        {
            "treated_before": mt,
            "comparison_before": mc,
            "smd_before": (mt - mc) / sd,
            "treated_after": at,
            "comparison_after": ac,
            "smd_after": (at - ac) / sd,
        }
    )
    out["flag"] = np.where(out["smd_after"].abs() > SMD_FLAG, "SMD above 0.1", "")
    out.index = out.index.map(BALANCE_LABELS)
    return out.rename_axis("covariate").reset_index()


def unmatched_summary(evaluated: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Evaluable interventions not in the matched estimate, by reason, with who they are.

    Returns reason, interventions, mean_baseline_attendance_pct, primary_pct (key stages 1-2),
    fsm_pct, sen_pct (SEN support or EHC plan).
    """
    t = treated_for_matching(evaluated)
    matched = set(pairs["intervention_id"]) if len(pairs) else set()
    t.loc[
        (t["unmatched_reason"] == "") & ~t["intervention_id"].isin(matched), "unmatched_reason"
    ] = "no comparison pupil within the caliper"
    u = t[t["unmatched_reason"] != ""]
    cols = [
        "reason",
        "interventions",
        "mean_baseline_attendance_pct",
        "primary_pct",
        "fsm_pct",
        "sen_pct",
    ]
    if u.empty:
        return pd.DataFrame(columns=cols)
    g = u.assign(
        _primary=u["key_stage"].isin(["KS1", "KS2"]).astype(float) * 100,
        _fsm=u["fsm"].astype(float) * 100,
        _sen=u["sen"].isin(["K", "E"]).astype(float) * 100,
    ).groupby("unmatched_reason")
    out = pd.DataFrame(
        {
            "interventions": g.size(),
            "mean_baseline_attendance_pct": g["baseline_attendance_pct"].mean(),
            "primary_pct": g["_primary"].mean(),
            "fsm_pct": g["_fsm"].mean(),
            "sen_pct": g["_sen"].mean(),
        }
    )
    return out.rename_axis("reason").reset_index()[cols]


def placebo_near_zero(effect: pd.DataFrame) -> bool | None:
    """Whether the pre-trend placebo is near zero (interval includes 0 and |estimate| < 1
    point); None when there is none."""
    rows = effect[effect["method"] == "pre_trend_placebo"]
    if rows.empty or not np.isfinite(rows["estimate_pp"].iloc[0]):
        return None
    r = rows.iloc[0]
    includes = not (r.ci_low > 0 or r.ci_high < 0) if np.isfinite(r.ci_low) else True
    return bool(includes and abs(r.estimate_pp) < PLACEBO_NEAR_ZERO_PP)


def _pp(v: float) -> str:
    return format_pct(v, sign=True, unit="")


def describe_effect(effect: pd.DataFrame, pairs: pd.DataFrame | None, n_evaluable: int) -> str:
    """The before/after and difference-in-differences estimates, the pre-trend placebo and how
    much of the change would have happened anyway, in words."""
    ba = effect.iloc[0]
    text = (
        f"Before and after: attendance changed by {_pp(ba.estimate_pp)} percentage points on "
        f"average (95% interval {_pp(ba.ci_low)} to {_pp(ba.ci_high)}; {int(ba.n_treated):,} "
        "interventions with a complete review window). This alone is biased: pupils picked for "
        "low attendance tend to improve anyway (regression to the mean)."
    )
    if pairs is None or len(effect) < 2:
        return text + " No comparison group was used (`comparison: none`)."
    did = effect[effect["method"] == "difference_in_differences"].iloc[0]
    if len(pairs) == 0:
        return text + " No treated pupil could be matched to a comparison pupil."
    per = pairs.assign(
        _t=pairs["review_attendance_pct"] - before_attendance(pairs),
        _c=pairs["review_attendance_pct_comparison"] - before_attendance(pairs, "_comparison"),
        _at_level=comparison_change(pairs),
    ).groupby("intervention_id")
    t_change = per["_t"].first().mean()
    own_change = per["_c"].mean().mean()
    c_change = per["_at_level"].mean().mean()
    if t_change <= 0:
        anyway = "the matched pupils' attendance did not rise on average"
    elif c_change <= 0:
        anyway = "none of the matched pupils' rise would have happened anyway on this comparison"
    else:
        anyway = (
            f"about {min(100 * c_change / t_change, 100):.0f}% of the matched pupils' rise "
            "would have happened anyway"
        )
    text += (
        f"\n\nMatched comparison: {int(did.n_treated):,} of {n_evaluable:,} evaluable interventions "
        f"were matched to {int(did.n_comparison):,} comparison pupils in {int(did.n_schools):,} "
        f"schools. From their usual level before the intervention to the review window the treated "
        f"pupils changed by {_pp(t_change)} points and their comparisons by {_pp(own_change)} "
        f"points; carried to the treated pupils' usual level of absence (a child with more "
        f"absence moves further), {_pp(c_change)} points, so {anyway}. The "
        f"difference-in-differences "
        f"estimate of the intervention's effect, corrected for the remaining differences in "
        f"pre-intervention attendance, is {_pp(did.estimate_pp)} points (95% interval "
        f"{_pp(did.ci_low)} to {_pp(did.ci_high)}, a cluster bootstrap over schools): about "
        f"{did.days_gained:.1f} days of attendance gained per child over the review window, a "
        f"standardised effect size of {did.effect_size:.2f}."
    )
    plc = effect[effect["method"] == "pre_trend_placebo"]
    if len(plc):
        p = plc.iloc[0]
        near = placebo_near_zero(effect)
        text += (
            f"\n\nPre-trend placebo: the same comparison from the earlier window to the baseline, "
            f"before any intervention, gives {_pp(p.estimate_pp)} points (95% interval "
            f"{_pp(p.ci_low)} to {_pp(p.ci_high)})."
        )
        text += (
            " It is near zero, as it should be: before the intervention, the treated pupils' "
            "attendance moved as their comparisons' did."
            if near
            else f" {strong('Warning:')} it is not near zero. Before any intervention, in the "
            "periods used to choose them, the treated pupils' attendance already moved "
            "differently from their comparisons', so the comparison does not fully stand for "
            "what would have happened anyway. The estimate is measured from each pupil's usual "
            "level and corrected for the remaining differences, but it rests on that correction."
        )
    return text


def describe_balance(balance: pd.DataFrame) -> str:
    """Balance in words: every variable with an SMD above 0.1 after matching is named."""
    flagged = balance[balance["smd_after"].abs() > SMD_FLAG]
    worse = balance[balance["smd_after"].abs() > balance["smd_before"].abs() + 1e-9]
    text = (
        "Balance after matching: every variable has a standardised mean difference of 0.1 or less."
        if flagged.empty
        else "Balance after matching: "
        + "; ".join(f"{r.covariate} has SMD {r.smd_after:+.2f}" for r in flagged.itertuples())
        + f" (above 0.1: {strong('not well balanced')}, {len(flagged)} of {len(balance)} variables)."
    )
    if len(worse):
        text += " Worse after matching than before: " + ", ".join(worse["covariate"]) + "."
    return text


def describe_unmatched(unmatched: pd.DataFrame, n_evaluable: int) -> str:
    """The evaluable interventions left out of the matched estimate, by reason, in words."""
    if unmatched.empty:
        return "Every evaluable intervention entered the matched estimate."
    n = int(unmatched["interventions"].sum())
    parts = [
        f"{r.reason}: {int(r.interventions):,} (mean baseline attendance "
        f"{format_pct(r.mean_baseline_attendance_pct)}, {r.primary_pct:.0f}% primary, "
        f"{r.fsm_pct:.0f}% FSM, {r.sen_pct:.0f}% SEN)"
        for r in unmatched.itertuples()
    ]
    text = (
        f"{n:,} of {n_evaluable:,} evaluable interventions are not in the matched estimate: "
        + "; ".join(parts)
        + "."
    )
    far = unmatched[unmatched["reason"] == "no comparison pupil within the caliper"]
    if len(far):
        text += (
            " The estimate describes the matched children only. No child with attendance like "
            f"the {int(far['interventions'].sum()):,} without a comparison pupil went without "
            "an intervention, so their gain is not estimated; where an intervention turns a "
            "share of a child's absences into attendance, children with more absence gain more "
            "points, so the effect over every child could be larger than this estimate."
        )
    return text


def describe_sensitivity(sens: pd.DataFrame) -> str:
    """How much the estimate moves under other calipers and numbers of neighbours."""
    ok = sens[np.isfinite(sens["estimate_pp"])]
    if ok.empty:
        return "No sensitivity analysis could be run."
    lo, hi = ok["estimate_pp"].min(), ok["estimate_pp"].max()
    return (
        f"Under other calipers (1 to 5 points) and numbers of neighbours (1 to 10) the estimate "
        f"ranges from {_pp(lo)} to {_pp(hi)} points."
    )


def describe_security(
    effect: pd.DataFrame,
    balance: pd.DataFrame | None,
    unmatched: pd.DataFrame,
    n_selected: int,
) -> str:
    """A plain-words paragraph: how secure is this finding (sample size, balance, pre-trend,
    attrition), and a verdict."""
    did = effect[effect["method"] == "difference_in_differences"]
    if did.empty or not np.isfinite(did["estimate_pp"].iloc[0]):
        return (
            "There is no matched comparison, so the report cannot say how much of the change the "
            "interventions caused."
        )
    d = did.iloc[0]
    n = int(d.n_treated)
    pending = 0
    if unmatched is not None and len(unmatched):
        pending = int(unmatched.loc[unmatched["reason"] == "review pending", "interventions"].sum())
    n_selected = max(n_selected - pending, 0)  # pending reviews are not lost, only not yet due
    lost = max(n_selected - n, 0)
    attrition = 100 * lost / n_selected if n_selected else 0.0
    worst = (
        float(balance["smd_after"].abs().max()) if balance is not None and len(balance) else np.nan
    )
    near = placebo_near_zero(effect)
    concerns = []
    if n < 100:
        concerns.append(f"only {n:,} children were matched")
    if np.isfinite(worst) and worst > SMD_FLAG:
        concerns.append(f"the groups are not fully alike after matching (largest SMD {worst:.2f})")
    if near is False:
        concerns.append("the pre-trend placebo is not near zero")
    if attrition > 20:
        concerns.append(
            f"{attrition:.0f}% of the interventions with a complete review are not in the estimate"
        )
    sign = (
        "above zero"
        if d.ci_low > 0
        else ("below zero" if d.ci_high < 0 else "includes zero, so no effect cannot be ruled out")
    )
    verdict = (
        "This is a reasonably secure finding for a matched, non-randomised comparison."
        if not concerns
        else "Read this finding with caution: " + "; ".join(concerns) + "."
    )
    return (
        f"The finding rests on {n:,} children matched to similar children "
        f"who were not worked with, in {int(d.n_schools):,} schools; the interval ({_pp(d.ci_low)} to "
        f"{_pp(d.ci_high)} points) lies {sign}. "
        + (
            f"After matching the largest standardised difference on any matching variable or "
            f"open services is {worst:.2f} (0.1 or less is well balanced). "
            if np.isfinite(worst)
            else ""
        )
        + (
            "Before the interventions the two groups' attendance moved alike (the pre-trend "
            "placebo is near zero). "
            if near
            else (
                "Before the interventions the two groups' attendance did not move alike. "
                if near is False
                else ""
            )
        )
        + f"{lost:,} of {n_selected:,} selected interventions with a complete review window "
        f"({attrition:.0f}%) are not in the estimate (not evaluable or unmatched); "
        f"{pending:,} more are pending. The comparison can only balance "
        "what the data records: officers may know things about a child that the data does not, "
        f"and a randomised trial would be needed to rule that out. {verdict}"
    )


def matched_window_means(pairs: pd.DataFrame) -> pd.DataFrame:
    """Mean usual-level (:func:`before_attendance`), baseline and review attendance % of the
    matched treated pupils and of their comparisons (each comparison weighted 1/k, so every
    treated pupil weighs the same).

    Returns
    -------
    DataFrame
        group (``treated``, ``comparison``), pupils, usual_attendance_pct,
        baseline_attendance_pct, review_attendance_pct, change_pp (review - usual level, the
        change the difference in differences compares).
    """
    per = pairs.assign(
        usual_t=before_attendance(pairs), usual_c=before_attendance(pairs, "_comparison")
    ).groupby("intervention_id")
    t = [per[c].first().mean() for c in ("usual_t", "baseline_attendance_pct")]
    t.append(per["review_attendance_pct"].first().mean())
    c = [
        per[col].mean().mean()
        for col in (
            "usual_c",
            "baseline_attendance_pct_comparison",
            "review_attendance_pct_comparison",
        )
    ]
    return pd.DataFrame(
        {
            "group": ["treated", "comparison"],
            "pupils": [pairs["intervention_id"].nunique(), pairs["upn_comparison"].nunique()],
            "usual_attendance_pct": [t[0], c[0]],
            "baseline_attendance_pct": [t[1], c[1]],
            "review_attendance_pct": [t[2], c[2]],
            "change_pp": [t[2] - t[0], c[2] - c[0]],
        }
    )


def describe_window_means(means: pd.DataFrame) -> str:
    """Alt text for the chart of :func:`matched_window_means`."""
    parts = [
        f"{r.group}: usual level {format_pct(r.usual_attendance_pct)}, baseline "
        f"{format_pct(r.baseline_attendance_pct)}, review {format_pct(r.review_attendance_pct)} "
        f"({format_pct(r.change_pp, sign=True, unit='')} points from the usual level)"
        for r in means.itertuples()
    ]
    return "Mean attendance in each period. " + "; ".join(parts) + "."
