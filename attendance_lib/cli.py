"""The ``attendance-workbench`` command line (also ``python -m attendance_lib``).

Argument parsing and error reporting only: each command calls one library function.
Exit codes: 0 success, 1 invalid data or a failed report, 2 usage error. Data errors are
reported as a list of problems, never as a Python traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from attendance_lib import __version__
from attendance_lib.core.errors import DataError, ReportError, UsageError, WorkbenchError


def _date(text: str) -> pd.Timestamp:
    try:
        return pd.Timestamp(pd.to_datetime(text, format="%Y-%m-%d"))
    except (ValueError, TypeError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a date as YYYY-MM-DD") from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be above zero")
    return value


def _show_progress() -> bool:
    return sys.stderr.isatty()


# --------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------


def cmd_synth(args: argparse.Namespace) -> int:
    from attendance_lib.synth import generate

    if args.out is None:
        if args.vyed is None or args.source is None:
            raise UsageError("synth needs --out, or --vyed DIR with --source LA_DIR")
        return _synth_vyed(args.source, args.vyed)
    if args.source is not None:
        raise UsageError("--source is for --vyed without --out (an LA already generated)")
    try:
        result = generate(
            args.out,
            seed=args.seed,
            pupils=args.pupils,
            schools=args.schools,
            true_effect_pp=args.true_effect,
            selection=args.selection,
            progress=_show_progress(),
        )
    except ValueError as exc:  # a size or option the generator cannot make: a usage error
        raise UsageError(f"synth: {exc}") from None
    print(f"Synthetic local authority written to {result.out_dir}")
    for name, rows in result.counts.items():
        print(f"  {name:<18} {rows:>12,} rows")
    if args.vyed is not None:
        return _synth_vyed(result.out_dir, args.vyed)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from attendance_lib.analyses.shared.overview import dataset_overview
    from attendance_lib.contract.dataset import load_dataset

    print(f"Validating {args.data_dir} ...", file=sys.stderr)
    ds = load_dataset(args.data_dir, progress=_show_progress())
    print(dataset_overview(ds))
    print(f"\nValid: {args.data_dir} meets the data contract.")
    return 0


def cmd_summarise(args: argparse.Namespace) -> int:
    from attendance_lib.contract.dataset import load_dataset
    from attendance_lib.core.files import write_csv_atomic
    from attendance_lib.engine.sessions import summarise

    if args.date_to < args.date_from:
        raise UsageError("--to must be on or after --from")
    ds = load_dataset(args.data_dir, progress=_show_progress())
    if ds.marks_path is None and ds.weekly is None:
        raise UsageError(f"{args.data_dir} has no marks or weekly table to summarise")
    result = summarise(ds, args.date_from, args.date_to, by=args.by, engine=args.engine)
    write_csv_atomic(result.table, args.out)
    unit = "enrolments" if args.by == "enrolment" else "pupils"
    print(f"{len(result.table):,} {unit} written to {args.out}")
    if len(result.zero_possible):
        print(
            f"{len(result.zero_possible):,} {unit} with marks in the window but no possible "
            "session were left out (DfE rule)"
        )
    for warning in ds.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def cmd_partition_marks(args: argparse.Namespace) -> int:
    from attendance_lib.contract.partitioning import write_partitioned_marks

    by = tuple(part.strip() for part in args.by.split(",") if part.strip())
    result = write_partitioned_marks(args.source, args.out, by=by, overwrite=args.overwrite)
    print(f"{result.marks:,} marks in {result.files:,} files under {result.path}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from attendance_lib.runner import format_outcome, run_report
    from attendance_lib.runner.guard import ctrl_c_stops_runs

    overrides = dict(_split_setting(s) for s in args.set or [])
    with ctrl_c_stops_runs():
        outcome = run_report(
            args.params, out_dir=args.out, overrides=overrides, progress=_show_progress()
        )
    print(format_outcome(outcome))
    return 0 if outcome.ok else 1


def cmd_run_all(args: argparse.Namespace) -> int:
    from attendance_lib.runner import format_outcome, run_all
    from attendance_lib.runner.guard import ctrl_c_stops_runs

    with ctrl_c_stops_runs():
        outcome = run_all(
            args.params_dir,
            reports_dir=args.reports,
            workers=args.workers,
            progress=_show_progress(),
            overrides=dict(_split_setting(s) for s in args.set or []),
        )
    print(format_outcome(outcome))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from attendance_lib.analyses.shared.overview import dataset_overview, headline_summary
    from attendance_lib.contract.dataset import load_dataset

    print(f"Validating {args.data} ...", file=sys.stderr)
    ds = load_dataset(args.data, progress=_show_progress())
    print(dataset_overview(ds))
    print()
    print(headline_summary(ds))
    params = sorted(Path(args.params_dir).glob("*.yaml"))
    if not params:
        print(f"\nNo report parameter files in {args.params_dir}/ yet.")
        return 0
    print(f"\nRunning {len(params)} report parameter files from {args.params_dir}/ ...")
    run_all_args = argparse.Namespace(
        params_dir=args.params_dir, reports=args.reports, workers=None, set=None
    )
    return cmd_run_all(run_all_args)


# --------------------------------------------------------------------------------------
# Importers (issue 16): data in other shapes into a contract folder
# --------------------------------------------------------------------------------------


def _synth_vyed(source: Path, out: Path) -> int:
    from attendance_lib.synth.vyed import write_vyed

    if not (Path(source) / "marks.parquet").exists():
        raise UsageError(f"{source} has no marks.parquet to make weekly downloads from")
    files = write_vyed(source, out)
    print(f"{len(files):,} weekly DfE downloads written to {out}")
    return 0


def cmd_import_vyed(args: argparse.Namespace) -> int:
    from attendance_lib.importers.vyed import import_vyed

    result = import_vyed(args.sources, args.calendar, args.out, as_of=args.as_of)
    print(f"{len(result.files):,} weekly downloads imported into {result.out_dir}")
    for name, rows in result.counts.items():
        print(f"  {name:<18} {rows:>12,} rows")
    return 0


def cmd_import_marks(args: argparse.Namespace) -> int:
    from attendance_lib.importers.marks import import_marks

    path = import_marks(args.export, args.mapping, args.out)
    print(f"marks written to {path}")
    return 0


def cmd_benchmarks(args: argparse.Namespace) -> int:
    from attendance_lib.core.files import write_csv_atomic
    from attendance_lib.importers.benchmarks import (
        OUTPUT_COLUMNS,
        benchmark_files,
        normalise_benchmarks,
    )

    files = benchmark_files(args.source)
    if not files:
        raise UsageError(f"{args.source} holds no EES files (benchmarks.csv, benchmarks/*.csv)")
    result = normalise_benchmarks(args.source)
    table = result.table[OUTPUT_COLUMNS]
    if args.out is None:
        table.to_csv(sys.stdout, index=False, lineterminator="\n")
    else:
        write_csv_atomic(table, args.out)
        print(f"{len(table):,} comparator figures from {len(files)} files written to {args.out}")
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


def add_import_parsers(sub) -> None:
    """The ``import`` command and its sources."""
    p = sub.add_parser("import", help="turn data in another shape into a data folder")
    kinds = p.add_subparsers(dest="kind", required=True, metavar="KIND")
    v = kinds.add_parser(
        "vyed", help="DfE weekly pupil-level downloads (Monitor your school attendance)"
    )
    v.add_argument("sources", nargs="+", type=Path, help="download files or folders of them")
    v.add_argument("--calendar", required=True, type=Path, help="the LA's calendar.csv")
    v.add_argument("--out", required=True, type=Path, help="new or empty folder to write")
    v.add_argument(
        "--as-of",
        type=_date,
        default=None,
        help="publication Monday (YYYY-MM-DD) of files whose names carry no date",
    )
    v.set_defaults(func=cmd_import_vyed)

    m = kinds.add_parser("marks", help="a session-level MIS export, mapped by a YAML file")
    m.add_argument("export", type=Path, help="the export (CSV)")
    m.add_argument(
        "--mapping", required=True, type=Path, help="mapping YAML (examples in docs/mappings/)"
    )
    m.add_argument("--out", required=True, type=Path, help="data folder to write marks.parquet to")
    m.set_defaults(func=cmd_import_marks)

    p = sub.add_parser(
        "benchmarks",
        help="comparators from EES files as downloaded (census and daily data), one row each",
    )
    p.add_argument(
        "source",
        type=Path,
        help="a data folder (benchmarks.csv, benchmarks/*.csv), a folder of EES files or one file",
    )
    p.add_argument("--out", type=Path, default=None, help="CSV file to write (default: print)")
    p.set_defaults(func=cmd_benchmarks)


def cmd_cache(args: argparse.Namespace) -> int:
    from attendance_lib.contract.dataset import cache_root, clear_cache

    removed, freed = clear_cache(None if args.clear else args.older_than)
    noun = "folder" if removed == 1 else "folders"
    print(f"Removed {removed} cache {noun} ({freed / 1e6:,.1f} MB) from {cache_root()}")
    return 0


def _days(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be zero or more days")
    return value


def _split_setting(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise UsageError(f"--set takes name=value, got {text!r}")
    return name.strip(), value


# --------------------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="attendance-workbench",
        description="DfE-correct school attendance figures and reports for local authorities.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "synth", help="write a seeded synthetic local authority in the contract layout"
    )
    p.add_argument("--out", type=Path, help="folder to write (created if missing)")
    p.add_argument(
        "--vyed",
        type=Path,
        default=None,
        help="also write DfE weekly pupil-level downloads made from the LA's marks to this folder",
    )
    p.add_argument(
        "--source",
        type=Path,
        default=None,
        help="with --vyed and no --out: an LA already generated to make the downloads from",
    )
    p.add_argument("--seed", type=int, default=20240901, help="random seed (default 20240901)")
    p.add_argument("--pupils", type=_positive_int, default=25_000, help="pupils (default 25000)")
    p.add_argument("--schools", type=_positive_int, default=60, help="schools (default 60)")
    p.add_argument(
        "--true-effect",
        type=float,
        default=4.0,
        help="true effect of the attendance intervention in percentage points (default 4.0)",
    )
    p.add_argument(
        "--selection",
        choices=("observed", "propensity"),
        default="observed",
        help="how officers choose children: on their observed 12-week absence (default) or on "
        "their underlying propensity to be absent, which the baseline measures with noise",
    )
    p.set_defaults(func=cmd_synth)

    add_import_parsers(sub)

    p = sub.add_parser("validate", help="check a data folder against the data contract")
    p.add_argument("data_dir", type=Path, help="the data folder")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("summarise", help="session counts and rates per enrolment or pupil")
    p.add_argument("data_dir", type=Path, help="the data folder")
    p.add_argument(
        "--from", dest="date_from", required=True, type=_date, help="first date (YYYY-MM-DD)"
    )
    p.add_argument("--to", dest="date_to", required=True, type=_date, help="last date, included")
    p.add_argument("--by", choices=["enrolment", "pupil"], default="enrolment")
    p.add_argument(
        "--engine",
        choices=["duckdb", "spark"],
        default=None,
        help="duckdb (embedded, default) or spark (local[*] or $ATTENDANCE_SPARK_MASTER); "
        "default from $ATTENDANCE_WORKBENCH_ENGINE",
    )
    p.add_argument("--out", required=True, type=Path, help="CSV file to write")
    p.set_defaults(func=cmd_summarise)

    p = sub.add_parser(
        "partition-marks",
        help="lay marks out as hive-partitioned Parquet (by academic year and school) for Spark",
    )
    p.add_argument("source", type=Path, help="a marks file (Parquet or CSV)")
    p.add_argument("out", type=Path, help="folder to write (must be empty or new)")
    p.add_argument(
        "--by", default="academic_year,urn", help="partition columns (default academic_year,urn)"
    )
    p.add_argument("--overwrite", action="store_true", help="replace a non-empty folder")
    p.set_defaults(func=cmd_partition_marks)

    p = sub.add_parser("run", help="run one report parameter file")
    p.add_argument("params", type=Path, help="a params/*.yaml file")
    p.add_argument("--out", type=Path, default=None, help="output folder (default reports/<stem>/)")
    p.add_argument("--set", action="append", metavar="NAME=VALUE", help="override a parameter")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "run-all", help="run every report parameter file and write reports/index.html"
    )
    p.add_argument("params_dir", nargs="?", type=Path, default=Path("params"))
    p.add_argument("--reports", type=Path, default=Path("reports"), help="reports folder")
    p.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        help="parallel kernels (default: one per core, as many as the available memory holds at 3 GB each)",
    )
    p.add_argument(
        "--set",
        action="append",
        metavar="NAME=VALUE",
        help="override a parameter in every report that declares it (e.g. data_dir=DIR)",
    )
    p.set_defaults(func=cmd_run_all)

    p = sub.add_parser(
        "cache",
        help="remove cached derived tables (pupil level) from $ATTENDANCE_WORKBENCH_CACHE "
        "or ~/.cache/attendance-workbench",
    )
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--clear", action="store_true", help="remove every cache folder")
    which.add_argument(
        "--older-than", type=_days, metavar="DAYS", help="remove folders unused for DAYS days"
    )
    p.set_defaults(func=cmd_cache)

    p = sub.add_parser(
        "demo", help="validate the synthetic LA, print a summary and run every report"
    )
    p.add_argument("--data", type=Path, default=Path("data/demo"))
    p.add_argument("--params-dir", type=Path, default=Path("params"))
    p.add_argument("--reports", type=Path, default=Path("reports"))
    p.set_defaults(func=cmd_demo)
    return parser


def print_problems(error: DataError, stream=None) -> None:
    """Print every data problem, one a line, and any warnings (to ``sys.stderr`` by default)."""
    stream = sys.stderr if stream is None else stream
    print(f"Invalid data: {error}.", file=stream)
    for problem in error.problems:
        print(f"  - {problem}", file=stream)
    for warning in error.warnings:
        print(f"  warning: {warning}", file=stream)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point. Returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    os.environ.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning")
    try:
        return args.func(args)
    except DataError as exc:
        print_problems(exc)
        return exc.exit_code
    except ReportError as exc:
        print(str(exc), file=sys.stderr)
        return exc.exit_code
    except WorkbenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        from attendance_lib.runner.guard import stop_children

        stop_children()  # whatever the command started (Spark's JVM, say) stops with it
        print("interrupted", file=sys.stderr)
        return 130
