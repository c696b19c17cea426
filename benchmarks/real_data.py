"""Every available method on every closed-population dataset shipped in estimators/data, beside the R packages.

    python -m benchmarks real-data          # -> benchmarks/REAL_DATA.md (+ benchmarks/results/real_data.csv)

Datasets: the kinds ``closed_mse``, ``closed_mse_artificial``, ``closed_mse_strata`` (summed over strata) and
``closed_capture``. On the stratified ones (``closed_mse_strata``) the strata are also fitted, jointly by
``estimate_strata(method="pooled")`` (strata that borrow strength) and one at a time by the AIC-averaged log-linear
model, each row giving the total over the strata. ``graphical_bma`` also runs with ``method="mc3"`` on the 5- and
6-list tables, beside its exact enumeration; beyond 6 lists its default is MC3. ``estimate``'s sensitivity table
(each method as run inside it, and how its sampled runs ended) is kept as rows ``estimate[<method>]``. For each method the nearest R result in tests/data/peers.csv is shown with the difference in
percent (ours / R - 1), and every method's estimate is compared with the published figure in
tests/data/published_reference.csv where there is one. The times recorded here (after one untimed warm-up call
of each method, whose time is kept as ``warmup_seconds``) feed the speed table (:mod:`benchmarks.speed`).
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from .methods import REGISTRY, Method, availability, run_method
from .report import _markdown_table

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "tests" / "data"
KINDS = ("closed_mse", "closed_mse_artificial", "closed_mse_strata", "closed_capture")
SEED = 20240601

# Our method -> the R result it is compared with (method-name prefixes in peers.csv, first found wins).
PEER_METHODS = {
    "chapman": ("estN.pair Chapman lists {first}&{second}",),
    "loglinear_aic": ("closedpCI.t loglinear AIC-best", "closedpCI.t loglinear AIC-step"),
    "loglinear_bic": ("closedpCI.t loglinear BIC-best", "closedpCI.t loglinear BIC-step"),
    "loglinear_stepwise": ("estimatepopulation.0 stepwise",),
    "bootstrap": ("estimatepopulation stepwise + BCa bootstrap",),
    "chao": ("closedpCI.t Mh Chao (LB)",),
    "zelterman": (),
    "mth_darroch": ("closedpCI.t Mth Darroch",),
    "mth_poisson2": ("closedpCI.t Mth Poisson2",),
    "sample_coverage": ("estN LSC Nhat-1",),
    "graphical_bma": ("bma.cr wide grid", "bma.cr default"),
    "latent_class": ("lcmCR",),
    "loglinear_bayes": ("bict",),
}


# On the real tables the latent-class model runs with the package's defaults (4 chains extended until R-hat and ESS
# of N pass) but a budget of 640,000 sweeps per chain (6 doublings of the first run) instead of "auto" (5,120,000 on
# tables of up to 16 patterns): on the tables whose chains never agree (Rcapture_HIV: R-hat 1.087 after 640,000
# sweeps; SparseMSE_Ned: 1.465 after 320,000) the auto budget takes several minutes each, which this report cannot
# afford. The comparison table marks every result that ended with a ConvergenceWarning.
LATENT_CLASS_MAX_SWEEPS = 640_000
REAL_DATA_METHODS = {"latent_class": replace(REGISTRY["latent_class"],
                                             options=(("max_sweeps", LATENT_CLASS_MAX_SWEEPS),))}

# Rows only this report has, each run on the tables it applies to: MC3 where enumeration gives the exact answer to
# compare it with (5 and 6 lists).
EXTRA_METHODS = {
    "graphical_bma_mc3": (Method("graphical_bma_mc3", "graphical_bma", (("method", "mc3"),),
                                 "graphical_bma with the graphs sampled by MC3 (its default beyond 6 lists)"),
                          lambda histories: histories.k in (5, 6)),
}

# Strata fitted on the stratified datasets: the pooled model (with 3 lists its docstring advises shared
# interactions, since pooled ones leave each stratum's N set by the pooling alone) and, for comparison, each
# stratum alone under the AIC-averaged log-linear model, summed with the Wald interval of independent strata.
STRATA_KINDS = ("closed_mse_strata",)
STRATA_METHODS = {
    "strata_pooled": lambda k, seed: dict(method="pooled", interactions="shared" if k == 3 else "pooled",
                                          random_seed=seed),
    "strata_loglinear_average": lambda k, seed: dict(method="loglinear", select="average"),
}


def closed_datasets() -> list[str]:
    """Names of the shipped closed-population datasets, in registry order."""
    from estimators import list_datasets

    registry = list_datasets()
    return registry.loc[registry["kind"].isin(KINDS), "dataset"].tolist()


def peer_row(peers: pd.DataFrame, dataset: str, method: str, lists) -> pd.Series | None:
    """The R result compared with our ``method`` on ``dataset`` (None if the R packages have none)."""
    rows = peers[peers["dataset"] == dataset]
    for prefix in PEER_METHODS.get(method, ()):
        prefix = prefix.format(first=lists[0], second=lists[1])
        hit = rows[rows["method"].str.startswith(prefix)]
        if len(hit):
            return hit.iloc[0]
    return None


def _strata_columns(histories) -> list[str]:
    """The covariates that define a shipped dataset's strata (ScotPWID's ``censored`` flags cells, not strata)."""
    return [name for name in histories.covariates if name != "censored"]


def run_strata(histories, name: str, seed: int) -> dict:
    """The total over the strata of one strata method, as a row of :func:`run_method`; never raises."""
    import warnings

    from estimators import estimate_strata

    row = dict(estimate=np.nan, lower_80=np.nan, upper_80=np.nan, lower_95=np.nan, upper_95=np.nan,
               seconds=np.nan, warnings="", failure="")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            start = time.perf_counter()
            fit = estimate_strata(histories, by=_strata_columns(histories), progress=False,
                                  **STRATA_METHODS[name](histories.k, seed))
            total = fit.total()
            row["seconds"] = time.perf_counter() - start
            other = fit.total(0.80)
        row.update(estimate=float(total.estimate), lower_95=float(total.interval[0]),
                   upper_95=float(total.interval[1]), lower_80=float(other.interval[0]),
                   upper_80=float(other.interval[1]))
        messages = dict.fromkeys(" ".join(str(m).split()) for m in [*(w.message for w in caught), *total.warnings])
        row["warnings"] = (f"{len(fit.results)} strata fitted; " + " | ".join(messages))[:500]
    except Exception as error:  # the benchmark records every failure and carries on
        row["failure"] = f"{type(error).__name__}: {str(error)[:300]}"
    return row


def run_real_data(methods=None, datasets=None) -> pd.DataFrame:
    """Run each available method once on each dataset; one row per (dataset, method), with time and failure."""
    from estimators import DataError, list_datasets, load_dataset

    methods = [m for m, reason in availability(methods or list(REGISTRY)).items() if reason is None]
    datasets = datasets or closed_datasets()
    registry = list_datasets()
    kinds = dict(zip(registry["dataset"], registry["kind"]))
    # one untimed call of each method first, so that the per-dataset times exclude imports and compilation;
    # the first call's time is kept (warmup_seconds) and shown in the speed table
    warm = load_dataset(datasets[0], collapse=True)
    warmup = {}
    for method in methods:
        start = time.perf_counter()
        run_method(REAL_DATA_METHODS.get(method, REGISTRY[method]), warm, SEED)
        warmup[method] = time.perf_counter() - start
    rows = []
    for dataset in datasets:
        try:
            histories = load_dataset(dataset, collapse=True)
        except DataError as error:  # e.g. a list with no records: reported, not repaired behind the user's back
            rows += [dict(dataset=dataset, k=np.nan, n=np.nan, method=method, estimate=np.nan,
                          failure=f"dataset not loadable: {error}") for method in methods]
            print(f"{dataset}: not loadable ({error})", flush=True)
            continue
        runs = [(method, lambda m=method: run_method(REAL_DATA_METHODS.get(m, REGISTRY[m]), histories, SEED))
                for method in methods]
        runs += [(name, lambda m=method: run_method(m, histories, SEED))
                 for name, (method, applies) in EXTRA_METHODS.items() if applies(histories)]
        if kinds[dataset] in STRATA_KINDS:
            stratified = load_dataset(dataset)
            runs += [(name, lambda name=name: run_strata(stratified, name, SEED)) for name in STRATA_METHODS]
            by_strata = Method("estimate_covariates", "estimate", (("covariates", tuple(_strata_columns(stratified))),),
                               "estimate with the strata columns as covariates", other_level=False)
            runs.append(("estimate_covariates", lambda m=by_strata: run_method(m, stratified, SEED)))
        for method, run in runs:
            result = run()
            components = result.pop("components", None) or []
            rows.append(dict(dataset=dataset, k=histories.k, n=histories.n_observed, method=method, **result,
                             warmup_seconds=warmup.get(method, np.nan)))
            # the methods estimate ran, as it ran them (rows estimate[<method>], shown in their own section)
            rows += [dict(dataset=dataset, k=histories.k, n=histories.n_observed, **component)
                     for component in components]
            print(f"{dataset:28s} {method:20s} {result['estimate']:>12.1f} {result['seconds']:8.3f}s "
                  f"{result['failure'][:60]}", flush=True)
    return pd.DataFrame(rows)


def _pct_diff(ours, theirs) -> str:
    if ours is None or theirs is None or not np.isfinite(ours) or not np.isfinite(theirs) or theirs == 0:
        return ""
    return f"{100 * (ours / theirs - 1):+.1f}%"


def _num(value) -> str:
    return f"{value:,.0f}" if value is not None and np.isfinite(value) else "–"


def _interval(lower, upper) -> str:
    return f"[{_num(lower)}, {_num(upper)}]"


def comparison_table(results: pd.DataFrame, peers: pd.DataFrame) -> pd.DataFrame:
    """Our estimate and 95% interval beside the matched R result, with percent differences."""
    from estimators import load_dataset

    rows = []
    for row in results.itertuples():
        try:
            lists = load_dataset(row.dataset, collapse=True).lists
        except ValueError:
            lists = ("", "")
        peer = peer_row(peers, row.dataset, row.method, lists)
        failed = isinstance(row.failure, str) and row.failure
        rows.append(dict(
            dataset=row.dataset,
            method=row.method,
            ours=("failed: " + row.failure[:80]) if failed else _num(row.estimate),
            ours_95=("" if failed else _interval(row.lower_95, row.upper_95)),
            r_package=("" if peer is None else f"{peer['package']}: {peer['method'][:45]}"),
            r_estimate=("" if peer is None else _num(peer["estimate"])),
            r_95=("" if peer is None else _interval(peer["lower"], peer["upper"])),
            diff_est=("" if peer is None or failed else _pct_diff(row.estimate, peer["estimate"])),
            diff_lower=("" if peer is None or failed else _pct_diff(row.lower_95, peer["lower"])),
            diff_upper=("" if peer is None or failed else _pct_diff(row.upper_95, peer["upper"])),
            converged=("no" if not failed and isinstance(row.warnings, str) and "ConvergenceWarning" in row.warnings
                       else ""),
        ))
    return pd.DataFrame(rows)


def _agrees(row, ref) -> str:
    """With a published point: does our 95% interval contain it? With only a published range: is our estimate in it?"""
    if np.isfinite(ref.reference_N):
        lower = row.lower_95 if np.isfinite(row.lower_95) else -np.inf
        upper = row.upper_95 if np.isfinite(row.upper_95) else np.inf
        return "interval covers point" if lower <= ref.reference_N <= upper else "no"
    if np.isfinite(ref.lower) or np.isfinite(ref.upper):
        low = ref.lower if np.isfinite(ref.lower) else -np.inf
        high = ref.upper if np.isfinite(ref.upper) else np.inf
        return "estimate in range" if low <= row.estimate <= high else "no"
    return ""


def published_table(results: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for ref in published.itertuples():
        mine = results[(results["dataset"] == ref.dataset) & results["failure"].fillna("").eq("")]
        for row in mine.itertuples():
            rows.append(dict(
                dataset=ref.dataset,
                published=f"{_num(ref.reference_N)} {_interval(ref.lower, ref.upper)}",
                kind=str(ref.kind)[:50],
                method=row.method,
                ours=f"{_num(row.estimate)} {_interval(row.lower_95, row.upper_95)}",
                diff=_pct_diff(row.estimate, ref.reference_N),
                agrees=_agrees(row, ref),
            ))
    return pd.DataFrame(rows)


def _is_component(methods: pd.Series) -> pd.Series:
    return methods.str.startswith("estimate[")


def estimate_table(results: pd.DataFrame) -> pd.DataFrame:
    """estimate's sensitivity table on each dataset: each method as run inside it, its role and how its run ended."""
    import re

    rows = []
    for row in results[_is_component(results["method"])].itertuples():
        failed = isinstance(row.failure, str) and row.failure
        # benchmarks.methods._components writes "role (status) [run: ...]: note"
        match = re.match(r"(?P<role>[\w-]+) \((?P<status>\w+)\)( \[run: (?P<run>[^\]]*)\])?",
                         row.warnings if isinstance(row.warnings, str) else "")
        rows.append(dict(dataset=row.dataset, method=row.method[len("estimate["):-1],
                         role="" if failed or not match else match["role"],
                         status=row.failure[:100] if failed else (match["status"] if match else ""),
                         result="" if failed else f"{_num(row.estimate)} {_interval(row.lower_95, row.upper_95)}",
                         run="" if failed or not match else (match["run"] or "")))
    return pd.DataFrame(rows)


def write_real_data(results: pd.DataFrame, out: Path, seconds: float) -> Path:
    peers = pd.read_csv(DATA / "peers.csv")
    published = pd.read_csv(DATA / "published_reference.csv")
    published = published[published["dataset"].isin(set(results["dataset"]))]
    components = estimate_table(results)
    results = results[~_is_component(results["method"])]
    table = comparison_table(results, peers)
    status = availability()
    lines = [
        "# Every method on every real closed-population dataset",
        "",
        "Generated by `python -m benchmarks real-data`; do not edit by hand. "
        f"Written {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; the whole run took {seconds:.0f} s.",
        "",
        "Our 95% interval beside the nearest result of the R packages (tests/data/peers.csv; see "
        "shared/reference/README.md for their settings). `diff` columns: ours / R - 1. The R comparisons are "
        "not all like for like: `chapman` uses the first two lists; `chao` is Chao's (1987) moment lower bound "
        "where Rcapture's Mh Chao is its log-linear form; `bootstrap` has 99 replicates where SparseMSE had 200; "
        "`graphical_bma` has no grid of N while dga's is truncated (its wide grid, 20n, is "
        "shown where it exists); `loglinear_bayes` (horseshoe shrinkage) is set beside conting's `bict` "
        "(model averaging) and runs with the benchmark's short chains; `latent_class` runs with the package's "
        "defaults (4 chains, 10,000 burn-in, a first run of 10,000 sweeps thinned by 10, extended by doublings "
        "until R-hat of N <= 1.01 and its bulk and tail ESS >= 400; LCMCR ran 110,000 iterations) except its budget, "
        f"max_sweeps={LATENT_CLASS_MAX_SWEEPS:,} per chain where the default allows up to 5,120,000 (on the tables "
        "whose chains never agree that would take minutes each); `converged`: `no` marks results that ended with "
        "a ConvergenceWarning (R-hat of N above 1.01 or ESS below 400); `graphical_bma` enumerates the decomposable graphs up to 6 lists and samples them by MC3 "
        "beyond, and `graphical_bma_mc3` is MC3 on the 5- and 6-list tables, beside the exact enumeration. "
        "`strata_pooled` is the total over the strata of `estimate_strata(method=\"pooled\")` (partially pooled "
        "hierarchical log-linear model; 4 chains x 1,000 draws; shared two-way interactions on 3 lists, pooled on "
        "4) and `strata_loglinear_average` the total of the AIC-averaged log-linear model fitted to each stratum "
        "alone (Wald sum), on the stratified datasets only; `estimate_covariates` is `estimate` with the strata "
        "columns as `covariates`. Bayesian results carry Monte Carlo error.",
        "",
        "Methods not available when this was generated (not importable: skipped, never substituted): "
        + (", ".join(f"`{m}`" for m, r in status.items() if r) or "none") + ".",
        "",
    ]
    for dataset, part in table.groupby("dataset", sort=False):
        first = results[results["dataset"] == dataset].iloc[0]
        size = f"k = {first['k']:.0f}, n = {first['n']:,.0f}" if np.isfinite(first["k"]) else "not loadable"
        lines += [f"## {dataset} ({size})", "",
                  _markdown_table(part.drop(columns="dataset")), ""]
    if len(components):
        lines += ["## estimate: each method as it ran inside it", "",
                  "`estimators.estimate`'s sensitivity table on each dataset: the primary, the alternatives whose "
                  "intervals it compares (and joins when they disagree), the reported methods and the floor, each "
                  "with its result as run there, and how the sampled runs ended (`run`: R-hat and bulk ESS of N; "
                  "for latent_class whether its targets were met or its budget ran out; MC3 or exact enumeration "
                  "for graphical_bma). The recommended estimate and interval are the `estimate` rows above.", "",
                  _markdown_table(components), ""]
    if len(published):
        lines += ["## Against the published figures", "",
                  "Published estimates (tests/data/published_reference.csv) against each method; `diff` = ours / "
                  "published - 1; `agrees`: our 95% interval contains the published point or, where only a "
                  "range was published, our estimate lies in it. Published figures come from other models and "
                  "data handling; they are context, not truth.", "",
                  _markdown_table(published_table(results, published)), ""]
    out.write_text("\n".join(lines))
    return out


def main(argv=None) -> int:
    start = time.perf_counter()
    results = run_real_data()
    seconds = time.perf_counter() - start
    (HERE / "results").mkdir(exist_ok=True)
    results.to_csv(HERE / "results" / "real_data.csv", index=False)
    path = write_real_data(results, HERE / "REAL_DATA.md", seconds)
    print(f"real-data table -> {path}")
    return 0
