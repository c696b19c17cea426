"""Speed of daily_rates: 120 days, three matched lists and a survey, on this machine.

Targets (issue 4): the first fit, compilation included, under 60 s on 2 cores, with R-hat < 1.01, bulk ESS > 400
for the mean daily rate and no divergences; a second data set of the same shape refits without recompiling.
Times are measured in one run and printed with their ratio to the target; the machine's load is printed too,
because other jobs on a shared machine slow every figure.

Run: ``python benchmarks/bench_daily.py [--draws N] [--repeats R]``
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

from estimators import daily_rates
from estimators.simulate import simulate_conflict

TARGET_SECONDS = 60.0


def _fit(sim, model=None, draws=500, seed=1, prior_draws=500):
    started, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = daily_rates(days=120, lists=sim.lists, surveys=[sim.survey], population=(450_000, 550_000),
                          draws=draws, tune=draws, chains=4, cores=2, prior_draws=prior_draws, model=model,
                          random_seed=seed)
    return fit, time.perf_counter() - started, time.process_time() - cpu


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--draws", type=int, default=500, help="draws and tuning steps per chain (4 chains)")
    parser.add_argument("--repeats", type=int, default=3, help="refits of new data of the same shape")
    args = parser.parse_args(argv)
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    first, seconds, cpu = _fit(simulate_conflict(120, random_seed=1), draws=args.draws)
    d = first.diagnostics
    print(f"first fit (build + compile + sample + prior draws): {seconds:.1f} s "
          f"(target {TARGET_SECONDS:.0f} s, ratio {seconds / TARGET_SECONDS:.2f}); compile {d['compile seconds']:.1f} s, "
          f"sampling {d['sampling seconds']:.1f} s, prior {d['prior seconds']:.1f} s; CPU {cpu:.1f} s "
          f"(this process; on an idle 2-core machine the wall time is about this or less)")
    print(f"  mean daily rate: R-hat {d['r_hat']:.4f} (< 1.01: {d['r_hat'] < 1.01}), bulk ESS {d['ess_bulk']:.0f} "
          f"(> 400: {d['ess_bulk'] > 400}), divergences {d['divergences']}, largest daily R-hat "
          f"{d['max r_hat (daily rates)']:.4f}")
    for r in range(args.repeats):
        fit, seconds, cpu = _fit(simulate_conflict(120, random_seed=100 + r), model=first.model, draws=args.draws,
                            seed=100 + r)
        d = fit.diagnostics
        print(f"refit {r + 1} (same compiled model, compilations so far {first.model.compilations}): {seconds:.1f} s, "
              f"CPU {cpu:.1f} s"
              f" (ratio to target {seconds / TARGET_SECONDS:.2f}); R-hat {d['r_hat']:.4f}, ESS {d['ess_bulk']:.0f}, "
              f"divergences {d['divergences']}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
