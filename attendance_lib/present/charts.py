"""Charts drawn the same way by more than one report, kept out of the notebooks.

A notebook defines no functions (``tests/test_notebook_hygiene.py``), so a chart that is
drawn once and shared (:func:`~attendance_lib.present.notebook.show_shared_figure`, which
takes a function that draws it) is drawn here.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from attendance_lib.present.notebook import OKABE_ITO, figure


def school_trend(trend: pd.DataFrame, academic_year: str) -> tuple[Figure, str]:
    """The school pack's line chart of attendance by half term, and its alt text.

    ``trend``: :func:`attendance_lib.analyses.strategy.school_pack.school_trend` (area,
    academic_year, half_term, attendance_pct), rows too small to show already left out. One
    line for each area (the school, the other schools of its phase, the LA) and year, in the
    Okabe-Ito colours; ``academic_year`` solid, the year before dotted.
    """
    colours = dict(zip(trend["area"].unique(), OKABE_ITO, strict=False))
    fig, ax = figure("Attendance by half term", "Half term", "Attendance (%)")
    for (area, year), rows in trend.groupby(["area", "academic_year"], sort=False):
        style = dict(color=colours[area], linestyle="-" if year == academic_year else ":")
        ax.plot(
            rows["half_term"], rows["attendance_pct"], marker="o", label=f"{area}, {year}", **style
        )
    ax.set_xticks(range(1, 7))
    ax.legend(frameon=False, fontsize=8)
    alt = (
        "Line chart of attendance by half term for the school, the other schools of its phase "
        "and the LA, this year (solid) and last year (dotted)."
    )
    return fig, alt
