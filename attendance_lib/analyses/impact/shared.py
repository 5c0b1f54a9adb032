"""The 12-week impact evaluation's heavy part, computed once per dataset and parameters.

The public report (``impact_12_week``) and the restricted one (``impact_12_week_pupils``) run
the same evaluation: every pupil's sessions by day, each intervention's windows and the
comparison pool. On a large LA that is most of the report's time and memory, and ``run-all``
runs both versions, often at the same time. :func:`impact_basis` computes it once and keeps
it in the dataset's cache (:meth:`~attendance_lib.contract.dataset.Dataset.cached_result`:
keyed by the data, the code and every parameter it depends on; the second report waits for
the first, then reads). What each version publishes is still decided in its notebook.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from attendance_lib.analyses.impact import evaluation, matching, windows
from attendance_lib.core.academic_calendar import Calendar


@dataclass(frozen=True)
class ImpactBasis:
    """What the impact notebook needs from the marks.

    ``evaluated``: :func:`~attendance_lib.analyses.impact.evaluation.select_interventions` of
    :func:`~attendance_lib.analyses.impact.evaluation.evaluate_interventions`; ``pool``:
    :func:`~attendance_lib.analyses.impact.matching.comparison_pool` for it (``None`` with
    ``comparison="none"``); ``last_date``: the latest mark; ``whole_weeks``: the windows were
    counted from weekly counts (:data:`~attendance_lib.analyses.impact.windows.WHOLE_WEEKS_NOTE`).
    """

    evaluated: pd.DataFrame
    pool: pd.DataFrame | None
    last_date: pd.Timestamp
    whole_weeks: bool


def impact_basis(
    dataset,
    calendar: Calendar,
    *,
    weeks: int = 12,
    baseline: str = "weeks_before",
    unit: str = "school_days",
    min_improvement_pp: float = 0.0,
    started_from: str = "",
    started_to: str = "",
    officer: str = "",
    locality: str = "",
    comparison: str = "matched",
) -> ImpactBasis:
    """The evaluated interventions and the comparison pool, from the cache when another report
    has computed them for the same data, code and parameters (module docstring).

    ``dataset`` is a :class:`~attendance_lib.contract.dataset.Dataset`; the keywords are the
    impact notebook's parameters of the same names (``unit`` is its ``window_unit``).
    """
    key = dict(
        weeks=int(weeks),
        baseline=baseline,
        unit=unit,
        min_improvement_pp=float(min_improvement_pp),
        started_from=started_from or "",
        started_to=started_to or "",
        officer=officer or "",
        locality=locality or "",
        comparison=comparison,
    )

    def compute() -> ImpactBasis:
        sessions = windows.PupilSessions.build(dataset, dataset.pupils, calendar)
        everything = evaluation.evaluate_interventions(
            dataset.interventions,
            sessions,
            dataset.pupils,
            dataset.schools,
            calendar,
            weeks=weeks,
            baseline=baseline,
            unit=unit,
            min_improvement_pp=min_improvement_pp,
            services=dataset.services,
        )
        evaluated = evaluation.select_interventions(
            everything,
            started_from=started_from,
            started_to=started_to,
            officer=officer,
            locality=locality,
        )
        pool = None
        if comparison == "matched":
            pool = matching.comparison_pool(
                evaluated,
                sessions,
                dataset.pupils,
                dataset.schools,
                dataset.interventions,
                dataset.services,
            )
        return ImpactBasis(
            evaluated=evaluated,
            pool=pool,
            last_date=sessions.last_date,
            whole_weeks=sessions.index.whole_weeks,
        )

    return dataset.cached_result("impact_basis", key, compute)
