"""latent_class on Kosovo: wall time to 1,000 effective draws of N, compilation included, against R's LCMCR.

LCMCR 0.4.14 (shared/reference/README.md): 4 chains x 60,000 iterations gave ESS(N) = 393 in 5.6 s on a 2-core
machine like this one, i.e. about 70 effective draws per second and 14 s for 1,000. Target: at most half of that,
with R-hat of N below 1.01.

Each timing runs in a fresh Python process (interpreter start, imports, numba compilation or cache load, sampling),
measured from the parent:
- cold: an empty numba cache directory (NUMBA_CACHE_DIR), so the sampler is compiled from scratch;
- warm: the cache the cold run just wrote, as every later call on the machine sees it.
Then, in one process with the sampler loaded, chains in 2 threads against chains one after another.

Run: python benchmarks/bench_latent_class.py [--draws 2000] [--thin 40]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

LCMCR_ESS_PER_SECOND = 393 / 5.6
LCMCR_SECONDS_PER_1000 = 1000 / LCMCR_ESS_PER_SECOND

CHILD = """
import json, sys, time, warnings
started = time.perf_counter()
import estimators
h = estimators.load_dataset("LCMCR_kosovo")
imported = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    fit = estimators.latent_class(h, K=10, chains=4, draws={draws}, burn={burn}, thin={thin}, random_seed=1,
                                  n_jobs={n_jobs})
done = time.perf_counter()
print(json.dumps(dict(import_seconds=imported - started, fit_seconds=done - imported,
                      chain_seconds=fit.details["seconds per chain"], r_hat=fit.diagnostics["r_hat"],
                      ess_bulk=fit.diagnostics["ess_bulk"], ess_tail=fit.diagnostics["ess_tail"],
                      median=fit.estimate, interval=fit.interval, cpu=time.process_time())))
"""


def run_child(cache_dir: str, **settings) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", CHILD.format(**settings)], env=env, capture_output=True, text=True, check=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["wall"] = time.perf_counter() - started
    return result


def report(label: str, result: dict) -> None:
    ess = result["ess_bulk"]
    # Sampling time is the part that scales with the number of draws; the rest (start-up, imports, compilation)
    # is paid once, so the time to 1,000 effective draws is that fixed part plus sampling scaled to ESS 1,000.
    sampling = max(result["chain_seconds"]) if result["n_jobs"] > 1 else sum(result["chain_seconds"])
    fixed = result["wall"] - sampling
    to_1000 = fixed + sampling * 1000 / ess
    print(
        f"{label:<28} wall {result['wall']:6.2f} s (fixed {fixed:5.2f} s, sampling {sampling:5.2f} s, "
        f"cpu {result['cpu']:5.2f} s)  ESS bulk/tail {ess:5.0f}/{result['ess_tail']:5.0f}  "
        f"R-hat {result['r_hat']:.4f}  ESS/s {ess / result['wall']:6.1f} (sampling only {ess / sampling:6.1f})\n"
        f"{'':<28} time to 1,000 ESS {to_1000:5.2f} s = {to_1000 / LCMCR_SECONDS_PER_1000:.2f} x LCMCR's "
        f"{LCMCR_SECONDS_PER_1000:.1f} s  (target <= 0.50)   median {result['median']:.0f} "
        f"[{result['interval'][0]:.0f}, {result['interval'][1]:.0f}]"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=2000, help="draws kept per chain (4 chains)")
    parser.add_argument("--thin", type=int, default=40)
    parser.add_argument("--burn", type=int, default=5000)
    args = parser.parse_args()
    settings = dict(draws=args.draws, burn=args.burn, thin=args.thin)
    print(f"latent_class, Kosovo (4 lists, n = 4,400), K = 10, 4 chains x ({args.burn} + {args.draws} x {args.thin})"
          f" sweeps; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"LCMCR 0.4.14 reference: {LCMCR_ESS_PER_SECOND:.0f} effective draws of N per second, "
          f"{LCMCR_SECONDS_PER_1000:.1f} s per 1,000\n")
    with tempfile.TemporaryDirectory() as cache:
        for label, n_jobs in (("cold cache, 2 threads", 2), ("warm cache, 2 threads", 2), ("warm cache, 1 thread", 1)):
            result = run_child(cache, n_jobs=n_jobs, **settings)
            result["n_jobs"] = n_jobs
            report(label, result)


if __name__ == "__main__":
    main()
