"""Coverage of N by stratum and of the sum over strata: strata fitted independently against partially pooled.

    nice -n 10 python benchmarks/calibration_pooled_strata.py --replicates 60 [--methods pooled,average,bayes]
    python benchmarks/calibration_pooled_strata.py --report        # benchmarks/results/pooled_strata.md

Two scenarios, simulated with :mod:`estimators.simulate` (``loglinear_cells`` for each stratum's cell
probabilities; its table is one multinomial draw of the stratum's N into the cells, as ``from_cell_probabilities``
draws it, except that a list with no record in a small stratum is left out of that stratum's table):

- ``weekly``: 20 weekly strata of about 60 deaths each (N_w ~ Poisson(60)), 4 lists with marginal capture
  (0.35, 0.25, 0.20, 0.15), lists 1-2 positively dependent (log odds ratio 0.9) and 3-4 negatively (-0.5), as in
  ``benchmarks/bench_strata.py``; each list's capture logit varies mildly between weeks (normal, sd 0.3, drawn
  afresh in every replicate).
- ``region_month``: 3 regions x 6 months = 18 strata, about 120, 60 and 30 deaths a month by region
  (Poisson); the same lists and dependence; capture logits shifted by region (+0.4, 0, -0.4 for all lists, plus
  a list-by-region effect of sd 0.3) and by month (sd 0.15).

Methods, each on the same tables:

- ``average``: :func:`estimators.estimate_strata` with ``method="loglinear", select="average"`` (AIC-averaged
  log-linear models, the published analysis), total by ``StrataResult.total()`` (Wald on the summed variances);
- ``bayes``: :func:`estimators.estimate_strata` with its default method, ``loglinear_bayes`` (horseshoe on the
  interactions), total by summing draws of independent strata;
- ``pooled``: :func:`estimators.loglinear_pooled` with its defaults (main effects and two-way interactions
  partially pooled, strata exchangeable), total from the joint draws;
- ``pooled_groups`` (region x month only): the same with ``groups`` region and month, crossed random effects of
  place and period on the main effects besides the stratum's own. Added after the first run showed the
  exchangeable model running low in the small, poorly captured southern strata (see the report).

Every replicate appends its rows to ``benchmarks/results/pooled_strata_<method>.csv`` (one row per replicate,
scenario and stratum, plus the total), so a run can be stopped and resumed; ``--report`` summarises the CSV:
coverage of the 95% intervals, relative bias of the median, relative width, and their Monte Carlo standard
errors (over replicates: strata of one replicate share their fit and are not independent draws).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import estimators  # noqa: E402
from estimators.histories import pattern_matrix  # noqa: E402
from estimators.simulate import loglinear_cells  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
COLUMNS = ["scenario", "replicate", "method", "stratum", "truth", "n_observed", "estimate", "lower", "upper",
           "error", "seconds", "divergences", "max_r_hat", "min_ess", "mcse_total"]
REPORT = RESULTS / "pooled_strata.md"
LISTS = ("hospital", "morgue", "media", "ngo")
CAPTURE = np.array([0.35, 0.25, 0.20, 0.15])
LOG_ODDS_RATIOS = {(0, 1): 0.9, (2, 3): -0.5}
SEED = 20261206
SCENARIOS = ("weekly", "region_month")


def _csv(method: str) -> Path:
    return RESULTS / f"pooled_strata_{method}.csv"


def _logit(p):
    return np.log(p / (1 - p))


def _expit(x):
    return 1 / (1 + np.exp(-x))


def simulate_strata(scenario: str, replicate: int) -> tuple[dict, pd.Series]:
    """(label -> CaptureHistories, true N by label) for one replicate of a scenario."""
    rng = np.random.default_rng([SEED, SCENARIOS.index(scenario), replicate])
    base = _logit(CAPTURE)
    if scenario == "weekly":
        labels = [f"week {w + 1:02d}" for w in range(20)]
        sizes = rng.poisson(60, len(labels))
        logits = base + rng.normal(0, 0.3, (len(labels), len(LISTS)))
    else:
        regions, months = ("north", "centre", "south"), range(1, 7)
        labels = [f"{region} m{month}" for region in regions for month in months]
        level = {"north": 120, "centre": 60, "south": 30}
        shift = {"north": 0.4, "centre": 0.0, "south": -0.4}
        by_list = {region: rng.normal(0, 0.3, len(LISTS)) for region in regions}
        sizes = np.array([rng.poisson(level[label.split()[0]]) for label in labels])
        logits = np.array([base + shift[label.split()[0]] + by_list[label.split()[0]] + rng.normal(0, 0.15, len(LISTS))
                           for label in labels])
    strata, truth = {}, {}
    for s, label in enumerate(labels):
        cells = loglinear_cells(_expit(logits[s]), LOG_ODDS_RATIOS)
        strata[label], truth[label] = _table(cells, int(sizes[s]), rng), int(sizes[s])
    return strata, pd.Series(truth)


def _table(cells, n: int, rng) -> estimators.CaptureHistories:
    """The observed table of ``n`` people drawn into the cells; a list that recorded nobody (small strata, low
    capture: a few in a hundred south-region months) is left out of that stratum's table, as a user must."""
    counts = rng.multinomial(n, cells)
    frame = pd.DataFrame(pattern_matrix(len(LISTS))[1:], columns=list(LISTS))
    frame["count"] = counts[1:]
    frame = frame[frame["count"] > 0]
    kept = [name for name in LISTS if frame[name].any()]
    return estimators.CaptureHistories.from_counts(frame[[*kept, "count"]], lists=kept)


def _rows(scenario, replicate, method, table, total, truth, seconds, extra=None):
    rows = []
    for _, row in table.iterrows():
        rows.append(dict(scenario=scenario, replicate=replicate, method=method, stratum=row["stratum"],
                         truth=truth[row["stratum"]], n_observed=row["n_observed"], estimate=row["estimate"],
                         lower=row["lower"], upper=row["upper"], error=row["error"], seconds=np.nan,
                         **(extra or {})))
    rows.append(dict(scenario=scenario, replicate=replicate, method=method, stratum="TOTAL", truth=truth.sum(),
                     n_observed=total.n_observed, estimate=total.estimate, lower=total.interval[0],
                     upper=total.interval[1], error="", seconds=seconds, **(extra or {})))
    return rows


def run(replicates: int, methods: list[str], start: int = 0) -> None:
    warnings.simplefilter("ignore")
    done = set()
    for method in methods:
        if _csv(method).exists():
            old = pd.read_csv(_csv(method))
            done |= set(zip(old["scenario"], old["replicate"], old["method"]))
    models = {}
    for replicate in range(start, start + replicates):
        for scenario in SCENARIOS:
            strata, truth = simulate_strata(scenario, replicate)
            for method in methods:
                if (scenario, replicate, method) in done:
                    continue
                began = time.perf_counter()
                seed = int(np.random.SeedSequence([SEED, replicate, SCENARIOS.index(scenario)]).generate_state(1)[0])
                if method == "pooled":
                    key = (scenario, len(strata))
                    models.setdefault(key, estimators.LoglinearPooledModel(LISTS, len(strata)))
                    fit = estimators.loglinear_pooled(strata, random_seed=seed, model=models[key])
                    extra = dict(divergences=fit.divergences, max_r_hat=float(fit.diagnostics["r_hat"].max()),
                                 min_ess=float(fit.diagnostics["ess_bulk"].min()),
                                 mcse_total=float(fit.diagnostics.loc["N (total)", "mcse_median"]))
                    table, total = fit.table, fit.total()
                elif method == "pooled_groups":
                    if scenario != "region_month":
                        continue
                    key = (scenario, "groups")
                    groups = {"region": {label: label.split()[0] for label in strata},
                              "month": {label: label.split()[1] for label in strata}}
                    if key not in models:
                        models[key] = estimators.LoglinearPooledModel(
                            LISTS, len(strata), groups={name: [list(dict.fromkeys(m.values())).index(m[label])
                                                               for label in strata] for name, m in groups.items()})
                    fit = estimators.loglinear_pooled(strata, groups=groups, random_seed=seed, model=models[key])
                    extra = dict(divergences=fit.divergences, max_r_hat=float(fit.diagnostics["r_hat"].max()),
                                 min_ess=float(fit.diagnostics["ess_bulk"].min()),
                                 mcse_total=float(fit.diagnostics.loc["N (total)", "mcse_median"]))
                    table, total = fit.table, fit.total()
                elif method == "average":
                    fit = estimators.estimate_strata(strata, method="loglinear", select="average", progress=False)
                    table, total, extra = fit.table, fit.total(), {}
                elif method == "bayes":
                    fit = estimators.estimate_strata(strata, progress=False, random_seed=seed, cores=1)
                    table, total, extra = fit.table, fit.total(), {}
                else:
                    raise ValueError(method)
                seconds = time.perf_counter() - began
                rows = _rows(scenario, replicate, method, table, total, truth, seconds, extra)
                pd.DataFrame(rows).reindex(columns=COLUMNS).to_csv(
                    _csv(method), mode="a", header=not _csv(method).exists(), index=False)
                print(f"replicate {replicate} {scenario:12s} {method:8s} {seconds:6.1f} s  total "
                      f"{total.estimate:7.0f} [{total.interval[0]:7.0f}, {total.interval[1]:7.0f}] truth "
                      f"{truth.sum()}", flush=True)


METHOD_NAMES = {
    "average": "independent strata, loglinear AIC average (estimate_strata)",
    "bayes": "independent strata, loglinear_bayes (estimate_strata default)",
    "pooled": "loglinear_pooled (partial pooling, strata exchangeable)",
    "pooled_groups": "loglinear_pooled, groups=region and month (crossed effects)",
}


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["covered"] = (frame["lower"] <= frame["truth"]) & (frame["truth"] <= frame["upper"])
    frame["rel_error"] = frame["estimate"] / frame["truth"] - 1
    frame["rel_width"] = (frame["upper"] - frame["lower"]) / frame["truth"]
    frame["failed"] = frame["estimate"].isna()
    out = []
    for (scenario, method, part), group in frame.groupby(
            ["scenario", "method", np.where(frame["stratum"] == "TOTAL", "total", "strata")]):
        # per replicate first: the strata of one replicate share one fit
        per = group.groupby("replicate").agg(covered=("covered", "mean"), rel_error=("rel_error", "mean"),
                                             rel_width=("rel_width", "mean"), failed=("failed", "mean"))
        r = len(per)
        out.append(dict(scenario=scenario, part=part, method=method, replicates=r,
                        coverage=per["covered"].mean(), coverage_mcse=per["covered"].std(ddof=1) / np.sqrt(r),
                        bias=per["rel_error"].mean(), bias_mcse=per["rel_error"].std(ddof=1) / np.sqrt(r),
                        width=per["rel_width"].mean(), width_mcse=per["rel_width"].std(ddof=1) / np.sqrt(r),
                        failed=per["failed"].mean()))
    return pd.DataFrame(out)


def _by_region(frame: pd.DataFrame) -> str:
    """Coverage and bias of the strata's N by region (the regions differ in size and capture)."""
    strata = frame[frame["stratum"] != "TOTAL"].copy()
    strata["region"] = strata["stratum"].str.split().str[0]
    strata["covered"] = (strata["lower"] <= strata["truth"]) & (strata["truth"] <= strata["upper"])
    strata["rel_error"] = strata["estimate"] / strata["truth"] - 1
    lines = ["By region (strata of one region and method pooled over months and replicates; about 120, 60 and 30 "
             "deaths a month, capture logits +0.4, 0, -0.4):", "",
             "| region | method | replicates | coverage | rel. bias | median observed n |", "|---|---|---|---|---|---|"]
    for (region, method), group in strata.groupby(["region", "method"]):
        lines.append(f"| {region} | {METHOD_NAMES.get(method, method)} | {group['replicate'].nunique()} | "
                     f"{group['covered'].mean():.2f} | "
                     f"{group['rel_error'].mean():+.3f} | {group['n_observed'].median():.0f} |")
    return "\n".join(lines)


def report() -> str:
    frame = pd.concat([pd.read_csv(path) for path in sorted(RESULTS.glob("pooled_strata_*.csv"))],
                      ignore_index=True)
    table = summarise(frame)
    lines = ["# Strata that borrow strength: independent strata against partial pooling", "",
             "Generated by `benchmarks/calibration_pooled_strata.py --report` from `pooled_strata_<method>.csv`; the scenarios "
             "and methods are described in that script's docstring. Truth: the realised N of each stratum and "
             "their sum. 95% intervals. Coverage is the share of intervals holding the truth; bias the mean of "
             "estimate / truth - 1 (estimate: median or point estimate); width the mean of (upper - lower) / truth. "
             "For strata, each replicate's strata are averaged first; MCSE (in brackets) is the standard deviation "
             "over replicates / sqrt(replicates).", ""]
    for scenario in SCENARIOS:
        sub = table[table["scenario"] == scenario]
        if sub.empty:
            continue
        lines += [f"## {scenario}", "",
                  "| part | method | replicates | coverage | rel. bias | rel. width | failed strata |",
                  "|---|---|---|---|---|---|---|"]
        for _, row in sub.sort_values(["part", "method"], ascending=[False, True]).iterrows():
            lines.append(
                f"| {row['part']} | {METHOD_NAMES.get(row['method'], row['method'])} | {row['replicates']} | "
                f"{row['coverage']:.2f} ({row['coverage_mcse']:.2f}) | {row['bias']:+.3f} ({row['bias_mcse']:.3f}) | "
                f"{row['width']:.2f} ({row['width_mcse']:.2f}) | {row['failed']:.3f} |")
        for method in ("pooled", "pooled_groups"):
            pooled = frame[(frame["scenario"] == scenario) & (frame["method"] == method)
                           & (frame["stratum"] == "TOTAL")]
            if not len(pooled):
                continue
            lines += ["", f"{METHOD_NAMES[method]}: divergent transitions in {int((pooled['divergences'] > 0).sum())} of "
                      f"{len(pooled)} fits (median {pooled['divergences'].median():.0f}); largest R-hat over N, tau "
                      f"and omega: median {pooled['max_r_hat'].median():.3f}, max {pooled['max_r_hat'].max():.3f}; "
                      f"smallest bulk ESS: median {pooled['min_ess'].median():.0f}; MCSE of the total's median: "
                      f"median {pooled['mcse_total'].median():.1f} deaths; seconds per fit (compiled model "
                      f"reused): median {pooled['seconds'].median():.1f}."]
        if scenario == "region_month":
            lines += ["", _by_region(frame[frame["scenario"] == scenario])]
        lines.append("")
    REPORT.write_text("\n".join(lines))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replicates", type=int, default=60)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--methods", default="pooled,average")
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args(argv)
    if args.report:
        print(report())
        return
    run(args.replicates, args.methods.split(","), args.start)


if __name__ == "__main__":
    main()
