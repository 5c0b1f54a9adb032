"""Exceptions with structured fields, so the command line can report them without a traceback.

Exit codes (used by :mod:`attendance_lib.cli`): 1 invalid data or a failed report, 2 usage error.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One validation finding: where it is and what was expected.

    ``row`` is the 1-based data row (1 = first row after the header); ``None`` for a
    problem with the whole file or column.
    """

    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column '{self.column}'"
        return f"{where}: {self.message}"


class WorkbenchError(Exception):
    """Base class for errors the command line reports in words (no traceback)."""

    exit_code = 1


class DataError(WorkbenchError):
    """The data folder does not meet the data contract. Carries every problem found."""

    def __init__(self, problems: list[Problem], warnings: list[str] | None = None) -> None:
        self.problems = list(problems)
        self.warnings = list(warnings or [])
        noun = "problem" if len(self.problems) == 1 else "problems"
        super().__init__(f"{len(self.problems)} data {noun} found")


class UsageError(WorkbenchError):
    """The command, its arguments or a parameter file were used wrongly."""

    exit_code = 2


class ReportError(WorkbenchError):
    """A report failed to run or to publish.

    ``outcome`` carries the runner's structured result (which units failed, in which cell)
    when there is one; ``str(error)`` is the text the command line prints.
    """

    exit_code = 1

    def __init__(self, message: str, outcome: object | None = None) -> None:
        super().__init__(message)
        self.outcome = outcome
