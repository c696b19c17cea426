"""latent_class with its defaults at real sizes: R-hat, bulk ESS and CPU time of N, before and after a change.

Issue 17 item 3 asks for R-hat < 1.01 and bulk ESS >= 400 for N with the defaults on 3-list tables of 1,000-30,000
records and on 10-15 lists, or a run that extends itself within a stated budget and says so. This script fits
``latent_class`` with its defaults (``random_seed`` only) on simulated tables:

- 3 lists, heterogeneous (70% of people with capture probabilities 0.08/0.12/0.10, 30% with 0.45/0.55/0.40,
  independent within class; the case the latent-class model is for), about 1,000, 5,000 and 30,000 records;
- 10 and 15 lists, the same two-class design with capture probabilities drawn once, 0.02-0.10 and 0.15-0.40 per
  list, about 5,000 and 30,000 records.

Each fit runs in a fresh process with the code of one version of the package: "after" is this checkout, "before"
the package at ``--before`` (extracted with ``git archive``). CPU seconds are ``time.process_time`` of the fit in
that process (both chain threads, compilation or cache load included); the load average is printed beside. On the
many-list tables the old defaults (4 chains x 110,500 sweeps) take 5-20 CPU minutes each, so with ``--before-rate``
(the default) those rows are timed on a short run and their CPU time projected from the sweep rate; their R-hat
and ESS are then not measured.

With ``--exactness``, it instead checks that the two versions sample the same posterior: one long fixed run of
each (K = 10, 4 chains x 4,000 draws thinned by 50 after 10,000 sweeps of burn-in) on the Kosovo table, and
the mean, sd and quantiles of N side by side, with the difference of the means in units of its Monte Carlo
standard error (each mean's MCSE from its bulk ESS). It appends that section to the report.

Run: python benchmarks/bench_latent_class_mixing.py [--before COMMIT] [--seeds 1 2] [--tables het3_1k ...]
     [--full-before] [--out benchmarks/results/latent_class_mixing.md]
     python benchmarks/bench_latent_class_mixing.py --exactness [--seeds 1 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "c58eb8a"  # the last commit before the adaptive run (the code issue 17 measured)
# table name: (lists, population size N, seed); records listed are about 45% (3 lists) to 72% (15 lists) of N
TABLES = {
    "het3_1k": (3, 2_200, 1), "het3_5k": (3, 11_000, 2), "het3_30k": (3, 66_000, 3),
    "het10_5k": (10, 8_500, 4), "het10_30k": (10, 50_000, 5),
    "het15_5k": (15, 7_000, 6), "het15_30k": (15, 42_000, 7),
}
KOSOVO = (4, 0, 0)  # the shipped LCMCR_kosovo table (seed 0 selects it), for --exactness
EXACTNESS = dict(K=10, chains=4, draws=4_000, burn=10_000, thin=50)
LCMCR_DEFAULT_SWEEPS = 500 + 10_000 + 1_000 * 100  # per chain, the old defaults

CHILD = r"""
import json, sys, time, warnings
sys.path.insert(0, {code!r})
import numpy as np
import estimators
from estimators import simulate
from estimators.diagnostics import chain_diagnostics
lists, size, table_seed = {table}
if lists == 3:
    weights, capture = (0.7, 0.3), [[0.08, 0.12, 0.10], [0.45, 0.55, 0.40]]
else:
    rng = np.random.default_rng(100 + lists)
    weights, capture = (0.7, 0.3), np.vstack([rng.uniform(0.02, 0.10, lists), rng.uniform(0.15, 0.40, lists)])
if table_seed == 0:
    h = estimators.load_dataset("LCMCR_kosovo")
else:
    h = simulate.latent_class_lists(size, weights, capture, random_seed=table_seed).histories
settings = {settings}
cpu = time.process_time()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    fit = estimators.latent_class(h, random_seed={seed}, **settings)
cpu = time.process_time() - cpu
d = fit.details
print(json.dumps(dict(
    records=int(h.n_observed), cells=int(h.collapse().counts.size), truth=size, cpu=cpu,
    r_hat=fit.diagnostics["r_hat"], ess_bulk=fit.diagnostics["ess_bulk"], ess_tail=fit.diagnostics["ess_tail"],
    median=fit.estimate, interval=list(fit.interval), chains=d["chains"],
    sweeps=d["iterations per chain"], extensions=d.get("extensions"), stopped=d.get("stopped"),
    chain_cpu=sum(d["cpu seconds per chain"]),
    warnings=len(caught), code=estimators.__file__, mean=float(np.mean(fit.draws)), sd=float(np.std(fit.draws)),
    quantiles=np.quantile(fit.draws, [0.025, 0.25, 0.5, 0.75, 0.975]).tolist())))
"""


def run_child(code_dir: str, table: str, seed: int, settings: dict) -> dict:
    source = CHILD.format(code=code_dir, table=KOSOVO if table == "kosovo" else TABLES[table], seed=seed,
                          settings=settings)
    out = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=code_dir))
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if not result["code"].startswith(code_dir):
        raise RuntimeError(f"child imported {result['code']}, not the code under {code_dir}")
    return result


def load() -> str:
    return os.getloadavg()[0].__format__(".1f")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=BEFORE, help="commit of the 'before' code (default %(default)s)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--tables", nargs="+", default=list(TABLES), choices=list(TABLES))
    parser.add_argument("--full-before", action="store_true",
                        help="run the old defaults in full on the 10- and 15-list tables too (5-20 CPU min each)")
    parser.add_argument("--skip-before", action="store_true")
    parser.add_argument("--exactness", action="store_true", help="compare the posteriors of the two versions")
    parser.add_argument("--rows", help="write the report from the JSON rows a run printed (a saved log), no fits")
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/latent_class_mixing.md"))
    args = parser.parse_args(argv)

    if args.exactness:
        exactness(args, Path(args.out))
        return
    if args.rows:
        rows = [json.loads(line) for line in Path(args.rows).read_text().splitlines() if line.startswith("{")]
        write_report(rows, args, Path(args.out))
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        versions = [("after", str(ROOT))]
        if not args.skip_before:
            subprocess.run(f"git -C {ROOT} archive {args.before} estimators | tar -x -C {tmp}", shell=True,
                           check=True)
            versions.insert(0, (f"before ({args.before})", tmp))
        for _, code_dir in versions:  # numba compiles once per version here, so no timed fit includes it
            run_child(code_dir, "het3_1k", 0, dict(chains=1, draws=10, burn=0, thin=1))
        for table in args.tables:
            for seed in args.seeds:
                for version, code_dir in versions:
                    rate_only = version.startswith("before") and TABLES[table][0] > 3 and not args.full_before
                    # a short fixed run on one thread: its sweep rate projects the old defaults' CPU time
                    settings = dict(draws=20, burn=0, thin=100, n_jobs=1) if rate_only else {}
                    started = time.perf_counter()
                    result = run_child(code_dir, table, seed, settings)
                    result.update(table=table, seed=seed, version=version, load=load(), rate_only=rate_only,
                                  wall=time.perf_counter() - started)
                    if rate_only:
                        # sampling time only: the short run's compilation (or cache load) would be scaled up too
                        result["cpu"] = result["chain_cpu"] * LCMCR_DEFAULT_SWEEPS / result["sweeps"]
                    rows.append(result)
                    print(json.dumps(result), flush=True)
    write_report(rows, args, Path(args.out))


def write_report(rows: list[dict], args, out: Path) -> None:
    seeds = sorted({r["seed"] for r in rows})
    tables = list(dict.fromkeys(r["table"] for r in rows))
    options = f"--seeds {' '.join(map(str, seeds))}"
    if tables != list(TABLES):
        options += f" --tables {' '.join(tables)}"
    if args.full_before:
        options += " --full-before"
    lines = [
        "# latent_class mixing at real sizes (issue 17, item 3)",
        "",
        f"Generated by `python benchmarks/bench_latent_class_mixing.py {options}`"
        f" (report written {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}); before = the package at `{args.before}`"
        " (defaults: 4 chains x (500 + 10,000 + 1,000 x 100) sweeps), after = this checkout (defaults: the"
        " adaptive run). The tables and the measure are described in the script's docstring. CPU s is the fit's"
        " `time.process_time` (2 chain threads), with the 1-minute load average of the shared 2-core machine when"
        " the fit ended; ESS/s = bulk ESS per CPU second. Rows marked * are projected from a short run's sweep rate"
        " (R-hat and ESS not measured).",
        "",
        "| table | records | cells | seed | code | R-hat | bulk ESS | tail ESS | sweeps/chain | extensions | CPU s |"
        " ESS/s | load | median [95%] (truth) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r["rate_only"]:
            diag = "– | – | – | " + f"{LCMCR_DEFAULT_SWEEPS:,}* | – | {r['cpu']:,.0f}* | – "
            estimate = "–"
        else:
            ext = "–" if r["extensions"] is None else f"{r['extensions']} ({r['stopped']})"
            diag = (f"{r['r_hat']:.3f} | {r['ess_bulk']:,.0f} | {r['ess_tail']:,.0f} | {r['sweeps']:,} | {ext} | "
                    f"{r['cpu']:,.1f} | {r['ess_bulk'] / r['cpu']:,.1f} ")
            estimate = f"{r['median']:,.0f} [{r['interval'][0]:,.0f}, {r['interval'][1]:,.0f}] ({r['truth']:,})"
        lines.append(f"| {r['table']} | {r['records']:,} | {r['cells']:,} | {r['seed']} | {r['version']} | {diag}|"
                     f" {r['load']} | {estimate} |")
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")


def exactness(args, out: Path) -> None:
    lines = [
        "",
        "## Same posterior before and after",
        "",
        f"`python benchmarks/bench_latent_class_mixing.py --exactness --seeds {' '.join(map(str, args.seeds))}`:"
        f" LCMCR_kosovo, {EXACTNESS}, fixed length, each version in a fresh process. z = difference of the means"
        " over the Monte Carlo s.e. of that difference (each mean's MCSE = sd / sqrt(bulk ESS)).",
        "",
        "| seed | code | mean | sd | 2.5% | 25% | 50% | 75% | 97.5% | R-hat | bulk ESS | z |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(f"git -C {ROOT} archive {args.before} estimators | tar -x -C {tmp}", shell=True, check=True)
        for seed in args.seeds:
            before = run_child(tmp, "kosovo", seed, EXACTNESS)
            after = run_child(str(ROOT), "kosovo", seed, {**EXACTNESS, "max_sweeps": None})
            se = (before["sd"] ** 2 / before["ess_bulk"] + after["sd"] ** 2 / after["ess_bulk"]) ** 0.5
            z = (after["mean"] - before["mean"]) / se
            for label, r, shown in ((f"before ({args.before})", before, ""), ("after", after, f"{z:+.2f}")):
                q = " | ".join(f"{v:,.0f}" for v in r["quantiles"])
                lines.append(f"| {seed} | {label} | {r['mean']:,.0f} | {r['sd']:,.0f} | {q} | {r['r_hat']:.4f} |"
                             f" {r['ess_bulk']:,.0f} | {shown} |")
            print(lines[-2], lines[-1], sep="\n", flush=True)
    with out.open("a") as handle:
        handle.write("\n".join(lines) + "\n")
    print(f"appended to {out}")


if __name__ == "__main__":
    main()
