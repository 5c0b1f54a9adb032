"""The pupil x school-day grid that the register marks are drawn on.

Every pupil has one cell per school day of the generated years. A cell holds the school the
pupil attends that day (``-1`` when not on any roll) and, once marks are drawn, an AM and a
PM code (as an index into :data:`CODES`). Enrolment-level marks are read off this grid when
the files are written; a dual-registered pupil's main school records ``D`` on the days the
grid places them at the pupil referral unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.codes import ALL_CODES, CODE_GROUP, Group
from .population import Population

#: Register codes in the engine's categorical order; grids hold indexes into this tuple.
CODES: tuple[str, ...] = ALL_CODES
CODE_INDEX: dict[str, int] = {c: i for i, c in enumerate(CODES)}
NO_MARK = -1
_GROUP = np.array([int(CODE_GROUP[c]) for c in CODES] + [-1], dtype=np.int8)  # -1 -> NO_MARK


def code(c: str) -> np.int8:
    """Grid value of register code ``c``."""
    return np.int8(CODE_INDEX[c])


def group_of(grid_codes: np.ndarray) -> np.ndarray:
    """Group number (:class:`attendance_lib.core.codes.Group`) of grid codes; -1 for no mark."""
    return _GROUP[grid_codes]


def is_absence(grid_codes: np.ndarray) -> np.ndarray:
    g = group_of(grid_codes)
    return (g == Group.AUTHORISED) | (g == Group.UNAUTHORISED)


def is_possible(grid_codes: np.ndarray) -> np.ndarray:
    g = group_of(grid_codes)
    return (g >= 0) & (g != Group.NOT_POSSIBLE)


def is_attendance(grid_codes: np.ndarray) -> np.ndarray:
    g = group_of(grid_codes)
    return (g == Group.PRESENT) | (g == Group.AEA)


def expand_ranges(first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For inclusive ranges, return (range number, value) for every value in every range."""
    first = np.asarray(first, dtype=np.int64)
    lengths = np.maximum(np.asarray(last, dtype=np.int64) - first + 1, 0)
    owner = np.repeat(np.arange(len(first)), lengths)
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return owner, first[owner] + np.arange(len(owner)) - starts


@dataclass
class Grid:
    """School attended and AM/PM codes per (pupil, school day)."""

    school: np.ndarray  # int16 (P, D), -1 = not on roll
    am: np.ndarray  # int8 (P, D)
    pm: np.ndarray  # int8 (P, D)

    @classmethod
    def from_population(cls, pop: Population, n_days: int) -> Grid:
        e = pop.enrolments
        n = len(pop.master)
        school = np.full((n, n_days), -1, dtype=np.int16)
        for dual in (False, True):  # AP placements overwrite the main school's days
            sub = e[e["dual"] == dual]
            owner, day = expand_ranges(sub["first"] - sub["z_days"], sub["last"])
            school[sub["pid"].to_numpy()[owner], day] = sub["school"].to_numpy()[owner]
        am = np.full((n, n_days), NO_MARK, dtype=np.int8)
        return cls(school=school, am=am, pm=am.copy())

    def copy(self) -> Grid:
        return Grid(school=self.school, am=self.am.copy(), pm=self.pm.copy())

    def session_counts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(possible, absent, attended) sessions per cell, int8 (P, D)."""
        possible = is_possible(self.am).astype(np.int8) + is_possible(self.pm)
        absent = is_absence(self.am).astype(np.int8) + is_absence(self.pm)
        attended = is_attendance(self.am).astype(np.int8) + is_attendance(self.pm)
        return possible, absent, attended
