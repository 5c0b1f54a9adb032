"""Executing one notebook with papermill: the kernel, its environment, timeouts and retries.

The kernel is ipykernel's ``python3`` kernel of the running interpreter. It runs with
``IPYTHONDIR=<project>/.ipython``, whose ``profile_default/ipython_kernel_config.py`` sets
``c.IPKernelApp.log_level = 'CRITICAL'`` (silencing the "running over TCP without encryption"
warning). Papermill misbehaves under process pools and kernel starts fail now and then under
load, so the runner uses threads and retries a kernel-start failure once.
"""

from __future__ import annotations

import functools
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import papermill
import psutil
from jupyter_client.manager import AsyncKernelManager
from papermill.exceptions import PapermillExecutionError

#: The kernel every report runs in.
KERNEL_NAME = "python3"
#: Seconds one cell may run before the run fails.
CELL_TIMEOUT = 600
#: Seconds to wait for a kernel to start.
START_TIMEOUT = 60
#: Attempts at starting a kernel (the first plus one retry).
KERNEL_START_ATTEMPTS = 2
KERNEL_CONFIG = "c.IPKernelApp.log_level = 'CRITICAL'\n"

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_CELL_LINE = re.compile(r"Cell In\[\d+\], line (\d+)")


@dataclass(frozen=True)
class CellFailure:
    """Where a notebook failed: the cell, an excerpt of its source and the error."""

    cell_index: int
    execution_count: int | None
    excerpt: str
    error: str

    def describe(self) -> str:
        """A few lines for the terminal: the cell, its failing lines, the error."""
        where = (
            f"In [{self.execution_count}]"
            if self.execution_count is not None
            else f"cell {self.cell_index}"
        )
        return f"{where}:\n{self.excerpt}\n{self.error}"


class KernelStartError(RuntimeError):
    """The kernel did not start, even after a retry."""


def ensure_ipython_dir(root: Path) -> Path:
    """Create ``<root>/.ipython`` with the quiet kernel config if missing; return it."""
    ipython_dir = root / ".ipython"
    config = ipython_dir / "profile_default" / "ipython_kernel_config.py"
    if not config.is_file() or config.read_text() != KERNEL_CONFIG:
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(KERNEL_CONFIG)
    return ipython_dir


@functools.cache
def kernel_manager_for(ipython_dir: str) -> type[AsyncKernelManager]:
    """A kernel manager class that starts kernels with ``IPYTHONDIR=ipython_dir``.

    Papermill gives no way to pass the kernel an environment, but it passes engine keyword
    arguments on to nbclient, whose ``kernel_manager_class`` this is; the parent process's
    own environment is left alone (threads share it).
    """

    class WorkbenchKernelManager(AsyncKernelManager):
        async def _async_pre_start_kernel(self, **kw: Any):
            env = dict(kw.pop("env", None) or os.environ)
            env["IPYTHONDIR"] = ipython_dir
            env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # the frozen-modules warning
            kw["env"] = env
            return await super()._async_pre_start_kernel(**kw)

        #: set by a warm kernel before each notebook: its CPU seconds then, and whether its
        #: high-water mark was reset (a fresh kernel runs one notebook: 0 and True)
        usage_since: tuple[float, bool] = (0.0, True)

        async def shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
            # what the kernel used for its (last) notebook: read it before the process goes
            cpu_before, peak = self.usage_since
            record_kernel_usage(kernel_pid(self), cpu_before=cpu_before, peak=peak)
            await super().shutdown_kernel(now=now, restart=restart)

    return WorkbenchKernelManager


_usage = threading.local()


@dataclass(frozen=True)
class KernelUsage:
    """What a kernel used while it ran one notebook (None where the platform does not say)."""

    peak_memory_mb: float | None = None
    cpu_seconds: float | None = None


def kernel_pid(km: Any) -> int | None:
    """The process id of a kernel manager's running kernel, if it has one."""
    provisioner = getattr(km, "provisioner", None)
    pid = getattr(provisioner, "pid", None)
    return pid if isinstance(pid, int) and pid > 0 else None


def peak_rss_mb(pid: int | None) -> float | None:
    """The peak resident memory of process ``pid`` in MB (Linux ``VmHWM``), None if unknown."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return None


def resident_mb(pid: int | None) -> float | None:
    """The resident memory of process ``pid`` now, in MB (psutil), None if unknown."""
    if pid is None:
        return None
    try:
        return psutil.Process(pid).memory_info().rss / 2**20
    except psutil.Error:
        return None


def reset_peak_rss(pid: int | None) -> bool:
    """Start a new high-water mark for ``pid`` (Linux ``clear_refs`` 5); False where it cannot."""
    if pid is None:
        return False
    try:
        with open(f"/proc/{pid}/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def cpu_seconds(pid: int | None) -> float | None:
    """User plus system CPU seconds process ``pid`` has used so far (psutil), None if unknown."""
    if pid is None:
        return None
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return None
    return times.user + times.system


def record_kernel_usage(pid: int | None, *, cpu_before: float = 0.0, peak: bool = True) -> None:
    """Remember what the kernel used for this thread's current unit (:func:`take_kernel_usage`).

    ``cpu_before`` is the kernel's CPU seconds when the notebook started (0 for a fresh
    kernel, which ran only this notebook); ``peak`` is False when the kernel's high-water mark
    covers more than this notebook.
    """
    cpu = cpu_seconds(pid)
    _usage.last = KernelUsage(
        peak_memory_mb=peak_rss_mb(pid) if peak else None,
        cpu_seconds=cpu - cpu_before if cpu is not None else None,
    )


def take_kernel_usage() -> KernelUsage:
    """What the kernel that ran this thread's last notebook used, once (then empty).

    Recorded when a fresh kernel shuts down, or after each notebook in a warm kernel
    (:mod:`attendance_lib.runner.warm_kernels`), whose high-water mark is reset and CPU time
    read before each notebook; on a failure, when the kernel is shut down.
    """
    usage = getattr(_usage, "last", None) or KernelUsage()
    _usage.last = None
    return usage


def describe_failure(exc: PapermillExecutionError, context: int = 3) -> CellFailure:
    """Turn papermill's error into a few lines: the failing line of the cell and the error."""
    lines = (exc.source or "").splitlines()
    tb = _ANSI.sub("", "\n".join(exc.traceback or []))
    found = _CELL_LINE.findall(tb)
    if found and lines:
        bad = min(max(int(found[-1]), 1), len(lines))
        lo, hi = max(bad - context, 1), min(bad + 1, len(lines))
        excerpt = "\n".join(
            f"{'-->' if n == bad else '   '} {n:>3} | {lines[n - 1]}" for n in range(lo, hi + 1)
        )
    else:
        shown = lines[: 2 * context]
        excerpt = "\n".join(f"    {n:>3} | {t}" for n, t in enumerate(shown, 1))
        if len(lines) > len(shown):
            excerpt += "\n        | ..."
    evalue = (exc.evalue or "").strip().splitlines()
    error = f"{exc.ename}: {evalue[0] if evalue else ''}".rstrip(": ")
    if len(evalue) > 1:
        error += "\n" + "\n".join(evalue[1:4])
    return CellFailure(exc.cell_index, exc.exec_count, excerpt, error)


def _is_kernel_start_failure(exc: BaseException) -> bool:
    if isinstance(exc, PapermillExecutionError):
        return False
    text = f"{type(exc).__name__} {exc}".lower()
    return isinstance(exc, TimeoutError | RuntimeError | OSError) or "kernel" in text


def execute(
    notebook: Path,
    output: Path,
    parameters: dict[str, Any],
    *,
    root: Path,
    progress: bool = False,
    cell_timeout: int = CELL_TIMEOUT,
) -> float:
    """Execute ``notebook`` into ``output`` with papermill; return the seconds taken.

    The working directory is the notebook's folder, as in JupyterLab and nbval (the params
    loader makes ``data_dir`` absolute). A kernel that fails to start is retried once.

    Raises
    ------
    PapermillExecutionError
        When a cell raises (the executed notebook, with the error, is at ``output``).
    KernelStartError
        When the kernel fails to start twice.
    """
    ipython_dir = str(ensure_ipython_dir(root))
    started = time.perf_counter()
    for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
        try:
            papermill.execute_notebook(
                str(notebook),
                str(output),
                parameters=parameters,
                kernel_name=KERNEL_NAME,
                execution_timeout=cell_timeout,
                start_timeout=START_TIMEOUT,
                progress_bar=progress,
                log_output=False,
                cwd=str(notebook.parent),
                kernel_manager_class=kernel_manager_for(ipython_dir),
            )
            break
        except PapermillExecutionError:
            raise
        except Exception as exc:
            if not _is_kernel_start_failure(exc) or _cells_ran(output):
                raise
            if attempt == KERNEL_START_ATTEMPTS:
                raise KernelStartError(
                    f"the kernel failed to start twice: {type(exc).__name__}: {exc}"
                ) from exc
    return time.perf_counter() - started


def _cells_ran(output: Path) -> bool:
    """True if any cell of the (partly) executed notebook at ``output`` has run."""
    try:
        nb = papermill.iorw.load_notebook_node(str(output))
    except Exception:
        return False
    return any(c.get("execution_count") for c in nb.cells if c.cell_type == "code")
