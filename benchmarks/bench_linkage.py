"""Scale of estimators.link: three lists of --size records each, linked and deduplicated; time, memory, accuracy.

The lists come from :func:`estimators.simulate.simulate_named_lists` with the large name pools and the fields
lists of this size carry (``name_pool="large"``, ``fields="full"``: the grandfather's and mother's names and a
neighbourhood; ``id_share`` of the records with a national id number), capture 0.5 on every list, so a
population of 2 x size deaths gives about ``size`` records a list. With the default pools (about 50 names of each
kind) no pair of records can be told apart from strangers at this size: the earlier run of this benchmark found
no pair reaching 0.9 among 310,000 records.

The blocking rules for this size (SCALE_BLOCKING) add a neighbourhood, a month of death or an age band to name
keys; the default rules would propose ~10^8 pairs at 300,000 records.

Run: ``python -m benchmarks.bench_linkage [--size 100000] [--id-share 0.3]``; writes
benchmarks/results/linkage_scale.md. Peak memory is the process's maximum resident set size (Python, pandas and
DuckDB together); CPU seconds are the process's user + system time; the load average is read before and after.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import time
import warnings
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"

SCALE_BLOCKING = [
    # A pair is a candidate when any rule holds. Each rule pairs one or two phonetic name keys with a
    # neighbourhood, a month of death or an age band, so that no rule proposes more than ~3 million pairs among
    # 300,000 records; together they propose 0.980 of the true pairs of this simulation (measured on the
    # seed-1 lists: 14 million pairs before duplicates removed).
    "l.id_key = r.id_key",
    "l.sorted_key = r.sorted_key",
    "l.first_ph = r.first_ph and l.family_ph = r.family_ph and l.quarter_key = r.quarter_key",
    "l.first_ph = r.first_ph and l.family_ph = r.family_ph and l.death_month = r.death_month",
    "l.core_key = r.core_key and l.death_month = r.death_month",
    "l.first_ph = r.first_ph and l.quarter_key = r.quarter_key and l.death_month = r.death_month",
    "l.family_ph = r.family_ph and l.quarter_key = r.quarter_key and l.death_month = r.death_month",
    "l.father_ph = r.father_ph and l.quarter_key = r.quarter_key and l.death_month = r.death_month",
    "l.first_ph = r.first_ph and l.father_ph = r.father_ph and l.quarter_key = r.quarter_key",
    "l.father_ph = r.father_ph and l.family_ph = r.family_ph and l.quarter_key = r.quarter_key",
    "l.quarter_key = r.quarter_key and l.sex_key = r.sex_key and l.dod = r.dod",
    "l.first_ph = r.first_ph and l.family_ph = r.family_ph and l.age_band = r.age_band and l.sex_key = r.sex_key",
    "l.mother_key = r.mother_key and l.first_ph = r.first_ph and l.age_band = r.age_band",
    "l.first_ph = r.first_ph and l.father_ph = r.father_ph and l.death_month = r.death_month",
]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Steps(logging.Handler):
    """Collects the step times estimators.link logs at DEBUG level."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="records per list (about)")
    parser.add_argument("--id-share", type=float, default=0.3, help="share of records with a national id")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default=str(RESULTS / "linkage_scale.md"))
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    import splink

    import estimators
    from estimators.simulate import simulate_named_lists

    t0 = time.perf_counter()
    sim = simulate_named_lists(2 * args.size, capture=0.5, name_pool="large", fields="full",
                               id_share=args.id_share, random_seed=args.seed)
    t_sim = time.perf_counter() - t0
    sizes = {k: len(v) for k, v in sim.lists.items()}
    steps = Steps()
    log = logging.getLogger("estimators.linkage")
    log.addHandler(steps)
    log.setLevel(logging.DEBUG)
    mem_before = peak_mb()
    load_before = os.getloadavg()
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    linked = estimators.link(sim.lists, blocking=SCALE_BLOCKING, random_seed=args.seed)
    t_link, cpu_link = time.perf_counter() - t0, cpu_seconds() - cpu0
    load_after = os.getloadavg()
    mem_link = peak_mb()
    t0 = time.perf_counter()
    labels = linked.cluster_labels()
    t_cluster = time.perf_counter() - t0
    tid = np.concatenate([sim.true_ids[k].to_numpy() for k in sim.lists])
    p = linked.pairs["match_probability"].to_numpy()
    is_match = tid[linked.pairs["unique_id_l"]] == tid[linked.pairs["unique_id_r"]]
    n_true = len(sim.true_matches())
    total = sum(sizes.values())
    precision, recall = linked.expected_precision_recall()
    rows = []
    for t in (0.5, 0.9):
        above = p >= t
        rows.append(f"| precision / recall at {t} (against the truth) | {is_match[above].mean():.4f} / "
                    f"{is_match[above].sum() / n_true:.4f} |")
    lines = [
        "# Scale of `estimators.link`",
        "",
        f"Three simulated lists ({', '.join(f'{k}: {v:,}' for k, v in sizes.items())}; {total:,} records; "
        f"`simulate_named_lists(name_pool=\"large\", fields=\"full\", id_share={args.id_share})`: given, "
        "father's, grandfather's, family and mother's names, sex, age, date of death, place and neighbourhood, a "
        "national id on a share of records), linked and deduplicated by `estimators.link` (splink "
        f"{splink.__version__}, DuckDB backend, in memory) on 2 shared cores; blocking rules "
        f"`benchmarks.bench_linkage.SCALE_BLOCKING`. `python -m benchmarks.bench_linkage --size {args.size}`.",
        "",
        "| step | value |",
        "|---|---|",
        f"| simulate the lists | {t_sim:.1f} s |",
        f"| link: wall clock (CPU seconds of the process) | {t_link:.1f} s ({cpu_link:.1f} s) |",
        *[f"| - {line.split(': ')[0]} | {line.split(': ')[-1]} |" for line in steps.lines],
        f"| load average (1 min) before / after linking | {load_before[0]:.1f} / {load_after[0]:.1f} |",
        f"| clusters at 0.9 (constrained union-find) | {t_cluster:.1f} s |",
        f"| peak resident memory (whole process) | {mem_link:,.0f} MB (before linking {mem_before:,.0f} MB) |",
        f"| pairs kept (p >= 0.001) | {len(p):,} |",
        f"| true matching pairs | {n_true:,}; kept {is_match.sum() / n_true:.4f} |",
        *rows,
        f"| expected precision / recall at 0.9 (from the probabilities) | {precision:.4f} / {recall:.4f} |",
        f"| people (clusters at 0.9) vs true people listed | {len(np.unique(labels)):,} vs {len(np.unique(tid)):,} |",
        f"| throughput | {total / t_link:,.0f} records a second |",
        "",
        "Target: under 2 minutes and 4 GB. For comparison, splink's documentation says it can link \"a million "
        "records on a laptop in around a minute\" with DuckDB (splink README and PyPI page, 'Key Features'); "
        "that figure depends on the blocking rules, which fix the number of pairs scored.",
        "",
    ]
    text = "\n".join(lines)
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
