"""The hyper-Dirichlet marginal likelihood of the complete table, as a function of the unlisted count."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .._lazy import gammaln


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


def _marginals_from_patterns(dense: np.ndarray, k: int, delta: float) -> _Marginals:
    """:func:`_marginals` from the observed patterns alone, for any k (MC3 beyond 6 lists).

    The same quantities without the (2**k x 2**k) table, which for 12 lists would hold 16.7 million cells: each
    subset's marginal table is binned from the P observed patterns (blocks of subsets, O(2**k P) work), and
    lgamma is taken only on its non-empty cells (an empty cell adds lgamma(delta_A) - lgamma(delta_A) = 0).
    """
    size = 2**k
    y = np.asarray(dense, dtype=float)
    patterns = np.flatnonzero(y)
    patterns = patterns[patterns != 0]
    counts = y[patterns]
    subsets = np.arange(size)
    delta_a = delta * 2.0 ** (k - np.bitwise_count(subsets))
    log_delta = gammaln(delta_a)
    offset = delta_a.copy()
    constant = -log_delta
    block = max(1, (1 << 20) // max(len(patterns), 1))
    for first in range(0, size, block):
        masks = subsets[first : first + block]
        bins = (np.arange(len(masks))[:, None] * size + (patterns[None, :] & masks[:, None])).ravel()
        marginal = np.bincount(bins, weights=np.tile(counts, len(masks)), minlength=len(masks) * size)
        marginal = marginal.reshape(len(masks), size)
        offset[masks] += marginal[:, 0]
        row, cell = np.nonzero(marginal[:, 1:])
        mask = masks[row]
        terms = gammaln(marginal[row, cell + 1] + delta_a[mask]) - log_delta[mask]
        constant[masks] += np.bincount(row, weights=terms, minlength=len(masks))
    offset[0] = constant[0] = 0.0
    return _Marginals(offset=offset, constant=constant, total_prior=size * delta, n=float(counts.sum()))


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
