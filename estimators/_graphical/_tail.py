"""Rigorous bounds on the posterior mass beyond the unlisted counts evaluated.

Each graph's term t(u) = p(y, u | G) p(n + u) is a ratio of Gamma functions, so t(u+1)/t(u) = prod (u + b_i)**s_i
is explicit: its offsets b_i bound the decay of the tail (:func:`_decay_bound`), evaluated exactly on a ladder of
unlisted counts and bounded between rungs (:func:`_geometric_tail`). A user prior is bounded from what its last
evaluated block shows (:class:`_PriorTail`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._graphs import _GraphArrays
from ._marginal import _Marginals, logsumexp
from ._model import _evaluate_log_prior

# The ladder of unlisted counts on which the tail beyond the support is bounded: steps 1, 2, 4, ... capped at
# 1/_LADDER_STEP of the count, up to U * _LADDER_SPAN (and _LADDER_TOP, where lgamma still has 3 correct
# decimals); _ROUNDING covers lgamma's rounding at those arguments.
_LADDER_SPAN = 1e4
_LADDER_STEP = 2
_LADDER_TOP = 1e11
_ROUNDING = 1e-2


def _tail_terms(arrays: _GraphArrays, m: _Marginals, default_prior: bool):
    """Per graph, the offsets b_i of the terms +-lgamma(u + b_i) of its log posterior, paired for the bound.

    Returns sorted positive offsets and sorted negative offsets, both (G, P), padded with zeros that pair
    with each other. The signs balance in every graph, so t(u+1)/t(u) = prod (u + b_i)^(s_i).
    """
    return _paired_offsets(
        m.offset, arrays.clique_masks, arrays.separator_masks, arrays.n_denominators, m.n, m.total_prior, default_prior
    )


def _paired_offsets(offset, clique_masks, separator_masks, n_denominators, n, total_prior, default_prior):
    """:func:`_tail_terms` on the graphs' arrays.

    The masks' padding is the empty set, whose offset is 0, as the padding of the offsets must be.
    """
    g, k = clique_masks.shape
    width = 2 * k + (2 if default_prior else 1)
    positive = np.zeros((g, width))
    negative = np.zeros((g, width))
    positive[:, :k] = offset[clique_masks]
    negative[:, :k] = offset[separator_masks]
    # c_G copies of the Dirichlet normaliser lgamma(u + n + alpha)
    negative[:, k : 2 * k] = np.where(np.arange(k)[None, :] < n_denominators[:, None], n + total_prior, 0.0)
    positive[:, k] = n + 1.0  # N! of the multinomial coefficient
    negative[:, 2 * k] = 1.0  # u! of the multinomial coefficient
    if default_prior:  # -log N = lgamma(N) - lgamma(N + 1)
        positive[:, k + 1] = n
        negative[:, 2 * k + 1] = n + 1.0
    positive.sort(axis=1)
    negative.sort(axis=1)
    return positive, negative


def _decay_bound(positive: np.ndarray, negative: np.ndarray, start: float) -> np.ndarray:
    """kappa(U) with u * log(t(u+1)/t(u)) <= kappa(U) for every u >= U >= 1 (one value per graph).

    Two bounds, the smaller taken. Pairing +lgamma(u + p) with -lgamma(u + q): if p > q the pair's
    u * log ratio is at most p - q, otherwise at most -(q - p) U / (U + q) (from x/(1+x) <= log(1+x) <= x).
    Second order: y - y**2/2 <= log(1+y) <= y - y**2/2 + y**3/3 gives e - V/(2U) + W/(3U**2) at u = U, and
    e as u grows, with V = sum(s b**2) and W = sum over positive terms of b**3. Both tend to the exponent
    e = sum(p) - sum(q) of the tail t(u) ~ C u**e.
    """
    start = np.asarray(start, dtype=float)
    kappa = _decay_bounds(np.ascontiguousarray(positive), np.ascontiguousarray(negative), start.reshape(-1))
    return kappa[:, 0] if start.ndim == 0 else kappa


def _decay_bounds(positive, negative, start):
    """:func:`_decay_bound` for each graph (rows) and each start (columns).

    Term by term over the few columns, so that each graph's sums are taken in the same order whatever the number of
    graphs.
    """
    out = np.zeros((positive.shape[0], start.size))
    exponent = np.zeros(positive.shape[0])
    v = np.zeros(positive.shape[0])
    w = np.zeros(positive.shape[0])
    for p in range(positive.shape[1]):
        high, low = positive[:, p], negative[:, p]
        gap = high - low
        exponent += gap
        v += high * high - low * low
        w += high * high * high
        gap = gap[:, None]
        out += np.where(gap > 0, gap, gap * (start[None, :] / (start[None, :] + low[:, None])))
    second = exponent[:, None] + np.maximum(0.0, -v[:, None] / (2 * start[None, :]) + w[:, None] / (3 * start * start))
    return np.minimum(out, second)


def _log_tail_bound(log_t_end, kappa, start, prior_ratio=None):
    """Log of a bound on sum_{u > U} t(u) given t(U) and the decay bound kappa(U), per graph.

    Polynomial: log t(u) <= log t(U) + kappa log(u/U), so the tail is at most t(U) U / (-kappa - 1) when
    kappa < -1. With a user prior whose log ratio beyond U is at most ``prior_ratio`` (< 0), the ratio
    t(u+1)/t(u) <= exp(max(kappa, 0)/U + prior_ratio) = r < 1 also gives the geometric bound t(U) r / (1 - r).
    """
    kappa = np.asarray(kappa, dtype=float)
    bound = np.full(kappa.shape, np.inf)
    if prior_ratio is None or prior_ratio <= 0:
        heavy = kappa < -1
        bound[heavy] = np.log(start) - np.log(-kappa[heavy] - 1)
    if prior_ratio is not None and prior_ratio < 0:
        log_r = np.maximum(kappa, 0.0) / start + prior_ratio
        geometric = np.where(log_r < 0, log_r - np.log(-np.expm1(np.minimum(log_r, -1e-300))), np.inf)
        bound = np.minimum(bound, geometric)
    with np.errstate(invalid="ignore"):
        return np.where(np.isneginf(log_t_end), -np.inf, log_t_end + bound)


def _beyond_bound(positive, negative, prior_tail, start, log_t):
    """Log bounds on each graph's mass beyond ``start`` from log t(start) alone (:func:`_log_tail_bound`)."""
    if prior_tail is None:
        prior_ratio, prior_kappa = None, 0.0
    else:
        prior_ratio, prior_kappa = prior_tail.far_ratio(start), float(prior_tail.kappa(np.array([start]))[0])
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        return _log_tail_bound(log_t, _decay_bound(positive, negative, start) + prior_kappa, start, prior_ratio)


def _geometric_tail(model, rows, end, positive, negative, prior_tail, ladder=True):
    """Log bounds on each graph's posterior mass beyond a ladder of unlisted counts U = P_0 < P_1 < ...

    t is evaluated exactly on rungs whose steps double from 1 up to half the rung (up to
    U * _LADDER_SPAN). On (a, b] = (P_j, P_j+1] the bounds of :meth:`_Model.interval_log_mass` hold, and with
    kappa(a) <= 0 from :func:`_decay_bound` also t(u) <= t(a) (u/a)**kappa, whose sum over (a, b] is at most
    t(a) a ((b/a)**(kappa+1) - 1) / (kappa + 1) (and, for a log-concave user prior, a geometric series at the
    rate max(kappa, 0)/a + the prior's log ratio at a); the smallest is used. Beyond the last rung the polynomial
    bound of :func:`_log_tail_bound` applies. Returns the rungs and a (graphs x rungs) array: the log bound on the mass
    beyond each rung (only beyond the first, one column, if not ``ladder``).
    """
    start = max(float(end), 1.0)
    top = min(start * _LADDER_SPAN, _LADDER_TOP)
    rungs = [start]
    step = 1.0
    while rungs[-1] < top:
        rungs.append(rungs[-1] + min(step, max(1.0, math.floor(rungs[-1] / _LADDER_STEP))))
        step *= 2
    rungs = np.array(rungs)
    values = model.graph_log_values(rows, rungs, model.prior(rungs))
    values[:, 1:] += _ROUNDING
    a, b = rungs[:-1], rungs[1:]
    columns = np.arange(len(rungs))
    if prior_tail is None:
        interval = model.interval_log_mass(rows, a, b, values, columns[:-1], columns[1:], b - a)
        prior_kappa, decaying = np.zeros(len(a)), np.ones(len(a), dtype=bool)
    else:
        ratios = prior_tail.ratio_bounds(a, b)
        interval = model.interval_log_mass(
            rows, a, b, values, columns[:-1], columns[1:], b - a, ratios, np.full(len(a), -np.inf)
        )
        prior_kappa = prior_tail.kappa(a)
        decaying = ratios <= 0  # the prior is non-increasing beyond a, so kappa may ignore what it lacks
    pos, neg = positive[rows], negative[rows]
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        kappa = _decay_bound(pos, neg, a) + prior_kappa[None, :]
        rate = kappa + 1.0
        span = np.log(b / a)[None, :]
        safe = np.where(np.abs(rate) < 1e-12, 1.0, rate)
        growth = np.where(np.abs(rate) < 1e-12, span, np.expm1(rate * span) / safe)
        usable = (kappa <= 0) & decaying[None, :]
        decay = np.where(usable, values[:, :-1] + np.log(a)[None, :] + np.log(growth), np.inf)
        interval = np.minimum(interval, decay)
        if prior_tail is not None and prior_tail.log_concave:
            # log t(u+1) - log t(u) <= max(kappa, 0) / a + (prior's ratio at a) on [a, b): a geometric series.
            rate = np.maximum(kappa, 0) / a[None, :] + ratios[None, :]
            width = (b - a)[None, :]
            series = rate + np.log(-np.expm1(width * rate)) - np.log(-np.expm1(rate))
            interval = np.minimum(interval, np.where(rate < 0, values[:, :-1] + series, np.inf))
        far = _beyond_bound(pos, neg, prior_tail, rungs[-1], values[:, -1])
    pieces = np.hstack([interval, far[:, None]])
    if not ladder:
        return rungs, logsumexp(pieces, axis=1)[:, None]
    beyond = np.logaddexp.accumulate(pieces[:, ::-1], axis=1)[:, ::-1]
    return rungs, beyond


@dataclass(frozen=True)
class _PriorTail:
    """What is assumed about a user prior beyond the evaluated support, read from its last block.

    If its log ratio log p(N+1) - log p(N) was non-increasing over the block (a log-concave tail: negative
    binomial, Poisson, ...) it is assumed to stay so, and the ratio at the start of each interval bounds it
    there. Otherwise, if the prior was non-increasing, it is assumed to keep decaying at least like N**-power,
    the smallest power seen over the block (1 for 1/N, 0 for a flat prior): N**power p(N) non-increasing.
    Nothing is assumed, and no bound given, for a prior still increasing at the end of the support.
    """

    log_prior: Callable
    n: float
    log_concave: bool
    power: float  # nan when the prior was still increasing

    def ratio_bounds(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Upper bounds on the prior's log ratio over [a, b)."""
        if self.log_concave:
            low = _evaluate_log_prior(self.log_prior, a + self.n)
            high = _evaluate_log_prior(self.log_prior, a + 1 + self.n)
            with np.errstate(invalid="ignore"):
                ratio = high - low
            return np.where(np.isnan(ratio), np.where(np.isneginf(high), -np.inf, np.inf), ratio)
        if np.isnan(self.power):
            return np.full(len(a), np.inf)
        return -self.power * np.log1p(1 / (b + self.n))

    def kappa(self, start: np.ndarray) -> np.ndarray:
        """The prior's share of kappa(U): u * log ratio <= -power U / (U + n + 1) for u >= U."""
        if self.log_concave or np.isnan(self.power):
            return np.zeros_like(start)
        return -self.power * start / (start + self.n + 1)

    def far_ratio(self, start: float) -> float:
        """A bound on the prior's log ratio everywhere beyond ``start`` (for the geometric tail bound)."""
        if self.log_concave:
            return float(self.ratio_bounds(np.array([start]), np.array([start + 1]))[0])
        return np.inf if np.isnan(self.power) else 0.0


def _prior_tail(log_prior, u_block, n) -> _PriorTail | None:
    if log_prior is None:
        return None
    at = np.append(u_block, u_block[-1] + 1) + n
    values = _evaluate_log_prior(log_prior, at)
    with np.errstate(invalid="ignore"):
        ratios = np.diff(values)
    finite = np.isfinite(ratios)
    if np.isneginf(values[-1]):
        return _PriorTail(log_prior=log_prior, n=float(n), log_concave=True, power=np.nan)
    kept = ratios[finite]
    concave = bool(kept.size >= 2 and np.all(np.diff(kept) <= 1e-12 * np.maximum(1, np.abs(kept[1:]))))
    power = np.nan
    if not concave and kept.size and kept.max() <= 0:
        power = max(0.0, float(np.min(-kept / np.log1p(1 / at[:-1][finite]))))
    return _PriorTail(log_prior=log_prior, n=float(n), log_concave=concave, power=power)
