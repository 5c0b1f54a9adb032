"""The per-process dataset memo behind :func:`attendance_lib.contract.dataset.load_dataset`."""

from __future__ import annotations

import os

import pandas as pd
import pytest
from runner_fixtures import TINY_LA_URNS, write_tiny_la

from attendance_lib.contract import dataset
from attendance_lib.core.errors import DataError


@pytest.fixture
def counted_loads(monkeypatch):
    """Count real reads behind ``load_dataset``; start with an empty memo."""
    calls = []
    real = dataset.read_dataset

    def counting(data_dir, **kwargs):
        calls.append(str(data_dir))
        return real(data_dir, **kwargs)

    monkeypatch.setattr(dataset, "read_dataset", counting)
    monkeypatch.setattr(dataset, "_memo", type(dataset._memo)())
    return calls


def test_memo_loads_a_folder_once_and_hands_out_independent_copies(tiny_la, counted_loads):
    first = dataset.load_dataset(tiny_la)
    first.schools["school_name"] = "changed by one notebook"
    first.pupils.loc[0, "urn"] = 999999  # in place, as a careless notebook might
    first.warnings.append("added by one notebook")
    second = dataset.load_dataset(str(tiny_la))
    assert len(counted_loads) == 1
    assert list(second.schools["urn"]) == list(TINY_LA_URNS)
    assert second.pupils.loc[0, "urn"] == TINY_LA_URNS[0]
    assert second.schools["school_name"].iloc[0] == "Moor Lane Primary"
    assert "added by one notebook" not in second.warnings
    assert second.fingerprint == first.fingerprint and len(second.fingerprint) == 16


def test_memo_reloads_when_a_file_changes(tiny_la, counted_loads):
    before = dataset.load_dataset(tiny_la)
    schools = pd.read_csv(tiny_la / "schools.csv")
    schools.loc[0, "school_name"] = "Moor Lane Primary School"
    schools.to_csv(tiny_la / "schools.csv", index=False)
    after = dataset.load_dataset(tiny_la)
    assert len(counted_loads) == 2
    assert after.schools["school_name"].iloc[0] == "Moor Lane Primary School"
    assert after.fingerprint != before.fingerprint


def test_memo_keeps_at_most_max_datasets(tmp_path, counted_loads):
    folders = [write_tiny_la(tmp_path / f"la{n}") for n in range(dataset.MEMO_SIZE + 1)]
    for folder in folders:
        dataset.load_dataset(folder)
    assert len(dataset._memo) == dataset.MEMO_SIZE
    dataset.load_dataset(folders[0])  # dropped first, so loaded again
    assert len(counted_loads) == dataset.MEMO_SIZE + 2


def test_memo_does_not_keep_errors(tmp_path, counted_loads):
    folder = write_tiny_la(tmp_path / "la")
    (folder / "schools.csv").unlink()
    with pytest.raises(DataError) as err:
        dataset.load_dataset(folder)
    assert "required table is missing" in str(err.value.problems[0])
    assert not dataset._memo


@pytest.fixture
def counted_table_reads(monkeypatch):
    """The file names ``read_table`` reads behind a dataset, in order."""
    calls = []
    real = dataset.read_table

    def counting(path, spec, log):
        calls.append(path.name)
        return real(path, spec, log)

    monkeypatch.setattr(dataset, "read_table", counting)
    return calls


def test_remembered_folder_reads_each_table_once_on_first_use(
    tmp_path, monkeypatch, counted_loads, counted_table_reads
):
    monkeypatch.setenv("ATTENDANCE_WORKBENCH_CACHE", str(tmp_path / "cache"))
    folder = write_tiny_la(tmp_path / "la")
    dataset.read_dataset(folder)  # validates, reading every table
    assert "pupils.csv" in counted_table_reads
    counted_table_reads.clear()
    first = dataset.load_dataset(folder)  # validation remembered: nothing read yet
    assert counted_table_reads == []
    assert first.pupils is first.pupils
    second = dataset.load_dataset(folder)
    assert len(second.pupils) == len(first.pupils)
    assert counted_table_reads == ["pupils.csv"]  # read once, shared by the copies
    assert second.pupils is not first.pupils


def test_tables_read_on_first_use_equal_the_validated_ones(tmp_path, monkeypatch):
    monkeypatch.setenv("ATTENDANCE_WORKBENCH_CACHE", str(tmp_path / "cache"))
    folder = write_tiny_la(tmp_path / "la")
    validated = dataset.read_dataset(folder)
    assert validated._tables.frames  # validation read them all
    remembered = dataset.read_dataset(folder)
    assert not remembered._tables.frames  # remembered: read below, on first use
    for name in dataset.TABLES:
        if name == "marks":
            continue
        expected, got = getattr(validated, name), getattr(remembered, name)
        if expected is None:
            assert got is None, name
        else:
            pd.testing.assert_frame_equal(got, expected, check_exact=True, obj=name)


def test_folder_signature_sees_size_and_time(tmp_path):
    (tmp_path / "a.csv").write_text("x\n")
    before = dataset.folder_signature(tmp_path)
    os.utime(tmp_path / "a.csv", ns=(1, 1))
    assert dataset.folder_signature(tmp_path) != before
    assert [name for name, _, _ in before] == ["a.csv"]
