"""The log density of :func:`daily_rates`' model and its gradient, written out in Numba for nutpie.

:func:`~._model.build_model` states the model in PyMC; this module computes the same log density (up to a constant)
and its gradient by hand, so that no model is compiled per data shape: every data value, prior setting and shape is
one packed float64 array (:func:`._packing.pack`) that nutpie hands to the kernels as user data, and Numba caches the kernels
on disk once per installation. The tests check the two log densities and gradients against each other.

Unconstrained parameters, in order (each block only where the structure has it): ``level_z``, ``population_z``;
``capture_logit`` (k); log ``capture_rw_sigma_z`` (k) and ``capture_rw_z`` (capture steps - 1 x k, row-major);
``interaction_z`` (pairs); the simplex coordinates of ``capture_class_share`` (C - 1) and log
``capture_class_step_z`` (C - 1); the log-odds of ``tally_coverage`` (tallies); log ``rw_sigma_z`` and ``rw_z``;
``bias_z`` (surveys + household summaries); ``household_size_z``. These are PyMC's transforms of the same variables
(log for half-normal scales, log-odds for Beta coverages, PyMC's ``simplex`` for the Dirichlet shares), Jacobians
included.
"""

from __future__ import annotations

import functools
import threading

import numba
import numpy as np

from .._jit import HELPER, cached, compile_elsewhere, wait_for_line
from .._nutpie import EXPAND_SIGNATURE, LOGP_SIGNATURE, call_expand, call_logp, logp_status

# Scalars of the header. SIZE is the packed length; the X_* fields are where each parameter block starts in x.
(SIZE, N_DIM, DAYS, K, BINS, BIN_DAYS, CLASSES, TVC, HAS_WALK, CENTER_DAYS, WALK_VALUES, N_Z, TALLIES, PERIODS,
 SURVEYS, EVENTS, HOUSEHOLDS, WINDOWS, GROUPS, ANCHOR, PAIRS,
 LEVEL_MU, LEVEL_SD, RW_SCALE, POP_MU, POP_SD, DEPENDENCE, CAPTURE_RW, CLASS_SCALE, CLASS_SHARE, TALLY_A, TALLY_B,
 BIAS_SCALE, BIAS_LOG_MEDIAN,
 X_LEVEL, X_POP, X_ALPHA, X_TAU, X_EPS, X_GAMMA, X_SHARE, X_STEP, X_COVERAGE, X_SIGMA, X_Z, X_BIAS, X_SIZE,
 N_EXPANDED, CAPTURE_DAYS, CAPTURE_ROWS, NORMAL_EFFECT) = range(51)
N_SCALARS = 51

# The arrays, in packing order; the header holds each one's offset after the scalars.
ARRAYS = ("X", "pair_i", "pair_j", "restrict", "n_captured", "day_group", "walk_left", "walk_right", "walk_frac",
          "list_cells", "coarse_cells", "coarse_first", "coarse_last", "tally_counts", "tally_matrix", "tally_index",
          "survey_deaths", "survey_person_days", "survey_alpha", "survey_matrix", "survey_day_counts",
          "survey_dated", "survey_recall_days", "event_first", "event_last", "event_counts", "event_survey",
          "household_n", "household_affected", "household_size_prior", "household_recall", "household_matrix",
          "class_nodes", "spans")
(A_X, A_PAIR_I, A_PAIR_J, A_RESTRICT, A_N_CAPTURED, A_DAY_GROUP, A_WALK_LEFT, A_WALK_RIGHT, A_WALK_FRAC,
 A_LIST_CELLS, A_COARSE_CELLS, A_COARSE_FIRST, A_COARSE_LAST, A_TALLY_COUNTS, A_TALLY_MATRIX, A_TALLY_INDEX,
 A_SURVEY_DEATHS, A_PERSON_DAYS, A_SURVEY_ALPHA, A_SURVEY_MATRIX, A_DAY_COUNTS, A_DATED, A_RECALL_DAYS,
 A_EVENT_FIRST, A_EVENT_LAST, A_EVENT_COUNTS, A_EVENT_SURVEY, A_HOUSEHOLD_N, A_AFFECTED, A_SIZE_PRIOR,
 A_HOUSEHOLD_RECALL, A_HOUSEHOLD_MATRIX, A_CLASS_NODES, A_SPANS) = range(N_SCALARS, N_SCALARS + len(ARRAYS))
HEADER = N_SCALARS + len(ARRAYS)

CAPTURE_LOGIT_SD = 1.5


@numba.njit(**HELPER)
def _rows(data):
    """Rows of capture probabilities: one per step of the capture walk with time-varying capture, else one."""
    return int(data[CAPTURE_ROWS]) if data[TVC] > 0 else 1


@numba.njit(**HELPER)
def _span(row, data):
    """The days ``first, stop`` outside which row ``row`` of the tally, survey and household matrices (stacked in
    that order) is zero: their loops over days skip the rest."""
    at = int(data[A_SPANS]) + 2 * row
    return int(data[at]), int(data[at + 1])


@numba.njit(**HELPER)
def _capture_logits(x, data):
    """(rows, k) capture log-odds (of the least visible class), the centred drift and each list's drift scale."""
    k, n_bins = int(data[K]), _rows(data)
    a0, ta, ea = int(data[X_ALPHA]), int(data[X_TAU]), int(data[X_EPS])
    alpha = np.empty((n_bins, k))
    drift = np.zeros((n_bins, k))
    tau = np.zeros(k)
    if data[TVC] > 0:
        for j in range(k):
            tau[j] = np.exp(x[ta + j]) * data[CAPTURE_RW]
            for t in range(1, n_bins):
                drift[t, j] = drift[t - 1, j] + x[ea + (t - 1) * k + j]
            mean = 0.0
            for t in range(n_bins):
                mean += drift[t, j]
            mean /= n_bins
            for t in range(n_bins):
                drift[t, j] -= mean
    for t in range(n_bins):
        for j in range(k):
            alpha[t, j] = x[a0 + j] + tau[j] * drift[t, j]
    return alpha, drift, tau


@numba.njit(**HELPER)
def _classes(x, data):
    """log shares and effects of the capture classes (one class: [0] and [0]) and the class steps; with a normal
    capture effect, the quadrature nodes' log weights, sd x nodes, and [sd]."""
    C = int(data[CLASSES])
    log_w = np.zeros(C)
    effect = np.zeros(C)
    normal = data[NORMAL_EFFECT] > 0
    steps = np.zeros(1 if normal else max(C - 1, 0))
    if normal:
        nodes = int(data[A_CLASS_NODES])
        steps[0] = np.exp(x[int(data[X_STEP])]) * data[CLASS_SCALE]
        for c in range(C):
            effect[c] = steps[0] * data[nodes + c]
            log_w[c] = data[nodes + C + c]
    elif C > 1:
        sa, st = int(data[X_SHARE]), int(data[X_STEP])
        v = np.empty(C)
        total = 0.0
        for c in range(C - 1):
            v[c] = x[sa + c]
            total += x[sa + c]
        v[C - 1] = -total
        top = -np.inf
        for c in range(C):
            top = max(top, v[c])
        s = 0.0
        for c in range(C):
            s += np.exp(v[c] - top)
        lse = top + np.log(s)
        for c in range(C):
            log_w[c] = v[c] - lse
        for c in range(C - 1):
            steps[c] = np.exp(x[st + c]) * data[CLASS_SCALE]
            effect[c + 1] = effect[c] + steps[c]
    return log_w, effect, steps


@numba.njit(**HELPER)
def _eta(alpha, x, data):
    """(rows, 2**k) log-linear predictor of every pattern: main effects and two-way interactions."""
    k, n_bins, pairs = int(data[K]), alpha.shape[0], int(data[PAIRS])
    M = 1 << k
    Xa, pi, pj, ga = int(data[A_X]), int(data[A_PAIR_I]), int(data[A_PAIR_J]), int(data[X_GAMMA])
    eta = np.zeros((n_bins, M))
    for h in range(M):
        fixed = 0.0
        for p in range(pairs):
            fixed += (data[Xa + h * k + int(data[pi + p])] * data[Xa + h * k + int(data[pj + p])]
                      * x[ga + p] * data[DEPENDENCE])
        for t in range(n_bins):
            value = fixed
            for j in range(k):
                value += alpha[t, j] * data[Xa + h * k + j]
            eta[t, h] = value
    return eta


@numba.njit(**HELPER)
def _pattern_log_probs(eta, log_w, effect, data):
    """(rows, 2**k) log pattern probabilities mixed over classes, and each class's (rows, C, 2**k) log
    probabilities within the class."""
    n_bins, M, C = eta.shape[0], eta.shape[1], log_w.size
    nc = int(data[A_N_CAPTURED])
    log_pc = np.empty((n_bins, C, M))
    log_p = np.empty((n_bins, M))
    for t in range(n_bins):
        for c in range(C):
            top = -np.inf
            for h in range(M):
                value = eta[t, h] + effect[c] * data[nc + h]
                log_pc[t, c, h] = value
                top = max(top, value)
            s = 0.0
            for h in range(M):
                s += np.exp(log_pc[t, c, h] - top)
            lse = top + np.log(s)
            for h in range(M):
                log_pc[t, c, h] -= lse
        if C == 1:
            for h in range(M):
                log_p[t, h] = log_pc[t, 0, h]
            continue
        for h in range(M):
            top = -np.inf
            for c in range(C):
                top = max(top, log_pc[t, c, h] + log_w[c])
            s = 0.0
            for c in range(C):
                s += np.exp(log_pc[t, c, h] + log_w[c] - top)
            log_p[t, h] = top + np.log(s)
    return log_p, log_pc


@numba.njit(**HELPER)
def _row(d, data):
    """The row of capture probabilities that day ``d`` reads."""
    return d // int(data[CAPTURE_DAYS]) if data[TVC] > 0 else 0


@numba.njit(**HELPER)
def _group_probs(p, data):
    """(rows, groups, 2**k): the pattern probabilities over the lists present in each group (absent lists summed
    out); day d reads ``[_row(d), day_group[d]]``."""
    rows, G, M = p.shape[0], int(data[GROUPS]), p.shape[1]
    rs = int(data[A_RESTRICT])
    pg = np.zeros((rows, G, M))
    for r in range(rows):
        for g in range(G):
            for h in range(M):
                pg[r, g, int(data[rs + g * M + h])] += p[r, h]
    return pg


@numba.njit(**HELPER)
def _walk(x, data):
    """(days,) the centred random walk of the log rate (zeros for a constant rate) and the walk values."""
    D, n_values, n_z = int(data[DAYS]), int(data[WALK_VALUES]), int(data[N_Z])
    za, wl, wr, wf = int(data[X_Z]), int(data[A_WALK_LEFT]), int(data[A_WALK_RIGHT]), int(data[A_WALK_FRAC])
    walk = np.zeros(D)
    if data[HAS_WALK] <= 0:
        return walk
    values = np.zeros(n_values)
    for i in range(1, n_values):
        values[i] = values[i - 1] + x[za + i - 1] if i - 1 < n_z else values[i - 1]
    for d in range(D):
        f = data[wf + d]
        walk[d] = (1.0 - f) * values[int(data[wl + d])] + f * values[int(data[wr + d])]
    if data[CENTER_DAYS] > 0:
        n_mean, mean = D, 0.0
        for d in range(D):
            mean += walk[d]
    else:
        n_mean, mean = n_values, 0.0
        for i in range(n_values):
            mean += values[i]
    mean /= n_mean
    for d in range(D):
        walk[d] -= mean
    return walk


@numba.njit(**HELPER)
def _forward(x, data):
    """The rate and what the likelihood reads: rate, its log, population, the group probabilities (see
    :func:`_group_probs`), the mean unlisted share pbar0, coverage, bias, size, the walk and its scale, and the
    capture quantities (alpha, drift, tau, log_w, effect, steps, log_p, log_pc)."""
    D, k, T = int(data[DAYS]), int(data[K]), int(data[TALLIES])
    level_eff = data[LEVEL_MU] + data[LEVEL_SD] * x[int(data[X_LEVEL])]
    population = np.exp(data[POP_MU] + data[POP_SD] * x[int(data[X_POP])])
    pbar0 = 0.0
    alpha, drift, tau = _capture_logits(x, data)
    log_w, effect, steps = _classes(x, data)
    log_p, log_pc = _pattern_log_probs(_eta(alpha, x, data), log_w, effect, data)
    pg = _group_probs(np.exp(log_p), data)
    if k:
        dg = int(data[A_DAY_GROUP])
        for d in range(D):
            pbar0 += pg[_row(d, data), int(data[dg + d]), 0]
        pbar0 /= D
        level_eff -= np.log1p(-pbar0)
    coverage = np.empty(T)
    for j in range(T):
        coverage[j] = 1.0 / (1.0 + np.exp(-x[int(data[X_COVERAGE]) + j]))
    if data[ANCHOR] >= 0:
        level_eff -= np.log(coverage[int(data[ANCHOR])])
    sigma = np.exp(x[int(data[X_SIGMA])]) * data[RW_SCALE] if data[HAS_WALK] > 0 else 0.0
    walk = _walk(x, data)
    log_rate = level_eff + sigma * walk
    rate = np.exp(log_rate)
    n_bias = int(data[SURVEYS]) + int(data[HOUSEHOLDS])
    bias = np.empty(n_bias)
    for s in range(n_bias):
        bias[s] = np.exp(data[BIAS_LOG_MEDIAN] + x[int(data[X_BIAS]) + s] * data[BIAS_SCALE])
    n_h = int(data[HOUSEHOLDS])
    size = np.empty(n_h)
    sp = int(data[A_SIZE_PRIOR])
    for i in range(n_h):
        size[i] = np.exp(data[sp + 2 * i] + data[sp + 2 * i + 1] * x[int(data[X_SIZE]) + i])
    capture = (alpha, drift, tau, log_w, effect, steps, log_p, log_pc)
    return rate, log_rate, population, pg, pbar0, coverage, bias, size, walk, sigma, capture


@numba.njit(**HELPER)
def _log_half_normal(u):
    """log density of u = log(v), v ~ HalfNormal(1), up to a constant, and its derivative."""
    v2 = np.exp(2.0 * u)
    return -0.5 * v2 + u, 1.0 - v2


@numba.njit(**HELPER)
def _scale_prior_gradient(u, g_values, values):
    """log prior of u = log(v / scale), v ~ HalfNormal(scale), and d logp / du, for a scale that multiplies
    ``values`` (the scaled quantities, with gradients ``g_values``): d values / du = values."""
    value, slope = _log_half_normal(u)
    g = 0.0
    for i in range(values.size):
        g += g_values[i] * values[i]
    return value, g + slope


@numba.njit(**HELPER)
def _lists_loglik(data, rate, log_rate, pg, g_rate, g_lograte, g_pg):
    """Matched lists: Poisson counts of each observed pattern per bin and per coarse-date window. Returns the log
    likelihood; adds its gradient to those of the rate, the log rate and the group probabilities."""
    D, k, n_bins = int(data[DAYS]), int(data[K]), int(data[BINS])
    M = 1 << k
    logp = 0.0
    bin_days, W = int(data[BIN_DAYS]), int(data[WINDOWS])
    lc, cc, cf, cl = int(data[A_LIST_CELLS]), int(data[A_COARSE_CELLS]), int(data[A_COARSE_FIRST]), int(data[A_COARSE_LAST])
    dg = int(data[A_DAY_GROUP])
    ratio_bin = np.zeros((n_bins, M))
    if bin_days == 1:
        # a day's mean is rate x probability: its log needs no log per cell
        log_pg = np.log(pg)
        for d in range(D):
            r, g = _row(d, data), int(data[dg + d])
            for h in range(1, M):
                n = data[lc + d * (M - 1) + h - 1]
                if n != 0:
                    logp += n * (log_rate[d] + log_pg[r, g, h])
                    g_lograte[d] += n
                    g_pg[r, g, h] += n / pg[r, g, h]
    else:
        mean_bin = np.zeros((n_bins, M))
        for d in range(D):
            r, g = _row(d, data), int(data[dg + d])
            for h in range(1, M):
                mean_bin[d // bin_days, h] += rate[d] * pg[r, g, h]
        for t in range(n_bins):
            for h in range(1, M):
                n = data[lc + t * (M - 1) + h - 1]
                if n != 0:
                    logp += n * np.log(mean_bin[t, h])
                    ratio_bin[t, h] = n / mean_bin[t, h]
    diff = np.zeros((D + 1, M))
    if W:
        cum = np.zeros((D + 1, M))
        for d in range(D):
            r, g = _row(d, data), int(data[dg + d])
            for h in range(1, M):
                cum[d + 1, h] = cum[d, h] + rate[d] * pg[r, g, h]
        for w in range(W):
            first, last = int(data[cf + w]), int(data[cl + w])
            for h in range(1, M):
                n = data[cc + w * (M - 1) + h - 1]
                if n != 0:
                    mean = cum[last + 1, h] - cum[first, h]
                    logp += n * np.log(mean)
                    diff[first, h] += n / mean
                    diff[last + 1, h] -= n / mean
    spread = W > 0 or bin_days > 1
    running = np.zeros(M)
    for d in range(D):
        r, g = _row(d, data), int(data[dg + d])
        logp -= rate[d] * (1.0 - pg[r, g, 0])
        g_rate[d] -= 1.0 - pg[r, g, 0]
        g_pg[r, g, 0] += rate[d]
        if spread:
            for h in range(1, M):
                running[h] += diff[d, h]
                a = ratio_bin[d // bin_days, h] + running[h]
                g_rate[d] += a * pg[r, g, h]
                g_pg[r, g, h] += a * rate[d]
    return logp


@numba.njit(**HELPER)
def _tallies_loglik(data, rate, coverage, g_rate, g_cov):
    """Tallies: Poisson counts with mean coverage x the deaths of each period. Returns the log likelihood; adds its
    gradient to those of the rate and the coverages."""
    D, P = int(data[DAYS]), int(data[PERIODS])
    logp = 0.0
    tc, tm, ti = int(data[A_TALLY_COUNTS]), int(data[A_TALLY_MATRIX]), int(data[A_TALLY_INDEX])
    for i in range(P):
        j = int(data[ti + i])
        first, stop = _span(i, data)
        in_period = 0.0
        for d in range(first, stop):
            in_period += data[tm + i * D + d] * rate[d]
        mean = coverage[j] * in_period
        n = data[tc + i]
        logp += n * np.log(mean) - mean
        r = n / mean - 1.0
        g_cov[j] += r * in_period
        for d in range(first, stop):
            g_rate[d] += r * coverage[j] * data[tm + i * D + d]
    return logp


@numba.njit(**HELPER)
def _surveys_loglik(data, rate, log_rate, population, bias, g_rate, g_lograte, g_bias):
    """Surveys: negative binomial deaths, and the dates of the dated ones. Returns the log likelihood and its
    derivative in the population; adds its gradient to those of the rate, the log rate and the bias factors."""
    D, n_s = int(data[DAYS]), int(data[SURVEYS])
    logp, g_pop = 0.0, 0.0
    sd, pd, sa, sm = int(data[A_SURVEY_DEATHS]), int(data[A_PERSON_DAYS]), int(data[A_SURVEY_ALPHA]), int(data[A_SURVEY_MATRIX])
    dc, dt, rd = int(data[A_DAY_COUNTS]), int(data[A_DATED]), int(data[A_RECALL_DAYS])
    P = int(data[PERIODS])
    for s in range(n_s):
        first, stop = _span(P + s, data)
        in_recall = 0.0
        for d in range(first, stop):
            in_recall += data[sm + s * D + d] * rate[d]
        mu = bias[s] * data[pd + s] * in_recall / population
        n, alpha = data[sd + s], data[sa + s]
        logp += n * np.log(mu) - (n + alpha) * np.log1p(mu / alpha)
        g_mu = n / mu - (n + alpha) / (mu + alpha)
        g_pop -= g_mu * mu / population
        g_bias[s] += g_mu * mu / bias[s]
        dated = data[dt + s]
        if dated != 0:
            logp -= dated * np.log(data[rd + s] * in_recall)
        g_in = (g_mu * mu - dated) / in_recall
        for d in range(first, stop):
            g_rate[d] += g_in * data[sm + s * D + d]
        for d in range(D):
            count = data[dc + s * D + d]
            if count != 0:
                logp += count * log_rate[d]
                g_lograte[d] += count
    E = int(data[EVENTS])
    if E:
        ef, el, ec = int(data[A_EVENT_FIRST]), int(data[A_EVENT_LAST]), int(data[A_EVENT_COUNTS])
        cum_rate = np.zeros(D + 1)
        for d in range(D):
            cum_rate[d + 1] = cum_rate[d] + rate[d]
        event_diff = np.zeros(D + 1)
        for e in range(E):
            first, last, n = int(data[ef + e]), int(data[el + e]), data[ec + e]
            in_window = cum_rate[last + 1] - cum_rate[first]
            logp += n * np.log(in_window)
            event_diff[first] += n / in_window
            event_diff[last + 1] -= n / in_window
        running_e = 0.0
        for d in range(D):
            running_e += event_diff[d]
            g_rate[d] += running_e
    return logp, g_pop


@numba.njit(**HELPER)
def _households_loglik(x, data, rate, population, bias, size, g_rate, g_bias, grad):
    """Household summaries: a binomial share of households with a death, 1 - exp(-hazard), and the household
    sizes' priors. Returns the log density and its derivative in the population; adds its gradient to those of
    the rate and the bias factors, and to ``grad`` for the household sizes."""
    D, n_s, n_h = int(data[DAYS]), int(data[SURVEYS]), int(data[HOUSEHOLDS])
    logp, g_pop = 0.0, 0.0
    hn, ha, hr, hm = int(data[A_HOUSEHOLD_N]), int(data[A_AFFECTED]), int(data[A_HOUSEHOLD_RECALL]), int(data[A_HOUSEHOLD_MATRIX])
    sp, za = int(data[A_SIZE_PRIOR]), int(data[X_SIZE])
    P = int(data[PERIODS])
    for i in range(n_h):
        first, stop = _span(P + n_s + i, data)
        in_recall = 0.0
        for d in range(first, stop):
            in_recall += data[hm + i * D + d] * rate[d]
        hazard = bias[n_s + i] * size[i] * data[hr + i] * in_recall / population
        n, a = data[hn + i], data[ha + i]
        logp += a * np.log(-np.expm1(-hazard)) - (n - a) * hazard
        g_h = (a / np.expm1(hazard) - (n - a)) * hazard
        g_pop -= g_h / population
        g_bias[n_s + i] += g_h / bias[n_s + i]
        z = x[za + i]
        logp -= 0.5 * z * z
        grad[za + i] += g_h * data[sp + 2 * i + 1] - z
        for d in range(first, stop):
            g_rate[d] += g_h / in_recall * data[hm + i * D + d]
    return logp, g_pop


@numba.njit(**HELPER)
def _walk_gradient(x, data, g_lograte, walk, sigma, grad):
    """Adds d logp / d rw_z given d logp / d log rate."""
    D, n_values, n_z = int(data[DAYS]), int(data[WALK_VALUES]), int(data[N_Z])
    za, wl, wr, wf = int(data[X_Z]), int(data[A_WALK_LEFT]), int(data[A_WALK_RIGHT]), int(data[A_WALK_FRAC])
    g_walk = np.empty(D)
    total = 0.0
    for d in range(D):
        g_walk[d] = sigma * g_lograte[d]
        total += g_walk[d]
    g_values = np.zeros(n_values)
    for d in range(D):
        g = g_walk[d] - total / D if data[CENTER_DAYS] > 0 else g_walk[d]
        f = data[wf + d]
        g_values[int(data[wl + d])] += (1.0 - f) * g
        g_values[int(data[wr + d])] += f * g
    if data[CENTER_DAYS] <= 0:
        for i in range(n_values):
            g_values[i] -= total / n_values
    running = 0.0
    for i in range(n_values - 1, 0, -1):
        running += g_values[i]
        if i - 1 < n_z:
            grad[za + i - 1] += running


@numba.njit(**HELPER)
def _capture_gradient(x, data, capture, g_pg, grad):
    """The capture parameters' prior log density; adds their gradient given d logp / d group probabilities."""
    k, n_bins, C, G = int(data[K]), _rows(data), int(data[CLASSES]), int(data[GROUPS])
    pairs, M = int(data[PAIRS]), 1 << k
    logp = 0.0
    _, drift, tau, log_w, _, steps, log_p, log_pc = capture
    rs, nc = int(data[A_RESTRICT]), int(data[A_N_CAPTURED])
    Xa, pi, pj = int(data[A_X]), int(data[A_PAIR_I]), int(data[A_PAIR_J])

    g_logp = np.zeros((n_bins, M))
    for t in range(n_bins):
        for g in range(G):
            for h in range(M):
                g_logp[t, h] += g_pg[t, g, int(data[rs + g * M + h])]
    g_eta = np.zeros((n_bins, M))
    g_logw = np.zeros(C)
    g_effect = np.zeros(C)
    for t in range(n_bins):
        for h in range(M):
            g_logp[t, h] *= np.exp(log_p[t, h])
        for c in range(C):
            g_class = np.empty(M)
            total = 0.0
            for h in range(M):
                g_class[h] = g_logp[t, h] * np.exp(log_pc[t, c, h] + log_w[c] - log_p[t, h]) if C > 1 else g_logp[t, h]
                total += g_class[h]
            g_logw[c] += total
            for h in range(M):
                g = g_class[h] - np.exp(log_pc[t, c, h]) * total
                g_eta[t, h] += g
                g_effect[c] += g * data[nc + h]

    a0, ta, ea, ga = int(data[X_ALPHA]), int(data[X_TAU]), int(data[X_EPS]), int(data[X_GAMMA])
    g_alpha = np.zeros((n_bins, k))
    for t in range(n_bins):
        for h in range(M):
            if g_eta[t, h] != 0.0:
                for j in range(k):
                    g_alpha[t, j] += g_eta[t, h] * data[Xa + h * k + j]
    for p in range(pairs):
        g = 0.0
        for t in range(n_bins):
            for h in range(M):
                g += g_eta[t, h] * data[Xa + h * k + int(data[pi + p])] * data[Xa + h * k + int(data[pj + p])]
        z = x[ga + p]
        logp -= 0.5 * z * z
        grad[ga + p] += g * data[DEPENDENCE] - z
    for j in range(k):
        total, weighted = 0.0, 0.0
        for t in range(n_bins):
            total += g_alpha[t, j]
            weighted += g_alpha[t, j] * drift[t, j]
        logp -= 0.5 * (x[a0 + j] / CAPTURE_LOGIT_SD) ** 2
        grad[a0 + j] += total - x[a0 + j] / CAPTURE_LOGIT_SD**2
        if data[TVC] > 0:
            value, slope = _log_half_normal(x[ta + j])
            logp += value
            grad[ta + j] += weighted * tau[j] + slope
            mean = total / n_bins
            running = 0.0
            for t in range(n_bins - 1, 0, -1):
                running += tau[j] * (g_alpha[t, j] - mean)
                e = ea + (t - 1) * k + j
                logp -= 0.5 * x[e] ** 2
                grad[e] += running - x[e]
    if data[NORMAL_EFFECT] > 0:
        # effect_c = sd x node_c
        value, slope = _scale_prior_gradient(x[int(data[X_STEP])], g_effect, capture[4])
        logp += value
        grad[int(data[X_STEP])] += slope
    elif C > 1:
        # Dirichlet(a) prior with the simplex Jacobian: a sum_c log w_c (+ const)
        sa, st, a = int(data[X_SHARE]), int(data[X_STEP]), data[CLASS_SHARE]
        g_v = np.empty(C)
        g_total = 0.0
        for c in range(C):
            logp += a * log_w[c]
            g_total += g_logw[c] + a
        for c in range(C):
            g_v[c] = g_logw[c] + a - np.exp(log_w[c]) * g_total
        for c in range(C - 1):
            grad[sa + c] += g_v[c] - g_v[C - 1]
        running = 0.0
        for c in range(C - 1, 0, -1):
            running += g_effect[c]
            value, slope = _log_half_normal(x[st + c - 1])
            logp += value
            grad[st + c - 1] += running * steps[c - 1] + slope
    return logp


# nutpie's entry points (signatures and return codes: estimators._nutpie), compiled by entry_points()
def _logp_entry(dim, x_, grad_, logp_, user_data_):
    """The log density of the unconstrained parameters at ``x_`` (up to a constant) into ``logp_``, its gradient
    into ``grad_``. Written out here rather than in a function it calls: Numba would optimise and emit that
    function's machine code twice, as its own and again inside the entry point (about 5 s of a cold compile)."""
    size = numba.carray(user_data_, (HEADER,), np.float64)[SIZE]
    data = numba.carray(user_data_, (int(size),), np.float64)
    if dim != int(data[N_DIM]):
        return -1
    x = numba.carray(x_, (dim,))
    grad = numba.carray(grad_, (dim,))
    D, k = int(data[DAYS]), int(data[K])
    T, P, n_s, n_h = int(data[TALLIES]), int(data[PERIODS]), int(data[SURVEYS]), int(data[HOUSEHOLDS])
    for i in range(dim):
        grad[i] = 0.0
    logp = 0.0
    xl, xp = int(data[X_LEVEL]), int(data[X_POP])
    logp -= 0.5 * (x[xl] ** 2 + x[xp] ** 2)
    rate, log_rate, population, pg, pbar0, coverage, bias, size, walk, sigma, capture = _forward(x, data)
    g_rate = np.zeros(D)
    g_lograte = np.zeros(D)
    g_pop = 0.0
    g_cov = np.zeros(T)
    g_bias = np.zeros(n_s + n_h)

    g_pg = np.zeros(pg.shape)
    if k:
        logp += _lists_loglik(data, rate, log_rate, pg, g_rate, g_lograte, g_pg)
    if P:
        logp += _tallies_loglik(data, rate, coverage, g_rate, g_cov)
    if n_s:
        value, slope = _surveys_loglik(data, rate, log_rate, population, bias, g_rate, g_lograte, g_bias)
        logp += value
        g_pop += slope
    if n_h:
        value, slope = _households_loglik(x, data, rate, population, bias, size, g_rate, g_bias, grad)
        logp += value
        g_pop += slope

    # back to the level, the walk and the parameters
    g_level = 0.0
    for d in range(D):
        g_lograte[d] += g_rate[d] * rate[d]
        g_level += g_lograte[d]
    grad[xl] += g_level * data[LEVEL_SD] - x[xl]
    grad[xp] += g_pop * population * data[POP_SD] - x[xp]
    if n_s + n_h:
        ba = int(data[X_BIAS])
        for s in range(n_s + n_h):
            z = x[ba + s]
            logp -= 0.5 * z * z
            grad[ba + s] += g_bias[s] * bias[s] * data[BIAS_SCALE] - z
    if data[HAS_WALK] > 0:
        _walk_gradient(x, data, g_lograte, walk, sigma, grad)
        xs = int(data[X_SIGMA])
        value, slope = _scale_prior_gradient(x[xs], g_lograte, sigma * walk)
        logp += value
        grad[xs] += slope
        za = int(data[X_Z])
        for i in range(int(data[N_Z])):
            logp -= 0.5 * x[za + i] ** 2
            grad[za + i] -= x[za + i]
    if T:
        if data[ANCHOR] >= 0:
            j = int(data[ANCHOR])
            g_cov[j] -= g_level / coverage[j]
        ca, ta, tb = int(data[X_COVERAGE]), data[TALLY_A], data[TALLY_B]
        for j in range(T):
            c = coverage[j]
            logp += ta * np.log(c) + tb * np.log1p(-c)
            grad[ca + j] += g_cov[j] * c * (1.0 - c) + ta * (1.0 - c) - tb * c
    if k:
        dg = int(data[A_DAY_GROUP])
        for d in range(D):
            g_pg[_row(d, data), int(data[dg + d]), 0] += g_level / (D * (1.0 - pbar0))
        logp += _capture_gradient(x, data, capture, g_pg, grad)
    logp_[0] = logp
    return logp_status(logp, grad)


def _expand_entry(dim, expanded, x_, out_, user_data_):
    """The recorded quantities of a draw, in :func:`._packing.stored_shapes` order (written out here for the
    reason :func:`_logp_entry` gives)."""
    size = numba.carray(user_data_, (HEADER,), np.float64)[SIZE]
    data = numba.carray(user_data_, (int(size),), np.float64)
    if dim != int(data[N_DIM]) or expanded != int(data[N_EXPANDED]):
        return -1
    x = numba.carray(x_, (dim,))
    out = numba.carray(out_, (expanded,))
    D, k, n_bins, C = int(data[DAYS]), int(data[K]), _rows(data), int(data[CLASSES])
    T, n_s, n_h = int(data[TALLIES]), int(data[SURVEYS]), int(data[HOUSEHOLDS])
    rate, _, population, _, _, coverage, bias, size, _, _, capture = _forward(x, data)
    at = 0
    for d in range(D):
        out[at] = rate[d]
        at += 1
    out[at] = population
    at += 1
    if data[HAS_WALK] > 0:
        out[at] = np.exp(x[int(data[X_SIGMA])])
        at += 1
    if k:
        alpha, log_w, effect = capture[0], capture[3], capture[4]
        for j in range(k):
            out[at] = x[int(data[X_ALPHA]) + j]
            at += 1
        if data[TVC] > 0:
            for t in range(n_bins):
                for j in range(k):
                    out[at] = alpha[t, j]
                    at += 1
        for p in range(int(data[PAIRS])):
            out[at] = x[int(data[X_GAMMA]) + p] * data[DEPENDENCE]
            at += 1
        if C > 1:
            for c in range(C):
                out[at] = np.exp(log_w[c])
                at += 1
            for c in range(C):
                out[at] = effect[c]
                at += 1
            if data[NORMAL_EFFECT] > 0:
                out[at] = capture[5][0]
                at += 1
    for j in range(T):
        out[at] = coverage[j]
        at += 1
    for s in range(n_s + n_h):
        out[at] = bias[s]
        at += 1
    sm, pd = int(data[A_SURVEY_MATRIX]), int(data[A_PERSON_DAYS])
    for s in range(n_s):
        in_recall = 0.0
        for d in range(D):
            in_recall += data[sm + s * D + d] * rate[d]
        out[at] = bias[s] * data[pd + s] * in_recall / population
        at += 1
    hr, hm = int(data[A_HOUSEHOLD_RECALL]), int(data[A_HOUSEHOLD_MATRIX])
    for i in range(n_h):
        out[at] = size[i]
        at += 1
    for i in range(n_h):
        in_recall = 0.0
        for d in range(D):
            in_recall += data[hm + i * D + d] * rate[d]
        out[at] = -np.expm1(-bias[n_s + i] * size[i] * data[hr + i] * in_recall / population)
        at += 1
    return 0


def _gradient_signatures() -> dict:
    """The helpers only the log density calls, with the argument types it calls them with."""
    from numba import types

    a1, a2, a3, f = types.float64[::1], types.float64[:, ::1], types.float64[:, :, ::1], types.float64
    return {
        _lists_loglik: (a1, a1, a1, a3, a1, a1, a3),
        _tallies_loglik: (a1, a1, a1, a1, a1),
        _surveys_loglik: (a1, a1, a1, f, a1, a1, a1, a1),
        _households_loglik: (a1, a1, a1, f, a1, a1, a1, a1, a1),
        _walk_gradient: (a1, a1, a1, a1, f, a1),
        _capture_gradient: (a1, a1, types.Tuple((a2, a2, a1, a1, a1, a1, a2, a3)), a3, a1),
        logp_status: (f, a1),
    }


def compile_elsewhere_main():
    """Run in the second process of :func:`entry_points`: compile the log density's own helpers into Numba's
    cache, say so, then the latent-class sampler of ``daily_rates``' heterogeneity check."""
    for function, signature in _gradient_signatures().items():
        function.compile(signature)
    print("helpers cached", flush=True)
    import warnings

    from .._latent_class import latent_class
    from ..histories import CaptureHistories

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        latent_class(CaptureHistories.from_array([0.0, 9, 8, 3, 7, 2, 3, 1], lists=["A", "B", "C"]), draws=20,
                     burn=100, random_seed=0)


def entry_points():
    """nutpie's entry points ``(log density, expand)``, loaded from Numba's on-disk cache or compiled there.

    Compiled on an installation's first use (and after a change of this module). The log density's own helpers
    and the expand entry point's share no code, so on a cold cache a second process compiles the former (and
    then the latent-class sampler of the heterogeneity check) while this one compiles the latter; the log
    density is then built on the cached helpers. On 2 cores: 17 s instead of 25 s (benchmarks/results/
    daily_speed.md). Without a second process, everything is compiled here.
    """
    with _LOADING:  # threads fitting at once start one second process and compile once
        return _load_entry_points()


_LOADING = threading.Lock()


@functools.cache
def _load_entry_points():
    helper = None if cached(_logp_entry) else compile_elsewhere(__name__, "compile_elsewhere_main")
    expand_entry = numba.cfunc(EXPAND_SIGNATURE, cache=True, error_model="numpy")(_expand_entry)
    if helper is not None:
        wait_for_line(helper, timeout=300.0)
    logp_entry = numba.cfunc(LOGP_SIGNATURE, cache=True, error_model="numpy")(_logp_entry)
    return logp_entry, expand_entry


def log_density(x, data, grad):
    """Log density of the unconstrained parameters ``x`` (up to a constant) through the log density's entry
    point; writes its gradient into ``grad``."""
    return call_logp(entry_points()[0], x, data, grad)


def expand(x, data, out):
    """The recorded quantities of a draw through the expand entry point, written into ``out``."""
    call_expand(entry_points()[1], x, data, out)
