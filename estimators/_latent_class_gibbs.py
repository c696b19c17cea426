"""Numba kernels of the data-augmentation Gibbs sampler of Manrique-Vallier (2016).

One call of :func:`run_chain` runs one chain from start to finish with its own ``numpy.random.Generator``;
the kernels release the GIL, so chains can run side by side in threads with no process start-up and with
results that do not depend on which thread ran which chain. ``cache=True`` writes the compiled code to
numba's on-disk cache so a fresh Python process skips compilation.

Probabilities are kept on the log scale (log lambda, log(1 - lambda), log nu) because classes that hold almost
nobody get stick-breaking weights and inclusion probabilities that underflow in linear scale.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Rejection sampling of the truncated negative binomial gives up after this many tries and inverts the cdf
# instead (only reached when the truncation point is far in the tail of the untruncated draw).
_MAX_REJECTIONS = 64
# Below this many people left to place, multinomial_draw places them one by one.
_FEW = 8


@njit(cache=True, nogil=True)
def log_gamma_draw(rng, shape):
    """log of a Gamma(shape, 1) draw, exact for tiny shapes where the draw itself underflows to 0.

    For shape < 1, G(shape) = G(shape + 1) * U**(1/shape) (Robert & Casella 2004, p. 45 of the 1st ed.).
    """
    if shape < 1.0:
        u = rng.random()
        while u == 0.0:
            u = rng.random()
        return np.log(rng.standard_gamma(shape + 1.0)) + np.log(u) / shape
    return np.log(rng.standard_gamma(shape))


@njit(cache=True, nogil=True)
def log_beta_draw(rng, a, b):
    """(log X, log(1 - X)) for X ~ Beta(a, b), both accurate when X is within rounding of 0 or 1.

    Beta(1, b) and Beta(a, 1) are powers of a uniform (1 - X = U**(1/b), X = U**(1/a)): one uniform instead of
    two gamma draws, for every empty class and every list a class has nobody on.
    """
    if a == 1.0 or b == 1.0:
        u = rng.random()
        while u == 0.0:
            u = rng.random()
        if a == 1.0:
            log_rest = np.log(u) / b
            return np.log(-np.expm1(log_rest)), log_rest
        log_x = np.log(u) / a
        return log_x, np.log(-np.expm1(log_x))
    ga = log_gamma_draw(rng, a)
    gb = log_gamma_draw(rng, b)
    top = max(ga, gb)
    log_total = top + np.log(np.exp(ga - top) + np.exp(gb - top))
    return ga - log_total, gb - log_total


@njit(cache=True, nogil=True)
def multinomial_draw(rng, size, weights, out):
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
                u = rng.random() * mass
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
        x = rng.binomial(remaining, weights[k] / mass)
        out[k] = x
        remaining -= x
        mass -= weights[k]
    out[n_classes - 1] = remaining


@njit(cache=True, nogil=True)
def truncated_negative_binomial_draw(rng, successes, p_success, upper):
    """Failures before ``successes`` successes, conditioned on being <= ``upper``."""
    # Gamma-Poisson mixture, as numpy draws it (its own negative_binomial costs a second of compilation).
    scale = (1.0 - p_success) / p_success
    for _ in range(_MAX_REJECTIONS):
        x = rng.poisson(rng.standard_gamma(successes) * scale)
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
    u = rng.random() * total
    log_term = 0.0
    for x in range(upper + 1):
        if x > 0:
            log_term += np.log((successes + x - 1.0) / x) + log_q
        u -= np.exp(log_term - top)
        if u < 0.0:
            return x
    return upper


@njit(cache=True, nogil=True)
def _class_log_probability(patterns, log_lam1, log_lam0, log_nu, out):
    """out[m, k] = log nu_k + sum_j log P(pattern m's inclusion on list j | class k); row M is the unobserved cell."""
    n_cells, n_lists = patterns.shape
    n_classes = log_nu.shape[0]
    for k in range(n_classes):
        unobserved = log_nu[k]
        for j in range(n_lists):
            unobserved += log_lam0[j, k]
        out[n_cells, k] = unobserved
        for m in range(n_cells):
            value = log_nu[k]
            for j in range(n_lists):
                if patterns[m, j]:
                    value += log_lam1[j, k]
                else:
                    value += log_lam0[j, k]
            out[m, k] = value


@njit(cache=True, nogil=True)
def _sweep(
    rng, patterns, counts, n_observed, upper_unobserved, a_alpha, b_alpha,
    log_lam1, log_lam0, log_nu, alpha_box, n0_box, count_z, count0, log_prob, weights, ones, zeros,
):
    """One Gibbs sweep in LCMCR's order: classes of the listed, lambda, nu, N, classes of the unlisted, alpha.

    Updates the state arrays in place (scalars alpha and the unlisted count live in length-1 arrays) and
    returns p0, the probability of being on no list under the parameters used to draw N.
    """
    n_cells, n_lists = patterns.shape
    n_classes = log_nu.shape[0]

    # Class memberships of the listed people, cell by cell: people with the same pattern are exchangeable,
    # so only the multinomial split of each cell's count across classes matters. ``log_prob`` holds the
    # current parameters' class probabilities (computed at the end of the previous sweep).
    for m in range(n_cells):
        top = log_prob[m, 0]
        for k in range(1, n_classes):
            top = max(top, log_prob[m, k])
        for k in range(n_classes):
            weights[k] = np.exp(log_prob[m, k] - top)
        multinomial_draw(rng, counts[m], weights, count_z[m])

    # Inclusion probabilities: Beta(1 + on list, 1 + not on list) within each class, the unlisted included.
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
    for j in range(n_lists):
        for k in range(n_classes):
            a, b = log_beta_draw(rng, 1.0 + ones[j, k], 1.0 + zeros[j, k] + count0[k])
            log_lam1[j, k] = a
            log_lam0[j, k] = b

    # Stick-breaking weights: V_k ~ Beta(1 + n_k, alpha + number in later classes).
    total = n_observed + n0_box[0]
    cumulative = 0
    log_rest = 0.0
    for k in range(n_classes - 1):
        n_k = count0[k]
        for m in range(n_cells):
            n_k += count_z[m, k]
        cumulative += n_k
        log_v, log_one_minus_v = log_beta_draw(rng, 1.0 + n_k, alpha_box[0] + (total - cumulative))
        log_nu[k] = log_v + log_rest
        log_rest += log_one_minus_v
    log_nu[n_classes - 1] = log_rest

    # N: with p(N) proportional to 1/N, the number never listed is negative binomial given the chance p0 of
    # being on no list (LCMCR truncates it at ``upper_unobserved``).
    _class_log_probability(patterns, log_lam1, log_lam0, log_nu, log_prob)
    p0 = 0.0
    for k in range(n_classes):
        p0 += np.exp(log_prob[n_cells, k])
    p0 = min(p0, 1.0 - 1e-15)
    n0 = truncated_negative_binomial_draw(rng, n_observed, 1.0 - p0, upper_unobserved)
    n0_box[0] = n0
    if n0 == 0:
        count0[:] = 0
    else:
        top = log_prob[n_cells, 0]
        for k in range(1, n_classes):
            top = max(top, log_prob[n_cells, k])
        for k in range(n_classes):
            weights[k] = np.exp(log_prob[n_cells, k] - top)
        multinomial_draw(rng, n0, weights, count0)

    # Concentration: Gamma(a + K - 1, rate b - log(prod of (1 - V_k))), the log product being log nu_K.
    alpha_box[0] = rng.standard_gamma(a_alpha + n_classes - 1.0) / (b_alpha - log_nu[n_classes - 1])
    return p0


@njit(cache=True, nogil=True)
def _reorder_by_weight(log_lam1, log_lam0, log_nu, count_z, count0):
    """Relabel classes by decreasing weight (used once, after the warm-up, as LCMCR does).

    Selection sort by swaps: K is small, and it compiles far faster than argsort with fancy indexing.
    """
    n_classes = log_nu.shape[0]
    for target in range(n_classes - 1):
        best = target
        for k in range(target + 1, n_classes):
            if log_nu[k] > log_nu[best]:
                best = k
        if best == target:
            continue
        log_nu[target], log_nu[best] = log_nu[best], log_nu[target]
        count0[target], count0[best] = count0[best], count0[target]
        for j in range(log_lam1.shape[0]):
            log_lam1[j, target], log_lam1[j, best] = log_lam1[j, best], log_lam1[j, target]
            log_lam0[j, target], log_lam0[j, best] = log_lam0[j, best], log_lam0[j, target]
        for m in range(count_z.shape[0]):
            count_z[m, target], count_z[m, best] = count_z[m, best], count_z[m, target]


def run_chain(rng, patterns, counts, n_classes, a_alpha, b_alpha, upper_unobserved, warmup, burn, draws, thin):
    """Run one chain; return draws of N, of alpha, of the number of occupied classes and of p0.

    The start is drawn from the priors: lambda ~ Beta(1, 1) for every list and class, stick-breaking weights with
    alpha = 1. LCMCR instead starts every class at the lists' marginal rates with alpha held at 0.3 / K for its
    warm-up; on the 5-list UK table that start leaves most chains for tens of thousands of sweeps in a
    low-probability state with few classes (N near 12,000 against a posterior centred near 22,000), while
    starts dispersed over the prior reach the bulk quickly, and chains that start apart are what R-hat needs.
    After ``warmup`` sweeps the classes are relabelled by decreasing weight (as LCMCR does), which suits the
    stick-breaking order; then ``burn`` sweeps are discarded and every ``thin``-th of ``draws`` x ``thin``
    sweeps is kept. Arrays are allocated here, in numpy, because numba's array constructors add seconds to the
    first compilation.
    """
    patterns = np.ascontiguousarray(patterns, dtype=np.int64)
    counts = np.ascontiguousarray(counts, dtype=np.int64)
    n_cells, n_lists = patterns.shape
    n_observed = int(counts.sum())
    inclusion = rng.uniform(size=(n_lists, n_classes))
    log_lam1 = np.log(inclusion)
    log_lam0 = np.log1p(-inclusion)
    sticks = rng.beta(1.0, 1.0, size=n_classes - 1)
    log_nu = np.append(np.log(sticks), 0.0) + np.concatenate([[0.0], np.cumsum(np.log1p(-sticks))])
    state = (
        log_lam1,
        log_lam0,
        log_nu,
        np.ones(1),  # alpha
        np.zeros(1, dtype=np.int64),  # unlisted count
        np.zeros((n_cells, n_classes), dtype=np.int64),  # class counts of each observed pattern
        np.zeros(n_classes, dtype=np.int64),  # class counts of the unlisted
        np.empty((n_cells + 1, n_classes)),  # log class probabilities of each pattern, unlisted last
        np.empty(n_classes),
        np.zeros((n_lists, n_classes), dtype=np.int64),
        np.zeros((n_lists, n_classes), dtype=np.int64),
    )
    out = (
        np.empty(draws, dtype=np.int64),
        np.empty(draws),
        np.empty(draws, dtype=np.int64),
        np.empty(draws),
    )
    _run(
        rng, patterns, counts, n_observed, n_classes, a_alpha, b_alpha, upper_unobserved, warmup, burn, draws, thin,
        *state, *out,
    )
    return out


@njit(cache=True, nogil=True)
def _run(
    rng, patterns, counts, n_observed, n_classes, a_alpha, b_alpha, upper_unobserved, warmup, burn, draws, thin,
    log_lam1, log_lam0, log_nu, alpha_box, n0_box, count_z, count0, log_prob, weights, ones, zeros,
    n_draws, alpha_draws, occupied_draws, p0_draws,
):
    n_cells = patterns.shape[0]
    _class_log_probability(patterns, log_lam1, log_lam0, log_nu, log_prob)
    # One loop and one call site of ``_sweep``: numba compiles a separate copy per call site's argument types,
    # and compilation, not sampling, is what a first call spends its time on.
    first_kept = warmup + burn
    total = first_kept + draws * thin
    for it in range(total):
        if it == warmup:
            _reorder_by_weight(log_lam1, log_lam0, log_nu, count_z, count0)
            _class_log_probability(patterns, log_lam1, log_lam0, log_nu, log_prob)
        p0 = _sweep(
            rng, patterns, counts, n_observed, upper_unobserved, a_alpha, b_alpha,
            log_lam1, log_lam0, log_nu, alpha_box, n0_box, count_z, count0, log_prob, weights, ones, zeros,
        )
        if it < first_kept or (it - first_kept + 1) % thin != 0:
            continue
        d = (it - first_kept) // thin
        n_draws[d] = n_observed + n0_box[0]
        alpha_draws[d] = alpha_box[0]
        occupied = 0
        for k in range(n_classes):
            n_k = count0[k]
            for m in range(n_cells):
                n_k += count_z[m, k]
            if n_k > 0:
                occupied += 1
        occupied_draws[d] = occupied
        p0_draws[d] = p0
