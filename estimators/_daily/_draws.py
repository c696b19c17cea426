"""Posterior (and prior) draws of the daily-rates model turned into the quantities a result reports.

Pure numpy functions of the draws and the data: derived quantities, the deaths no source recorded, intervals,
contraction and the predictive checks.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..histories import pattern_matrix
from ._inputs import _POISSON_ALPHA, DailyData
from ._model import _pairs, presence_maps


def _flat(idata, name) -> np.ndarray:
    """(chains*draws, ...) numpy draws of a posterior variable."""
    values = idata.posterior[name].values
    return values.reshape(-1, *values.shape[2:])


def capture_pattern_probabilities(logits, class_effect=None, class_share=None, interactions=None) -> np.ndarray:
    """Capture-pattern probabilities over ``2**k`` patterns, mixed over latent capture classes.

    Within class ``c`` a death's log-odds of capture on list ``j`` is ``logits[j] + class_effect[c]``, with the
    two-way ``interactions`` (log odds ratios, one per pair of lists in :func:`~estimators._daily._model._pairs`
    order) the same in every class, so the class's pattern probabilities are log-linear,
    ``exp(h.logits + class_effect[c] |h| + sum_{i<j} h_i h_j gamma_ij) / Z_c``; these are mixed with the shares
    ``class_share``::

        p_h = sum_c w_c prod_j p_jc^h_j (1 - p_jc)^(1 - h_j)    (without interactions),

    with ``p_jc = expit(logits[j] + class_effect[c])``: the latent-class model of Manrique-Vallier (2016) with its
    class-by-list log-odds restricted to list plus class effects (Fienberg, Johnson & Junker 1999's Rasch-type
    heterogeneity, with a finite mixing distribution).

    Parameters
    ----------
    logits : array (..., k)
        Each list's log-odds of capture (of class 0, when classes are given).
    class_effect, class_share : array (..., C), optional
        Each class's shift of the log-odds on every list and its share of deaths (summing to one); both None: one
        class.
    interactions : array (..., k (k - 1) / 2), optional

    Returns
    -------
    array (..., 2**k)
        ``log`` is not taken: probabilities, pattern index ``h`` read as binary digits (first list highest bit).

    References
    ----------
    Manrique-Vallier, D. (2016). Bayesian population size estimation using Dirichlet process mixtures.
    *Biometrics* 72(4):1246-1254. Fienberg, S. E., Johnson, M. S. & Junker, B. W. (1999). Classical multilevel
    and Bayesian approaches to population size estimation using multiple lists. *Journal of the Royal Statistical
    Society A* 162(3):383-405.

    Examples
    --------
    >>> p = capture_pattern_probabilities([0.0, 0.0], [0.0, np.log(3)], [0.5, 0.5])
    >>> (32 * p).round(6).tolist()  # classes with capture 1/2 and 3/4 on both lists: 00, 01, 10, 11
    [5.0, 7.0, 7.0, 13.0]
    """
    logits = np.asarray(logits, float)
    k = logits.shape[-1]
    return np.exp(_log_pattern_probabilities(
        logits, None if interactions is None else np.asarray(interactions, float), k,
        None if class_effect is None else np.asarray(class_effect, float),
        None if class_share is None else np.asarray(class_share, float)))


def _log_pattern_probabilities(alpha: np.ndarray, gamma: np.ndarray | None, k: int, class_effect=None,
                               class_share=None) -> np.ndarray:
    """log P(pattern): ``alpha`` (..., k), ``gamma`` (..., pairs), class arrays (..., C) -> (..., 2**k).

    The leading axes broadcast (draws: ``alpha`` (S, bins, k) with ``gamma`` and the class arrays (S, 1, ...)).
    """
    X = pattern_matrix(k).astype(float)
    eta = alpha @ X.T
    if gamma is not None and gamma.shape[-1]:
        X2 = np.stack([X[:, i] * X[:, j] for i, j in _pairs(k)], axis=1)
        eta = eta + gamma @ X2.T
    if class_effect is not None:
        eta = eta[..., None, :] + class_effect[..., :, None] * X.sum(1)
    top = eta.max(axis=-1, keepdims=True)
    log_p = eta - top - np.log(np.exp(eta - top).sum(axis=-1, keepdims=True))
    if class_effect is None:
        return log_p
    with np.errstate(divide="ignore"):
        log_p = log_p + np.log(class_share)[..., :, None]
    top = log_p.max(axis=-2, keepdims=True)
    return (top + np.log(np.exp(log_p - top).sum(axis=-2, keepdims=True)))[..., 0, :]


def _quantities(draws: Mapping, data: DailyData) -> dict:
    """Derived draws: expected deaths per bin, pattern probabilities, list coverage over the study."""
    rate = draws["rate"]
    out = {"rate": rate, "population": draws["population"].reshape(-1)}
    if data.k:
        S = rate.shape[0]
        # constant capture: one set of pattern probabilities per draw, the same view in every bin
        if "capture_logit_bin" in draws:  # one row per step of the capture walk, read by each bin of counts
            alpha = draws["capture_logit_bin"][:, data.capture_bin_of_bin]
        else:
            alpha = draws["capture_logit"][:, None, :]
        gamma = draws.get("interaction")
        effect, share = draws.get("capture_class_effect"), draws.get("capture_class_share")
        log_p = _log_pattern_probabilities(
            alpha, None if gamma is None else gamma.reshape(S, 1, -1), data.k,
            None if effect is None else effect.reshape(S, 1, -1), None if share is None else share.reshape(S, 1, -1))
        p_pattern = np.broadcast_to(np.exp(log_p), (S, data.n_bins, log_p.shape[-1]))
        groups, n_bins = data.groups, data.n_bins
        # expected deaths per (group of lists present, bin), and the pattern probabilities over the lists present
        expected = np.zeros((S, len(data.presence), n_bins))
        for g in range(len(data.presence)):
            days_g = groups == g
            expected[:, g] = rate[:, days_g] @ data.bin_matrix[:, days_g].T
        if len(data.presence) == 1 and data.presence.all():
            cell_bin = expected[:, 0, :, None] * p_pattern
        else:
            maps = presence_maps(data.presence)
            by_group = np.einsum("sbh,ghj->sgbj", p_pattern, maps)
            cell_bin = np.einsum("sgb,sgbj->sbj", expected, by_group)
        expected_bin = expected.sum(1)
        # expected records of each pattern per bin (all date precisions; pattern 0: on no list present)
        out["cell_bin"] = cell_bin
        out["expected_bin"] = expected_bin
        X = pattern_matrix(data.k).astype(float)
        # a list's coverage is over the days it exists (list_windows)
        present = data.list_present()
        out["list_coverage"] = (cell_bin.sum(1) @ X) / (rate @ present.astype(float))
        out["unlisted_expected"] = cell_bin[:, :, 0].sum(1)
    if "tally_coverage" in draws:
        out["tally_coverage"] = draws["tally_coverage"].reshape(rate.shape[0], -1)
    return out


def _total_draws(q: Mapping, data: DailyData, rng) -> tuple[np.ndarray, int, str]:
    """Draws of the deaths that happened in the study, and how many of them are documented.

    Poisson thinning: given the rates, the deaths no list recorded are Poisson with mean sum_b E_b p_0b,
    independent of the listed ones; likewise the deaths a whole-period tally missed.
    """
    rate = q["rate"]
    if data.k:
        return data.n_listed + rng.poisson(q["unlisted_expected"]), data.n_listed, "listed"
    full = [j for j in range(len(data.tally_names))
            if data.tally_matrix[data.tally_index == j].sum(0).min() >= 1]
    if full:
        j = max(full, key=lambda i: data.tally_counts[data.tally_index == i].sum())
        documented = int(round(data.tally_counts[data.tally_index == j].sum()))
        missed = (1 - q["tally_coverage"][:, j]) * rate.sum(1)
        return documented + rng.poisson(missed), documented, f"on tally {data.tally_names[j]!r}"
    return rng.poisson(rate.sum(1)).astype(float), 0, "documented"


def _interval(values, level):
    tail = (1 - level) / 2
    return np.quantile(values, [tail, 0.5, 1 - tail], axis=0)


def _contraction(prior, posterior) -> float:
    """1 - posterior variance / prior variance, on the log scale (1: the data decide; 0: the prior does)."""
    prior, posterior = np.log(np.asarray(prior, float)), np.log(np.asarray(posterior, float))
    prior, posterior = prior[np.isfinite(prior)], posterior[np.isfinite(posterior)]
    if len(prior) < 2 or np.var(prior) == 0:
        return float("nan")
    return float(1 - np.var(posterior) / np.var(prior))


def _predictive_table(q: Mapping, draws: Mapping, data: DailyData, rng, level: float) -> pd.DataFrame:
    """Replicated data summaries against the observed ones, with two-sided predictive p-values."""
    rows = []

    def add(check, observed, replicated):
        replicated = np.asarray(replicated, float)
        lower, median, upper = _interval(replicated, level)
        p = min(1.0, 2 * min(np.mean(replicated >= observed), np.mean(replicated <= observed)))
        rows.append((check, float(observed), float(median), float(lower), float(upper), p))

    if data.k:
        # Each check is judged on its own, so each replicated summary is drawn from its own marginal: a sum of
        # independent Poisson counts (records of every date precision) is Poisson with the summed mean, and those
        # with an exact day are a binomial thinning of them (not draws per bin and pattern, 181 x 15 per draw).
        by_pattern = rng.poisson(q["cell_bin"][:, :, 1:].sum(1))
        X = pattern_matrix(data.k)[1:].astype(float)
        observed = data.list_cells.sum(0) + data.coarse_cells.reshape(-1, data.list_cells.shape[1]).sum(0)
        for j, name in enumerate(data.list_names):
            add(f"list {name}: records", observed @ X[:, j], by_pattern @ X[:, j])
        for i, j in _pairs(data.k):
            both = X[:, i] * X[:, j]
            add(f"lists {data.list_names[i]}&{data.list_names[j]}: overlap", observed @ both, by_pattern @ both)
        per_bin = rng.poisson(q["cell_bin"][:, :, 1:].sum(2))
        exact_share = data.list_cells.sum() / max(data.n_listed, 1)
        exact = rng.binomial(per_bin, exact_share) if exact_share < 1 else per_bin
        add("lists: records per bin, largest", data.list_cells.sum(1).max(), exact.max(1))
    for j, name in enumerate(data.tally_names):
        rows_j = data.tally_index == j
        mean = q["tally_coverage"][:, [j]] * (q["rate"] @ data.tally_matrix[rows_j].T)
        add(f"tally {name}: count", data.tally_counts[rows_j].sum(), rng.poisson(mean).sum(1))
    for i, name in enumerate(data.survey_names):
        mu = draws["survey_mean"].reshape(len(q["rate"]), -1)[:, i]
        alpha = data.survey_alpha[i]
        replicated = rng.poisson(rng.gamma(alpha, mu / alpha)) if alpha < _POISSON_ALPHA else rng.poisson(mu)
        add(f"survey {name}: deaths", data.survey_deaths[i], replicated)
    for i, name in enumerate(data.household_names):
        n, affected, deff = data.household_raw[i]
        share = draws["affected_share"].reshape(len(q["rate"]), -1)[:, i]
        n_eff = max(int(round(n / deff)), 1)
        add(f"{name}: affected households", affected, rng.binomial(n_eff, share) * n / n_eff)
    return pd.DataFrame(rows, columns=["check", "observed", "median", "lower", "upper", "p_value"]).set_index("check")

