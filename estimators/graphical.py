"""Bayesian model averaging over decomposable graphical models (Madigan & York 1997).

The complete 2**k table (observed cells plus the unlisted count in the all-zero cell) is multinomial; each
decomposable graph on the k lists gives a hyper-Dirichlet prior (Dawid & Lauritzen 1993) whose marginal
likelihood factorises over the graph's cliques and separators. The posterior over (graph, unlisted count) is
computed exactly on the integers, so the posterior of N is an exact probability mass function.

Unlike the R package dga, the support of the unlisted count is not a user-supplied grid: it is extended until a
bound on the neglected posterior mass falls below ``tail_tolerance``, and a posterior whose tail is too heavy for
its interval to be fixed by the data is refused (see :func:`graphical_bma`).
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numba import njit
from scipy.special import gammaln

from . import _warn
from ._validation import (
    LEVEL,
    SEED,
    Callable,
    Integral,
    Interval,
    Real,
    check_level,
    check_positive,
    check_positive_int,
    validate_params,
)
from .exceptions import IdentifiabilityWarning, NonexistentEstimateError
from .histories import CaptureHistories, check_histories
from .results import PosteriorEstimate, seeded_generator

MAX_LISTS = 6
# Largest unlisted count the adaptive support may reach: beyond it a tail is too heavy to be worth a number.
MAX_UNLISTED = 2_000_000
# Cells of one (graphs x interval ends) table of log posteriors: bounds memory whatever the number of graphs.
_BLOCK_CELLS = 1 << 22
# Consecutive unlisted counts per interval whose mass is bounded before it is computed.
_INTERVAL = 194
# Largest share of the posterior mass that skipped (graph, interval) pairs may hold, in total (per evaluation).
_PRUNE = 1e-12
# A pair whose bound is below exp(-_NEGLIGIBLE) times that share is skipped without sharpening its bound.
_NEGLIGIBLE = 40.0
# Share of the tail tolerance granted to graphs dropped from further evaluation.
_DROP_SHARE = 0.1
# The ladder of unlisted counts on which the tail beyond the support is bounded: steps 1, 2, 4, ... capped at
# 1/_LADDER_STEP of the count, up to
# U * _LADDER_SPAN (and _LADDER_TOP, where lgamma still has 3 correct decimals); _ROUNDING covers lgamma's
# rounding at those arguments.
_LADDER_SPAN = 1e4
_LADDER_STEP = 2
_LADDER_TOP = 1e11
_ROUNDING = 1e-2
# Where tail_tolerance is out of reach, the median and bounds must still be fixed to this relative precision.
_RESOLUTION = 1e-3
# Running products for lgamma along a run of counts stay below this (far from float64 overflow).
_RUN_PRODUCT_MAX = 1e250
# and restart after this many factors: a run's products are then independent chains computed together.
_RUN_CHUNK = 16
# Log values may exceed the reference of the sums by this much (exp(600) * 1e8 values is far from overflow).
_HEADROOM = 600.0
# Values per block when the kept pairs are summed (a block stays in cache between its passes).
_PAIR_CELLS = 1 << 15


@lru_cache(maxsize=1)
def _thread_controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def logsumexp(values, axis=None):
    """log(sum(exp(values))) along ``axis``; -inf for empty or all -inf input (scipy's is slow on small arrays)."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return -np.inf if axis is None else np.full(np.delete(values.shape, axis), -np.inf)
    top = np.max(values, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        total = np.log(np.sum(np.exp(values - top), axis=axis, keepdims=True)) + top
    return total.item() if axis is None else np.squeeze(total, axis=axis)


# ---------------------------------------------------------------------------------------------- graph enumeration
@dataclass(frozen=True)
class DecomposableGraph:
    """A decomposable (chordal) graph on k lists.

    ``edges`` are pairs of list positions; ``cliques`` and ``separators`` are bitmasks over lists with the
    first list as the most significant bit (the cell index convention of
    :meth:`CaptureHistories.dense_counts`); ``separators`` is the multiset of non-empty separators of a
    junction forest (an empty separator joins disconnected components and contributes nothing).
    """

    k: int
    edges: tuple[tuple[int, int], ...]
    cliques: tuple[int, ...]
    separators: tuple[int, ...]

    def label(self, names=None) -> str:
        """The cliques as ``[A,B][C]`` (list names, or 1-based positions)."""
        names = tuple(str(i + 1) for i in range(self.k)) if names is None else tuple(str(n) for n in names)
        return _label(self.cliques, self.k, names)


@lru_cache(maxsize=1 << 14)
def _label(cliques: tuple[int, ...], k: int, names: tuple[str, ...]) -> str:
    # Cached: every fit labels its ten best graphs, which took 0.1 ms of a 3 ms fit.
    parts = []
    for mask in sorted(cliques, key=lambda m: _members(m, k)):
        parts.append("[" + ",".join(names[j] for j in _members(mask, k)) + "]")
    return "".join(parts)


def _members(mask: int, k: int) -> tuple[int, ...]:
    """List positions in a bitmask (first list = most significant bit)."""
    return tuple(j for j in range(k) if mask >> (k - 1 - j) & 1)


def _bit_count(x: int) -> int:
    return bin(x).count("1")


def _chordal_decomposition(k: int, adjacency: list[int]):
    """Cliques and separators of a graph by maximum cardinality search, or None if it is not chordal.

    Vertex v is bit v of ``adjacency[u]``. Maximum cardinality search (Tarjan & Yannakakis 1984) numbers the
    vertices; the graph is chordal iff every vertex's earlier-numbered neighbours form a clique. A new maximal
    clique starts where the number of earlier neighbours fails to grow; its separator is that neighbour set
    (Blair & Peyton 1993).
    """
    weight = [0] * k
    numbered = 0
    order, prior = [], []
    for _ in range(k):
        best = max((v for v in range(k) if not numbered >> v & 1), key=lambda v: (weight[v], -v))
        earlier = adjacency[best] & numbered
        rest = earlier
        while rest:
            low = rest & -rest
            v = low.bit_length() - 1
            if (earlier & ~low) & ~adjacency[v]:
                return None
            rest ^= low
        order.append(best)
        prior.append(earlier)
        numbered |= 1 << best
        rest = adjacency[best] & ~numbered
        while rest:
            low = rest & -rest
            weight[low.bit_length() - 1] += 1
            rest ^= low
    cliques, separators = [], []
    for i in range(k):
        if i + 1 == k or _bit_count(prior[i + 1]) <= _bit_count(prior[i]):
            cliques.append(prior[i] | 1 << order[i])
        if i > 0 and _bit_count(prior[i]) <= _bit_count(prior[i - 1]) and prior[i]:
            separators.append(prior[i])
    return cliques, separators


@lru_cache(maxsize=None)
def decomposable_graphs(k: int) -> tuple[DecomposableGraph, ...]:
    """All decomposable (chordal) graphs on ``k`` labelled lists, with their cliques and separators.

    There are 2, 8, 61, 822 and 18,154 of them for k = 2..6 (OEIS A058862). The enumeration filters all
    2**(k choose 2) graphs and is cached per k.

    Examples
    --------
    >>> len(decomposable_graphs(4))
    61
    """
    k = check_positive_int("k", k, minimum=1)
    if k > MAX_LISTS:
        raise ValueError(f"`k` must be at most {MAX_LISTS} (2**{k * (k - 1) // 2} graphs to filter); got {k}.")
    pairs = list(itertools.combinations(range(k), 2))

    def bit(v):  # vertex v is list v: first list = most significant bit of a cell index
        return 1 << (k - 1 - v)

    graphs = []
    for code in range(1 << len(pairs)):
        adjacency = [0] * k
        edges = tuple(p for e, p in enumerate(pairs) if code >> e & 1)
        for a, b in edges:
            adjacency[a] |= 1 << b
            adjacency[b] |= 1 << a
        found = _chordal_decomposition(k, adjacency)
        if found is None:
            continue

        def to_mask(vertices):
            return sum(bit(v) for v in range(k) if vertices >> v & 1)

        cliques, separators = found
        graphs.append(
            DecomposableGraph(
                k=k,
                edges=edges,
                cliques=tuple(to_mask(c) for c in cliques),
                separators=tuple(to_mask(s) for s in separators),
            )
        )
    return tuple(graphs)


@dataclass(frozen=True)
class _GraphArrays:
    """The graphs of one k as arrays: signed clique/separator counts per subset of lists, and padded lists."""

    coef: np.ndarray  # (G, 2**k) +1 per clique, -1 per non-empty separator
    n_denominators: np.ndarray  # (G,) cliques minus non-empty separators
    clique_masks: np.ndarray  # (G, k) padded with 0
    separator_masks: np.ndarray  # (G, k) padded with 0
    terms: np.ndarray  # (G, T) the subsets with a non-zero coefficient (padding: see _sparse_rows)
    weights: np.ndarray  # (G, T) their coefficients, padded with 0
    n_terms: np.ndarray  # (G,) number of non-zero coefficients
    # The same with one more term per graph, row 2**k + c - 1 for its c = n_denominators components (the
    # common terms plus c Dirichlet normalisers, see _Model.run_factors), padded to at least 8 terms.
    row_terms: np.ndarray
    row_weights: np.ndarray
    n_row_terms: np.ndarray
    # coef with two more columns, the Dirichlet normaliser's count and the common terms' (see _Model); the
    # subsets that some graph uses, and coefx on those columns (what an evaluation of every graph needs).
    coefx: np.ndarray
    used_masks: np.ndarray
    used_coefx: np.ndarray


@lru_cache(maxsize=None)
def _graph_arrays(k: int) -> _GraphArrays:
    graphs = decomposable_graphs(k)
    coef = np.zeros((len(graphs), 2**k), dtype=np.float64)
    cliques = np.zeros((len(graphs), k), dtype=np.int64)
    separators = np.zeros((len(graphs), k), dtype=np.int64)
    for g, graph in enumerate(graphs):
        for i, mask in enumerate(graph.cliques):
            coef[g, mask] += 1
            cliques[g, i] = mask
        for i, mask in enumerate(graph.separators):
            coef[g, mask] -= 1
            separators[g, i] = mask
    n_denominators = np.array([len(g.cliques) - len(g.separators) for g in graphs], dtype=np.int64)
    terms, weights, n_terms = _sparse_rows(coef)
    components = n_denominators[:, None] == np.arange(1, k + 1)[None, :]
    row_terms, row_weights, n_row_terms = _sparse_rows(np.hstack([coef, components]), minimum=8)
    coefx = np.hstack([coef, n_denominators[:, None].astype(float), np.ones((len(graphs), 1))])
    used_masks = np.flatnonzero(np.any(coef != 0, axis=0))
    used_coefx = coefx[:, np.append(used_masks, [2**k, 2**k + 1])]
    arrays = (
        coef, n_denominators, cliques, separators, terms, weights, n_terms, row_terms, row_weights, n_row_terms,
        coefx, used_masks, used_coefx,
    )
    for array in arrays:
        array.flags.writeable = False
    return _GraphArrays(*arrays)


# ---------------------------------------------------------------------------------------------- marginal likelihood
@dataclass(frozen=True)
class _Marginals:
    """Per subset A of lists: the offset of the all-zero marginal cell and the u-free log terms.

    With u people on no list, the clique/separator factor of A is
    ``lgamma(u + offset[A]) + constant[A]`` where offset[A] = (records on no list of A) + delta_A and
    delta_A = delta * 2**(k - |A|) spreads the cell hyper-parameter over the marginal table.
    """

    offset: np.ndarray  # (2**k,)
    constant: np.ndarray  # (2**k,)
    total_prior: float  # alpha = 2**k * delta
    n: float


@lru_cache(maxsize=None)
def _marginal_cells(k: int) -> np.ndarray:
    """Bin of every (subset A, cell) pair: A * 2**k + the cell's marginal cell on A (the cell's bits in A)."""
    subsets = np.arange(2**k)[:, None]
    bins = (subsets * 2**k + (np.arange(2**k)[None, :] & subsets)).ravel()
    bins.flags.writeable = False
    return bins


def _marginals(dense: np.ndarray, k: int, delta: float) -> _Marginals:
    size = 2**k
    y = dense.astype(float).copy()
    y[0] = 0.0
    n = float(y.sum())
    # Every subset's marginal table in one bincount; row A's columns are its marginal cells (the sub-masks of
    # A; other columns stay 0 and add exactly nothing below).
    marginal = np.bincount(_marginal_cells(k), weights=np.tile(y, size), minlength=size * size).reshape(size, size)
    subsets = np.arange(size)
    delta_a = delta * 2.0 ** (k - np.bitwise_count(subsets))
    log_delta = gammaln(delta_a)
    terms = gammaln(marginal[:, 1:] + delta_a[:, None])
    terms -= log_delta[:, None]
    # Each row over A's own columns only: with the zero columns numpy's pairwise sum would group differently.
    constant = np.array([0.0] + [np.add.reduce(terms[mask, :mask]) for mask in range(1, size)]) - log_delta
    offset = marginal[:, 0] + delta_a
    offset[0] = constant[0] = 0.0
    return _Marginals(offset=offset, constant=constant, total_prior=2**k * delta, n=n)


def log_marginal_likelihood(dense, unlisted, *, cliques, separators, delta: float) -> np.ndarray:
    """Log marginal likelihood of the complete table under one decomposable graph, for each unlisted count.

    The complete table has the observed cells of ``dense`` (length 2**k, cell 0 ignored) and ``unlisted`` in
    the all-zero cell. Under the hyper-Dirichlet prior with ``delta`` per cell the probability of the ordered
    sample is prod_C D(C) / prod_S D(S), where D(A) is the Dirichlet-multinomial probability of the marginal
    table on A with ``delta * 2**(k-|A|)`` per marginal cell; multiplied by the multinomial coefficient
    N! / (u! prod y!) this is the probability of the table (Madigan & York 1997, eqs 3-4).

    Parameters
    ----------
    dense : array of length 2**k
        Cell counts, index = pattern read as binary with the first list most significant.
    unlisted : array of int
        Values of the unlisted count u.
    cliques, separators : sequences of int
        Bitmasks of the cliques and non-empty separators (as :class:`DecomposableGraph`).
    delta : float
        Hyper-parameter per cell of the full table.

    Examples
    --------
    Two lists, independence (cliques {A} and {B}):

    >>> import numpy as np
    >>> float(log_marginal_likelihood([0, 20, 30, 10], [0], cliques=[2, 1], separators=[], delta=0.25)[0]) < 0
    True
    """
    dense = np.asarray(dense, dtype=float)
    k = int(round(math.log2(len(dense))))
    m = _marginals(dense, k, float(delta))
    u = np.asarray(unlisted, dtype=float)
    coef = np.zeros(2**k)
    for mask in cliques:
        coef[mask] += 1
    for mask in separators:
        coef[mask] -= 1
    n_den = len(cliques) - len(separators)
    return (
        _log_posterior_block(u, coef[None, :], np.array([n_den]), m)[0]
        - float(np.sum(gammaln(dense[1:] + 1)))
    )


def _log_posterior_block(u: np.ndarray, coef: np.ndarray, n_den: np.ndarray, m: _Marginals) -> np.ndarray:
    """(graphs x u) log of p(table | graph, u) up to the constant -sum(lgamma(y + 1)); no prior on N."""
    used = np.flatnonzero(np.any(coef != 0, axis=0))
    factors = gammaln(u[None, :] + m.offset[used, None]) + m.constant[used, None]
    log_ml = coef[:, used] @ factors
    denominator = gammaln(m.total_prior) - gammaln(u + m.n + m.total_prior)
    log_ml += n_den[:, None] * denominator[None, :]
    log_ml += (gammaln(u + m.n + 1) - gammaln(u + 1))[None, :]
    return log_ml


# ---------------------------------------------------------------------------------------------- tail bounds
def _tail_terms(arrays: _GraphArrays, m: _Marginals, default_prior: bool):
    """Per graph, the offsets b_i of the terms +-lgamma(u + b_i) of its log posterior, paired for the bound.

    Returns sorted positive offsets and sorted negative offsets, both (G, P), padded with zeros that pair
    with each other. The signs balance in every graph, so t(u+1)/t(u) = prod (u + b_i)^(s_i).
    """
    return _paired_offsets(
        m.offset, arrays.clique_masks, arrays.separator_masks, arrays.n_denominators, m.n, m.total_prior, default_prior
    )


@njit(cache=True)
def _paired_offsets(offset, clique_masks, separator_masks, n_denominators, n, total_prior, default_prior):
    """:func:`_tail_terms` compiled: on these small arrays numpy's calls cost more than the work.

    The masks' padding is the empty set, whose offset is 0, as the padding of the offsets must be.
    """
    g, k = clique_masks.shape
    width = 2 * k + (2 if default_prior else 1)
    positive = np.zeros((g, width))
    negative = np.zeros((g, width))
    for r in range(g):
        for i in range(k):
            positive[r, i] = offset[clique_masks[r, i]]
            negative[r, i] = offset[separator_masks[r, i]]
        for i in range(n_denominators[r]):  # c_G copies of the Dirichlet normaliser lgamma(u + n + alpha)
            negative[r, k + i] = n + total_prior
        positive[r, k] = n + 1.0  # N! of the multinomial coefficient
        negative[r, 2 * k] = 1.0  # u! of the multinomial coefficient
        if default_prior:  # -log N = lgamma(N) - lgamma(N + 1)
            positive[r, k + 1] = n
            negative[r, 2 * k + 1] = n + 1.0
        _sort_row(positive[r])
        _sort_row(negative[r])
    return positive, negative


@njit(cache=True)
def _sort_row(row):
    """Insertion sort in place: these rows are short."""
    for i in range(1, row.size):
        x = row[i]
        j = i - 1
        while j >= 0 and row[j] > x:
            row[j + 1] = row[j]
            j -= 1
        row[j + 1] = x


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


@njit(cache=True, error_model="numpy")
def _decay_bounds(positive, negative, start):
    """:func:`_decay_bound` for each graph (rows) and each start (columns).

    The starts are the innermost loop, so that it vectorises; with one start this is still several times
    faster than numpy on the small (graphs x terms) arrays.
    """
    out = np.zeros((positive.shape[0], start.size))
    for g in range(positive.shape[0]):
        row = out[g]
        exponent = v = w = 0.0
        for p in range(positive.shape[1]):
            high, low = positive[g, p], negative[g, p]
            gap = high - low
            exponent += gap
            v += high * high - low * low
            w += high * high * high
            if gap > 0:
                for j in range(start.size):
                    row[j] += gap
            else:
                for j in range(start.size):
                    row[j] += gap * (start[j] / (start[j] + low))
        for j in range(start.size):
            second = exponent + max(0.0, -v / (2 * start[j]) + w / (3 * start[j] * start[j]))
            row[j] = min(row[j], second)
    return out


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
    values = model.coefx[rows] @ model.factors(rungs, model.prior(rungs))
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


# ---------------------------------------------------------------------------------------------- validation
def _graphical_bma_iv(h, delta, log_prior, unlisted_support, max_lists, level, tail_tolerance, random_seed, n_draws):
    check_histories(h)
    max_lists = check_positive_int("max_lists", max_lists, minimum=2)
    if max_lists > MAX_LISTS:
        raise ValueError(
            f"`max_lists` must be at most {MAX_LISTS}: with more lists the decomposable graphs are too many to "
            f"enumerate; got {max_lists}."
        )
    if h.k > max_lists:
        raise ValueError(
            f"graphical_bma averages over every decomposable graph, enumerated for at most max_lists={max_lists} "
            f"lists; these histories have {h.k} lists ({', '.join(h.lists)}). Merge similar lists "
            "(h.merge_lists({'A+B': ['A', 'B']})) or drop small ones (h.drop_lists([...])) first"
            + (f", or raise max_lists up to {MAX_LISTS}." if h.k <= MAX_LISTS else ".")
        )
    level = check_level(level)
    delta = 2.0 ** -h.k if delta is None else check_positive("delta", delta)
    if log_prior is not None and not callable(log_prior):
        raise ValueError(
            f"`log_prior` must be None (prior proportional to 1/N) or a callable taking an array of N and "
            f"returning the log prior; got {type(log_prior).__name__}."
        )
    if isinstance(tail_tolerance, bool) or not isinstance(tail_tolerance, numbers.Real) or not (
        0 < tail_tolerance < (1 - level) / 2
    ):
        raise ValueError(
            f"`tail_tolerance` must be a probability in (0, {(1 - level) / 2:g}) (below the interval's tail "
            f"probability (1 - level)/2), e.g. 1e-8; got {tail_tolerance!r}."
        )
    if unlisted_support is not None:
        support = np.asarray(unlisted_support)
        if support.ndim != 1 or support.size == 0:
            raise ValueError(
                f"`unlisted_support` must be a non-empty 1-d sequence of unlisted counts (e.g. range(0, 5 * n + 1)); "
                f"got shape {support.shape}."
            )
        if not np.issubdtype(support.dtype, np.number) or not np.all(np.isfinite(support)):
            raise ValueError("`unlisted_support` must hold finite numbers (non-negative integers).")
        if np.any(support < 0) or np.any(support != np.round(support)):
            bad = support[(support < 0) | (support != np.round(support))][0]
            raise ValueError(f"`unlisted_support` must hold non-negative integers; got {bad!r}.")
        support = support.astype(np.int64)
        if np.any(np.diff(support) <= 0):  # sorting is costly on long grids that are already increasing
            support = np.unique(support)
        if support.size != np.asarray(unlisted_support).size:
            raise ValueError("`unlisted_support` has repeated values; give each unlisted count once.")
        unlisted_support = support
    n_draws = check_positive_int("n_draws", n_draws)
    rng, seed = seeded_generator(random_seed)
    return h, float(delta), log_prior, unlisted_support, max_lists, level, float(tail_tolerance), rng, seed, n_draws


def _evaluate_log_prior(log_prior, n_total: np.ndarray) -> np.ndarray:
    values = np.asarray(log_prior(n_total.astype(float)), dtype=float)
    if values.shape != n_total.shape:
        raise ValueError(
            f"`log_prior` must return one log prior value per N (shape {n_total.shape}); got shape {values.shape}."
        )
    if np.isnan(values).any() or np.isposinf(values).any():
        bad = n_total[np.isnan(values) | np.isposinf(values)][0]
        raise ValueError(f"`log_prior` returned NaN or +inf at N = {bad}; it must be finite or -inf.")
    return values


# ---------------------------------------------------------------------------------------------- the estimator
@validate_params(
    {"delta": [None, Interval(Real, 0, None, closed="neither")], "log_prior": [None, Callable()],
     "max_lists": [Interval(Integral, 2, None)], "level": LEVEL,
     "tail_tolerance": [Interval(Real, 0, 0.5, closed="neither")], "random_seed": SEED,
     "n_draws": [Interval(Integral, 1, None)]},
    exempt=("h", "unlisted_support"),
)
def graphical_bma(
    h: CaptureHistories,
    *,
    delta: float | None = None,
    log_prior: Callable[[np.ndarray], np.ndarray] | None = None,
    unlisted_support=None,
    max_lists: int = MAX_LISTS,
    level: float = 0.95,
    tail_tolerance: float = 1e-8,
    random_seed=None,
    n_draws: int = 4000,
) -> PosteriorEstimate:
    """Population size by Bayesian model averaging over decomposable graphical models (Madigan & York 1997).

    The complete 2**k table, the observed cells plus the u people on no list, is multinomial. Every
    decomposable graph G on the k lists (equal prior weight) carries a hyper-Dirichlet prior with ``delta``
    per cell, which spreads ``delta * 2**(k - |A|)`` over each cell of the marginal table on a clique or
    separator A. The marginal likelihood of the table is then exact,

        p(y, u | G) = N! / (u! prod y!) * prod_C D(C) / prod_S D(S),

    with D(A) the Dirichlet-multinomial probability of the marginal table on A and N = n + u, and the joint
    posterior p(G, u | y) is proportional to p(y, u | G) p(N). This is the formula of the R package dga's
    ``bma.cr``. The posterior of N is returned as an exact probability mass function.

    The support of u is not a user grid. It is extended in blocks until a bound on the posterior mass beyond it
    is below ``tail_tolerance`` (relative to the mass found, itself a lower bound on the normalising constant).
    The bound is rigorous for the default prior: each graph's term t(u) = p(y, u | G) p(n + u) is a ratio of
    Gamma functions, so t(u+1)/t(u) = prod (u + b_i)**s_i is explicit. Beyond the support t is evaluated
    exactly on a ladder of unlisted counts (steps 1, 2, 4, ... up to half the count, to 10**4 times the
    support's end), and between rungs it is bounded with bounds on that ratio and on its slope
    (``x/(1+x) <= log(1+x) <= x`` and second-order versions); past the last rung, t(u) <= t(U) (u/U)**kappa
    with kappa -> e = sum(s_i b_i), the exponent of the tail t(u) ~ C u**e. The same interval bounds let the
    computation inside the support skip (graph, interval) pairs whose total mass is below 1e-12 of the
    posterior, and drop graphs whose whole remaining tail is negligible. For a user ``log_prior`` the bound
    also assumes something about the prior beyond the support, read from its last block: if its log ratio
    log p(N+1) - log p(N) was non-increasing there (log-concave tails: negative binomial, Poisson) it stays
    so; otherwise, if the prior was non-increasing, it keeps decaying at least like N**-g with the smallest g
    seen on that block (g = 1 for 1/N, which then gives exactly the default's result).

    Under the prior 1/N the posterior is proper whenever delta > 0, but its tail decays only like N**e, and the
    saturated graph, whose e = -1 - (2**k - 1) delta is the largest, has positive posterior probability: the
    posterior mean of N is infinite unless delta > 1/(2**k - 1), so with dga's delta = 2**-k it is always
    infinite (``details["posterior_mean_finite"]``; a mean computed from the truncated pmf, or dga's, is an
    artefact of the truncation), and a tolerance of 1e-8 can need astronomically large N. When
    ``tail_tolerance`` is out of reach below ``MAX_UNLISTED`` (2,000,000 people unlisted), the result is
    returned with an :class:`IdentifiabilityWarning` if the neglected mass cannot move the median or either
    interval bound by more than 0.1% (checked on the computed cdf), and :class:`NonexistentEstimateError` is
    raised otherwise: the interval would then be set by the prior and delta rather than by the lists (for
    example when lists never overlap, which dga answers with whatever its grid truncates to). Every graph's e
    is below -1 under the prior 1/N (the data part of e is minus the records linking cliques across their
    separators, never positive, and the delta part is negative); an improper posterior from a user prior
    never meets the tolerance and is refused the same way.

    Parameters
    ----------
    h : CaptureHistories
        The lists (covariates are summed over). At most ``max_lists`` lists.
    delta : float, optional
        Hyper-Dirichlet parameter per cell of the full table; default ``2**-k`` (dga's suggestion).
    log_prior : callable, optional
        ``log_prior(N)`` for an array of N (floats) returns the log prior (up to a constant); default
        ``-log N``. For example the negative-binomial prior of Madigan & York's 3-list example,
        ``N log b - (N + a) log(1 + b) + lgamma(N + a) - lgamma(N + 1)`` with a = 13.14, b = 55.17.
    unlisted_support : sequence of int, optional
        Restrict the unlisted count to these values (dga's ``Nmissing``), for exact comparison with dga. The
        posterior is then normalised on them; a warning says when the mass beyond their maximum may exceed
        ``tail_tolerance``.
    max_lists : int
        Largest number of lists accepted (at most 6: 18,154 graphs).
    level : float
        Level of the equal-tailed credible interval.
    tail_tolerance : float
        Largest posterior mass the adaptive support may neglect (a bound, see above); below (1 - level)/2.
    random_seed : None, int or numpy Generator
        Seeds the draws taken from the exact pmf. The integer used (fresh entropy for None, one drawn from a
        Generator) is recorded in ``details["random_seed"]``.
    n_draws : int
        Number of posterior draws of N returned in ``draws``.

    Returns
    -------
    PosteriorEstimate
        ``estimate`` the posterior median of N, ``interval`` the equal-tailed interval at ``level``, ``pmf``
        (support of N, probabilities), ``draws`` sampled from the pmf, and ``details``: ``delta``,
        ``n_graphs``, ``support`` ("adaptive" or "given"), ``unlisted_max`` (largest unlisted count
        evaluated), ``N_max``, ``neglected_tail_mass`` (bound on the posterior mass beyond ``N_max``, relative to
        the mass inside), ``tail_tolerance``, ``prior``, ``tail_exponent`` (heaviest tail exponent e among the
        graphs) and ``posterior_mean_finite`` (both None for a user prior), ``top_model`` and
        ``top_model_probability``, ``top_models`` (up to ten (cliques, posterior probability) pairs, best
        first), ``model_probabilities`` (one per graph of :func:`decomposable_graphs`) and ``random_seed``.

    Raises
    ------
    NonexistentEstimateError
        When the posterior is improper, or its tail too heavy for the median and interval to be fixed by the
        data (see above), or the prior is zero wherever the posterior was evaluated.
    ValueError
        When the posterior still rises at ``MAX_UNLISTED`` unlisted people (millions of records): its bulk is out
        of reach of the exact computation.

    Warns
    -----
    IdentifiabilityWarning
        With ``unlisted_support``, when the posterior mass beyond the given support may exceed
        ``tail_tolerance`` (the result is then conditional on the truncation, as dga's always is); with the
        adaptive support, when the tolerance was out of reach but the median and interval are pinned down.

    References
    ----------
    .. [1] Madigan, D. and York, J. C. (1997). Bayesian methods for estimation of the size of a closed
       population. Biometrika 84(1), 19-31.
    .. [2] Dawid, A. P. and Lauritzen, S. L. (1993). Hyper Markov laws in the statistical analysis of
       decomposable graphical models. The Annals of Statistics 21(3), 1272-1317.
    .. [3] Johndrow, J., Lum, K. and Ball, P. dga: Capture-Recapture Estimation using Bayesian Model
       Averaging. R package version 2.0.2 (2025).
    .. [4] Tarjan, R. E. and Yannakakis, M. (1984). Simple linear-time algorithms to test chordality of
       graphs, test acyclicity of hypergraphs, and selectively reduce acyclic hypergraphs. SIAM Journal on
       Computing 13(3), 566-579.

    Examples
    --------
    >>> from estimators import load_dataset, graphical_bma
    >>> fit = graphical_bma(load_dataset("LCMCR_kosovo"), random_seed=1)
    >>> fit.estimate, fit.interval, fit.details["n_graphs"]
    (12595.0, (9827.0, 16544.0), 61)
    >>> fit.details["top_model"], round(fit.details["top_model_probability"], 3)
    ('[EXH,ABA,OSCE][EXH,OSCE,HRW]', 0.986)
    """
    h, delta, log_prior, support, max_lists, level, tail_tolerance, rng, seed, n_draws = _graphical_bma_iv(
        h, delta, log_prior, unlisted_support, max_lists, level, tail_tolerance, random_seed, n_draws
    )
    k = h.k
    graphs = decomposable_graphs(k)
    arrays = _graph_arrays(k)
    marginals = _marginals(h.dense_counts(), k, delta)
    positive, negative = _tail_terms(arrays, marginals, default_prior=log_prior is None)
    model = _make_model(arrays, marginals, log_prior)
    n = h.n_observed

    tail = (1 - level) / 2
    # The matrix products are small: BLAS threads would only contend (and spin after each product, taking the
    # core this thread needs), worst of all inside parallel strata. Even with 4 lists a long support makes
    # them large enough to be threaded; setting the limit costs about 15 microseconds.
    limit = _thread_controller().limit(limits=1, user_api="blas")
    with limit:
        if support is None:
            found = _adaptive_posterior(model, positive, negative, tail_tolerance, (tail, 0.5, 1 - tail), h)
        else:
            found = (*_posterior_on_support(model, positive, negative, support, tail_tolerance), None)
    unlisted, log_pmf, log_graph_mass, log_neglected, heavy = found

    log_z = logsumexp(log_pmf)
    if not np.isfinite(log_z):
        raise NonexistentEstimateError(
            f"The posterior has no mass on the unlisted counts evaluated (N = {n:,} to {n + int(unlisted[-1]):,}): "
            "the prior (log_prior) is zero there"
            + (
                ", and a prior zero at the end of that range is taken to stay zero beyond it. If it puts mass on "
                "larger N, pass unlisted_support covering it."
                if support is None
                else "."
            )
        )
    pmf = np.exp(log_pmf - log_z)
    pmf /= pmf.sum()
    model_probabilities = np.exp(log_graph_mass - logsumexp(log_graph_mass))
    neglected = float(np.exp(min(log_neglected - log_z, 0.0)))

    warning_messages = []
    if support is not None and not neglected <= tail_tolerance:
        message = (
            f"The posterior mass beyond the given unlisted_support (max {int(unlisted[-1]):,}) may be as large "
            f"as {neglected:.2g} of the mass inside it: the result is conditional on N <= {n + int(unlisted[-1]):,}. "
            "Omit unlisted_support to let the support grow until the neglected mass is below tail_tolerance."
        )
        _warn.warn(message, IdentifiabilityWarning)
        warning_messages.append(message)

    exponent = np.sum(positive - negative, axis=1)
    # Under the default prior the saturated graph has the heaviest tail, N**(-1 - (2**k - 1) delta).
    tail_exponent = float(np.max(exponent)) if log_prior is None else None
    mean_finite = None if tail_exponent is None else tail_exponent < -2
    if heavy is not None:
        mean_note = "; the posterior mean of N is infinite" if mean_finite is False else ""
        message = (
            f"The posterior of N has a heavy tail: under graph {graphs[heavy.graph].label(h.lists)} it decays only "
            f"like N^{heavy.exponent:.3f}{mean_note}. Up to {neglected:.2g} of the posterior mass may lie beyond "
            f"N = {n + int(unlisted[-1]):,} (tail_tolerance={tail_tolerance:g} would need unlisted counts beyond "
            f"{MAX_UNLISTED:,}); that cannot move the median or the interval bounds by more than "
            f"{_RESOLUTION:.1%}, but the pmf, draws and mean are truncated there."
        )
        _warn.warn(message, IdentifiabilityWarning)
        warning_messages.append(message)

    n_support = n + unlisted
    cdf = np.cumsum(pmf)

    def quantile(q):
        return float(n_support[min(int(np.searchsorted(cdf, q)), len(cdf) - 1)])

    order = np.argsort(-model_probabilities, kind="stable")
    top = tuple((graphs[i].label(h.lists), float(model_probabilities[i])) for i in order[:10])
    details = {
        "delta": delta,
        "n_graphs": len(graphs),
        "support": "adaptive" if support is None else "given",
        "unlisted_max": int(unlisted[-1]),
        "N_max": int(n + unlisted[-1]),
        "neglected_tail_mass": neglected,
        "tail_tolerance": tail_tolerance,
        "prior": "1/N" if log_prior is None else "user log_prior",
        "tail_exponent": tail_exponent,
        "posterior_mean_finite": mean_finite,
        "top_model": top[0][0],
        "top_model_probability": top[0][1],
        "top_models": top,
        "model_probabilities": model_probabilities,
        "random_seed": seed,
    }
    # rng.choice(n_support, n_draws, p=pmf) computed the same way (the same draws), with a branch-free search.
    values = n_support.astype(float)
    draws = values[_search_right(cdf / cdf[-1], rng.random(n_draws))]
    return PosteriorEstimate(
        estimate=quantile(0.5),
        interval=(quantile(tail), quantile(1 - tail)),
        level=level,
        method="graphical_bma",
        n_observed=n,
        interval_kind="equal-tailed credible",
        model=f"average over {len(graphs):,} decomposable graphs (delta={delta:g})",
        warnings=tuple(warning_messages),
        details=details,
        draws=draws,
        pmf=(values, pmf),
    )


@njit(cache=True)
def _search_right(cdf, keys):
    """np.searchsorted(cdf, keys, side="right") for non-empty ``cdf``, without branches on the data.

    Random keys make a branching binary search mispredict about every other step: numpy's took 0.2 ms for
    4,000 draws.
    """
    out = np.empty(keys.size, dtype=np.int64)
    for i in range(keys.size):
        key = keys[i]
        base = 0
        length = cdf.size
        while length > 1:  # the answer lies in [base, base + length]
            half = length // 2
            base = base + half if cdf[base + half] <= key else base
            length -= half
        out[i] = base + (cdf[base] <= key)
    return out


@dataclass(frozen=True)
class _Model:
    """Everything the posterior needs for one table: graphs as coefficient rows, marginal offsets, the prior.

    The log posterior of (graph g, unlisted u) is ``coefx[g] @ factors(u)``; the rows of ``factors`` are the
    clique/separator factors of every subset of lists, the Dirichlet normaliser and the terms common to all
    graphs (multinomial coefficient and prior).
    """

    marginals: _Marginals
    coefx: np.ndarray  # (G, 2**k + 2)
    used_masks: np.ndarray  # the subsets some graph uses
    used_coefx: np.ndarray  # coefx on those columns and the last two
    terms: np.ndarray  # (G, T) subsets with a non-zero coefficient (see _GraphArrays)
    weights: np.ndarray  # (G, T)
    n_terms: np.ndarray  # (G,)
    n_den: np.ndarray  # (G,)
    row_terms: np.ndarray  # (G, R) rows of run_factors' table (see _GraphArrays)
    row_weights: np.ndarray  # (G, R)
    n_row_terms: np.ndarray  # (G,)
    log_prior: Callable | None

    def prior(self, u: np.ndarray) -> np.ndarray:
        if self.log_prior is None:
            return -np.log(u + self.marginals.n)
        return _evaluate_log_prior(self.log_prior, u + self.marginals.n)

    def factors(self, u: np.ndarray, prior: np.ndarray, masks: np.ndarray | None = None) -> np.ndarray:
        """Rows: lgamma terms of the subsets ``masks`` (default all), the Dirichlet normaliser, common terms."""
        m = self.marginals
        masks = np.arange(len(m.offset)) if masks is None else masks
        table = gammaln(u[None, :] + m.offset[masks, None]) + m.constant[masks, None]
        table[masks == 0] = 0.0  # the empty set is never a clique or separator
        denominator = gammaln(m.total_prior) - gammaln(u + m.n + m.total_prior)
        common = gammaln(u + m.n + 1) - gammaln(u + 1) + prior
        return np.vstack([table, denominator, common])

    def run_factors(self, u_first: np.ndarray, width: int, prior: np.ndarray, need: np.ndarray):
        """:meth:`factors` on runs of consecutive unlisted counts u_first[j] + x (x < width), where needed.

        ``prior`` is (runs, width). The rows are the 2**k subsets of lists, then for c = 1 .. k the common
        terms plus c Dirichlet normalisers (a graph with c components needs that one row beyond its cliques and
        separators); ``need`` (rows, runs) says which rows each run needs (far in a heavy tail, only those of
        the few graphs still computed). Returns a (needed, width) table of those rows and ``index``
        (rows, runs), their positions in it (-1 where not needed). Each lgamma is taken once per run and
        carried along it exactly by lgamma(z + x) = lgamma(z) + log(z (z + 1) ... (z + x - 1)).
        """
        m = self.marginals
        n_subsets = len(m.offset)
        index = np.full(need.shape, -1, dtype=np.int64)
        index[need] = np.arange(np.count_nonzero(need))  # row-major, as np.nonzero lists them below
        # One array written in place: fresh temporaries of this size cost more (page faults) than the sums.
        table = np.empty((np.count_nonzero(need), width))
        subset, run = np.nonzero(need[:n_subsets])
        subsets = table[: len(subset)]
        _lgamma_runs(u_first[run] + m.offset[subset], width, subsets)
        subsets += m.constant[subset, None]
        subsets[subset == 0] = 0.0  # the empty set is never a clique or separator
        component, run = np.nonzero(need[n_subsets:])
        if component.size:
            runs, local = np.unique(run, return_inverse=True)
            z = u_first[runs]
            denominator = _lgamma_runs(z + m.n + m.total_prior, width, np.empty((len(runs), width)))
            np.subtract(gammaln(m.total_prior), denominator, out=denominator)
            common = _lgamma_runs(z + m.n + 1, width, np.empty((len(runs), width)))
            common -= _lgamma_runs(z + 1, width, np.empty((len(runs), width)))
            common += prior[runs]
            combined = table[len(subset) :]
            np.multiply(denominator[local], (component + 1.0)[:, None], out=combined)
            combined += common[local]
        return table, index

    def prior_ratio_terms(self, a, b, prior_high, prior_low):
        """Bounds on the prior's log ratio over [a, b): (high, low, value used at a, slope bound)."""
        if self.log_prior is None:
            n = self.marginals.n
            return (
                np.log(b + n) - np.log(a + n + 1),
                np.log(a + n) - np.log(b + n + 1),
                np.log(a + n) - np.log(a + n + 1),
                1 / (a + n) - 1 / (b + n + 1),
            )
        return prior_high, prior_low, prior_high, np.zeros_like(a)

    def interval_log_mass(
        self, rows, a, b, log_t, at_a, at_b, count, prior_high=None, prior_low=None, floor=-np.inf
    ):
        """Log upper bound on sum of t(u) over u = a+1 .. a+count (count <= b - a), per graph and interval.

        log t(a) and log t(b) are columns ``at_a`` and ``at_b`` of ``log_t`` (one row per graph of ``rows``).
        Bound (1) alone is returned where it is already below ``floor``.

        The smaller of two bounds. (1) With R >= log(t(v+1)/t(v)) >= L on [a, b) (each log(v + c) taken at
        the end that bounds it), t(u) <= min(t(a) e^{(u-a) R+}, t(b) e^{(b-u) (-L)+}). (2) With the exact log
        ratio l at a and an upper bound D on its slope over [a, b), log t(a + x) <= log t(a) + x l' for
        l' = l + D+ (b - a - 1) / 2, a geometric series. Prior terms come from :meth:`prior_ratio_terms`.
        """
        m = self.marginals
        high_prior, low_prior, prior_at_a, prior_slope = self.prior_ratio_terms(a, b, prior_high, prior_low)
        offset = m.offset[:, None]
        with np.errstate(divide="ignore"):
            log_a = np.log(a[None, :] + offset)
            log_b = np.log(b[None, :] + offset)
            inv_a = 1 / (a[None, :] + offset)
            inv_b = 1 / (b[None, :] + offset)
        log_a[0] = log_b[0] = inv_a[0] = inv_b[0] = 0.0
        total = m.n + m.total_prior
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            high = np.log(b + m.n + 1) - np.log(a + 1) + high_prior
            low = np.log(a + m.n + 1) - np.log(b + 1) + low_prior
            common_a = np.log(a + m.n + 1) - np.log(a + 1) + prior_at_a
            slope = 1 / (a + m.n + 1) - 1 / (b + 1) + prior_slope
            log_count = np.log(count)
        bound, pending, start = _interval_bounds(
            np.asarray(rows, dtype=np.int64), self.terms, self.weights, self.n_terms, self.n_den,
            log_a, log_b, inv_a, inv_b, high, low, common_a, slope,
            np.log(a + total), np.log(b + total), 1 / (b + total), b - a, count, log_count,
            np.ascontiguousarray(log_t), at_a, at_b, floor,
        )
        # The geometric series sum_{x<count} e^(x rate) = expm1(count rate) / expm1(rate) where it may still
        # win, vectorised (numpy's exp and log are several times faster than compiled scalar calls).
        cells = np.flatnonzero(~np.isnan(pending))
        if cells.size:
            flat = bound.reshape(-1)
            r = pending.reshape(-1)[cells]
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                series = np.expm1(count[cells % len(a)] * r)
                series /= np.expm1(r)
                np.log(series, out=series)
                series += start.reshape(-1)[cells]
            series[np.isnan(series)] = np.inf
            flat[cells] = np.minimum(flat[cells], series)
        return bound


@njit(cache=True, error_model="numpy")
def _interval_bounds(
    rows, terms, weights, n_terms, n_den, log_a, log_b, inv_a, inv_b, high, low, common_a, slope_common,
    log_a_total, log_b_total, inv_b_total, width, count, log_count, log_t, at_a, at_b, floor,
):
    """The bounds of :meth:`_Model.interval_log_mass`, graph by graph, all intervals at once.

    A graph's clique terms (positive weights) take log(v + offset) at the end of [a, b] that bounds the ratio
    from above (b) or below (a), its separator terms the other end; ``n_den`` copies of the Dirichlet
    normaliser and the per-interval terms common to all graphs (``high``, ``low``, ``common_a``,
    ``slope_common``) complete the ratio bounds R, L, its value at a and the bound on its slope. Loops run
    over the intervals innermost, without branches that depend on them, so that they vectorise.

    Returns the bounds without the geometric series, where that series could still win its rate (NaN
    elsewhere), and log t(a) + rate, for the caller to finish vectorised.
    """
    n_intervals = width.size
    out = np.empty((rows.size, n_intervals))
    pending = np.empty((rows.size, n_intervals))
    start = np.empty((rows.size, n_intervals))
    upper = np.empty(n_intervals)
    lower = np.empty(n_intervals)
    ratio_a = np.empty(n_intervals)
    slope = np.empty(n_intervals)
    for r in range(rows.size):
        g = rows[r]
        nd = n_den[g]
        for i in range(n_intervals):
            upper[i] = high[i] - nd * log_a_total[i]
            lower[i] = low[i] - nd * log_b_total[i]
            ratio_a[i] = common_a[i] - nd * log_a_total[i]
            slope[i] = slope_common[i] - nd * inv_b_total[i]
        for t in range(n_terms[g]):
            m = terms[g, t]
            w = weights[g, t]
            if w > 0:
                for i in range(n_intervals):
                    upper[i] += w * log_b[m, i]
                    lower[i] += w * log_a[m, i]
                    ratio_a[i] += w * log_a[m, i]
                    slope[i] += w * inv_a[m, i]
            else:
                for i in range(n_intervals):
                    upper[i] += w * log_a[m, i]
                    lower[i] += w * log_b[m, i]
                    ratio_a[i] += w * log_a[m, i]
                    slope[i] += w * inv_b[m, i]
        for i in range(n_intervals):
            t_a = log_t[r, at_a[i]]
            # x if x > 0 keeps NaN; a NaN bound (-inf + inf: a zero prior meeting an unbounded ratio says
            # nothing) counts as +inf.
            up = upper[i]
            from_a = t_a + width[i] * (up if up > 0.0 or up != up else 0.0)
            from_a = np.inf if from_a != from_a else from_a
            down = -lower[i]
            from_b = log_t[r, at_b[i]] + width[i] * (down if down > 0.0 or down != down else 0.0)
            from_b = np.inf if from_b != from_b else from_b
            by_ratio = log_count[i] + min(from_a, from_b)
            rise = slope[i]
            rate = ratio_a[i] + (rise if rise > 0.0 or rise != rise else 0.0) * (width[i] - 1) / 2
            # rate < 0: the series sum_{x<count} e^(x rate) lies in [1, count], so it can win only if
            # t(a) + rate < by_ratio (left to the caller). Otherwise the series is at most count e^(count rate).
            geometric = t_a + (log_count[i] + count[i] * (rate if rate > 0.0 or rate != rate else 0.0))
            geometric = np.inf if geometric != geometric else geometric
            either = np.nan if by_ratio != by_ratio else min(by_ratio, geometric)
            out[r, i] = by_ratio if rate < 0 else either
            pending[r, i] = rate if rate < 0 and t_a + rate < by_ratio and by_ratio > floor else np.nan
            start[r, i] = t_a + rate
    return out, pending, start


def _lgamma_runs(z: np.ndarray, width: int, out: np.ndarray) -> np.ndarray:
    """lgamma(z + x) for x = 0 .. width-1 into ``out`` (C-contiguous, shape z.shape + (width,)), z > 0.

    lgamma at z, then the logs of the running products z (z + 1) ... (z + x - 1): a product of up to
    width - 1 factors has relative error below width ulps, far inside lgamma's own rounding at large z, and
    costs a multiplication and a logarithm instead of an lgamma per point. The products restart every
    ``chunk`` factors (at most _RUN_CHUNK, and few enough to stay below _RUN_PRODUCT_MAX) and the chunks' logs
    are chained. Where even short products could overflow, lgamma is taken at every point.
    """
    top = float(np.max(z, initial=1.0)) + width
    limit = width if top <= 2 else int(math.log(_RUN_PRODUCT_MAX) / math.log(top))
    chunk = min(width - 1, _RUN_CHUNK, limit)
    if width == 1 or chunk < min(width - 1, _RUN_CHUNK):
        out[...] = gammaln(z[..., None] + np.arange(width))
        return out
    flat = out.reshape(-1, width)
    _run_products(z.reshape(-1), chunk, flat)
    np.log(flat, out=flat)
    _chain_runs(gammaln(z).reshape(-1), chunk, flat)
    return out


@njit(cache=True)
def _run_products(z, chunk, out):
    """out[i, x] = (z_i + x - c) ... (z_i + x - 1) with c = 1 + (x - 1) % chunk factors (out[i, 0] = 1).

    The chunks of a row are independent products, advanced together so that their multiplications overlap.
    """
    width = out.shape[1]
    n_chunks = (width - 1 + chunk - 1) // chunk
    product = np.empty(n_chunks)
    for i in range(z.size):
        out[i, 0] = 1.0
        product[:] = 1.0
        for y in range(chunk):
            for c in range(n_chunks):
                x = 1 + c * chunk + y
                if x < width:
                    product[c] *= z[i] + (x - 1)
                    out[i, x] = product[c]


@njit(cache=True)
def _chain_runs(start, chunk, out):
    """From the logs of :func:`_run_products`: out[i, x] = start[i] + the log of the whole product up to x."""
    width = out.shape[1]
    for i in range(start.size):
        row = out[i]
        carry = start[i]
        row[0] = carry
        for first in range(1, width, chunk):
            last = min(first + chunk, width)
            for x in range(first, last):
                row[x] += carry
            carry = row[last - 1]


def _make_model(arrays: _GraphArrays, marginals: _Marginals, log_prior) -> _Model:
    return _Model(
        marginals=marginals,
        coefx=arrays.coefx,
        used_masks=arrays.used_masks,
        used_coefx=arrays.used_coefx,
        terms=arrays.terms,
        weights=arrays.weights,
        n_terms=arrays.n_terms,
        n_den=arrays.n_denominators.astype(float),
        row_terms=arrays.row_terms,
        row_weights=arrays.row_weights,
        n_row_terms=arrays.n_row_terms,
        log_prior=log_prior,
    )


def _prior_ratio_range(model, u, prior, starts, ends):
    """Per interval [u[start], u[end]], bounds on log p(N+1) - log p(N) over the integers inside it."""
    if model.log_prior is None:
        n = model.marginals.n
        a, b = u[starts], u[ends]
        return np.log(b + n) - np.log(a + n + 1), np.log(a + n) - np.log(b + n + 1)
    with np.errstate(invalid="ignore"):
        ratio = np.diff(prior)
    # reduceat also takes the ratio leading out of each interval: a superset, so the bounds stay valid.
    high = np.append(np.where(np.isnan(ratio), np.inf, ratio), -np.inf)
    low = np.append(np.where(np.isnan(ratio), -np.inf, ratio), np.inf)
    return np.maximum.reduceat(high, starts), np.minimum.reduceat(low, starts)


def _keep_within_budget(log_bound: np.ndarray, log_budget: float) -> np.ndarray:
    """Mask of the pairs to compute: the smallest bounds are skipped while their sum stays within the budget.

    Bounds are grouped by the integer part of their log relative to the budget, and whole groups skipped from
    the smallest up (a linear-time stand-in for sorting).
    """
    relative = log_bound - log_budget
    with np.errstate(over="ignore", under="ignore"):
        share = np.exp(relative)  # numpy's exp, vectorised; only the shares of bounds within the budget are read
    return _kept_groups(relative, share)


@njit(cache=True)
def _kept_groups(relative, share):
    """:func:`_keep_within_budget` past the exponentials (compiled: a dozen numpy calls cost 0.1 ms)."""
    flat = relative.ravel()
    groups = np.full(flat.size, -1)  # -1: beyond the budget (or NaN), always kept
    mass = np.zeros(746)
    for i, (value, weight) in enumerate(zip(flat, share.ravel())):
        if value <= 0:
            groups[i] = int(min(np.floor(-value), 745.0))  # 0 = largest bounds
            mass[groups[i]] += weight
    smallest_kept_group = -1
    spent = 0.0  # mass of this group and all smaller ones
    for group in range(745, -1, -1):
        spent += mass[group]
        if spent > 1.0:
            smallest_kept_group = group
            break
    return (groups <= smallest_kept_group).reshape(relative.shape)


def _evaluate(model: _Model, u: np.ndarray, rows: np.ndarray, log_floor: float):
    """Log posterior masses on sorted integers ``u`` for graphs ``rows``, skipping negligible pairs.

    ``u`` is cut into intervals of at most ``_INTERVAL`` consecutive integers. Every graph is evaluated exactly
    at each interval's ends, and the mass of each (graph, interval) pair inside is bounded from those values
    (:meth:`_Model.interval_log_mass`) before it is computed. The pairs with the smallest bounds are skipped as
    long as their bounds sum to at most ``_PRUNE`` times the mass found; that sum is returned as
    ``log_pruned``.

    Returns log pmf over ``u`` (summed over ``rows``), log mass per graph, log t(u[-1]) per graph, log_pruned.
    """
    size = len(u)
    prior = model.prior(u)
    # Only the subsets that are cliques or separators of the graphs evaluated need their lgamma terms.
    n_masks = len(model.marginals.offset)
    every_graph = len(rows) == len(model.coefx)  # rows are increasing: then they are all graphs, in order
    if every_graph:
        masks, coefx = model.used_masks, model.used_coefx
    else:
        masks = np.flatnonzero(np.any(model.coefx[rows][:, :n_masks] != 0, axis=0))
        coefx = model.coefx[rows][:, np.append(masks, [n_masks, n_masks + 1])]
    index = np.arange(size)
    breaks = np.ones(size, dtype=bool)
    breaks[1:] = np.diff(u) != 1
    run_start = np.maximum.accumulate(np.where(breaks, index, 0))
    starts = np.flatnonzero(breaks | ((index - run_start) % _INTERVAL == 0))
    ends = np.append(starts[1:] - 1, size - 1)

    endpoints = np.column_stack([starts, ends]).ravel()
    endpoints = endpoints[np.append(True, np.diff(endpoints) > 0)]
    ends_log = coefx @ model.factors(u[endpoints], prior[endpoints], masks)
    # Sums are kept relative to a reference log value, raised (and the sums rescaled) if a value exceeds it.
    accumulated = _Accumulator(size, len(rows), float(np.max(ends_log)))
    accumulated.add(ends_log, endpoints)
    log_found = np.logaddexp(log_floor, accumulated.log_total())

    inner = np.flatnonzero(ends - starts >= 2)
    log_pruned = -np.inf
    kept_intervals = np.empty(0, dtype=np.int64)
    if inner.size:
        a, b = u[starts[inner]].astype(float), u[ends[inner]].astype(float)
        prior_high, prior_low = _prior_ratio_range(model, u, prior, starts, ends)
        prior_high, prior_low = prior_high[inner], prior_low[inner]
        at_a, at_b = np.searchsorted(endpoints, starts[inner]), np.searchsorted(endpoints, ends[inner])
        log_budget = log_found + math.log(_PRUNE)
        # Pairs so far below the budget that their sharper bound could not change which pairs are skipped.
        floor = log_budget - _NEGLIGIBLE
        bound = model.interval_log_mass(rows, a, b, ends_log, at_a, at_b, b - a - 1, prior_high, prior_low, floor)
        keep = _keep_within_budget(bound, log_budget)
        if not keep.all():
            log_pruned = logsumexp(bound[~keep])
        kept_intervals = np.flatnonzero(keep.any(axis=0))

    if kept_intervals.size:
        # Interior points of the kept intervals, padded to _INTERVAL - 2 columns per interval.
        width = _INTERVAL - 2
        first = starts[inner[kept_intervals]] + 1
        length = ends[inner[kept_intervals]] - first
        offsets = np.arange(width)
        valid = offsets[None, :] < length[:, None]
        position = np.where(valid, first[:, None] + offsets[None, :], first[:, None])
        terms, weights, n_terms = model.row_terms, model.row_weights, model.n_row_terms
        if not every_graph:
            terms, weights, n_terms = terms[rows], weights[rows], n_terms[rows]
        # Each kept pair from its graph's few non-zero terms, compiled: dense products over all subsets would
        # mostly multiply by zero, and exponentiate the skipped pairs too.
        # Interval by interval, so that the table's rows for an interval stay in cache across its graphs.
        pair_interval, pair_graph = np.nonzero(keep[:, kept_intervals].T)
        # Rows: the 2**k subsets, then one per number of components 1 .. k.
        need = np.zeros((n_masks + n_masks.bit_length() - 1, len(kept_intervals)), dtype=bool)
        _needed_rows(pair_graph, pair_interval, terms, n_terms, need)
        # Intervals are runs of consecutive integers; the padding beyond an interval's length is never read.
        table, index = model.run_factors(u[first], width, prior[position], need)
        # Blocks of pairs small enough to stay in cache: log values compiled, exp vectorised by numpy (much
        # faster than scalar calls).
        per_block = max(1, _PAIR_CELLS // width)
        values = np.empty((min(per_block, len(pair_graph)), width))
        # A pair's bound bounds each of its values: in a block whose bounds are within _HEADROOM of the
        # reference no exp can overflow, and the largest value need not be tracked.
        block_starts = np.arange(0, len(pair_graph), per_block)
        block_bound = np.maximum.reduceat(bound[pair_graph, kept_intervals[pair_interval]], block_starts)
        for lo, top_bound in zip(block_starts, block_bound):
            g, j = pair_graph[lo : lo + per_block], pair_interval[lo : lo + per_block]
            block = values[: len(g)]
            track = not top_bound <= accumulated.reference + _HEADROOM
            top = _pair_values(
                g, j, length, table, index, terms, weights, n_terms, accumulated.reference, track, block
            )
            if top > 0:  # above the reference: raise it
                accumulated.rescale(accumulated.reference + top)
                block -= top
            np.exp(block, out=block)
            _scatter_pairs(g, j, first, length, block, accumulated.pmf, accumulated.graph_mass)
    log_pmf, log_graph_mass = accumulated.logs()
    return log_pmf, log_graph_mass, ends_log[:, -1], log_pruned


def _sparse_rows(coef: np.ndarray, minimum: int = 1):
    """Row-wise non-zero columns of ``coef``, their values and counts.

    At least ``minimum`` columns are returned; a row's padding repeats its first column with weight 0.
    """
    nonzero = coef != 0
    n_terms = nonzero.sum(axis=1)
    columns = np.argsort(~nonzero, axis=1, kind="stable")[:, : max(int(n_terms.max(initial=0)), minimum)]
    if columns.shape[1] < minimum:
        columns = np.pad(columns, ((0, 0), (0, minimum - columns.shape[1])))
    padding = np.arange(columns.shape[1])[None, :] >= n_terms[:, None]
    columns = np.where(padding, columns[:, :1], columns)
    values = np.where(padding, 0.0, np.take_along_axis(coef, columns, axis=1))
    return columns, values, n_terms


@njit(cache=True)
def _needed_rows(pair_graph, pair_interval, terms, n_terms, need):
    """need[row, j] = True for the table rows of the terms of every pair's graph on its interval j."""
    for p in range(pair_graph.size):
        g, j = pair_graph[p], pair_interval[p]
        for i in range(n_terms[g]):
            need[terms[g, i], j] = True


@njit(cache=True)
def _pair_values(pair_graph, pair_interval, length, table, index, terms, weights, n_terms, reference, track, out):
    """out[p] = log t - reference of pair p on its interval (-inf beyond its length).

    Row ``g`` of the log posterior is sum_i weights[g, i] * table[index[terms[g, i], j]] on interval ``j``.
    The first eight terms (``terms`` is padded to at least eight with the graph's first term and weight 0)
    are summed in one pass over the row: summing term by term would load and store the row once per term.
    Returns the largest value if ``track``, else -inf.
    """
    width = out.shape[1]
    top = -np.inf
    for p in range(pair_graph.size):
        g, j = pair_graph[p], pair_interval[p]
        row = out[p]
        s0, s1 = table[index[terms[g, 0], j]], table[index[terms[g, 1], j]]
        s2, s3 = table[index[terms[g, 2], j]], table[index[terms[g, 3], j]]
        s4, s5 = table[index[terms[g, 4], j]], table[index[terms[g, 5], j]]
        s6, s7 = table[index[terms[g, 6], j]], table[index[terms[g, 7], j]]
        w0, w1, w2, w3 = weights[g, 0], weights[g, 1], weights[g, 2], weights[g, 3]
        w4, w5, w6, w7 = weights[g, 4], weights[g, 5], weights[g, 6], weights[g, 7]
        # Whole rows, padding included, so that the loops have a fixed length the compiler can vectorise.
        for x in range(width):
            first = w0 * s0[x] + w1 * s1[x] + w2 * s2[x] + w3 * s3[x]
            row[x] = first + (w4 * s4[x] + w5 * s5[x] + w6 * s6[x] + w7 * s7[x]) - reference
        for i in range(8, n_terms[g]):
            source = table[index[terms[g, i], j]]
            weight = weights[g, i]
            for x in range(width):
                row[x] += weight * source[x]
        count = length[j]
        if track:
            for x in range(count):
                top = max(top, row[x])
        for x in range(count, width):
            row[x] = -np.inf
    return top


@njit(cache=True, fastmath={"reassoc"})
def _scatter_pairs(pair_graph, pair_interval, first, length, weights, pmf, mass):
    """Add each pair's weights to ``pmf`` at its interval's points (first[j], first[j] + 1, ...) and to ``mass``.

    (Reassociation lets the compiler vectorise the sum over a pair's points.)
    """
    for p in range(pair_graph.size):
        j = pair_interval[p]
        count = length[j]
        target = pmf[first[j] : first[j] + count]
        row = weights[p]
        total = 0.0
        for x in range(count):
            target[x] += row[x]
            total += row[x]
        mass[pair_graph[p]] += total


class _Accumulator:
    """Sums of exp(log values) over graphs (per u) and over u (per graph), relative to a moving reference."""

    def __init__(self, size: int, n_graphs: int, reference: float):
        self.pmf = np.zeros(size)
        self.graph_mass = np.zeros(n_graphs)
        self.reference = reference if np.isfinite(reference) else 0.0

    def rescale(self, top: float):
        if np.isfinite(top) and top > self.reference:
            scale = math.exp(self.reference - top)
            self.pmf *= scale
            self.graph_mass *= scale
            self.reference = top

    def add(self, log_values: np.ndarray, columns: np.ndarray, graphs: np.ndarray | None = None):
        self.rescale(float(np.max(log_values)))
        weights = np.exp(log_values - self.reference)
        self.pmf += np.bincount(columns, weights=weights.sum(axis=0), minlength=len(self.pmf))
        if graphs is None:
            self.graph_mass += weights.sum(axis=1)
        else:
            self.graph_mass[graphs] += weights.sum(axis=1)

    def log_total(self) -> float:
        total = float(self.graph_mass.sum())
        return math.log(total) + self.reference if total > 0 else -math.inf

    def logs(self):
        with np.errstate(divide="ignore"):
            return np.log(self.pmf) + self.reference, np.log(self.graph_mass) + self.reference


def _pieces(u: np.ndarray, n_rows: int):
    """Split u so that a piece's (graphs x interval ends) table stays within _BLOCK_CELLS."""
    size = max(_BLOCK_CELLS * _INTERVAL // (2 * max(n_rows, 1)), 4 * _INTERVAL)
    for start in range(0, len(u), size):
        yield u[start : start + size]


def _posterior_on_support(model, positive, negative, support, tolerance):
    """dga's computation: the joint posterior on the given unlisted counts, and the tail bound beyond them."""
    n_graphs = model.coefx.shape[0]
    rows = np.arange(n_graphs)
    u = support.astype(float)
    log_pmf, log_graph_mass = [], np.full(n_graphs, -np.inf)
    log_found, log_pruned = -np.inf, -np.inf
    for piece in _pieces(u, n_graphs):
        piece_pmf, piece_graphs, log_end, pruned = _evaluate(model, piece, rows, log_found)
        log_pmf.append(piece_pmf)
        log_graph_mass = np.logaddexp(log_graph_mass, piece_graphs)
        log_found = logsumexp(log_graph_mass)
        log_pruned = np.logaddexp(log_pruned, pruned)
    if u[-1] >= 1:
        prior_tail = _prior_tail(model.log_prior, u[-min(len(u), 1024) :], model.marginals.n)
        # Every tail is polynomial under the prior 1/N, and its decay at the support's end usually bounds it about
        # as tightly as the ladder does, for a fraction of the cost: the ladder only if that is not enough.
        log_tail = logsumexp(_beyond_bound(positive, negative, prior_tail, u[-1], log_end))
        if not np.logaddexp(log_tail, log_pruned) - log_found <= math.log(tolerance):
            _, beyond = _geometric_tail(model, rows, int(u[-1]), positive, negative, prior_tail, ladder=False)
            log_tail = logsumexp(beyond[:, 0])
    else:
        log_tail = np.inf
    return support, np.concatenate(log_pmf), log_graph_mass, np.logaddexp(log_tail, log_pruned)


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


def _quantile_slack(log_pmf: np.ndarray, probabilities, n: float, resolution: float) -> float:
    """Largest relative mass beyond the support that moves no quantile by more than ``resolution`` (relative).

    With mass T beyond the support and S inside, the q-quantile is the first u with S(u) / (S + T) >= q, so it
    moves at most m support points while T / S <= cdf(point + m) / q - 1; m = 0 when ``resolution`` is 0, else
    the larger of 1 and ``resolution * N``. Returns 0 when a quantile could leave the support.
    """
    pmf = np.exp(log_pmf - np.max(log_pmf))
    cdf = np.cumsum(pmf)
    cdf /= cdf[-1]
    slack = np.inf
    for q in probabilities:
        point = int(np.searchsorted(cdf, q))
        if resolution > 0:
            point += max(1, int(resolution * (n + point)))
        if point + 1 >= len(cdf):
            return 0.0
        slack = min(slack, cdf[point] / q - 1)
    return float(slack)


@dataclass(frozen=True)
class _HeavyTail:
    """Why the adaptive support stopped before the tolerance: the heaviest remaining tail."""

    graph: int
    exponent: float


def _first_rung(rungs, log_beyond, log_target) -> float:
    """The first rung beyond which the total mass bound is below the target (inf if none)."""
    below = np.flatnonzero(log_beyond <= log_target)
    return float(rungs[below[0]]) if below.size else np.inf


def _adaptive_posterior(model, positive, negative, tolerance, probabilities, h):
    """Extend the unlisted support in blocks until the bound on the neglected mass is below tolerance.

    After each block the tail beyond it is bounded on a geometric ladder (:func:`_geometric_tail`), which also
    says how far the support must go. When that is beyond ``MAX_UNLISTED``, the posterior is returned (with a
    :class:`_HeavyTail`) if the neglected mass cannot move the median or the interval bounds by more than
    ``_RESOLUTION``, and :class:`NonexistentEstimateError` is raised if it could.
    """
    n_graphs = model.coefx.shape[0]
    n = model.marginals.n
    exponent = np.sum(positive - negative, axis=1)  # t(u) ~ C u**exponent as u grows
    active = np.arange(n_graphs)
    log_graph_mass = np.full(n_graphs, -np.inf)
    log_dropped = -np.inf  # bound on the tails of graphs no longer evaluated, and on skipped pairs
    pieces = []
    start = 0
    target_end = max(1023, int(2 * n))
    drop_level = math.log(_DROP_SHARE * tolerance / n_graphs)
    while True:
        longest = max(_BLOCK_CELLS * _INTERVAL // (2 * len(active)), 4 * _INTERVAL)
        stop = int(min(target_end + 1, start + longest, MAX_UNLISTED + 1))
        u = np.arange(start, stop, dtype=float)
        log_pmf, block_graphs, _, pruned = _evaluate(model, u, active, logsumexp(log_graph_mass))
        pieces.append(log_pmf)
        log_graph_mass[active] = np.logaddexp(log_graph_mass[active], block_graphs)
        log_dropped = np.logaddexp(log_dropped, pruned)
        start = stop
        if stop <= target_end and stop <= MAX_UNLISTED:
            continue
        log_z = logsumexp(log_graph_mass)
        end = stop - 1
        prior_tail = _prior_tail(model.log_prior, u[-min(len(u), 1024) :], n)
        rungs, beyond = _geometric_tail(model, active, end, positive, negative, prior_tail)
        log_total = np.logaddexp(log_dropped, logsumexp(beyond, axis=0))
        support = np.arange(0, stop, dtype=np.int64)
        if log_z == -math.inf and log_total[0] == -math.inf:
            # no mass found and none bounded beyond: the prior is zero everywhere (the caller says so)
            return support, np.concatenate(pieces), log_graph_mass, -math.inf, None
        log_share = log_total[0] - log_z
        if log_share <= math.log(tolerance):
            return support, np.concatenate(pieces), log_graph_mass, log_total[0], None
        worst = int(np.argmax(beyond[:, 0]))
        heaviest = _HeavyTail(graph=int(active[worst]), exponent=float(exponent[active[worst]]))
        needed = _first_rung(rungs, log_total, log_z + math.log(tolerance))
        if needed > MAX_UNLISTED:
            # The tolerance is out of reach: settle for the median and interval being pinned down, exactly if
            # that is reachable, else to _RESOLUTION. While a quantile is still at the support's end (slack 0)
            # the bulk of the posterior has not been reached: keep extending.
            all_pmf = np.concatenate(pieces)
            for resolution in (0.0, _RESOLUTION):
                slack = _quantile_slack(all_pmf, probabilities, n, resolution)
                if slack > 0 and log_share <= math.log(slack):
                    return support, all_pmf, log_graph_mass, log_total[0], heaviest
                needed = _first_rung(rungs, log_total, log_z + math.log(slack)) if slack > 0 else 2 * end + 1
                if needed <= MAX_UNLISTED and end < MAX_UNLISTED:
                    break
            else:
                limit = np.array([MAX_UNLISTED - 1.0, MAX_UNLISTED])
                log_t = model.coefx[heaviest.graph] @ model.factors(limit, model.prior(limit))
                if log_t[1] > log_t[0]:
                    _refuse_beyond_limit(h, heaviest.graph)
                share = float(np.exp(log_graph_mass[heaviest.graph] - log_z))
                _refuse_heavy_tail(h, heaviest, share, log_share, int(needed) if np.isfinite(needed) else None)
        drop = beyond[:, 0] - log_z <= drop_level
        if drop.any():
            log_dropped = np.logaddexp(log_dropped, logsumexp(beyond[drop, 0]))
            active = active[~drop]
        # Check again after at most doubling, so that graphs whose tails vanish stop being evaluated early.
        target_end = int(min(needed, 2 * end + 1, MAX_UNLISTED))


def _refuse_beyond_limit(h, graph: int):
    # Not a heavy tail: the graph holding most of the mass beyond the support still rises at the limit (its bulk
    # lies beyond it), as with millions of records, where the heavy-tail message would name that graph with
    # posterior probability 0 and a tail like N^-2,000,002.
    raise ValueError(
        f"graphical_bma evaluates the posterior on every unlisted count from 0 up to {MAX_UNLISTED:,}, and with "
        f"these data ({h.n_observed:,} people observed) the posterior under graph "
        f"{decomposable_graphs(h.k)[graph].label(h.lists)} is still rising there: most of its mass lies beyond that "
        "limit, out of this implementation's reach. Use loglinear(h), whose profile interval has no "
        "such limit, or estimate smaller strata separately."
    )


def _refuse_heavy_tail(h, heaviest: _HeavyTail, probability: float, log_neglected_share: float, needed):
    graph = decomposable_graphs(h.k)[heaviest.graph]
    mass = float(np.exp(min(log_neglected_share, 0.0)))
    overlaps = h.overlaps.to_numpy()
    pairs = [f"{h.lists[i]}-{h.lists[j]}" for i in range(h.k) for j in range(i + 1, h.k) if overlaps[i, j] == 0]
    cause = f" Lists that never overlap: {', '.join(pairs)}." if pairs else ""
    reach = f" (about {needed:,})" if needed is not None else ""
    saturated = ", the saturated graph, which cannot estimate N" if graph.cliques == (2**h.k - 1,) else ""
    raise NonexistentEstimateError(
        f"The posterior of N has a tail too heavy for the data to fix its interval: up to {mass:.2g} of the "
        f"posterior mass may lie beyond the values evaluated, and under graph {graph.label(h.lists)} (posterior "
        f"probability {probability:.2g}{saturated}) the posterior decays only like N^{heaviest.exponent:.3f}; "
        f"pinning the interval down would need unlisted counts beyond the limit of {MAX_UNLISTED:,}{reach}. "
        f"The upper bound would be set by the prior and delta, not by the lists.{cause} Consider merging lists, "
        "a proper prior on N (log_prior) or a larger delta."
    )
