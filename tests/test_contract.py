"""Reading a data folder: files, column names, types, many problems at once, fingerprint, cache."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from builders import (
    OMIT,
    URN_A,
    URN_B,
    make_upn,
    pupil,
    school,
    sessions,
    write_folder,
)

import attendance_lib
from attendance_lib.contract import dataset
from attendance_lib.contract.dataset import load_dataset
from attendance_lib.contract.reading import MAX_ROWS_LISTED
from attendance_lib.core.errors import DataError, UsageError

P1, P2 = make_upn(1), make_upn(2)


def problems(folder, **kw) -> list:
    with pytest.raises(DataError) as info:
        load_dataset(folder, **kw)
    return info.value.problems


def find(problems_, file, column=None, row=None, text=None):
    """The problems matching file (and column, row, message text)."""
    hits = [
        p
        for p in problems_
        if p.file == file
        and (column is None or p.column == column)
        and (row is None or p.row == row)
        and (text is None or text in p.message)
    ]
    assert hits, f"no problem for {file}/{column}/{row}/{text!r} in {problems_}"
    return hits


def valid_folder(tmp_path, **kw):
    kw.setdefault(
        "marks", sessions(P1, URN_A, ["/", "I", "N", "#"]) + sessions(P2, URN_B, ["/", "/"])
    )
    kw.setdefault("pupils", [pupil(P1, URN_A), pupil(P2, URN_B)])
    return write_folder(tmp_path, **kw)


def test_valid_folder_loads_with_contract_types(tmp_path):
    ds = load_dataset(valid_folder(tmp_path))
    assert ds.root == tmp_path / "data"
    assert list(ds.schools["urn"]) == [URN_A, URN_B]
    assert pd.api.types.is_integer_dtype(ds.schools["urn"])
    assert pd.api.types.is_integer_dtype(ds.pupils["urn"])
    assert pd.api.types.is_bool_dtype(ds.pupils["fsm"])
    assert pd.api.types.is_datetime64_any_dtype(ds.calendar["start_date"])
    assert ds.calendar["start_date"].iloc[0] == pd.Timestamp("2023-09-04")
    assert ds.pupils["upn"].map(type).eq(str).all()
    marks = ds.marks
    assert isinstance(marks["upn"].dtype, pd.CategoricalDtype)
    assert isinstance(marks["code"].dtype, pd.CategoricalDtype)
    assert isinstance(marks["session"].dtype, pd.CategoricalDtype)
    assert marks["urn"].dtype == np.int32
    assert pd.api.types.is_datetime64_any_dtype(marks["date"])
    assert len(marks) == 6
    for name in ("absence_terms", "ks2", "ks4", "services", "interventions", "benchmarks"):
        assert getattr(ds, name) is None
    assert ds.warnings == []


def test_column_names_case_and_spaces_bom_and_extra_columns(tmp_path):
    folder = valid_folder(tmp_path)
    text = (folder / "schools.csv").read_text()
    header, rest = text.split("\n", 1)
    header = ",".join(f" {c.upper()} " for c in header.split(",")) + ",Head Teacher"
    rest = "\n".join(line + ",Ms X" for line in rest.strip().split("\n")) + "\n"
    (folder / "schools.csv").write_text("\ufeff" + header + "\n" + rest, encoding="utf-8")
    ds = load_dataset(folder)
    assert list(ds.schools["urn"]) == [URN_A, URN_B]
    assert (ds.schools["head teacher"] == "Ms X").all()  # extra columns kept


def test_booleans_year_groups_and_optional_columns(tmp_path):
    people = [make_upn(i) for i in range(1, 9)]
    spellings = ["true", "FALSE", "1", "0", "Y", "n", "yes", "No"]
    years = ["R", "n1", "N2", "05", "1", "11", "14", "6"]
    rows = [
        pupil(u, fsm=b, year_group=y, eal="" if i % 2 else "true", date_of_birth="2015-02-28")
        for i, (u, b, y) in enumerate(zip(people, spellings, years, strict=True))
    ]
    ds = load_dataset(write_folder(tmp_path, pupils=rows))
    assert ds.pupils["fsm"].tolist() == [True, False, True, False, True, False, True, False]
    assert ds.pupils["year_group"].tolist() == ["R", "N1", "N2", "5", "1", "11", "14", "6"]
    assert ds.pupils["eal"].isna().sum() == 4
    assert ds.pupils["date_of_birth"].iloc[0] == pd.Timestamp("2015-02-28")
    assert ds.pupils["fsm6"].isna().all()  # optional column absent from the file


def test_parquet_marks_read_like_csv_marks(tmp_path):
    marks = sessions(P1, URN_A, ["/", "I", "N", "#"]) + sessions(P2, URN_B, ["/", "L"])
    csv = load_dataset(write_folder(tmp_path, marks=marks, name="csv")).marks
    pq = load_dataset(write_folder(tmp_path, marks=marks, name="pq", marks_format="parquet")).marks
    assert (tmp_path / "pq" / "marks.parquet").is_file()
    for col in ("upn", "session", "code"):
        assert csv[col].astype(str).tolist() == pq[col].astype(str).tolist()
    assert (csv["urn"] == pq["urn"]).all() and (csv["date"] == pq["date"]).all()


def test_parquet_marks_with_text_dates_and_bad_values(tmp_path):
    folder = write_folder(tmp_path, marks=sessions(P1, URN_A, ["/", "I"]))
    frame = pd.read_csv(folder / "marks.csv", dtype=str)
    frame.loc[1, "date"] = "04/09/2023"
    frame.loc[1, "code"] = "-"
    (folder / "marks.csv").unlink()
    frame.to_parquet(folder / "marks.parquet", index=False)
    found = problems(folder)
    find(found, "marks.parquet", "date", 2, "YYYY-MM-DD")
    find(found, "marks.parquet", "code", 2, "'-' is not a register code")


def test_missing_folder_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        load_dataset(tmp_path / "nowhere")


@pytest.mark.parametrize("table", ["schools", "pupils", "calendar", "marks"])
def test_missing_required_table(tmp_path, table):
    folder = valid_folder(tmp_path, **{table: OMIT})
    (p,) = problems(folder)
    assert p.file == f"{table}.csv" and "required table is missing" in p.message


def test_missing_required_column_named(tmp_path):
    folder = write_folder(
        tmp_path, schools=[{"urn": URN_A, "school_name": "A", "locality": "East"}]
    )
    find(problems(folder), "schools.csv", "phase", None, "required column is missing")


def test_missing_column_in_parquet_marks(tmp_path):
    folder = write_folder(tmp_path, marks=sessions(P1, URN_A, ["/"]), marks_format="parquet")
    frame = pd.read_parquet(folder / "marks.parquet").drop(columns="session")
    frame.to_parquet(folder / "marks.parquet", index=False)
    find(problems(folder), "marks.parquet", "session", None, "required column is missing")


def test_type_problems_name_file_row_column_and_expectation(tmp_path):
    bad_pupils = [
        pupil(make_upn(1)),
        pupil(make_upn(2), urn="abc", academic_year="2023-24", year_group="15", fsm="maybe"),
        pupil(make_upn(3), sex="X", sen="S", date_of_birth="31/12/2015"),
        pupil(make_upn(4), academic_year="2023/25", urn="1.5"),
    ]
    calendar = [
        {"academic_year": "2023/24", "half_term": "one", "start_date": "2023-09-04"}
        | {"end_date": "2023-13-01"}
    ]
    found = problems(write_folder(tmp_path, pupils=bad_pupils, calendar=calendar))
    find(found, "pupils.csv", "urn", 2, "'abc' is not a whole number")
    find(found, "pupils.csv", "urn", 4, "'1.5' is not a whole number")
    find(found, "pupils.csv", "academic_year", 2, "an academic year such as 2023/24")
    find(found, "pupils.csv", "academic_year", 4, "2023/25")
    find(found, "pupils.csv", "year_group", 2, "N1, N2, R or 1 to 14")
    find(found, "pupils.csv", "fsm", 2, "true/false")
    find(found, "pupils.csv", "sex", 3, "expected one of F, M")
    find(found, "pupils.csv", "sen", 3, "expected one of N, K, E")
    find(found, "pupils.csv", "date_of_birth", 3, "YYYY-MM-DD")
    find(found, "calendar.csv", "half_term", 1, "whole number")
    find(found, "calendar.csv", "end_date", 1, "YYYY-MM-DD")


def test_empty_required_values_are_reported(tmp_path):
    folder = write_folder(tmp_path, schools=[school(URN_A, locality=""), school(URN_B)])
    find(problems(folder), "schools.csv", "locality", 1, "is empty")


def test_many_rows_of_one_kind_are_listed_then_counted(tmp_path):
    rows = [pupil(make_upn(i), sex="Q") for i in range(1, MAX_ROWS_LISTED + 6)]
    found = problems(write_folder(tmp_path, pupils=rows))
    listed = [p for p in found if p.column == "sex" and p.row is not None]
    assert [p.row for p in listed] == list(range(1, MAX_ROWS_LISTED + 1))
    (summary,) = [p for p in found if p.column == "sex" and p.row is None]
    assert "and 5 more rows like this" in summary.message


def test_not_utf8_and_empty_files(tmp_path):
    folder = valid_folder(tmp_path)
    (folder / "schools.csv").write_bytes("urn,school_name\n1,Caf\xe9\n".encode("latin-1"))
    find(problems(folder), "schools.csv", None, None, "UTF-8")
    (folder / "schools.csv").write_text("")
    find(problems(folder), "schools.csv", None, None, "empty")


def test_fingerprint_changes_with_any_file(tmp_path):
    folder = valid_folder(tmp_path)
    first = load_dataset(folder)
    assert len(first.fingerprint) == 16 and int(first.fingerprint, 16) >= 0
    assert set(first.files) == {"schools.csv", "pupils.csv", "calendar.csv", "marks.csv"}
    assert load_dataset(folder).fingerprint == first.fingerprint
    with (folder / "schools.csv").open("a") as fh:
        fh.write("100003,School 3,primary,South\n")
    assert load_dataset(folder).fingerprint != first.fingerprint


def test_validation_result_is_cached_per_fingerprint(tmp_path, monkeypatch):
    folder = write_folder(tmp_path, marks=sessions(P1, URN_A, ["/", "/"]) * 2)
    ds = load_dataset(folder)
    assert len(ds.warnings) == 1  # identical duplicates collapsed
    stamp = ds.cache_dir / "validated.json"
    assert json.loads(stamp.read_text())["warnings"] == ds.warnings
    import attendance_lib.contract.validation as validation

    def boom(*a, **k):
        raise AssertionError("validated twice")

    monkeypatch.setattr(validation, "validate_dataset", boom)
    again = load_dataset(folder)
    assert again.warnings == ds.warnings
    assert len(again.marks) == 2  # duplicates collapsed on the lazy read too


def test_a_changed_workbench_validates_again_and_recomputes(tmp_path, monkeypatch):
    monkeypatch.setenv("ATTENDANCE_WORKBENCH_CACHE", str(tmp_path / "cache"))
    folder = valid_folder(tmp_path)
    calls = []
    real = dataset.validate_dataset

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(dataset, "validate_dataset", counting)
    first = dataset.read_dataset(folder)
    first.cached("thing", lambda: pd.DataFrame({"x": [1]}))
    dataset.read_dataset(folder)
    assert len(calls) == 1  # remembered
    monkeypatch.setattr(dataset, "code_digest", lambda: "0123456789ab")
    upgraded = dataset.read_dataset(folder)
    assert len(calls) == 2  # another version of the rules: validated again
    assert upgraded.fingerprint == first.fingerprint  # the data's identity is unchanged
    assert upgraded.cached("thing", lambda: pd.DataFrame({"x": [2]}))["x"].tolist() == [2]


def test_code_digest_covers_the_package_source():
    digest = dataset.code_digest()
    assert len(digest) == 12 and int(digest, 16) >= 0
    assert dataset.cache_folder("abc").name == f"abc-{digest}"
    # the whole package, not only the layer dataset.py lives in: a changed analysis must not
    # read what an older version of it cached
    assert dataset.PACKAGE_FOLDER == Path(attendance_lib.__file__).resolve().parent
    assert digest == dataset.source_digest(dataset.PACKAGE_FOLDER)


def test_source_digest_changes_with_any_file_in_any_subfolder(tmp_path):
    (tmp_path / "core").mkdir()
    (tmp_path / "analyses" / "strategy").mkdir(parents=True)
    (tmp_path / "core" / "a.py").write_text("A = 1\n")
    deep = tmp_path / "analyses" / "strategy" / "b.py"
    deep.write_text("B = 1\n")
    before = dataset.source_digest(tmp_path)
    assert dataset.source_digest(tmp_path) == before
    deep.write_text("B = 2\n")
    assert dataset.source_digest(tmp_path) != before
    (tmp_path / "notes.txt").write_text("not source")
    deep.write_text("B = 1\n")
    assert dataset.source_digest(tmp_path) == before  # only Python source counts


def test_cache_root_follows_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ATTENDANCE_WORKBENCH_CACHE", str(tmp_path / "c"))
    assert dataset.cache_root() == tmp_path / "c"


def test_marks_are_lazy_without_validation(tmp_path):
    ds = load_dataset(valid_folder(tmp_path), validate=False)
    assert ds._marks is None
    assert len(ds.marks) == 6
    assert ds._marks is not None


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_marks_for_filters(tmp_path, fmt):
    marks = sessions(P1, URN_A, ["/"] * 6) + sessions(P2, URN_B, ["I"] * 6)
    ds = load_dataset(write_folder(tmp_path, marks=marks, marks_format=fmt), validate=False)
    assert len(ds.marks_for(urns=[URN_A])) == 6
    assert set(ds.marks_for(upns=[P2])["urn"]) == {URN_B}
    window = ds.marks_for(start="2023-09-05", end="2023-09-05")
    assert len(window) == 4 and (window["date"] == pd.Timestamp("2023-09-05")).all()
    _ = ds.marks  # now in memory: the same filters on the loaded frame
    assert len(ds.marks_for(urns=[URN_B], start="2023-09-06")) == 2


def test_dataset_cached_computes_once(tmp_path):
    ds = load_dataset(valid_folder(tmp_path))
    calls = []

    def compute():
        calls.append(1)
        return pd.DataFrame({"x": [1, 2]})

    first = ds.cached("thing", compute)
    second = ds.cached("thing", compute)
    assert len(calls) == 1
    pd.testing.assert_frame_equal(first, second)
    assert (ds.cache_dir / "thing.parquet").is_file()
    assert not list(ds.cache_dir.glob("*.tmp"))


def test_optional_table_read_and_typed(tmp_path):
    services = [
        {"upn": P1, "service": "cin", "start_date": "2023-01-01", "end_date": ""},
        {"upn": P2, "service": "cla", "start_date": "2022-05-01", "end_date": "2023-06-30"},
    ]
    ds = load_dataset(valid_folder(tmp_path, services=services))
    assert ds.services["end_date"].isna().tolist() == [True, False]
    assert ds.services["service"].tolist() == ["cin", "cla"]


def test_absent_optional_float_columns_are_nan(tmp_path):
    ks4 = [{"upn": P1, "academic_year": "2023/24", "attainment8": "45.5", "em_4plus": "true"}]
    ks4[0]["em_5plus"] = "false"
    bench = [
        {"time_period": 202223, "time_identifier": "Academic year", "geographic_level": "National"}
        | {"country_name": "England", "sess_overall_percent": "7.5"}
    ]
    ds = load_dataset(valid_folder(tmp_path, ks4=ks4, benchmarks=bench))
    assert ds.ks4["ks2_prior"].isna().all() and ds.ks4["ks2_prior"].dtype == np.float64
    assert ds.ks4["attainment8"].tolist() == [45.5]
    assert ds.benchmarks["sess_overall_percent"].tolist() == [7.5]
    assert ds.benchmarks["enrolments_pa_10_exact_percent"].isna().all()
