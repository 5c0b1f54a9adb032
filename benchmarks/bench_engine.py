"""Time the single-machine engine at 1x, 4x and 16x a small LA against naive pandas and DuckDB.

Usage::

    python benchmarks/bench_engine.py                     # 7,500 pupils x 1, 4, 16 (16x = 45.6M marks)
    python benchmarks/bench_engine.py --base-pupils 2000 --sizes 1,4 --repeat 1

For each size it writes a complete data folder (schools, pupils, calendar and one year of
marks as Parquet; reused when present under ``benchmarks/data/``) and runs each task in a
fresh Python process, as a user would, timing the whole process and reading its peak memory:

- ``workbench (validate + summarise)``: ``attendance-workbench summarise`` on a folder it has
  never seen (full validation, then the count, then the CSV);
- ``workbench (summarise)``: the same command again (validation remembered per fingerprint);
- ``workbench (cube)``: the reports' data layer, sessions per enrolment, half term and code;
- ``naive pandas``: ``read_parquet`` then ``groupby([upn, urn, group]).size().unstack()``;
- ``duckdb SQL``: the same aggregation written directly in DuckDB SQL, as its own script;
- ``duckdb SQL + mark checks``: that script with the marks' validation rules added to the
  same ``GROUP BY`` pass (no missing values, known codes, AM/PM sessions, no duplicate
  (date, session) per enrolment, every upn in pupils.csv and urn in schools.csv): what
  validation costs even when written by hand in the fastest engine here.

It prints seconds (median of ``--repeat``), peak memory, the ratio to the workbench, and the
growth per doubling of the data (from the smallest to the largest size).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Each task runs in a child process of this script, so imports live inside the functions that
# need them: the DuckDB task imports nothing but duckdb, as a script written for it would.
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import peak_mb  # noqa: E402

WINDOW = ("2023-09-01", "2024-08-31")
TASKS = {
    "validate+summarise": "workbench (validate + summarise)",
    "summarise": "workbench (summarise)",
    "cube": "workbench (cube)",
    "naive": "naive pandas",
    "duckdb": "duckdb SQL",
    "duckdb+checks": "duckdb SQL + mark checks",
}


def make_la(folder: Path, pupils: int, sessions: int = 380) -> Path:
    """A valid data folder: ``pupils`` pupils with one year of marks, 400 schools at most."""
    if (folder / "marks.parquet").exists():
        return folder
    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq
    from bench_summarise import make_marks

    folder.mkdir(parents=True, exist_ok=True)
    make_marks(folder / "marks.parquet", pupils, sessions)
    marks = pq.read_table(folder / "marks.parquet", columns=["upn", "urn"]).to_pandas()
    firsts = marks.drop_duplicates("upn")
    urns = np.sort(marks["urn"].unique())
    pd.DataFrame(
        {
            "urn": urns,
            "school_name": [f"School {u}" for u in urns],
            "phase": "primary",
            "locality": "East",
        }
    ).to_csv(folder / "schools.csv", index=False)
    pd.DataFrame(
        {
            "upn": firsts["upn"].astype(str),
            "academic_year": "2023/24",
            "urn": firsts["urn"],
            "year_group": "5",
            "sex": "F",
            "fsm": "false",
            "sen": "N",
        }
    ).to_csv(folder / "pupils.csv", index=False)
    starts = ["2023-09-04", "2023-10-28", "2024-01-01", "2024-02-17", "2024-04-08", "2024-06-01"]
    ends = ["2023-10-27", "2023-12-31", "2024-02-16", "2024-04-07", "2024-05-31", "2024-08-31"]
    pd.DataFrame(
        {
            "academic_year": "2023/24",
            "half_term": range(1, 7),
            "start_date": starts,
            "end_date": ends,
        }
    ).to_csv(folder / "calendar.csv", index=False)
    return folder


# --------------------------------------------------------------------------------------
# The tasks, each run in a child process
# --------------------------------------------------------------------------------------


def child(task: str, folder: Path, out: Path) -> None:
    if task in ("validate+summarise", "summarise"):
        from attendance_lib.cli import main

        code = main(
            ["summarise", str(folder), "--from", WINDOW[0], "--to", WINDOW[1], "--out", str(out)]
        )
        assert code == 0
    elif task == "cube":
        from attendance_lib.contract.dataset import load_dataset
        from attendance_lib.core.academic_calendar import Calendar
        from attendance_lib.engine.sessions import code_counts_from_marks

        ds = load_dataset(folder)
        code_counts_from_marks(ds, Calendar(ds.calendar)).to_parquet(out.with_suffix(".parquet"))
    elif task == "naive":
        import pandas as pd

        from attendance_lib.core.codes import CODE_GROUP, GROUP_COLUMNS

        marks = pd.read_parquet(folder / "marks.parquet")
        marks = marks[
            (marks["date"] >= pd.Timestamp(WINDOW[0]).date())
            & (marks["date"] <= pd.Timestamp(WINDOW[1]).date())
        ]
        groups = {c: GROUP_COLUMNS[g] for c, g in CODE_GROUP.items()}
        marks["group"] = marks["code"].astype(str).map(groups)
        counts = marks.groupby(["upn", "urn", "group"], observed=True).size().unstack(fill_value=0)
        counts.reset_index().to_csv(out, index=False)
    elif task == "duckdb":
        import duckdb

        con = duckdb.connect()
        con.execute("CREATE TABLE codes (code VARCHAR, grp INT)")
        con.executemany("INSERT INTO codes VALUES (?, ?)", json.loads(os.environ["BENCH_CODES"]))
        con.execute(
            f"""COPY (
            SELECT upn, urn,
              count(*) FILTER (WHERE grp < 4) AS sessions_possible,
              count(*) FILTER (WHERE grp = 0) AS sessions_present,
              count(*) FILTER (WHERE grp = 1) AS sessions_aea,
              count(*) FILTER (WHERE grp = 2) AS sessions_authorised,
              count(*) FILTER (WHERE grp = 3) AS sessions_unauthorised
            FROM read_parquet('{folder / "marks.parquet"}') JOIN codes USING (code)
            WHERE date BETWEEN DATE '{WINDOW[0]}' AND DATE '{WINDOW[1]}'
            GROUP BY upn, urn) TO '{out}' (HEADER)"""
        )
    elif task == "duckdb+checks":
        import duckdb

        con = duckdb.connect()
        con.execute("CREATE TABLE codes (code VARCHAR, grp INT)")
        con.executemany("INSERT INTO codes VALUES (?, ?)", json.loads(os.environ["BENCH_CODES"]))
        first, last = con.execute(
            f"SELECT min(start_date), max(end_date) FROM read_csv('{folder / 'calendar.csv'}')"
        ).fetchone()
        window = f"date BETWEEN DATE '{WINDOW[0]}' AND DATE '{WINDOW[1]}'"
        slot = f"CAST((date - DATE '{first}') * 2 + CAST(session = 'PM' AS INT) AS INT)"
        con.execute(
            f"""CREATE TABLE enrolments AS
            SELECT upn, urn,
              count(*) FILTER (WHERE grp < 4 AND {window}) AS sessions_possible,
              count(*) FILTER (WHERE grp = 0 AND {window}) AS sessions_present,
              count(*) FILTER (WHERE grp = 1 AND {window}) AS sessions_aea,
              count(*) FILTER (WHERE grp = 2 AND {window}) AS sessions_authorised,
              count(*) FILTER (WHERE grp = 3 AND {window}) AS sessions_unauthorised,
              count(*) FILTER (WHERE {window}) AS in_window,
              count(*) AS marks, count(date) AS dated,
              count(*) FILTER (WHERE grp IS NULL) AS unknown_codes,
              count(*) FILTER (WHERE session IS DISTINCT FROM 'AM'
                               AND session IS DISTINCT FROM 'PM') AS bad_sessions,
              bitstring_agg({slot}, 0, {2 * ((last - first).days + 1) - 1}) AS slots
            FROM read_parquet('{folder / "marks.parquet"}') LEFT JOIN codes USING (code)
            GROUP BY upn, urn"""
        )
        problems = con.execute(
            f"""SELECT sum(marks - dated) + sum(unknown_codes) + sum(bad_sessions)
              + sum(marks - bit_count(slots)) + count(*) FILTER (WHERE upn IS NULL OR urn IS NULL)
              + count(*) FILTER (WHERE upn NOT IN
                  (SELECT upn FROM read_csv('{folder / "pupils.csv"}', types={{'upn': 'VARCHAR'}})))
              + count(*) FILTER (WHERE urn NOT IN
                  (SELECT urn FROM read_csv('{folder / "schools.csv"}')))
            FROM enrolments"""
        ).fetchone()[0]
        assert problems == 0, problems
        con.execute(
            f"""COPY (SELECT upn, urn, sessions_possible, sessions_present, sessions_aea,
              sessions_authorised, sessions_unauthorised FROM enrolments WHERE in_window > 0)
            TO '{out}' (HEADER)"""
        )
    else:
        raise SystemExit(f"unknown task {task}")
    print(json.dumps({"peak_mb": peak_mb()}))


def run_task(task: str, folder: Path, cache: Path) -> tuple[float, float]:
    """Wall seconds and peak MB of one task in a fresh interpreter."""
    from attendance_lib.core.codes import CODE_GROUP

    env = {
        **os.environ,
        "ATTENDANCE_WORKBENCH_CACHE": str(cache),
        "PYTHONWARNINGS": "ignore",
        # the code table for the DuckDB script, which a user would paste in as literals
        "BENCH_CODES": json.dumps([(c, int(g)) for c, g in CODE_GROUP.items()]),
    }
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, __file__, "--child", task, str(folder), str(Path(tmp) / "out.csv")],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{task} failed:\n{done.stderr[-2000:]}")
    return seconds, json.loads(done.stdout.strip().splitlines()[-1])["peak_mb"]


def measure(folder: Path, repeat: int) -> dict[str, tuple[float, float]]:
    results = {}
    warm_cache = Path(tempfile.mkdtemp(prefix="bench-cache-"))
    for task in TASKS:
        runs = []
        for _ in range(repeat):
            cache = (
                Path(tempfile.mkdtemp(prefix="bench-cold-"))
                if task == "validate+summarise"
                else warm_cache
            )
            runs.append(run_task(task, folder, cache))
            if task == "validate+summarise":
                shutil.rmtree(cache, ignore_errors=True)
            if task == "validate+summarise" and not any(warm_cache.iterdir()):
                run_task(task, folder, warm_cache)  # remember validation for the warm tasks
        results[task] = (statistics.median(r[0] for r in runs), max(r[1] for r in runs))
    shutil.rmtree(warm_cache, ignore_errors=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-pupils", type=int, default=7_500)
    parser.add_argument("--sizes", default="1,4,16", help="multiples of the base, comma-separated")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--child", nargs=3, metavar=("TASK", "FOLDER", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    table = {}
    for size in sizes:
        pupils = args.base_pupils * size
        folder = make_la(HERE / "data" / f"la_{pupils}", pupils)
        print(f"{size:>3}x: {pupils:,} pupils, {pupils * 380:,} marks ...", flush=True)
        table[size] = measure(folder, args.repeat)
    print()
    print(
        f"{'task':<34}"
        + "".join(f"{f'{s}x s':>9}{'MB':>7}" for s in sizes)
        + f"{'per doubling':>14}"
    )
    for task, label in TASKS.items():
        row = f"{label:<34}"
        for size in sizes:
            seconds, peak = table[size][task]
            row += f"{seconds:>9.2f}{peak:>7.0f}"
        if len(sizes) > 1:
            growth = (table[sizes[-1]][task][0] / table[sizes[0]][task][0]) ** (
                1 / math.log2(sizes[-1] / sizes[0])
            )
            row += f"{growth:>13.2f}x"
        print(row)
    big = sizes[-1]
    seconds = {task: table[big][task][0] for task in TASKS}
    print()
    print(f"at {big}x, time of each against the workbench's (above 1 = the workbench is faster):")
    for theirs, ours in [
        ("naive", "validate+summarise"),
        ("naive", "summarise"),
        ("duckdb", "validate+summarise"),
        ("duckdb", "summarise"),
        ("duckdb+checks", "validate+summarise"),
    ]:
        print(f"  {TASKS[theirs]} / {TASKS[ours]}: {seconds[theirs] / seconds[ours]:.2f}x")


if __name__ == "__main__":
    main()
