"""The cohort, identified once per dataset and parameters for the report's two versions.

``cohort_identification`` (the restricted worklist) and ``cohort_identification_summary``
(counts by locality and school) identify the same cohort; ``run-all`` runs both.
:func:`identified_cohort` computes it once and keeps it in the dataset's cache
(:meth:`~attendance_lib.contract.dataset.Dataset.cached_result`: keyed by the data, the code
and every parameter; the second report waits for the first, then reads it).
"""

from __future__ import annotations

import pandas as pd

from attendance_lib.analyses.cohort import identification, sources
from attendance_lib.core.academic_calendar import Calendar


def identified_cohort(
    dataset,
    calendar: Calendar,
    *,
    as_of: pd.Timestamp,
    lookback_weeks: int = 0,
    year_groups: list | None = None,
    capacity_per_officer: int = identification.DEFAULT_CAPACITY,
) -> identification.Cohort:
    """:func:`~attendance_lib.analyses.cohort.identification.identify_cohort` on the window's
    marks (:func:`~attendance_lib.analyses.cohort.sources.window_source`) with the dataset's
    pupils, schools, services and interventions, from the cache when another report has
    identified it for the same data, code and parameters."""
    key = dict(
        as_of=pd.Timestamp(as_of).isoformat(),
        lookback_weeks=int(lookback_weeks),
        year_groups=[str(y) for y in (year_groups or [])],
        capacity_per_officer=int(capacity_per_officer),
    )

    def compute() -> identification.Cohort:
        start, end = identification.lookback_window(as_of, calendar, lookback_weeks)
        return identification.identify_cohort(
            sources.window_source(dataset, start, end),
            dataset.pupils,
            dataset.schools,
            calendar,
            as_of=as_of,
            lookback_weeks=lookback_weeks,
            services=dataset.services,
            interventions=dataset.interventions,
            year_groups=year_groups,
            capacity_per_officer=capacity_per_officer,
        )

    return dataset.cached_result("cohort", key, compute)
