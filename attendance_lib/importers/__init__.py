"""Importers: data in other shapes turned into a contract data folder.

- :mod:`.vyed`: the DfE "Monitor your school attendance" (VYED) weekly pupil-level downloads,
  cumulative per enrolment, into schools, pupils, calendar and a ``weekly`` table.
- :mod:`.benchmarks`: Explore Education Statistics census and daily-data files, as
  downloaded, into one table of comparators (area, period, basis, phase, measure).
- :mod:`.marks`: session-level MIS exports into contract marks, by a YAML mapping.

This layer sits between ``contract`` and ``engine``: it reads and validates with the contract
and never counts sessions itself beyond the differences between consecutive files.
"""
