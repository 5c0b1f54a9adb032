"""benchmarks.csv: published comparator figures in the DfE open-data layout.

The figures live in ``published_figures.csv`` beside this module, one row per published
figure set with its source; nothing here invents a figure. Rows are written as they are
(the ``source`` column is kept: extra columns are allowed by the data contract).
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

PUBLISHED_FIGURES = "published_figures.csv"


def published_figures() -> pd.DataFrame:
    """The published England (and regional, where known) figures shipped with the package."""
    with resources.files(__package__).joinpath(PUBLISHED_FIGURES).open("r", encoding="utf-8") as f:
        return pd.read_csv(f, dtype={"time_period": str}, keep_default_na=False, na_values=[""])
