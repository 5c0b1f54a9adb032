"""Where one school's Targeting Support Meeting pack spends its time, step by step.

Usage::

    python benchmarks/bench_pack.py                      # demo LA, 12 schools, one worker
    python benchmarks/bench_pack.py --schools 30 --params params/school_tsm_pack_pupils.yaml

Runs the first ``--schools`` units of a ``for_each: school`` parameter file through the
runner (``run_units``, warm kernels, one worker, so the steps do not compete with each other)
on a throwaway project (:func:`bench_fanout.make_project`) with an empty cache, and times:

- in the runner process: the kernel's start and ``prepare()`` (imports), its reset before
  every notebook, each publishing step (reading the executed notebook, the nbconvert HTML
  export, tables and workbook, scrubbing paths, the offline, active-content, privacy and
  disclosure checks, ``run.json``, moving into place);
- in the kernel: every cell, from papermill's per-cell durations in the executed notebook
  (labelled by the cell's first line).

The runner thread's own CPU while the kernel runs the notebook (nbclient handling the
kernel's messages, papermill's bookkeeping) is printed as "the runner's side": it is part of
a pack's cost that neither the kernel's CPU nor the publishing steps show.

Beside the wall-clock seconds it prints CPU seconds where it has them: the runner thread's
own (``time.thread_time``) for each runner step, and the kernel's for the whole notebook
(``kernel_cpu_seconds`` from ``run.json``). CPU seconds are far less inflated than wall
seconds when other work shares the machine.

The first school is shown apart: it computes what the LA's packs share (the code cube, the
reference tables) and caches it. The rest are the steady state: mean seconds per school.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_fanout import make_project  # noqa: E402
from machine import cpu_model  # noqa: E402

from attendance_lib.runner import run as running  # noqa: E402
from attendance_lib.runner import warm_kernels  # noqa: E402
from attendance_lib.runner.params import load_params  # noqa: E402

REPO = HERE.parent
#: (object, attribute, label): what the runner process does per unit, timed by wrapping.
RUNNER_STEPS = [
    (warm_kernels, "execute_warm", "execute: the notebook in the kernel, all told"),
    (warm_kernels.WarmKernel, "start", "execute: kernel start + prepare (imports)"),
    (warm_kernels.WarmKernel, "_ready_for", "execute: kernel reset (and start, when needed)"),
    (running.nbformat, "read", "publish: read the executed notebook"),
    (running.publish, "export_html", "publish: nbconvert HTML export (+ TOC, CSP)"),
    (running.publish, "write_tables", "publish: CSV tables + workbook"),
    (running, "_scrub_notebook", "publish: scrub paths from the notebook"),
    (running, "external_loads", "checks: offline"),
    (running.publish, "active_content", "checks: active content"),
    (running, "absolute_paths", "checks: no absolute paths"),
    (running, "check_folder", "checks: privacy gate"),
    (running.disclosure_attack, "check_report", "checks: disclosure attack"),
    (running.publish, "write_json", "publish: run.json"),
    (running.publish, "move_into_place", "publish: move into place"),
]


EXECUTE = "execute: the notebook in the kernel, all told"
RESET = "execute: kernel reset (and start, when needed)"
RUNNER_SIDE = "execute: the runner's side (nbclient, papermill), CPU only"


class Timer:
    """Wall and CPU seconds per label, per unit (``current``: the unit running)."""

    def __init__(self) -> None:
        self.current = 0
        self.seconds: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.cpu: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))

    def wrap(self, owner: object, name: str, label: str) -> None:
        original: Callable = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args, **kwargs):
            clock, cpu = time.perf_counter(), time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[self.current][label] += time.perf_counter() - clock
                self.cpu[self.current][label] += time.thread_time() - cpu

        setattr(owner, name, timed)


def cell_seconds(notebook: Path) -> dict[str, float]:
    """Papermill's duration of every code cell, labelled by its index and first line."""
    nb = nbformat.read(notebook, as_version=4)
    found = {}
    for n, cell in enumerate(nb.cells):
        duration = cell.get("metadata", {}).get("papermill", {}).get("duration")
        if cell.cell_type == "code" and duration is not None:
            first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
            found[f"cell {n:>2}: {first[:48]}"] = float(duration)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=REPO / "data" / "demo")
    parser.add_argument("--params", type=Path, default=REPO / "params" / "school_tsm_pack.yaml")
    parser.add_argument("--schools", type=int, default=12)
    args = parser.parse_args(argv)

    print(f"{cpu_model()}, {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    timer = Timer()
    for owner, name, label in RUNNER_STEPS:
        timer.wrap(owner, name, label)
    run_unit = running.run_unit

    def timed_unit(unit, **kwargs):
        timer.current = unit.urn
        clock = time.perf_counter()
        outcome = run_unit(unit, **kwargs)
        timer.seconds[unit.urn]["unit total (runner's view)"] += time.perf_counter() - clock
        return outcome

    running.run_unit = timed_unit
    project = make_project(args.data, [args.params])
    spec = load_params(project / "params" / args.params.name)
    with tempfile.TemporaryDirectory(prefix="aw-bench-cache-") as cache:
        os.environ["ATTENDANCE_WORKBENCH_CACHE"] = cache
        reports = project / "reports"
        datasets: dict = {}
        units, _ = running.plan_units(spec, running.default_out_dir(spec, reports), datasets)
        units = units[: args.schools]
        slices = getattr(running, "school_slices", None)  # as run-all does (if this version does)
        with slices(units, datasets) if slices else contextlib.nullcontext():
            done = running.run_units(units, workers=1, progress=False)
    failed = [o.label for o in done if not o.ok]
    if failed:
        print("failed:", ", ".join(failed))
        return 1
    timer.current = None  # reading the notebooks here is not a unit's
    for outcome in done:
        timer.seconds[outcome.urn].update(cell_seconds(outcome.notebook))
        run = json.loads((outcome.notebook.parent / "run.json").read_text())
        cpu = timer.cpu[outcome.urn]
        # the runner thread's own CPU while the kernel ran the notebook (nbclient's message
        # handling, papermill's bookkeeping), the kernel's reset left out
        cpu[RUNNER_SIDE] = cpu[EXECUTE] - cpu.get(RESET, 0.0)
        timer.seconds[outcome.urn].setdefault(RUNNER_SIDE, 0.0)
        if run.get("kernel_cpu_seconds") is not None:  # recorded by this version of the runner
            cpu[EXECUTE] = run["kernel_cpu_seconds"]
    first, rest = done[0].urn, [o.urn for o in done[1:]]
    labels = list(dict.fromkeys(label for per in timer.seconds.values() for label in per))
    print(f"\n{'step':60}{'first s':>9}{'then s/school':>15}{'CPU s/school':>14}")
    for label in labels:
        later = statistics.mean(timer.seconds[u].get(label, 0.0) for u in rest)
        cpus = [timer.cpu[u][label] for u in rest if label in timer.cpu[u]]
        cpu = f"{statistics.mean(cpus):>14.3f}" if cpus else ""
        print(f"{label:60}{timer.seconds[first].get(label, 0.0):>9.3f}{later:>15.3f}{cpu}")
    print(f"\n{len(rest)} schools after the first; load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
