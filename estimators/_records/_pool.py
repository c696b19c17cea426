"""Combining the results of analyses of multiply imputed data sets: Rubin's rules and mixed posterior draws.

Frequentist estimates of N are combined by Rubin's (1987) rules on the log scale of N with Barnard & Rubin's
(1999) degrees of freedom; Bayesian ones by mixing equal numbers of posterior draws from each imputation (Zhou &
Reiter 2010); tables of strata stratum by stratum; daily-rate posteriors draw by draw.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from numbers import Real

import numpy as np
import pandas as pd
from scipy import stats

from .._validation import Interval, validate_params
from ..exceptions import DataError
from .._summary import Summary, warning_codes
from ..results import Estimate, PosteriorEstimate, thin_draws
from ..strata import COLUMNS, StrataResult

__all__ = ["ImputedStrataResult", "PooledDailyRates", "pool", "rubin"]

PER_PERSONS = 10_000


# ------------------------------------------------------------------------------------------------ Rubin's rules
def rubin(estimates, variances, *, level: float = 0.95, complete_df: float | None = None) -> dict:
    """Rubin's rules for ``m`` estimates of one scalar and their within-imputation variances.

    Returns a dict: ``estimate`` (the mean), ``within`` W (mean variance), ``between`` B (variance of the
    estimates, ddof 1), ``total`` T = W + (1 + 1/m) B, ``between_share`` (1 + 1/m) B / T, ``riv`` (relative
    increase in variance, (1 + 1/m) B / W), ``df`` (Rubin's (m - 1) / share**2, combined with the complete-data
    degrees of freedom by Barnard & Rubin 1999 when ``complete_df`` is given), ``fmi`` (fraction of missing
    information), ``t`` (the t quantile at ``level``), ``lower``, ``upper``.

    Examples
    --------
    >>> from estimators._records._pool import rubin
    >>> pooled = rubin([1.0, 2.0, 3.0], [0.5, 0.5, 0.5])
    >>> pooled["estimate"], pooled["between"], round(pooled["total"], 4), round(pooled["between_share"], 4)
    (2.0, 1.0, 1.8333, 0.7273)
    """
    q = np.asarray(estimates, dtype=float)
    u = np.asarray(variances, dtype=float)
    m = len(q)
    qbar = float(q.mean())
    within = float(u.mean())
    # identical estimates (a covariate that no stratum or estimate depends on) give B = 0, not rounding noise
    between = float(q.var(ddof=1)) if m > 1 and not np.allclose(q, q[0], rtol=1e-12, atol=0) else 0.0
    extra = (1 + 1 / m) * between
    total = within + extra
    share = extra / total if total > 0 and np.isfinite(total) else 0.0
    riv = extra / within if within > 0 else float("inf")
    df_old = (m - 1) / share**2 if share > 0 else float("inf")
    df = df_old
    if complete_df is not None:
        df_obs = (complete_df + 1) / (complete_df + 3) * complete_df * (1 - share)
        df = 1 / (1 / df_old + 1 / df_obs) if df_obs > 0 else df_old
    fmi = (riv + 2 / (df + 3)) / (riv + 1) if np.isfinite(riv) else 1.0
    tq = float(stats.t.ppf(0.5 + level / 2, df)) if np.isfinite(df) else float(stats.norm.ppf(0.5 + level / 2))
    spread = tq * math.sqrt(total) if np.isfinite(total) else float("inf")
    return dict(estimate=qbar, within=within, between=between, total=total, between_share=share, riv=riv,
                df=df, fmi=fmi, t=tq, lower=qbar - spread, upper=qbar + spread, m=m)


# ------------------------------------------------------------------------------------------------ pieces
def _kind(result) -> str:
    if isinstance(result, PosteriorEstimate):
        if not len(result.draws):
            raise DataError(f"A PosteriorEstimate ({result.method}) has no draws; pooling a posterior mixes its "
                            "draws, so every posterior result needs them.")
        return "posterior"
    if isinstance(result, Estimate):
        return "estimate"
    if isinstance(result, StrataResult):
        return "strata"
    if all(hasattr(result, name) for name in ("rate_draws", "population_draws", "total", "mean_rate")):
        return "daily"
    raise DataError(f"pool() combines Estimate, PosteriorEstimate, StrataResult or daily-rate results; got "
                    f"{type(result).__name__}.")


def _same(values, what: str, kind: str) -> None:
    distinct = []
    for value in values:
        if not any(_equal(value, seen) for seen in distinct):
            distinct.append(value)
    if len(distinct) > 1:
        raise DataError(f"The {kind} results to pool differ in {what}: {distinct!r}. Pool results of one analysis "
                        "(same method, lists and level) run on each imputation.")


def _equal(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b


def _check_estimates(results) -> None:
    _same([r.method for r in results], "method", "estimate")
    _same([float(r.level) for r in results], "level", "estimate")
    _same([r.unit for r in results], "unit", "estimate")
    _same([tuple(r.details.get("lists", ())) for r in results], "lists", "estimate")


def _merged_warnings(results) -> list[str]:
    counts = Counter(w for r in results for w in dict.fromkeys(r.warnings))
    m = len(results)
    return [w if n == m else f"(in {n} of {m} imputations) {w}" for w, n in counts.items()]


def _n_observed(results) -> tuple[int, dict]:
    values = [int(r.n_observed) for r in results]
    if len(set(values)) == 1:
        return values[0], {}
    return int(round(float(np.mean(values)))), {"n_observed_min": min(values), "n_observed_max": max(values)}


def _pool_estimates(results, complete_df) -> Estimate:
    _check_estimates(results)
    m, level = len(results), float(results[0].level)
    estimates = np.array([r.estimate for r in results], dtype=float)
    if not np.all(np.isfinite(estimates)) or np.any(estimates <= 0):
        raise DataError(f"Rubin's rules here work on log N, so every estimate must be finite and positive; got "
                        f"{estimates.tolist()!r}.")
    notes, from_width = _merged_warnings(results), []
    variances = []
    for i, r in enumerate(results):
        if r.std_error is not None and np.isfinite(r.std_error) and r.std_error >= 0:
            variances.append((r.std_error / r.estimate) ** 2)  # delta method: var(log N) = (SE / N)^2
            continue
        lower, upper = r.interval
        if np.isfinite(lower) and np.isfinite(upper) and 0 < lower <= upper:
            z = stats.norm.ppf(0.5 + r.level / 2)
            variances.append(((math.log(upper) - math.log(lower)) / (2 * z)) ** 2)
            from_width.append(i)
        else:
            variances.append(float("inf"))
    if from_width:
        notes.append(f"{len(from_width)} of {m} results had no standard error: their variance of log N was taken "
                     "from the interval, ((log upper - log lower) / (2 z))^2.")
    pooled = rubin(np.log(estimates), variances, level=level, complete_df=complete_df)
    n_observed, spread = _n_observed(results)
    estimate = math.exp(pooled["estimate"])
    if np.isfinite(pooled["total"]):
        lower, upper = math.exp(pooled["lower"]), math.exp(pooled["upper"])
        floor = min(int(r.n_observed) for r in results) if not results[0].unit else 0
        if lower < floor:
            lower = float(floor)
            notes.append("The pooled interval's lower bound was raised to the number observed.")
        std_error = estimate * math.sqrt(pooled["total"])
    else:
        lower = upper = float("nan")
        std_error = None
        notes.append("A result's interval is unbounded, so the pooled interval does not exist.")
    models = sorted({r.model for r in results if r.model})
    details = {
        "imputations": m,
        "pooled_scale": "log N",
        "between_share": pooled["between_share"],
        "within_variance": pooled["within"],
        "between_variance": pooled["between"],
        "total_variance": pooled["total"],
        "df": pooled["df"],
        "riv": pooled["riv"],
        "fmi": pooled["fmi"],
        **spread,
        "estimates": tuple(float(x) for x in estimates),
    }
    if complete_df is not None:
        details["complete_df"] = float(complete_df)
    if len(models) > 1:
        details["models"] = tuple(models)
        notes.append(f"The selected model differed between imputations ({', '.join(models)}); the pooled variance "
                     "includes that model uncertainty.")
    if results[0].unit:
        details["unit"] = results[0].unit
    by_level = _pool_by_level(results, level, complete_df)
    if by_level is not None:
        details["by_level"] = by_level
    return Estimate(
        estimate=estimate, interval=(lower, upper), level=level,
        method=f"{results[0].method}, pooled over {m} imputations",
        n_observed=n_observed, model=models[0] if len(models) == 1 else None,
        interval_kind="Rubin's rules on log N (t, Barnard-Rubin df)", std_error=std_error,
        warnings=tuple(notes), details=details,
    )


def _pool_by_level(results, level, complete_df) -> pd.DataFrame | None:
    """Rubin's rules on log N for each covariate level of results that carry a ``details["by_level"]`` table
    (the covariate log-linear model's per-region, per-month estimates); None when they do not all carry one.

    A level's within variance is (SE / N)^2 (delta method). Levels must be the same in every result (an imputed
    covariate never creates a level that the data lack; if it does, the table is left out with a note-free None).
    """
    tables = [r.details.get("by_level") if isinstance(r.details, Mapping) else None for r in results]
    if any(not isinstance(t, pd.DataFrame) or "std_error" not in t for t in tables):
        return None
    columns = [c for c in tables[0].columns if c not in ("n_observed", "estimate", "lower", "upper", "std_error")]
    keyed = [t.set_index(columns) if columns else t for t in tables]
    if any(not k.index.equals(keyed[0].index) for k in keyed):
        return None
    rows = []
    for key in keyed[0].index:
        estimates = np.array([k.loc[key, "estimate"] for k in keyed], dtype=float)
        errors = np.array([k.loc[key, "std_error"] for k in keyed], dtype=float)
        if np.any(estimates <= 0) or not np.all(np.isfinite(estimates) & np.isfinite(errors)):
            pooled = {"estimate": float("nan"), "lower": float("nan"), "upper": float("nan"), "total": float("nan"),
                      "between_share": float("nan")}
        else:
            pooled = rubin(np.log(estimates), (errors / estimates) ** 2, level=level, complete_df=complete_df)
        n_seen = [float(k.loc[key, "n_observed"]) for k in keyed] if "n_observed" in keyed[0] else [float("nan")]
        estimate = math.exp(pooled["estimate"])
        rows.append({
            **(dict(zip(columns, key if isinstance(key, tuple) else (key,))) if columns else {}),
            "n_observed": float(np.mean(n_seen)),
            "estimate": estimate,
            "lower": max(math.exp(pooled["lower"]), min(n_seen)) if np.isfinite(pooled["lower"]) else float("nan"),
            "upper": math.exp(pooled["upper"]),
            "std_error": estimate * math.sqrt(pooled["total"]),
            "between_share": pooled["between_share"],
        })
    return pd.DataFrame(rows)


def _draw_share(draw_sets) -> dict:
    """Between-imputation share of the variance of the mixed draws (on the log scale where they are positive)."""
    positive = all(np.all(d > 0) for d in draw_sets)
    values = [np.log(d) if positive else d for d in draw_sets]
    pooled = rubin([v.mean() for v in values], [v.var(ddof=1) if len(v) > 1 else 0.0 for v in values])
    return {"between_share": pooled["between_share"], "within_variance": pooled["within"],
            "between_variance": pooled["between"], "pooled_scale": "log" if positive else "linear"}


def _mixing_note(m: int) -> str | None:
    if m < 50:
        return (f"Posterior draws were mixed over {m} imputations; Zhou & Reiter (2010) recommend many imputations "
                "(e.g. 100) for mixed draws to approximate the posterior well, the more so as the between share "
                "grows.")
    return None


def _pool_posteriors(results) -> PosteriorEstimate:
    _check_estimates(results)
    m, level = len(results), float(results[0].level)
    length = min(len(r.draws) for r in results)
    draw_sets = [thin_draws(np.asarray(r.draws, dtype=float), length) for r in results]
    share = _draw_share(draw_sets)
    notes = _merged_warnings(results)
    if (note := _mixing_note(m)) is not None:
        notes.append(note)
    n_observed, spread = _n_observed(results)
    details = {"imputations": m, "draws_per_imputation": length, **share, **spread}
    if results[0].unit:
        details["unit"] = results[0].unit
    if share["pooled_scale"] == "log":
        details["pooled_scale"] = "log N" if not results[0].unit else f"log {results[0].unit}"
    return PosteriorEstimate.from_draws(
        np.concatenate(draw_sets), level=level, method=f"{results[0].method}, pooled over {m} imputations",
        n_observed=n_observed, interval_kind=f"equal-tailed credible (draws mixed over {m} imputations)",
        warnings=tuple(notes), details=details,
    )


def _pool_one(results, complete_df):
    kinds = {_kind(r) for r in results}
    if kinds == {"posterior"}:
        return _pool_posteriors(results)
    if kinds == {"estimate"}:
        return _pool_estimates(results, complete_df)
    raise DataError(f"Cannot pool a mix of kinds ({sorted(kinds)}); pool results of one analysis.")


# ------------------------------------------------------------------------------------------------ strata
@dataclass(frozen=True, kw_only=True, eq=False)
class ImputedStrataResult(StrataResult):
    """Per-stratum estimates pooled over imputations (:func:`estimators.pool`): a :class:`StrataResult`
    whose ``table`` also has ``between_share`` (between-imputation share of each stratum's variance).

    ``total()`` sums the pooled strata; pooling each imputation's ``total()`` instead
    (``pool([r.total() for r in results])``) keeps the imputations' joint uncertainty.
    """

    imputations: int = 0

    def summary(self) -> Summary:
        base = StrataResult.summary(self)
        table = base.table.copy()
        table["between share"] = self.table.set_index("stratum")["between_share"].reindex(table.index)
        facts = [*base.facts[:1], ("imputations (m)", self.imputations), *base.facts[1:]]
        notes = [*base.notes, "between share: (1 + 1/m) B / T, the share of each stratum's variance that is due "
                 "to the missing values (Rubin 1987)."]
        return replace(base, facts=facts, table=table, notes=notes)

    def __repr__(self) -> str:
        return (f"<ImputedStrataResult {self.method}: {len(self.table):,} strata, {len(self.results):,} pooled, "
                f"{len(self.errors):,} failed>")


def _pool_strata(results, complete_df):
    _same([r.method for r in results], "method", "strata")
    _same([float(r.level) for r in results], "level", "strata")
    m = len(results)
    labels = list(dict.fromkeys(label for r in results for label in r.table["stratum"].tolist()))
    rows, pooled, errors = [], {}, {}
    for label in labels:
        fitted = [r.results[label] for r in results if label in r.results]
        row = dict(stratum=label, n_observed=np.nan, estimate=np.nan, lower=np.nan, upper=np.nan,
                   method=results[0].method, warnings="", cached=False, error="",
                   seconds=float(sum(r.table.loc[r.table["stratum"] == label, "seconds"].sum() for r in results)),
                   warning_details="", between_share=np.nan)
        if len(fitted) < m:
            failed = [r.errors.get(label, "not in this imputation's strata") for r in results
                      if label not in r.results]
            row["error"] = errors[label] = (f"fitted in {len(fitted)} of {m} imputations; not pooled (first "
                                            f"failure: {failed[0]})")
            observed = [r.table.loc[r.table["stratum"] == label, "n_observed"] for r in results]
            values = [float(o.iloc[0]) for o in observed if len(o)]
            row["n_observed"] = float(np.mean(values)) if values else np.nan
        else:
            try:
                result = _pool_one(fitted, complete_df)
            except DataError as error:
                row["error"] = errors[label] = str(error)
            else:
                pooled[label] = result
                row.update(n_observed=result.n_observed, estimate=result.estimate, lower=result.interval[0],
                           upper=result.interval[1], method=result.method,
                           warnings=warning_codes(list(result.warnings)),
                           warning_details="; ".join(result.warnings),
                           between_share=result.details["between_share"])
        rows.append(row)
    table = pd.DataFrame(rows, columns=[*COLUMNS, "between_share"])
    settings = dict(results[0].settings)
    return ImputedStrataResult(table=table, results=pooled, errors=errors,
                          method=f"{results[0].method}, pooled over {m} imputations", settings=settings,
                          level=float(results[0].level), seconds=float(sum(r.seconds for r in results)),
                          imputations=m)


# ------------------------------------------------------------------------------------------------ daily rates
@dataclass(frozen=True, eq=False, repr=False)
class PooledDailyRates:
    """Daily death rates pooled over imputations by mixing the posterior draws of each imputation's fit.

    Attributes
    ----------
    daily : pandas.DataFrame
        One row per study day (``day`` and ``date`` as the fits had them): ``median``, ``lower``, ``upper`` of
        the expected deaths per day and ``per10k_median``, ``per10k_lower``, ``per10k_upper``, from the mixed
        draws.
    mean_rate, rate_per_10000, total : PosteriorEstimate
        Each pooled by mixing draws (``details["between_share"]`` on each).
    rate_draws : ndarray
        (draws, days): equal numbers of draws from each imputation, concatenated.
    population_draws : ndarray
        The matching population draws.
    level : float
    imputations : int
    warnings : tuple of str
    """

    daily: pd.DataFrame
    mean_rate: PosteriorEstimate
    rate_per_10000: PosteriorEstimate
    total: PosteriorEstimate
    rate_draws: np.ndarray
    population_draws: np.ndarray
    level: float
    imputations: int
    warnings: tuple = ()
    details: Mapping = field(default_factory=dict)

    def summary(self) -> Summary:
        rows = {name: getattr(self, name) for name in ("mean_rate", "rate_per_10000", "total")}
        table = pd.DataFrame({
            "estimate": [r.estimate for r in rows.values()],
            "lower": [r.interval[0] for r in rows.values()],
            "upper": [r.interval[1] for r in rows.values()],
            "between share": [r.details.get("between_share", np.nan) for r in rows.values()],
        }, index=["deaths per day (mean)", "per 10,000 per day", "total deaths"])
        facts = [("imputations (m)", self.imputations), ("days", self.rate_draws.shape[1]),
                 ("draws", len(self.rate_draws)), ("interval", f"{self.level:.0%} equal-tailed credible")]
        return Summary(title=f"Daily death rates, pooled over {self.imputations} imputations", facts=facts,
                       table=table, notes=self.warnings)

    def __str__(self):
        return str(self.summary())

    def __repr__(self) -> str:
        rate, total = self.mean_rate, self.total
        return (f"<PooledDailyRates: {self.imputations} imputations, {self.rate_draws.shape[1]} days, mean "
                f"{rate.estimate:,.4g} deaths per day {self.level:.0%} [{rate.interval[0]:,.4g}, "
                f"{rate.interval[1]:,.4g}], total {total.estimate:,.0f}>")

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()


def _pool_daily(results) -> PooledDailyRates:
    m = len(results)
    _same([float(r.level) for r in results], "level", "daily-rate")
    _same([np.shape(r.rate_draws)[1:] for r in results], "number of days", "daily-rate")
    data = [getattr(r, "data", None) for r in results]
    _same([tuple(getattr(d, "list_names", ())) for d in data], "lists", "daily-rate")
    _same([str(getattr(d, "start", None)) for d in data], "start date", "daily-rate")
    length = min(len(r.rate_draws) for r in results)
    rate_sets, population_sets = [], []
    for r in results:
        index = np.linspace(0, len(r.rate_draws) - 1, length).round().astype(int)
        rate_sets.append(np.asarray(r.rate_draws, dtype=float)[index])
        population_sets.append(np.asarray(r.population_draws, dtype=float)[index])
    rate_draws, population_draws = np.concatenate(rate_sets), np.concatenate(population_sets)
    level = float(results[0].level)
    tail = (1 - level) / 2
    quantiles = np.quantile(rate_draws, [0.5, tail, 1 - tail], axis=0)
    per10k = np.quantile(rate_draws / population_draws[:, None] * PER_PERSONS, [0.5, tail, 1 - tail], axis=0)
    first = getattr(results[0], "daily", None)
    keep = [c for c in ("day", "date") if isinstance(first, pd.DataFrame) and c in first.columns]
    daily = first[keep].reset_index(drop=True).copy() if keep else pd.DataFrame(
        {"day": np.arange(rate_draws.shape[1])})
    for name, values in zip(("median", "lower", "upper"), quantiles):
        daily[name] = values
    for name, values in zip(("per10k_median", "per10k_lower", "per10k_upper"), per10k):
        daily[name] = values
    pooled = {name: _pool_posteriors([getattr(r, name) for r in results])
              for name in ("mean_rate", "rate_per_10000", "total")}
    warnings = _merged_warnings([_Warned(tuple(getattr(r, "warnings", ()))) for r in results])
    if (note := _mixing_note(m)) is not None:
        warnings.append(note)
    return PooledDailyRates(daily=daily, rate_draws=rate_draws, population_draws=population_draws, level=level,
                            imputations=m, warnings=tuple(warnings),
                            details={"draws_per_imputation": length,
                                     "between_share": pooled["mean_rate"].details["between_share"]},
                            **pooled)


@dataclass(frozen=True)
class _Warned:
    warnings: tuple


# ------------------------------------------------------------------------------------------------ public
@validate_params(
    {"complete_df": [None, Interval(Real, 0, None, closed="neither")]},
    # the results are data: their kind, method, level and lists are checked against each other
    exempt=("results",),
)
def pool(results, *, complete_df=None):
    """Combine the results of one analysis run on each of ``m`` imputed data sets.

    Frequentist estimates (:class:`~estimators.Estimate`) are combined by Rubin's rules on the log scale of N:
    with q_i = log N_i and within variance u_i = (SE_i / N_i)^2 (delta method; from the interval,
    ((log upper - log lower) / (2 z))^2, where a result has no standard error), the pooled estimate is
    exp(mean q_i) and the total variance T = W + (1 + 1/m) B, W the mean of u_i and B the variance of the q_i.
    The interval is exp(qbar +/- t sqrt(T)) with Rubin's degrees of freedom (m - 1) / lambda^2,
    lambda = (1 + 1/m) B / T, adjusted for small complete-data samples as Barnard & Rubin (1999) when
    ``complete_df`` is given. Log N rather than log(N - n) because the number observed, n, itself varies between
    imputations within a stratum (imputed covariates move people between strata) and belongs to the
    uncertainty.
    Results that carry a per-level table (``details["by_level"]``, e.g. ``loglinear(h, covariates=[...])``) have
    it pooled the same way, level by level, into the pooled result's ``details["by_level"]`` (with a
    ``between_share`` column).

    Posterior estimates (:class:`~estimators.PosteriorEstimate`) are combined by mixing: the same number of
    draws from each imputation's posterior (evenly thinned to the shortest), concatenated (Zhou & Reiter 2010),
    which approximates the posterior averaged over the imputations' predictive distribution, as HRDAG's
    verdata does by the laws of total expectation and variance.

    Tables of strata (:class:`~estimators.StrataResult`) are pooled stratum by stratum; a stratum not fitted in
    every imputation is left out and listed in ``errors``. Daily-rate posteriors (results with ``rate_draws``,
    ``population_draws``, ``mean_rate``, ``rate_per_10000`` and ``total``, as
    :class:`~estimators.DailyRatesResult`) are pooled draw by draw.

    Every pooled result reports ``between_share``, (1 + 1/m) B / T, the share of the variance due to the missing
    values (in ``details`` and the summary; for mixed draws computed from the draws' means and variances).

    Parameters
    ----------
    results : sequence
        ``m >= 2`` results of one kind, from the same method, lists and level, one per imputation.
    complete_df : float, optional
        Degrees of freedom the analysis would have without missing values (Barnard & Rubin 1999); default
        infinite (large-sample estimators of N), which gives Rubin's (1987) degrees of freedom.

    Returns
    -------
    Estimate, PosteriorEstimate, ImputedStrataResult or PooledDailyRates
        Of the kind pooled, with ``details``: ``imputations``, ``between_share``, ``within_variance``,
        ``between_variance`` and, for Rubin's rules, ``total_variance``, ``df``, ``riv`` (relative increase in
        variance) and ``fmi`` (fraction of missing information).

    Raises
    ------
    DataError
        An empty sequence or a single result, a mix of kinds, or results that differ in method, lists or level.

    References
    ----------
    .. [1] Rubin, D. B. (1987). *Multiple Imputation for Nonresponse in Surveys*. Wiley.
    .. [2] Barnard, J. & Rubin, D. B. (1999). Small-sample degrees of freedom with multiple imputation.
       *Biometrika* 86, 948-955.
    .. [3] Zhou, X. & Reiter, J. P. (2010). A note on Bayesian inference after multiple imputation. *The
       American Statistician* 64, 159-163.
    .. [4] HRDAG (2023). verdata: tools for the Colombian truth commission's replicates (R package).

    Examples
    --------
    >>> import estimators
    >>> fits = [estimators.Estimate(estimate=n, interval=(0.8 * n, 1.25 * n), level=0.95, method="chapman",
    ...                             n_observed=500, std_error=0.1 * n) for n in (900.0, 1000.0, 1100.0)]
    >>> pooled = estimators.pool(fits)
    >>> round(pooled.estimate), round(pooled.details["between_share"], 3)
    (997, 0.573)
    """
    if isinstance(results, (Estimate, str, bytes, Mapping)) or not hasattr(results, "__iter__"):
        raise DataError(f"`results` must be a sequence of results, one per imputation; got "
                        f"{type(results).__name__}.")
    results = list(results)
    if not results:
        raise DataError("`results` is empty: pool() needs one result per imputation (at least two).")
    if len(results) < 2:
        raise DataError("pool() needs at least two results (one per imputation); got one.")
    kinds = [_kind(r) for r in results]
    if len(set(kinds)) > 1:
        raise DataError(f"Cannot pool a mix of kinds ({', '.join(sorted(set(kinds)))}); pool results of one "
                        "analysis run on each imputation.")
    kind = kinds[0]
    if kind == "strata":
        return _pool_strata(results, complete_df)
    if kind == "daily":
        return _pool_daily(results)
    return _pool_one(results, complete_df)
