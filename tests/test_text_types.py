"""Every type the contract allows gives the same published figures in every report.

The small synthetic LA is rewritten with every table as Parquet holding only text (dates,
integers and booleans as strings, as an MIS export or a careless conversion writes them),
then every project report runs on it through the runner. Each published CSV must be
identical, byte for byte, to the same report's on the LA as generated (``project_reports``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from runner_fixtures import (  # noqa: F401
    project_reports,
    run_project_reports,
    small_synthetic_la,
)

slow = pytest.mark.slow

#: The EES comparator files keep their own layout (read by the benchmarks reader, not the contract).
KEEP_AS_IS = {"benchmarks.csv", "synth_truth.json"}


def rewrite_as_text(source: Path, target: Path) -> list[str]:
    """Copy a data folder with every contract table as all-text Parquet; returns the tables."""
    target.mkdir(parents=True)
    written = []
    for path in sorted(source.iterdir()):
        if path.name in KEEP_AS_IS or path.suffix not in {".csv", ".parquet"}:
            shutil.copy(path, target / path.name)
            continue
        if path.suffix == ".csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            table = pa.Table.from_pandas(frame.replace({"": None}), preserve_index=False)
        else:
            table = pq.read_table(path)
        text = pa.schema([pa.field(name, pa.string()) for name in table.column_names])
        pq.write_table(table.cast(text), target / f"{path.stem}.parquet")
        written.append(path.stem)
    return written


def _published(reports: Path) -> dict[str, bytes]:
    return {
        p.relative_to(reports).as_posix(): p.read_bytes()
        for p in sorted(reports.rglob("tables/*.csv"))
    }


@slow
def test_every_report_gives_the_same_figures_on_text_typed_parquet(
    small_synthetic_la,  # noqa: F811
    project_reports,  # noqa: F811
    tmp_path,
):
    text_la = tmp_path / "text_la"
    tables = rewrite_as_text(small_synthetic_la, text_la)
    assert {"marks", "pupils", "schools", "calendar", "ks2", "ks4"} <= set(tables)
    marks = pq.read_schema(text_la / "marks.parquet")
    assert all(field.type == pa.string() for field in marks)  # the dates really are text

    reports = tmp_path / "reports"
    run_project_reports(text_la, reports, "the text-typed LA")
    expected = _published(project_reports[0])
    got = _published(reports)
    assert len(expected) > 30 and set(got) == set(expected)
    differ = [name for name in expected if got[name] != expected[name]]
    assert not differ, f"published tables differ on text-typed data: {differ}"
