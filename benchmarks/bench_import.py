"""Start-up cost: ``import estimators`` and the first call of four estimators, each in a fresh process.

    python benchmarks/bench_import.py [--runs 7]     # or: python -m benchmarks.bench_import

Prints a markdown report (``python -m benchmarks speed --scripts`` copies it into SPEED.md; the speed report's own
fresh-process section measures the same way) and writes it to benchmarks/results/import_time.md:

* ``import estimators``: wall time of ``python -c "import estimators"`` minus that of ``python -c "pass"``, median
  of ``--runs`` fresh processes (issue 19's target: under 0.25 s), and the largest entries of
  ``python -X importtime`` (cumulative microseconds);
* the first call of ``loglinear``, ``chapman``, ``sample_coverage`` and ``graphical_bma`` on a shipped 5-list table
  in a fresh process: the import of the name (``from estimators import f``: its module and dependencies), the call
  itself (compilation included) and the whole process, median of ``--runs`` processes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "import_time.md"
DATASET = "SparseMSE_UKdat_5"
CALLS = {
    "loglinear": "{}",
    "chapman": '{"lists": h.lists[:2]}',  # the first two lists
    "sample_coverage": '{"random_seed": 1}',
    "graphical_bma": '{"random_seed": 1}',
}
FIRST_CALL = """
import json, time, warnings
warnings.simplefilter("ignore")
t0 = time.perf_counter()
import estimators
t1 = time.perf_counter()
from estimators import {name} as f, load_dataset
t2 = time.perf_counter()
h = load_dataset({dataset!r})
t3 = time.perf_counter()
f(h, **{options})
t4 = time.perf_counter()
print(json.dumps({{"package": t1 - t0, "name": t2 - t1, "data": t3 - t2, "call": t4 - t3}}))
"""


def _wall(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True)
    return time.perf_counter() - start


def import_seconds(runs: int) -> tuple[float, float]:
    """Median wall seconds of ``import estimators`` in fresh processes, net of the interpreter's start-up; and gross."""
    bare = [_wall("pass") for _ in range(runs)]
    gross = [_wall("import estimators") for _ in range(runs)]
    return statistics.median(gross) - statistics.median(bare), statistics.median(gross)


def importtime_top(statement: str = "import estimators", top: int = 8) -> list[tuple[str, int]]:
    """The ``top`` largest cumulative entries of ``python -X importtime -c statement`` (module, microseconds)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", statement], check=True, cwd=ROOT,
                          capture_output=True, text=True)
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, module = (part.strip() for part in line.split(":", 1)[1].split("|"))
        rows.append((module, int(cumulative)))
    return sorted(rows, key=lambda row: -row[1])[:top]


def first_call(name: str, runs: int) -> dict[str, float]:
    """Median seconds of each stage of a first call of ``name`` in fresh processes, of the whole process, and the
    whole process's CPU seconds (user + system: less sensitive than wall time to other work on the machine)."""
    code = FIRST_CALL.format(name=name, dataset=DATASET, options=CALLS[name])
    stages, totals, cpus = [], [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True, text=True)
        totals.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        stages.append(json.loads(done.stdout.strip().splitlines()[-1]))
    out = {key: statistics.median(stage[key] for stage in stages) for key in stages[0]}
    out["process"] = statistics.median(totals)
    out["cpu"] = statistics.median(cpus)
    return out


def report(runs: int) -> str:
    net, gross = import_seconds(runs)
    lines = [
        "## Import time",
        "",
        f"Median of {runs} fresh processes; {os.cpu_count()} cores, load average "
        f"{', '.join(f'{v:.1f}' for v in os.getloadavg())} at the start.",
        "",
        "| measure | seconds |",
        "|---|---|",
        f"| `import estimators` (net of `python -c pass`) | {net:.3f} |",
        f"| `python -c \"import estimators\"` (whole process) | {gross:.3f} |",
        "",
        "Largest cumulative entries of `python -X importtime -c \"import estimators\"`:",
        "",
        "| module | cumulative ms |",
        "|---|---|",
        *(f"| {module} | {us / 1000:.1f} |" for module, us in importtime_top()),
        "",
        f"First call in a fresh process on {DATASET} (5 lists), median of {runs} processes, seconds:",
        "",
        "| function | import estimators | from estimators import f | load_dataset | first call | whole process | "
        "whole process CPU |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in CALLS:
        t = first_call(name, runs)
        lines.append(f"| {name} | {t['package']:.3f} | {t['name']:.3f} | {t['data']:.3f} | {t['call']:.3f} | "
                     f"{t['process']:.3f} | {t['cpu']:.3f} |")
    lines += ["", f"Load average {', '.join(f'{v:.1f}' for v in os.getloadavg())} at the end."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh processes per figure (median; default 7)")
    args = parser.parse_args(argv)
    text = report(max(1, args.runs))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
