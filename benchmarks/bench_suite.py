"""The whole reporting suite: ``run-all`` on the demo LA (and a large LA), per report.

Usage::

    python benchmarks/bench_suite.py                         # the demo LA only (3-5 minutes)
    python benchmarks/bench_suite.py --large /work/large     # then a large LA in that folder
    python benchmarks/bench_suite.py --large DIR --large-pupils 100000 --large-schools 200
    python benchmarks/bench_suite.py --large DIR --reports impact_12_week impact_12_week_pupils

For each LA it writes a throwaway project under ``benchmarks/data/`` whose ``params/`` are
copies of the repository's, pointed at that LA (``notebooks/`` links to the repository's),
runs ``attendance-workbench run-all`` on it as its own process, and prints:

- the machine, and the workers ``run-all`` chose (its own line: cores, memory, budget);
- per report (a per-school fan-out is one line: the mean per school), from each unit's
  ``run.json``: the seconds the runner recorded (``seconds.total``: execute + publish), the
  CPU seconds of the report's kernel (``kernel_cpu_seconds``: less inflated than the wall
  clock when other work shares the machine) and its peak resident memory
  (``peak_memory_mb``; the largest over a fan-out);
- the wall-clock time of the whole run, the CPU seconds of run-all and all its kernels, and
  the peak resident memory of the largest single process (the runner or any kernel:
  ``VmHWM`` sampled every half second);
- with both LAs, each report's growth factor (large / demo) beside the growth in marks.

The large LA (default 100,000 pupils, 200 schools: about 113 million marks over three years)
is generated into the ``--large`` folder when it holds no LA yet (several minutes), and kept.
Each run uses a new, empty cache folder (``ATTENDANCE_WORKBENCH_CACHE``), so every run pays
what a first run on an extract pays (validation, the code cube, shared tables) and runs are
comparable; ``--keep-cache`` uses the user's cache instead. Timings are of this machine at
this moment: quote the machine (printed first) and, where it matters, several runs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import psutil
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import cpu_model  # noqa: E402

from attendance_lib.runner.execute import peak_rss_mb  # noqa: E402

REPO = HERE.parent
DEMO = REPO / "data" / "demo"


def ensure_la(folder: Path, pupils: int | None = None, schools: int | None = None) -> Path:
    """``folder`` holding an LA: generated with ``attendance-workbench synth`` if missing."""
    if not (folder / "schools.csv").is_file():
        args = [] if pupils is None else ["--pupils", str(pupils), "--schools", str(schools)]
        print(f"generating {folder} ...", flush=True)
        clock = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "attendance_lib", "synth", "--out", str(folder), *args],
            check=True,
        )
        print(f"generated in {time.perf_counter() - clock:.0f} s", flush=True)
    return folder


def make_project(name: str, data_dir: Path, reports: list[str] | None = None) -> Path:
    """A project folder whose params point at ``data_dir``; notebooks link to the repo's.
    With ``reports``, only the params files of those names (stems)."""
    project = HERE / "data" / f"suite_{name}"
    if project.exists():
        shutil.rmtree(project)
    (project / "params").mkdir(parents=True)
    (project / "notebooks").symlink_to(REPO / "notebooks", target_is_directory=True)
    for path in sorted((REPO / "params").glob("*.yaml")):
        if reports and path.stem not in reports:
            continue
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
            try:
                root = psutil.Process(self.root)
                family = [root, *root.children(recursive=True)]
            except psutil.Error:
                family = []
            for process in family:
                self.peak_mb = max(self.peak_mb, peak_rss_mb(process.pid) or 0.0)
            self._stop.wait(self.every)


def report_figures(reports: Path) -> dict[str, dict[str, list[float]]]:
    """Seconds, kernel CPU seconds and kernel peak MB per unit, from every ``run.json``."""
    per_report: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for path in reports.rglob("run.json"):
        if "failed" in path.parts:
            continue
        run = json.loads(path.read_text())
        name = Path(run.get("params_file") or run.get("report") or path.parent.name).stem
        if run.get("urn") is not None:
            name = f"{name} (per school)"
        per_report[name]["seconds"].append(float(run.get("seconds", {}).get("total", "nan")))
        if run.get("peak_memory_mb") is not None:
            per_report[name]["peak_mb"].append(float(run["peak_memory_mb"]))
        if run.get("kernel_cpu_seconds") is not None:
            per_report[name]["cpu"].append(float(run["kernel_cpu_seconds"]))
    return per_report


def run_suite(project: Path, workers: int | None, cache: Path | None) -> dict:
    """One ``run-all`` of ``project``: wall time, largest process, per-report figures."""
    reports = project / "reports"
    command = [sys.executable, "-m", "attendance_lib", "run-all", "params"]
    if workers:
        command += ["--workers", str(workers)]
    env = dict(os.environ)
    if cache is not None:
        env["ATTENDANCE_WORKBENCH_CACHE"] = str(cache)
    clock, cpu = time.perf_counter(), _children_cpu()
    process = subprocess.Popen(
        command, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env
    )
    with PeakMemory(process.pid) as memory:
        output, _ = process.communicate()
    wall, cpu = time.perf_counter() - clock, _children_cpu() - cpu
    text = output.decode(errors="replace")
    if process.returncode:
        sys.stdout.write(text[-3000:])
    plan = re.search(r"\d+ workers? \(.*$", text, re.MULTILINE)
    return {
        "wall": wall,
        "cpu": cpu,
        "peak_mb": memory.peak_mb,
        "reports": report_figures(reports),
        "plan": plan.group(0) if plan else "",
        "ok": process.returncode == 0,
    }


def _children_cpu() -> float:
    """User + system seconds of this process's finished children (and theirs): run-all's CPU."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def marks_count(data_dir: Path) -> int:
    import pyarrow.dataset as pads

    marks = data_dir / "marks.parquet"
    return pads.dataset(marks, partitioning="hive" if marks.is_dir() else None).count_rows()


def _mean(values: list[float]) -> float:
    return statistics.mean(values) if values else float("nan")


def print_table(results: dict[str, dict], marks: dict[str, int]) -> None:
    """Per report: seconds (run.json total), kernel CPU seconds, kernel peak MB; growth."""
    sizes = list(results)
    header = f"{'report':40}" + "".join(f"{s + ' s':>10}{'CPU s':>8}{'MB':>7}" for s in sizes)
    if len(sizes) == 2:
        header += f"{'growth s':>9}{'CPU':>6}{'MB':>6}"
    print(header)
    names = sorted({n for r in results.values() for n in r["reports"]})
    for name in names:
        row, secs, cpus, mbs = f"{name:40}", [], [], []
        for size in sizes:
            figures = results[size]["reports"].get(name, {})
            secs.append(_mean(figures.get("seconds", [])))
            cpus.append(_mean(figures.get("cpu", [])))
            mbs.append(max(figures.get("peak_mb", []), default=float("nan")))
            row += f"{secs[-1]:>10.1f}{cpus[-1]:>8.1f}{mbs[-1]:>7,.0f}"
        if len(sizes) == 2:
            row += f"{secs[1] / secs[0]:>9.2f}{cpus[1] / cpus[0]:>6.2f}{mbs[1] / mbs[0]:>6.2f}"
        print(row)
    walls = [results[s]["wall"] for s in sizes]
    cpus = [results[s]["cpu"] for s in sizes]
    peaks = [results[s]["peak_mb"] for s in sizes]
    row = f"{'run-all: wall s, all CPU s, largest MB':40}"
    row += "".join(
        f"{w:>10.0f}{c:>8.0f}{p:>7,.0f}" for w, c, p in zip(walls, cpus, peaks, strict=True)
    )
    if len(sizes) == 2:
        row += f"{walls[1] / walls[0]:>9.2f}{cpus[1] / cpus[0]:>6.2f}{peaks[1] / peaks[0]:>6.2f}"
    print(row)
    for size in sizes:
        units = sum(len(f["seconds"]) for f in results[size]["reports"].values())
        print(f"{size}: {units} units, {marks[size] / 1e6:.1f}M marks")
    if len(sizes) == 2:
        print(f"marks grew {marks[sizes[1]] / marks[sizes[0]]:.2f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--demo", type=Path, default=DEMO, help="the demo LA (default data/demo)")
    parser.add_argument(
        "--large", type=Path, help="also run a large LA in this folder (generated if empty)"
    )
    parser.add_argument("--large-pupils", type=int, default=100_000)
    parser.add_argument("--large-schools", type=int, default=200)
    parser.add_argument("--workers", type=int, help="passed to run-all (default: its own choice)")
    parser.add_argument(
        "--reports",
        nargs="+",
        metavar="NAME",
        help="only these params files (stems, e.g. impact_12_week): a part of the suite",
    )
    parser.add_argument(
        "--keep-cache", action="store_true", help="use the user's cache, not a new empty one"
    )
    args = parser.parse_args(argv)

    memory = psutil.virtual_memory()
    print(
        f"{cpu_model()}, {os.cpu_count()} cores, {memory.total / 2**30:.1f} GB RAM "
        f"({memory.available / 2**30:.1f} GB available), load average "
        f"{os.getloadavg()[0]:.1f}; Python {sys.version.split()[0]}",
        flush=True,
    )
    las = {"demo": ensure_la(args.demo)}
    if args.large:
        las["large"] = ensure_la(args.large, args.large_pupils, args.large_schools)
    results, marks = {}, {}
    for size, data_dir in las.items():
        marks[size] = marks_count(data_dir)
        project = make_project(size, data_dir, args.reports)
        print(f"\n{size}: {data_dir} ({marks[size] / 1e6:.1f}M marks): run-all ...", flush=True)
        with tempfile.TemporaryDirectory(prefix="aw-bench-cache-") as cache:
            results[size] = r = run_suite(
                project, args.workers, None if args.keep_cache else Path(cache)
            )
        print(
            f"{size}: {r['plan'] or 'workers not reported'}; wall {r['wall']:.0f} s, "
            f"load average {os.getloadavg()[0]:.1f}"
            + ("" if r["ok"] else "  (run-all reported failures)"),
            flush=True,
        )
    print()
    print_table(results, marks)
    return 0 if all(r["ok"] for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
