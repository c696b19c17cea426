"""First fit of the Bayesian log-linear estimators in a fresh process, with an empty and with a filled compile cache.

Every run is a new interpreter whose PyTensor cache (``base_compiledir``, which also holds the Numba cache of the
kernels and of nutpie's entry points) and ``NUMBA_CACHE_DIR`` are a directory of its own: "cold" is that directory
empty, "warm" is the same directory after the cold run. ``loglinear_bayes``: "before" is the same model stated in
PyMC (``build_model``) and compiled for nutpie with the cached entry points of ``estimators._nutpie``, as the
estimator ran until it got its hand-written kernels; "after" is ``loglinear_bayes`` itself. ``loglinear_pooled``:
"before" replaces the cached entry points by nutpie's own (``numba.cfunc`` closures that cannot be cached), as the
code was until issue 19 item 2. Medians over the repeats; CPU is the child's user + sys.

Run ``python benchmarks/bench_bayes_cold.py`` (about 10 minutes on two cores; ``--cases`` reruns some cases and keeps
the stored runs of the others); it writes ``benchmarks/results/loglinear_bayes_cold.md`` and the runs beside it
(``.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "results" / "loglinear_bayes_cold.md"
# conting 1.7 on LCMCR_kosovo (bict, all two-way terms, 10,000 iterations): benchmarks/SPEED.md
CONTING_FIRST_CALL, CONTING_PROCESS = 23.7, 24.1

_CHILD = """
import time
started = time.perf_counter()
import hashlib, json, os, warnings
import numpy as np
import estimators
warnings.simplefilter("ignore")
if os.environ.get("BENCH_NUTPIE_ENTRY_POINTS"):
    import estimators._nutpie
    estimators._nutpie._compile_cached = lambda model, var_names: None  # nutpie's own, uncacheable cfuncs
{prepare}
wall, cpu = time.perf_counter(), time.process_time()
{fit}
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
print(json.dumps({{"fit": wall, "fit_cpu": cpu, "compile": compile_seconds, "sampling": sampling_seconds,
                  "before_fit": time.perf_counter() - started - wall, "estimate": estimate,
                  "digest": hashlib.sha256(np.ascontiguousarray(draws, float).tobytes()).hexdigest()}}))
"""

# The PyMC statement of loglinear_bayes's model, compiled and sampled with the estimator's settings and seeding.
_LOGLINEAR_BAYES_PYMC = """
from estimators._loglinear._bayes import LoglinearBayesModel, build_model, unlisted_draws
from estimators._nutpie import LOW_RANK, compile_pymc_model
import nutpie
spec = LoglinearBayesModel(h.lists)
compile_seconds = time.perf_counter()
compiled = compile_pymc_model(build_model(h.lists, spec.shrunk, spec.fixed),
                              var_names=["main", "pi0", "interaction", "tau", "c2"])
compile_seconds = time.perf_counter() - compile_seconds
n = int(h.n_observed)
compiled = compiled.with_data(counts=h.dense_counts()[1:], global_scale=spec.global_scale(n))
nuts_seed, unlisted_seed = np.random.SeedSequence(1).spawn(2)
sampling_seconds = time.perf_counter()
idata = nutpie.sample(compiled, chains=4, draws=1000, tune=1000, cores=2,
                      seed=int(nuts_seed.generate_state(1, dtype=np.uint32)[0]), progress_bar=False,
                      save_warmup=False, target_accept=0.99, **LOW_RANK)
sampling_seconds = time.perf_counter() - sampling_seconds
pi0 = idata["posterior"]["pi0"].values
draws = (n + unlisted_draws(pi0, n, np.random.default_rng(unlisted_seed))).reshape(-1)
estimate = float(np.median(draws))
"""

# case: (set-up, {variant: the fit}); a fit sets compile_seconds, sampling_seconds, estimate and draws
CASES = {
    "loglinear_bayes": (
        'h = estimators.load_dataset("LCMCR_kosovo", collapse=True)',
        {
            "before": _LOGLINEAR_BAYES_PYMC,
            "after": "fit = estimators.loglinear_bayes(h, random_seed=1)\n"
                     'compile_seconds, sampling_seconds = fit.details["compile seconds"], fit.details["sampling seconds"]\n'
                     "estimate, draws = fit.estimate, fit.draws",
        },
    ),
    # four strata of a three-list table, as tests/loglinear/test_loglinear_pooled.py builds them
    "loglinear_pooled": (
        "from estimators.histories import CaptureHistories, pattern_matrix\n"
        "def table(n, seed):\n"
        "    patterns = pattern_matrix(3).astype(float)\n"
        "    eta = patterns @ np.array([-0.4, -0.6, -0.8]) + 0.5 * patterns[:, 0] * patterns[:, 1]\n"
        "    counts = np.random.default_rng(seed).multinomial(n, np.exp(eta) / np.exp(eta).sum()).astype(float)\n"
        "    counts[0] = 0\n"
        '    return CaptureHistories.from_array(counts, lists=["A", "B", "C"])\n'
        'strata = {f"s{i}": table(400 + 100 * i, i) for i in range(4)}',
        dict.fromkeys(
            ("before", "after"),
            "fit = estimators.loglinear_pooled(strata, random_seed=1)\n"
            "compile_seconds = sampling_seconds = None\n"
            "estimate, draws = float(np.median(fit.total_draws)), fit.total_draws",
        ),
    ),
}


def run(case: str, cache: Path, before: bool) -> dict:
    """One fresh interpreter fitting ``case`` with caches under ``cache``: its report plus process wall and CPU."""
    prepare, fits = CASES[case]
    fit = fits["before" if before else "after"]
    env = dict(os.environ)
    flags = [f for f in env.get("PYTENSOR_FLAGS", "").split(",") if f and not f.startswith("base_compiledir=")]
    env["PYTENSOR_FLAGS"] = ",".join([*flags, f"base_compiledir={cache}"])
    env["NUMBA_CACHE_DIR"] = str(cache / "numba_cache")
    env.pop("BENCH_NUTPIE_ENTRY_POINTS", None)
    if before and case == "loglinear_pooled":
        env["BENCH_NUTPIE_ENTRY_POINTS"] = "1"
    load = os.getloadavg()[0]
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _CHILD.format(prepare=prepare, fit=fit)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=1800)
    process = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    report = json.loads(done.stdout.strip().splitlines()[-1])
    cpu = after.ru_utime - usage.ru_utime + after.ru_stime - usage.ru_stime
    return {**report, "process": process, "process_cpu": cpu, "load": load}


def _stored(out: Path, cases) -> dict:
    """The runs of the other cases kept beside the report (``out`` with suffix .json), so a case can be rerun alone."""
    path = out.with_suffix(".json")
    if not path.exists():
        return {}
    stored = {tuple(key.split("|")): value for key, value in json.loads(path.read_text()).items()}
    return {key: value for key, value in stored.items() if key[0] not in cases}


def measure(cases, repeats: int, out: Path) -> dict:
    """``{(case, variant, cache state): [run, ...]}``; each repeat starts from a new empty cache directory.

    The report (and the runs, as JSON beside it) is rewritten after every run, so an interrupted benchmark leaves
    the repeats it completed; the stored runs of cases not given are kept.
    """
    runs = _stored(out, cases)
    for repeat in range(repeats):
        for case in cases:
            for variant in ("before", "after"):
                with tempfile.TemporaryDirectory(prefix="bench_bayes_cold_") as directory:
                    for state in ("cold", "warm"):
                        result = run(case, Path(directory), before=variant == "before")
                        runs.setdefault((case, variant, state), []).append(result)
                        print(case, variant, state, repeat, {k: v for k, v in result.items() if k != "digest"},
                              flush=True)
                        out.write_text(report(runs))
                        out.with_suffix(".json").write_text(
                            json.dumps({"|".join(key): value for key, value in runs.items()}, indent=1))
    return runs


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _cell(value, digits=1):
    return "-" if value is None else f"{value:.{digits}f}"


def report(runs: dict) -> str:
    """The Markdown table of medians and the draws' agreement."""
    lines = [
        "# First fit in a fresh process: empty and filled compile caches",
        "",
        "Generated by `python benchmarks/bench_bayes_cold.py` (medians over the runs counted in the table, "
        "seconds). Each run is a "
        "new interpreter with its own PyTensor `base_compiledir` and `NUMBA_CACHE_DIR`: *cold* is an empty "
        "directory, *warm* the same directory after the cold run. `loglinear_bayes`: *before* is the same model "
        "stated in PyMC and compiled for nutpie (as the estimator ran until it got hand-written Numba kernels), "
        "*after* the estimator with its kernels. `loglinear_pooled`: *before* uses nutpie's own entry points "
        "(uncacheable `numba.cfunc` closures), *after* the cached entry points of `estimators._nutpie`. CPU = user "
        "+ sys of the child process. `loglinear_bayes`: LCMCR_kosovo collapsed to four lists, `random_seed=1`, "
        "defaults (4 "
        "chains, 1000 + 1000). `loglinear_pooled`: four simulated three-list strata, `random_seed=1`. conting 1.7 "
        f"(bict, 10,000 iterations) on Kosovo: {CONTING_FIRST_CALL} s first call, {CONTING_PROCESS} s whole "
        "process; ratio = conting's time / ours (above 1: we are faster).",
        "",
        "| case | variant | cache | runs | process s | process CPU s | fit s | fit CPU s | compile s | sampling s | "
        "vs conting (fit / process) | load (1 min) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (case, variant, state), results in runs.items():
        process = _median([r["process"] for r in results])
        fit = _median([r["fit"] for r in results])
        ratio = (f"{CONTING_FIRST_CALL / fit:.2f}x / {CONTING_PROCESS / process:.2f}x"
                 if case == "loglinear_bayes" else "-")
        loads = [r["load"] for r in results]
        lines.append(
            f"| {case} | {variant} | {state} | {len(results)} | {_cell(process)} | {_cell(_median([r['process_cpu'] for r in results]))}"
            f" | {_cell(fit)} | {_cell(_median([r['fit_cpu'] for r in results]))}"
            f" | {_cell(_median([r['compile'] for r in results]))} | {_cell(_median([r['sampling'] for r in results]))}"
            f" | {ratio} | {min(loads):.1f}-{max(loads):.1f} |"
        )
    lines += ["", "Same draws (SHA-256 of the draws of N; of the total N for pooled) in every run of a case and "
                  "variant, cold or warm (loglinear_pooled: before and after alike):"]
    for case, variant in dict.fromkeys((case, variant) for case, variant, _ in runs):
        digests = {r["digest"] for (c, v, _), results in runs.items() if c == case and v == variant for r in results}
        if case == "loglinear_pooled" and variant == "after":
            digests |= {r["digest"] for (c, _, _), results in runs.items() if c == case for r in results}
        lines.append(f"- {case}, {variant}: {'yes' if len(digests) == 1 else f'NO ({len(digests)} different)'}")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=sorted(CASES))
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    measure(args.cases, args.repeats, args.out)
    print(args.out.read_text())


if __name__ == "__main__":
    main()
