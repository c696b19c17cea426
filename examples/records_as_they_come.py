"""Casualty records as they come: missing fields, month-only dates, a list that starts late
==========================================================================================

Real casualty lists arrive as one row per person with gaps: no region for some, no sex for others, a date known
only to the month or not at all, and a list that started collecting half-way through. This example simulates such
records with a known truth (:func:`estimators.simulate.simulate_records`: 8,000 deaths over 180 days with a surge in
the north, 3 regions whose deaths the 4 lists capture at different rates, list D from day 90), then

1. reads them with :meth:`~estimators.CaptureHistories.from_records`, which warns about list D's late start;
2. imputes the missing regions and sexes ``m = 10`` times (:func:`estimators.impute`, chained equations with the
   list memberships as predictors);
3. fits on each completed table the log-linear models with list x region interactions, AIC-averaged
   (:func:`estimators.loglinear` with ``covariates=["region"], select="average"``), and pools them
   (:func:`estimators.pool`: Rubin's rules on log N);
4. compares with the naive analysis: drop every incomplete record and fit the pooled table;
5. with ``--daily`` only (about 5 s more on 2 cores once the daily model's kernels are compiled), fits the daily
   death rate with :func:`estimators.daily_rates`, keeping the month-only and undated records in the likelihood and
   marking list D absent before day 90 with ``list_windows``.

The calibration of steps 2-4 over 100 replicates is in ``benchmarks/results/calibration_records.md``.

Run: ``python examples/records_as_they_come.py [--daily] [--plot PATH] [--seed S]``
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

import estimators
from estimators.simulate import simulate_records

LISTS = ["A", "B", "C", "D"]
START, DAYS = "2024-01-01", 180


def _show(label, estimate, lower, upper, truth):
    inside = "inside" if lower <= truth <= upper else "OUTSIDE"
    print(f"  {label:<34} {estimate:>8,.0f}  [{lower:>8,.0f}, {upper:>8,.0f}]  truth {truth:>6,}  ({inside})")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Casualty records as they come: a worked example.")
    parser.add_argument("--daily", action="store_true", help="also fit daily_rates (compiles a PyMC model)")
    parser.add_argument("--draws", type=int, default=500, help="posterior draws per chain for --daily")
    parser.add_argument("--plot", default=None, help="save the figure to this file")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    started = time.perf_counter()

    # %%
    # The records
    # -----------
    # One row per person seen on at least one list; ``date`` holds timestamps, monthly periods and gaps.
    sim = simulate_records(8000, days=DAYS, start=START, random_seed=args.seed)
    records = sim.records
    print(f"{len(records):,} records of {sim.total:,} deaths; missing share per column:")
    print(records.isna().mean().round(3).to_string())
    month_only = records["date"].map(lambda d: isinstance(d, pd.Period)).mean()
    print(f"dated only to the month: {month_only:.1%}")
    print(records.head(6).to_string())

    # %%
    # Reading them: the hygiene checks
    # --------------------------------
    # ``from_records`` checks the list columns and the date coverage of each list. List D has no records before
    # day 90 while the others have many: a pooled table would read its absence as deaths it missed.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        h = estimators.CaptureHistories.from_records(records, lists=LISTS, date="date",
                                                     covariates=["region", "sex"])
    for w in caught:
        print(f"{type(w.message).__name__}: {w.message}\n")
    print(h.list_totals.to_string())

    # %%
    # Naive analysis: drop incomplete records, pool the regions
    # ---------------------------------------------------------
    complete = records.dropna(subset=["date", "region", "sex"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        naive = estimators.loglinear(
            estimators.CaptureHistories.from_records(complete, lists=LISTS, covariates=[]), select="bic")
        pooled_all = estimators.loglinear(
            estimators.CaptureHistories.from_records(records, lists=LISTS, covariates=[]), select="bic")
    print(f"complete records: {len(complete):,} of {len(records):,}")

    # %%
    # Full analysis: impute, fit by region with model averaging, pool
    # ----------------------------------------------------------------
    imputations = estimators.impute(records, m=10, lists=LISTS, columns=["region", "sex"], random_seed=args.seed)
    print(imputations.summary())
    fits = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the late-list warning again, once per imputation
        for completed in imputations.datasets:
            hc = estimators.CaptureHistories.from_records(completed, lists=LISTS, covariates=["region"])
            fits.append(estimators.loglinear(hc, covariates=["region"], select="average"))
    full = estimators.pool(fits)
    print(f"best model in the first imputation: {fits[0].details['best_model']}; share of the variance due to "
          f"the missing regions: {full.details['between_share']:.2f}")
    by_region = full.details["by_level"].set_index("region")  # each region pooled by Rubin's rules too
    regions = {region: tuple(by_region.loc[region, ["estimate", "lower", "upper"]]) for region in sim.by_region.index}

    # %%
    # Estimates beside the truth
    # --------------------------
    print("\nTotal deaths, 95% intervals:")
    _show("naive (complete records, pooled)", naive.estimate, *naive.interval, sim.total)
    _show("all records, pooled table", pooled_all.estimate, *pooled_all.interval, sim.total)
    _show("imputed x10, by region, averaged", full.estimate, *full.interval, sim.total)
    print("Per region (full analysis):")
    for region, (est, lo, hi) in regions.items():
        _show(region, est, lo, hi, int(sim.by_region[region]))

    import matplotlib

    if args.plot:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    names = ["total", *regions]
    truth = [sim.total, *sim.by_region.to_numpy()]
    est = [(full.estimate, *full.interval), *regions.values()]
    x = np.arange(len(names))
    ax.errorbar(x - 0.1, [e[0] for e in est], yerr=np.abs(np.array([[e[1], e[2]] for e in est]).T
                                                          - [e[0] for e in est]),
                fmt="o", label="imputed, by region, averaged (95%)")
    ax.errorbar([-0.3], [naive.estimate], yerr=[[naive.estimate - naive.interval[0]],
                                               [naive.interval[1] - naive.estimate]], fmt="s", color="tab:gray",
                label="naive (95%)")
    ax.scatter(x + 0.1, truth, marker="x", color="tab:red", zorder=3, label="truth")
    ax.set_xticks(x, names)
    ax.set_ylabel("deaths")
    ax.legend(fontsize=8)
    ax.set_title("Simulated records: estimates and truth", fontsize=9)
    fig.tight_layout()
    if args.plot:
        fig.savefig(args.plot, dpi=120)

    # %%
    # The daily death rate (``--daily`` only)
    # ---------------------------------------
    # ``daily_rates`` takes the month-only and undated records in its likelihood (coarsened at random given the
    # capture pattern), and ``list_windows`` marks D absent before day 90. It does not model the regions, so
    # capture heterogeneity between regions biases its total downwards a little.
    if args.daily:
        lists = records.rename(columns={"date": "day"})[LISTS + ["day"]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = estimators.daily_rates(population=(9e5, 1.1e6), start=START, days=DAYS, lists=lists,
                                         list_names=LISTS, list_windows={"D": (90, None)}, draws=args.draws,
                                         tune=args.draws, chains=2, cores=2, prior_draws=0, random_seed=args.seed)
        print("\nDaily rates (all records, coarse dates in the likelihood):")
        _show("total deaths", fit.total.estimate, *fit.total.interval, sim.total)
        lo, hi = fit.mean_rate.interval
        print(f"  mean deaths per day {fit.mean_rate.estimate:.1f} [{lo:.1f}, {hi:.1f}], truth {sim.mean_rate:.1f}")
        monthly = fit.daily.groupby(pd.to_datetime(fit.daily["date"]).dt.to_period("M"))["median"].sum()
        print(pd.DataFrame({"posterior median": monthly.round(), "truth": sim.by_month}).to_string())
    else:
        print("\n(The daily-rate fit runs with --daily: about 5 s more on 2 cores once its kernels are compiled.)")
    print(f"\n{time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    main()
