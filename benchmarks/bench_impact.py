"""Time the 12-week impact evaluation's library calls on an LA's data folder.

Usage::

    python benchmarks/bench_impact.py                      # the demo LA (data/demo)
    python benchmarks/bench_impact.py --data path/to/la --repeat 1

The impact notebook (``notebooks/impact_12_week.ipynb``) spends its time in these calls:
building the per-day index of every pupil's sessions (``PupilSessions.build``), evaluating
each intervention's windows, finding the comparison pool (the candidates matching picks, for
every start date), matching, the balance table and the sensitivity analyses. Each run is a
fresh Python process with the folder's validation already remembered, as a report kernel
sees it. It prints, per step,
the median seconds over ``--repeat`` runs and the process's peak resident memory once that
step has run (its own ``VmHWM``, so it only grows down the table).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import peak_mb  # noqa: E402

STEPS = [
    "imports",
    "load_dataset",
    "PupilSessions.build",
    "evaluate",
    "comparison_pool",
    "match",
    "balance",
    "sensitivity",
]


def child(folder: Path) -> None:
    """Run the steps once and print each one's seconds and the peak memory after it."""
    figures = {}
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        figures[step] = (now - clock, peak_mb())
        clock = now

    from attendance_lib.analyses.impact import evaluation, matching
    from attendance_lib.analyses.impact.windows import PupilSessions
    from attendance_lib.contract.dataset import load_dataset
    from attendance_lib.core.academic_calendar import Calendar

    lap("imports")
    ds = load_dataset(folder)
    calendar = Calendar(ds.calendar)
    lap("load_dataset")
    sessions = PupilSessions.build(ds, ds.pupils, calendar)
    lap("PupilSessions.build")
    evaluated = evaluation.evaluate_interventions(
        ds.interventions, sessions, ds.pupils, ds.schools, calendar, services=ds.services
    )
    lap("evaluate")
    pool = matching.comparison_pool(
        evaluated, sessions, ds.pupils, ds.schools, ds.interventions, ds.services
    )
    lap("comparison_pool")
    pairs = matching.match_comparisons(evaluated, pool)
    lap("match")
    matching.matching_balance(evaluated, pool, pairs)
    lap("balance")
    matching.sensitivity_table(evaluated, pool)
    lap("sensitivity")
    figures["rows"] = (len(evaluated), len(pool), len(pairs))
    print(json.dumps(figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=HERE.parent / "data" / "demo")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.data)
        return
    if not (args.data / "interventions.csv").is_file():
        raise SystemExit(
            f"{args.data} has no interventions.csv: run `make demo` (or "
            f"`attendance-workbench synth --out {args.data}`) first"
        )
    command = [sys.executable, __file__, "--child", "--data", str(args.data)]
    subprocess.run(command, check=True, capture_output=True)  # validates once, if needed
    runs = []
    for _ in range(args.repeat):
        done = subprocess.run(command, check=True, capture_output=True, text=True)
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    interventions, pool, pairs = runs[0]["rows"]
    print(
        f"{args.data}: {interventions:,} interventions, comparison pool {pool:,} rows, "
        f"{pairs:,} matched pairs; median of {args.repeat} fresh processes"
    )
    print(f"{'step':<18}{'seconds':>9}{'peak MB':>10}")
    for step in STEPS:
        seconds = statistics.median(run[step][0] for run in runs)
        peak = max(run[step][1] for run in runs)
        print(f"{step:<18}{seconds:>9.2f}{peak:>10.0f}")
    total = statistics.median(sum(run[s][0] for s in STEPS) for run in runs)
    print(f"{'total':<18}{total:>9.2f}")


if __name__ == "__main__":
    main()
