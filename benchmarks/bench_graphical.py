"""Speed of graphical_bma against R's dga (bma.cr), measured in one run.

    python benchmarks/bench_graphical.py [--repeat 5] [--statistic median|min]

For every dga reference row in tests/data/peers.csv (3-, 4- and 5-list tables, dga's default grid 0..5n, its wide
grid 0..20n and the two package examples) this prints our time on dga's grid and prior, and our time with the
adaptive support (no grid: the support grows until the neglected posterior mass is bounded below 1e-8, or the
estimate is refused), each the median of ``--repeat`` calls after one warm-up call (the warm-up includes the
cached enumeration of the decomposable graphs, also printed, and, for large evaluations, the one-time load of
the compiled kernels), with the ratio dga seconds / ours. dga's seconds were measured on a similar 2-core
machine (+-30%; see shared/reference/README.md), so compare ratios. The load averages before and after are printed: on a shared
machine ``--statistic min`` (the best of the repeats) is the least disturbed by other processes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import gammaln

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from estimators import NonexistentEstimateError, decomposable_graphs, graphical_bma, load_dataset  # noqa: E402

PEERS = pd.read_csv(Path(__file__).resolve().parents[1] / "tests" / "data" / "peers.csv")


def negative_binomial_log_prior(n, a=13.14, b=55.17):
    return n * np.log(b) - (n + a) * np.log1p(b) + gammaln(n + a) - gammaln(n + 1) - gammaln(a)


def dga_settings(method: str, n: int) -> dict:
    if "fac=5)" in method:
        return dict(unlisted_support=np.arange(0, 5 * n + 1))
    if "fac=20)" in method:
        return dict(unlisted_support=np.arange(0, 20 * n + 1))
    if "delta=0.5, Nmissing=1:300" in method:
        return dict(unlisted_support=np.arange(1, 301), delta=0.5)
    if "NegBin prior" in method:
        return dict(unlisted_support=np.arange(1, 301), delta=1.0, log_prior=negative_binomial_log_prior)
    raise ValueError(method)


def timed(call, repeat: int, statistic=statistics.median):
    """(result or exception, ``statistic`` of the seconds of ``repeat`` calls after a warm-up)."""
    try:
        result = call()
    except NonexistentEstimateError as error:
        result = error
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        try:
            call()
        except NonexistentEstimateError:
            pass
        times.append(time.perf_counter() - start)
    return result, statistic(times)


def describe(result) -> str:
    if isinstance(result, Exception):
        return "refused (heavy tail)"
    return f"{result.estimate:,.0f} [{result.interval[0]:,.0f}, {result.interval[1]:,.0f}]"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--statistic", choices=("median", "min"), default="median")
    args = parser.parse_args(argv)
    statistic = statistics.median if args.statistic == "median" else min
    warnings.simplefilter("ignore")
    print("Load average (1, 5, 15 min) at start: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))

    print("Enumeration of decomposable graphs (first call per k, then cached):")
    for k in (3, 4, 5, 6):
        start = time.perf_counter()
        count = len(decomposable_graphs(k))
        print(f"  k={k}: {count:>6,} graphs in {time.perf_counter() - start:.3f} s")

    rows = PEERS[PEERS.package == "dga 2.0.2"]
    lines = []
    adaptive_done = {}
    for _, row in rows.iterrows():
        h = load_dataset(row.dataset)
        settings = dga_settings(row.method, h.n_observed)
        ours, seconds = timed(lambda: graphical_bma(h, random_seed=0, **settings), args.repeat, statistic)
        lines.append(
            dict(
                dataset=row.dataset,
                k=h.k,
                setting=row.method.split(" (")[0] + (" fac=20" if "fac=20" in row.method else "")
                + (" fac=5" if "fac=5)" in row.method else ""),
                dga=f"{row.estimate:,.0f} [{row.lower:,.0f}, {row.upper:,.0f}]",
                ours=describe(ours),
                dga_s=row.seconds,
                ours_s=seconds,
                ratio=row.seconds / seconds,
            )
        )
        if row.dataset not in adaptive_done and "package example" not in row.method:
            result, seconds = timed(lambda: graphical_bma(h, random_seed=0), args.repeat, statistic)
            adaptive_done[row.dataset] = (result, seconds)
    table = pd.DataFrame(lines)
    pd.set_option("display.width", 200)
    print(f"\nOn dga's grid and prior (dga seconds / ours = speed-up; ours = {args.statistic} of {args.repeat}):")
    print(table.to_string(index=False, float_format=lambda x: f"{x:.4f}"))

    print("\nAdaptive support (no grid) against dga's wide grid 0..20n:")
    adaptive = []
    for dataset, (result, seconds) in adaptive_done.items():
        wide = rows[(rows.dataset == dataset) & rows.method.str.contains("fac=20")].iloc[0]
        reach = "" if isinstance(result, Exception) else f"{result.details['unlisted_max'] / result.n_observed:.1f}n"
        neglected = "" if isinstance(result, Exception) else f"{result.details['neglected_tail_mass']:.1e}"
        adaptive.append(
            dict(
                dataset=dataset,
                k=load_dataset(dataset).k,
                dga_wide=f"{wide.estimate:,.0f} [{wide.lower:,.0f}, {wide.upper:,.0f}]",
                ours=describe(result),
                support_to=reach,
                neglected=neglected,
                dga_wide_s=wide.seconds,
                ours_s=seconds,
                ratio=wide.seconds / seconds,
            )
        )
    print(pd.DataFrame(adaptive).to_string(index=False, float_format=lambda x: f"{x:.4f}"))

    five = table[table.k == 5]
    print(
        f"\n5-list tables on dga's grid: speed-up over dga from {five.ratio.min():.1f}x to {five.ratio.max():.1f}x "
        f"(median {five.ratio.median():.1f}x); dga took {five.dga_s.min():.3f}-{five.dga_s.max():.3f} s."
    )
    print("Load average (1, 5, 15 min) at end: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
