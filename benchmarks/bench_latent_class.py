"""latent_class on Kosovo: wall time to 1,000 effective draws of N, compilation included, against R's LCMCR.

LCMCR 0.4.14 (shared/reference/README.md): 4 chains x 60,000 iterations gave ESS(N) = 393 in 5.6 s on a 2-core
machine like this one, i.e. about 70 effective draws per second and 14 s for 1,000. Target: at most half of that,
with R-hat of N below 1.01.

Which ESS: the reference's 393 comes with R-hat 1.025 from chains of 60,000, which is what coda's effectiveSize
(per-chain AR spectral ESS, summed; ``estimators.diagnostics.ess_ar_spectrum``) gives on such chains: our sampler on
the same protocol with LCMCR's algorithm (plain Gibbs, the last section) gives R-hat 1.02-1.08 and coda ESS 389-582,
while the rank-normalised bulk ESS of the same draws is 42-256; the same Gibbs sampler in LCMCR cannot mix 2-5x
better per iteration, so the 393 is a coda ESS. So each run is scored three ways: by coda's ESS (like for like with the reference), by bulk ESS and by
the smaller of bulk and tail ESS (stricter readings, which would also lower LCMCR's own figure; R is not installed
here to measure by how much). The last section runs our sampler on LCMCR's own protocol.

Each run is a fresh Python process (interpreter start, imports, numba compilation or cache load, sampling). The time
to 1,000 effective draws is a wall time with its sampling part scaled to ESS 1,000: (wall - sampling) + sampling x
1,000 / ESS, where sampling is the fit's time after compilation. It is measured on two bases:
- fit: the ``latent_class`` call in the fresh process, which includes importing numba and compiling the sampler.
  This appears to be how the reference was timed: 5.6 s for 240,000 iterations (43,000/s) is within the rates
  of LCMCR's timed calls in peers.csv (38,000-114,000 iterations/s; 52,000/s on Kosovo), so it did not include R's
  start-up and ``library(LCMCR)``; this basis likewise leaves out the interpreter's start-up and
  ``import estimators`` (pandas);
- process: the whole child process timed from the parent, start-up, imports and exit included (stricter).
The runs
(4 chains x 245,500 sweeps) give bulk ESS near 1,000 or more on most seeds; shorter runs measure ESS too low,
because a chain's excursions into the lower tail of N (a state where the main class splits in two, lasting up to
~20,000 sweeps) are then seen too few times.
- cold: an empty numba cache directory (NUMBA_CACHE_DIR), so the sampler is compiled from scratch (each seed);
- warm: a cache written beforehand, as every later call on the machine sees it (each seed);
- one thread: chains one after another;
- plain Gibbs: ``overrelaxation=0`` (LCMCR's algorithm), warm, on the same seeds: what the default overrelaxed
  beta updates buy.

With ``--nuts``, also the alternative the issue names: the class- and N-marginalised likelihood sampled by NUTS
(PyMC model compiled by nutpie; 4 chains x 1,000 draws after 1,000 tuning steps), N - n drawn afterwards from
its negative binomial given p0; cold (empty pytensor and numba caches) and warm.

With ``--cold`` (and nothing else), the figure issue 19 asks for: effective draws of N per second of the
``latent_class`` call, numba import and compilation included, for the default call and for LCMCR's fixed run, each in
``--repeats`` fresh processes with an empty numba cache (cold) and as many with the cache written beforehand (warm);
medians, with the processes' CPU time and the load average, written to ``benchmarks/results/latent_class_cold.md``.
The seed is the same in every process, so the draws (and the ESS) are the same and only the times vary.

Run: python benchmarks/bench_latent_class.py [--draws 6000] [--thin 40] [--burn 5000] [--seeds 1 2 3 4] [--nuts]
     python benchmarks/bench_latent_class.py --cold [--repeats 3] [--output benchmarks/results/latent_class_cold.md]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OVERRELAXATION = -0.98  # latent_class's default; 0 is the plain Gibbs sampler LCMCR runs
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
    fit = estimators.latent_class(h, K=10, chains=4, draws={draws}, burn={burn}, thin={thin}, random_seed={seed},
                                  n_jobs={n_jobs}, overrelaxation={overrelaxation}, max_sweeps=None)
done = time.perf_counter()
from estimators.diagnostics import ess_ar_spectrum
print(json.dumps(dict(import_seconds=imported - started, fit_seconds=done - imported,
                      ess_coda=ess_ar_spectrum(fit.details["draws by chain"]),
                      compile_seconds=fit.details["seconds compiling"],
                      sampling_seconds=fit.details["seconds"] - fit.details["seconds compiling"],
                      r_hat=fit.diagnostics["r_hat"],
                      ess_bulk=fit.diagnostics["ess_bulk"], ess_tail=fit.diagnostics["ess_tail"],
                      median=fit.estimate, interval=fit.interval)))
"""


NUTS_CHILD = """
import json, time, warnings
started = time.perf_counter()
import numpy as np, pymc as pm, pytensor.tensor as pt, nutpie
import estimators
from estimators.diagnostics import chain_diagnostics
h = estimators.load_dataset("LCMCR_kosovo")
x = np.asarray(h.patterns, dtype=float)
f = np.asarray(h.counts, dtype=float)
n = int(f.sum())
K = 10
with pm.Model() as model:
    alpha = pm.Gamma("alpha", alpha=0.25, beta=0.25)
    v = pm.Beta("v", 1.0, alpha, shape=K - 1)
    log_nu = pt.concatenate([pt.log(v), pt.zeros(1)]) + pt.concatenate([pt.zeros(1), pt.cumsum(pt.log1p(-v))])
    lam = pm.Beta("lam", 1.0, 1.0, shape=(x.shape[1], K))
    log_cell = log_nu[None, :] + pt.dot(x, pt.log(lam)) + pt.dot(1.0 - x, pt.log1p(-lam))
    log_pi = pm.math.logsumexp(log_cell, axis=1, keepdims=False)
    log_p0 = pm.math.logsumexp(log_nu + pt.log1p(-lam).sum(axis=0), keepdims=False)
    pm.Potential("likelihood", pt.sum(f * log_pi) - n * pt.log1mexp(log_p0))
    pm.Deterministic("p0", pt.exp(log_p0))
imported = time.perf_counter()
compiled = nutpie.compile_pymc_model(model)
compiled_at = time.perf_counter()
idata = nutpie.sample(compiled, chains=4, draws=1000, tune=1000, seed=1, cores=2, progress_bar=False)
sampled = time.perf_counter()
p0 = idata["posterior"]["p0"].values
rng = np.random.default_rng(2)
total = n + rng.negative_binomial(n, 1.0 - p0)
diag = chain_diagnostics(total, int(np.asarray(idata["sample_stats"]["diverging"]).sum()))
print(json.dumps(dict(import_seconds=imported - started, compile_seconds=compiled_at - imported,
                      sampling_seconds=sampled - compiled_at, r_hat=diag["r_hat"], ess_bulk=diag["ess_bulk"],
                      ess_tail=diag["ess_tail"], divergences=diag["divergences"], median=float(np.median(total)),
                      interval=np.quantile(total, [0.025, 0.975]).tolist(), cpu=time.process_time())))
"""


# The two calls of issue 19: the default (run extended until R-hat and ESS of N pass) and LCMCR's fixed protocol.
COLD_CALLS = {
    "default": "latent_class(h, random_seed=1)",
    "LCMCR's fixed run": (
        "latent_class(h, K=10, chains=4, draws=5000, burn=10000, thin=10, random_seed=1, max_sweeps=None)"),
}

COLD_CHILD = """
import json, resource, time, warnings
import estimators
from estimators import latent_class
from estimators.diagnostics import ess_ar_spectrum
h = estimators.load_dataset("LCMCR_kosovo", collapse=True)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    fit = {call}
    fit_seconds = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps(dict(fit_seconds=fit_seconds, compile_seconds=fit.details["seconds compiling"],
                      fit_cpu=usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime,
                      ess_bulk=fit.diagnostics["ess_bulk"], ess_tail=fit.diagnostics["ess_tail"],
                      ess_coda=ess_ar_spectrum(fit.details["draws by chain"]), r_hat=fit.diagnostics["r_hat"],
                      sweeps=fit.details["sweeps per chain"], cpu=usage.ru_utime + usage.ru_stime,
                      first_draws=fit.draws[:3].tolist())))
"""


def run_child(cache_dir: str, code: str = CHILD, **settings) -> dict:
    if code is CHILD:
        settings.setdefault("overrelaxation", OVERRELAXATION)
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir, PYTENSOR_FLAGS=f"compiledir={cache_dir}/pytensor")
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code.format(**settings) if settings else code], env=env, capture_output=True,
        text=True, check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["wall"] = time.perf_counter() - started
    return result


def report(label: str, result: dict) -> dict:
    """Print one run; return its time to 1,000 effective draws as a multiple of LCMCR's, by each ESS estimator, on
    the fit basis (keys "coda", "bulk", "min") and the whole-process basis ("process coda", ...).

    "coda": R's coda::effectiveSize (``estimators.diagnostics.ess_ar_spectrum``), the per-chain AR-spectral ESS
    that R users, LCMCR's included, report; on LCMCR's own protocol our chains give R-hat and this ESS close to
    the reference's 1.025 and 393, while the rank-normalised bulk ESS of the same draws is 2-5x lower, so coda's
    is the like-for-like comparison with the reference. "bulk": the rank-normalised multi-chain ESS (Vehtari et
    al. 2021), which also sees disagreement between chains: the stricter reading. "min": the smaller of bulk and
    tail ESS, stricter still.
    """
    sampling = result["sampling_seconds"]

    ess = {"coda": result["ess_coda"], "bulk": result["ess_bulk"], "min": min(result["ess_bulk"], result["ess_tail"])}
    ratios = {}
    for basis, wall in (("", result["fit_seconds"]), ("process ", result["wall"])):
        for kind, value in ess.items():
            ratios[basis + kind] = (wall - sampling + sampling * 1000 / value) / LCMCR_SECONDS_PER_1000
    print(
        f"{label:<34} process {result['wall']:5.2f} s (imports {result['import_seconds']:4.2f}, fit "
        f"{result['fit_seconds']:4.2f}: compile/load {result['compile_seconds']:4.2f}, sampling {sampling:4.2f})  "
        f"ESS coda/bulk/tail {result['ess_coda']:4.0f}/{result['ess_bulk']:4.0f}/{result['ess_tail']:4.0f}  "
        f"R-hat {result['r_hat']:.4f}\n"
        f"{'':<34} time to 1,000 ESS / LCMCR's {LCMCR_SECONDS_PER_1000:.1f} s (target <= 0.50), fit basis: "
        + ", ".join(f"{kind} {ratios[kind]:.2f}" for kind in ess)
        + "; process basis: " + ", ".join(f"{kind} {ratios['process ' + kind]:.2f}" for kind in ess)
        + f"   median {result['median']:.0f} [{result['interval'][0]:.0f}, {result['interval'][1]:.0f}]"
    )
    return ratios


def lcmcr_protocol(seeds) -> None:
    """Our sampler on the reference run's own protocol: 4 chains x 60,000 sweeps (10,000 burn-in, thinning 10).

    LCMCR gave ESS 393 (R-hat 1.025) in 5.6 s. Plain Gibbs (overrelaxation 0) is LCMCR's own algorithm: the same
    ESS estimator on its draws, next to the bulk ESS of those draws, shows which estimator the reference used and
    how far the two differ on chains this short. The default sampler follows.
    """
    print("\nLCMCR's protocol, cold cache, 2 threads: 4 chains x (10,000 + 5,000 x 10) sweeps; "
          "LCMCR: ESS 393 in 5.6 s, R-hat 1.025")
    for label, overrelaxation in (("plain Gibbs, as LCMCR", 0.0), (f"overrelaxation {OVERRELAXATION}", OVERRELAXATION)):
        for seed in seeds:
            with tempfile.TemporaryDirectory() as cache:
                r = run_child(cache, n_jobs=2, seed=seed, draws=5000, burn=10000 - 500, thin=10,
                              overrelaxation=overrelaxation)
            print(f"  {label}, seed {seed}: process {r['wall']:5.2f} s, fit {r['fit_seconds']:4.2f} s (sampling "
                  f"{r['sampling_seconds']:4.2f} s)  ESS coda {r['ess_coda']:4.0f} "
                  f"({r['ess_coda'] / r['fit_seconds']:4.0f}/s of fit; LCMCR {LCMCR_ESS_PER_SECOND:.0f}/s)"
                  f"  bulk {r['ess_bulk']:4.0f}  tail {r['ess_tail']:4.0f}  R-hat {r['r_hat']:.4f}")


def cold_and_warm(repeats: int, output: Path) -> None:
    """Effective draws of N per second of the call, compilation included, cold and warm; table to ``output``."""
    rows, loads = [], [os.getloadavg()[0]]
    for name, call in COLD_CALLS.items():
        runs = {"cold": [], "warm": []}
        for _ in range(repeats):
            with tempfile.TemporaryDirectory() as cache:
                runs["cold"].append(run_child(cache, COLD_CHILD, call=call))
        with tempfile.TemporaryDirectory() as cache:
            run_child(cache, COLD_CHILD, call=call)  # writes the cache
            runs["warm"] = [run_child(cache, COLD_CHILD, call=call) for _ in range(repeats)]
        loads.append(os.getloadavg()[0])
        for kind, results in runs.items():
            fit = statistics.median(r["fit_seconds"] for r in results)
            bulk, coda = results[0]["ess_bulk"], results[0]["ess_coda"]
            rows.append(dict(
                call=name, kind=kind, fit=fit, compile=statistics.median(r["compile_seconds"] for r in results),
                process=statistics.median(r["wall"] for r in results),
                cpu=statistics.median(r["cpu"] for r in results),
                fit_cpu=statistics.median(r["fit_cpu"] for r in results),
                bulk=bulk, coda=coda, r_hat=results[0]["r_hat"], sweeps=results[0]["sweeps"],
                per_second=bulk / fit, ratio=bulk / fit / LCMCR_ESS_PER_SECOND,
                coda_ratio=coda / fit / LCMCR_ESS_PER_SECOND,
                fits=[r["fit_seconds"] for r in results],
                same_draws=len({json.dumps(r["first_draws"]) for r in results}) == 1,
            ))
            print(f"{name:<18} {kind}: fit {fit:5.2f} s (compile/load {rows[-1]['compile']:4.2f}), fit CPU "
                  f"{rows[-1]['fit_cpu']:5.2f} s, bulk ESS {bulk:5.0f} -> {bulk / fit:5.1f}/s = "
                  f"{rows[-1]['ratio']:.2f}x LCMCR")
    lines = [
        "# latent_class on Kosovo: effective draws of N per second, compilation included",
        "",
        f"Generated by `python benchmarks/bench_latent_class.py --cold --repeats {repeats}` on {os.cpu_count()} cores,",
        f"load average {min(loads):.1f}-{max(loads):.1f} (1 minute, sampled between the calls).",
        "",
        "Each run is a fresh process; its time is the `latent_class` call's (numba import and compilation or cache",
        "load included, interpreter start-up and `import estimators` left out, as for LCMCR's timed call). Cold: an",
        "empty numba cache (`NUMBA_CACHE_DIR`); warm: the cache written by an earlier process. Medians of "
        f"{repeats} processes;",
        "same seed in each, so the draws and the ESS are the same and only the times vary.",
        f"LCMCR: {LCMCR_ESS_PER_SECOND:.1f} effective draws of N per second (ESS 393 in 5.6 s, the reference run of",
        "this file's docstring). Per second: bulk ESS of N / median fit time (coda: coda's ESS). The wall times",
        "stretch with the machine's load; the fit's CPU time (all threads) much less, and LCMCR runs its chains one",
        "after another on one thread (CPU time about its wall time): per CPU second is the load-robust comparison.",
        "",
        "| call | cache | fit s (compile or load) | fits s | fit CPU s | process CPU s | sweeps/chain | bulk ESS "
        "| coda ESS | R-hat | bulk ESS/s | x LCMCR | x LCMCR (coda) | bulk ESS per fit CPU s | x LCMCR |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['call']} | {r['kind']} | {r['fit']:.2f} ({r['compile']:.2f}) | "
            f"{', '.join(f'{x:.2f}' for x in r['fits'])} | {r['fit_cpu']:.2f} | {r['cpu']:.2f} | {r['sweeps']:,} | "
            f"{r['bulk']:.0f} | {r['coda']:.0f} | {r['r_hat']:.4f} | {r['per_second']:.1f} | {r['ratio']:.2f} | "
            f"{r['coda_ratio']:.2f} | {r['bulk'] / r['fit_cpu']:.1f} | "
            f"{r['bulk'] / r['fit_cpu'] / LCMCR_ESS_PER_SECOND:.2f} |"
        )
    if not all(r["same_draws"] for r in rows):
        lines += ["", "**The processes of one call gave different draws: the ESS column is that of the first.**"]
    output.write_text("\n".join(lines) + "\n")
    print(f"written to {output}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true",
                        help="only effective draws per second, cold and warm cache, default call and LCMCR's run")
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes per call and cache state (--cold)")
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "results" / "latent_class_cold.md")
    parser.add_argument("--draws", type=int, default=6000, help="draws kept per chain (4 chains)")
    parser.add_argument("--thin", type=int, default=40)
    parser.add_argument("--burn", type=int, default=5000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4],
                        help="random seeds of the cold and warm runs")
    parser.add_argument("--nuts", action="store_true", help="also time NUTS on the marginalised likelihood")
    args = parser.parse_args()
    if args.cold:
        cold_and_warm(args.repeats, args.output)
        return
    settings = dict(draws=args.draws, burn=args.burn, thin=args.thin)
    print(f"latent_class, Kosovo (4 lists, n = 4,400), K = 10, 4 chains x ({args.burn} + {args.draws} x {args.thin})"
          f" sweeps; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"LCMCR 0.4.14 reference: {LCMCR_ESS_PER_SECOND:.0f} effective draws of N per second, "
          f"{LCMCR_SECONDS_PER_1000:.1f} s per 1,000\n")
    ratios = {}
    # ESS of N varies about twofold between seeds (rare excursions into the lower tail), so every kind of run is
    # repeated over seeds; a cold run gets its own empty cache each time.
    for seed in args.seeds:
        with tempfile.TemporaryDirectory() as cache:
            result = run_child(cache, n_jobs=2, seed=seed, **settings)
            ratios.setdefault("cold cache, 2 threads", []).append(report(f"cold cache, 2 threads, seed {seed}", result))
    with tempfile.TemporaryDirectory() as cache:
        run_child(cache, n_jobs=2, seed=0, draws=10, burn=10, thin=1)  # writes the cache
        for n_jobs, seeds in ((2, args.seeds), (1, args.seeds[:1])):
            label = f"warm cache, {n_jobs} thread{'s' if n_jobs > 1 else ''}"
            for seed in seeds:
                result = run_child(cache, n_jobs=n_jobs, seed=seed, **settings)
                ratios.setdefault(label, []).append(report(f"{label}, seed {seed}", result))
        # What the overrelaxed updates buy: the plain Gibbs sampler on the same seeds and run length.
        label = "warm cache, 2 threads, plain Gibbs"
        for seed in args.seeds:
            result = run_child(cache, n_jobs=2, seed=seed, overrelaxation=0.0, **settings)
            ratios.setdefault(label, []).append(report(f"plain Gibbs, warm, seed {seed}", result))
    print("\nTime to 1,000 effective draws of N as a multiple of LCMCR's (mean; range over seeds):")
    for label, runs in ratios.items():
        for basis in ("", "process "):
            parts = []
            for kind in ("coda", "bulk", "min"):
                values = [run[basis + kind] for run in runs]
                spread = f" ({min(values):.2f}-{max(values):.2f})" if len(values) > 1 else ""
                parts.append(f"{kind} ESS {sum(values) / len(values):.2f}{spread}")
            print(f"  {label:<35} {(basis or 'fit ') + 'basis':<14} " + "; ".join(parts))
    lcmcr_protocol(args.seeds)
    if args.nuts:
        print("\nNUTS (nutpie) on the class- and N-marginalised likelihood, K = 10, 4 chains x (1,000 + 1,000)")
        with tempfile.TemporaryDirectory() as cache:
            for label in ("cold caches", "warm caches"):
                result = run_child(cache, NUTS_CHILD)
                ess = result["ess_bulk"]
                fixed = result["wall"] - result["sampling_seconds"]
                to_1000 = fixed + result["sampling_seconds"] * 1000 / ess
                print(
                    f"{label:<28} wall {result['wall']:6.2f} s (compile {result['compile_seconds']:5.2f} s, "
                    f"sampling {result['sampling_seconds']:5.2f} s)  ESS bulk/tail {ess:5.0f}/{result['ess_tail']:5.0f}"
                    f"  R-hat {result['r_hat']:.4f}  divergences {result['divergences']}\n"
                    f"{'':<28} time to 1,000 ESS {to_1000:5.2f} s = {to_1000 / LCMCR_SECONDS_PER_1000:.2f} x LCMCR's"
                    f"   median {result['median']:.0f} [{result['interval'][0]:.0f}, {result['interval'][1]:.0f}]"
                )


if __name__ == "__main__":
    main()
