"""Averaging two readings of heterogeneous capture (two classes, a normal effect) by their fit to the records.

With four or more lists, hidden classes and a continuous spread of visibility both make every pair of lists
overlap more than their coverage implies, and the lists cannot check the total either implies (Link 2003). They
can say which fits the records' capture patterns better: the totals of the 2**k - 1 observed patterns are
Poisson (sums of the model's independent cell counts), so each fit has a pointwise expected log predictive
density per pattern (WAIC; Watanabe 2010, Vehtari, Gelman & Gabry 2017). The two posteriors are mixed with
pseudo-BMA+ weights (Yao, Vehtari, Simpson & Gelman 2018): Akaike-type weights from the summed elpd, averaged
over Bayesian-bootstrap resamples of the patterns so that a difference the patterns do not pin down gives weights
nearer one half, not a coin toss between two answers.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
from scipy.special import gammaln, logsumexp, softmax

from .. import _warn
from ..results import PER_PERSONS, PosteriorEstimate
from ..exceptions import IdentifiabilityWarning
from ._draws import _flat, _interval, _quantities
from ._heterogeneity import averaged_note

BOOTSTRAP = 1000
# The fewest lists whose pattern totals can weigh the two readings. Four lists give 15 totals, 3 beyond the
# two-way log-linear model each reading carries: on a four-list conflict with a discrete visible quarter (log-odds
# +2.5) they weighed the normal effect 0.67 (its total +41%, two classes' +2%). Five give 31 totals, 14 beyond.
AVERAGE_LISTS = 5


def pattern_elpd(expected: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """(patterns,) WAIC's pointwise elpd of Poisson pattern totals ``observed`` under draws ``expected`` (S, patterns).

    elpd_i = log mean_s p(y_i | mu_si) - var_s log p(y_i | mu_si).

    Examples
    --------
    >>> mu = np.array([[10.0, 5.0], [10.0, 5.0]])  # one value: no posterior spread, the log density itself
    >>> np.allclose(pattern_elpd(mu, np.array([10, 5])), [np.log(10) * 10 - 10 - np.log(3628800),
    ...                                                  np.log(5) * 5 - 5 - np.log(120)])
    True
    """
    expected, observed = np.asarray(expected, float), np.asarray(observed, float)
    log_p = observed * np.log(expected) - expected - gammaln(observed + 1)
    lppd = logsumexp(log_p, axis=0) - np.log(len(log_p))
    return lppd - log_p.var(axis=0, ddof=1)


def pseudo_bma_weights(elpd: np.ndarray, rng: np.random.Generator, bootstrap: int = BOOTSTRAP) -> np.ndarray:
    """(models,) pseudo-BMA+ weights from pointwise elpd (models, points): softmax of n * sum(alpha * elpd) for
    Dirichlet(1, ..., 1) weights alpha over the points, averaged over ``bootstrap`` draws (Yao et al. 2018, eq. 9).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> pseudo_bma_weights(np.zeros((2, 5)), rng).tolist()
    [0.5, 0.5]
    >>> bool(pseudo_bma_weights(np.array([[0.0] * 5, [-10.0] * 5]), rng)[0] > 0.999)
    True
    """
    elpd = np.asarray(elpd, float)
    alpha = rng.dirichlet(np.ones(elpd.shape[1]), size=bootstrap)
    z = elpd.shape[1] * alpha @ elpd.T  # (bootstrap, models)
    return softmax(z, axis=1).mean(axis=0)


def mixed_indices(draws: int, weights: np.ndarray) -> list[np.ndarray]:
    """Evenly spaced draw indices of each model, about ``weight * draws`` of them (largest remainders), ``draws`` in
    all.

    Examples
    --------
    >>> [len(i) for i in mixed_indices(10, np.array([0.74, 0.26]))]
    [7, 3]
    """
    exact = np.asarray(weights, float) * draws
    counts = np.floor(exact).astype(int)
    # largest remainders: the counts sum to ``draws`` and each is within one of its share
    counts[np.argsort(counts - exact)[:draws - counts.sum()]] += 1
    return [np.linspace(0, draws - 1, n).round().astype(int) if n else np.zeros(0, int) for n in counts]


def fit_to_patterns(result) -> np.ndarray:
    """(patterns,) pointwise elpd of a fit's records per capture pattern (all date precisions together)."""
    data = result.data
    posterior = {name: _flat(result.idata, name) for name in result.model.stored}
    expected = _quantities(posterior, data)["cell_bin"][:, :, 1:].sum(1)
    observed = data.list_cells.sum(0) + data.coarse_cells.reshape(-1, data.list_cells.shape[1]).sum(0)
    return pattern_elpd(expected, observed)


def _prefix(label: str, weight: float) -> str:
    return f"In the {label} fit (weight {weight:.2f}): "


def lighter_warnings(results: dict, weights: np.ndarray) -> list[str]:
    """The warnings of every fit but the heavier, each prefixed with the fit and its weight (the heavier's own
    warnings are the result's, unprefixed)."""
    heavier = int(np.argmax(weights))
    own = set(list(results.values())[heavier].warnings)
    return [_prefix(label, weight) + message
            for i, ((label, fit), weight) in enumerate(zip(results.items(), weights)) if i != heavier
            for message in fit.warnings if message not in own]


def reemit(caught, results: dict, weights: np.ndarray) -> None:
    """Warn again what the fits warned (``caught``), in their categories: the heavier fit's as they were, the
    others' prefixed as in :func:`lighter_warnings`."""
    labels = list(results)
    heavier = results[labels[int(np.argmax(weights))]]
    source = {message: (label, weight) for label, weight in zip(labels, weights) if results[label] is not heavier
              for message in results[label].warnings}
    for caught_warning in caught:
        message = str(caught_warning.message)
        if message in heavier.warnings:
            _warn.warn(message, caught_warning.category)
        elif message in source:
            _warn.warn(_prefix(*source[message]) + message, caught_warning.category)


def average(results: dict, weights: np.ndarray, note: str, rows: list[dict]):
    """The fits in ``results`` ({label: DailyRatesResult}) mixed with ``weights``: daily table, mean rate, rate per
    10,000, total and their draws from the mixture; every other table, the posterior and the settings are the
    heavier fit's. ``rows``: identifiability rows to add (the totals of each fit and their weights)."""
    fits = list(results.values())
    heavier = fits[int(np.argmax(weights))]
    level = heavier.level
    draws = min(len(f.rate_draws) for f in fits)
    picks = mixed_indices(draws, weights)
    rate = np.concatenate([np.asarray(f.rate_draws)[i] for f, i in zip(fits, picks)])
    population = np.concatenate([np.asarray(f.population_draws)[i] for f, i in zip(fits, picks)])
    total = np.concatenate([np.asarray(f.total.draws)[i] for f, i in zip(fits, picks)])
    lo, med, hi = _interval(rate, level)
    per10k = rate / population[:, None] * PER_PERSONS
    lo10, med10, hi10 = _interval(per10k, level)
    daily = heavier.daily.assign(median=med, lower=lo, upper=hi, per10k_median=med10, per10k_lower=lo10,
                                 per10k_upper=hi10)
    messages = (*heavier.warnings, *lighter_warnings(results, weights), note)
    share = dict(zip(results, (float(w) for w in weights)))

    def estimate(values, old: PosteriorEstimate) -> PosteriorEstimate:
        return PosteriorEstimate.from_draws(
            values, level=level, method=old.method, n_observed=old.n_observed, diagnostics=old.diagnostics,
            warnings=messages, details={**old.details, "model_weights": share}, idata=old.idata)

    identifiability = pd.concat([heavier.identifiability,
                                 pd.DataFrame(rows).set_index("quantity").reindex(
                                     columns=heavier.identifiability.columns)])
    for row, values in (("total deaths", total), ("mean deaths per day", rate.mean(1))):
        identifiability.loc[row, ["median", "lower", "upper"]] = np.quantile(
            values, [0.5, (1 - level) / 2, (1 + level) / 2])
    return dataclasses.replace(
        heavier, daily=daily, mean_rate=estimate(rate.mean(1), heavier.mean_rate),
        rate_per_10000=estimate(per10k.mean(1), heavier.rate_per_10000), total=estimate(total, heavier.total),
        rate_draws=rate, population_draws=population, warnings=messages, identifiability=identifiability,
        settings={**heavier.settings, "model_weights": share})


def fit_averaged(fit, one, shared, fired: bool, rows: list[dict], random_seed: int):
    """Fit two classes and the normal effect (``fit(classes, **options)``, ``rows`` inherited), weigh them by their
    fit to the capture patterns and return the mixture, with the note that says so; ``one`` is the one-class fit
    whose pairs were dependent in common (``shared``) and whose latent-class check ``fired`` or not."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fits = {"two classes": fit(2, heterogeneity_check=False, inherited_rows=rows),
                "normal effect": fit("normal", heterogeneity_check=False, inherited_rows=rows)}
    elpd = np.stack([fit_to_patterns(f) for f in fits.values()])
    weights = pseudo_bma_weights(elpd, np.random.default_rng(random_seed))
    weight_of = dict(zip(fits, weights.tolist()))
    totals = {label: (f.total.estimate, *f.total.interval) for label, f in fits.items()}
    k = one.data.k
    note = averaged_note(k, shared, (one.total.estimate, *one.total.interval), fired, totals, weight_of,
                         elpd.shape[1])
    reemit(caught, fits, weights)
    _warn.warn(note, IdentifiabilityWarning)
    rows = [{"quantity": f"total deaths, {label}", "median": t[0], "lower": t[1], "upper": t[2],
             "informed_by": f"weight {weight_of[label]:.2f} by fit to the capture patterns"}
            for label, t in totals.items()]
    return average(fits, weights, note, rows)
