"""Time ``summarise`` against a straightforward pandas groupby on the same marks.

Usage::

    python benchmarks/bench_summarise.py                  # 120,000 pupils x 380 sessions
    python benchmarks/bench_summarise.py --pupils 20000   # smaller

It writes a Parquet file of register marks shaped like a large LA's year (one enrolment per
pupil, realistic code mix) into ``benchmarks/data/`` (reused when present), then times, each
in a fresh pass over the file:

- ``workbench``: read with :func:`attendance_lib.contract.reading.read_marks` (categoricals, Arrow)
  and :func:`attendance_lib.engine.sessions.summarise` at enrolment level;
- ``naive``: ``pd.read_parquet`` then ``groupby([upn, urn, group]).size().unstack()`` with the
  code groups mapped through a Python dict - what one would write first.

It prints seconds for each, the ratio, and checks the two give the same counts. Timings are
wall-clock on whatever machine runs it; quote medians of several runs.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from stdnum.gb.upn import calc_check_digit

from attendance_lib.contract.reading import ProblemLog, read_marks
from attendance_lib.core.codes import CODE_GROUP, GROUP_COLUMNS
from attendance_lib.engine.sessions import summarise

HERE = Path(__file__).resolve().parent
# Share of sessions by code in a typical year (present dominates).
CODE_MIX = {
    "/": 0.46,
    "\\": 0.46,
    "L": 0.01,
    "I": 0.03,
    "M": 0.005,
    "C": 0.004,
    "G": 0.006,
    "O": 0.008,
    "N": 0.003,
    "U": 0.002,
    "B": 0.002,
    "#": 0.004,
    "E": 0.001,
    "V": 0.004,
}


def make_marks(path: Path, pupils: int, sessions: int, seed: int = 1, schools: int = 400) -> None:
    """Write ``pupils`` x ``sessions`` marks to ``path`` (Parquet, dictionary-encoded).

    Each pupil is at one of ``schools`` schools (URNs 100000 upwards), drawn at random.
    """
    rng = np.random.default_rng(seed)
    codes = np.array(list(CODE_MIX))
    p = np.array(list(CODE_MIX.values()))
    # valid UPNs (LA 380, a check letter from python-stdnum) so the data passes validation
    upns = np.array([calc_check_digit(b) + b for b in (f"380{i:09d}" for i in range(pupils))])
    urns = 100000 + rng.integers(0, schools, pupils)
    days = pd.bdate_range("2023-09-04", periods=(sessions + 1) // 2).to_numpy()[
        : (sessions + 1) // 2
    ]
    n = pupils * sessions
    pupil_idx = np.repeat(np.arange(pupils), sessions)
    sess_idx = np.tile(np.arange(sessions), pupils)
    table = pa.table(
        {
            "upn": pa.DictionaryArray.from_arrays(
                pa.array(pupil_idx.astype(np.int32)), pa.array(upns)
            ),
            "urn": pa.array(urns[pupil_idx].astype(np.int32)),
            "date": pa.array(days[sess_idx // 2].astype("datetime64[D]")),
            "session": pa.DictionaryArray.from_arrays(
                pa.array((sess_idx % 2).astype(np.int8)), pa.array(["AM", "PM"])
            ),
            "code": pa.DictionaryArray.from_arrays(
                pa.array(rng.choice(len(codes), n, p=p / p.sum()).astype(np.int8)), pa.array(codes)
            ),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, row_group_size=1_000_000)


def workbench(path: Path) -> pd.DataFrame:
    log = ProblemLog()
    marks = read_marks(path, log)
    return summarise(marks, by="enrolment").table


def naive(path: Path) -> pd.DataFrame:
    marks = pd.read_parquet(path)
    marks["group"] = (
        marks["code"].astype(str).map({c: GROUP_COLUMNS[g] for c, g in CODE_GROUP.items()})
    )
    counts = marks.groupby(["upn", "urn", "group"], observed=True).size().unstack(fill_value=0)
    return counts.reset_index()


def timed(fn, path: Path) -> tuple[float, pd.DataFrame]:
    start = time.perf_counter()
    out = fn(path)
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pupils", type=int, default=120_000)
    parser.add_argument("--sessions", type=int, default=380)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    path = HERE / "data" / f"marks_{args.pupils}x{args.sessions}.parquet"
    if not path.exists():
        print(f"generating {args.pupils:,} x {args.sessions} marks into {path} ...")
        make_marks(path, args.pupils, args.sessions)
    rows = pq.ParquetFile(path).metadata.num_rows
    print(f"{rows:,} marks")
    results = {}
    for name, fn in (("workbench", workbench), ("naive", naive)):
        times = []
        for _ in range(args.repeat):
            t, out = timed(fn, path)
            times.append(t)
        results[name] = (float(np.median(times)), out)
        print(
            f"{name:<10} median {np.median(times):7.2f} s  (runs: {', '.join(f'{t:.2f}' for t in times)})"
        )
    ours = results["workbench"][1].set_index(["upn", "urn"]).sort_index()
    theirs = results["naive"][1].set_index(["upn", "urn"]).sort_index()
    for col in ("sessions_present", "sessions_authorised", "sessions_unauthorised"):
        assert (ours[col].to_numpy() == theirs[col].to_numpy()).all(), f"{col} differs"
    ratio = results["naive"][0] / results["workbench"][0]
    print(f"naive / workbench = {ratio:.1f}x (same counts: yes)")


if __name__ == "__main__":
    main()
