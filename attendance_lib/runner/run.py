"""Running reports: one parameter file (``run``) or a folder of them (``run-all``).

Each report unit is executed into temporary folders next to its targets and moved into
place only when it ran, published and passed the privacy gate, the offline check and the
active-content check. The report folder (``reports/<stem>/``) gets only what readers read:
the page, ``tables/`` and ``tables.xlsx``. The executed notebook and ``run.json`` go to the
audit folder beside it (``reports/_runs/<stem>/``; restricted reports
``reports/restricted/_runs/<stem>/``), with paths relative to the project. A failed unit
keeps its executed notebook in the private ``<project>/failed-runs/<label>/`` and leaves any
earlier good report untouched. A run locks
its output folders, sweeps what a killed run left there and cleans up on SIGTERM
(:mod:`attendance_lib.runner.guard`). Units run on a bounded pool of threads (about one
kernel per core); by default each thread keeps one warm kernel and runs notebook after
notebook in it (:mod:`attendance_lib.runner.warm_kernels`), else each unit is a fresh
papermill run. With more than one worker, each unit is published (page, tables, checks) in
a worker process (:class:`PublishPool`), not under the runner's one interpreter lock. One
failing unit does not stop the others.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import multiprocessing
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from papermill.exceptions import PapermillExecutionError
from tqdm.auto import tqdm

import attendance_lib
from attendance_lib.core import sql_engines
from attendance_lib.core.errors import DataError, ReportError, UsageError
from attendance_lib.runner import disclosure_attack, guard, publish, warm_kernels
from attendance_lib.runner import execute as executing
from attendance_lib.runner.index import AUDIT_DIR, FAILED_DIR, RESTRICTED_DIR, write_index
from attendance_lib.runner.offline import external_loads
from attendance_lib.runner.outcome import (
    FAILED,
    OK,
    RunAllOutcome,
    RunOutcome,
    UnitOutcome,
    format_outcome,
)
from attendance_lib.runner.params import (
    SCHOOL_PARAMETER,
    ReportSpec,
    find_params_files,
    load_params,
)
from attendance_lib.runner.privacy import check_folder
from attendance_lib.runner.workers import WorkerPlan, duckdb_memory_limit, plan_workers

#: Findings listed in a privacy or offline failure message.
MAX_FINDINGS_SHOWN = 5
#: Where a failed run's executed notebook and full record are kept: under the project root,
#: outside every reports folder, never linked from the index, readable by the owner only
#: (0700 folders, 0600 files). It may hold every UPN the report read.
FAILED_RUNS_DIR = "failed-runs"


@dataclass(frozen=True)
class Unit:
    """One notebook execution to do."""

    spec: ReportSpec
    target: Path
    parameters: dict[str, Any]
    label: str
    title: str
    urn: int | None = None
    inputs: dict[str, Any] | None = None  # fingerprint and files, when the parent loaded the data
    audit: Path | None = None  # the audit folder: executed notebook and run.json

    @property
    def audit_dir(self) -> Path:
        return self.audit if self.audit is not None else audit_dir_for(self.target)


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def default_out_dir(spec: ReportSpec, reports_dir: Path | None = None) -> Path:
    """``reports/<stem>/``, or ``reports/restricted/<stem>/`` for a restricted report."""
    reports_dir = reports_dir if reports_dir is not None else spec.root / "reports"
    return reports_dir / RESTRICTED_DIR / spec.stem if spec.restricted else reports_dir / spec.stem


def audit_dir_for(target: Path) -> Path:
    """The audit folder of a report folder: ``<parent>/_runs/<name>/`` beside it.

    ``reports/termly/`` -> ``reports/_runs/termly/``; ``reports/restricted/pack/`` ->
    ``reports/restricted/_runs/pack/``. Not a reader's folder: it holds the executed notebook
    and ``run.json``, from which the index is written.
    """
    return target.parent / AUDIT_DIR / target.name


def _relative(path: Path, root: Path) -> str:
    """``path`` relative to the project root (``..`` where it lies outside it), never absolute."""
    try:
        return Path(os.path.relpath(path.resolve(), root)).as_posix()
    except ValueError:  # another drive on Windows
        return path.name


def _portable(value: Any, root: Path) -> Any:
    """An absolute path as published: relative to the project root, else the folder's name."""
    if not isinstance(value, str) or not value or not Path(value).is_absolute():
        return value
    path = Path(value)
    try:
        return path.relative_to(root).as_posix() or "."
    except ValueError:
        return path.name


def _private_paths(unit: Unit, staging: Path) -> dict[str, str]:
    """Absolute paths of this machine that must not be published, and what replaces each."""
    spec = unit.spec
    paths = {str(v): _portable(str(v), spec.root) for v in unit.parameters.values()}
    paths = {k: v for k, v in paths.items() if k != v and Path(k).is_absolute()}
    if spec.data_dir is not None:
        paths[str(spec.data_dir)] = _portable(str(spec.data_dir), spec.root)
    paths[str(staging.resolve())] = "."
    paths[str(unit.target.resolve())] = "."
    paths[str(unit.audit_dir.resolve())] = "."
    paths[str(spec.root)] = "."
    paths[sys.prefix] = "<python>"
    paths[str(Path.home())] = "~"
    return {k: v for k, v in paths.items() if Path(k).is_absolute() and len(Path(k).parts) > 1}


def _in_json(text: str) -> str:
    """``text`` as it appears inside a JSON string."""
    return json.dumps(text, ensure_ascii=False)[1:-1]


def _scrub_notebook(path: Path, paths: dict[str, str]) -> None:
    """Rewrite the executed notebook with every private path replaced (longest first)."""
    text = path.read_text(encoding="utf-8")
    for private in sorted(paths, key=len, reverse=True):
        public = paths[private]
        text = text.replace(_in_json(private) + "/", "" if public == "." else public + "/")
        text = text.replace(_in_json(private), _in_json(public))
    json.loads(text)  # still a notebook
    path.write_text(text, encoding="utf-8")


def absolute_paths(folder: Path, paths: dict[str, str]) -> list[str]:
    """Published text files under ``folder`` that still name one of ``paths``."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix != ".xlsx"):
        text = path.read_text(encoding="utf-8", errors="replace")
        for private in paths:
            if private in text or _in_json(private) in text:
                found.append(f"{path.relative_to(folder).as_posix()}: an absolute path")
                break
    return found


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _run_record(
    unit: Unit,
    status: str,
    started: str,
    seconds: dict[str, float],
    usage: executing.KernelUsage | None = None,
) -> dict[str, Any]:
    spec = unit.spec
    try:
        params_file = str(spec.path.relative_to(spec.root))
    except ValueError:
        params_file = str(spec.path)
    return {
        "report": spec.report,
        "title": unit.title,
        "label": unit.label,
        "params_file": params_file,
        "urn": unit.urn,
        "audience": spec.audience,
        "description": spec.description,
        "period": None,
        "status": status,
        "started_at": started,
        "finished_at": _now(),
        "seconds": {k: round(v, 2) for k, v in seconds.items()},
        # what the report's kernel used while it ran this notebook (None: not known)
        "peak_memory_mb": _rounded(usage.peak_memory_mb, 0) if usage else None,
        "kernel_cpu_seconds": _rounded(usage.cpu_seconds, 2) if usage else None,
        "parameters": {k: _portable(v, spec.root) for k, v in unit.parameters.items()},
        "inputs": {
            "data_dir": _portable(str(spec.data_dir), spec.root) if spec.data_dir else None,
            **(unit.inputs or {}),
        },
        "library_version": attendance_lib.__version__,
        "kernel": executing.KERNEL_NAME,
        "outputs": {},
        "error": None,
    }


def _private_dir(folder: Path) -> None:
    """Make ``folder`` and its contents readable by the owner only."""
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o700 if path.is_dir() else 0o600)


def _keep_failed(staging: Path, unit: Unit, record: dict[str, Any]) -> Path | None:
    """Keep a failed run's executed notebook where only its owner can read it.

    The notebook and full ``run.json`` go to ``<project>/failed-runs/<label>/`` (private,
    unlinked: it may hold every UPN); the audit folder gets only ``failed/run.json``, saying
    that the run failed and when, so the index shows it, with no notebook, no error text
    and no link. Any earlier good report is left as it was.
    """
    notebook = staging / f"{unit.spec.report}.ipynb"
    for item in staging.iterdir():
        if item != notebook:
            shutil.rmtree(item) if item.is_dir() else item.unlink()
    record["outputs"] = {"notebook": notebook.name} if notebook.exists() else {}
    publish.write_json(staging / "run.json", record)
    kept_dir = unit.spec.root / FAILED_RUNS_DIR / unit.label
    kept_dir.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    (unit.spec.root / FAILED_RUNS_DIR).chmod(0o700)
    _private_dir(staging)
    if kept_dir.exists():
        shutil.rmtree(kept_dir)
    shutil.move(staging, kept_dir)
    public = {
        k: record[k]
        for k in (
            "report",
            "title",
            "label",
            "urn",
            "audience",
            "description",
            "started_at",
            "finished_at",
        )  # fmt: skip
    }
    public |= {
        "status": FAILED,
        "outputs": {},
        "error": {"message": f"the run failed; the details are kept in {FAILED_RUNS_DIR}/"},
        "library_version": attendance_lib.__version__,
    }
    failed_dir = unit.audit_dir / FAILED_DIR
    stub = publish.staging_dir(unit.audit_dir)
    publish.write_json(stub / "run.json", public)
    unit.audit_dir.mkdir(parents=True, exist_ok=True)
    publish.move_into_place(stub, failed_dir)
    kept = kept_dir / notebook.name
    return kept if kept.exists() else None


def _source(prov: dict[str, Any] | None) -> str:
    """Where a report's figures come from, in words, for the workbook's notes."""
    text = "The local authority's attendance extract"
    if prov and prov.get("fingerprint"):
        text += f" (data fingerprint {prov['fingerprint']})"
    return f"{text}, analysed with attendance-workbench {attendance_lib.__version__}"


def _findings_message(kind: str, findings: list[Any]) -> str:
    shown = "\n".join(f"- {f}" for f in findings[:MAX_FINDINGS_SHOWN])
    more = len(findings) - MAX_FINDINGS_SHOWN
    return f"{kind}:\n{shown}" + (f"\n- ... and {more} more" if more > 0 else "")


def run_unit(
    unit: Unit,
    *,
    progress: bool = False,
    execute: Callable[..., float] | None = None,
    publisher: Callable[[Callable[[], UnitOutcome]], UnitOutcome] | None = None,
) -> UnitOutcome:
    """Execute, publish and check one unit; never raises for a failure of the notebook.

    ``execute`` runs the notebook (default :func:`attendance_lib.runner.execute.execute`, a
    fresh papermill run; :func:`attendance_lib.runner.warm_kernels.execute_warm` on a pool
    of warm kernels). ``publisher`` runs the publishing step, :func:`publish_unit` with its
    arguments bound, and returns its outcome (default: call it here; :func:`_run_planned`
    hands it to a worker process, see :class:`PublishPool`).
    """
    execute = execute or executing.execute
    spec = unit.spec
    started, clock = _now(), time.perf_counter()
    staging = publish.staging_dir(unit.target)
    audit = publish.staging_dir(unit.audit_dir)
    executed = audit / f"{spec.report}.ipynb"
    seconds: dict[str, float] = {}
    executing.take_kernel_usage()  # nothing left from this thread's previous unit
    usage: executing.KernelUsage | None = None
    try:
        try:
            seconds["execute"] = execute(
                spec.notebook, executed, unit.parameters, root=spec.root, progress=progress
            )
        finally:
            usage = executing.take_kernel_usage()
    except Exception as exc:  # a failing cell, a kernel that would not start: report it
        outcome = UnitOutcome(unit.label, unit.title, FAILED, unit.target, urn=unit.urn)
        seconds["total"] = time.perf_counter() - clock
        record = _run_record(unit, FAILED, started, seconds, usage)
        if isinstance(exc, PapermillExecutionError):
            outcome.failure = executing.describe_failure(exc)
            record["error"] = {
                "cell_index": exc.cell_index,
                "execution_count": exc.exec_count,
                "excerpt": outcome.failure.excerpt,
                "error": outcome.failure.error,
            }
        else:
            outcome.message = f"{type(exc).__name__}: {exc}"
            record["error"] = {"message": outcome.message}
        try:
            outcome.failed_notebook = _keep_failed(audit, unit, record)
        finally:
            _remove_work(staging, audit)
        outcome.seconds = time.perf_counter() - clock
        return outcome
    except BaseException:  # Ctrl-C, SIGTERM's exit: nothing half-written is left
        _remove_work(staging, audit)
        raise
    job = functools.partial(
        publish_unit,
        unit,
        staging,
        audit,
        started=started,
        seconds=seconds,
        usage=usage,
        elapsed=time.perf_counter() - clock,
    )
    try:
        return publisher(job) if publisher is not None else job()
    except BrokenProcessPool as exc:  # its publishing process died mid-way: publish nothing
        _remove_work(staging, audit)
        outcome = UnitOutcome(unit.label, unit.title, FAILED, unit.target, urn=unit.urn)
        outcome.message = (
            f"the process publishing this report stopped ({exc}); nothing of this run was "
            "published: run it again"
        )
        outcome.seconds = time.perf_counter() - clock
        return outcome
    except BaseException:  # the publisher could not take it, Ctrl-C: leave nothing half-written
        _remove_work(staging, audit)
        raise


def _remove_work(*folders: Path) -> None:
    for folder in folders:
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)


def publish_unit(
    unit: Unit,
    staging: Path,
    audit: Path,
    *,
    started: str,
    seconds: dict[str, float],
    usage: executing.KernelUsage | None,
    elapsed: float,
) -> UnitOutcome:
    """Publish one executed unit and check it; never raises for a failure of publishing.

    Reads the executed notebook from the ``audit`` staging folder (where :func:`run_unit`
    had it written), writes the page, tables and workbook to ``staging``, runs the offline,
    active-content, machine-path, privacy and disclosure checks and, only if all pass, moves
    both folders into place. ``elapsed`` is the unit's time before publishing (for
    ``run.json``). Needs nothing of the process that executed the notebook, so it can run in
    another one.
    """
    clock = time.perf_counter() - elapsed
    spec = unit.spec
    executed = audit / f"{spec.report}.ipynb"
    outcome = UnitOutcome(unit.label, unit.title, FAILED, unit.target, urn=unit.urn)
    try:
        publish_clock = time.perf_counter()
        nb = nbformat.read(executed, as_version=4)
        prov = publish.provenance(nb)
        period = (publish.report_header(nb) or {}).get("period") or None
        context = publish.ReportContext(
            title=unit.title,
            audience=spec.audience,
            period=period,
            description=spec.description,
            source=_source(prov),
        )
        page = publish.export_html(nb, title=unit.title, audience=spec.audience)
        tables = publish.write_tables(nb, staging, context=context)
        private = _private_paths(unit, staging)
        private[str(audit.resolve())] = "."
        _scrub_notebook(executed, private)
        problems = []
        loads = external_loads(page)
        if loads:
            problems.append(_findings_message("the page loads from other hosts", loads))
        active = publish.active_content(page)
        if active:
            problems.append(_findings_message("the page holds active content (script)", active))
        html_path = staging / f"{spec.report}.html"
        html_path.write_text(page, encoding="utf-8")
        seconds["publish"] = time.perf_counter() - publish_clock
        seconds["total"] = time.perf_counter() - clock
        record = _run_record(unit, OK, started, seconds, usage)
        record["period"] = period
        if prov:
            record["inputs"].update(
                {"fingerprint": prov.get("fingerprint"), "files": prov.get("files")}
            )
        # relative to the report's own folder: portable, and naming no folder of this machine
        record["outputs"] = {
            "html": html_path.name,
            "tables": [p.relative_to(staging).as_posix() for p in tables],
            "xlsx": publish.WORKBOOK_NAME if tables else None,
            "notebook": _relative(unit.audit_dir / executed.name, unit.target),
        }
        publish.write_json(audit / "run.json", record)
        leaks = absolute_paths(staging, private) + absolute_paths(audit, private)
        if leaks:
            problems.append(_findings_message("published files name this machine's folders", leaks))
        if not spec.restricted:
            found = check_folder(staging) + check_folder(audit)
            if found:
                problems.append(
                    _findings_message(
                        f"privacy gate: pupil identifiers in a report for audience {spec.audience}",
                        found,
                    )
                )
        if disclosure_attack.is_public(spec):
            recovered = disclosure_attack.check_report(nb, staging)
            if recovered:
                problems.append(
                    _findings_message("disclosure: small counts recoverable", recovered)
                )
        if problems:
            outcome.message = "\n".join(problems)
            record["status"] = FAILED
            record["error"] = {"message": outcome.message}
            outcome.failed_notebook = _keep_failed(audit, unit, record)
        else:
            publish.move_into_place(staging, unit.target)
            publish.move_into_place(audit, unit.audit_dir)
            outcome.status = OK
            outcome.html = unit.target / html_path.name
            outcome.notebook = unit.audit_dir / executed.name
            outcome.tables = [unit.target / p.relative_to(staging) for p in tables]
    except Exception as exc:  # publishing: report it, never stop the others
        outcome.message = f"{type(exc).__name__}: {exc}"
        seconds["total"] = time.perf_counter() - clock
        record = _run_record(unit, FAILED, started, seconds, usage)
        record["error"] = {"message": outcome.message}
        outcome.failed_notebook = _keep_failed(audit, unit, record)
    finally:
        _remove_work(staging, audit)
    outcome.seconds = time.perf_counter() - clock
    return outcome


def _load_dataset(data_dir: Path):
    """Load (and so cache) the validated dataset once in the parent process."""
    from attendance_lib.contract.dataset import load_dataset  # runner sits above contract

    return load_dataset(data_dir)


def _data_failure(spec: ReportSpec, target: Path, exc: Exception) -> UnitOutcome:
    """The data folder failed validation: every problem (file, row, column), as ``validate``."""
    if isinstance(exc, DataError):
        lines = [f"Invalid data: {exc} in {spec.data_dir}."]
        lines += [f"  - {p}" for p in exc.problems]
        lines += [f"  warning: {w}" for w in exc.warnings]
        message = "\n".join(lines)
    else:
        message = f"cannot read {spec.data_dir}: {type(exc).__name__}: {exc}"
    return UnitOutcome(spec.stem, spec.title, FAILED, target, message=message)


def plan_units(
    spec: ReportSpec,
    target: Path,
    datasets: dict[Path, Any],
) -> tuple[list[Unit], list[UnitOutcome]]:
    """The units of one parameter file; a ``for_each: school`` file gives one per school.

    ``datasets`` caches loaded datasets by data folder across parameter files. Returns the
    units to run and any failures found before running: a data folder that fails validation
    runs nothing (its failure lists every problem), nor does a fan-out whose folder will not
    load.
    """
    dataset = None
    if spec.data_dir is not None:
        if spec.data_dir not in datasets:
            try:
                datasets[spec.data_dir] = _load_dataset(spec.data_dir)
            except Exception as exc:
                datasets[spec.data_dir] = exc
        dataset = datasets[spec.data_dir]
    if isinstance(dataset, DataError):  # no notebook runs on data that fails validation
        return [], [_data_failure(spec, target, dataset)]
    inputs = None
    if dataset is not None and not isinstance(dataset, Exception):
        inputs = {"fingerprint": dataset.fingerprint, "files": dict(dataset.files)}
    if spec.for_each != "school" or SCHOOL_PARAMETER in spec.parameters:
        label = spec.stem
        unit = Unit(spec, target, dict(spec.parameters), label, spec.title, inputs=inputs)
        return [unit], []
    if isinstance(dataset, Exception):
        return [], [_data_failure(spec, target, dataset)]
    schools = dataset.schools.sort_values("urn")
    names = schools["school_name"] if "school_name" in schools else schools["urn"].astype(str)
    units = [
        Unit(
            spec,
            target / str(urn),
            {**spec.parameters, SCHOOL_PARAMETER: int(urn)},
            f"{spec.stem}/{urn}",
            f"{spec.title}: {name}",
            urn=int(urn),
            inputs=inputs,
            audit=audit_dir_for(target) / str(urn),
        )
        for urn, name in zip(schools["urn"].to_numpy(), names.to_numpy(), strict=True)
    ]
    return units, []


def run_units(
    units: list[Unit],
    *,
    workers: int | WorkerPlan | None = None,
    progress: bool = True,
    on_done: Callable[[UnitOutcome], None] | None = None,
    warm: bool = True,
) -> list[UnitOutcome]:
    """Run units on a pool of ``workers`` threads; results in input order.

    ``workers`` is a number (``--workers``), a :class:`~attendance_lib.runner.workers.WorkerPlan`
    or ``None``: :func:`~attendance_lib.runner.workers.plan_workers`'s choice, one per core
    but no more than the available memory holds at the per-worker budget. Every kernel
    inherits DuckDB's memory limit from that budget
    (:data:`~attendance_lib.core.sql_engines.MEMORY_LIMIT_ENV`), unless the caller set it.

    With ``warm`` (the default) each thread keeps one kernel for all its units
    (:class:`~attendance_lib.runner.warm_kernels.KernelPool`); otherwise every unit starts a
    fresh kernel. A single unit always runs in a fresh kernel.

    Runs in two waves (:func:`waves`): first every unit that is not one school of a fan-out,
    plus the first school of each fan-out, second versions of a notebook last; then the
    remaining schools. Whatever the first school computes and caches for the whole LA
    (comparison figures, the code cube) is then ready before the other schools start, instead
    of being built by several kernels at once.
    """
    if not units:
        return []
    plan = workers if isinstance(workers, WorkerPlan) else plan_workers(workers)
    plan = plan.for_units(len(units))
    with duckdb_memory_limit(plan.duckdb_mb):  # the kernels inherit it
        if progress and len(units) > 1:
            print(describe_plan(plan), file=sys.stderr)
        return _run_planned(units, plan.workers, progress=progress, on_done=on_done, warm=warm)


def describe_plan(plan: WorkerPlan) -> str:
    """The workers and DuckDB's limit in force, as ``run-all`` prints them."""
    limit = os.environ.get(sql_engines.MEMORY_LIMIT_ENV, "").strip()
    duckdb_mb = int(limit) if limit.isdigit() else plan.duckdb_mb
    return f"{plan.describe()}; DuckDB limited to {duckdb_mb:,} MB in each"


def waves(units: list[Unit]) -> tuple[list[int], list[int]]:
    """The order :func:`run_units` starts units in: two waves of indices into ``units``.

    The first wave is every unit that is not one school of a fan-out, plus the first school of
    each fan-out; the second, the remaining schools. Within the first wave, a second version
    of the same notebook (the restricted twin of a public report, say) goes after every other
    unit: whatever heavy result the first version computes and caches for both
    (:meth:`~attendance_lib.contract.dataset.Dataset.cached_result`) is then usually ready when
    it starts, instead of one worker waiting on the other's computation.
    """
    leaders: set[Path] = set()
    notebooks: set[str] = set()
    first_wave, twins, second_wave = [], [], []
    for n, unit in enumerate(units):
        if unit.urn is None or unit.spec.path not in leaders:
            leaders.add(unit.spec.path)
            (twins if unit.spec.report in notebooks else first_wave).append(n)
            notebooks.add(unit.spec.report)
        else:
            second_wave.append(n)
    return first_wave + twins, second_wave


def _publishing_process_started() -> None:
    """Each publishing process: Ctrl-C is the runner's to answer (it stops the run)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class PublishPool:
    """``processes`` worker processes that publish units: the ``publisher`` of :func:`run_unit`.

    Publishing (the page's export, tables and workbook, the offline, active-content, privacy
    and disclosure checks) is pure Python. Done in the runner's worker threads, it ran under
    one interpreter lock for every worker, beside the threads' messages with their kernels;
    in processes of its own it uses every core. A worker thread hands its unit's
    :func:`publish_unit` to a process and waits, so its kernel is free for the next unit as
    soon as the publishing is done. The processes are spawned (never forked from a process
    with threads) when the pool opens, while the first notebooks run; each imports the
    publishing code once (about 200 MB and a few seconds). They ignore Ctrl-C from the start
    (they are spawned with it ignored): the runner answers it.

    ``processes=0``, or a machine that cannot start them, publishes in the calling thread. If
    a publishing process dies (killed, or out of memory), the units it and its fellows were
    publishing raise :class:`~concurrent.futures.process.BrokenProcessPool` (:func:`run_unit`
    fails them, publishing nothing of them) and every later unit is published in the calling
    thread.
    """

    def __init__(self, processes: int) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        if processes > 0:
            try:
                with _sigint_ignored():
                    self._pool = ProcessPoolExecutor(
                        max_workers=processes,
                        mp_context=multiprocessing.get_context("spawn"),
                        initializer=_publishing_process_started,
                    )
                    for _ in range(processes):  # start them now (a spawn is at submit)
                        self._pool.submit(int)
            except (OSError, NotImplementedError, ImportError) as exc:
                print(f"publishing in the runner: no worker processes ({exc})", file=sys.stderr)
                self._close()

    def __call__(self, job: Callable[[], UnitOutcome]) -> UnitOutcome:
        pool = self._pool
        if pool is None:
            return job()
        try:
            return pool.submit(job).result()
        except BrokenProcessPool:
            with self._lock:
                if self._pool is pool:
                    print("a publishing process stopped: publishing in the runner", file=sys.stderr)
                    self._pool = None
            raise

    def _close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> PublishPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self._close()


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore Ctrl-C in the block, so processes started in it inherit it ignored (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _run_planned(
    units: list[Unit],
    workers: int,
    *,
    progress: bool,
    on_done: Callable[[UnitOutcome], None] | None,
    warm: bool,
) -> list[UnitOutcome]:
    if len(units) == 1:
        return [run_unit(units[0], progress=progress)]
    first_wave, second_wave = waves(units)
    results: dict[int, UnitOutcome] = {}
    if warm:
        pool, execute = warm_kernels.KernelPool(workers), warm_kernels.execute_warm
    else:
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="report")
        execute = executing.execute
    with (
        PublishPool(workers if workers > 1 else 0) as publisher,
        pool,
        tqdm(total=len(units), desc="reports", unit="report", disable=not progress) as bar,
    ):
        for wave in (first_wave, second_wave):
            futures = {
                pool.submit(run_unit, units[n], execute=execute, publisher=publisher): n
                for n in wave
            }
            for future in as_completed(futures):
                n = futures[future]
                results[n] = future.result()
                if on_done:
                    on_done(results[n])
                bar.update(1)
    return [results[n] for n in range(len(units))]


@contextlib.contextmanager
def school_slices(units: list[Unit], datasets: dict[Path, Any]) -> Iterator[None]:
    """While the block runs, lay out by school (in the dataset cache) the marks of every fan-out.

    A school's pack then reads only its school's marks instead of filtering the LA's whole
    file (:meth:`~attendance_lib.contract.dataset.Dataset.cache_marks_by_school`; 0.5 s a
    pack on the demo LA, more on a large one). Done on a thread of this process while the
    first units run, once per data fingerprint and code version; a pack that starts before it
    is ready reads the whole file, as before. A failure here only costs that time.
    """
    fan_out = [u for u in units if u.urn is not None]
    folders = {u.spec.data_dir for u in fan_out} if len(fan_out) > 1 else set()
    found = [datasets.get(f) for f in sorted(folders, key=str)]
    todo = [d for d in found if hasattr(d, "cache_marks_by_school")]

    def work() -> None:
        for dataset in todo:
            try:
                dataset.cache_marks_by_school()
            except Exception as exc:  # an optimisation: never fails the run
                print(f"marks not laid out by school: {type(exc).__name__}: {exc}", file=sys.stderr)

    thread = threading.Thread(target=work, name="school-slices", daemon=True) if todo else None
    if thread is not None:
        thread.start()
    try:
        yield
    finally:
        if thread is not None:
            thread.join()


def _report_outcome(spec: ReportSpec, units: list[UnitOutcome]) -> RunOutcome:
    return RunOutcome(
        spec.path,
        spec.report,
        spec.title,
        spec.restricted,
        units,
        audience=spec.audience,
        seconds=sum(u.seconds for u in units),
    )


def _raise_if_failed(outcome: RunOutcome | RunAllOutcome) -> None:
    if not outcome.ok:
        raise ReportError(format_outcome(outcome), outcome)


def run_report(
    params_path: str | Path,
    *,
    out_dir: str | Path | None = None,
    overrides: dict[str, str] | None = None,
    progress: bool = True,
    warm: bool = True,
) -> RunOutcome:
    """Run one parameter file: ``attendance-workbench run PARAMS.yaml``.

    Parameters
    ----------
    params_path
        The parameter file.
    out_dir
        The report folder; default ``<project>/reports/<stem>/`` (``reports/restricted/<stem>/``
        when restricted). With ``for_each: school``, one sub-folder per school URN (unless
        ``urn`` is given in ``overrides``, which runs that one school).
    overrides
        ``--set name=value`` pairs, converted with the notebook's declared types.
    warm
        Run a fan-out's units in warm kernels (one per worker) rather than one fresh kernel
        per unit.

    Raises
    ------
    UsageError
        For a bad parameter file, undeclared parameter or missing notebook.
    OutputBusyError
        When another run is writing to the same report folder (:mod:`.guard`).
    ReportError
        When a unit failed; ``str()`` is the printable summary and ``.outcome`` the RunOutcome.
    """
    clock = time.perf_counter()
    spec = load_params(params_path, overrides)
    target = Path(out_dir) if out_dir is not None else default_out_dir(spec)
    plan = plan_workers()
    with (
        guard.guarded([target], [target, audit_dir_for(target)]),
        duckdb_memory_limit(plan.duckdb_mb),  # validation here, and the kernels
    ):
        datasets: dict[Path, Any] = {}
        units, failures = plan_units(spec, target, datasets)
        with school_slices(units, datasets):
            results = failures + run_units(units, workers=plan, progress=progress, warm=warm)
    outcome = _report_outcome(spec, results)
    outcome.seconds = time.perf_counter() - clock
    _raise_if_failed(outcome)
    return outcome


def run_all(
    params_dir: str | Path = "params",
    *,
    reports_dir: str | Path = "reports",
    workers: int | None = None,
    progress: bool = True,
    overrides: dict[str, str] | None = None,
    warm: bool = True,
) -> RunAllOutcome:
    """Run every parameter file in a folder, then write ``reports/index.html``.

    ``overrides`` (``run-all --set name=value``) apply to every file whose notebook declares
    the parameter, e.g. ``data_dir`` to run every report on another extract; an override that
    no notebook declares is a usage error. Every file is checked before anything runs. The data folder of each file is loaded once
    here, in the parent, so the validated-data cache is warm before the kernels start and a
    ``for_each: school`` file gets its school list (``dataset.schools.urn``).
    With ``warm`` (the default) the units run in one warm kernel per worker
    (:mod:`attendance_lib.runner.warm_kernels`); ``warm=False`` starts a fresh kernel per unit.

    Raises
    ------
    UsageError
        For any bad parameter file (nothing is run).
    ReportError
        When any unit failed (after all ran and the index was written); ``.outcome`` holds
        the :class:`RunAllOutcome`.
    """
    clock = time.perf_counter()
    files = find_params_files(params_dir)
    if not files:
        raise UsageError(f"{params_dir}: no parameter files (*.yaml)")
    specs = [load_params(path) for path in files]
    if overrides:
        unused = set(overrides) - {name for spec in specs for name in spec.declared}
        if unused:
            raise UsageError(
                f"--set {', '.join(sorted(unused))}: no notebook in {params_dir} declares it"
            )
        specs = [
            load_params(spec.path, {k: v for k, v in overrides.items() if k in spec.declared})
            for spec in specs
        ]
    reports_dir = Path(reports_dir)
    datasets: dict[Path, Any] = {}
    targets = [default_out_dir(s, reports_dir) for s in specs]
    audits = [audit_dir_for(t) for t in targets]
    plan = plan_workers(workers)
    with (
        guard.guarded([reports_dir, *targets], [*targets, *audits]),
        duckdb_memory_limit(plan.duckdb_mb),  # validation here, and the kernels
    ):
        planned = [plan_units(s, t, datasets) for s, t in zip(specs, targets, strict=True)]
        units = [u for unit_list, _ in planned for u in unit_list]
        with school_slices(units, datasets):
            done = run_units(units, workers=plan, progress=progress, warm=warm)
        by_label = {u.label: o for u, o in zip(units, done, strict=True)}
        reports = []
        for spec, (unit_list, failures) in zip(specs, planned, strict=True):
            reports.append(_report_outcome(spec, failures + [by_label[u.label] for u in unit_list]))
        outcome = RunAllOutcome(
            reports,
            index=write_index(reports_dir),
            workers=describe_plan(plan.for_units(len(units))) if units else None,
        )
    outcome.seconds = time.perf_counter() - clock
    _raise_if_failed(outcome)
    return outcome
