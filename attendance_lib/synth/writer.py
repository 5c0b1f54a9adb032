"""Write the synthetic LA in the data-contract layout (CSV tables and marks.parquet)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .grid import CODES, Grid, code, expand_ranges
from .population import Population

ROW_GROUP_ROWS = 1 << 20  # about a million marks per Parquet row group
MARKS_SCHEMA = pa.schema(
    [
        ("upn", pa.dictionary(pa.int32(), pa.string())),
        ("urn", pa.int32()),
        ("date", pa.date32()),
        ("session", pa.dictionary(pa.int8(), pa.string())),
        ("code", pa.dictionary(pa.int8(), pa.string())),
    ]
)


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """CSV with ISO dates, ``true``/``false`` booleans and empty cells for missing values."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_bool_dtype(s):
            out[col] = np.where(s.to_numpy(dtype=bool), "true", "false")
        elif pd.api.types.is_datetime64_any_dtype(s):
            out[col] = s.dt.strftime("%Y-%m-%d")
    out.to_csv(path, index=False, lineterminator="\n")


def write_marks(
    path: Path, grid: Grid, pop: Population, schools: pd.DataFrame, dates: np.ndarray
) -> int:
    """Write marks.parquet, sorted by (urn, upn, date, session); return the number of marks.

    Each enrolment contributes every school day from its start (less any ``Z`` days) to its
    end; the main school of a dual-registered pupil records ``D`` while the pupil attends
    the pupil referral unit.
    """
    upns = pop.master["upn"].to_numpy()
    order = np.argsort(upns, kind="stable")
    upn_rank = np.empty(len(upns), dtype=np.int32)
    upn_rank[order] = np.arange(len(upns), dtype=np.int32)
    urn_of = schools["urn"].to_numpy().astype(np.int32)
    e = pop.enrolments
    e = e.assign(urn=urn_of[e["school"].to_numpy()], rank=upn_rank[e["pid"].to_numpy()])
    e = e.sort_values(["urn", "rank", "first"], kind="stable")
    owner, day = expand_ranges((e["first"] - e["z_days"]).to_numpy(), e["last"].to_numpy())
    pid = e["pid"].to_numpy()[owner]
    am = grid.am[pid, day]
    pm = grid.pm[pid, day]
    elsewhere = ~e["dual"].to_numpy()[owner] & (
        grid.school[pid, day] != e["school"].to_numpy()[owner]
    )
    am[elsewhere] = code("D")
    pm[elsewhere] = code("D")
    if (am < 0).any() or (pm < 0).any():
        raise RuntimeError("an enrolment day has no register mark")
    n = 2 * len(day)
    codes = np.empty(n, dtype=np.int8)
    codes[0::2], codes[1::2] = am, pm
    epoch_days = (dates.astype("datetime64[D]").astype(np.int64)).astype(np.int32)
    table = pa.Table.from_arrays(
        [
            pa.DictionaryArray.from_arrays(
                np.repeat(upn_rank[pid], 2), pa.array(upns[order], pa.string())
            ),
            pa.array(np.repeat(e["urn"].to_numpy()[owner], 2), pa.int32()),
            pa.array(np.repeat(epoch_days[day], 2), pa.date32()),
            pa.DictionaryArray.from_arrays(
                np.tile(np.array([0, 1], dtype=np.int8), len(day)), pa.array(["AM", "PM"])
            ),
            pa.DictionaryArray.from_arrays(codes, pa.array(list(CODES))),
        ],
        schema=MARKS_SCHEMA,
    )
    # store_schema=False: the file's columns read back as plain strings, dictionary-encoded on disk
    with pq.ParquetWriter(
        path, MARKS_SCHEMA, store_schema=False, use_dictionary=True, compression="zstd"
    ) as w:
        for start in range(0, n, ROW_GROUP_ROWS):
            w.write_table(table.slice(start, ROW_GROUP_ROWS), row_group_size=ROW_GROUP_ROWS)
    return n


def write_json(obj: dict, path: Path) -> None:
    path.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n", encoding="utf-8")
