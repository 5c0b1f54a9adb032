"""One run at a time per output folder, and nothing left behind when a run is stopped.

- :func:`output_lock` takes a lock file beside each output folder (``.<folder>.lock``) for
  the whole run. A second run into the same folder fails at once, saying which process holds
  it, instead of both printing ok while one report silently replaces the other. The lock is
  an OS file lock (``flock``), so it is released even when the holder is killed.
- :func:`sweep` removes staging and set-aside folders (``.<report>.tmp-*``,
  ``.<report>.old-*``) left by a run that was killed; each run sweeps its folders at the
  start, once it holds their locks.
- :func:`stop_on_sigterm`: on SIGTERM the runner stops its kernels, sweeps its staging
  folders (partial notebooks, perhaps pupil identifiers) and exits with status 143; on
  Ctrl-C from the command line (:func:`ctrl_c_stops_runs`) the same, with status 130.
- :func:`stop_children`: what a stopped run does with its kernels and publishing processes
  (the command line calls it on Ctrl-C too).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import signal
import sys
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

import psutil

from attendance_lib.core.errors import WorkbenchError

#: Exit status after SIGTERM (128 + 15, as a shell reports it).
SIGTERM_EXIT = 143
#: Names of the folders a run works in beside its output (see ``publish.staging_dir``).
_WORK_PATTERNS = (".*.tmp-*", ".*.old-*")


class OutputBusyError(WorkbenchError):
    """Another run is writing to the same output folder."""


def lock_path(folder: Path) -> Path:
    """The lock file of an output folder: ``.<name>.lock`` beside it."""
    return folder.parent / f".{folder.name}.lock"


def _holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        return "another process"
    return text or "another process"


@contextlib.contextmanager
def output_lock(folders: Iterable[Path]) -> Iterator[None]:
    """Hold the lock of every folder in ``folders`` (sorted, so two runs never deadlock).

    Raises
    ------
    OutputBusyError
        At once, naming the folder and the process holding it, if another run holds one.
    """
    import fcntl  # POSIX; the workbench runs on Linux and macOS

    held = []
    try:
        for folder in sorted({Path(f).resolve() for f in folders}):
            path = lock_path(folder)
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = path.open("a+", encoding="utf-8")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                raise OutputBusyError(
                    f"{folder}: another run is writing to this folder ({_holder(path)}); "
                    "wait for it to finish, or choose another folder with --out"
                ) from None
            handle.seek(0)
            handle.truncate()
            started = dt.datetime.now().astimezone().isoformat(timespec="seconds")
            handle.write(f"process {os.getpid()}, started {started}\n")
            handle.flush()
            held.append(handle)
        yield
    finally:
        for handle in held:
            handle.close()  # releases the lock; the empty file may stay


def sweep(folders: Iterable[Path]) -> list[Path]:
    """Remove leftover staging and set-aside folders beside and under ``folders``.

    Call only while holding the folders' locks, so no running report is touched.
    Returns what was removed.
    """
    removed = []
    for folder in {Path(f).resolve() for f in folders}:
        candidates = [p for pattern in _WORK_PATTERNS for p in folder.parent.glob(pattern)]
        candidates = [p for p in candidates if p.name.startswith(f".{folder.name}.")]
        if folder.is_dir():
            candidates += [p for pattern in _WORK_PATTERNS for p in folder.rglob(pattern)]
        for path in candidates:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
    return removed


def stop_children() -> None:
    """Terminate this process's children (kernels, publishing processes), then kill any that linger.

    Used when a run or command is stopped (SIGTERM, Ctrl-C): a child left behind (a kernel, a
    publishing process, Spark's JVM) would otherwise go on running, holding the terminal's
    output open.
    """
    children = psutil.Process().children(recursive=True)
    for child in children:
        with contextlib.suppress(psutil.Error):
            child.terminate()
    _, alive = psutil.wait_procs(children, timeout=3)
    for child in alive:
        with contextlib.suppress(psutil.Error):
            child.kill()


#: Exit status after Ctrl-C during a run from the command line (128 + 2).
SIGINT_EXIT = 130
_ctrl_c_stops_runs = threading.local()


@contextlib.contextmanager
def ctrl_c_stops_runs() -> Iterator[None]:
    """Inside the block, Ctrl-C during a run is answered as SIGTERM is (exit 130).

    For the command line: answered by a handler, the stop does not depend on where a
    ``KeyboardInterrupt`` would land (in two test runs on a loaded machine one was not
    answered within a minute; the likeliest cause, not proven, is an interrupt lost while a
    kernel started). A library caller (a notebook running ``run_all``) keeps its
    ``KeyboardInterrupt``: an interrupt there must not end the caller's process.
    """
    before = getattr(_ctrl_c_stops_runs, "on", False)
    _ctrl_c_stops_runs.on = True
    try:
        yield
    finally:
        _ctrl_c_stops_runs.on = before


@contextlib.contextmanager
def stop_on_sigterm(folders: Iterable[Path]) -> Iterator[None]:
    """While running, answer SIGTERM by stopping kernels, sweeping ``folders`` and exiting 143.

    Exits at once (``os._exit``): worker threads are mid-notebook and would otherwise keep
    the process alive, and a stopped run must not be recorded as a failed report. Inside
    :func:`ctrl_c_stops_runs`, Ctrl-C does the same and exits 130. Only the main thread can
    install a handler; elsewhere this does nothing.
    """
    folders = list(folders)
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_signal(signum, frame):
        signal.signal(signum, signal.SIG_IGN)  # a second press waits for the clean-up
        how = "SIGTERM" if signum == signal.SIGTERM else "Ctrl-C"
        print(f"stopped ({how}): removing unfinished reports", file=sys.stderr, flush=True)
        stop_children()
        sweep(folders)
        os._exit(SIGTERM_EXIT if signum == signal.SIGTERM else SIGINT_EXIT)

    signals = [signal.SIGTERM]
    if getattr(_ctrl_c_stops_runs, "on", False):
        signals.append(signal.SIGINT)
    previous = {signum: signal.signal(signum, on_signal) for signum in signals}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def guarded(locked: Iterable[Path], swept: Iterable[Path]) -> Iterator[None]:
    """Lock ``locked``, sweep what a killed run left in ``swept``, clean ``swept`` on SIGTERM."""
    swept = list(swept)
    with output_lock(locked):
        sweep(swept)
        with stop_on_sigterm(swept):
            yield
