"""The ``undercount`` command: estimate from a CSV of capture histories, list the shipped data, run benchmarks.

Examples
--------
    undercount datasets
    undercount estimate LCMCR_kosovo --method graphical_bma
    undercount estimate my_lists.csv --method loglinear --days 120 --population 775000
    undercount benchmark run --suite quick      (from a source checkout)
"""

from __future__ import annotations

import argparse
import inspect
import sys
from pathlib import Path

METHODS = (
    "loglinear",
    "bootstrap_interval",
    "chapman",
    "lincoln_petersen",
    "chao_lower_bound",
    "zelterman",
    "heterogeneity",
    "sample_coverage",
    "graphical_bma",
    "latent_class",
    "loglinear_bayes",
)


def _load(source: str, count: str, lists):
    import pandas as pd

    import estimators

    path = Path(source)
    if path.exists():
        frame = pd.read_csv(path)
        return estimators.CaptureHistories.from_counts(frame, count=count, lists=lists).collapse()
    return estimators.load_dataset(source, collapse=True)


def _estimate(args) -> int:
    import estimators

    histories = _load(args.data, args.count, args.lists.split(",") if args.lists else None)
    print(histories.summary())
    print()
    method = getattr(estimators, args.method)
    options = {"level": args.level}
    # every estimator that draws random numbers takes `random_seed`: asking the signature keeps a seeded run
    # reproducible for methods added later (sample_coverage's bootstrap was silently unseeded before)
    if args.random_seed is not None and "random_seed" in inspect.signature(method).parameters:
        options["random_seed"] = args.random_seed
    if args.method == "heterogeneity":
        options["kind"] = args.kind
    result = method(histories, **options)
    print(result.summary())
    if args.days:
        print()
        print(result.rate(days=args.days, population=args.population))
    return 0


def _datasets(_args) -> int:
    import estimators

    registry = estimators.list_datasets()
    print(registry[["dataset", "source_package", "kind", "k", "n", "lists"]].to_string(index=False))
    return 0


def _benchmark(args) -> int:
    checkout = Path(__file__).resolve().parents[1]
    if not (checkout / "benchmarks" / "runner.py").exists():
        print("The benchmarks live in the source checkout (benchmarks/); run this from a clone of the repository.")
        return 2
    sys.path.insert(0, str(checkout))
    from benchmarks.runner import main as benchmark_main

    return benchmark_main(args.rest)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="undercount",
        description="Estimate how many deaths went unrecorded from overlapping lists, and daily death rates.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("Examples\n--------\n", 1)[1],
    )
    commands = parser.add_subparsers(dest="command", required=True)

    estimate = commands.add_parser(
        "estimate",
        help="estimate N from a CSV (0/1 column per list + count) or a shipped dataset name",
        description="Example: undercount estimate LCMCR_kosovo --method loglinear --days 95",
    )
    estimate.add_argument("data", help="CSV path, or a shipped dataset name (see `undercount datasets`)")
    estimate.add_argument("--method", choices=METHODS, default="loglinear")
    estimate.add_argument("--kind", default="darroch", help="heterogeneity kind (darroch, poisson2, gamma, chao)")
    estimate.add_argument("--count", default="count", help="name of the count column")
    estimate.add_argument("--lists", default=None, help="comma-separated list columns (default: all 0/1 columns)")
    estimate.add_argument("--level", type=float, default=0.95)
    estimate.add_argument("--days", type=float, default=None, help="period length, to print deaths per day")
    estimate.add_argument("--population", type=float, default=None, help="population at risk, for per 10,000/day")
    estimate.add_argument("--random-seed", type=int, default=None)
    estimate.set_defaults(handler=_estimate)

    datasets = commands.add_parser("datasets", help="list the shipped capture-recapture datasets")
    datasets.set_defaults(handler=_datasets)

    benchmark = commands.add_parser(
        "benchmark",
        help="run the method-comparison benchmarks (source checkout only)",
        description="Example: undercount benchmark run --suite quick --jobs 2",
    )
    benchmark.add_argument("rest", nargs=argparse.REMAINDER, help="arguments for `python -m benchmarks`")
    benchmark.set_defaults(handler=_benchmark)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ValueError as error:
        print(f"undercount: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
