"""Register codes: the one place that says how each attendance code counts.

Source: DfE, *Working together to improve school attendance* (August 2024) and the
school census guide, as set out in the project's data contract
(``docs/data-contract.md``, "Register codes and how they count").

Every other module asks this one how a code counts; nothing else lists codes.
"""

from __future__ import annotations

from enum import IntEnum
from types import MappingProxyType

import numpy as np
import pandas as pd


class Group(IntEnum):
    """How a session counts. The integer values index the engine's count arrays."""

    PRESENT = 0
    AEA = 1  # approved educational activity: counts as attendance
    AUTHORISED = 2
    UNAUTHORISED = 3
    NOT_POSSIBLE = 4


#: Column name used for each group's session count in every summary table.
GROUP_COLUMNS: dict[Group, str] = {
    Group.PRESENT: "sessions_present",
    Group.AEA: "sessions_aea",
    Group.AUTHORISED: "sessions_authorised",
    Group.UNAUTHORISED: "sessions_unauthorised",
    Group.NOT_POSSIBLE: "sessions_not_possible",
}

_PRESENT = {"/": "present (AM)", "\\": "present (PM)", "L": "late before registers closed"}
_AEA = {
    "K": "attending education provision arranged by the local authority",
    "V": "attending an educational visit or trip",
    "P": "participating in a supervised sporting activity",
    "W": "attending work experience",
    "B": "attending any other approved educational activity",
    "J": "legacy (before 2024): interview",
}
_AUTHORISED = {
    "C": "leave of absence for exceptional circumstances",
    "C1": "leave for a regulated performance or employment abroad",
    "C2": "leave for a part-time timetable",
    "E": "suspended or permanently excluded, no alternative provision",
    "I": "illness (not medical or dental appointment)",
    "M": "medical or dental appointment",
    "J1": "interview",
    "R": "religious observance",
    "S": "study leave",
    "T": "parent travelling for occupational purposes",
    "H": "legacy (before 2024): authorised holiday",
    "F": "legacy (before 2024): extended family holiday agreed",
}
_UNAUTHORISED = {
    "G": "holiday not authorised by the school",
    "N": "reason not yet established",
    "O": "absent in other or unknown circumstances",
    "U": "arrived after registers closed",
}
_NOT_POSSIBLE = {
    "D": "dual registered: at another school",
    "X": "not required to be in school (non-compulsory age)",
    "Q": "unable to attend because of lack of access arrangements",
    "Y1": "unable to attend: transport not available",
    "Y2": "unable to attend: widespread transport disruption",
    "Y3": "unable to attend: part of the school premises closed",
    "Y4": "unable to attend: whole school site unexpectedly closed",
    "Y5": "unable to attend: criminal justice detention",
    "Y6": "unable to attend: public health guidance or law",
    "Y7": "unable to attend: any other unavoidable cause",
    "Z": "prospective pupil not on admission register",
    "#": "planned whole or partial school closure",
    "Y": "legacy (before 2024): unable to attend due to exceptional circumstances",
}

#: Codes that exist only in pre-August-2024 data. Accepted on any date.
LEGACY_CODES: frozenset[str] = frozenset({"H", "F", "J", "Y"})

#: The date the 2024 code set came into force (legacy codes retired after it).
CODES_2024_FROM = pd.Timestamp("2024-08-19")

CODE_GROUP: MappingProxyType[str, Group] = MappingProxyType(
    {
        **dict.fromkeys(_PRESENT, Group.PRESENT),
        **dict.fromkeys(_AEA, Group.AEA),
        **dict.fromkeys(_AUTHORISED, Group.AUTHORISED),
        **dict.fromkeys(_UNAUTHORISED, Group.UNAUTHORISED),
        **dict.fromkeys(_NOT_POSSIBLE, Group.NOT_POSSIBLE),
    }
)

CODE_MEANING: MappingProxyType[str, str] = MappingProxyType(
    {**_PRESENT, **_AEA, **_AUTHORISED, **_UNAUTHORISED, **_NOT_POSSIBLE}
)

#: Every valid code, in a fixed order (the engine's categorical order).
ALL_CODES: tuple[str, ...] = tuple(CODE_GROUP)

#: Absence reasons used by the strategy and school reports (code -> reason label).
REASON_OF_CODE: MappingProxyType[str, str] = MappingProxyType(
    {
        "I": "illness",
        "M": "medical",
        "H": "holidays",
        "F": "holidays",
        "G": "holidays",
        "C": "other authorised (C)",
        "C1": "other authorised (C)",
        "C2": "reduced timetable (C2)",
        "E": "exclusion",
        "J1": "other authorised",
        "R": "other authorised",
        "S": "other authorised",
        "T": "other authorised",
        "N": "unauthorised: not yet established (N)",
        "O": "unauthorised: other (O)",
        "U": "unauthorised: late after close (U)",
    }
)


def group_of(code: str) -> Group:
    """Return the :class:`Group` of one register code.

    Raises
    ------
    KeyError
        If ``code`` is not a register code (``-``, no mark, is not a code).
    """
    return CODE_GROUP[code]


def group_lookup(categories: pd.Index | list[str]) -> np.ndarray:
    """Map an array of code categories to group numbers (``-1`` for unknown codes).

    Used by the engine to turn a categorical column's codes into groups with one
    vectorised ``take``; unknown categories map to ``-1`` so validation can name them.
    """
    return np.array([CODE_GROUP.get(str(c), -1) for c in categories], dtype=np.int8)


def codes_in(*groups: Group) -> list[str]:
    """All codes in the given groups, in table order."""
    wanted = set(groups)
    return [c for c, g in CODE_GROUP.items() if g in wanted]


def code_table() -> pd.DataFrame:
    """The code table as a DataFrame (code, group, possible, meaning, legacy) for docs and reports."""
    rows = [
        {
            "code": code,
            "group": group.name.lower(),
            "possible": group != Group.NOT_POSSIBLE,
            "meaning": CODE_MEANING[code],
            "legacy": code in LEGACY_CODES,
        }
        for code, group in CODE_GROUP.items()
    ]
    return pd.DataFrame(rows)
