"""The register engine: session counts, DfE rates, attendance bands and shared statistics.

- :mod:`~attendance_lib.engine.sessions`: ``summarise``, the code cube, rates, per-day
  sessions;
- :mod:`~attendance_lib.engine.bands`: attendance bands with explicit edges;
- :mod:`~attendance_lib.engine.stats`: Wilson intervals, the sign test, funnel limits, the
  bootstrap.
"""
