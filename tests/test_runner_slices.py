"""A fan-out's marks laid out by school in the dataset cache: the same marks, read faster."""

from __future__ import annotations

import pandas as pd
from builders import URN_A, URN_B, make_upn, sessions, write_folder
from runner_fixtures import small_synthetic_la  # noqa: F401  (fixture)

from attendance_lib.contract.dataset import MARKS_BY_SCHOOL, load_dataset


def test_marks_by_school_are_the_same_marks_in_the_same_order(
    small_synthetic_la,  # noqa: F811
    monkeypatch,
    tmp_path,
):
    ds = load_dataset(small_synthetic_la)
    monkeypatch.setenv("ATTENDANCE_WORKBENCH_CACHE", str(tmp_path / "cache"))  # its own cache
    urns = sorted(int(u) for u in ds.schools["urn"])
    window = {"start": "2023-09-01", "end": "2024-04-05"}
    before = {u: ds.marks_for(urns=[u], **window) for u in urns}
    before["two"] = ds.marks_for(urns=urns[:2])
    assert not (ds.cache_dir / MARKS_BY_SCHOOL).exists()

    path = ds.cache_marks_by_school()
    assert path == ds.cache_dir / MARKS_BY_SCHOOL and path.is_dir()
    assert sorted(p.name for p in path.iterdir()) == sorted(f"urn={u}" for u in urns)
    for item in [path, *path.rglob("*")]:  # pupil-level: the owner's only, as the cache
        assert item.stat().st_mode & 0o777 == (0o700 if item.is_dir() else 0o600), item
    assert ds.cache_marks_by_school() == path  # once per fingerprint and code version
    assert not [p for p in ds.cache_dir.iterdir() if p.name.startswith(".")]

    for u in urns:
        after = ds.marks_for(urns=[u], **window)
        pd.testing.assert_frame_equal(after, before[u])
        assert list(after["upn"].cat.categories) == list(before[u]["upn"].cat.categories)
    pd.testing.assert_frame_equal(ds.marks_for(urns=urns[:2]), before["two"])


def test_marks_not_in_one_parquet_file_are_not_laid_out(tmp_path):
    marks = sessions(make_upn(1), URN_A, ["/"] * 6) + sessions(make_upn(2), URN_B, ["I"] * 6)
    ds = load_dataset(write_folder(tmp_path, marks=marks, marks_format="csv"), validate=False)
    assert ds.cache_marks_by_school() is None
    assert len(ds.marks_for(urns=[URN_A])) == 6


def test_a_fan_out_lays_out_its_marks_while_units_run(
    small_synthetic_la,  # noqa: F811
    monkeypatch,
    tmp_path,
):
    from types import SimpleNamespace

    from attendance_lib.runner.run import school_slices

    ds = load_dataset(small_synthetic_la)
    monkeypatch.setenv("ATTENDANCE_WORKBENCH_CACHE", str(tmp_path / "cache"))  # its own cache
    spec = SimpleNamespace(data_dir=small_synthetic_la)
    one_school = [SimpleNamespace(spec=spec, urn=1)]
    with school_slices(one_school, {small_synthetic_la: ds}):  # a single pack: not worth it
        pass
    assert not (ds.cache_dir / MARKS_BY_SCHOOL).exists()
    fan_out = [SimpleNamespace(spec=spec, urn=n) for n in (1, 2)]
    with school_slices(fan_out, {small_synthetic_la: ds}):
        pass  # joined on leaving the block
    assert (ds.cache_dir / MARKS_BY_SCHOOL).is_dir()
