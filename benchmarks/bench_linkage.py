"""Scale of estimators.link: three lists of --size records each, linked and deduplicated; time and peak memory.

The lists come from :func:`estimators.simulate.simulate_named_lists` (capture 0.5 on every list, so a population
of 2 x size deaths gives about ``size`` records a list). Blocking rules for this size are tighter than the
defaults (which are meant for lists of a few thousand): with a few hundred common names, a rule on the first
letters of two names alone would generate ~10^8 pairs at 300,000 records.

Run: ``python -m benchmarks.bench_linkage [--size 100000]``; writes benchmarks/results/linkage_scale.md.
Peak memory is the process's maximum resident set size (Python, pandas and DuckDB together).
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"

SCALE_BLOCKING = [
    "l.first_key = r.first_key and l.family_key = r.family_key and l.age_band = r.age_band",
    "l.sorted_key = r.sorted_key",
    "l.death_month = r.death_month and l.age_band = r.age_band and l.first3 = r.first3 and l.sex_key = r.sex_key",
    "l.family_key = r.family_key and l.father_key = r.father_key and l.death_month = r.death_month",
]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="records per list (about)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default=str(RESULTS / "linkage_scale.md"))
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    import estimators
    from estimators.simulate import simulate_named_lists

    t0 = time.perf_counter()
    sim = simulate_named_lists(2 * args.size, capture=0.5, random_seed=args.seed)
    t_sim = time.perf_counter() - t0
    sizes = {k: len(v) for k, v in sim.lists.items()}
    mem_before = peak_mb()
    t0 = time.perf_counter()
    linked = estimators.link(sim.lists, blocking=SCALE_BLOCKING, random_seed=args.seed)
    t_link = time.perf_counter() - t0
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
    lines = [
        "# Scale of `estimators.link`",
        "",
        f"Three simulated lists ({', '.join(f'{k}: {v:,}' for k, v in sizes.items())}; {total:,} records), "
        f"linked and deduplicated by `estimators.link` (splink 5.0.0, DuckDB backend, in memory) on 2 shared "
        f"cores; blocking rules `benchmarks.bench_linkage.SCALE_BLOCKING`. "
        f"`python -m benchmarks.bench_linkage --size {args.size}`.",
        "",
        "| step | value |",
        "|---|---|",
        f"| simulate the lists | {t_sim:.1f} s |",
        f"| link (standardise, train u/lambda/EM, score every blocked pair, p >= 0.001 kept) | {t_link:.1f} s |",
        f"| clusters at 0.9 (constrained union-find) | {t_cluster:.1f} s |",
        f"| peak resident memory (whole process) | {mem_link:,.0f} MB (before linking {mem_before:,.0f} MB) |",
        f"| pairs kept (p >= 0.001) | {len(p):,} |",
        f"| true matching pairs | {n_true:,} |",
        f"| precision / recall at 0.9 (against the truth) | {is_match[p >= 0.9].mean():.3f} / "
        f"{is_match[p >= 0.9].sum() / n_true:.3f} |",
        f"| expected precision / recall at 0.9 (from the probabilities) | {precision:.3f} / {recall:.3f} |",
        f"| people (clusters) vs true people listed | {len(np.unique(labels)):,} vs {len(np.unique(tid)):,} |",
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
