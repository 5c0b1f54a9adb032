"""The mutation score of the modules that decide figures and privacy, from mutmut's results.

``make mutation`` runs mutmut, then this script. It reads the modules from
``[tool.mutmut] only_mutate`` in ``pyproject.toml`` and each module's results from mutmut's
``mutants/<path>.meta`` (``exit_code_by_key``: one exit code per mutant, ``None`` until the
mutant has run), classifies each exit code as mutmut itself does
(``mutmut.stats.status_by_exit_code``) and prints one row per module and the total:

- **detected**: killed, timed out, caught by the type check or crashed (mutmut counts a
  timeout as caught: a mutant that makes the tests hang is noticed);
- **survived**: survived, and also mutants no test covers ("no tests": a final result that
  a later run does not revisit) and "suspicious" ones (mutmut's word for an exit code it
  does not know): none of them was caught;
- **not run**: not checked yet, or its check interrupted; mutants mutmut was told to skip
  are left out of every count, as mutmut's own badge leaves them out;
- the score, detected / mutants, against the target of issue 18 (90% of the mutants of those
  modules killed).

Usage::

    python tests/mutation_score.py            # exit 1 if under 90% or any mutant has not run
    python tests/mutation_score.py --partial  # the score of the mutants that have run

By default a mutant not run counts as not killed and fails the check, so only a complete run
passes. ``--partial`` (what ``make mutation MUTMUT_ARGS=...`` uses after a narrowed run)
scores every mutant with a result in ``mutants/`` (this run's and earlier runs'), says how
many have none, and fails only under 90%.
Exit status 2: no results at all (run ``make mutation`` first). The target and the list of
survivors with their reasons are in ``docs/testing.md``.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

TARGET = 0.90
DETECTED = frozenset({"killed", "timeout", "caught by type check", "segfault"})
NOT_CAUGHT = frozenset({"survived", "no tests", "suspicious"})
LEFT_OUT = frozenset({"skipped"})


@dataclass(frozen=True)
class ModuleScore:
    """One module's mutants by outcome."""

    path: str
    mutants: int
    detected: int
    survived: int

    @property
    def not_run(self) -> int:
        """Mutants without a result: not checked yet, or their check interrupted."""
        return self.mutants - self.detected - self.survived

    @property
    def score(self) -> float | None:
        """Detected / mutants (a mutant not run counts as not killed); None with no mutants."""
        return self.detected / self.mutants if self.mutants else None

    @property
    def score_of_run(self) -> float | None:
        """Detected / mutants with a result (caught or not); None when none has one."""
        ran = self.detected + self.survived
        return self.detected / ran if ran else None


def mutated_modules(pyproject: Path) -> list[str]:
    """The files of ``[tool.mutmut] only_mutate``: each entry as written, or the Python files
    under the project folder that a glob entry (``"attendance_lib/core/*"``) matches, as
    mutmut matches them (``fnmatch`` on the path)."""
    with pyproject.open("rb") as handle:
        config = tomllib.load(handle)
    try:
        entries = list(config["tool"]["mutmut"]["only_mutate"])
    except KeyError as error:
        raise SystemExit(f"{pyproject}: no [tool.mutmut] only_mutate list") from error
    root = pyproject.parent
    files: list[str] = []  # the project's Python files, listed at the first glob entry
    modules: list[str] = []
    for entry in entries:
        if not any(mark in entry for mark in "*?["):
            modules.append(entry)
            continue
        files = files or sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py"))
        modules += [f for f in files if fnmatch.fnmatch(f, entry) and f not in modules]
    return modules


def module_score(path: str, mutants_dir: Path) -> ModuleScore | None:
    """One module's score from ``mutants/<path>.meta``; None when mutmut has not generated it."""
    from mutmut.stats import status_by_exit_code

    meta = mutants_dir / f"{path}.meta"
    if not meta.exists():
        return None
    try:
        exit_codes = json.loads(meta.read_text())["exit_code_by_key"]
    except (json.JSONDecodeError, KeyError) as error:
        raise SystemExit(f"{meta}: not a mutmut results file ({error})") from error
    statuses = [status_by_exit_code[code] for code in exit_codes.values()]
    statuses = [status for status in statuses if status not in LEFT_OUT]
    return ModuleScore(
        path=path,
        mutants=len(statuses),
        detected=sum(status in DETECTED for status in statuses),
        survived=sum(status in NOT_CAUGHT for status in statuses),
    )


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def score_table(scores: list[ModuleScore], missing: list[str], partial: bool = False) -> str:
    """The per-module table and the total, as plain text (``partial``: scores of the run)."""
    width = max([len(s.path) for s in scores] + [len(m) for m in missing] + [len("total")])
    header = f"{'module':<{width}}  {'mutants':>7}  {'detected':>8}  {'survived':>8}  {'not run':>7}  score"

    def row(s: ModuleScore) -> str:
        return (
            f"{s.path:<{width}}  {s.mutants:>7}  {s.detected:>8}  {s.survived:>8}  "
            f"{s.not_run:>7}  {_percent(s.score_of_run if partial else s.score)}"
        )

    rule = "-" * len(header)
    lines = [header, rule, *map(row, scores)]
    lines += [
        f"{path:<{width}}  no results: mutmut has not generated its mutants" for path in missing
    ]
    return "\n".join([*lines, rule, row(total_score(scores))])


def total_score(scores: list[ModuleScore]) -> ModuleScore:
    """All modules' mutants together."""
    return ModuleScore(
        path="total",
        mutants=sum(s.mutants for s in scores),
        detected=sum(s.detected for s in scores),
        survived=sum(s.survived for s in scores),
    )


def main(argv: list[str] | None = None) -> int:
    """Print the table; 0 when the total meets the target, 1 when not, 2 with no results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the project folder")
    parser.add_argument(
        "--partial",
        action="store_true",
        help="score the mutants that have a result; do not fail for those that have none",
    )
    args = parser.parse_args(argv)
    mutants_dir = args.root / "mutants"
    modules = mutated_modules(args.root / "pyproject.toml")
    scores, missing = [], []
    for path in modules:
        score = module_score(path, mutants_dir)
        if score is None:
            missing.append(path)
        else:
            scores.append(score)
    if not scores:
        print(f"no mutmut results under {mutants_dir}: run `make mutation` first", file=sys.stderr)
        return 2
    print(score_table(scores, missing, partial=args.partial))
    total = total_score(scores)
    score = total.score_of_run if args.partial else total.score
    unrun = f"{total.not_run} mutant(s) not run and {len(missing)} module(s) without results"
    problems = []
    if score is None or score < TARGET:
        problems.append(f"the total {_percent(score)} is under the target {TARGET:.0%}")
    if missing or total.not_run:
        if args.partial:
            print(
                f"mutation score: a partial run ({unrun}); the score is of every mutant "
                "with a result",
                flush=True,
            )
        else:
            problems.append(unrun)
    for problem in problems:
        print(f"mutation score: {problem}", file=sys.stderr)
    if not problems:
        print(f"mutation score: {_percent(score)}, target {TARGET:.0%} met")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
