"""The code table against the data contract's table, typed out here by hand."""

from __future__ import annotations

import numpy as np
import pytest

from attendance_lib.core import codes
from attendance_lib.core.codes import CODE_GROUP, Group

# The data contract, "Register codes and how they count" (legacy codes last in each group).
CONTRACT = {
    Group.PRESENT: {"/", "\\", "L"},
    Group.AEA: {"K", "V", "P", "W", "B", "J"},
    Group.AUTHORISED: {"C", "C1", "C2", "E", "I", "M", "J1", "R", "S", "T", "H", "F"},
    Group.UNAUTHORISED: {"G", "N", "O", "U"},
    Group.NOT_POSSIBLE: {"D", "X", "Q", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7", "Z", "#", "Y"},
}


@pytest.mark.parametrize("group", list(Group))
def test_each_group_holds_exactly_the_contract_codes(group):
    assert set(codes.codes_in(group)) == CONTRACT[group]


def test_no_other_codes_and_no_code_in_two_groups():
    all_contract = set().union(*CONTRACT.values())
    assert set(CODE_GROUP) == all_contract
    assert len(codes.ALL_CODES) == sum(len(v) for v in CONTRACT.values())


def test_legacy_codes_and_their_groups():
    assert codes.LEGACY_CODES == {"H", "F", "J", "Y"}
    assert CODE_GROUP["H"] is Group.AUTHORISED
    assert CODE_GROUP["F"] is Group.AUTHORISED
    assert CODE_GROUP["J"] is Group.AEA
    assert CODE_GROUP["Y"] is Group.NOT_POSSIBLE


@pytest.mark.parametrize("bad", ["-", "", "l", "i", "Y8", "C3", " /"])
def test_unknown_codes_are_not_codes(bad):
    # letters are case-sensitive and "-" (no mark) is not a code
    with pytest.raises(KeyError):
        codes.group_of(bad)
    assert codes.group_lookup([bad])[0] == -1


def test_group_lookup_maps_categories_in_order():
    out = codes.group_lookup(["/", "I", "N", "#", "B", "-"])
    np.testing.assert_array_equal(out, [0, 2, 3, 4, 1, -1])
    assert out.dtype == np.int8


def test_codes_in_several_groups_keeps_table_order():
    both = codes.codes_in(Group.AUTHORISED, Group.UNAUTHORISED)
    assert set(both) == CONTRACT[Group.AUTHORISED] | CONTRACT[Group.UNAUTHORISED]
    assert both == [c for c in codes.ALL_CODES if c in set(both)]


def test_code_table_frame():
    table = codes.code_table()
    assert list(table.columns) == ["code", "group", "possible", "meaning", "legacy"]
    assert len(table) == len(CODE_GROUP)
    row = table.set_index("code")
    assert not row.loc["D", "possible"] and not row.loc["#", "possible"]
    assert row.loc["L", "possible"] and row.loc["L", "group"] == "present"
    assert row.loc["H", "legacy"] and not row.loc["I", "legacy"]
    assert table["meaning"].str.len().gt(0).all()


def test_reasons_are_given_only_for_absence_codes():
    absence = CONTRACT[Group.AUTHORISED] | CONTRACT[Group.UNAUTHORISED]
    assert set(codes.REASON_OF_CODE) <= absence
    assert codes.REASON_OF_CODE["I"] == "illness"
    assert codes.REASON_OF_CODE["G"] == codes.REASON_OF_CODE["H"] == "holidays"
