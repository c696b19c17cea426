"""Compiled (numba) kernels for the pairs of :func:`._evaluation._evaluate`, where their work outweighs loading them.

Importing numba and loading these kernels takes about half a second, several times a small fit; numpy does the
same sums (bit for bit in the posterior of N) about three times slower. ``_evaluate`` uses these for MC3's
visited graphs and for evaluations with many pairs, numpy otherwise (tests/graphical/test_kernels.py checks
that they agree).
"""

import numpy as np
from numba import njit


@njit(cache=True)
def pair_values(
    pair_graph, pair_interval, length, table, index, terms, weights, n_terms, reference, log_weight, track, out
):
    """out[p] = log t + log_weight[g] - reference of pair p (graph g) on its interval (-inf beyond its length).

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
        shift = log_weight[g]
        # Whole rows, padding included, so that the loops have a fixed length the compiler can vectorise.
        for x in range(width):
            first = w0 * s0[x] + w1 * s1[x] + w2 * s2[x] + w3 * s3[x]
            row[x] = first + (w4 * s4[x] + w5 * s5[x] + w6 * s6[x] + w7 * s7[x]) - reference + shift
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
def scatter_pairs(pair_graph, pair_interval, first, length, weights, pmf, mass):
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
