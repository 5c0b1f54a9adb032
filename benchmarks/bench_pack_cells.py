"""CPU seconds of each code cell of the school pack notebook, run in one Python process.

Usage::

    python benchmarks/bench_pack_cells.py                  # demo LA, 12 schools after the first
    python benchmarks/bench_pack_cells.py --profile pack.prof --audience restricted

Runs the code cells of ``notebooks/school_tsm_pack.ipynb`` (not the parameters cell) for the
first ``--schools`` + 1 schools, one namespace per school, in this process: no kernel, no
runner, nothing displayed. The first school is left out (it builds what the packs share:
the code cube, the reference tables, the cohort status). Prints the mean CPU seconds
(``time.process_time``: every thread of the process, DuckDB's included) of each cell per
school, so a change to the pack's library code can be measured apart from the kernel and
the publishing steps (``bench_pack.py`` measures those). ``--profile`` writes cProfile
statistics of the timed schools.

The dataset cache is ``$ATTENDANCE_WORKBENCH_CACHE`` as usual (the marks are laid out by
school in it first, as ``run-all`` does); point it at a folder of your own.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import matplotlib
import nbformat

matplotlib.use("agg")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import cpu_model  # noqa: E402

from attendance_lib.contract.dataset import load_dataset  # noqa: E402
from attendance_lib.present import notebook as present_notebook  # noqa: E402

REPO = HERE.parent
NOTEBOOK = REPO / "notebooks" / "school_tsm_pack.ipynb"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=REPO / "data" / "demo")
    parser.add_argument("--schools", type=int, default=12)
    parser.add_argument("--audience", default="school", choices=["school", "restricted"])
    parser.add_argument("--profile", type=Path, help="write cProfile statistics here")
    args = parser.parse_args(argv)

    nb = nbformat.read(NOTEBOOK, as_version=4)
    cells = [(n, c.source) for n, c in enumerate(nb.cells) if c.cell_type == "code"]
    cells = [
        (n, src) for n, src in cells if "parameters" not in nb.cells[n].metadata.get("tags", [])
    ]
    present_notebook.display = lambda *a, **k: None  # nothing to show outside a kernel
    dataset = load_dataset(str(args.data))
    dataset.cache_marks_by_school()
    urns = sorted(dataset.schools["urn"].astype(int))[: args.schools + 1]
    params = {
        "data_dir": str(args.data),
        "academic_year": "2024/25",
        "term": "spring",
        "la_name": "Demo local authority",
        "audience": args.audience,
        "suppress_below": 5,
        "cohort": "dfe",
    }
    print(f"{cpu_model()}, {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    cpu: dict[str, float] = defaultdict(float)
    profile = cProfile.Profile() if args.profile else None
    gc.collect()
    gc.freeze()  # as the warm kernels do after each reset
    for count, urn in enumerate(urns):
        namespace = dict(params, urn=urn)
        timed = count > 0
        if timed and profile:
            profile.enable()
        for n, source in cells:
            start = time.process_time()
            exec(compile(source, f"cell {n}", "exec"), namespace)
            if timed:
                first = source.strip().splitlines()[0] if source.strip() else ""
                cpu[f"cell {n:>2}: {first[:52]}"] += time.process_time() - start
        if timed and profile:
            profile.disable()
    schools = len(urns) - 1
    print(f"\n{'cell':62}{'CPU s/school':>14}")
    for label, seconds in cpu.items():
        print(f"{label:62}{seconds / schools:>14.3f}")
    print(f"{'all cells':62}{sum(cpu.values()) / schools:>14.3f}")
    print(f"\n{schools} schools after the first; load average {os.getloadavg()[0]:.1f}")
    if profile:
        profile.dump_stats(args.profile)
        print(f"profile written to {args.profile}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
