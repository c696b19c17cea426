"""Calibration of daily_rates: interval coverage over simulated conflicts, simulation-based calibration ranks,
and two misspecified scenarios.

Scenarios (``--scenario``):

* ``model``: 120 days, a random-walk log rate (mean 50 a day), three lists with different capture
  probabilities and two-way dependence, a clustered survey (30 clusters x 20 households): the model's own
  generative story with a fixed capture structure. Each replicate draws a new rate path, deaths, captures and
  survey. Reported: the share of replicates whose 95% interval covers the true mean daily rate (mean of the true
  expected deaths per day) and the true total deaths (deaths that happened), with the Monte Carlo standard error
  sqrt(p (1 - p) / R). Target: 93%-97%.
* ``sbc``: simulation-based calibration (Talts et al. 2018): parameters and data drawn from the model's prior
  (with a fixed prior for the rate level), fitted, and the rank of the truth among L thinned posterior draws
  recorded; uniform ranks <=> calibrated posterior. Chi-square test over 10 bins.
* ``biased_survey``: as ``model`` but the survey over-reports deaths by 20%.
* ``coverage_jump``: as ``model`` but list A's coverage doubles from day 60 on (the model assumes it constant).
* ``coverage_jump_tv``: the same data fitted with ``time_varying_capture=True`` (a random walk on each list's logit
  coverage), the option meant for drifting coverage.
* ``heterogeneous``: a hidden visibility class (a quarter of the deaths have log-odds of capture 2.5 higher on
  every list), list B's coverage doubling at day 60, referral A->C (log odds ratio 0.8), a tally at 40% and the
  clustered survey; fitted with the defaults (one capture class). ``heterogeneous_c2``: the same data with
  ``capture_classes=2`` (issue 16).

One compiled model serves every replicate of a scenario (same data shape; new data through ``pm.Data``).
Results are appended replicate by replicate to ``benchmarks/results/calibration_daily_<scenario>.csv`` and
summarised in ``benchmarks/results/calibration_daily_summary.md``.

Usage: ``python benchmarks/calibration_daily.py --scenario model --replicates 200``
"""

from __future__ import annotations

import argparse
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from estimators._daily import DailyRatesModel, Priors, prepare_data
from estimators._daily._draws import _quantities
from estimators._daily._fit import _fit
from estimators.simulate import simulate_conflict

RESULTS = Path(__file__).parent / "results"
DAYS = 120
POPULATION = (450_000, 550_000)
SCENARIOS = {
    "model": {},
    "biased_survey": {"survey_bias": 1.2},
    "coverage_jump": {"coverage_change": {0: (60, 2.0)}},
    "coverage_jump_tv": {"coverage_change": {0: (60, 2.0)}},
    "heterogeneous": {"visibility": (0.25, 2.5), "coverage_change": {1: (60, 2.0)}, "interactions": {(0, 2): 0.8},
                      "tally_coverage": 0.4},
}
SCENARIOS["heterogeneous_c2"] = SCENARIOS["heterogeneous"]
# The remedy the model offers for drifting coverage, fitted to the same data as ``coverage_jump``.
FIT_OVERRIDES = {"coverage_jump_tv": {"time_varying_capture": True}, "heterogeneous_c2": {"capture_classes": 2}}
FIT = dict(rate_model="random_walk", time_varying_capture=False, list_dependence=True, dependence_scale=0.5,
           rw_scale=0.1, capture_rw_scale=0.1, tally_coverage_prior=(1.0, 1.0), bias_scale=0.3,
           rate_level_prior=None, level=0.95, prior_draws=0, target_accept=0.9, progress=False,
           allow_unidentified=False)


def _data(sim):
    return prepare_data(days=DAYS, lists=sim.lists, surveys=[sim.survey], tallies=list(sim.tallies),
                        population=POPULATION)


def _coverage_row(fit, mean_truth, total_truth):
    row = {"mean_rate_truth": mean_truth, "total_truth": total_truth}
    for name, est, truth in (("mean_rate", fit.mean_rate, mean_truth), ("total", fit.total, total_truth)):
        row.update({f"{name}_median": est.estimate, f"{name}_lower": est.interval[0],
                    f"{name}_upper": est.interval[1],
                    f"{name}_covered": bool(est.interval[0] <= truth <= est.interval[1]),
                    f"{name}_rank": float(np.mean(est.draws < truth))})
    row.update({"divergences": fit.diagnostics["divergences"], "r_hat": fit.diagnostics["r_hat"],
                "ess_bulk": fit.diagnostics["ess_bulk"]})
    return row


def run_scenario(scenario, replicates, *, draws, tune, chains, seed, out):
    """Coverage of the 95% intervals over ``replicates`` simulated conflicts of one scenario."""
    options = SCENARIOS[scenario]
    fit_options = {**FIT, **FIT_OVERRIDES.get(scenario, {})}
    model = None
    started = time.perf_counter()
    for r in range(replicates):
        sim = simulate_conflict(DAYS, random_seed=seed + r, **options)
        data = _data(sim)
        if model is None:
            model = DailyRatesModel(
                data, Priors(), rate_model=fit_options["rate_model"],
                time_varying_capture=fit_options["time_varying_capture"],
                capture_classes=fit_options.get("capture_classes", 1),
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = _fit(data, model=model, draws=draws, tune=tune, chains=chains, cores=min(chains, 2),
                       random_seed=seed + r, **fit_options)
        row = {"scenario": scenario, "replicate": r, **_coverage_row(fit, sim.mean_rate, sim.total),
               "seconds": fit.diagnostics["seconds"]}
        pd.DataFrame([row]).to_csv(out, mode="a", header=not out.exists(), index=False)
        print(f"{scenario} {r + 1}/{replicates}: covered rate={row['mean_rate_covered']} "
              f"total={row['total_covered']} ({time.perf_counter() - started:.0f} s, "
              f"compilations={model.compilations})", flush=True)


def run_sbc(replicates, *, draws, tune, chains, seed, out, thin_to=100):
    """Simulation-based calibration: truth and data from the prior, rank of the truth among posterior draws."""
    template = _data(simulate_conflict(DAYS, random_seed=seed))
    # A fixed prior on the level (the default centres it on the data, which SBC must not do).
    fit_options = {**FIT, "rate_level_prior": (np.log(30.0), 0.3), "rw_scale": 0.05}
    priors = Priors(rate_level=fit_options["rate_level_prior"], rw_scale=fit_options["rw_scale"])
    model = DailyRatesModel(template, priors)
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    prior = model.sample_prior(template, priors, draws=replicates, random_seed=seed)
    for r in range(replicates):
        truth = {name: value[r : r + 1] for name, value in prior.items()}
        # the lists' counts per (bin, pattern) are Poisson (the model's Potential); the survey's deaths negative
        # binomial with the survey's dispersion, drawn as a gamma-Poisson mixture
        q = _quantities(truth, template)
        cells = rng.poisson(q["cell_bin"][0, :, 1:]).astype(float)
        mu, alpha = truth["survey_mean"][0], template.survey_alpha
        survey = rng.poisson(rng.gamma(alpha, mu / alpha)).astype(float)
        data = replace(template, list_cells=cells, survey_deaths=survey)
        mean_truth = float(q["rate"].mean())
        total_truth = float(cells.sum() + rng.poisson(q["unlisted_expected"][0]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = _fit(data, model=model, draws=draws, tune=tune, chains=chains, cores=min(chains, 2),
                       random_seed=seed + r, **fit_options)
        row = {"scenario": "sbc", "replicate": r, **_coverage_row(fit, mean_truth, total_truth),
               "seconds": fit.diagnostics["seconds"]}
        # Ranks among L thinned draws (Talts et al. 2018: thin to reduce autocorrelation).
        for name, est, truth_value in (("mean_rate", fit.mean_rate, mean_truth), ("total", fit.total, total_truth)):
            thinned = est.draws[:: max(len(est.draws) // thin_to, 1)][:thin_to]
            row[f"{name}_rank_thinned"] = int(np.sum(thinned < truth_value))
        row["L"] = thin_to
        pd.DataFrame([row]).to_csv(out, mode="a", header=not out.exists(), index=False)
        print(f"sbc {r + 1}/{replicates}: ranks {row['mean_rate_rank_thinned']}, {row['total_rank_thinned']} "
              f"({time.perf_counter() - started:.0f} s)", flush=True)


def summarise(results=RESULTS) -> str:
    """Markdown table of every scenario's results found in ``results``."""
    lines = ["# daily_rates calibration", "",
             "| scenario | replicates | covers mean rate | covers total | median rel. error of mean rate | "
             "divergent fits | seconds per fit |", "|---|---|---|---|---|---|---|"]
    sbc_lines = []
    for path in sorted(results.glob("calibration_daily_*.csv")):
        frame = pd.read_csv(path)
        if frame.empty:
            continue
        n = len(frame)
        scenario = frame.scenario.iloc[0]
        cells = []
        for name in ("mean_rate", "total"):
            p = frame[f"{name}_covered"].mean()
            cells.append(f"{p:.1%} ± {np.sqrt(p * (1 - p) / n):.1%}")
        error = np.median(frame.mean_rate_median / frame.mean_rate_truth - 1)
        lines.append(f"| {scenario} | {n} | {cells[0]} | {cells[1]} | {error:+.1%} | "
                     f"{(frame.divergences > 0).sum()} | {frame.seconds.median():.1f} |")
        if scenario == "sbc":
            for name in ("mean_rate", "total"):
                L = int(frame.L.iloc[0])
                counts = np.histogram(frame[f"{name}_rank_thinned"], bins=10, range=(0, L + 1))[0]
                chi2 = stats.chisquare(counts)
                sbc_lines.append(f"| {name} | {n} | {' '.join(map(str, counts))} | {chi2.statistic:.1f} | "
                                 f"{chi2.pvalue:.3f} |")
    text = "\n".join(lines)
    if sbc_lines:
        text += ("\n\n## Simulation-based calibration ranks (10 bins, chi-square test of uniformity)\n\n"
                 "| quantity | replicates | counts per bin | chi-square | p-value |\n|---|---|---|---|---|\n"
                 + "\n".join(sbc_lines))
    text += ("\n\n± is the Monte Carlo standard error sqrt(p(1-p)/R). Target for `model` and `sbc`: 93%-97%.\n"
             "Misspecified scenarios are reported as they are.\n")
    (results / "calibration_daily_summary.md").write_text(text)
    return text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", choices=[*SCENARIOS, "sbc", "summary"], default="model")
    parser.add_argument("--replicates", type=int, default=200)
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--tune", type=int, default=500)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20_170_219)
    parser.add_argument("--fresh", action="store_true", help="delete this scenario's earlier results first")
    args = parser.parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    if args.scenario != "summary":
        out = RESULTS / f"calibration_daily_{args.scenario}.csv"
        if args.fresh and out.exists():
            out.unlink()
        done = len(pd.read_csv(out)) if out.exists() else 0
        remaining = max(args.replicates - done, 0)
        kwargs = dict(draws=args.draws, tune=args.tune, chains=args.chains, seed=args.seed + done, out=out)
        if args.scenario == "sbc":
            run_sbc(remaining, **kwargs)
        else:
            run_scenario(args.scenario, remaining, **kwargs)
    print(summarise())


if __name__ == "__main__":
    main()
