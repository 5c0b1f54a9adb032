"""Scaling curve of ``summarise`` on Spark and DuckDB: 1 and 2 cores, 1x to 16x data.

Usage::

    python benchmarks/bench_scaling.py                      # base 10,000 pupils x 380 sessions
    python benchmarks/bench_scaling.py --base-pupils 2000   # a quick look
    python benchmarks/bench_scaling.py --engines spark --cores 2

For each scale (1x, 2x, 4x, 8x, 16x the base pupils, one school per 300 pupils) it writes a
year of marks with :func:`bench_summarise.make_marks` and lays them out hive-partitioned by
academic year and school with :func:`attendance_lib.contract.partitioning.write_partitioned_marks`
(under ``benchmarks/data/scaling/``, reused when present). Then, for each engine and core
count, a fresh worker process pinned to that many cores (CPU affinity, so the JVM and DuckDB
cannot use more) runs :func:`attendance_lib.engine.sessions.summarise` over each folder at enrolment
level - the whole path a user runs, reading Parquet to the final pandas table - once to warm
up on the smallest folder, then ``--repeat`` times per scale, keeping the fastest.
Spark runs on ``local[n]``; DuckDB with ``n`` threads. Results are checked identical across
engines.

It prints the machine (CPU model, load average before and after each worker) and a table of
seconds, million marks per second and the growth per doubling of the data (time at 2x over
time at x: 2.0 is linear).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import cpu_model  # noqa: E402

DATA = HERE / "data" / "scaling"
PUPILS_PER_SCHOOL = 300


def dataset_folder(pupils: int, sessions: int) -> Path:
    """The partitioned marks folder for ``pupils`` x ``sessions``, generated when missing."""
    import pyarrow.parquet as pq

    from attendance_lib.contract.partitioning import write_partitioned_marks

    sys.path.insert(0, str(HERE))
    from bench_summarise import make_marks

    folder = DATA / f"marks_{pupils}x{sessions}"
    done = folder / "_COMPLETE"
    if done.exists():
        return folder
    single = DATA / f"marks_{pupils}x{sessions}.parquet"
    schools = max(1, pupils // PUPILS_PER_SCHOOL)
    print(f"  generating {pupils:,} pupils x {sessions} sessions at {schools} schools ...")
    make_marks(single, pupils, sessions, schools=schools)
    layout = write_partitioned_marks(single, folder / "marks.parquet", overwrite=True)
    assert layout.marks == pq.ParquetFile(single).metadata.num_rows
    single.unlink()
    done.write_text(json.dumps({"marks": layout.marks, "files": layout.files}))
    return folder


def _fingerprint(table) -> str:
    data = table.to_csv(index=False, float_format="%.10g").encode()
    return hashlib.sha256(data).hexdigest()[:16]


def worker(engine: str, cores: int, folders: list[str], repeat: int) -> None:
    """Run in a child process: pin to ``cores`` CPUs, time summarise on each folder, print JSON."""
    os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[:cores]))
    os.environ["ATTENDANCE_SPARK_MASTER"] = f"local[{cores}]"
    from attendance_lib.core.sql_engines import spark_session
    from attendance_lib.engine.sessions import summarise

    started = time.perf_counter()
    if engine == "spark":
        spark_session()
    startup = time.perf_counter() - started
    summarise(Path(folders[0]) / "marks.parquet", engine=engine)  # warm-up (JIT, caches)
    for folder in folders:
        path = Path(folder) / "marks.parquet"
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            table = summarise(path, engine=engine).table
            times.append(time.perf_counter() - t0)
        print(
            json.dumps(
                {
                    "folder": folder,
                    "seconds": min(times),
                    "runs": times,
                    "startup": startup,
                    "rows": len(table),
                    "fingerprint": _fingerprint(table),
                }
            ),
            flush=True,
        )


def run_worker(engine: str, cores: int, folders: list[Path], repeat: int) -> list[dict]:
    """Start one pinned worker and collect its results (one dict per folder)."""
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        engine,
        "--cores",
        str(cores),
        "--repeat",
        str(repeat),
        "--folders",
        *map(str, folders),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode:
        raise SystemExit(f"{engine} on {cores} core(s) failed:\n{out.stderr[-3000:]}")
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def print_table(results: dict[tuple[str, int], list[dict]], marks: list[int], scales) -> None:
    """One row per engine x cores x scale: seconds, M marks/s, growth per doubling."""
    print()
    print("| engine | cores | scale | marks | seconds | M marks/s | per core | x per doubling |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for (engine, cores), rows in results.items():
        previous = None
        for scale, n, row in zip(scales, marks, rows, strict=True):
            secs = row["seconds"]
            rate = n / secs / 1e6
            growth = f"{secs / previous:.2f}" if previous else "-"
            print(
                f"| {engine} | {cores} | {scale}x | {n:,} | {secs:.2f} | {rate:.2f} | "
                f"{rate / cores:.2f} | {growth} |"
            )
            previous = secs
    for (engine, cores), rows in results.items():
        if engine == "spark":
            print(f"\nSpark session start-up on {cores} core(s): {rows[0]['startup']:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-pupils", type=int, default=10_000)
    parser.add_argument("--sessions", type=int, default=380)
    parser.add_argument("--scales", default="1,2,4,8,16")
    parser.add_argument("--engines", default="spark,duckdb")
    parser.add_argument("--cores", default="1,2")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--folders", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, int(args.cores), args.folders, args.repeat)
        return

    scales = [int(s) for s in args.scales.split(",")]
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores; python {platform.python_version()}")
    print(f"base: {args.base_pupils:,} pupils x {args.sessions} sessions; scales {scales}")
    folders = [dataset_folder(args.base_pupils * s, args.sessions) for s in scales]
    marks = [json.loads((f / "_COMPLETE").read_text())["marks"] for f in folders]
    results: dict[tuple[str, int], list[dict]] = {}
    for engine in args.engines.split(","):
        for cores in (int(c) for c in args.cores.split(",")):
            load = os.getloadavg()
            t0 = time.perf_counter()
            results[engine, cores] = run_worker(engine, cores, folders, args.repeat)
            print(
                f"  {engine} on {cores} core(s): {time.perf_counter() - t0:.0f} s wall; "
                f"load average before {load[0]:.2f}, after {os.getloadavg()[0]:.2f}",
                flush=True,
            )
    prints = {tuple(r["fingerprint"] for r in rows) for rows in results.values()}
    print(f"\nsame tables from every engine and core count: {'yes' if len(prints) == 1 else 'NO'}")
    print_table(results, marks, scales)


if __name__ == "__main__":
    main()
