"""The whole reporting suite: ``run-all`` on the demo LA and on a large LA, per report.

Usage::

    python benchmarks/bench_suite.py                       # demo LA, then the large LA
    python benchmarks/bench_suite.py --sizes demo          # the demo LA only (about 3 minutes)
    python benchmarks/bench_suite.py --large-pupils 100000 --large-schools 200

For each LA it writes a throwaway project under ``benchmarks/data/`` whose ``params/`` are
copies of the repository's, pointed at that LA (``notebooks/`` links to the repository's), runs
``attendance-workbench run-all`` on it as its own process, and prints:

- the wall-clock time of the whole run and the number of report units;
- per report (a per-school fan-out is one line: its mean per school), the seconds the runner
  recorded in each unit's ``run.json`` (execute + publish);
- the peak resident memory of the largest single process of the run (the runner or any
  kernel), sampled from ``/proc/<pid>/status`` ``VmHWM`` every half second;
- with both sizes, each report's growth factor (large / demo) beside the growth in marks.

The large LA (default 100,000 pupils, 200 schools: about 113 million marks over three years,
Bradford-sized) is generated on first use with :func:`attendance_lib.synth.generate`, which
takes several minutes; it is kept for later runs. The figures are whole-process figures on
this machine: quote the median of several runs, and the machine (printed first).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import cpu_model  # noqa: E402

REPO = HERE.parent


def ensure_data(name: str, pupils: int | None, schools: int | None) -> Path:
    """The LA folder: ``data/demo`` for the demo, else generated under benchmarks/data/."""
    if name == "demo":
        folder = REPO / "data" / "demo"
        args: list[str] = []
    else:
        folder = HERE / "data" / f"la_{schools}_schools_{pupils}_pupils"
        args = ["--pupils", str(pupils), "--schools", str(schools)]
    if not (folder / "synth_truth.json").is_file():
        print(f"generating {folder} ...", flush=True)
        subprocess.run(
            [sys.executable, "-m", "attendance_lib", "synth", "--out", str(folder), *args],
            check=True,
        )
    return folder


def make_project(name: str, data_dir: Path) -> Path:
    """A project folder whose params point at ``data_dir``; notebooks link to the repo's."""
    project = HERE / "data" / f"suite_{name}"
    if project.exists():
        shutil.rmtree(project)
    (project / "params").mkdir(parents=True)
    (project / "notebooks").symlink_to(REPO / "notebooks", target_is_directory=True)
    for path in sorted((REPO / "params").glob("*.yaml")):
        spec = yaml.safe_load(path.read_text())
        spec.setdefault("parameters", {})["data_dir"] = str(data_dir.resolve())
        (project / "params" / path.name).write_text(yaml.safe_dump(spec, sort_keys=False))
    targets = REPO / "params" / "targets"
    if targets.is_dir():
        shutil.copytree(targets, project / "params" / "targets")
    return project


class PeakMemory:
    """The largest ``VmHWM`` of a process and its descendants, sampled on a thread."""

    def __init__(self, root_pid: int, every: float = 0.5) -> None:
        self.root, self.every, self.peak_mb = root_pid, every, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in self._family():
                self.peak_mb = max(self.peak_mb, _vmhwm_mb(pid))
            self._stop.wait(self.every)

    def _family(self) -> list[int]:
        children: dict[int, list[int]] = defaultdict(list)
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                fields = dict(
                    line.split(":", 1) for line in status.read_text().splitlines() if ":" in line
                )
                children[int(fields["PPid"])].append(int(status.parent.name))
            except (OSError, KeyError, ValueError):
                continue
        family, todo = [], [self.root]
        while todo:
            pid = todo.pop()
            family.append(pid)
            todo += children.get(pid, [])
        return family


def _vmhwm_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def report_seconds(reports: Path) -> dict[str, list[float]]:
    """Seconds per unit (execute + publish) from every run.json, grouped by report."""
    per_report: dict[str, list[float]] = defaultdict(list)
    for path in reports.rglob("run.json"):
        if "failed" in path.parts:
            continue
        run = json.loads(path.read_text())
        name = Path(run.get("params_file") or run.get("report") or path.parent.name).stem
        if run.get("urn") is not None:
            name = f"{name} (mean per school)"
        per_report[name].append(float(run.get("seconds", {}).get("total", float("nan"))))
    return per_report


def run_suite(project: Path, workers: int | None) -> dict:
    """One ``run-all`` of ``project``; its wall time, peak memory and per-report seconds."""
    reports = project / "reports"
    command = [sys.executable, "-m", "attendance_lib", "run-all", "params"]
    if workers:
        command += ["--workers", str(workers)]
    clock = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    with PeakMemory(process.pid) as memory:
        output, _ = process.communicate()
    wall = time.perf_counter() - clock
    if process.returncode:
        sys.stdout.write(output.decode(errors="replace")[-3000:])
    return {
        "wall": wall,
        "peak_mb": memory.peak_mb,
        "seconds": report_seconds(reports),
        "ok": process.returncode == 0,
    }


def marks_count(data_dir: Path) -> int:
    import pyarrow.dataset as pads

    marks = data_dir / "marks.parquet"
    return pads.dataset(marks, partitioning="hive" if marks.is_dir() else None).count_rows()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="demo,large", help="comma-separated: demo, large")
    parser.add_argument("--large-pupils", type=int, default=100_000)
    parser.add_argument("--large-schools", type=int, default=200)
    parser.add_argument("--workers", type=int, help="passed to run-all (default: its own choice)")
    args = parser.parse_args(argv)

    print(f"{cpu_model()}, {os.cpu_count()} cores; Python {sys.version.split()[0]}", flush=True)
    results, marks = {}, {}
    for size in [s.strip() for s in args.sizes.split(",") if s.strip()]:
        data_dir = ensure_data(size, args.large_pupils, args.large_schools)
        marks[size] = marks_count(data_dir)
        project = make_project(size, data_dir)
        print(f"\n{size}: {data_dir} ({marks[size] / 1e6:.1f}M marks): run-all ...", flush=True)
        results[size] = r = run_suite(project, args.workers)
        units = sum(len(v) for v in r["seconds"].values())
        print(
            f"{size}: {units} units, wall {r['wall']:.0f} s, largest process {r['peak_mb']:,.0f} MB"
            + ("" if r["ok"] else "  (run-all reported failures)")
        )
    print()
    sizes = list(results)
    header = f"{'report':45}" + "".join(f"{s + ' s':>14}" for s in sizes)
    if len(sizes) == 2:
        header += f"{'growth':>9}"
    print(header)
    names = sorted({n for r in results.values() for n in r["seconds"]})
    for name in names:
        row, values = f"{name:45}", []
        for size in sizes:
            secs = results[size]["seconds"].get(name, [])
            value = statistics.mean(secs) if secs else float("nan")
            values.append(value)
            row += f"{value:>14.1f}"
        if len(values) == 2:
            row += f"{values[1] / values[0]:>9.2f}"
        print(row)
    print(
        f"{'run-all wall':45}"
        + "".join(f"{results[s]['wall']:>14.0f}" for s in sizes)
        + (
            f"{results[sizes[1]]['wall'] / results[sizes[0]]['wall']:>9.2f}"
            if len(sizes) == 2
            else ""
        )
    )
    print(
        f"{'largest process, MB':45}" + "".join(f"{results[s]['peak_mb']:>14,.0f}" for s in sizes)
    )
    if len(sizes) == 2:
        print(f"marks grew {marks[sizes[1]] / marks[sizes[0]]:.2f}x")
    return 0 if all(r["ok"] for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
