"""The joint log posterior of (graph, unlisted count) for one table, and bounds on its mass over an interval."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._graphs import _GraphArrays
from .._lazy import gammaln
from ._marginal import _Marginals

# Running products for lgamma along a run of counts stay below this (far from float64 overflow).
_RUN_PRODUCT_MAX = 1e250
# The products restart after this many factors: a run's products are then independent chains computed together.
_RUN_CHUNK = 16
# Values of lgamma per block of runs (the block's temporaries stay in cache).
_RUN_CELLS = 1 << 16


def _evaluate_log_prior(log_prior, n_total: np.ndarray) -> np.ndarray:
    """The user's ``log_prior`` at ``n_total``, checked: one finite or -inf value per N."""
    values = np.asarray(log_prior(n_total.astype(float)), dtype=float)
    if values.shape != n_total.shape:
        raise ValueError(
            f"`log_prior` must return one log prior value per N (shape {n_total.shape}); got shape {values.shape}."
        )
    if np.isnan(values).any() or np.isposinf(values).any():
        bad = n_total[np.isnan(values) | np.isposinf(values)][0]
        raise ValueError(f"`log_prior` returned NaN or +inf at N = {bad}; it must be finite or -inf.")
    return values


@dataclass(frozen=True)
class _Model:
    """Everything the posterior needs for one table: graphs as coefficient rows, marginal offsets, the prior.

    The log posterior of (graph g, unlisted u) is ``coefx[g] @ factors(u)``; the rows of ``factors`` are the
    clique/separator factors of every subset of lists, the Dirichlet normaliser and the terms common to all
    graphs (multinomial coefficient and prior).
    """

    marginals: _Marginals
    coefx: np.ndarray | None  # (G, 2**k + 2); None: the graphs as sparse rows only (_sparse_arrays_of)
    used_masks: np.ndarray  # the subsets some graph uses
    used_coefx: np.ndarray | None  # coefx on those columns and the last two
    terms: np.ndarray  # (G, T) subsets with a non-zero coefficient (see _GraphArrays)
    weights: np.ndarray  # (G, T)
    n_terms: np.ndarray  # (G,)
    n_den: np.ndarray  # (G,)
    row_terms: np.ndarray  # (G, R) rows of run_factors' table (see _GraphArrays)
    row_weights: np.ndarray  # (G, R)
    n_row_terms: np.ndarray  # (G,)
    log_prior: Callable | None
    # Per graph, a constant added to its log posterior (None: 0). MC3 weights each visited graph's posterior of
    # N by its visit frequency through it (log frequency - log evidence).
    log_weight: np.ndarray | None = None

    @property
    def n_graphs(self) -> int:
        return len(self.n_den)

    def graph_log_values(self, rows, u: np.ndarray, prior: np.ndarray, masks=None, coefx=None) -> np.ndarray:
        """(graphs ``rows`` x ``u``) log posterior, ``coefx`` being model.coefx[rows] on ``masks`` if given.

        Without dense rows (``coefx`` None: the graphs MC3 visited) the sum runs over each graph's few terms.
        """
        rows = np.asarray(rows)
        if self.coefx is None:
            terms = self.terms[rows]
            needed = np.unique(terms)
            table = self.factors(u, prior, needed)
            position = np.searchsorted(needed, terms)
            values = self.n_den[rows][:, None] * table[-2][None, :] + table[-1][None, :]
            for t in range(terms.shape[1]):
                values += self.weights[rows, t][:, None] * table[position[:, t]]
        else:
            values = (self.coefx[rows] if coefx is None else coefx) @ self.factors(u, prior, masks)
        if self.log_weight is not None:
            values += self.log_weight[rows][:, None]
        return values

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

    def run_factors(self, u_first: np.ndarray, width: int, prior: np.ndarray, need: np.ndarray, spare: int = 0):
        """:meth:`factors` on runs of consecutive unlisted counts u_first[j] + x (x < width), where needed.

        ``prior`` is (runs, width). The rows are the 2**k subsets of lists, then for c = 1 .. k the common
        terms plus c Dirichlet normalisers (a graph with c components needs that one row beyond its cliques and
        separators); ``need`` (rows, runs) says which rows each run needs (far in a heavy tail, only those of
        the few graphs still computed). Returns a (needed + ``spare``, width) table of those rows (the spare
        ones left for the caller) and ``index`` (rows, runs), their positions in it (-1 where not needed).
        Each lgamma is taken once per run and carried along it exactly by
        lgamma(z + x) = lgamma(z) + log(z (z + 1) ... (z + x - 1)).
        """
        m = self.marginals
        n_subsets = len(m.offset)
        # Run by run, so that the rows one interval's pairs gather lie together (in cache).
        run, subset = np.nonzero(need[:n_subsets].T)
        run_c, component = np.nonzero(need[n_subsets:].T)
        index = np.full(need.shape, -1, dtype=np.int64)
        index[subset, run] = np.arange(len(subset))
        index[n_subsets + component, run_c] = np.arange(len(subset), len(subset) + len(component))
        # One array written in place: fresh temporaries of this size cost more (page faults) than the sums.
        table = np.empty((len(subset) + len(component) + spare, width))
        subsets = table[: len(subset)]
        _lgamma_runs(u_first[run] + m.offset[subset], width, subsets)
        subsets += m.constant[subset, None]
        subsets[subset == 0] = 0.0  # the empty set is never a clique or separator
        if component.size:
            runs, local = np.unique(run_c, return_inverse=True)
            z = u_first[runs]
            denominator = _lgamma_runs(z + m.n + m.total_prior, width, np.empty((len(runs), width)))
            np.subtract(gammaln(m.total_prior), denominator, out=denominator)
            common = _lgamma_runs(z + m.n + 1, width, np.empty((len(runs), width)))
            common -= _lgamma_runs(z + 1, width, np.empty((len(runs), width)))
            common += prior[runs]
            combined = table[len(subset) : len(subset) + len(component)]
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
        # Each subset's log(v + offset) at a, then at b; 1 / (v + offset) at b, then at a.
        with np.errstate(divide="ignore"):
            log_ends = np.log(np.stack([a, b])[:, None, :] + m.offset[:, None])
            inverse_ends = 1 / (np.stack([b, a])[:, None, :] + m.offset[:, None])
        log_ends[:, 0] = inverse_ends[:, 0] = 0.0
        total = m.n + m.total_prior
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            high = np.log(b + m.n + 1) - np.log(a + 1) + high_prior
            low = np.log(a + m.n + 1) - np.log(b + 1) + low_prior
            common_a = np.log(a + m.n + 1) - np.log(a + 1) + prior_at_a
            slope = 1 / (a + m.n + 1) - 1 / (b + 1) + prior_slope
            log_count = np.log(count)
        bound, pending, start = _interval_bounds(
            np.asarray(rows, dtype=np.int64), self.terms, self.weights, self.n_terms, self.n_den,
            log_ends.reshape(-1, len(a)), inverse_ends.reshape(-1, len(a)), high, low, common_a, slope,
            np.log(a + total), np.log(b + total), 1 / (b + total), b - a, count, log_count,
            np.ascontiguousarray(log_t), at_a, at_b, floor,
        )
        # The geometric series sum_{x<count} e^(x rate) = expm1(count rate) / expm1(rate) where it may still
        # win, on those cells only.
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


def _make_model(arrays: _GraphArrays, marginals: _Marginals, log_prior, log_weight=None) -> _Model:
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
        log_weight=log_weight,
    )


# Cells of the (graphs x intervals) tables of :func:`_interval_bounds` taken at once: bounds the temporaries.
_BOUND_CELLS = 1 << 16


def _interval_bounds(
    rows, terms, weights, n_terms, n_den, log_ends, inverse_ends, high, low, common_a, slope_common,
    log_a_total, log_b_total, inv_b_total, width, count, log_count, log_t, at_a, at_b, floor,
):
    """The bounds of :meth:`_Model.interval_log_mass`, for blocks of graphs and all intervals at once.

    A graph's clique terms (positive weights) take log(v + offset) at the end of [a, b] that bounds the ratio
    from above (b) or below (a), its separator terms the other end; ``n_den`` copies of the Dirichlet
    normaliser and the per-interval terms common to all graphs (``high``, ``low``, ``common_a``,
    ``slope_common``) complete the ratio bounds R, L, its value at a and the bound on its slope. The terms are
    added one at a time (a graph's padding with weight 0), so each sum is taken in the same order for any block.

    Returns the bounds without the geometric series, where that series could still win its rate (NaN
    elsewhere), and log t(a) + rate, for the caller to finish vectorised.
    """
    out = np.empty((rows.size, width.size))
    pending = np.empty_like(out)
    start = np.empty_like(out)
    step = max(1, _BOUND_CELLS // max(width.size, 1))
    for first in range(0, rows.size, step):
        block = slice(first, first + step)
        out[block], pending[block], start[block] = _interval_bounds_block(
            rows[block], terms, weights, n_terms, n_den, log_ends, inverse_ends, high, low, common_a,
            slope_common, log_a_total, log_b_total, inv_b_total, width, count, log_count, log_t[block], at_a, at_b,
            floor,
        )
    return out, pending, start


def _positive_or_nan(x):
    """x where it is positive or NaN, else 0."""
    return np.where((x > 0.0) | np.isnan(x), x, 0.0)


def _interval_bounds_block(
    rows, terms, weights, n_terms, n_den, log_ends, inverse_ends, high, low, common_a, slope_common,
    log_a_total, log_b_total, inv_b_total, width, count, log_count, log_t, at_a, at_b, floor,
):
    nd = n_den[rows][:, None]
    upper = high - nd * log_a_total
    lower = low - nd * log_b_total
    ratio_a = common_a - nd * log_a_total
    slope = slope_common - nd * inv_b_total
    used = n_terms[rows]
    n_subsets = len(log_ends) // 2
    for t in range(int(used.max(initial=0))):
        m = terms[rows, t]
        w = np.where(t < used, weights[rows, t], 0.0)
        # A clique's log at b (its 1 / (v + offset) at a) bounds the ratio from above, a separator's at a.
        far = m + n_subsets * (w > 0)
        near = m + n_subsets * (w <= 0)
        w = w[:, None]
        upper += w * log_ends[far]
        lower += w * log_ends[near]
        ratio_a += w * log_ends[m]
        slope += w * inverse_ends[far]
    t_a = log_t[:, at_a]
    with np.errstate(invalid="ignore"):
        # A NaN bound (-inf + inf: a zero prior meeting an unbounded ratio says nothing) counts as +inf.
        from_a = t_a + width * _positive_or_nan(upper)
        from_a[np.isnan(from_a)] = np.inf
        from_b = log_t[:, at_b] + width * _positive_or_nan(-lower)
        from_b[np.isnan(from_b)] = np.inf
        by_ratio = log_count + np.minimum(from_a, from_b)
        rate = ratio_a + _positive_or_nan(slope) * (width - 1) / 2
        # rate < 0: the series sum_{x<count} e^(x rate) lies in [1, count], so it can win only if
        # t(a) + rate < by_ratio (left to the caller). Otherwise the series is at most count e^(count rate).
        geometric = t_a + (log_count + count * _positive_or_nan(rate))
        geometric[np.isnan(geometric)] = np.inf
        either = np.where(np.isnan(by_ratio), np.nan, np.minimum(by_ratio, geometric))
        out = np.where(rate < 0, by_ratio, either)
        start = t_a + rate
        pending = np.where((rate < 0) & (start < by_ratio) & (by_ratio > floor), rate, np.nan)
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
    start = gammaln(z).reshape(-1)
    step = max(1, _RUN_CELLS // width)
    for first in range(0, len(flat), step):
        rows = slice(first, first + step)
        _chained_products(z.reshape(-1)[rows], start[rows], chunk, flat[rows])
    return out


def _chained_products(z: np.ndarray, start: np.ndarray, chunk: int, out: np.ndarray):
    """:func:`_lgamma_runs` on a few rows, lgamma(z) given as ``start``.

    Row i's factors z_i + x - 1 (x >= 1) in chunks, laid out (position in chunk, row, chunk) so that the chunks'
    running products advance together, one vectorised multiplication per position; padded with ones.
    """
    width = out.shape[1]
    n_chunks = -(-(width - 1) // chunk)
    shift = np.arange(n_chunks * chunk, dtype=float).reshape(n_chunks, chunk).T  # x - 1
    runs = z[None, :, None] + shift[:, None, :]
    runs[(width - 1) - (n_chunks - 1) * chunk :, :, -1] = 1.0
    for y in range(1, chunk):
        np.multiply(runs[y - 1], runs[y], out=runs[y])
    np.log(runs, out=runs)
    # Chained: each chunk's logs carry lgamma(z) plus the logs of every earlier chunk's whole product.
    carry = np.empty((len(z), n_chunks))
    carry[:, 0] = start
    carry[:, 1:] = runs[-1, :, :-1]
    np.cumsum(carry, axis=1, out=carry)
    runs += carry
    out[:, 0] = start
    out[:, 1:] = runs.transpose(1, 2, 0).reshape(len(z), -1)[:, : width - 1]
