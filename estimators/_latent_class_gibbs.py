"""Numba kernels of the data-augmentation Gibbs sampler of Manrique-Vallier (2016).

One call of :func:`run_chain` runs one chain from start to finish with its own random stream (a xoshiro256**
state seeded from a ``numpy.random.SeedSequence``; the draws are those of ``_random``, which compile in a fraction
of the time numba needs for ``numpy.random.Generator`` methods). The kernels release the GIL, so chains can run side
by side in threads with no process start-up and with results that do not depend on which thread ran which chain.
``cache=True`` writes the compiled code to numba's on-disk cache so a later process skips compilation.

A fresh process spends more time compiling than sampling, and every separately compiled function re-optimises
the code of the functions it calls: so the sweep is one loop (:func:`_sweeps`), the helpers called only from it
are inlined into it by numba (``inline="always"``), and the random draws stay separate functions (inlining them
everywhere multiplies compilation time tenfold).

Probabilities are kept on the log scale (log lambda, log(1 - lambda), log nu) because classes that hold almost
nobody get stick-breaking weights and inclusion probabilities that underflow in linear scale.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._random import binomial, log_gamma, negative_binomial, new_state, positive_uniform, uniform

# Rejection sampling of the truncated negative binomial gives up after this many tries and inverts the cdf
# instead (only reached when the truncation point is far in the tail of the untruncated draw).
_MAX_REJECTIONS = 64
# Below this many people left to place, multinomial_draw places them one by one.
_FEW = 8


@njit(cache=True, nogil=True, inline="always")
def log_beta_draw(state, a, b):
    """(log X, log(1 - X)) for X ~ Beta(a, b), both accurate when X is within rounding of 0 or 1.

    Beta(1, b) and Beta(a, 1) are powers of a uniform (1 - X = U**(1/b), X = U**(1/a)): one uniform instead of
    two gamma draws, for every empty class and every list a class has nobody on.
    """
    if a == 1.0 or b == 1.0:
        u = positive_uniform(state)
        if a == 1.0:
            log_rest = np.log(u) / b
            return np.log(-np.expm1(log_rest)), log_rest
        log_x = np.log(u) / a
        return log_x, np.log(-np.expm1(log_x))
    ga = log_gamma(state, a)
    gb = log_gamma(state, b)
    top = max(ga, gb)
    log_total = top + np.log(np.exp(ga - top) + np.exp(gb - top))
    return ga - log_total, gb - log_total


@njit(cache=True, nogil=True, inline="always")
def multinomial_draw(state, size, weights, out):
    """Multinomial(size, weights / sum(weights)) into ``out``.

    Sequential conditional binomials while many remain to place; once few remain, one categorical draw each
    over the classes left (a uniform and a short scan cost less than a binomial draw per class).
    """
    out[:] = 0
    n_classes = weights.shape[0]
    mass = 0.0
    for k in range(n_classes):
        mass += weights[k]
    remaining = size
    for k in range(n_classes - 1):
        if remaining <= _FEW:
            for _ in range(remaining):
                u = uniform(state) * mass
                chosen = n_classes - 1
                for c in range(k, n_classes - 1):
                    u -= weights[c]
                    if u < 0.0:
                        chosen = c
                        break
                out[chosen] += 1
            return
        if weights[k] >= mass:
            out[k] = remaining
            return
        x = binomial(state, remaining, weights[k] / mass)
        out[k] = x
        remaining -= x
        mass -= weights[k]
    out[n_classes - 1] = remaining


@njit(cache=True, nogil=True, inline="always")
def truncated_negative_binomial_draw(state, successes, p_success, upper):
    """Failures before ``successes`` successes, conditioned on being <= ``upper``."""
    for _ in range(_MAX_REJECTIONS):
        x = negative_binomial(state, successes, p_success)
        if x <= upper:
            return x
    # The bulk lies beyond ``upper``: invert the cdf of the truncated law, walking the pmf by the ratio of
    # successive terms (exact whatever the mass beyond ``upper``; scalars only, so nothing to allocate).
    log_q = np.log1p(-p_success)
    log_term = 0.0
    top = 0.0
    for x in range(1, upper + 1):
        log_term += np.log((successes + x - 1.0) / x) + log_q
        top = max(top, log_term)
    total = 0.0
    log_term = 0.0
    for x in range(upper + 1):
        if x > 0:
            log_term += np.log((successes + x - 1.0) / x) + log_q
        total += np.exp(log_term - top)
    u = uniform(state) * total
    log_term = 0.0
    for x in range(upper + 1):
        if x > 0:
            log_term += np.log((successes + x - 1.0) / x) + log_q
        u -= np.exp(log_term - top)
        if u < 0.0:
            return x
    return upper


def run_chain(seed_sequence, patterns, counts, n_classes, a_alpha, b_alpha, upper_unobserved, warmup, burn, draws, thin):
    """Run one chain from its ``numpy.random.SeedSequence``; return draws of N, alpha, occupied classes and p0.

    The start is drawn from the priors: lambda ~ Beta(1, 1) for every list and class, stick-breaking weights with
    alpha = 1. LCMCR instead starts every class at the lists' marginal rates with alpha held at 0.3 / K for its
    warm-up; on the 5-list UK table that start leaves most chains for tens of thousands of sweeps in a
    low-probability state with few classes (N near 12,000 against a posterior centred near 22,000), while
    starts dispersed over the prior reach the bulk quickly, and chains that start apart are what R-hat needs.
    After ``warmup`` sweeps the classes are relabelled by decreasing weight (as LCMCR does), which suits the
    stick-breaking order; then ``burn`` sweeps are discarded and every ``thin``-th of ``draws`` x ``thin``
    sweeps is kept.

    Compilation, not sampling, is what a fresh process spends most of its time on, and numba's cost grows with
    the number of compiled functions and of their arguments: so the sweep is one compiled loop (:func:`_sweeps`),
    arrays are allocated here, and the one-off relabelling is done here in numpy between two calls of it.
    """
    patterns = np.ascontiguousarray(patterns, dtype=np.int64)
    counts = np.ascontiguousarray(counts, dtype=np.int64)
    n_cells, n_lists = patterns.shape
    n_observed = int(counts.sum())
    # Two independent streams derived from the chain's seed: numpy's for the start, xoshiro256** for the sweeps.
    start_seed, sweep_seed = (
        np.random.SeedSequence(seed_sequence.entropy, spawn_key=(*seed_sequence.spawn_key, part)) for part in (0, 1)
    )
    start = np.random.default_rng(start_seed)
    inclusion = start.uniform(size=(n_lists, n_classes))
    log_lam1 = np.log(inclusion)
    log_lam0 = np.log1p(-inclusion)
    sticks = start.uniform(size=n_classes - 1)  # Beta(1, 1)
    log_nu = np.append(np.log(sticks), 0.0) + np.concatenate([[0.0], np.cumsum(np.log1p(-sticks))])
    log_prob = np.empty((n_cells + 1, n_classes))  # log class probabilities of each pattern, unlisted last
    log_prob[:n_cells] = log_nu + patterns @ log_lam1 + (1 - patterns) @ log_lam0
    log_prob[n_cells] = log_nu + log_lam0.sum(axis=0)
    count_z = np.zeros((n_cells, n_classes), dtype=np.int64)  # class counts of each observed pattern
    count0 = np.zeros(n_classes, dtype=np.int64)  # class counts of the unlisted
    chain = (
        log_lam1, log_lam0, log_nu,
        np.ones(1),  # alpha
        np.zeros(1, dtype=np.int64),  # unlisted count
        count_z, count0, log_prob,
        np.empty(n_classes), np.empty((n_lists, n_classes), dtype=np.int64), np.empty((n_lists, n_classes), dtype=np.int64),
    )
    stream = new_state(sweep_seed)
    fixed = (stream, patterns, counts, n_observed, upper_unobserved, a_alpha, b_alpha)
    nothing = (np.empty(0, dtype=np.int64), np.empty(0), np.empty(0, dtype=np.int64), np.empty(0))
    _sweeps(*fixed, warmup, 0, 1, *chain, *nothing)
    order = np.argsort(-log_nu, kind="stable")
    for by_class in (log_lam1, log_lam0, count_z, log_prob):
        by_class[:] = by_class[:, order]
    log_nu[:] = log_nu[order]
    count0[:] = count0[order]
    out = (np.empty(draws, dtype=np.int64), np.empty(draws), np.empty(draws, dtype=np.int64), np.empty(draws))
    _sweeps(*fixed, burn, draws, thin, *chain, *out)
    return out


@njit(cache=True, nogil=True)
def _sweeps(
    state, patterns, counts, n_observed, upper_unobserved, a_alpha, b_alpha, skip, draws, thin,
    log_lam1, log_lam0, log_nu, alpha_box, n0_box, count_z, count0, log_prob, weights, ones, zeros,
    n_draws, alpha_draws, occupied_draws, p0_draws,
):
    """``skip + draws * thin`` Gibbs sweeps in LCMCR's order, keeping every ``thin``-th after the first ``skip``.

    A sweep draws the classes of the listed, lambda, nu, N, the classes of the unlisted, then alpha. The state
    arrays are updated in place (alpha and the unlisted count live in length-1 arrays); ``log_prob`` must hold
    the class log probabilities of each pattern under the current parameters.
    """
    n_cells, n_lists = patterns.shape
    n_classes = log_nu.shape[0]
    for sweep in range(skip + draws * thin):
        # Class memberships of the listed people, cell by cell: people with the same pattern are exchangeable,
        # so only the multinomial split of each cell's count across classes matters.
        for m in range(n_cells):
            top = log_prob[m, 0]
            for k in range(1, n_classes):
                top = max(top, log_prob[m, k])
            for k in range(n_classes):
                weights[k] = math.exp(log_prob[m, k] - top)
            multinomial_draw(state, counts[m], weights, count_z[m])

        # People on and off each list by class, among the listed.
        ones[:, :] = 0
        zeros[:, :] = 0
        for m in range(n_cells):
            for k in range(n_classes):
                c = count_z[m, k]
                if c == 0:
                    continue
                for j in range(n_lists):
                    if patterns[m, j]:
                        ones[j, k] += c
                    else:
                        zeros[j, k] += c

        # Inclusion probabilities: Beta(1 + on list, 1 + not on list) within each class, the unlisted included.
        for j in range(n_lists):
            for k in range(n_classes):
                log_lam1[j, k], log_lam0[j, k] = log_beta_draw(state, 1.0 + ones[j, k], 1.0 + zeros[j, k] + count0[k])

        # Stick-breaking weights: V_k ~ Beta(1 + n_k, alpha + number in later classes).
        total = n_observed + n0_box[0]
        cumulative = 0
        log_rest = 0.0
        occupied = 0
        for k in range(n_classes):
            n_k = count0[k]
            for m in range(n_cells):
                n_k += count_z[m, k]
            occupied += n_k > 0
            if k == n_classes - 1:
                break
            cumulative += n_k
            log_v, log_one_minus_v = log_beta_draw(state, 1.0 + n_k, alpha_box[0] + (total - cumulative))
            log_nu[k] = log_v + log_rest
            log_rest += log_one_minus_v
        log_nu[n_classes - 1] = log_rest

        # N: with p(N) proportional to 1/N, the number never listed is negative binomial given the chance p0 of
        # being on no list (LCMCR truncates it at ``upper_unobserved``). Row n_cells of log_prob is the unlisted.
        p0 = 0.0
        for k in range(n_classes):
            for m in range(n_cells + 1):
                value = log_nu[k]
                for j in range(n_lists):
                    value += log_lam1[j, k] if m < n_cells and patterns[m, j] else log_lam0[j, k]
                log_prob[m, k] = value
            p0 += math.exp(log_prob[n_cells, k])
        p0 = min(p0, 1.0 - 1e-15)
        n0 = truncated_negative_binomial_draw(state, n_observed, 1.0 - p0, upper_unobserved)
        n0_box[0] = n0
        top = log_prob[n_cells, 0]
        for k in range(1, n_classes):
            top = max(top, log_prob[n_cells, k])
        for k in range(n_classes):
            weights[k] = math.exp(log_prob[n_cells, k] - top)
        multinomial_draw(state, n0, weights, count0)

        # Concentration: Gamma(a + K - 1, rate b - log(prod of (1 - V_k))), the log product being log nu_K.
        alpha_box[0] = math.exp(log_gamma(state, a_alpha + n_classes - 1.0)) / (b_alpha - log_nu[n_classes - 1])

        if sweep >= skip and (sweep - skip + 1) % thin == 0:
            d = (sweep - skip) // thin
            n_draws[d] = n_observed + n0
            alpha_draws[d] = alpha_box[0]
            occupied_draws[d] = occupied
            p0_draws[d] = p0
