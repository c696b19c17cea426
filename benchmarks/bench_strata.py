"""Strata at scale: 100 weekly strata of a simulated conflict fitted with estimate_strata, and model reuse.

    python benchmarks/bench_strata.py [--weeks 100] [--jobs 2] [--method loglinear] [--bayes-weeks 20]

Prints, all measured in this one run:
1. estimate_strata over the weekly strata with a fast frequentist method on ``--jobs`` cores: cold wall time
   (cache empty, worker processes started by the call), the rerun that reads every stratum from the cache
   (speed-up ratio), a rerun after changing one week (only that week is refitted), and, without cache, the
   same on started workers and on 1 core (parallel speed-up).
2. loglinear_bayes: the first fit (model build + nutpie compile + sampling) against a refit of another week with
   the compiled model reused (``LoglinearBayesModel.fit``: only the counts change), and a fresh model object in the
   same process (recompiled, with pytensor's caches warm).
3. estimate_strata with loglinear_bayes over ``--bayes-weeks`` weeks on ``--jobs`` cores, cold and from the cache.

The conflict: a weekly death count that rises, peaks twice and falls; four lists (a hospital register, a
morgue list, media reports and an NGO's interviews) with coverages drifting over time, the morgue and hospital
lists positively dependent (bodies pass from one to the other) and media/NGO reports negatively dependent.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import estimators  # noqa: E402
from estimators import CaptureHistories  # noqa: E402
from estimators.histories import pattern_matrix  # noqa: E402
from estimators._loglinear._bayes import LoglinearBayesModel, build_model  # noqa: E402

LISTS = ["hospital", "morgue", "media", "ngo"]
SEED = 20261125


def simulate_conflict_weeks(weeks: int = 100, seed: int = SEED) -> tuple[CaptureHistories, pd.Series]:
    """Aggregated weekly capture tables (a ``week`` covariate) and the true deaths per week."""
    rng = np.random.default_rng(seed)
    t = np.arange(weeks)
    intensity = 60 + 400 * np.exp(-0.5 * ((t - 0.3 * weeks) / (0.08 * weeks)) ** 2) \
        + 250 * np.exp(-0.5 * ((t - 0.7 * weeks) / (0.1 * weeks)) ** 2)
    deaths = rng.poisson(intensity)
    patterns = pattern_matrix(len(LISTS)).astype(float)
    start = pd.Timestamp("2024-01-01")
    frames = []
    for week, n_dead in enumerate(deaths):
        drift = week / weeks
        log_odds = np.array([-0.6 + 0.5 * drift, -1.2 + 0.3 * np.sin(week / 8), -1.6 - 0.4 * drift, -2.0 + drift])
        eta = patterns @ log_odds + 0.9 * patterns[:, 0] * patterns[:, 1] - 0.5 * patterns[:, 2] * patterns[:, 3]
        probabilities = np.exp(eta) / np.exp(eta).sum()
        counts = rng.multinomial(n_dead, probabilities)
        frame = pd.DataFrame(patterns[1:].astype(int), columns=LISTS)
        frame["week"] = start + pd.Timedelta(weeks=week)
        frame["count"] = counts[1:]
        frames.append(frame[frame["count"] > 0])
    table = CaptureHistories.from_counts(pd.concat(frames, ignore_index=True), lists=LISTS)
    truth = pd.Series(deaths, index=[start + pd.Timedelta(weeks=w) for w in range(weeks)], name="deaths")
    return table, truth


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def pymc_sample_seconds(h: CaptureHistories) -> float:
    """Wall time of a second ``pm.sample(nuts_sampler="nutpie")`` call on one model (the first warms caches)."""
    import pymc as pm

    lists = LoglinearBayesModel(LISTS)
    model = build_model(LISTS, lists.shrunk, lists.fixed)
    with model:
        pm.set_data({"counts": h.dense_counts()[1:], "global_scale": lists.global_scale(h.n_observed)})
        pm.sample(nuts_sampler="nutpie", chains=4, draws=1000, tune=1000, random_seed=1, progressbar=False,
                  target_accept=0.99)
        _, seconds = timed(pm.sample, nuts_sampler="nutpie", chains=4, draws=1000, tune=1000, random_seed=2,
                           progressbar=False, target_accept=0.99)
    return seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weeks", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--method", default="loglinear", help="fast public estimator for part 1")
    parser.add_argument("--bayes-weeks", type=int, default=20, help="weeks for part 3 (0 to skip)")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")

    table, truth = simulate_conflict_weeks(args.weeks)
    strata = table.strata("week")
    print(f"Simulated conflict: {len(strata)} weekly strata, {len(LISTS)} lists, {int(truth.sum()):,} deaths, "
          f"{table.n_observed:,} listed.")

    print(f"\n1. estimate_strata, method={args.method!r}")
    with tempfile.TemporaryDirectory() as cache:
        cold, cold_s = timed(estimators.estimate_strata, strata, method=args.method, n_jobs=args.jobs,
                             cache=cache, progress=False)
        warm, warm_s = timed(estimators.estimate_strata, strata, method=args.method, n_jobs=args.jobs,
                             cache=cache, progress=False)
        changed = dict(strata)
        week = list(strata)[len(strata) // 2]
        frame = strata[week].to_frame()
        frame.loc[frame.index[0], "count"] += 3
        changed[week] = CaptureHistories.from_counts(frame, lists=LISTS)
        one, one_s = timed(estimators.estimate_strata, changed, method=args.method, n_jobs=args.jobs,
                           cache=cache, progress=False)
    _, pool_s = timed(estimators.estimate_strata, strata, method=args.method, n_jobs=args.jobs, progress=False)
    _, serial_s = timed(estimators.estimate_strata, strata, method=args.method, n_jobs=1, progress=False)
    assert warm.n_cached == len(strata) and one.n_cached == len(strata) - 1
    ok = cold.table["error"] == ""
    inside = ((cold.table["lower"] <= truth.values) & (truth.values <= cold.table["upper"]))[ok].mean()
    print(f"   fitted {ok.sum()} of {len(strata)} strata; truth inside the 95% interval in {inside:.0%} of them")
    print(f"   {args.jobs} cores, cold cache, fresh worker processes: {cold_s:8.2f} s")
    print(f"   {args.jobs} cores, rerun from the cache            : {warm_s:8.2f} s   "
          f"(cache speed-up {cold_s / warm_s:.1f}x)")
    print(f"   {args.jobs} cores, one week changed                 : {one_s:8.2f} s   "
          f"(1 stratum refitted, {one.n_cached} read from the cache)")
    print(f"   {args.jobs} cores, no cache, workers already started : {pool_s:8.2f} s")
    print(f"   1 core, no cache                            : {serial_s:8.2f} s   "
          f"(parallel speed-up {serial_s / pool_s:.2f}x with started workers)")
    total = cold.total()
    print(f"   total over strata: {total.estimate:,.0f} [{total.interval[0]:,.0f}, {total.interval[1]:,.0f}] "
          f"(truth {int(truth.sum()):,})")

    print("\n2. loglinear_bayes: compile once, refit with new counts (4 chains x 1,000 draws, 1,000 tuning)")
    weeks = list(strata)
    model = LoglinearBayesModel(LISTS)
    first, first_s = timed(model.fit, strata[weeks[0]], random_seed=1)
    refit, refit_s = timed(model.fit, strata[weeks[1]], random_seed=1)
    fresh, fresh_s = timed(LoglinearBayesModel(LISTS).fit, strata[weeks[2]], random_seed=1)
    pm_sample_s = pymc_sample_seconds(strata[weeks[3]])
    compile_s = first.details["compile seconds"]
    print(f"   first fit  : {first_s:7.2f} s  (compile {compile_s:.2f} s + sampling "
          f"{first.details['sampling seconds']:.2f} s)")
    print(f"   refit, compiled model reused: {refit_s:7.2f} s  (sampling {refit.details['sampling seconds']:.2f} s)")
    print(f"   new model object, same process (recompiled, caches warm): {fresh_s:7.2f} s "
          f"(compile {fresh.details['compile seconds']:.2f} s)")
    print(f"   ratio first fit / reused refit: {first_s / refit_s:.1f}x; compile / reused refit: "
          f"{compile_s / refit_s:.1f}x; warm recompile fit / reused refit: {fresh_s / refit_s:.1f}x")
    print(f"   pm.sample(nuts_sampler='nutpie') on the same model, second call (it compiles on every call): "
          f"{pm_sample_s:7.2f} s ({pm_sample_s / refit_s:.1f}x the reused refit)")
    print(f"   ESS/s for N on the reused refit: {refit.diagnostics['ess_bulk'] / refit_s:,.0f}")
    for name, fit in (("week 1", first), ("week 2", refit)):
        print(f"   {name}: N {fit.estimate:,.0f} [{fit.interval[0]:,.0f}, {fit.interval[1]:,.0f}], "
              f"R-hat {fit.diagnostics['r_hat']:.3f}, ESS {fit.diagnostics['ess_bulk']:.0f}, "
              f"divergences {fit.diagnostics['divergences']}")
    print(f"   truth: week 1 {truth.iloc[0]}, week 2 {truth.iloc[1]}")

    if args.bayes_weeks:
        subset = {week: strata[week] for week in weeks[: args.bayes_weeks]}
        print(f"\n3. estimate_strata, method='loglinear_bayes', {len(subset)} weeks, {args.jobs} cores "
              "(one batch, so one compilation, per worker)")
        with tempfile.TemporaryDirectory() as cache:
            bayes, bayes_s = timed(estimators.estimate_strata, subset, method="loglinear_bayes", n_jobs=args.jobs,
                                   cache=cache, progress=False, random_seed=1)
            again, again_s = timed(estimators.estimate_strata, subset, method="loglinear_bayes", n_jobs=args.jobs,
                                   cache=cache, progress=False, random_seed=1)
        ok = bayes.table["error"] == ""
        true = truth.loc[list(subset)].to_numpy()
        inside = ((bayes.table["lower"] <= true) & (true <= bayes.table["upper"]))[ok].mean()
        print(f"   cold: {bayes_s:.1f} s ({bayes_s / len(subset):.2f} s per stratum), fitted {ok.sum()}, "
              f"truth inside 95% interval in {inside:.0%}")
        print(f"   rerun from cache: {again_s:.2f} s (speed-up {bayes_s / again_s:.0f}x)")
        total = bayes.total()
        print(f"   total: {total.estimate:,.0f} [{total.interval[0]:,.0f}, {total.interval[1]:,.0f}] "
              f"(truth {int(true.sum()):,})")


if __name__ == "__main__":
    main()
