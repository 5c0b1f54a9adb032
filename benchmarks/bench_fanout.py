"""Time the per-school report fan-out (``run-all`` with ``for_each: school``): fresh vs warm kernels.

Usage::

    python benchmarks/bench_fanout.py                       # 200 schools, both paths, 3 runs each
    python benchmarks/bench_fanout.py --limit 40 --repeats 3 --modes fresh
    python benchmarks/bench_fanout.py --data data/demo      # the 60-school demo LA

It generates, if missing, a synthetic LA with ``--schools`` schools and ``--pupils`` pupils
(:func:`attendance_lib.synth.generate`) under ``benchmarks/data/``, and writes a throwaway
project there (``notebooks/`` links to the repository's notebooks; ``params/`` holds copies of
the chosen parameter files, default ``params/school_tsm_pack.yaml``, pointed at that data).
One school is run first, untimed, so the validated-data stamp, the code cube and the pack's
LA-wide reference tables are cached for every timed run (as they are after the first
``run-all`` on an extract). Then, for each mode:

- ``fresh``: every unit is its own papermill run in a fresh kernel (the runner before warm
  kernels; ``run_all(..., warm=False)``);
- ``warm``: one warm kernel per worker (``run_all(..., warm=True)``, the default).

It prints, per run, the wall-clock seconds, seconds per school (wall / schools), CPU seconds
per school (parent and kernels, user + system: other work on the machine inflates it far less
than the wall clock), the median ``execute`` and ``publish`` seconds from the units'
``run.json`` and the load average; then the median over runs. ``--limit N`` runs only the
first N units (through ``run_units``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import time
from pathlib import Path

import yaml

from attendance_lib.core.errors import ReportError
from attendance_lib.runner.params import find_params_files, load_params
from attendance_lib.runner.run import default_out_dir, plan_units, run_all, run_units

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import cpu_model  # noqa: E402

REPO = HERE.parent


def ensure_data(schools: int, pupils: int) -> Path:
    """The synthetic LA folder under benchmarks/data/, generated when missing."""
    folder = HERE / "data" / f"la_{schools}_schools_{pupils}_pupils"
    if not (folder / "synth_truth.json").is_file():
        from attendance_lib.synth import generate

        print(f"generating {folder.name} ...", flush=True)
        clock = time.perf_counter()
        generate(folder, pupils=pupils, schools=schools, progress=False)
        print(f"  generated in {time.perf_counter() - clock:.0f} s", flush=True)
    return folder


def make_project(data_dir: Path, params_files: list[Path]) -> Path:
    """A project folder whose params point at ``data_dir``; notebooks link to the repo's."""
    project = HERE / "data" / "fanout_project"
    if project.exists():
        shutil.rmtree(project)
    (project / "params").mkdir(parents=True)
    (project / "notebooks").symlink_to(REPO / "notebooks", target_is_directory=True)
    for path in params_files:
        spec = yaml.safe_load(path.read_text())
        spec.setdefault("parameters", {})["data_dir"] = str(data_dir.resolve())
        (project / "params" / path.name).write_text(yaml.safe_dump(spec, sort_keys=False))
    return project


def unit_seconds(reports: Path, key: str) -> float:
    """Median of ``seconds[key]`` over every run.json under ``reports``."""
    values = [
        json.loads(p.read_text())["seconds"].get(key)
        for p in reports.rglob("run.json")
        if "failed" not in p.parts
    ]
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and its reaped children (the kernels)."""
    own, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run_once(project: Path, mode: str, workers: int, limit: int | None) -> dict:
    """One timed fan-out; returns the figures for the table."""
    reports = project / f"reports_{mode}"
    shutil.rmtree(reports, ignore_errors=True)
    warm = mode == "warm"
    load_before = os.getloadavg()[0]
    cpu, clock = cpu_seconds(), time.perf_counter()
    if limit is None:
        try:
            outcome = run_all(
                project / "params", reports_dir=reports, workers=workers, progress=False, warm=warm
            )
        except ReportError as exc:
            outcome = exc.outcome
        units = outcome.units
    else:
        specs = [load_params(p) for p in find_params_files(project / "params")]
        planned = [u for s in specs for u in plan_units(s, default_out_dir(s, reports), {})[0]]
        units = run_units(planned[:limit], workers=workers, progress=False, warm=warm)
    wall, cpu = time.perf_counter() - clock, cpu_seconds() - cpu
    failed = [u.label for u in units if u.status != "ok"]
    return {
        "mode": mode,
        "units": len(units),
        "failed": failed,
        "wall": wall,
        "per_school": wall / len(units),
        "cpu_per_school": cpu / len(units),
        "execute": unit_seconds(reports, "execute"),
        "publish": unit_seconds(reports, "publish"),
        "load": (load_before + os.getloadavg()[0]) / 2,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--schools", type=int, default=200)
    parser.add_argument("--pupils", type=int, default=40_000)
    parser.add_argument("--data", type=Path, help="an existing data folder instead of synth")
    parser.add_argument(
        "--params", nargs="+", type=Path, default=[REPO / "params" / "school_tsm_pack.yaml"]
    )
    parser.add_argument("--modes", default="fresh,warm", help="comma-separated: fresh, warm")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, help="run only the first N units")
    args = parser.parse_args(argv)

    data_dir = args.data.resolve() if args.data else ensure_data(args.schools, args.pupils)
    project = make_project(data_dir, args.params)
    print(
        f"{cpu_model()}, {os.cpu_count()} cores, {args.workers} workers; "
        f"Python {sys.version.split()[0]}; data {data_dir.name}",
        flush=True,
    )
    specs = [load_params(p) for p in find_params_files(project / "params")]
    first = [plan_units(s, default_out_dir(s, project / "warmup"), {})[0][0] for s in specs]
    clock = time.perf_counter()
    run_units(first, workers=1, progress=False, warm=False)  # fill the data caches, untimed
    print(f"warm-up (validation, cube, reference tables): {time.perf_counter() - clock:.1f} s")

    header = (
        f"{'mode':6} {'units':>5} {'wall s':>8} {'s/school':>9} {'cpu s/school':>12} "
        f"{'exec s':>7} {'pub s':>6} {'load':>5}"
    )
    print(header)
    results: dict[str, list[dict]] = {}
    for _ in range(args.repeats):
        for mode in args.modes.split(","):
            r = run_once(project, mode.strip(), args.workers, args.limit)
            results.setdefault(r["mode"], []).append(r)
            print(
                f"{r['mode']:6} {r['units']:>5} {r['wall']:>8.1f} {r['per_school']:>9.2f} "
                f"{r['cpu_per_school']:>12.2f} {r['execute']:>7.2f} {r['publish']:>6.2f} {r['load']:>5.1f}"
                + (f"  FAILED: {', '.join(r['failed'][:3])}" if r["failed"] else ""),
                flush=True,
            )
    print("median over runs:")
    for mode, runs in results.items():
        wall = statistics.median(r["wall"] for r in runs)
        units = runs[0]["units"]
        print(
            f"{mode:6} {units:>5} {wall:>8.1f} {wall / units:>9.2f} "
            f"{statistics.median(r['cpu_per_school'] for r in runs):>12.2f} "
            f"{statistics.median(r['execute'] for r in runs):>7.2f} "
            f"{statistics.median(r['publish'] for r in runs):>6.2f} "
            f"{statistics.median(r['load'] for r in runs):>5.1f}"
        )
    if {"fresh", "warm"} <= set(results):
        fresh = statistics.median(r["wall"] for r in results["fresh"])
        warm = statistics.median(r["wall"] for r in results["warm"])
        print(f"warm kernels: {fresh / warm:.1f} times faster")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
