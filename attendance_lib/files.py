"""Writing output files so that a reader never sees a half-written one."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd


def csv_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with booleans written as ``true``/``false`` (the contract's spelling)."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_bool_dtype(out[col]):
            out[col] = out[col].map({True: "true", False: "false"}).astype(object)
    return out


def write_csv_atomic(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as CSV (no index, booleans as true/false) via a temporary file and rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        csv_ready(frame).to_csv(tmp, index=False)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
