"""How many report kernels run at once, and how much memory each may use.

``run-all`` runs one kernel per worker. A kernel is budgeted :data:`WORKER_MEMORY_MB`
(3 GB: the most one report process should need on a large LA, and what an 8 GB council
laptop can give two of); ``$ATTENDANCE_WORKER_MEMORY_MB`` changes the budget. The number of
workers is the smaller of the cores and the number of budgets the available memory holds
(psutil's ``available``: free memory plus what the system can reclaim now), and never more
than the units to run. DuckDB inside each kernel is limited to half the worker's budget
(:data:`DUCKDB_SHARE`; it spills to disk beyond that), leaving the other half for pandas,
matplotlib and the interpreter.

:func:`choose_workers` is the arithmetic, a pure function; :func:`plan_workers` reads the
machine and calls it; :func:`duckdb_memory_limit` hands the DuckDB limit to every DuckDB
connection the run (and the kernels it starts) opens.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

import psutil

from attendance_lib.core import sql_engines
from attendance_lib.core.errors import UsageError

#: The memory budget of one worker (its report kernel's peak resident memory), in MB.
WORKER_MEMORY_MB = 3072
#: Environment variable overriding :data:`WORKER_MEMORY_MB` (a whole number of MB).
WORKER_MEMORY_ENV = "ATTENDANCE_WORKER_MEMORY_MB"
#: The part of a worker's budget DuckDB may use (its ``memory_limit``).
DUCKDB_SHARE = 0.5
#: The smallest DuckDB memory limit set, in MB.
DUCKDB_MIN_MB = 256


@dataclass(frozen=True)
class WorkerPlan:
    """How many kernels run at once, why, and DuckDB's memory limit in each."""

    workers: int
    cores: int
    available_mb: int
    per_worker_mb: int
    duckdb_mb: int
    requested: int | None = None

    def describe(self) -> str:
        """One line for the terminal, e.g. ``2 workers (2 cores, 23.1 GB available, 3 GB per worker)``."""
        machine = (
            f"{self.cores} core{'s' if self.cores != 1 else ''}, "
            f"{self.available_mb / 1024:.1f} GB available, "
            f"{_gb(self.per_worker_mb)} per worker"
        )
        if self.requested:
            machine = f"as asked; {machine}"
        return f"{self.workers} worker{'s' if self.workers != 1 else ''} ({machine})"

    def for_units(self, units: int) -> WorkerPlan:
        """The same plan for ``units`` units: never more workers than units."""
        return choose_workers(
            cores=self.cores,
            available_mb=self.available_mb,
            units=units,
            requested=self.requested,
            per_worker_mb=self.per_worker_mb,
        )


def _gb(mb: int) -> str:
    return f"{mb / 1024:g} GB" if mb % 512 == 0 else f"{mb / 1024:.1f} GB"


def choose_workers(
    *,
    cores: int,
    available_mb: int,
    units: int | None = None,
    requested: int | None = None,
    per_worker_mb: int = WORKER_MEMORY_MB,
) -> WorkerPlan:
    """The number of workers and DuckDB's limit for a machine; no side effects.

    Parameters
    ----------
    cores
        Cores this process may use.
    available_mb
        Memory available to new work, in MB (0 when unknown: then only the cores count).
    units
        Units to run (``None``: not known yet); there are never more workers than units.
    requested
        ``--workers``: overrides the count, not the memory arithmetic of DuckDB's limit.
    per_worker_mb
        The memory budget of one worker.

    The count is ``min(cores, available_mb // per_worker_mb)``, at least 1. DuckDB gets
    :data:`DUCKDB_SHARE` of the worker's budget, or of its share of the available memory
    when that is smaller, and at least :data:`DUCKDB_MIN_MB`.
    """
    cores = max(1, cores)
    by_memory = max(1, available_mb // per_worker_mb) if available_mb > 0 else cores
    workers = requested if requested else min(cores, by_memory)
    share = min(per_worker_mb, available_mb // workers) if available_mb > 0 else per_worker_mb
    duckdb_mb = max(DUCKDB_MIN_MB, int(share * DUCKDB_SHARE))
    if units is not None:
        workers = min(workers, units)
    return WorkerPlan(
        workers=max(1, workers),
        cores=cores,
        available_mb=available_mb,
        per_worker_mb=per_worker_mb,
        duckdb_mb=duckdb_mb,
        requested=requested,
    )


def worker_memory_mb() -> int:
    """The per-worker budget: ``$ATTENDANCE_WORKER_MEMORY_MB`` or :data:`WORKER_MEMORY_MB`."""
    value = os.environ.get(WORKER_MEMORY_ENV, "").strip()
    if not value:
        return WORKER_MEMORY_MB
    if not value.isdigit() or int(value) < 256:
        raise UsageError(
            f"{WORKER_MEMORY_ENV} must be a whole number of MB, at least 256, got {value!r}"
        )
    return int(value)


def available_memory_mb() -> int:
    """Memory the machine can give new work now, in MB (psutil's ``available``)."""
    return int(psutil.virtual_memory().available // 2**20)


def plan_workers(requested: int | None = None, units: int | None = None) -> WorkerPlan:
    """:func:`choose_workers` for this machine: its cores, available memory and the budget."""
    return choose_workers(
        cores=sql_engines.available_cores(),
        available_mb=available_memory_mb(),
        units=units,
        requested=requested,
        per_worker_mb=worker_memory_mb(),
    )


@contextlib.contextmanager
def duckdb_memory_limit(mb: int) -> Iterator[int]:
    """Set DuckDB's limit (:data:`~attendance_lib.core.sql_engines.MEMORY_LIMIT_ENV`) for the block.

    Every DuckDB connection opened inside it, in this process or in a kernel started inside
    it (kernels inherit the environment), gets ``memory_limit = mb``. A limit the caller
    already set is kept. Yields the limit in force; restores the environment afterwards.
    """
    name = sql_engines.MEMORY_LIMIT_ENV
    before = os.environ.get(name)
    if before is None or not before.strip():
        os.environ[name] = str(mb)
    try:
        yield int(os.environ[name]) if os.environ[name].strip().isdigit() else mb
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before
