"""Speed against the R packages, measured the way a user meets it, and our fresh-process latency: SPEED.md.

    python -m benchmarks speed [--runs 7] [--slow-runs 3] [--scripts]     # -> benchmarks/SPEED.md
    python -m benchmarks.speed --latency-only [loglinear]                  # section 1 only, printed

Most users run one fit per process (a script, the ``undercount`` command, a notebook kernel), so the report leads
with fresh processes. Every figure of ours is measured here, in a new ``python`` process per run (``--runs`` runs,
median; ``--slow-runs`` for the MCMC rows), after one unrecorded run of the same command (as R's side-by-side runs
had one): bytecode compiled, as after ``pip install``, the numba cache as the package leaves it.

The R figures are the side-by-side measurements of ``benchmarks/reference/peers_sidebyside_2026-12.csv`` (R and
Python alternating on an idle 2-core machine, every run a fresh process). The older R times of
``tests/data/peers.csv`` (measured on a loaded machine, 1.4-5.4x too slow) are not used for any ratio.

Three kinds of row, named in every table:

* whole process: wall time of ``Rscript`` / ``python -c`` from start to exit, interpreter start-up, library
  loading, reading the data and one fit;
* first call: the fit itself in a fresh process (ours: after ``import estimators`` and ``load_dataset``, so the
  imports and compilation the fit triggers are included; R's: after ``library()``);
* warm call: a later call of the same fit in the same process.

``--scripts`` appends the output of every other ``benchmarks/bench_*.py`` (minutes to hours).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SIDE_BY_SIDE = HERE / "reference" / "peers_sidebyside_2026-12.csv"
OUT = HERE / "SPEED.md"
BENCH_TIMEOUT = 900
BUSY_LOAD = 1.5  # load average above which a 2-core machine is too busy for the figures to stand alone

# One fit in a fresh process. The child reports its own stage times; the parent times the whole process.
CHILD = """
import time
t0 = time.perf_counter()
import json, warnings
warnings.simplefilter("ignore")
import estimators
t1 = time.perf_counter()
from estimators import load_dataset
h = load_dataset({dataset!r}, collapse=True)
t2 = time.perf_counter()
c2 = time.process_time()
import numpy as np
from estimators import {name}
r = {call}
t3 = time.perf_counter()
c3 = time.process_time()
warm = []
for _ in range({warm}):
    s = time.perf_counter()
    {call}
    warm.append(time.perf_counter() - s)
print(round(float(r.estimate)))
print(json.dumps({{"import": t1 - t0, "load": t2 - t1, "first": t3 - t2, "first_cpu": c3 - c2, "warm": warm}}))
"""
IMPORT_ONLY = """
import time
t0 = time.perf_counter()
import estimators
t1 = time.perf_counter()
import json
print(json.dumps({"import": t1 - t0, "load": 0.0, "first": 0.0, "first_cpu": 0.0}))
"""


@dataclass(frozen=True)
class Task:
    """One of our fits beside the R measurement of the same task (``r_key``: task, dataset and R-call text)."""

    label: str
    dataset: str
    name: str
    call: str
    r_key: tuple[str, str, str] | None = None
    slow: bool = False


SIDE_BY_SIDE_TASKS = [
    Task("log-linear, BIC-best of 113 models + profile interval", "Rcapture_HIV", "loglinear",
         'loglinear(h, select="bic")', ("a", "Rcapture_HIV", "closedpMS.t exhaustive (113")),
    Task("log-linear, BIC-best of 6,893 models + profile interval", "SparseMSE_UKdat_5", "loglinear",
         'loglinear(h, select="bic")', ("a", "SparseMSE_UKdat_5", "closedpMS.t exhaustive (6893")),
    Task("graphical BMA, grid 0:5n", "SparseMSE_UKdat_5", "graphical_bma",
         "graphical_bma(h, unlisted_support=np.arange(0, 5 * h.n_observed + 1), random_seed=1)",
         ("b", "SparseMSE_UKdat_5", "Nmissing 0:5n")),
    Task("graphical BMA, grid 0:20n", "SparseMSE_UKdat_5", "graphical_bma",
         "graphical_bma(h, unlisted_support=np.arange(0, 20 * h.n_observed + 1), random_seed=1)",
         ("b", "SparseMSE_UKdat_5", "Nmissing 0:20n")),
    Task("graphical BMA, our adaptive support vs dga 0:20n", "SparseMSE_UKdat_5", "graphical_bma",
         "graphical_bma(h, random_seed=1)", ("b", "SparseMSE_UKdat_5", "Nmissing 0:20n")),
    Task("graphical BMA, grid 0:5n", "dga_MY1997_5list", "graphical_bma",
         "graphical_bma(h, unlisted_support=np.arange(0, 5 * h.n_observed + 1), random_seed=1)",
         ("b", "dga_MY1997_5list", "Nmissing 0:5n")),
    Task("graphical BMA, grid 0:20n", "dga_MY1997_5list", "graphical_bma",
         "graphical_bma(h, unlisted_support=np.arange(0, 20 * h.n_observed + 1), random_seed=1)",
         ("b", "dga_MY1997_5list", "Nmissing 0:20n")),
    Task("graphical BMA, our adaptive support vs dga 0:20n", "dga_MY1997_5list", "graphical_bma",
         "graphical_bma(h, random_seed=1)", ("b", "dga_MY1997_5list", "Nmissing 0:20n")),
    Task("stepwise log-linear + 200 BCa bootstrap replicates", "SparseMSE_UKdat", "bootstrap_interval",
         'bootstrap_interval(h, select="stepwise", n_boot=200, random_seed=1)',
         ("d", "SparseMSE_UKdat", "estimatepopulation stepwise"), slow=True),
    Task("latent classes K=10, 4 chains x (10,000 burn + 5,000 x thin 10); time only, not per effective draw",
         "LCMCR_kosovo", "latent_class",
         "latent_class(h, K=10, chains=4, draws=5000, burn=10000, thin=10, random_seed=1, max_sweeps=None)",
         ("c", "LCMCR_kosovo", "lcmCR K=10"), slow=True),
    Task("Bayesian log-linear, all two-way terms (different priors: horseshoe vs SBH)", "LCMCR_kosovo",
         "loglinear_bayes", "loglinear_bayes(h, random_seed=1)", ("e", "LCMCR_kosovo", "bict"), slow=True),
]

# Issue 19's fresh-process targets (no R row): (label, dataset, name, call, measure, target seconds).
LATENCY_TASKS = [
    ("chapman, 4-list table (lists 1 & 2)", "Rcapture_HIV", "chapman", "chapman(h, lists=h.lists[:2])", 0.5),
    ("sample_coverage, 4 lists", "Rcapture_HIV", "sample_coverage", "sample_coverage(h, random_seed=1)", 0.5),
    ("loglinear (BIC-best of 113 models, profile interval), 4 lists", "Rcapture_HIV", "loglinear", "loglinear(h)",
     0.5),
    ("loglinear, 4 lists (Kosovo)", "LCMCR_kosovo", "loglinear", "loglinear(h)", 0.5),
    ("graphical_bma, 4 lists (Kosovo)", "LCMCR_kosovo", "graphical_bma", "graphical_bma(h, random_seed=1)", 0.5),
    ("graphical_bma, 5 lists (UKdat_5)", "SparseMSE_UKdat_5", "graphical_bma", "graphical_bma(h, random_seed=1)",
     0.5),
]
SMALL_TABLE = "A,B,C,count\n1,0,0,30\n0,1,0,25\n1,1,0,12\n0,0,1,20\n1,0,1,8\n0,1,1,7\n1,1,1,4\n"
CLI_TASKS = [
    ("`undercount estimate small.csv --method loglinear` (3 lists)", ["--method", "loglinear"]),
    ("`undercount estimate small.csv --method chapman --pair A,B`", ["--method", "chapman", "--pair", "A,B"]),
]


# --------------------------------------------------------------------------------------------- measuring
def _environment(pycache: str) -> dict:
    """The children's environment: bytecode written and read (under ``pycache``), as in an installed package.

    Some machines (this one) set PYTHONDONTWRITEBYTECODE=1, which makes every process recompile the package's
    source; a user's installed package has its bytecode.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = pycache
    return env


def _run(argv: list[str], env: dict, timeout: float = BENCH_TIMEOUT) -> tuple[float, str, float]:
    """Wall seconds, standard output and CPU seconds (user + system, all its threads) of one child process."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=ROOT)
        try:
            child.wait(timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            raise
        finally:
            # the child's own resource usage (os.wait4 would race with Popen's reaping; this is after it)
            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        seconds = time.perf_counter() - start
        out.seek(0), err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])}... failed:\n{stderr[-2000:]}")
    cpu = usage.ru_utime + usage.ru_stime - _run.children_cpu
    _run.children_cpu = usage.ru_utime + usage.ru_stime
    return seconds, stdout, cpu


_run.children_cpu = 0.0


def fresh_processes(code: str, runs: int, env: dict) -> dict:
    """Median whole-process wall time and stage times of ``runs`` fresh processes running ``code``."""
    _run([sys.executable, "-c", code], env)  # unrecorded: writes bytecode, warms the file cache
    walls, stages, cpus = [], [], []
    for _ in range(runs):
        seconds, out, cpu = _run([sys.executable, "-c", code], env)
        walls.append(seconds)
        cpus.append(cpu)
        stages.append(json.loads(out.strip().splitlines()[-1]))
    result = {key: statistics.median(s[key] for s in stages) for key in ("import", "load", "first", "first_cpu")}
    result.update(process=statistics.median(walls), process_min=min(walls), process_max=max(walls), runs=runs,
                  cpu=statistics.median(cpus))
    return result


def warm_call(task: Task, env: dict, calls: int) -> float:
    """Median of ``calls`` calls after a first one, in one process."""
    code = CHILD.format(name=task.name, dataset=task.dataset, call=task.call, warm=calls)
    out = _run([sys.executable, "-c", code], env)[1]
    return statistics.median(json.loads(out.strip().splitlines()[-1])["warm"])


def _load() -> str:
    return ", ".join(f"{v:.1f}" for v in os.getloadavg())


# --------------------------------------------------------------------------------------------- R figures
def _number(text: str) -> float:
    """The first number in a cell of the side-by-side table ("5.58 cold (compile 3.8) / ..." -> 5.58)."""
    found = re.search(r"\d+(?:\.\d+)?", text or "")
    return float(found.group()) if found else float("nan")


def r_figures(key: tuple[str, str, str]) -> dict:
    """R's fit and whole-process seconds for ``key``; where the table has reruns of the same task, the faster."""
    task, dataset, call = key
    with SIDE_BY_SIDE.open(newline="") as file:
        rows = [row for row in csv.DictReader(file)
                if row["task"].split()[0] == task and row["dataset"] == dataset and
                (call in row["r_call"] or row["r_call"] == "same")]
    if not rows:
        raise KeyError(f"no side-by-side R row for {key}")
    fits = [_number(row["r_fit_s_median"]) for row in rows]
    wholes = [_number(row["whole_process_r_s"]) for row in rows]
    first = rows[0]
    return {
        "package": first["r_package"], "call": first["r_call"], "fit": min(fits), "whole": min(wholes),
        "warmed": "+1" in first["pairs"],
    }


# --------------------------------------------------------------------------------------------- the report
def _ratio(r_seconds: float, ours: float) -> str:
    if not (r_seconds > 0 and ours > 0):
        return "-"
    ratio = r_seconds / ours
    return f"**{ratio:.2f}x**" if ratio < 1 else f"{ratio:.2f}x"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *("| " + " | ".join(r) + " |" for r in rows)]


def side_by_side(runs: int, slow_runs: int, env: dict, warm_calls: int) -> tuple[list[str], list[str], list[str]]:
    """The three side-by-side tables: whole processes, first calls, warm calls."""
    whole, first, warm = [], [], []
    for task in SIDE_BY_SIDE_TASKS:
        r = r_figures(task.r_key)
        n = slow_runs if task.slow else runs
        code = CHILD.format(name=task.name, dataset=task.dataset, call=task.call, warm=0)
        ours = fresh_processes(code, n, env)
        warm_s = warm_call(task, env, 1 if task.slow else warm_calls)
        what = f"{task.label} ({task.dataset})"
        r_name = f"{r['package']}: {r['call'][:60]}"
        whole.append([what, r_name, f"{r['whole']:.3g}", f"`{task.call}`",
                      f"{ours['process']:.3g} ({ours['process_min']:.3g}-{ours['process_max']:.3g}, {n} runs)",
                      f"{ours['cpu']:.3g}", _ratio(r["whole"], ours["process"])])
        first.append([what, f"{r['fit']:.3g}" + ("" if r["warmed"] else " (first call)"),
                      f"{ours['first']:.3g}", _ratio(r["fit"], ours["first"])])
        warm.append([what, f"{r['fit']:.3g}" + (" (after a warm-up)" if r["warmed"] else " (first call, no warm-up)"),
                     f"{warm_s:.3g}", _ratio(r["fit"], warm_s)])
        print(f"{what}: whole {ours['process']:.3f} s, first {ours['first']:.3f} s, warm {warm_s:.4f} s "
              f"(R {r['whole']:.3g} / {r['fit']:.3g}); load {_load()}", flush=True)
    return whole, first, warm


def latency(runs: int, env: dict, tmp: Path, match: str = "") -> list[list[str]]:
    """Issue 19's fresh-process targets: import, first fits, the 5-list search, the command line.

    ``match``: measure only the rows whose label contains it (case-insensitive), e.g. "loglinear".
    """
    rows = []

    def wanted(label: str) -> bool:
        return match.lower() in label.lower()

    def row(label: str, kind: str, target: float | None, seconds: float, spread: str = "", cpu: float | None = None):
        met = "-" if target is None else "yes" if seconds < target else "**no**"
        rows.append([label, kind, "-" if target is None else f"< {target:g}",
                     f"{seconds:.3f}" + (f" ({spread})" if spread else ""), "-" if cpu is None else f"{cpu:.3f}", met])
        print(f"{label}: {seconds:.3f} s (target {target}); load {_load()}", flush=True)

    label = "`import estimators` (inside the process)"
    if wanted(label):
        imported = fresh_processes(IMPORT_ONLY, runs, env)
        row(label, "import", 0.25, imported["import"])
    label = "`python -c pass` (interpreter start-up, for reference)"
    if wanted(label):
        bare = [_run([sys.executable, "-c", "pass"], env) for _ in range(runs)]
        row(label, "whole process", None, statistics.median(b[0] for b in bare),
            cpu=statistics.median(b[2] for b in bare))
    for label, dataset, name, call, target in LATENCY_TASKS:
        if wanted(label):
            t = fresh_processes(CHILD.format(name=name, dataset=dataset, call=call, warm=0), runs, env)
            row(label, "whole process", target, t["process"], f"{t['process_min']:.3f}-{t['process_max']:.3f}",
                t["cpu"])
    label = "loglinear, exhaustive over 6,893 models + profile interval (UKdat_5)"
    if wanted(label):
        five = fresh_processes(CHILD.format(name="loglinear", dataset="SparseMSE_UKdat_5",
                                            call='loglinear(h, select="bic")', warm=0), runs, env)
        row(label, "first call", 1.0, five["first"], cpu=five["first_cpu"])
    label = "loglinear, exhaustive over 113 models + profile interval (HIV)"
    if wanted(label):
        four = warm_call(Task("", "Rcapture_HIV", "loglinear", 'loglinear(h, select="bic")'), env, 7)
        row(label, "warm call", 0.1, four)
    table = tmp / "small.csv"
    table.write_text(SMALL_TABLE)
    for label, flags in CLI_TASKS:
        if not wanted(label):
            continue
        argv = [str(Path(sys.executable).parent / "undercount"), "estimate", str(table), *flags]
        _run(argv, env)
        done = [_run(argv, env) for _ in range(runs)]
        walls = [d[0] for d in done]
        row(label, "whole process", 0.6, statistics.median(walls), f"{min(walls):.3f}-{max(walls):.3f}",
            statistics.median(d[2] for d in done))
    # the same first fit where bytecode is never written (PYTHONDONTWRITEBYTECODE=1): the installed libraries keep
    # theirs, the package's source (without __pycache__ in a checkout that never wrote it) is compiled every time
    label = "chapman, 4 lists, without any bytecode cache (PYTHONDONTWRITEBYTECODE=1)"
    if wanted(label):
        raw = {key: value for key, value in os.environ.items() if key != "PYTHONPYCACHEPREFIX"}
        raw["PYTHONDONTWRITEBYTECODE"] = "1"
        t = fresh_processes(CHILD.format(name="chapman", dataset="Rcapture_HIV",
                                         call="chapman(h, lists=h.lists[:2])", warm=0), runs, raw)
        row(label, "whole process", None, t["process"], f"{t['process_min']:.3f}-{t['process_max']:.3f}", t["cpu"])
    return rows


def run_bench_scripts(env: dict, timeout: int = BENCH_TIMEOUT) -> list[tuple[str, str, float]]:
    """Run every other benchmarks/bench_*.py script in a fresh process; (name, printed output, seconds)."""
    outputs = []
    for script in sorted(HERE.glob("bench_*.py")):
        start = time.perf_counter()
        try:
            done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=timeout,
                                  cwd=ROOT, env=env)
            text = done.stdout.strip()
            if done.returncode != 0:
                text += f"\n[exit code {done.returncode}] " + done.stderr.strip()[-800:]
        except subprocess.TimeoutExpired:
            text = f"[did not finish within {timeout} s]"
        outputs.append((script.name, text, time.perf_counter() - start))
        print(f"{script.name}: {time.perf_counter() - start:.0f} s", flush=True)
    return outputs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks speed", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh processes per figure (median; default 7)")
    parser.add_argument("--slow-runs", type=int, default=3, help="fresh processes for the MCMC and bootstrap rows")
    parser.add_argument("--warm-calls", type=int, default=5, help="warm calls per figure (median; default 5)")
    parser.add_argument("--scripts", action="store_true", help="append the output of every bench_*.py")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--latency-only", metavar="MATCH", nargs="?", const="",
                        help="measure only section 1's rows (those whose label contains MATCH, if given) and print "
                             "them with the load average; SPEED.md is left as it is")
    args = parser.parse_args(argv)
    started, load_start = time.time(), os.getloadavg()
    if args.latency_only is not None:
        with tempfile.TemporaryDirectory(prefix="speed_pycache_") as tmp:
            rows = latency(args.runs, _environment(str(Path(tmp) / "pycache")), Path(tmp), args.latency_only)
        busy = max(load_start[0], os.getloadavg()[0]) > BUSY_LOAD
        print(f"\nLoad average {', '.join(f'{v:.1f}' for v in load_start)} at the start, "
              f"{_load()} at the end; {args.runs} fresh processes per row, medians; {os.cpu_count()} cores."
              + (f" Busy (load above {BUSY_LOAD}): wall times are inflated, the 'met' column does not stand; "
                 "compare CPU seconds." if busy else "") + "\n")
        print("\n".join(_table(["measure", "kind", "target s", "ours s (min-max)", "CPU s", "met"], rows)))
        return 0
    with tempfile.TemporaryDirectory(prefix="speed_pycache_") as tmp:
        env = _environment(str(Path(tmp) / "pycache"))
        latency_rows = latency(args.runs, env, Path(tmp))
        whole, first, warm = side_by_side(args.runs, args.slow_runs, env, args.warm_calls)
        scripts = run_bench_scripts(env) if args.scripts else []
    load_end = os.getloadavg()
    busy = max(load_start[0], load_end[0]) > BUSY_LOAD
    lines = [
        "# Speed against the R packages",
        "",
        "Generated by `python -m benchmarks speed` (benchmarks/speed.py); do not edit by hand. Written "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(started))} in {time.time() - started:.0f} s on "
        f"{os.cpu_count()} cores; load average {', '.join(f'{v:.1f}' for v in load_start)} at the start, "
        f"{', '.join(f'{v:.1f}' for v in load_end)} at the end.",
        "",
    ]
    if busy:
        lines += [f"**The machine was busy (load average above {BUSY_LOAD} on {os.cpu_count()} cores): our figures "
                  "are inflated against the R figures, which were measured on an idle machine. Rerun when idle.**",
                  ""]
    lines += [
        "Ours: measured by this command, each figure the median of fresh `python` processes (a new process per "
        f"run; {args.runs} runs, {args.slow_runs} for the bootstrap and MCMC rows) after one unrecorded run, with "
        "bytecode compiled as in an installed package. R: the side-by-side measurements in "
        "`benchmarks/reference/peers_sidebyside_2026-12.csv` (R and Python alternating on an idle 2-core machine, "
        "every run a fresh process; where R was run twice, the faster). The R times of `tests/data/peers.csv` "
        "(a loaded machine) are not used. Ratio = R seconds / ours: above 1 we are faster, **bold** where R is "
        "faster.",
        "",
        "## 1. Fresh processes: issue 19's latency targets",
        "",
        "Whole process = wall time of `python -c \"...\"` from start to exit: interpreter start-up, "
        "`import estimators`, `load_dataset`, one fit. First call = `from estimators import f` and the fit, in a "
        "fresh process after `import estimators` and `load_dataset` (so the imports and compilation the fit needs "
        "are included). Warm call = a later call in the same process. Medians (min-max). CPU s = user + system "
        "seconds of the whole process, less sensitive than wall time to other work on the machine. The last row "
        "shows what "
        "a machine that never writes bytecode (PYTHONDONTWRITEBYTECODE=1, as this one by default) pays on top.",
        "",
        *_table(["measure", "kind", "target s", "ours s (min-max)", "CPU s", "met"], latency_rows),
        "",
        "## 2. Whole processes, side by side with R",
        "",
        "R: `Rscript` start to exit (library loading, data, one fit); ours: `python -c` start to exit (the same).",
        "",
        *_table(["task", "R", "R whole process s", "ours", "our whole process s (min-max)", "our CPU s", "ratio"],
                whole),
        "",
        "## 3. First calls in fresh processes",
        "",
        "Ours: `from estimators import f` and the fit, in a fresh process after `import estimators` and "
        "`load_dataset` (the imports and compilation the fit needs included). R: the fit after `library()`, from the same side-by-side runs; where R had a warm-up "
        "call before the timed one, this compares our first call with R's warm one.",
        "",
        *_table(["task", "R fit s", "our first call s", "ratio"], first),
        "",
        "## 4. Warm calls",
        "",
        f"Ours: median of {args.warm_calls} calls after a first one in one process (1 for the slow rows). R: as "
        "in section 3.",
        "",
        *_table(["task", "R fit s", "our warm call s", "ratio"], warm),
        "",
        "Latent classes: R and we draw different chains; the fair measure is time per effective draw of N "
        "(`python benchmarks/bench_latent_class.py --cold`, report `benchmarks/results/latent_class_cold.md`: "
        "effective draws of N per second in fresh processes with an empty and a filled numba cache). The "
        "Bayesian log-linear rows compare different priors (horseshoe against conting's SBH). Their processes "
        "find the Numba cache filled by the unrecorded run; the first run after installation also compiles "
        "`loglinear_bayes`'s kernels (a few seconds, once): `python benchmarks/bench_bayes_cold.py`, report "
        "`benchmarks/results/loglinear_bayes_cold.md`.",
        "",
    ]
    if scripts:
        lines += ["## The other benchmark scripts", "",
                  "Each `benchmarks/bench_*.py` run in a fresh process; its printed figures verbatim.", ""]
        for name, text, seconds in scripts:
            lines += [f"### {name} ({seconds:.0f} s)", "", "```", text or "(no output)", "```", ""]
    args.out.write_text("\n".join(lines))
    print(f"speed report -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
