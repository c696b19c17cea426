"""Poisson log-linear fitting and the multinomial profile likelihood for N: the engine under every
log-linear-form estimator (hierarchical models, Mt, Mh/Mth heterogeneity models).

Conventions: ``design`` holds one row per *observed* pattern (all 2**k - 1 of them, zeros included) and its first
column is the intercept. The unobserved all-zero pattern has design row (1, 0, ..., 0), so N = n + exp(intercept)
(Fienberg 1972; Cormack 1989). The multinomial profile likelihood is that of Cormack (1992) as used by Rcapture's
``closedpCI.t`` (Baillargeon & Rivest 2007).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ._lazy import chi2_1_ppf, gammaln, lgamma, xlogy
from ._solvers import brentq, minimize_brent

MAX_ITER = 200
TOLERANCE = 1e-10


@dataclass(frozen=True)
class PoissonFit:
    """A Poisson fit. ``loglik`` and ``deviance`` are computed on first use and ``covariance`` (the inverse Fisher
    information) is None when not asked for: the profile likelihood refits the model at every N it tries and
    needs none of them (a pseudo-inverse and two logarithm sums per refit, a third of a 4-list profile interval)."""

    coef: np.ndarray
    fitted: np.ndarray
    covariance: np.ndarray | None
    converged: bool
    iterations: int
    y: np.ndarray = field(repr=False, compare=False)

    @cached_property
    def loglik(self) -> float:
        return poisson_loglik(self.y, self.fitted)

    @cached_property
    def deviance(self) -> float:
        return poisson_deviance(self.y, self.fitted)


def poisson_loglik(y: np.ndarray, mu: np.ndarray) -> float:
    """Poisson log-likelihood including the -log y! term."""
    return float(np.sum(xlogy(y, mu) - mu - gammaln(y + 1)))


def poisson_deviance(y: np.ndarray, mu: np.ndarray) -> float:
    return float(2 * np.sum(xlogy(y, y / np.where(mu > 0, mu, 1.0)) - (y - mu)))


def fit_poisson(design: np.ndarray, y: np.ndarray, start: np.ndarray | None = None,
                covariance: bool = True) -> PoissonFit:
    """Maximum-likelihood Poisson regression with log link by damped Newton steps (``covariance``: compute the
    inverse Fisher information).

    Works where the MLE is on the boundary (coefficients drifting to -inf) by stopping at the iteration limit and
    reporting ``converged=False``; callers decide existence beforehand with :mod:`estimators._loglinear._existence`.
    """
    design = np.asarray(design, dtype=float)
    y = np.asarray(y, dtype=float)
    coef = _start_values(design, y) if start is None else np.asarray(start, dtype=float).copy()
    eta = np.clip(design @ coef, -700, 700)
    mu = np.exp(eta)
    objective = float(np.sum(y * eta - mu))
    converged = False
    iterations = 0
    for iterations in range(1, MAX_ITER + 1):
        gradient = design.T @ (y - mu)
        information = (design * mu[:, None]).T @ design
        try:
            step = np.linalg.solve(information, gradient)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(information, gradient, rcond=None)[0]
        scale = 1.0
        while True:
            candidate = coef + scale * step
            eta_new = np.clip(design @ candidate, -700, 700)
            mu_new = np.exp(eta_new)
            new_objective = float(np.sum(y * eta_new - mu_new))
            if new_objective >= objective - 1e-12 * abs(objective) or scale < 1e-10:
                break
            scale /= 2
        change = new_objective - objective
        coef, eta, mu, objective = candidate, eta_new, mu_new, new_objective
        if abs(change) <= TOLERANCE * (abs(objective) + 1.0) and np.max(np.abs(scale * step)) < 1e-6:
            converged = True
            break
    # a pseudo-inverse: raises LinAlgError (callers catch it) where a fit has run off to the boundary
    covariance = np.linalg.pinv((design * mu[:, None]).T @ design) if covariance else None
    return PoissonFit(coef=coef, fitted=mu, covariance=covariance, converged=converged, iterations=iterations, y=y)


def _start_values(design: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least squares on log(y + 1/2), or, where that overflows (wide heterogeneity columns), log(mean y) with zero
    slopes: a start from which damped Newton steps always reach the optimum."""
    try:
        coef, *_ = np.linalg.lstsq(design, np.log(y + 0.5), rcond=None)
        if np.all(np.isfinite(coef)) and np.all(np.abs(design @ coef) < 50):
            return coef
    except np.linalg.LinAlgError:
        pass
    coef = np.zeros(design.shape[1])
    coef[0] = np.log(max(float(np.mean(y)), 1e-8))
    return coef


def glm_abundance(fit: PoissonFit, n_observed: float) -> tuple[float, float]:
    """N = n + exp(intercept) and its delta-method standard error (Rcapture's ``abundance`` and s.e.)."""
    unlisted = float(np.exp(fit.coef[0]))
    variance = unlisted**2 * fit.covariance[0, 0] + unlisted
    return n_observed + unlisted, float(np.sqrt(max(variance, 0.0)))


def _complete(design: np.ndarray) -> np.ndarray:
    zero_row = np.zeros((1, design.shape[1]))
    zero_row[0, 0] = 1.0
    return np.vstack([zero_row, design])


def multinomial_profile_loglik(design: np.ndarray, y: np.ndarray, unlisted: float, start=None):
    """Profile log-likelihood of N = n + unlisted, maximised over the cell probabilities (Cormack 1992).

    With the unlisted count filled into the all-zero cell, the Poisson fit of the complete table gives the
    multinomial MLE of the cell probabilities for that N (mu_h / N). Returns (loglik, coefficients).
    Constant terms in the observed counts are dropped.
    """
    complete = _complete(design)
    y_complete = np.concatenate([[unlisted], y])
    fit = fit_poisson(complete, y_complete, start=start, covariance=False)
    if start is not None and not fit.converged:
        # A warm start carried from a far-away N can sit near the boundary (intercept -> -inf), where Newton stalls.
        cold = fit_poisson(complete, y_complete, covariance=False)
        if cold.converged or cold.loglik > fit.loglik:
            fit = cold
    total = float(y.sum()) + unlisted
    loglik = (
        lgamma(total + 1)
        - lgamma(unlisted + 1)
        + float(np.sum(xlogy(y_complete, fit.fitted / total)))
    )
    return loglik, fit.coef


@dataclass(frozen=True)
class ProfileInterval:
    mle: float
    lower: float
    upper: float
    lower_found: bool
    upper_found: bool


def profile_interval(design: np.ndarray, y: np.ndarray, level: float = 0.95, start=None,
                     profile=None) -> ProfileInterval:
    """Multinomial profile-likelihood interval for N (Cormack 1992; Rcapture ``closedpCI.t``).

    Returns the multinomial MLE of N and the bounds where twice the drop in profile log-likelihood equals the
    chi-square(1) quantile. An upper bound not reached within ``n * 1e6`` is reported as not found (nan); a lower
    bound not reached before N = n is n, also reported as not found.

    ``profile(unlisted, start) -> (loglik, coef)`` replaces :func:`multinomial_profile_loglik` of ``design`` where
    the model itself changes with N (Chao's heterogeneity model drops negative eta columns at every N, as
    Rcapture); ``start`` is then the previous evaluation's coefficients, which it may ignore.
    """
    y = np.asarray(y, dtype=float)
    n_observed = float(y.sum())
    critical = chi2_1_ppf(level) / 2
    cache = {"start": start}
    if profile is None:
        def profile(unlisted, warm):
            return multinomial_profile_loglik(design, y, unlisted, start=warm)

    def loglik(log_unlisted: float) -> float:
        value, coef = profile(float(np.exp(log_unlisted)), cache["start"])
        cache["start"] = coef
        return value

    if start is None:
        first = fit_poisson(design, y)
        guess = float(np.clip(first.coef[0], np.log(1e-6), np.log(n_observed * 1e6)))
        cache["start"] = first.coef
    else:
        guess = float(np.clip(start[0], np.log(1e-6), np.log(n_observed * 1e6)))
    low_limit, high_limit = np.log(1e-8), np.log(max(n_observed, 1.0) * 1e6)
    best = minimize_brent(lambda t: -loglik(t), (guess - 0.5, guess), xtol=1e-10)
    t_hat = float(np.clip(best, low_limit, high_limit))
    l_hat = loglik(t_hat)
    mle_start = cache["start"]

    def drop(t: float) -> float:
        return l_hat - loglik(t) - critical

    def bound(direction: int) -> tuple[float, bool]:
        cache["start"] = mle_start
        limit = low_limit if direction < 0 else high_limit
        step, t = 0.05, t_hat
        while True:
            t_next = t + direction * step
            if (direction < 0 and t_next <= limit) or (direction > 0 and t_next >= limit):
                if drop(limit) < 0:
                    # not reached: the lower bound is then n itself (Rcapture's rule), the upper one unknown
                    return (0.0 if direction < 0 else np.nan), False
                t_next = limit
            if drop(t_next) >= 0:
                root = brentq(drop, min(t, t_next), max(t, t_next), xtol=1e-12)
                return float(np.exp(root)), True
            t, step = t_next, step * 1.6

    lower, lower_found = bound(-1)
    upper, upper_found = bound(+1)
    return ProfileInterval(
        mle=n_observed + float(np.exp(t_hat)),
        lower=n_observed + lower,
        upper=(n_observed + upper) if upper_found else np.nan,
        lower_found=lower_found,
        upper_found=upper_found,
    )


@dataclass(frozen=True)
class BatchFit:
    """Many Poisson log-linear fits at once (one per leading index): what model search needs, nothing more."""

    coef: np.ndarray  # (B, p)
    fitted: np.ndarray  # (B, m); zero where the weight is zero
    loglik: np.ndarray  # (B,) including -log y!
    deviance: np.ndarray  # (B,)
    intercept_variance: np.ndarray  # (B,) inverse Fisher information of the intercept
    converged: np.ndarray  # (B,) bool


def fit_poisson_batch(
    designs: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None = None,
    start: np.ndarray | None = None,
    max_iter: int = MAX_ITER,
) -> BatchFit:
    """Damped Newton fits of B Poisson log-linear models of equal width in one vectorised loop.

    ``designs`` is (B, m, p) with the intercept first; ``y`` is (m,) (shared) or (B, m); ``weights`` (B, m) of 0/1
    drops cells from a model (cells whose fitted value is structurally zero, see :mod:`estimators._loglinear._existence`).
    Batching matters because a model search fits thousands of tiny models: one numpy call per Newton step for
    all of them instead of one Python loop per model.
    """
    designs = np.asarray(designs, dtype=float)
    n_models, n_cells, width = designs.shape
    # log(y!) before broadcasting: a search shares one y between thousands of models
    log_factorials = np.broadcast_to(gammaln(np.asarray(y, dtype=float) + 1), (n_models, n_cells))
    y = np.broadcast_to(np.asarray(y, dtype=float), (n_models, n_cells))
    w = np.ones((n_models, n_cells)) if weights is None else np.asarray(weights, dtype=float)
    if start is None:
        # Weighted least squares on log(y + 1/2): a start close enough for Newton to need no damping mostly.
        target = np.log(y + 0.5)
        weighted = designs * w[..., None]
        gram = weighted.transpose(0, 2, 1) @ designs + 1e-9 * np.eye(width)
        coef = np.linalg.solve(gram, weighted.transpose(0, 2, 1) @ target[..., None])[..., 0]
    else:
        coef = np.array(start, dtype=float)

    value, mu = _objective(designs, y, w, np.arange(n_models), coef)
    active = np.ones(n_models, dtype=bool)
    converged = np.zeros(n_models, dtype=bool)
    ridge = 1e-12 * np.eye(width)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        # while every model is active (most iterations of a search), views instead of copies of (B, m, p) arrays
        rows = slice(None) if idx.size == n_models else idx
        X, m_, b = designs[rows], mu[rows], coef[rows]
        gradient = (X.transpose(0, 2, 1) @ (w[rows] * y[rows] - m_)[..., None])[..., 0]
        information = (X * m_[..., None]).transpose(0, 2, 1) @ X
        scale_diag = np.maximum(np.einsum("bii->bi", information).max(axis=1), 1e-300)
        try:
            step = np.linalg.solve(information + ridge * scale_diag[:, None, None], gradient[..., None])[..., 0]
        except np.linalg.LinAlgError:
            step = np.einsum("bij,bj->bi", np.linalg.pinv(information), gradient)
        old = value[idx]
        scale = np.ones(idx.size)
        new_value, new_mu = _objective(designs, y, w, rows, b + step)
        for _ in range(40):
            worse = new_value < old - 1e-12 * np.abs(old)
            if not worse.any():
                break
            scale[worse] /= 2
            sub = idx[worse]
            cand_value, cand_mu = _objective(designs, y, w, sub, b[worse] + scale[worse, None] * step[worse])
            new_value[worse], new_mu[worse] = cand_value, cand_mu
        coef[idx] = b + scale[:, None] * step
        value[idx], mu[idx] = new_value, new_mu
        done = (np.abs(new_value - old) <= TOLERANCE * (np.abs(new_value) + 1.0)) & (
            np.max(np.abs(scale[:, None] * step), axis=1) < 1e-6
        )
        converged[idx[done]] = True
        active[idx[done]] = False
    information = (designs * mu[..., None]).transpose(0, 2, 1) @ designs
    try:
        unit = np.zeros((n_models, width, 1))
        unit[:, 0, 0] = 1.0
        intercept_variance = np.linalg.solve(information, unit)[:, 0, 0]
    except np.linalg.LinAlgError:
        intercept_variance = np.linalg.pinv(information)[:, 0, 0]
    loglik = np.sum(w * (xlogy(y, np.where(w > 0, mu, 1.0)) - mu - log_factorials), axis=1)
    deviance = 2 * np.sum(w * (xlogy(y, y / np.where(mu > 0, mu, 1.0)) - (y - mu)), axis=1)
    return BatchFit(coef, mu, loglik, deviance, intercept_variance, converged)


def _objective(designs, y, w, idx, beta):
    """Poisson log-likelihood kernel (without -log y!) and fitted values of the models ``idx`` (indices or a
    slice)."""
    eta = np.clip((designs[idx] @ beta[..., None])[..., 0], -700, 700)
    mu = np.exp(eta) * w[idx]
    return np.sum(w[idx] * y[idx] * eta - mu, axis=1), mu
