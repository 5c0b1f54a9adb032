"""Writing output files so that a reader never sees a half-written one."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pandas as pd


def csv_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with booleans written as ``true``/``false`` (the contract's spelling)."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_bool_dtype(out[col]):
            out[col] = out[col].map({True: "true", False: "false"}).astype(object)
    return out


def write_atomically(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it into place.

    A reader (another report, a parallel kernel) sees the old file or the whole new one, never
    a half-written one; a failed write leaves no temporary file behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        write(tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_csv_atomic(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as CSV (no index, booleans as true/false), atomically."""
    return write_atomically(path, lambda tmp: csv_ready(frame).to_csv(tmp, index=False))
