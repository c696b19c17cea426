"""Calibration of the analyses of casualty records as they come (issue 15 item 8).

On R replicates of :func:`estimators.simulate.simulate_records` (8,000 deaths over 180 days, 3 regions, 4 lists
whose capture depends on region, list D starting on day 90, ~12% of records undated, ~18% with no region, ~12% with
no sex, ~15% dated only to the month; about 4,500 records seen), the coverage of the 95% intervals for the total and
for each region's total, the relative bias and the median relative width of:

(a) ``naive``: drop every record with a missing field; the pooled table, ``loglinear(select="bic")`` (per region:
    the same on each region's complete records); ``pooled_all``: every record, the pooled table, BIC (separates
    the harm of dropping records from that of ignoring the regions);
(b) ``full``: ``impute(m=10)`` the region and sex, ``loglinear(covariates=["region"], select="average")`` on each
    completed table, ``pool`` (Rubin's rules on log N; per region, ``pool``'s level-by-level table
    ``details["by_level"]``: Rubin's rules on each level's log estimate with delta-method variance);
(d) with ``--estimate R``: ``estimators.estimate`` on every record pooled (``estimate_pooled``; did its test of
    capture differing by a covariate fire?) and on the imputations (m = M) with ``covariates=["region"]``
    (``estimate_region``), the same records as the replicate of (a)-(b);
(c) with ``--daily R``: ``daily_rates`` on the records with month-only and missing dates and
    ``list_windows={"D": (90, None)}`` ("daily_coarse") versus the same on the exactly dated records only
    ("daily_dropped"), small draws, one compiled model reused.

Scenarios: ``observed`` (capture depends on region only: the full analysis's assumptions hold) and ``hidden``
(30% of the deaths in a hidden class with a quarter of the capture probability on every list).

Run: ``python -m benchmarks.calibration_records --replicates 100 [--estimate 100] [--daily 100] [--stop-at HH:MM]
[--jobs 2]``
(each replicate is appended to the csv as it finishes and a rerun resumes, for both parts; ``--replicates 0
--daily 100`` runs only the daily comparison, alternating scenarios, until 100 per scenario or the UTC time
``--stop-at``; ``--replicates 0`` alone rewrites the report; ``--fresh`` starts over); writes
``benchmarks/results/calibration_records.csv`` and ``.md``.
"""

from __future__ import annotations

import argparse
import math
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

import estimators
from estimators.simulate import simulate_records

RESULTS = Path(__file__).parent / "results"
LISTS = ["A", "B", "C", "D"]
N = 8000
DAYS = 180
START = "2024-01-01"
M = 10
SCENARIOS = {"observed": dict(hidden_share=0.0), "hidden": dict(hidden_share=0.3, hidden_factor=0.25)}
TARGETS = ["total", "north", "centre", "south"]


def _row(scenario, replicate, method, target, truth, estimate, lower, upper, seconds=np.nan):
    return {"scenario": scenario, "replicate": replicate, "method": method, "target": target, "truth": truth,
            "estimate": estimate, "lower": lower, "upper": upper,
            "covered": bool(lower <= truth <= upper) if np.isfinite(lower) and np.isfinite(upper) else np.nan,
            "seconds": seconds}


def _naive(records, sim, scenario, r):
    rows = []
    started = time.perf_counter()
    complete = records.dropna(subset=["date", "region", "sex"])
    h = estimators.CaptureHistories.from_records(complete, lists=LISTS, covariates=["region"])
    fit = estimators.loglinear(h, select="bic")
    rows.append(_row(scenario, r, "naive", "total", sim.total, fit.estimate, *fit.interval,
                     time.perf_counter() - started))
    fit = estimators.loglinear(estimators.CaptureHistories.from_records(records, lists=LISTS, covariates=[]),
                               select="bic")
    rows.append(_row(scenario, r, "pooled_all", "total", sim.total, fit.estimate, *fit.interval))
    for region, truth in sim.by_region.items():
        part = complete[complete["region"] == region]
        try:
            f = estimators.loglinear(estimators.CaptureHistories.from_records(part, lists=LISTS, covariates=[]),
                                     select="bic")
            rows.append(_row(scenario, r, "naive", region, truth, f.estimate, *f.interval))
        except Exception:  # noqa: BLE001 - a region whose MLE does not exist counts as not covered
            rows.append(_row(scenario, r, "naive", region, truth, np.nan, np.nan, np.nan))
    return rows


def _full(records, sim, scenario, r, seed):
    started = time.perf_counter()
    imputations = estimators.impute(records, m=M, lists=LISTS, columns=["region", "sex"], random_seed=seed)
    fits = []
    for completed in imputations.datasets:
        h = estimators.CaptureHistories.from_records(completed, lists=LISTS, covariates=["region"])
        fits.append(estimators.loglinear(h, covariates=["region"], select="average"))
    pooled = estimators.pool(fits)
    rows = [_row(scenario, r, "full", "total", sim.total, pooled.estimate, *pooled.interval,
                 time.perf_counter() - started)]
    # pool() pools the per-region table level by level (Rubin's rules on log N); None if the regions differed
    by_level = pooled.details.get("by_level")
    by_level = by_level.set_index("region") if by_level is not None else pd.DataFrame()
    for region, truth in sim.by_region.items():
        if region in by_level.index:
            level = by_level.loc[region]
            rows.append(_row(scenario, r, "full", region, truth, level["estimate"], level["lower"], level["upper"]))
        else:
            rows.append(_row(scenario, r, "full", region, truth, np.nan, np.nan, np.nan))
    return rows, pooled.details["between_share"]


def replicate(scenario, r, seed):
    """Both frequentist analyses of one simulated record set."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = simulate_records(N, days=DAYS, start=START, random_seed=seed, **SCENARIOS[scenario])
        records = sim.records
        rows = _naive(records, sim, scenario, r)
        full, share = _full(records, sim, scenario, r, seed)
    for row in rows + full:
        row["n_records"] = len(records)
        row["n_complete"] = int(records.dropna(subset=["date", "region", "sex"]).shape[0])
    full[0]["between_share"] = share
    return rows + full


def run_estimate(scenario, r, seed):
    """``estimators.estimate`` on the same records as replicate ``r``: every record pooled (``estimate_pooled``),
    and region imputed (m = M) with ``covariates=["region"]`` (``estimate_region``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = simulate_records(N, days=DAYS, start=START, random_seed=seed, **SCENARIOS[scenario])
        started = time.perf_counter()
        pooled = estimators.estimate(sim.records, lists=LISTS, random_seed=seed)
        rows = [_row(scenario, r, "estimate_pooled", "total", sim.total, pooled.estimate, *pooled.interval,
                     time.perf_counter() - started)]
        rows[-1]["warned_covariate"] = bool(pooled.details["capture_differs_by"])
        rows[-1]["agree"] = pooled.agree
        started = time.perf_counter()
        imputations = estimators.impute(sim.records, m=M, lists=LISTS, columns=["region", "sex"], random_seed=seed)
        by_region = estimators.estimate(imputations, covariates=["region"], random_seed=seed)
        rows.append(_row(scenario, r, "estimate_region", "total", sim.total, by_region.estimate,
                         *by_region.interval, time.perf_counter() - started))
        rows[-1]["agree"] = by_region.agree
    return rows


def run_daily(scenario, r, seed, models, *, draws=300, tune=300, chains=2):
    """Replicate ``r`` of ``daily_rates`` with coarse dates and list_windows vs. the exactly dated records only.

    ``models``: method -> a compiled model from an earlier replicate, reused (and updated) here."""
    rows = []
    sim = simulate_records(N, days=DAYS, start=START, random_seed=seed + r, **SCENARIOS[scenario])
    records = sim.records.rename(columns={"date": "day"})[LISTS + ["day"]]
    exact = records[[isinstance(d, pd.Timestamp) for d in records["day"]]]
    for method, data in (("daily_coarse", records), ("daily_dropped", exact)):
        started = time.perf_counter()
        options = dict(population=(9e5, 1.1e6), start=START, days=DAYS, lists=data, list_names=LISTS,
                       list_windows={"D": (90, None)}, draws=draws, tune=tune, chains=chains, cores=2,
                       prior_draws=0, random_seed=seed + r)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fit = estimators.daily_rates(model=models.get(method), **options)
            except estimators.exceptions.DataError:
                fit = estimators.daily_rates(**options)
        models[method] = fit.model
        for target, est, truth in (("total", fit.total, sim.total), ("mean_rate", fit.mean_rate, sim.mean_rate)):
            rows.append(_row(scenario, r, method, target, truth, est.estimate, *est.interval,
                             time.perf_counter() - started))
        print(f"daily {scenario} {r + 1} {method}: total {fit.total.estimate:,.0f} "
              f"({fit.total.interval[0]:,.0f}-{fit.total.interval[1]:,.0f}) truth {sim.total:,} "
              f"[{time.perf_counter() - started:.0f} s]", flush=True)
    return rows


def _append(csv: Path, rows: list[dict]) -> None:
    """Append rows to the csv under its header's columns (a row's columns written in its own order would land
    under the wrong names); new columns rewrite the file with a wider header."""
    frame = pd.DataFrame(rows)
    if csv.exists():
        header = list(pd.read_csv(csv, nrows=0).columns)
        if set(frame.columns) - set(header):
            pd.concat([pd.read_csv(csv), frame], ignore_index=True).to_csv(csv, index=False)
            return
        frame = frame.reindex(columns=header)
    frame.to_csv(csv, mode="a", header=not csv.exists(), index=False)


def _past(stop_at: str | None) -> bool:
    """Whether the UTC clock has passed ``stop_at`` ("HH:MM", today)."""
    if not stop_at:
        return False
    return time.strftime("%H:%M", time.gmtime()) >= stop_at


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    """Coverage (with its Monte Carlo standard error), relative bias and median relative width per cell."""
    out = []
    for (scenario, method, target), g in frame.groupby(["scenario", "method", "target"], sort=False):
        covered = g["covered"].astype(float)
        valid = covered.notna()
        cov = float(covered[valid].mean()) if valid.any() else np.nan
        k = int(valid.sum())
        out.append({"scenario": scenario, "method": method, "target": target, "replicates": len(g),
                    "failed": int((~valid).sum()), "coverage": cov,
                    "coverage_mcse": math.sqrt(cov * (1 - cov) / k) if k else np.nan,
                    "rel_bias": float(((g["estimate"] - g["truth"]) / g["truth"]).mean()),
                    "rel_bias_mcse": float(((g["estimate"] - g["truth"]) / g["truth"]).std() / math.sqrt(len(g))),
                    "median_rel_width": float(((g["upper"] - g["lower"]) / g["truth"]).median()),
                    "mean_truth": float(g["truth"].mean()), "mean_seconds": float(g["seconds"].mean())})
    return pd.DataFrame(out)


def _markdown(table: pd.DataFrame, raw: pd.DataFrame, settings: str) -> str:
    lines = ["# Calibration: casualty records as they come", "", settings, "",
             "| scenario | method | target | replicates | coverage (MCSE) | rel. bias (MCSE) | median rel. width |",
             "|---|---|---|---|---|---|---|"]
    for t in table.itertuples():
        failed = f" ({t.failed} failed)" if t.failed else ""
        lines.append(f"| {t.scenario} | {t.method} | {t.target} | {t.replicates}{failed} | "
                     f"{t.coverage:.3f} ({t.coverage_mcse:.3f}) | {t.rel_bias:+.3f} ({t.rel_bias_mcse:.3f}) | "
                     f"{t.median_rel_width:.3f} |")
    records = raw.drop_duplicates(["scenario", "replicate"])
    if "n_records" in records and records["n_records"].notna().any():
        lines += ["", f"Records seen per replicate: median {records['n_records'].median():,.0f}; complete "
                      f"(no missing field): median {records['n_complete'].median():,.0f}."]
    if "warned_covariate" in raw:
        for scenario, g in raw[raw["method"].eq("estimate_pooled")].groupby("scenario", sort=False):
            lines.append(f"estimate_pooled, {scenario}: the covariate warning (capture differs by region) fired in "
                         f"{int(g['warned_covariate'].astype(bool).sum())} of {len(g)} replicates; methods agreed "
                         f"in {int(g['agree'].astype(bool).sum())}.")
    if "between_share" in raw and raw["between_share"].notna().any():
        lines.append(f"Full analysis, share of the variance of log N due to missing values (between_share): "
                     f"median {raw['between_share'].median():.3f}.")
    lines += ["", "Coverage MCSE = sqrt(c(1-c)/R); relative bias = mean((estimate - truth)/truth); width = "
                  "(upper - lower)/truth. Per-region targets: the true deaths of that region.", ""]
    notes = RESULTS / "calibration_records_notes.md"  # what a reader needs about past runs, kept by hand
    if notes.exists():
        lines += [notes.read_text().rstrip(), ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=100,
                        help="replicates of the frequentist analyses per scenario (those already in the csv are "
                             "kept; 0: none more)")
    parser.add_argument("--daily", type=int, default=0,
                        help="replicates of the daily-rate comparison per scenario (those already in the csv are "
                             "kept; 0: none more)")
    parser.add_argument("--estimate", type=int, default=0,
                        help="replicates of estimators.estimate (pooled, and with covariates=['region'] on the "
                             "imputations) per scenario (those already in the csv are kept)")
    parser.add_argument("--stop-at", default=None, metavar="HH:MM",
                        help="start no daily replicate after this UTC time; the report is written from what ran")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--fresh", action="store_true", help="discard the replicates already in the csv")
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS))
    args = parser.parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    started = time.perf_counter()
    csv = RESULTS / "calibration_records.csv"
    # replicates are appended to the csv as they finish; a rerun skips those already there (--fresh: start over)
    if args.fresh and csv.exists():
        csv.unlink()
    done, daily_done, estimate_done = set(), set(), set()
    if csv.exists():
        previous = pd.read_csv(csv)
        daily = previous["method"].str.startswith("daily")
        recommended = previous["method"].str.startswith("estimate")
        frequentist = ~daily & ~recommended
        done = set(zip(previous.loc[frequentist, "scenario"], previous.loc[frequentist, "replicate"]))
        daily_done = set(zip(previous.loc[daily, "scenario"], previous.loc[daily, "replicate"]))
        estimate_done = set(zip(previous.loc[recommended, "scenario"], previous.loc[recommended, "replicate"]))
    tasks = [(s, r, args.seed + 1000 * i + r) for i, s in enumerate(args.scenarios)
             for r in range(args.replicates) if (s, r) not in done]
    finished = 0
    for rep in Parallel(n_jobs=args.jobs, return_as="generator_unordered")(delayed(replicate)(*t) for t in tasks):
        _append(csv, rep)
        finished += 1
        print(f"{rep[0]['scenario']} replicate {rep[0]['replicate']} ({finished}/{len(tasks)}, "
              f"{time.perf_counter() - started:.0f} s)", flush=True)
    frequentist_seconds = time.perf_counter() - started if tasks else float("nan")
    tasks = [(s, r, args.seed + 1000 * i + r) for r in range(args.estimate) for i, s in enumerate(args.scenarios)
             if (s, r) not in estimate_done]
    chunks = Parallel(n_jobs=args.jobs, return_as="generator")(delayed(run_estimate)(*t) for t in tasks)
    for finished, rep in enumerate(chunks, 1):
        _append(csv, rep)
        print(f"estimate: {rep[0]['scenario']} replicate {rep[0]['replicate']} ({finished}/{len(tasks)}, "
              f"{time.perf_counter() - started:.0f} s)", flush=True)
        if _past(args.stop_at):
            print(f"--stop-at {args.stop_at} passed: no more estimate replicates", flush=True)
            break
    # daily replicates alternate between the scenarios and are appended as each finishes, so a run stopped at any
    # point (or by --stop-at) leaves the scenarios with as many replicates as each other, give or take one
    t0, models, daily_run = time.perf_counter(), {}, 0
    for r in range(args.daily):
        if _past(args.stop_at):
            print(f"--stop-at {args.stop_at} passed: no more daily replicates", flush=True)
            break
        for i, s in enumerate(args.scenarios):
            if (s, r) in daily_done:
                continue
            rep = run_daily(s, r, args.seed + 1000 * i, models)
            _append(csv, rep)
            daily_run += 1
    daily_seconds = time.perf_counter() - t0
    raw = pd.read_csv(csv)
    raw.to_csv(csv, index=False)  # appended rows may lack the trailing columns: one width for every row
    table = summarise(raw)
    is_daily = raw["method"].str.startswith("daily")
    daily_counts = raw[is_daily].groupby("scenario", sort=False)["replicate"].nunique()
    settings = (f"N = {N:,} deaths over {DAYS} days, 4 lists (D from day 90), 3 regions; m = {M} imputations. "
                "Frequentist analyses: replicates per scenario "
                + ", ".join(f"{k} {v}" for k, v in raw[~raw["method"].str.startswith(("daily", "estimate"))]
                            .groupby("scenario", sort=False)["replicate"].nunique().items())
                + (f" ({frequentist_seconds:.0f} s wall for this run on {args.jobs} processes, shared machine)"
                   if np.isfinite(frequentist_seconds) else "")
                + ("; daily: replicates per scenario " + ", ".join(f"{k} {v}" for k, v in daily_counts.items())
                   + (f" ({daily_run} run now in {daily_seconds:.0f} s)" if daily_run else "") + "."
                   if len(daily_counts) else "; daily comparison not run.") + f" Seed {args.seed}.")
    (RESULTS / "calibration_records.md").write_text(_markdown(table, raw, settings))
    print(_markdown(table, raw, settings))


if __name__ == "__main__":
    main()
