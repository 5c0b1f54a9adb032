"""Simulation benchmark: does the impact evaluation's interval cover the true effect?

Usage::

    python benchmarks/bench_impact_coverage.py                       # 20 seeds per mechanism
    python benchmarks/bench_impact_coverage.py --seeds 40 --out results.csv

For each selection mechanism of the synthetic LA (``observed``: officers choose children on
their 12-week absence; ``propensity``: on their underlying propensity to be absent, which the
baseline measures with noise) and each seed, it generates a small LA (fast settings), runs the
impact evaluation's library calls exactly as the notebook does, and compares the estimates
with the truth:

- **truth**: the synthetic effect as applied in the review window, in percentage points of
  the sessions that count (Year 11 study leave left out), from the treated and counterfactual
  registers (``SynthResult.effects``), averaged over the same interventions as the estimate
  (the matched treated pupils for difference-in-differences, every evaluable intervention with
  a complete review for before/after);
- **coverage**: the share of runs whose 95% interval contains the truth;
- **bias**: mean of (estimate - truth).

It prints one line per run and a table per mechanism (the table in ``docs/impact-simulation.md``
comes from it). Not a timed test: it takes minutes; run it with ``nice``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

PUPILS = 1500
SCHOOLS = 10
TRUE_EFFECT = 4.0
REPS = 500


def one_run(seed: int, selection: str, *, pupils: int = PUPILS, schools: int = SCHOOLS) -> dict:
    """Generate one LA, evaluate it, return the estimates, intervals and truths."""
    from attendance_lib.analyses.impact import evaluation, matching, windows
    from attendance_lib.contract.dataset import load_dataset
    from attendance_lib.core.academic_calendar import Calendar
    from attendance_lib.synth import generate

    with tempfile.TemporaryDirectory(prefix="impact-sim-") as tmp:
        result = generate(
            Path(tmp) / "la",
            seed=seed,
            pupils=pupils,
            schools=schools,
            true_effect_pp=TRUE_EFFECT,
            selection=selection,
            progress=False,
        )
        ds = load_dataset(result.out_dir, validate=False)  # the generator's own output
        calendar = Calendar(ds.calendar)
        sessions = windows.PupilSessions.build(ds, ds.pupils, calendar)
        ev = evaluation.evaluate_interventions(
            ds.interventions, sessions, ds.pupils, ds.schools, calendar, services=ds.services
        )
        pool = matching.comparison_pool(
            ev, sessions, ds.pupils, ds.schools, ds.interventions, ds.services
        )
    pairs = matching.match_comparisons(ev, pool)
    effect = matching.effect_table(ev, pairs, reps=REPS).set_index("method")
    truth = result.effects.set_index("intervention_id")["effect_pp"]
    done = ev[ev["evaluable"] & ev["review_complete"]]
    matched = pairs["intervention_id"].unique()
    out = {"seed": seed, "selection": selection}
    for method, ids in (
        ("before_after", done["intervention_id"]),
        ("difference_in_differences", matched),
    ):
        r = effect.loc[method]
        t = float(truth.reindex(ids).mean())
        out |= {
            f"{method}_estimate": r.estimate_pp,
            f"{method}_low": r.ci_low,
            f"{method}_high": r.ci_high,
            f"{method}_truth": t,
            f"{method}_n": int(r.n_treated),
        }
    out["placebo"] = effect.loc["pre_trend_placebo", "estimate_pp"]
    return out


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Coverage and bias per mechanism and method."""
    rows = []
    for selection, g in runs.groupby("selection", sort=False):
        for method in ("before_after", "difference_in_differences"):
            est, t = g[f"{method}_estimate"], g[f"{method}_truth"]
            cover = (g[f"{method}_low"] <= t) & (t <= g[f"{method}_high"])
            rows.append(
                {
                    "selection": selection,
                    "method": method,
                    "runs": len(g),
                    "mean_truth_pp": t.mean(),
                    "mean_estimate_pp": est.mean(),
                    "bias_pp": (est - t).mean(),
                    "bias_se": (est - t).std(ddof=1) / np.sqrt(len(g)),
                    "rmse_pp": float(np.sqrt(((est - t) ** 2).mean())),
                    "mean_ci_width_pp": (g[f"{method}_high"] - g[f"{method}_low"]).mean(),
                    "coverage_pct": 100 * cover.mean(),
                    "mean_treated": g[f"{method}_n"].mean(),
                }
            )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20, help="seeds per mechanism (default 20)")
    parser.add_argument("--first-seed", type=int, default=1000)
    parser.add_argument("--selection", nargs="+", default=["observed", "propensity"])
    parser.add_argument("--pupils", type=int, default=PUPILS)
    parser.add_argument("--schools", type=int, default=SCHOOLS)
    parser.add_argument("--out", type=Path, help="write every run to this CSV")
    args = parser.parse_args(argv)
    runs = []
    for selection in args.selection:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            clock = time.perf_counter()
            r = one_run(seed, selection, pupils=args.pupils, schools=args.schools)
            runs.append(r)
            print(
                f"{selection:<10} seed {seed}: DiD {r['difference_in_differences_estimate']:+.2f} "
                f"({r['difference_in_differences_low']:+.2f} to "
                f"{r['difference_in_differences_high']:+.2f}) truth "
                f"{r['difference_in_differences_truth']:.2f}; before/after "
                f"{r['before_after_estimate']:+.2f}; placebo {r['placebo']:+.2f} "
                f"[{time.perf_counter() - clock:.0f}s]",
                flush=True,
            )
            if args.out:
                pd.DataFrame(runs).to_csv(args.out, index=False)
    table = summarise(pd.DataFrame(runs))
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.round(2).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
