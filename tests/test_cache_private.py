"""The pupil-level cache is private and can be cleared (issue 13)."""

from __future__ import annotations

import os
import time

import pandas as pd
import pytest

from attendance_lib.cli import main
from attendance_lib.contract.dataset import cache_root, clear_cache, load_dataset


@pytest.fixture
def own_cache(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv("ATTENDANCE_WORKBENCH_CACHE", str(root))
    return root


def test_cache_folders_are_0700_and_files_0600(own_cache, tiny_la):
    ds = load_dataset(tiny_la)
    ds.cached("code_counts", lambda: pd.DataFrame({"upn": ["x"], "sessions": [1]}))
    folder = ds.cache_dir
    assert folder.parent == own_cache
    for path in (own_cache, folder):
        assert path.stat().st_mode & 0o777 == 0o700, path
    files = list(folder.iterdir())
    assert {p.name for p in files} >= {"validated.json", "code_counts.parquet"}
    for path in files:
        assert path.stat().st_mode & 0o777 == 0o600, path
    # read again from the cache
    again = ds.cached("code_counts", lambda: pytest.fail("recomputed"))
    assert again["sessions"].tolist() == [1]


def test_a_loose_cache_folder_is_made_private(own_cache, tiny_la):
    ds = load_dataset(tiny_la)
    ds.cache_dir.chmod(0o755)
    ds.cached("t", lambda: pd.DataFrame({"a": [1]}))
    assert ds.cache_dir.stat().st_mode & 0o777 == 0o700


def _age(folder, days):
    old = time.time() - days * 86400
    for p in [*folder.rglob("*")]:
        os.utime(p, (old, old))


def test_clear_older_than_keeps_what_is_in_use(own_cache, tiny_la):
    ds = load_dataset(tiny_la)
    ds.cached("t", lambda: pd.DataFrame({"a": [1]}))
    stale = own_cache / ("0" * 16 + "-" + "1" * 12)
    stale.mkdir()
    (stale / "code_counts.parquet").write_bytes(b"x" * 1000)
    _age(stale, 40)
    unrelated = own_cache / "notes"
    unrelated.mkdir()
    _age(unrelated, 400)
    assert clear_cache(30) == (1, 1000)
    assert not stale.exists() and ds.cache_dir.exists() and unrelated.exists()
    # reading a cached table marks it used
    _age(ds.cache_dir, 40)
    ds.cached("t", lambda: pytest.fail("recomputed"))
    assert clear_cache(30) == (0, 0)
    assert clear_cache(None)[0] == 1 and not ds.cache_dir.exists() and unrelated.exists()


def test_cache_command(own_cache, tiny_la, capsys):
    load_dataset(tiny_la)
    assert main(["cache", "--older-than", "1"]) == 0
    assert "Removed 0 cache folders" in capsys.readouterr().out
    assert main(["cache", "--clear"]) == 0
    out = capsys.readouterr().out
    assert "Removed 1 cache folder " in out and str(cache_root()) in out
    with pytest.raises(SystemExit) as exit_:
        main(["cache"])
    assert exit_.value.code == 2
    with pytest.raises(SystemExit):
        main(["cache", "--older-than", "-3"])


def test_a_cached_result_is_keyed_private_and_computed_once(own_cache, tiny_la):
    import threading

    ds = load_dataset(tiny_la)
    calls = []

    def compute(value):
        def run():
            calls.append(value)
            time.sleep(0.2)  # long enough for the other thread to ask meanwhile
            return pd.DataFrame({"a": pd.array([value, None], dtype="Int64")})

        return run

    got = []
    threads = [
        threading.Thread(target=lambda: got.append(ds.cached_result("r", {"k": 1}, compute(1))))
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [1]  # the second waited for the first, then read its result
    for frame in got:
        assert str(frame["a"].dtype) == "Int64" and frame["a"].isna().tolist() == [False, True]
    assert ds.cached_result("r", {"k": 2}, compute(2))["a"][0] == 2  # another key: computed
    assert calls == [1, 2]
    for path in ds.cache_dir.iterdir():
        assert path.stat().st_mode & 0o777 == 0o600, path


def test_a_cached_table_asked_for_twice_at_once_is_computed_once(own_cache, tiny_la):
    """Two reports wanting the same table (run-all's two workers, the code cube) at once."""
    import threading

    ds = load_dataset(tiny_la)
    calls = []

    def compute():
        calls.append(threading.get_ident())
        time.sleep(0.2)  # long enough for the other thread to ask meanwhile
        return pd.DataFrame({"x": [1, 2]})

    got = []
    threads = [threading.Thread(target=lambda: got.append(ds.cached("t", compute))) for _ in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1  # the second waited for the first, then read its table
    assert [frame["x"].tolist() for frame in got] == [[1, 2], [1, 2]]
    for path in ds.cache_dir.iterdir():
        assert path.stat().st_mode & 0o777 == 0o600, path
