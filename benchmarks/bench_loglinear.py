"""Speed of the classical log-linear machinery against the R packages, measured in one run.

    python benchmarks/bench_loglinear.py [--boot 200] [--repeat 5]

Prints:
(a) the exhaustive 4-list search (113 hierarchical models) plus the BIC-best model's profile-likelihood interval
    on Rcapture_HIV: first call in the process (model enumeration and the LP solver's start-up included) and the
    median of ``--repeat`` further calls, against Rcapture's closedpMS.t + closedpCI.t time (peers ``seconds``);
(b) the exhaustive 5-list search (6,893 models, existence check included) plus profile interval on every shipped
    5-list table, against Rcapture where it ran (125-238 s);
(c) a ``--boot``-replicate selection-aware BCa bootstrap with SparseMSE's stepwise selection on the 6-list
    SparseMSE_UKdat, against SparseMSE's estimatepopulation(nboot=200) time;
(d) for every 5-list table, whether the lowest-AIC model has a maximum-likelihood estimate at all, what an
    unchecked Poisson fit of it returns (what Rcapture printed), and what our search returns instead.

Rcapture/SparseMSE times were measured on a similar 2-core machine (tests/data/peers.csv, +-30%): compare ratios.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from estimators import bootstrap_interval, load_dataset, loglinear, loglinear_models  # noqa: E402
from estimators._glm import fit_poisson  # noqa: E402
from estimators._loglinear._model import design_matrix  # noqa: E402

PEERS = pd.read_csv(Path(__file__).resolve().parents[1] / "tests" / "data" / "peers.csv")
FIVE_LISTS = ["SparseMSE_UKdat_5", "CARE1_Congenital", "SparseMSE_Ned_5", "SparseMSE_NewOrl_5", "SparseMSE_Western",
              "dga_MY1997_5list"]


def reference_seconds(dataset: str, method_start: str) -> float | None:
    rows = PEERS[(PEERS.dataset == dataset) & PEERS.method.str.startswith(method_start)]
    return float(rows.seconds.iloc[0]) if len(rows) and pd.notna(rows.seconds.iloc[0]) else None


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return time.perf_counter() - start, value


def four_lists(repeat: int) -> None:
    h = load_dataset("Rcapture_HIV")
    cold, fit = timed(loglinear, h, select="bic")
    warm = statistics.median(timed(loglinear, h, select="bic")[0] for _ in range(repeat))
    r_seconds = reference_seconds("Rcapture_HIV", "closedpCI.t loglinear BIC-best")
    print("(a) 4-list exhaustive search (113 models) + BIC-best profile interval, Rcapture_HIV")
    print(f"    selected {fit.model}: N = {fit.estimate:,.1f} [{fit.interval[0]:,.1f}, {fit.interval[1]:,.1f}]")
    print(f"    first call {cold:.3f} s, warm median {warm:.3f} s (target < 0.1 s); Rcapture {r_seconds:.2f} s "
          f"-> {r_seconds / cold:,.0f}x (first call), {r_seconds / warm:,.0f}x (warm) faster")


def five_lists() -> None:
    print("(b) 5-list exhaustive search (6,893 models, existence LP included) + BIC-best profile interval")
    for name in FIVE_LISTS:
        h = load_dataset(name)
        seconds, fit = timed(loglinear, h, select="bic")
        r_seconds = reference_seconds(name, "closedpCI.t loglinear BIC-best")
        versus = f"Rcapture {r_seconds:.0f} s -> {r_seconds / seconds:,.0f}x faster" if r_seconds else "no R run"
        print(f"    {name:20s} {seconds:6.2f} s (target < 5 s)  {fit.model:22s} N = {fit.estimate:12,.1f}  "
              f"skipped {fit.details['n_nonexistent']:4d} without MLE;  {versus}")


def bootstrap(n_boot: int) -> None:
    h = load_dataset("SparseMSE_UKdat")
    seconds, boot = timed(bootstrap_interval, h, select="stepwise", n_boot=n_boot, random_seed=1234)
    reference = PEERS[(PEERS.dataset == "SparseMSE_UKdat") & PEERS.method.str.contains("BCa bootstrap")].iloc[0]
    r_seconds = float(reference.seconds) * n_boot / 200
    print(f"(c) selection-aware BCa bootstrap, {n_boot} replicates, stepwise (pthresh 0.02), SparseMSE_UKdat (k = 6)")
    print(f"    ours {seconds:.1f} s: N = {boot.estimate:,.1f} [{boot.interval[0]:,.1f}, {boot.interval[1]:,.1f}], "
          f"a = {boot.details['acceleration']:.4f}")
    print(f"    SparseMSE {r_seconds:.1f} s: [{reference.lower:,.1f}, {reference.upper:,.1f}] ({reference.notes[:12]}) "
          f"-> {r_seconds / seconds:.1f}x faster (target >= 10x)")


def aic_best_existence() -> None:
    print("(d) Does the lowest-AIC 5-list model have an MLE?")
    for name in FIVE_LISTS:
        h = load_dataset(name)
        table = loglinear_models(h, criterion="aic")
        top = table.iloc[0]
        if top.exists:
            print(f"    {name:20s} AIC-best {top.model} has an MLE (N = {top.estimate:,.1f})")
            continue
        y = np.asarray(h.dense_counts(), float)[1:]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            unchecked = fit_poisson(design_matrix(top.model, h.lists), y)
        ours = loglinear(h, select="aic")
        print(f"    {name:20s} AIC-best {top.model} has NO MLE: an unchecked fit gives N = "
              f"{h.n_observed + np.exp(unchecked.coef[0]):.3g} (converged={unchecked.converged}); our search "
              f"skips it (and {int((~table.exists).sum()) - 1:,} other models without one) and returns {ours.model}, "
              f"N = {ours.estimate:,.1f} [{ours.interval[0]:,.1f}, {ours.interval[1]:,.1f}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--boot", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    four_lists(args.repeat)
    five_lists()
    bootstrap(args.boot)
    aic_best_existence()


if __name__ == "__main__":
    main()
