"""Numba kernels of the data-augmentation Gibbs sampler of Manrique-Vallier (2016), with optional overrelaxed
updates of the near-normal beta conditionals (Adler 1981; Neal 1998).

References: Adler, S. L. (1981). Over-relaxation method for the Monte Carlo evaluation of the partition function
for multiquadratic actions. *Physical Review D* 23(12):2901-2904. Neal, R. M. (1998). Suppressing random walks in
Markov chain Monte Carlo using ordered overrelaxation. In *Learning in Graphical Models*, 205-228.

A chain is started by :func:`start_chain` and run on by :func:`continue_chain` (as often as the run is extended),
with its own random stream (a xoshiro256** state seeded from a ``numpy.random.SeedSequence``; the draws are those
of ``_random``, which compile in a fraction of the time numba needs for ``numpy.random.Generator`` methods). The
kernels release the GIL, so chains can run side by side in threads with no process start-up and with results that
do not depend on which thread ran which chain.

``cache=True`` writes the compiled code to numba's on-disk cache so a later process skips compilation. numba
checks only the file that defines a cached function: after editing ``_random.py`` in a source checkout, delete
``estimators/_latent_class/__pycache__/*.nbi`` and ``*.nbc``, or the sweep keeps the old draws (an install or
upgrade rewrites every file, so users are not affected).

A fresh process spends more time compiling than sampling (numba's typing and LLVM), so the kernels are written
for compilation time as well as speed: the sweep is one loop (:func:`_sweeps`) that allocates nothing; each helper
is compiled once, without Python wrappers (``estimators._jit.HELPER``), and left to LLVM to inline (numba's own
``inline="always"`` copies and re-types the helper's code in its caller, which compiled no faster); scalar maths
uses ``math`` (typed directly; numpy's scalar functions go through its ufunc typing for the same LLVM code); and
comparisons stand in for ``max`` and ``min``, which numba compiles as separate functions. Cold compilation and its
share of a fit: ``benchmarks/results/latent_class_cold.md``.

The kernels use numpy's error model (division by zero gives inf or nan rather than raising): numba then drops
the zero check it puts before every division; no division in them has a zero denominator.

Probabilities are kept on the log scale (log lambda, log(1 - lambda), log nu) because classes that hold almost
nobody get stick-breaking weights and inclusion probabilities that underflow in linear scale.

Measurements behind these choices are in ``benchmarks/NOTES.md`` (section latent_class).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .._jit import HELPER
from ._random import (
    binomial, log_beta_cheng, log_gamma, negative_binomial, new_state, normal, positive_uniform, uniform,
)

# Rejection sampling of the truncated negative binomial gives up after this many tries and inverts the cdf
# instead (only reached when the truncation point is far in the tail of the untruncated draw).
_MAX_REJECTIONS = 64
# Below this many people left to place, multinomial_draw places them one by one.
_FEW = 8
# Overrelaxed updates are used for Beta(a, b) conditionals with both shapes at least this large (near-normal, so
# the Metropolis correction of the normal move accepts almost always); smaller ones are drawn exactly.
_OVERRELAX_MIN_SHAPE = 5.0
# Every this-many-th sweep draws every beta exactly: a value left many sds from its conditional mean (the classes
# changed under it) is mirrored outside (0, 1) or deep into the other tail, rejected every time, and would stay
# there (a chain can then stick at N near n).
_EXACT_EVERY = 10
# Floor on log(1 - lambda) in the class probabilities of the patterns, against -inf only: far below what a Beta
# draw of these conditionals gives, and small enough in magnitude that adding it keeps the other terms' digits.
_LOG_FLOOR = -1.0e4


@njit(**HELPER)
def log_beta_draw(state, a, b):
    """(log X, log(1 - X)) for X ~ Beta(a, b), both accurate when X is within rounding of 0 or 1.

    Beta(1, b) and Beta(a, 1) are powers of a uniform (1 - X = U**(1/b), X = U**(1/a)): one uniform instead of
    two gamma draws, for every empty class and every list a class has nobody on. Both shapes above 1 (every
    occupied class): Cheng's BB. Otherwise (a stick's alpha + 0 below 1) the ratio of two gamma draws.
    """
    if a == 1.0 or b == 1.0:
        u = positive_uniform(state)
        if a == 1.0:
            log_rest = math.log(u) / b
            return math.log(-math.expm1(log_rest)), log_rest
        log_x = math.log(u) / a
        return log_x, math.log(-math.expm1(log_x))
    if a > 1.0 and b > 1.0:
        return log_beta_cheng(state, a, b)
    ga = log_gamma(state, a)
    gb = log_gamma(state, b)
    top = gb if gb > ga else ga
    log_total = top + math.log(math.exp(ga - top) + math.exp(gb - top))
    return ga - log_total, gb - log_total


@njit(**HELPER)
def multinomial_draw(state, size, weights, out):
    """Multinomial(size, weights / sum(weights)) into ``out``.

    Sequential conditional binomials while many remain to place; once few remain, one categorical draw each
    over the classes left (a uniform and a short scan cost less than a binomial draw per class).
    """
    for k in range(out.shape[0]):
        out[k] = 0
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


@njit(**HELPER)
def truncated_negative_binomial_draw(state, successes, p_success, upper):
    """Failures before ``successes`` successes, conditioned on being <= ``upper``."""
    for _ in range(_MAX_REJECTIONS):
        x = negative_binomial(state, successes, p_success)
        if x <= upper:
            return x
    # The bulk lies beyond ``upper``: invert the cdf of the truncated law, walking the pmf by the ratio of
    # successive terms (exact whatever the mass beyond ``upper``; scalars only, so nothing to allocate).
    log_q = math.log1p(-p_success)
    log_term = 0.0
    top = 0.0
    for x in range(1, upper + 1):
        log_term += math.log((successes + x - 1.0) / x) + log_q
        if log_term > top:
            top = log_term
    total = 0.0
    log_term = 0.0
    for x in range(upper + 1):
        if x > 0:
            log_term += math.log((successes + x - 1.0) / x) + log_q
        total += math.exp(log_term - top)
    u = uniform(state) * total
    log_term = 0.0
    for x in range(upper + 1):
        if x > 0:
            log_term += math.log((successes + x - 1.0) / x) + log_q
        u -= math.exp(log_term - top)
        if u < 0.0:
            return x
    return upper


@njit(**HELPER)
def overrelaxed_beta(state, a, b, log_x, log_rest, coefficient):
    """Overrelaxed Metropolis update of X ~ Beta(a, b) from its current value; returns (log X, log(1 - X)).

    Adler's (1981) overrelaxation for the normal with the beta's mean m and sd s proposes
    X' = m + coefficient (X - m) + s sqrt(1 - coefficient^2) Z: with a coefficient near -1, X' lands near the
    mirror image of X about m, so successive values of a parameter whose conditional drifts slowly along a ridge
    keep moving the same way instead of diffusing (Neal 1998). The proposal is reversible with respect to that
    normal, so accepting with probability min(1, beta(X') normal(X) / (beta(X) normal(X'))) leaves Beta(a, b)
    exactly invariant; with both shapes >= 5 the normal is close and nearly every proposal is accepted.
    """
    total = a + b
    mean = a / total
    sd = math.sqrt(a * b / (total * total * (total + 1.0)))
    x = math.exp(log_x)
    proposal = mean + coefficient * (x - mean) + sd * math.sqrt(1.0 - coefficient * coefficient) * normal(state)
    if not 0.0 < proposal < 1.0:
        return log_x, log_rest
    log_proposal = math.log(proposal)
    log_rest_proposal = math.log1p(-proposal)
    z_proposal = (proposal - mean) / sd
    z_current = (x - mean) / sd
    log_ratio = ((a - 1.0) * (log_proposal - log_x) + (b - 1.0) * (log_rest_proposal - log_rest)
                 + 0.5 * (z_proposal * z_proposal - z_current * z_current))
    if math.log(positive_uniform(state)) < log_ratio:
        return log_proposal, log_rest_proposal
    return log_x, log_rest


class Chain:
    """One chain's state between calls of :func:`continue_chain`: its random stream, data and parameters.

    A run is extended by continuing its chains from where they stopped (same streams, no restart), so an
    extended run is one longer chain per seed, whatever the number of extensions.
    """

    def __init__(self, fixed, arrays):
        self.fixed = fixed
        self.arrays = arrays


def start_chain(
    seed_sequence, patterns, counts, n_classes, a_alpha, b_alpha, upper_unobserved, warmup, overrelaxation=0.0,
):
    """A :class:`Chain` from its ``numpy.random.SeedSequence``, after ``warmup`` sweeps and the relabelling.

    The start is drawn from the priors: lambda ~ Beta(1, 1) for every list and class, stick-breaking weights with
    alpha = 1. (LCMCR instead starts every class at the lists' marginal rates; on sparse tables that start more
    often leaves chains in a low-probability state with few classes, and chains that start apart are what R-hat
    needs: see benchmarks/NOTES.md.) After ``warmup`` sweeps the classes are relabelled by decreasing weight (as
    LCMCR does), which suits the stick-breaking order. ``overrelaxation`` (in (-1, 0]; 0 is the plain Gibbs
    sampler) is the coefficient of the overrelaxed beta updates (:func:`overrelaxed_beta`).

    Compilation, not sampling, is what a fresh process spends most of its time on, and numba's cost grows with
    the amount of code compiled: so the sweep is one compiled loop (:func:`_sweeps`) with one call site per
    kind of draw, arrays are allocated here, and the one-off relabelling is done here between two calls of it.
    """
    patterns = np.ascontiguousarray(patterns, dtype=np.int64)
    counts = np.ascontiguousarray(counts, dtype=np.int64)
    n_cells, n_lists = patterns.shape
    # The lists each pattern is on, as one flat index (CSR): with many lists most people are on one or two, so
    # a pattern's class probabilities cost a term per list it is on instead of one per list.
    on_start = np.zeros(n_cells + 2, dtype=np.int64)  # the unlisted row (n_cells) is on no list
    on_start[1 : n_cells + 1] = np.cumsum(patterns.sum(axis=1))
    on_start[n_cells + 1] = on_start[n_cells]
    on_index = np.ascontiguousarray(np.nonzero(patterns)[1], dtype=np.int64)
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
    arrays = (
        log_lam1, log_lam0, log_nu,
        np.ones(1),  # alpha
        np.zeros((n_cells + 1, n_classes), dtype=np.int64),  # class counts by pattern, the unlisted last
        np.empty((n_cells + 1, n_classes)),  # log class probabilities of each pattern, the unlisted last
        np.empty(n_classes),
        np.empty((n_lists, n_classes), dtype=np.int64),
        np.empty((n_lists, n_classes)),
        np.empty(n_classes + 1),  # log of the stick left before each class
        np.empty(n_classes, dtype=np.int64),  # class sizes
    )
    # Python scalars of fixed types, so that _sweeps is compiled for one signature whatever the caller passes.
    fixed = (new_state(sweep_seed), on_start, on_index, counts, int(counts.sum()), int(upper_unobserved),
             float(a_alpha), float(b_alpha), float(overrelaxation))
    chain = Chain(fixed, arrays)
    continue_chain(chain, warmup, 0, 1)
    order = np.argsort(-log_nu, kind="stable")
    for by_class in (log_lam1, log_lam0):
        by_class[:] = by_class[:, order]
    log_nu[:] = log_nu[order]
    return chain


def continue_chain(chain, skip, draws, thin):
    """Run ``chain`` on by ``skip + draws * thin`` sweeps; return draws of N, alpha, occupied classes and p0.

    The first ``skip`` sweeps are discarded, then every ``thin``-th sweep is kept.
    """
    out = (np.empty(draws, dtype=np.int64), np.empty(draws), np.empty(draws, dtype=np.int64), np.empty(draws))
    _sweeps(*chain.fixed, skip, draws, thin, *chain.arrays, *out)
    return out


def run_chain(
    seed_sequence, patterns, counts, n_classes, a_alpha, b_alpha, upper_unobserved, warmup, burn, draws, thin,
    overrelaxation=0.0,
):
    """:func:`start_chain`, then ``burn`` sweeps discarded and ``draws`` kept every ``thin``-th sweep."""
    chain = start_chain(
        seed_sequence, patterns, counts, n_classes, a_alpha, b_alpha, upper_unobserved, warmup, overrelaxation
    )
    return continue_chain(chain, burn, draws, thin)


@njit(cache=True, nogil=True, error_model="numpy")
def _sweeps(
    state, on_start, on_index, counts, n_observed, upper_unobserved, a_alpha, b_alpha, overrelaxation,
    skip, draws, thin,
    log_lam1, log_lam0, log_nu, alpha_box, count_z, log_prob, weights, ones, gain, log_stick_left, class_size,
    n_draws, alpha_draws, occupied_draws, p0_draws,
):
    """``skip + draws * thin`` Gibbs sweeps, keeping every ``thin``-th after the first ``skip``.

    A sweep is three blocks. Given lambda and nu: the number unlisted (negative binomial, with everyone's class
    summed out), then the classes of everyone given it. Given the classes: lambda and the stick-breaking
    weights. Then alpha. LCMCR draws the same full conditionals in another order (the listed's classes first).
    With ``overrelaxation`` non-zero, every lambda and stick whose Beta conditional has both shapes >= 5 gets the
    overrelaxed update of :func:`overrelaxed_beta` instead of a fresh draw, except on every ``_EXACT_EVERY``-th
    sweep. The parameter arrays are updated in place (alpha lives in a length-1 array). Pattern m is on the
    lists ``on_index[on_start[m]:on_start[m + 1]]``; row ``n_cells`` (the unlisted) is on none.
    """
    n_cells = counts.shape[0]
    n_lists, n_classes = log_lam1.shape
    n_inclusion = n_lists * n_classes
    for sweep in range(skip + draws * thin):
        # Log probability of each pattern and class, the unlisted (on no list) as row n_cells; p0 = P(unlisted).
        # log P(pattern, class k) = [log nu_k + sum_j log(1 - lambda_jk)] + sum over the lists it is on of
        # log(lambda_jk / (1 - lambda_jk)): the bracket is the unlisted row.
        p0 = 0.0
        for k in range(n_classes):
            value = log_nu[k]
            for j in range(n_lists):
                # the floor only keeps a log(1 - lambda) of -inf from making inf - inf; no draw comes near it
                off = log_lam0[j, k]
                if off < _LOG_FLOOR:
                    off = _LOG_FLOOR
                value += off
                gain[j, k] = log_lam1[j, k] - off
            log_prob[n_cells, k] = value
            p0 += math.exp(value)
        for m in range(n_cells):
            for k in range(n_classes):
                value = log_prob[n_cells, k]
                for t in range(on_start[m], on_start[m + 1]):
                    value += gain[on_index[t], k]
                log_prob[m, k] = value
        if p0 > 1.0 - 1e-15:
            p0 = 1.0 - 1e-15
        # N: with p(N) proportional to 1/N, the number never listed is negative binomial given p0 (LCMCR truncates
        # it at ``upper_unobserved``).
        n0 = truncated_negative_binomial_draw(state, n_observed, 1.0 - p0, upper_unobserved)

        # Classes, cell by cell: people with the same pattern are exchangeable, so only the multinomial split of
        # each cell's count across classes matters.
        for m in range(n_cells + 1):
            top = log_prob[m, 0]
            for k in range(1, n_classes):
                if log_prob[m, k] > top:
                    top = log_prob[m, k]
            for k in range(n_classes):
                weights[k] = math.exp(log_prob[m, k] - top)
            multinomial_draw(state, counts[m] if m < n_cells else n0, weights, count_z[m])

        # Given the classes: lambda_jk ~ Beta(1 + on list j, 1 + off it) within class k, then the sticks
        # V_k ~ Beta(1 + n_k, alpha + number in later classes); one loop, so one compiled copy of the Beta draw.
        for k in range(n_classes):
            class_size[k] = 0
            for j in range(n_lists):
                ones[j, k] = 0
        for m in range(n_cells + 1):
            for k in range(n_classes):
                c = count_z[m, k]
                if c == 0:
                    continue
                class_size[k] += c
                for t in range(on_start[m], on_start[m + 1]):
                    ones[on_index[t], k] += c
        later = n_observed + n0
        overrelax = overrelaxation != 0.0 and sweep % _EXACT_EVERY != 0
        if overrelax:
            # log of the stick left before class k under the current weights, for the sticks' current values
            log_stick_left[n_classes] = -math.inf
            log_stick_left[n_classes - 1] = log_nu[n_classes - 1]
            for k in range(n_classes - 2, -1, -1):
                top = log_nu[k] if log_nu[k] > log_stick_left[k + 1] else log_stick_left[k + 1]
                log_stick_left[k] = top + math.log(
                    math.exp(log_stick_left[k + 1] - top) + math.exp(log_nu[k] - top))
        log_rest = 0.0
        occupied = 0
        for i in range(n_inclusion + n_classes - 1):
            if i < n_inclusion:
                j, k = i // n_classes, i % n_classes
                a, b = 1.0 + ones[j, k], 1.0 + (class_size[k] - ones[j, k])
            else:
                k = i - n_inclusion
                n_k = class_size[k]
                occupied += n_k > 0
                later -= n_k
                a, b = 1.0 + n_k, alpha_box[0] + later
            if overrelax and a >= _OVERRELAX_MIN_SHAPE and b >= _OVERRELAX_MIN_SHAPE:
                if i < n_inclusion:
                    current, current_rest = log_lam1[j, k], log_lam0[j, k]
                else:
                    current = log_nu[k] - log_stick_left[k]
                    current_rest = log_stick_left[k + 1] - log_stick_left[k]
                log_x, log_rest_x = overrelaxed_beta(state, a, b, current, current_rest, overrelaxation)
            else:
                log_x, log_rest_x = log_beta_draw(state, a, b)
            if i < n_inclusion:
                log_lam1[j, k], log_lam0[j, k] = log_x, log_rest_x
            else:
                log_nu[k] = log_x + log_rest
                log_rest += log_rest_x
        log_nu[n_classes - 1] = log_rest
        occupied += later > 0  # the last class holds everyone not in an earlier one

        # Concentration: Gamma(a + K - 1, rate b - log(prod of (1 - V_k))), the log product being log nu_K.
        alpha_box[0] = math.exp(log_gamma(state, a_alpha + n_classes - 1.0)) / (b_alpha - log_nu[n_classes - 1])

        if sweep >= skip and (sweep - skip + 1) % thin == 0:
            d = (sweep - skip) // thin
            n_draws[d] = n_observed + n0
            alpha_draws[d] = alpha_box[0]
            occupied_draws[d] = occupied
            p0_draws[d] = p0
