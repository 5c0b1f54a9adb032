"""The aggregate screen of Parquet marks: it passes clean files and never passes a bad one."""

from __future__ import annotations

import pandas as pd
import pytest
from builders import URN_A, URN_B, make_upn, mark, pupil, sessions, write_folder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attendance_lib.contract.dataset import load_dataset
from attendance_lib.contract.marks_screen import screen_parquet_marks
from attendance_lib.contract.partitioning import write_partitioned_marks
from attendance_lib.contract.reading import TABLES, ProblemLog, read_table
from attendance_lib.core.academic_calendar import Calendar
from attendance_lib.core.errors import DataError
from attendance_lib.engine.sessions import summarise

P1, P2, P3 = make_upn(1), make_upn(2), make_upn(3)


def screen(folder, marks_path=None):
    log = ProblemLog()
    pupils = read_table(folder / "pupils.csv", TABLES["pupils"], log)
    schools = read_table(folder / "schools.csv", TABLES["schools"], log)
    calendar = read_table(folder / "calendar.csv", TABLES["calendar"], log)
    path = marks_path or folder / "marks.parquet"
    return screen_parquet_marks(path, pupils["upn"], schools["urn"], Calendar(calendar))


def parquet_folder(tmp_path, marks, **kw):
    return write_folder(tmp_path, marks=marks, marks_format="parquet", **kw)


def test_a_clean_file_passes_without_loading_marks(tmp_path):
    marks = sessions(P1, URN_A, ["/", "I", "N", "D"]) + sessions(P2, URN_B, ["/", "X"])
    folder = parquet_folder(tmp_path, marks + [mark(P1, URN_A, "2024-07-19", "PM", "/")])
    assert screen(folder) is None
    ds = load_dataset(folder)
    assert ds._marks is None and ds.marks_as_stored  # proven clean, not loaded
    assert len(ds.marks) == 7  # read from the file on first use


def test_dual_registration_is_not_a_duplicate(tmp_path):
    marks = sessions(P1, URN_A, ["D", "D"]) + sessions(P1, URN_B, ["/", "I"])
    assert screen(parquet_folder(tmp_path, marks)) is None


def test_possible_marks_at_two_schools_go_to_the_detailed_checks(tmp_path):
    marks = sessions(P1, URN_A, ["/", "D"]) + sessions(P1, URN_B, ["/", "I"])
    found = screen(parquet_folder(tmp_path, marks))
    assert found is not None and "two schools" in found


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda m: m.assign(code=["/", "-", "I", "N"]), "code table"),
        (lambda m: m.assign(code=["/", None, "I", "N"]), "code table"),
        (lambda m: m.assign(session=["AM", "PM", "EVE", "PM"]), "AM or PM"),
        (lambda m: m.assign(session=["AM", None, "AM", "PM"]), "AM or PM"),
        (lambda m: m.assign(date=[m.date[0], m.date[0], m.date[2], m.date[0]]), "duplicate"),
        (
            lambda m: m.assign(code=["/", "/", "I", "/"], session=["AM", "PM", "AM", "PM"]).iloc[
                [0, 1, 2, 2]
            ],
            "duplicate",
        ),
        (lambda m: m.assign(date=[m.date[0], None, m.date[2], m.date[3]]), "no upn, urn or date"),
        (lambda m: m.assign(upn=[P1, None, P1, P1]), "no upn, urn or date"),
        (lambda m: m.assign(upn=[P1, P3, P1, P1]), "pupils.csv"),
        (lambda m: m.assign(urn=[URN_A, 999999, URN_A, URN_A]), "schools.csv"),
        (lambda m: m.assign(date=[m.date[0], "2023-10-25", m.date[2], m.date[3]]), "calendar"),
        (lambda m: m.assign(date=[m.date[0], "2023-09-01", m.date[2], m.date[3]]), "calendar"),
        (lambda m: m.assign(date=[m.date[0], "2031-09-01", m.date[2], m.date[3]]), "calendar"),
        (lambda m: m.assign(date=[m.date[0], "1850-01-07", m.date[2], m.date[3]]), "calendar"),
        (lambda m: m.assign(date=[m.date[0], "2023-09-09", m.date[2], m.date[3]]), "Saturday"),
        (lambda m: m.assign(urn=[URN_A, URN_A, URN_B, URN_B], date=m.date[0]), "two schools"),
    ],
)
def test_every_kind_of_bad_file_goes_to_the_detailed_checks(tmp_path, change, reason):
    folder = write_folder(tmp_path, pupils=[pupil(P1), pupil(P2)], marks=[])
    marks = pd.DataFrame(sessions(P1, URN_A, ["/", "I", "N", "/"]))  # dates as text
    bad = change(marks)
    if "date" in bad and not reason.startswith("types"):
        bad = bad.assign(date=pd.to_datetime(bad["date"]))
    bad.to_parquet(folder / "marks.parquet", index=False)
    (folder / "marks.csv").unlink(missing_ok=True)
    found = screen(folder)
    assert found is not None and reason in found
    try:  # and the detailed checks find the rows (identical duplicates: a warning)
        assert load_dataset(folder).warnings
    except DataError as error:
        assert error.problems


@pytest.mark.parametrize(
    ("change", "column"),
    [
        (lambda m: m.assign(urn=m.urn.astype(str)), "urn"),
        (lambda m: m.assign(date=m.date.dt.strftime("%Y-%m-%d")), "date"),
        (lambda m: m.drop(columns="session"), "session"),
        (lambda m: m.assign(date=m.date.dt.tz_localize("Europe/London")), "date"),
    ],
)
def test_columns_of_other_types_are_left_to_the_detailed_checks(tmp_path, change, column):
    folder = write_folder(tmp_path, pupils=[pupil(P1)], marks=[])
    marks = pd.DataFrame(sessions(P1, URN_A, ["/", "I"])).assign(
        date=lambda m: pd.to_datetime(m.date)
    )
    change(marks).to_parquet(folder / "marks.parquet")
    (folder / "marks.csv").unlink()
    assert screen(folder).endswith(f"types: {column}")
    try:
        assert not load_dataset(folder).marks_as_stored  # typed while read into pandas
    except DataError as error:
        assert error.problems


def test_padded_text_is_trimmed_and_never_read_as_stored(tmp_path):
    folder = parquet_folder(tmp_path, sessions(P1, URN_A, ["/", "N"]), pupils=[pupil(P1)])
    frame = pd.read_parquet(folder / "marks.parquet")
    frame.assign(upn=[P1, P1 + " "], session=["AM", " PM"]).to_parquet(folder / "marks.parquet")
    assert screen(folder) is not None
    ds = load_dataset(folder)  # the detailed checks trim the text: valid
    assert not ds.marks_as_stored
    table = summarise(ds).table
    assert table["upn"].tolist() == [P1] and table["sessions_possible"].tolist() == [2]


def test_a_partitioned_directory_is_screened_too(tmp_path):
    marks = sessions(P1, URN_A, ["/", "I"]) + sessions(P2, URN_B, ["N", "/"])
    folder = write_folder(tmp_path, marks=marks)
    (folder / "marks.csv").unlink()
    frame = pd.DataFrame(marks).assign(date=lambda m: pd.to_datetime(m["date"]))
    layout = write_partitioned_marks(frame, folder / "marks.parquet")
    assert screen(folder, layout.path) is None
    frame.loc[1, "upn"] = P3
    bad = write_partitioned_marks(frame, tmp_path / "bad.parquet")
    assert "pupils.csv" in screen(folder, bad.path)


# The screen and the mark-by-mark checks agree on random small files: clean rows (which may
# repeat a key, so duplicates happen) with up to two faults of any kind injected.
DATES = ["2023-09-04", "2023-09-05", "2023-09-09", "2023-10-20", "2023-10-30", "2024-07-19"]
FAULTS = {
    "upn": [P3],
    "urn": [999999],
    "date": ["2023-10-23", "2024-07-22", "2019-09-02"],
    "session": ["pm", "EVE"],
    "code": ["Q", "-", "l"],
}
clean_rows = st.lists(
    st.fixed_dictionaries(
        {
            "upn": st.sampled_from([P1, P2]),
            "urn": st.sampled_from([URN_A, URN_B]),
            "date": st.sampled_from(DATES),
            "session": st.sampled_from(["AM", "PM"]),
            "code": st.sampled_from(["/", "I", "N", "D", "X"]),
        }
    ),
    min_size=1,
    max_size=6,
)
faults = st.lists(
    st.tuples(st.integers(0, 9), st.sampled_from(sorted(FAULTS)), st.integers(0, 2)), max_size=2
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=clean_rows, injected=faults)
def test_screen_passes_exactly_the_files_the_detailed_checks_pass(tmp_path_factory, rows, injected):
    for row, column, choice in injected:
        values = FAULTS[column]
        rows[row % len(rows)] = rows[row % len(rows)] | {column: values[choice % len(values)]}
    tmp = tmp_path_factory.mktemp("screen")
    folder = write_folder(tmp, pupils=[pupil(P1), pupil(P2)], marks=rows, marks_format="parquet")
    csv = write_folder(tmp, pupils=[pupil(P1), pupil(P2)], marks=rows, name="csv")
    try:
        detailed_clean = load_dataset(csv).warnings == []
    except DataError:
        detailed_clean = False
    assert (screen(folder) is None) == detailed_clean
