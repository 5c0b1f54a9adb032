"""The report runner: parameter files -> papermill -> published HTML, tables and run.json.

``run_report`` and ``run_all`` are what ``attendance-workbench run`` and ``run-all`` call;
``format_outcome`` gives the text they print. Modules, one concern each:

- :mod:`~attendance_lib.runner.params`: load and check ``params/*.yaml`` against the notebook;
- :mod:`~attendance_lib.runner.execute`: papermill, the kernel and its environment, retries;
- :mod:`~attendance_lib.runner.publish`: HTML (our own nbconvert template, a CSP, no active
  content), spreadsheet-safe tables, atomic moves;
- :mod:`~attendance_lib.runner.privacy`: the privacy gate (UPNs, disguised or not, and name
  columns in every published file);
- :mod:`~attendance_lib.runner.offline`: the check that a page loads nothing from other hosts;
- :mod:`~attendance_lib.runner.guard`: one run per output folder, clean-up after SIGTERM;
- :mod:`~attendance_lib.runner.index`: ``reports/index.html``;
- :mod:`~attendance_lib.runner.run`: running units on a thread pool;
- :mod:`~attendance_lib.runner.workers`: how many at once, from the cores and the memory.
"""

from attendance_lib.runner.outcome import (
    RunAllOutcome,
    RunOutcome,
    UnitOutcome,
    format_outcome,
)
from attendance_lib.runner.run import run_all, run_report

__all__ = [
    "RunAllOutcome",
    "RunOutcome",
    "UnitOutcome",
    "format_outcome",
    "run_all",
    "run_report",
]
