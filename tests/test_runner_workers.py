"""The number of report kernels run-all starts, from the cores and the available memory."""

from __future__ import annotations

import os

import pytest

from attendance_lib.core import sql_engines
from attendance_lib.core.errors import UsageError
from attendance_lib.runner import workers as plans
from attendance_lib.runner.workers import WORKER_MEMORY_MB, choose_workers


def test_cores_decide_when_memory_is_plentiful() -> None:
    plan = choose_workers(cores=2, available_mb=23_654, units=400)
    assert plan.workers == 2
    assert plan.per_worker_mb == WORKER_MEMORY_MB == 3072
    assert plan.duckdb_mb == 1536  # half the worker's budget, not half the machine
    assert plan.describe() == "2 workers (2 cores, 23.1 GB available, 3 GB per worker)"


def test_memory_decides_when_it_holds_fewer_budgets_than_cores() -> None:
    plan = choose_workers(cores=8, available_mb=7000, units=100)
    assert plan.workers == 2  # 7,000 MB holds two 3,072 MB budgets, not eight
    assert plan.describe() == "2 workers (8 cores, 6.8 GB available, 3 GB per worker)"
    assert plan.duckdb_mb == 1536


def test_at_least_one_worker_and_duckdb_within_what_is_there() -> None:
    low = choose_workers(cores=4, available_mb=1000, units=10)
    assert low.workers == 1
    assert low.duckdb_mb == 500  # half of the 1,000 MB there is, below the budget's half
    tiny = choose_workers(cores=4, available_mb=200, units=10)
    assert (tiny.workers, tiny.duckdb_mb) == (1, plans.DUCKDB_MIN_MB)


def test_never_more_workers_than_units() -> None:
    assert choose_workers(cores=8, available_mb=64_000, units=3).workers == 3
    assert choose_workers(cores=8, available_mb=64_000, units=1).workers == 1
    plan = choose_workers(cores=8, available_mb=64_000)  # units not known yet
    assert plan.workers == 8
    assert plan.for_units(5).workers == 5
    assert plan.for_units(5).duckdb_mb == plan.duckdb_mb  # the limit does not depend on units


def test_requested_workers_override_the_count_not_the_budget() -> None:
    plan = choose_workers(cores=2, available_mb=7000, units=100, requested=3)
    assert plan.workers == 3
    assert plan.duckdb_mb == 1166  # each of three gets a third of 7,000 MB, half for DuckDB
    assert plan.describe() == "3 workers (as asked; 2 cores, 6.8 GB available, 3 GB per worker)"


def test_a_smaller_budget_allows_more_workers() -> None:
    plan = choose_workers(cores=8, available_mb=7000, units=100, per_worker_mb=1536)
    assert (plan.workers, plan.duckdb_mb) == (4, 768)
    assert "1.5 GB per worker" in plan.describe()


def test_unknown_memory_leaves_the_cores() -> None:
    plan = choose_workers(cores=4, available_mb=0, units=100)
    assert (plan.workers, plan.duckdb_mb) == (4, 1536)


def test_budget_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv(plans.WORKER_MEMORY_ENV, "2048")
    monkeypatch.setattr(plans, "available_memory_mb", lambda: 8192)
    monkeypatch.setattr(plans.sql_engines, "available_cores", lambda: 8)
    plan = plans.plan_workers(None, units=100)
    assert (plan.workers, plan.per_worker_mb, plan.duckdb_mb) == (4, 2048, 1024)
    monkeypatch.setenv(plans.WORKER_MEMORY_ENV, "lots")
    with pytest.raises(UsageError, match="whole number of MB"):
        plans.plan_workers()


def test_duckdb_limit_is_set_for_the_block_and_restored(monkeypatch) -> None:
    monkeypatch.delenv(sql_engines.MEMORY_LIMIT_ENV, raising=False)
    with plans.duckdb_memory_limit(1536) as limit:
        assert limit == 1536 and os.environ[sql_engines.MEMORY_LIMIT_ENV] == "1536"
        con = sql_engines.duckdb_connection({})
        try:
            setting = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        finally:
            con.close()
        assert setting == "1.4 GiB"  # 1,536 MB (10^6 bytes) in GiB
    assert sql_engines.MEMORY_LIMIT_ENV not in os.environ
    monkeypatch.setenv(sql_engines.MEMORY_LIMIT_ENV, "700")  # the caller's own limit is kept
    with plans.duckdb_memory_limit(1536) as limit:
        assert limit == 700
    assert os.environ[sql_engines.MEMORY_LIMIT_ENV] == "700"


def test_a_second_version_of_a_notebook_starts_after_the_other_first_wave_units():
    from pathlib import Path
    from types import SimpleNamespace

    from attendance_lib.runner.run import waves

    def unit(params: str, report: str, urn: int | None = None):
        return SimpleNamespace(urn=urn, spec=SimpleNamespace(path=Path(params), report=report))

    units = [
        unit("cohort.yaml", "cohort"),
        unit("cohort_summary.yaml", "cohort"),
        unit("impact.yaml", "impact"),
        unit("impact_pupils.yaml", "impact"),
        unit("pack.yaml", "pack", urn=1),
        unit("pack.yaml", "pack", urn=2),
        unit("termly.yaml", "termly"),
    ]
    first, second = waves(units)
    assert first == [0, 2, 4, 6, 1, 3]  # the twins last: their leader computes, they read
    assert second == [5]  # the other schools of the fan-out
