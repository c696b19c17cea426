"""The support of the unlisted count: a given grid (dga's), or grown until the neglected mass is bounded.

A posterior whose tail is too heavy for the data to fix its interval is refused here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..exceptions import NonexistentEstimateError
from ._evaluation import _block_length, _evaluate, _pieces
from ._graphs import decomposable_graphs
from ._marginal import logsumexp
from ._tail import _beyond_bound, _geometric_tail, _prior_tail

# Largest unlisted count the adaptive support may reach: beyond it a tail is too heavy to be worth a number.
MAX_UNLISTED = 2_000_000
# Share of the tail tolerance granted to graphs dropped from further evaluation.
_DROP_SHARE = 0.1
# Where tail_tolerance is out of reach, the median and bounds must still be fixed to this relative precision.
_RESOLUTION = 1e-3


def _posterior_on_support(model, positive, negative, support, tolerance):
    """dga's computation: the joint posterior on the given unlisted counts, and the tail bound beyond them."""
    n_graphs = model.n_graphs
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


def _adaptive_posterior(model, positive, negative, tolerance, probabilities, h, graphs=None):
    """Extend the unlisted support in blocks until the bound on the neglected mass is below tolerance.

    After each block the tail beyond it is bounded on a geometric ladder (:func:`_geometric_tail`), which also
    says how far the support must go. When that is beyond ``MAX_UNLISTED``, the posterior is returned (with a
    :class:`_HeavyTail`) if the neglected mass cannot move the median or the interval bounds by more than
    ``_RESOLUTION``, and :class:`NonexistentEstimateError` is raised if it could.
    """
    n_graphs = model.n_graphs
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
        longest = _block_length(len(active))
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
                if model.coefx is None:
                    log_t = model.graph_log_values([heaviest.graph], limit, model.prior(limit))[0]
                else:
                    log_t = model.coefx[heaviest.graph] @ model.factors(limit, model.prior(limit))
                if log_t[1] > log_t[0]:
                    _refuse_beyond_limit(h, heaviest.graph, graphs)
                share = float(np.exp(log_graph_mass[heaviest.graph] - log_z))
                _refuse_heavy_tail(h, heaviest, share, log_share, int(needed) if np.isfinite(needed) else None,
                                  graphs)
        drop = beyond[:, 0] - log_z <= drop_level
        if drop.any():
            log_dropped = np.logaddexp(log_dropped, logsumexp(beyond[drop, 0]))
            active = active[~drop]
        # Check again after at most doubling, so that graphs whose tails vanish stop being evaluated early.
        target_end = int(min(needed, 2 * end + 1, MAX_UNLISTED))


def _refuse_beyond_limit(h, graph: int, graphs=None):
    # Not a heavy tail: the graph holding most of the mass beyond the support still rises at the limit (its bulk
    # lies beyond it), as with millions of records, where the heavy-tail message would name that graph with
    # posterior probability 0 and a tail like N^-2,000,002.
    raise ValueError(
        f"graphical_bma evaluates the posterior on every unlisted count from 0 up to {MAX_UNLISTED:,}, and with "
        f"these data ({h.n_observed:,} people observed) the posterior under graph "
        f"{(graphs or decomposable_graphs(h.k))[graph].label(h.lists)} is still rising there: most of its mass lies beyond that "
        "limit, out of this implementation's reach. Use loglinear(h), whose profile interval has no "
        "such limit, or estimate smaller strata separately."
    )


def _refuse_heavy_tail(h, heaviest: _HeavyTail, probability: float, log_neglected_share: float, needed,
                       graphs=None):
    graph = (graphs or decomposable_graphs(h.k))[heaviest.graph]
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
        "a proper prior on N (log_prior) or a larger delta"
        + (", or exclude_saturated=True (the model space of published 3-list analyses)." if saturated else ".")
    )
