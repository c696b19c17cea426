"""Scalar random draws for numba kernels, from a xoshiro256** state held in a length-4 uint64 array.

numba compiles ``numpy.random.Generator`` methods from their full implementations, seconds of compilation paid by
every fresh process without numba's on-disk cache (figures in benchmarks/NOTES.md, section latent_class). These few
exact algorithms compile in a fraction of that, and a chain's stream is still seeded from a
``numpy.random.SeedSequence``, so results depend only on the seed.

- uniform: xoshiro256** (Blackman & Vigna 2021), 53-bit doubles in [0, 1);
- standard normal: Marsaglia's polar method;
- gamma: Marsaglia & Tsang (2000), with G(a) = G(a + 1) U**(1/a) for a < 1 (kept on the log scale);
- beta with both shapes above 1: Cheng's (1978) algorithm BB;
- Poisson: multiplication of uniforms below mean 10, else the transformed rejection PTRS of Hormann (1993);
- binomial: inversion below mean 10, else the transformed rejection BTRS of Hormann (1993b);
- negative binomial: the gamma-Poisson mixture.

References
----------
Blackman, D. & Vigna, S. (2021). Scrambled linear pseudorandom number generators. *ACM Transactions on Mathematical
Software* 47(4):36. Marsaglia, G. & Tsang, W. W. (2000). A simple method for generating gamma variables. *ACM TOMS*
26(3):363-372. Hormann, W. (1993). The transformed rejection method for generating Poisson random variables.
*Insurance: Mathematics and Economics* 12(1):39-45. Hormann, W. (1993b). The generation of binomial random variates.
*Journal of Statistical Computation and Simulation* 46(1-2):101-110. Cheng, R. C. H. (1978). Generating beta variates
with nonintegral shape parameters. *Communications of the ACM* 21(4):317-322.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, uint64

from .._jit import HELPER

_TWO_TO_MINUS_53 = 1.0 / 9007199254740992.0


def new_state(seed_sequence: np.random.SeedSequence) -> np.ndarray:
    """A xoshiro256** state from a SeedSequence (never all zero, the generator's one fixed point)."""
    state = seed_sequence.generate_state(4, dtype=np.uint64)
    if not state.any():
        state[0] = 1
    return state


@njit(**HELPER)
def uniform(state):
    """A double in [0, 1) from the top 53 bits of the next xoshiro256** output."""
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    # the two rotations written out: a rotation function was compiled once for each literal shift
    five = s1 * uint64(5)
    result = ((five << uint64(7)) | (five >> uint64(57))) * uint64(9)
    t = s1 << uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = (s3 << uint64(45)) | (s3 >> uint64(19))
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3
    return float(result >> uint64(11)) * _TWO_TO_MINUS_53


@njit(**HELPER)
def positive_uniform(state):
    """A double in (0, 1)."""
    u = uniform(state)
    while u == 0.0:
        u = uniform(state)
    return u


@njit(**HELPER)
def normal(state):
    """Standard normal by Marsaglia's polar method (one of the pair is used)."""
    while True:
        x = 2.0 * uniform(state) - 1.0
        y = 2.0 * uniform(state) - 1.0
        r2 = x * x + y * y
        if 0.0 < r2 < 1.0:
            return x * math.sqrt(-2.0 * math.log(r2) / r2)


@njit(**HELPER)
def log_gamma(state, shape):
    """log of a Gamma(shape, 1) draw; exact for tiny shapes, where the draw itself underflows to 0."""
    boost = 0.0
    if shape < 1.0:
        boost = math.log(positive_uniform(state)) / shape
        shape += 1.0
    d = shape - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        x = normal(state)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u = positive_uniform(state)
        x2 = x * x
        if u < 1.0 - 0.0331 * x2 * x2 or math.log(u) < 0.5 * x2 + d * (1.0 - v + math.log(v)):
            return math.log(d * v) + boost


@njit(**HELPER)
def log_beta_cheng(state, a, b):
    """(log X, log(1 - X)) for X ~ Beta(a, b) with a, b > 1, by Cheng's (1978) algorithm BB.

    Two uniforms per try and a squeeze that accepts most tries without a logarithm; about half the cost of two
    gamma draws. Both logs come from X = w / (b + w), so neither loses accuracy when X is near 0 or 1.
    """
    # BB runs with the smaller shape first (as Cheng's paper and R's rbeta do); the swap is undone at the end.
    swapped = a > b
    if swapped:
        a, b = b, a
    total = a + b
    scale = math.sqrt((total - 2.0) / (2.0 * a * b - total))
    shift = a + 1.0 / scale
    while True:
        u1 = positive_uniform(state)
        u2 = positive_uniform(state)
        v = scale * math.log(u1 / (1.0 - u1))
        w = a * math.exp(v)
        z = u1 * u1 * u2
        r = shift * v - 1.3862943611198906  # log 4
        s = a + r - w
        if s + 2.6094379124341003 >= 5.0 * z:  # 1 + log 5
            break
        t = math.log(z)
        if s > t or r + total * math.log(total / (b + w)) >= t:
            break
    log_rest = math.log(b + w)
    if swapped:
        return math.log(b) - log_rest, math.log(w) - log_rest
    return math.log(w) - log_rest, math.log(b) - log_rest


@njit(**HELPER)
def _hat_point(state):
    """(u, v, us) of one try of Hormann's transformed rejection (PTRS, BTRS): u on (-0.5, 0.5), v on [0, 1),
    us = 0.5 - |u| > 0. A uniform of exactly 0 (u = -0.5) is drawn again: the hat is unbounded there, and 2a / us
    would be infinite (its floor then has no integer value)."""
    while True:
        u = uniform(state) - 0.5
        v = uniform(state)
        us = 0.5 - abs(u)
        if us > 0.0:
            return u, v, us


@njit(**HELPER)
def poisson(state, mean):
    """Poisson(mean): product of uniforms below mean 10, PTRS above."""
    if mean <= 0.0:
        return 0
    if mean < 10.0:
        limit = math.exp(-mean)
        count = 0
        product = uniform(state)
        while product > limit:
            count += 1
            product *= uniform(state)
        return count
    root = math.sqrt(mean)
    log_mean = math.log(mean)
    b = 0.931 + 2.53 * root
    a = -0.059 + 0.02483 * b
    inverse_alpha = 1.1239 + 1.1328 / (b - 3.4)
    v_r = 0.9277 - 3.6224 / (b - 2.0)
    while True:
        u, v, us = _hat_point(state)
        k = math.floor((2.0 * a / us + b) * u + mean + 0.43)
        if us >= 0.07 and v <= v_r:
            return k
        if k < 0 or (us < 0.013 and v > us):
            continue
        if math.log(v) + math.log(inverse_alpha) - math.log(a / (us * us) + b) <= (
            -mean + k * log_mean - math.lgamma(k + 1.0)
        ):
            return k


@njit(**HELPER)
def binomial(state, trials, p):
    """Binomial(trials, p): inversion from 0 when the mean is below 10, else BTRS (transformed rejection).

    Drawn for min(p, 1 - p). BTRS costs two uniforms and a comparison for about 86% of draws whatever the number
    of trials; the log-gamma terms of the exact acceptance test are computed only when that squeeze fails.
    """
    if trials <= 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return trials
    flip = p > 0.5
    if flip:
        p = 1.0 - p
    q = 1.0 - p
    if trials * p < 10.0:
        # Small mean: a few steps and no log-gamma.
        odds = p / q
        u = uniform(state)
        mass = math.exp(trials * math.log1p(-p))
        x = 0
        while u >= mass and x < trials:
            u -= mass
            mass *= (trials - x) / (x + 1.0) * odds
            x += 1
        return trials - x if flip else x
    spq = math.sqrt(trials * p * q)
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * p
    c = trials * p + 0.5
    v_r = 0.92 - 4.2 / b
    mode = math.floor((trials + 1) * p)
    log_mode_mass = math.nan  # log pmf at the mode, up to the constant shared by every k; computed when needed
    while True:
        u, v, us = _hat_point(state)
        k = math.floor((2.0 * a / us + b) * u + c)
        if k < 0 or k > trials:
            continue
        if us >= 0.07 and v <= v_r:
            break
        if v == 0.0:
            continue
        if math.isnan(log_mode_mass):
            log_mode_mass = math.lgamma(mode + 1.0) + math.lgamma(trials - mode + 1.0)
        alpha = (2.83 + 5.1 / b) * spq
        if math.log(v * alpha / (a / (us * us) + b)) <= (
            log_mode_mass - math.lgamma(k + 1.0) - math.lgamma(trials - k + 1.0) + (k - mode) * math.log(p / q)
        ):
            break
    x = k
    return trials - x if flip else x


@njit(**HELPER)
def negative_binomial(state, successes, p_success):
    """Failures before ``successes`` successes, each with probability ``p_success``."""
    scale = (1.0 - p_success) / p_success
    return poisson(state, math.exp(log_gamma(state, float(successes))) * scale)
