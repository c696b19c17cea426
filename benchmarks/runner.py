"""Run every method on every simulated replicate of a suite, in parallel, resumably, one CSV row per result.

    python -m benchmarks run --suite quick|standard|full [--methods m1,m2] [--jobs N] [--scheduler ADDRESS]
                             [--out benchmarks/results/standard.csv] [--replicates R]
    python -m benchmarks report benchmarks/results/standard.csv [--out benchmarks/RESULTS.md]
    python -m benchmarks standard [--jobs 2]      # the standard suite, then benchmarks/RESULTS.md
    python -m benchmarks real-data                # benchmarks/REAL_DATA.md
    python -m benchmarks speed                    # benchmarks/SPEED.md
    python -m benchmarks methods | scenarios [--suite S]

Each (scenario, replicate) is one job: the table is simulated from the replicate's seed (fixed by the scenario
name, the replicate number and the base seed, so a rerun draws the same tables) and every pending method is run
on it. Rows are appended to the results file as jobs finish; a rerun with the same file skips every
(scenario, replicate, method) already there, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .methods import REGISTRY, availability, run_method

HERE = Path(__file__).resolve().parent
BASE_SEED = 20261125
COLUMNS = (
    "scenario", "replicate", "seed", "method", "truth", "n_observed", "k", "estimate",
    "lower_80", "upper_80", "lower_95", "upper_95", "seconds", "warnings", "failure",
)
SUITE_REPLICATES = {"quick": 4, "standard": 200, "full": 500}
# the quick suite is the smoke test of the default test run: fast closed-form or single-fit methods only
SUITE_METHODS = {
    "quick": ("chapman", "loglinear_bic", "chao", "zelterman", "mth_darroch", "sample_coverage", "graphical_bma"),
    "standard": (
        "chapman", "loglinear_aic", "loglinear_bic", "loglinear_average", "loglinear_stepwise", "bootstrap", "chao",
        "zelterman", "mth_darroch", "mth_poisson2", "sample_coverage", "graphical_bma", "latent_class", "estimate",
    ),
    "full": tuple(REGISTRY),
}
# To keep the standard suite under 30 minutes on 2 cores, the costliest methods run on a subset of its scenarios
# (every scenario in the full suite): the exhaustive 5-list AIC/BIC searches (6,893 models, ~4 s a table) skip the
# 5-list design, where the stepwise search stands for them, and the bootstrap (99 stepwise searches, ~2 s a table)
# runs on the two scenarios of Chan, Silverman & Vincent's kind: sparse lists and a table resampled from a real fit.
# loglinear_average, the primary of estimators.estimate, runs everywhere: 1.3-1.8 s a 5-list table (measured
# 2026-12-06 on 2 shared cores at load 10), 0.01-0.1 s on 3 and 4 lists.
_FOUR_LISTS = ("independent_k4", "positive_dependence", "negative_dependence", "referral", "sparse_no_overlap",
               "low_capture", "resampled_LCMCR_kosovo", "resampled_CARE1_HAV", "heterogeneity_k4")
SUITE_LIMITS = {
    "standard": {
        "loglinear_aic": _FOUR_LISTS,
        "loglinear_bic": _FOUR_LISTS,
        "bootstrap": ("sparse_no_overlap", "resampled_LCMCR_kosovo"),
    },
}


@dataclass(frozen=True)
class RunSummary:
    """What a call of :func:`run_suite` did."""

    path: Path
    rows_written: int
    rows_skipped: int
    seconds: float
    unavailable: dict


def _method_seed(seed: int, method: str) -> int:
    return int(np.random.SeedSequence([seed, zlib.crc32(method.encode())]).generate_state(1, dtype=np.uint32)[0])


def run_replicate(scenario_name: str, replicate: int, seed: int, methods: tuple[str, ...]) -> list[dict]:
    """Simulate one replicate of a scenario and run the given methods on it; one row per method."""
    from estimators.simulate import scenarios

    scenario = {s.name: s for s in scenarios("all")}[scenario_name]
    base = dict(scenario=scenario_name, replicate=replicate, seed=seed)
    try:
        simulation = scenario.simulate(random_seed=seed)
    except Exception as error:  # a table that cannot be built (e.g. an empty list) is a failure of every method
        failure = f"simulation {type(error).__name__}: {str(error)[:300]}"
        return [dict(base, method=m, truth=np.nan, n_observed=np.nan, k=np.nan, failure=failure) for m in methods]
    histories = simulation.histories
    rows = []
    for name in methods:
        row = dict(base, method=name, truth=simulation.truth, n_observed=histories.n_observed, k=histories.k)
        row.update(run_method(REGISTRY[name], histories, _method_seed(seed, name)))
        components = row.pop("components", ())
        rows.append(row)
        rows += [dict(row, **component) for component in components]
    return rows


def _records(path: Path) -> tuple[list[list[str]], int | None]:
    """The complete rows of a results file, and the byte offset at which a torn last row starts (else None).

    Rows are written whole and flushed one at a time, so an interrupted write can tear only the last row: it then
    lacks its line ending, or fields. A row with the wrong number of fields elsewhere is left out of the rows.
    """
    data = path.read_bytes() if path.exists() else b""
    lines = data.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    consumed = 0

    def feed():
        nonlocal consumed
        for line in lines:
            consumed += 1
            yield line.decode("utf-8", errors="replace")

    reader = csv.reader(feed())
    records = []  # (byte offset of the row's first line, fields)
    unterminated = False
    while True:
        first = consumed
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error:  # a quoted field left open at the end of the file
            records.append((starts[first], None))
            unterminated = True
            break
        if fields:
            records.append((starts[first], fields))
    if not records:
        return [], None
    torn = unterminated or not data.endswith(b"\n") or len(records[-1][1]) != len(COLUMNS)
    header = records[0][1]
    if header is None or tuple(header) != COLUMNS:
        if torn and len(records) == 1:
            return [], 0  # only a torn header
        raise ValueError(f"{path} is not a results file of this runner (its header is {header!r}).")
    complete = records[1:-1] if torn else records[1:]
    rows = [fields for _, fields in complete if len(fields) == len(COLUMNS)]
    return rows, (records[-1][0] if torn else None)


def _repair(path: Path) -> int:
    """Cut a torn last row off the results file, so new rows never continue it; returns the bytes cut."""
    _, torn_at = _records(path)
    if torn_at is None:
        return 0
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.truncate(torn_at)
    return size - torn_at


def _done(path: Path) -> set[tuple[str, int, str]]:
    if not path.exists() or path.stat().st_size == 0:
        return set()
    rows, _ = _records(path)
    scenario, replicate, method = (COLUMNS.index(name) for name in ("scenario", "replicate", "method"))
    done = set()
    for row in rows:
        try:
            done.add((row[scenario], int(row[replicate]), row[method]))
        except ValueError:
            continue
    return done


def _plan(suite, methods, replicates, done, base_seed):
    from estimators.simulate import scenarios

    limits = SUITE_LIMITS.get(suite, {})
    jobs = []
    for scenario in scenarios(suite):
        here = tuple(m for m in methods if m not in limits or scenario.name in limits[m])
        for replicate in range(replicates):
            pending = tuple(m for m in here if (scenario.name, replicate, m) not in done)
            if pending:
                jobs.append((scenario.name, replicate, scenario.seed(replicate, base_seed), pending))
    return jobs


def _parallel_results(jobs, n_jobs: int, scheduler: str | None):
    from joblib import Parallel, delayed, parallel_config

    calls = (delayed(run_replicate)(*job) for job in jobs)
    if scheduler:
        try:
            from dask.distributed import Client
        except ImportError:
            raise SystemExit(
                "--scheduler needs dask.distributed: pip install 'undercount-estimators[dask]' (or dask distributed)."
            ) from None
        client = Client(scheduler)
        try:
            with parallel_config(backend="dask"):
                yield from Parallel(return_as="generator_unordered")(calls)
        finally:
            client.close()
        return
    if n_jobs == 1:
        for job in jobs:
            yield run_replicate(*job)
        return
    try:
        yield from Parallel(n_jobs=n_jobs, return_as="generator_unordered")(calls)
    except BaseException:  # KeyboardInterrupt, or the generator closed early: no worker may outlive the run
        _kill_workers()
        raise


def _kill_workers():
    """Kill the processes of joblib's reusable (loky) executor, if there is one, and wait for them to end."""
    from joblib.externals.loky import reusable_executor

    # the module's current executor, not get_reusable_executor(), which would create or resize one
    executor = reusable_executor._executor
    if executor is not None:
        executor.shutdown(wait=True, kill_workers=True)


def _format(value):
    if isinstance(value, float):
        return "" if np.isnan(value) else repr(value)
    return value


def run_suite(
    suite: str = "quick",
    methods=None,
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    out=None,
    replicates: int | None = None,
    base_seed: int = BASE_SEED,
    progress: bool = True,
) -> RunSummary:
    """Run a suite and append its rows to ``out`` (resuming: rows already there are not recomputed).

    Parameters
    ----------
    suite : {"quick", "standard", "full"}
    methods : sequence of str, optional
        Method names from :data:`benchmarks.methods.REGISTRY`; default the suite's methods. Unavailable
        methods are skipped with a message. :data:`SUITE_LIMITS` restricts some methods to some scenarios.
    jobs : int
        Local worker processes (joblib); ignored with ``scheduler``.
    scheduler : str, optional
        Address of a Dask distributed scheduler (joblib's dask backend).
    out : path, optional
        Results CSV; default ``benchmarks/results/<suite>.csv``. A last row torn by an interrupted write is cut
        off and rerun. Interrupting a run (Ctrl-C) stops its worker processes.
    replicates : int, optional
        Replicates per scenario; default 4 (quick), 200 (standard), 500 (full).
    base_seed : int
        Fixes every replicate's table.
    progress : bool
        Show a progress bar.

    Returns
    -------
    RunSummary
    """
    from estimators.simulate import SUITES

    if suite not in SUITES:
        raise ValueError(f"`suite` must be one of {list(SUITES)!r}; got {suite!r}.")
    methods = tuple(methods) if methods else SUITE_METHODS[suite]
    status = availability(methods)
    unavailable = {name: reason for name, reason in status.items() if reason}
    for name, reason in unavailable.items():
        print(f"method {name!r} unavailable, skipped ({reason})", file=sys.stderr)
    methods = tuple(name for name in methods if name not in unavailable)
    replicates = SUITE_REPLICATES[suite] if replicates is None else int(replicates)
    path = Path(out) if out else HERE / "results" / f"{suite}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    cut = _repair(path)
    if cut:
        print(f"{path}: the last row was torn (an interrupted write); cut its {cut} bytes, it is rerun",
              file=sys.stderr)
    done = _done(path)
    jobs_list = _plan(suite, methods, replicates, done, base_seed)
    skipped = sum(1 for key in done if key[2] in methods)
    start = time.perf_counter()
    written = 0
    new_file = not path.exists() or path.stat().st_size == 0
    with open(path, "a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        if new_file:
            writer.writeheader()
        produced = _parallel_results(jobs_list, max(int(jobs), 1), scheduler)
        results = produced
        if progress:
            from tqdm.auto import tqdm

            results = tqdm(produced, total=len(jobs_list), desc=f"{suite} suite", unit="table")
        try:
            for rows in results:
                for row in rows:
                    writer.writerow({key: _format(row.get(key, "")) for key in COLUMNS})
                written += len(rows)
                handle.flush()
        finally:
            # an interruption here (Ctrl-C while writing) leaves the generator suspended with its workers busy:
            # closing it stops them (see _parallel_results)
            produced.close()
    seconds = time.perf_counter() - start
    _record_run(path, suite, methods, replicates, jobs, scheduler, seconds, written, skipped, unavailable)
    return RunSummary(path, written, skipped, seconds, unavailable)


def _record_run(path, suite, methods, replicates, jobs, scheduler, seconds, written, skipped, unavailable):
    """Keep the run's settings and wall time beside the results (the report quotes them)."""
    meta_path = path.with_suffix(".meta.json")
    runs = json.loads(meta_path.read_text()) if meta_path.exists() else []
    runs.append(dict(
        suite=suite, methods=list(methods), replicates=replicates, jobs=jobs, scheduler=scheduler,
        wall_seconds=round(seconds, 1), rows_written=written, rows_skipped=skipped, unavailable=unavailable,
        cpu_count=os.cpu_count(), python=platform.python_version(),
        finished=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    ))
    meta_path.write_text(json.dumps(runs, indent=1))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run a suite of simulated scenarios")
    run.add_argument("--suite", default="quick", choices=("quick", "standard", "full"))
    run.add_argument("--methods", default=None, help="comma-separated method names (default: the suite's)")
    run.add_argument("--jobs", type=int, default=1)
    run.add_argument("--scheduler", default=None, help="Dask distributed scheduler address")
    run.add_argument("--out", default=None, help="results CSV (default benchmarks/results/<suite>.csv)")
    run.add_argument("--replicates", type=int, default=None)
    run.add_argument("--base-seed", type=int, default=BASE_SEED)
    run.add_argument("--no-progress", action="store_true")

    report = commands.add_parser("report", help="metrics and markdown report from a results CSV")
    report.add_argument("results")
    report.add_argument("--out", default=None, help="markdown path (default: next to the results)")
    report.add_argument("--default-method", default=None)

    standard = commands.add_parser("standard", help="run the standard suite and write benchmarks/RESULTS.md")
    standard.add_argument("--jobs", type=int, default=2)
    standard.add_argument("--replicates", type=int, default=None)
    standard.add_argument("--methods", default=None)

    commands.add_parser("real-data", help="every method on every real dataset -> benchmarks/REAL_DATA.md")
    speed = commands.add_parser("speed", help="fresh-process speed against the R packages -> benchmarks/SPEED.md")
    speed.add_argument("--runs", type=int, default=7, help="fresh processes per figure (median)")
    speed.add_argument("--slow-runs", type=int, default=3, help="fresh processes for the bootstrap and MCMC rows")
    speed.add_argument("--scripts", action="store_true", help="append the output of every bench_*.py")
    commands.add_parser("methods", help="list the registry and which methods are available")
    scen = commands.add_parser("scenarios", help="list the scenarios of a suite")
    scen.add_argument("--suite", default="all")
    return parser


def main(argv=None) -> int:
    """Entry point of ``python -m benchmarks`` and of ``undercount benchmark``."""
    args = _parser().parse_args(argv)
    if args.command == "run":
        methods = args.methods.split(",") if args.methods else None
        summary = run_suite(args.suite, methods, jobs=args.jobs, scheduler=args.scheduler, out=args.out,
                            replicates=args.replicates, base_seed=args.base_seed, progress=not args.no_progress)
        print(f"{summary.rows_written} rows written, {summary.rows_skipped} already present, "
              f"{summary.seconds:.1f} s -> {summary.path}")
        return 0
    if args.command == "report":
        from .report import write_report

        path = write_report(args.results, out=args.out, default_method=args.default_method)
        print(f"report -> {path}")
        return 0
    if args.command == "standard":
        from .report import write_report

        methods = args.methods.split(",") if args.methods else None
        out = HERE / "results" / "standard.csv"
        summary = run_suite("standard", methods, jobs=args.jobs, out=out, replicates=args.replicates)
        print(f"{summary.rows_written} rows written in {summary.seconds:.1f} s")
        path = write_report(out, out=HERE / "RESULTS.md")
        print(f"report -> {path}")
        return 0
    if args.command == "real-data":
        from .real_data import main as real_main

        return real_main()
    if args.command == "speed":
        from .speed import main as speed_main

        return speed_main(["--runs", str(args.runs), "--slow-runs", str(args.slow_runs)]
                          + (["--scripts"] if args.scripts else []))
    if args.command == "methods":
        for name, reason in availability().items():
            method = REGISTRY[name]
            flag = "bayesian" if method.bayesian else ""
            print(f"{name:20s} {'available' if reason is None else 'UNAVAILABLE':12s} {flag:9s} "
                  f"{method.description}{'' if reason is None else '  [' + reason + ']'}")
        return 0
    if args.command == "scenarios":
        from estimators.simulate import scenarios

        for s in scenarios(args.suite):
            print(f"{s.name:32s} [{s.holds}] {s.description}")
        return 0
    return 2
