"""The posterior on runs of unlisted counts: (graph, interval) pairs bounded, the negligible ones skipped.

The rest are computed in blocks of pairs and summed relative to a moving reference (:class:`_Accumulator`).
"""

from __future__ import annotations

import math

import numpy as np

from ._marginal import logsumexp
from ._model import _Model

# Cells of one (graphs x interval ends) table of log posteriors: bounds memory whatever the number of graphs.
_BLOCK_CELLS = 1 << 22
# Consecutive unlisted counts per interval whose mass is bounded before it is computed.
_INTERVAL = 194
# Largest share of the posterior mass that skipped (graph, interval) pairs may hold, in total (per evaluation).
_PRUNE = 1e-12
# A pair whose bound is below exp(-_NEGLIGIBLE) times that share is skipped without sharpening its bound.
_NEGLIGIBLE = 40.0
# Log values may exceed the reference of the sums by this much (exp(600) * 1e8 values is far from overflow).
_HEADROOM = 600.0
# Values per block when the kept pairs are summed. Where a block raises the reference, the sums change in the
# last bits: the results of both kernels stay the same bit for bit only with the same blocks.
_PAIR_CELLS = 1 << 15
# Pairs' values per evaluation from which the compiled kernels (_compiled) pay for loading them.
_COMPILED_CELLS = 1 << 24


def _block_length(n_rows: int) -> int:
    """Unlisted counts per block, so that a block's (graphs x interval ends) table stays within _BLOCK_CELLS."""
    return max(_BLOCK_CELLS * _INTERVAL // (2 * n_rows), 4 * _INTERVAL)


def _pieces(u: np.ndarray, n_rows: int):
    """Split u so that a piece's (graphs x interval ends) table stays within _BLOCK_CELLS."""
    size = _block_length(max(n_rows, 1))
    for start in range(0, len(u), size):
        yield u[start : start + size]


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
        share = np.exp(relative)  # only the shares of bounds within the budget are read
    flat = relative.ravel()
    within = flat <= 0  # beyond the budget (or NaN): always kept
    groups = np.full(flat.size, -1)
    groups[within] = np.minimum(np.floor(-flat[within]), 745.0).astype(np.int64)  # 0 = largest bounds
    mass = np.bincount(groups[within], weights=share.ravel()[within], minlength=746)
    spent = np.cumsum(mass[::-1])  # mass of each group and all smaller ones, from the smallest group up
    over = np.flatnonzero(spent > 1.0)
    smallest_kept_group = 745 - int(over[0]) if over.size else -1
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
    every_graph = len(rows) == model.n_graphs  # rows are increasing: then they are all graphs, in order
    if model.coefx is None:
        masks = coefx = None  # sparse rows, evaluated term by term
    elif every_graph:
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
    ends_log = model.graph_log_values(rows, u[endpoints], prior[endpoints], masks, coefx)
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
        first = starts[inner[kept_intervals]] + 1
        _sum_kept_pairs(model, rows, every_graph, u, prior, first, ends[inner[kept_intervals]] - first,
                        keep[:, kept_intervals], bound[:, kept_intervals], accumulated)
    log_pmf, log_graph_mass = accumulated.logs()
    return log_pmf, log_graph_mass, ends_log[:, -1], log_pruned


def _sum_kept_pairs(model, rows, every_graph, u, prior, first, length, keep, bound, accumulated):
    """Add the kept (graph, interval) pairs' values at the intervals' interior points to ``accumulated``.

    Interval ``j``'s interior is u[first[j] + x] for x < length[j], padded to _INTERVAL - 2 columns; ``keep``
    and ``bound`` are (graphs ``rows`` x intervals).
    """
    width = _INTERVAL - 2
    terms, weights, n_terms = model.row_terms, model.row_weights, model.n_row_terms
    if not every_graph:
        terms, weights, n_terms = terms[rows], weights[rows], n_terms[rows]
    # Each kept pair from its graph's few non-zero terms: dense products over all subsets would mostly
    # multiply by zero, and exponentiate the skipped pairs too. Pairs run interval by interval.
    pair_interval, pair_graph = np.nonzero(keep.T)
    per_block = max(1, _PAIR_CELLS // width)
    if model.log_weight is not None or len(pair_graph) * width >= _COMPILED_CELLS:
        from . import _compiled as kernels
    else:
        kernels = None
    values = np.empty((min(per_block, len(pair_graph)), width))
    # A pair's bound bounds each of its values: in a block whose bounds are within _HEADROOM of the
    # reference no exp can overflow, and the largest value need not be found.
    block_starts = np.arange(0, len(pair_graph), per_block)
    block_bound = np.maximum.reduceat(bound[pair_graph, pair_interval], block_starts)
    offsets = np.arange(width)
    valid = offsets[None, :] < length[:, None]
    position = np.where(valid, first[:, None] + offsets[None, :], first[:, None])
    # Intervals are runs of consecutive integers; the padding beyond an interval's length is never read.
    runs = (u[first], width, prior[position])
    # Rows: the 2**k subsets, then one per number of components 1 .. k; cells (interval, row).
    n_rows = len(model.marginals.offset)
    n_rows += n_rows.bit_length() - 1
    own = np.arange(terms.shape[1])[None, :] < n_terms[pair_graph][:, None]
    cell = pair_interval[:, None] * n_rows + terms[pair_graph]
    need = np.zeros((len(first), n_rows), dtype=bool)
    need.reshape(-1)[cell[own]] = True
    if kernels is None:
        table, pair_rows = _weighted_table(model, runs, need, cell, weights, pair_graph)
        # Terms beyond a block's longest graph would only add the zero row.
        block_terms = np.maximum.reduceat(n_terms[pair_graph], block_starts)
        short_pairs = np.flatnonzero(length[pair_interval] < width)  # a run's last interval, mostly
        short_at = np.searchsorted(short_pairs, np.append(block_starts, len(pair_graph)))
    else:
        table, index = model.run_factors(*runs, need.T)
        log_weight = np.zeros(len(rows)) if model.log_weight is None else model.log_weight[rows]
    for b, (lo, top_bound) in enumerate(zip(block_starts, block_bound)):
        g, j = pair_graph[lo : lo + per_block], pair_interval[lo : lo + per_block]
        track = not top_bound <= accumulated.reference + _HEADROOM
        block = values[: len(g)]
        if kernels is None:
            _pair_values(pair_rows[lo : lo + per_block, : block_terms[b]], table, accumulated.reference, block)
            if short_at[b] < short_at[b + 1]:
                short = short_pairs[short_at[b] : short_at[b + 1]] - lo
                block[short] = np.where(valid[j[short]], block[short], -np.inf)
            top = float(np.max(block)) if track else -np.inf
        else:
            top = kernels.pair_values(g, j, length, table, index, terms, weights, n_terms, accumulated.reference,
                                      log_weight, track, block)
        if top > 0:  # above the reference: raise it
            accumulated.rescale(accumulated.reference + top)
            block -= top
        np.exp(block, out=block)
        scatter = _scatter_pairs if kernels is None else kernels.scatter_pairs
        scatter(g, j, first, length, block, accumulated.pmf, accumulated.graph_mass)


def _weighted_table(model, runs, need, cell, weights, pair_graph):
    """:meth:`_Model.run_factors`' table with the products weight * row that pairs take besides 1 * row, and a
    row of zeros; and each pair's terms as rows of it.

    A pair's term on cell (interval, row) ``cell`` of ``need`` is weight * the table's row for that cell; a
    graph's padding (weight 0) takes the zero row. Each other product (separators: -1, -2, ...) is taken once,
    in cell order: multiplying the whole table by every distinct weight wrote mostly rows never read, and a
    block's gathers stay within a few intervals' rows (in cache).
    """
    scales, code = np.unique(weights, return_inverse=True)
    key = cell * len(scales) + code.reshape(weights.shape)[pair_graph]
    product = np.zeros((need.size, len(scales)), dtype=bool)
    product.reshape(-1)[key] = True
    product[:, (scales == 0) | (scales == 1)] = False  # the zero row, and the table's own rows
    picked = np.flatnonzero(product)
    table, index = model.run_factors(*runs, need.T, len(picked) + 1)
    cell_row = index.T.reshape(-1)
    np.multiply(table[cell_row[picked // len(scales)]], scales[picked % len(scales), None],
                out=table[len(table) - len(picked) - 1 : -1])
    table[-1] = 0.0
    row = np.empty(product.shape, dtype=np.int64)  # the table row of each (cell, weight)
    row[:] = cell_row[:, None]
    row.reshape(-1)[picked] = np.arange(len(table) - len(picked) - 1, len(table) - 1)
    row[:, scales == 0] = len(table) - 1
    return table, row.reshape(-1)[key]


def _pair_values(rows, table, reference, out):
    """log t - reference of each pair into ``out``: the sum of its ``rows`` of ``table`` (weighted terms).

    Summed as (terms 0-3) + (terms 4-7), then the rest one by one, as the compiled kernel sums them (the
    same values bit for bit; a graph's padding adds the zero row, and no log_weight: graphs weighted for MC3
    go to the compiled kernels). Every graph has a clique and its components' row, so at least two terms.
    Term by term, each gathered term small enough to stay in cache.
    """
    n_used = rows.shape[1]
    np.add(table[rows[:, 0]], table[rows[:, 1]], out=out)
    for i in range(2, min(n_used, 4)):
        out += table[rows[:, i]]
    if n_used > 4:
        group = table[rows[:, 4]]
        for i in range(5, min(n_used, 8)):
            group += table[rows[:, i]]
        out += group
    out -= reference
    for i in range(8, n_used):
        out += table[rows[:, i]]


def _scatter_pairs(pair_graph, pair_interval, first, length, weights, pmf, mass):
    """Add each pair's weights to ``pmf`` at its interval's points (first[j], first[j] + 1, ...) and to ``mass``.

    Pairs come interval by interval: each run of one interval's pairs is summed in order onto the sums of its
    earlier pairs (numpy sums in order along a slow axis), as the compiled kernel sums them.
    """
    mass += np.bincount(pair_graph, weights=weights.sum(axis=1), minlength=len(mass))
    lo = 0
    for hi in [*(np.flatnonzero(pair_interval[1:] != pair_interval[:-1]) + 1).tolist(), len(weights)]:
        j = pair_interval[lo]
        points = pmf[first[j] : first[j] + length[j]]
        run = weights[lo:hi, : length[j]]
        run[0] += points
        np.add.reduce(run, axis=0, out=points)
        lo = hi
