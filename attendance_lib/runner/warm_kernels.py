"""Warm kernels: each worker thread keeps one kernel and runs notebook after notebook in it.

A fresh papermill run costs about 3 s before a report does any work of its own: a kernel
process starts (~0.7 s), imports pandas, matplotlib and the library (~1 s) and reads the data
folder again (hashing and parsing, ~0.4 s on the demo LA). A ``for_each: school`` fan-out
pays that for every school. Here a :class:`KernelPool` runs units on ``workers`` threads; each
thread owns one :class:`WarmKernel`, started once (with one retry), prepared once
(:func:`attendance_lib.runner.kernel_session.prepare`: the common imports; datasets are
remembered per process by :func:`attendance_lib.contract.dataset.load_dataset`) and reset before every notebook (:func:`~attendance_lib.runner.kernel_session.reset`:
empty namespace, figures closed, rc settings, warning filters, environment and working
directory restored).

Each notebook is parameterised and executed exactly as papermill does it (papermill's
``parameterize_notebook``, its ``NotebookExecutionManager`` and ``PapermillNotebookClient``
with the per-cell timeout, and ``raise_for_execution_errors``, which writes the failed
notebook with papermill's error markers), but against the already started kernel, and the
executed notebook is written once when it ends (papermill rewrites it at every cell's start
and end, which costs a school pack more than its tables do). After any
failure - a cell error, a timeout, a kernel that died - the worker's kernel is shut down and
the next notebook gets a fresh one, so one school cannot poison the next. A kernel is also
replaced after :data:`MAX_NOTEBOOKS_PER_KERNEL` notebooks, and after any notebook that leaves
it holding more than :data:`MAX_RESIDENT_MB` (a heavy report's arrays that Python keeps from
the operating system would otherwise stay with the school packs that follow it, and count in
their memory), to bound memory.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from jupyter_core.utils import ensure_event_loop
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NotebookExecutionManager
from papermill.execute import (
    prepare_notebook_metadata,
    raise_for_execution_errors,
    remove_error_markers,
)
from papermill.iorw import load_notebook_node, write_ipynb
from papermill.parameterize import parameterize_notebook

from attendance_lib.runner import execute as executing

#: Notebooks one kernel runs before it is replaced by a fresh one.
MAX_NOTEBOOKS_PER_KERNEL = 100
#: A kernel holding more than this (MB) after a notebook is replaced before the next one: half
#: a worker's budget (:data:`attendance_lib.runner.workers.WORKER_MEMORY_MB`). A school pack
#: needs under 1 GB; a warm kernel that has just run a heavy report can keep 3 GB.
MAX_RESIDENT_MB = 1536
#: Seconds the kernel may take to import the common modules, or to reset between notebooks.
SETUP_TIMEOUT = 120
#: What nbclient passes to a kernel it starts: keep IPython's history in memory.
KERNEL_ARGUMENTS = ["--HistoryManager.hist_file=:memory:"]
PREPARE_CODE = "import attendance_lib.runner.kernel_session as _aw_session\n_aw_session.prepare()"
RESET_CODE = (
    "__import__('attendance_lib.runner.kernel_session').runner.kernel_session.reset({cwd!r})"
)

logger = logging.getLogger("papermill")
_local = threading.local()


class KernelSetupError(RuntimeError):
    """The kernel started but could not be prepared or reset."""


class WarmKernel:
    """One kernel process, reused for successive notebooks; use it from one thread only.

    Parameters
    ----------
    root
        The project root (``IPYTHONDIR=<root>/.ipython``, as for a fresh kernel).
    cwd
        The folder the kernel starts in (the notebooks' folder).
    """

    def __init__(self, root: Path, cwd: Path) -> None:
        self.ipython_dir = str(executing.ensure_ipython_dir(root))
        self.cwd = str(cwd)
        self.km = None
        self.kc = None
        self.notebooks_run = 0
        self.starts = 0

    @property
    def alive(self) -> bool:
        """True when the kernel process is running and has a client."""
        return self.kc is not None and self._run(self.km.is_alive())

    def _run(self, coro):
        return ensure_event_loop().run_until_complete(coro)

    def start(self) -> None:
        """Start and prepare the kernel; retry once; raise ``KernelStartError`` after that."""
        for attempt in range(1, executing.KERNEL_START_ATTEMPTS + 1):
            try:
                self._run(self._start())
                self.starts += 1
                self.notebooks_run = 0
                return
            except Exception as exc:
                self.shutdown()
                if attempt == executing.KERNEL_START_ATTEMPTS:
                    raise executing.KernelStartError(
                        f"the kernel failed to start twice: {type(exc).__name__}: {exc}"
                    ) from exc

    async def _start(self) -> None:
        manager_class = executing.kernel_manager_for(self.ipython_dir)
        self.km = manager_class(kernel_name=executing.KERNEL_NAME)
        await self.km.start_kernel(extra_arguments=list(KERNEL_ARGUMENTS), cwd=self.cwd)
        self.kc = self.km.client()
        self.kc.start_channels()
        await self.kc.wait_for_ready(timeout=executing.START_TIMEOUT)
        self.kc.allow_stdin = False
        await self._execute_quietly(PREPARE_CODE)

    async def _execute_quietly(self, code: str) -> None:
        """Run ``code`` in the kernel without recording it; raise if it fails."""
        errors: list[str] = []

        def hook(msg: dict[str, Any]) -> None:
            if msg["header"]["msg_type"] == "error":
                errors.append(f"{msg['content']['ename']}: {msg['content']['evalue']}")

        reply = await self.kc.execute_interactive(
            code,
            silent=True,
            store_history=False,
            allow_stdin=False,
            timeout=SETUP_TIMEOUT,
            output_hook=hook,
        )
        content = reply["content"]
        if content.get("status") != "ok":
            detail = errors[0] if errors else f"{content.get('ename')}: {content.get('evalue')}"
            raise KernelSetupError(f"kernel setup failed: {detail}")

    def shutdown(self) -> None:
        """Stop the kernel process now (never raises)."""
        try:
            if self.kc is not None:
                self.kc.stop_channels()
            if self.km is not None and self.km.has_kernel:
                self._run(self.km.shutdown_kernel(now=True))
        except Exception as exc:  # a kernel that is already gone
            logger.debug("kernel shutdown: %s", exc)
        finally:
            self.kc = None
            self.km = None

    def _ready_for(self, cwd: Path) -> None:
        """A started kernel, reset for the next notebook; a fresh one if the reset fails."""
        if self.kc is None or self.notebooks_run >= MAX_NOTEBOOKS_PER_KERNEL or not self.alive:
            self.shutdown()
            self.start()
        reset = RESET_CODE.format(cwd=str(cwd))
        try:
            self._run(self._execute_quietly(reset))
        except Exception as exc:
            logger.warning("resetting the kernel failed (%s); starting a fresh one", exc)
            self.shutdown()
            self.start()
            self._run(self._execute_quietly(reset))

    def execute(
        self,
        notebook: Path,
        output: Path,
        parameters: dict[str, Any],
        *,
        progress: bool = False,
        cell_timeout: int = executing.CELL_TIMEOUT,
    ) -> None:
        """Parameterise ``notebook``, run it in this kernel and write it to ``output``.

        The kernel is (re)started first if needed and reset; after any failure it is shut
        down, so the next notebook starts a fresh one.

        Raises
        ------
        PapermillExecutionError
            When a cell raises (the executed notebook, with the error, is at ``output``).
        KernelStartError
            When the kernel fails to start twice.
        """
        self._ready_for(notebook.parent)
        executing.take_kernel_usage()  # not a kernel replaced just now: this notebook's own
        nb = load_notebook_node(str(notebook))
        if parameters:
            nb = parameterize_notebook(nb, parameters, kernel_name=executing.KERNEL_NAME)
        nb = remove_error_markers(prepare_notebook_metadata(nb, str(notebook), str(output)))
        self.notebooks_run += 1
        pid = executing.kernel_pid(self.km)
        peak_known = executing.reset_peak_rss(pid)  # this notebook's own high-water mark
        cpu_before = executing.cpu_seconds(pid) or 0.0
        self.km.usage_since = (cpu_before, peak_known)  # read if it is shut down on a failure
        try:
            # No output path for the manager: papermill would write the whole notebook at
            # every cell's start and end (40-odd writes a school pack, 0.2-0.3 CPU s); it is
            # written once, when the run ends however it ends.
            manager = NotebookExecutionManager(
                nb, output_path=None, progress_bar=progress, log_output=False
            )
            manager.notebook_start()
            try:
                client = PapermillNotebookClient(
                    manager,
                    km=self.km,
                    timeout=cell_timeout,
                    startup_timeout=executing.START_TIMEOUT,
                    kernel_name=executing.KERNEL_NAME,
                    log=logger,
                    log_output=False,
                )
                client.kc = self.kc  # reuse this kernel's channels: nbclient then leaves both open
                client.execute()
            finally:
                manager.cleanup_pbar()
                manager.notebook_complete()
                write_ipynb(manager.nb, str(output))  # as far as it ran, if it failed
            executing.record_kernel_usage(pid, cpu_before=cpu_before, peak=peak_known)
            raise_for_execution_errors(manager.nb, str(output))
        except BaseException:
            self.shutdown()
            raise
        held = executing.resident_mb(pid)
        if held is not None and held > MAX_RESIDENT_MB:
            logger.info("kernel holds %.0f MB after %s: starting a fresh one", held, notebook.name)
            self.shutdown()


def current_kernel(root: Path, cwd: Path) -> WarmKernel | None:
    """This pool thread's kernel for ``root`` (made on first use); ``None`` off a pool thread."""
    kernels = getattr(_local, "kernels", None)
    if kernels is None:
        return None
    key = str(root)
    if key not in kernels:
        for other in kernels.values():  # one kernel per thread: a new root replaces it
            other.shutdown()
        kernels.clear()
        kernels[key] = WarmKernel(root, cwd)
    return kernels[key]


def execute_warm(
    notebook: Path,
    output: Path,
    parameters: dict[str, Any],
    *,
    root: Path,
    progress: bool = False,
    cell_timeout: int = executing.CELL_TIMEOUT,
) -> float:
    """Like :func:`attendance_lib.runner.execute.execute`, in this thread's warm kernel.

    On a thread that is not a :class:`KernelPool` worker, falls back to a fresh papermill
    run. Returns the seconds taken (including a kernel start when one was needed).
    """
    kernel = current_kernel(root, notebook.parent)
    if kernel is None:
        return executing.execute(
            notebook, output, parameters, root=root, progress=progress, cell_timeout=cell_timeout
        )
    started = time.perf_counter()
    kernel.execute(notebook, output, parameters, progress=progress, cell_timeout=cell_timeout)
    return time.perf_counter() - started


class KernelPool:
    """``workers`` threads, each owning one warm kernel for the pool's lifetime.

    ``submit(fn, *args)`` returns a :class:`concurrent.futures.Future`, as a
    ``ThreadPoolExecutor`` does; inside ``fn``, :func:`execute_warm` uses the thread's
    kernel. Leaving the ``with`` block waits for the submitted work (or, on an exception,
    cancels what has not started) and shuts every kernel down, each from its own thread.
    """

    _STOP = object()

    def __init__(self, workers: int, *, thread_name_prefix: str = "report-warm") -> None:
        self._tasks: queue.SimpleQueue = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._work, name=f"{thread_name_prefix}-{n}", daemon=True)
            for n in range(max(1, workers))
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Schedule ``fn(*args, **kwargs)`` on a worker; return its future."""
        future: Future = Future()
        self._tasks.put((future, fn, args, kwargs))
        return future

    def _work(self) -> None:
        _local.kernels = {}
        try:
            while True:
                task = self._tasks.get()
                if task is self._STOP:
                    return
                future, fn, args, kwargs = task
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    future.set_result(fn(*args, **kwargs))
                except BaseException as exc:
                    future.set_exception(exc)
        finally:
            for kernel in _local.kernels.values():
                kernel.shutdown()
            _local.kernels = None

    def shutdown(self, *, cancel: bool = False) -> None:
        """Let the workers finish the queued work (or cancel it), then stop them and their kernels."""
        if cancel:
            while True:
                try:
                    task = self._tasks.get_nowait()
                except queue.Empty:
                    break
                if task is not self._STOP:
                    task[0].cancel()
        for _ in self._threads:
            self._tasks.put(self._STOP)
        for thread in self._threads:
            thread.join()

    def __enter__(self) -> KernelPool:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.shutdown(cancel=exc_type is not None)  # e.g. Ctrl-C: drop what has not started
