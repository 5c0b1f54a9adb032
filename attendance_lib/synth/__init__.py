"""The seeded synthetic local authority.

``generate(out_dir)`` writes a complete extract in the data-contract layout (schools, pupils,
calendar, marks.parquet, KS2, KS4, services, interventions, benchmarks) plus
``synth_truth.json`` with the configured and realised intervention effect. The same seed gives
byte-identical files. See ``docs/synthetic-la.md`` for the model.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .benchmarks import published_figures
from .calendar import calendar_table, inset_days, school_days, start_year
from .episodes import paint_episodes
from .grid import Grid
from .interventions import apply_effect, intervention_table, select_interventions
from .marks import Context, draw_base_marks
from .population import build_population, year_group_label
from .results import build_ks2, build_ks4
from .schools import build_schools
from .services import build_services
from .writer import write_csv, write_json, write_marks

__all__ = ["DEFAULT_YEARS", "SynthResult", "generate"]

DEFAULT_YEARS: tuple[str, ...] = ("2022/23", "2023/24", "2024/25")
SEN_LABEL = np.array(["N", "K", "E"])
_STEPS = (
    "calendar",
    "schools",
    "pupils",
    "services",
    "marks",
    "interventions",
    "results",
    "write tables",
    "write marks",
)


@dataclass(frozen=True)
class SynthResult:
    """What :func:`generate` wrote.

    Attributes
    ----------
    out_dir : Path
    counts : dict
        Rows per table (``marks`` counts sessions).
    truth : dict
        The contents of ``synth_truth.json``.
    effects : DataFrame or None
        Each intervention's realised effect (intervention_id, upn, start_date,
        review_possible, sessions_gained, effect_pp): treated minus counterfactual attendance
        over the sessions of its review window that count (for simulation benchmarks; not
        written to the folder).
    """

    out_dir: Path
    counts: dict[str, int] = field(default_factory=dict)
    truth: dict = field(default_factory=dict)
    effects: pd.DataFrame | None = None


def _check_years(years: tuple[str, ...]) -> None:
    starts = [start_year(y) for y in years]
    for y, s in zip(years, starts, strict=True):
        if y != f"{s}/{(s + 1) % 100:02d}":
            raise ValueError(f"academic year {y!r} is not written like '2023/24'")
    if not starts or any(b - a != 1 for a, b in zip(starts, starts[1:], strict=False)):
        raise ValueError("years must be consecutive academic years, oldest first")


def generate(
    out_dir: str | Path,
    *,
    seed: int = 20240901,
    pupils: int = 25_000,
    schools: int = 60,
    years: tuple[str, ...] = DEFAULT_YEARS,
    true_effect_pp: float = 4.0,
    selection: str = "observed",
    progress: bool = True,
) -> SynthResult:
    """Generate the synthetic LA into ``out_dir`` (created if needed).

    Parameters
    ----------
    out_dir : str or Path
        Folder to write; existing files of the same names are replaced.
    seed : int
        Seed of every random draw: the same seed gives byte-identical files.
    pupils : int
        Roughly the number of pupils on roll each year.
    schools : int
        Number of schools (mostly primary, about 11 in 60 secondary, 2-3 special, one PRU).
    years : tuple of str
        Consecutive academic years, oldest first.
    true_effect_pp : float
        Effect of an attendance-team intervention in percentage points of attendance over the
        12-week review window (0 allowed).
    selection : str
        How officers choose children: ``observed`` (on their baseline absence) or
        ``propensity`` (on their underlying propensity to be absent); see
        :mod:`attendance_lib.synth.interventions`.
    progress : bool
        Show a progress bar (only when standard error is a terminal).

    Returns
    -------
    SynthResult
    """
    years = tuple(years)
    _check_years(years)
    if pupils < 200:
        raise ValueError("pupils must be at least 200")
    if schools < 4:
        raise ValueError(
            "schools must be at least 4 (primary, secondary, special and alternative provision)"
        )
    if selection not in ("observed", "propensity"):
        raise ValueError(f"selection must be observed or propensity, got {selection!r}")
    if true_effect_pp < 0:
        raise ValueError("true_effect_pp must be 0 or more")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(len(_STEPS))]
    bar = tqdm(
        total=len(_STEPS),
        desc="synthetic LA",
        unit="step",
        disable=not progress or not sys.stderr.isatty(),
    )

    def step(i: int) -> np.random.Generator:
        bar.set_postfix_str(_STEPS[i])
        if i:
            bar.update(1)
        return rngs[i]

    with bar:
        step(0)
        days = school_days(years)
        cal = calendar_table(years)
        school_df = build_schools(step(1), schools)
        inset = inset_days(rngs[1], days, len(school_df))
        pop = build_population(step(2), school_df, days, pupils, years)
        services = build_services(step(3), pop, days)
        ctx = Context(days=days, schools=school_df, pop=pop, years=years)
        rng = step(4)
        cf = Grid.from_population(pop, days.n)
        draw_base_marks(rng, cf, ctx)
        paint_episodes(rng, cf, ctx, inset)
        rng = step(5)
        chosen = select_interventions(rng, cf, ctx, services, pupils, selection)
        grid, effect, effects = apply_effect(rng, cf, chosen, ctx, true_effect_pp)
        del cf
        rng = step(6)
        ks2 = build_ks2(rng, pop, grid, days, years)
        ks4 = build_ks4(rng, pop, grid, days, years)
        step(7)
        last_date = pd.Timestamp(days.days["date"].iloc[-1])
        tables = {
            "schools": school_df[[c for c in school_df.columns if not c.startswith("_")]],
            "pupils": _pupils_table(pop, school_df, years),
            "calendar": cal,
            "ks2": ks2,
            "ks4": ks4,
            "services": services[["upn", "service", "start_date", "end_date"]],
            "interventions": intervention_table(
                chosen, pop.master["upn"].to_numpy(), last_date, ctx
            ),
            "benchmarks": published_figures(),
        }
        for name, df in tables.items():
            write_csv(df, out / f"{name}.csv")
        step(8)
        n_marks = write_marks(
            out / "marks.parquet", grid, pop, school_df, days.days["date"].to_numpy()
        )
        counts = {name: len(df) for name, df in tables.items()} | {"marks": n_marks}
        truth = {
            "seed": seed,
            "parameters": {
                "pupils": pupils,
                "schools": schools,
                "years": list(years),
                "true_effect_pp": float(true_effect_pp),
                "selection": selection,
            },
            "intervention_effect": effect,
            "counts": counts,
        }
        write_json(truth, out / "synth_truth.json")
        bar.update(1)
    ids = tables["interventions"]["intervention_id"].to_numpy()
    effects = effects.assign(
        intervention_id=ids, upn=pop.master["upn"].to_numpy()[effects["pid"].to_numpy()]
    ).drop(columns="pid")
    return SynthResult(out_dir=out, counts=counts, truth=truth, effects=effects)


def _pupils_table(pop, school_df: pd.DataFrame, years: tuple[str, ...]) -> pd.DataFrame:
    """pupils.csv: characteristics per pupil per year at the school of record."""
    r = pop.roll
    m = pop.master
    pid = r["pid"].to_numpy()
    df = pd.DataFrame(
        {
            "upn": m["upn"].to_numpy()[pid],
            "academic_year": np.asarray(years, dtype=object)[r["ay"].to_numpy()],
            "urn": school_df["urn"].to_numpy()[r["school"].to_numpy()],
            "year_group": year_group_label(r["g"].to_numpy()),
            "date_of_birth": pd.to_datetime(m["date_of_birth"].to_numpy()[pid]),
            "sex": m["sex"].to_numpy()[pid],
            "fsm": r["fsm"].to_numpy().astype(bool),
            "fsm6": r["fsm6"].to_numpy().astype(bool),
            "sen": SEN_LABEL[r["sen"].to_numpy()],
            "ethnicity": m["ethnicity"].to_numpy()[pid],
            "eal": m["eal"].to_numpy()[pid],
        }
    )
    return df.sort_values(["academic_year", "upn"], kind="stable").reset_index(drop=True)
