"""The packed data the daily kernels read (:mod:`._kernel`), and what is drawn or recorded around them: the
starting points of the chains, prior draws of the parameters and the recorded quantities of many draws.

Plain Python and numpy: the kernels' module holds the layout's constants, so changing them recompiles the kernels
(Numba's cache follows that module's source, not this one's).
"""

from __future__ import annotations

import numpy as np

from .._nutpie import call_expand
from ..histories import pattern_index, pattern_matrix
from ._kernel import (
    A_LIST_CELLS, A_WALK_FRAC, A_WALK_LEFT, ARRAYS, BIAS_LOG_MEDIAN, BIN_DAYS, BINS, CAPTURE_DAYS, CAPTURE_LOGIT_SD,
    CAPTURE_ROWS, CLASS_SHARE, CLASSES, DAYS, HAS_WALK, HEADER, HOUSEHOLDS, K, LEVEL_MU, N_DIM, N_EXPANDED,
    N_SCALARS, N_Z, NORMAL_EFFECT, PAIRS, RW_SCALE, SIZE, SURVEYS, TALLIES, TALLY_A, TALLY_B, TVC, WALK_VALUES, X_ALPHA,
    X_COVERAGE, X_EPS, X_LEVEL, X_SHARE, X_SIGMA, X_SIZE, X_STEP, X_TAU, X_Z, entry_points,
)


def _nonzero_span(row: np.ndarray) -> tuple[int, int]:
    """``(first, stop)``: the first nonzero entry of ``row`` and one past its last (0, 0 for a row of zeros)."""
    nonzero = np.flatnonzero(row)
    return (int(nonzero[0]), int(nonzero[-1]) + 1) if nonzero.size else (0, 0)


def walk_map(rate_model: str, days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int, bool]:
    """How each day reads the random walk: left and right walk values, interpolation weight, number of walk
    values, number of steps parameters, and whether the walk is centred over days (else over its values)."""
    day = np.arange(days)
    if rate_model == "constant":
        return day * 0, day * 0, np.zeros(days), 1, 0, False
    if rate_model == "weekly_knots":
        knots = int(np.ceil((days - 1) / 7)) + 1
        left = day // 7
        return left, np.minimum(left + 1, knots - 1), (day % 7) / 7, knots, knots - 1, True
    steps = days - 1 if rate_model == "random_walk" else int(np.ceil(days / 7)) - 1
    left = day if rate_model == "random_walk" else day // 7
    return left, left, np.zeros(days), steps + 1, max(steps, 1), False


def pack(data, priors, *, rate_model: str, time_varying_capture: bool, capture_classes: int | str) -> np.ndarray:
    """Everything the kernels read (data, structure, prior settings) as one read-only float64 array."""
    from ._model import _default_level, _pairs, capture_step_scale, class_count, normal_nodes

    k, D = data.k, data.days
    n_bins = data.n_bins if k else 1
    rows = data.n_capture_bins if k else 1
    tvc = bool(time_varying_capture and k and rows > 1)
    normal = bool(k) and capture_classes == "normal"
    C = class_count(capture_classes) if k else 1
    pairs = _pairs(k)
    left, right, frac, walk_values, n_z, center_days = walk_map(rate_model, D)
    has_walk = rate_model != "constant"
    n_s, n_h, T = len(data.survey_deaths), len(data.household_n), len(data.tally_names)
    level = priors.rate_level or _default_level(data)

    X = pattern_matrix(k).astype(float) if k else np.zeros((1, 0))
    presence = np.asarray(data.presence, bool)
    if k:
        masks = pattern_index(presence) if len(presence) else np.zeros(0, int)
        restrict = np.arange(2**k)[None, :] & np.asarray(masks)[:, None]
    else:
        restrict = np.zeros((1, 1))
    dated = np.zeros(n_s)
    recall_days = np.zeros(n_s)
    if n_s:
        dated = data.survey_day_counts.sum(axis=1)
        np.add.at(dated, data.survey_event_survey, data.survey_event_counts)
        recall_days = data.survey_matrix.astype(bool).sum(axis=1).astype(float)
    arrays = {
        "X": X, "pair_i": [i for i, _ in pairs], "pair_j": [j for _, j in pairs], "restrict": restrict,
        "n_captured": X.sum(1), "day_group": data.groups, "walk_left": left, "walk_right": right, "walk_frac": frac,
        "list_cells": data.list_cells if k else np.zeros(0), "coarse_cells": data.coarse_cells if k else np.zeros(0),
        "coarse_first": data.coarse_first, "coarse_last": data.coarse_last,
        "tally_counts": data.tally_counts, "tally_matrix": data.tally_matrix, "tally_index": data.tally_index,
        "survey_deaths": data.survey_deaths, "survey_person_days": data.survey_person_days,
        "survey_alpha": data.survey_alpha, "survey_matrix": data.survey_matrix,
        "survey_day_counts": data.survey_day_counts, "survey_dated": dated, "survey_recall_days": recall_days,
        "event_first": data.survey_event_first, "event_last": data.survey_event_last,
        "event_counts": data.survey_event_counts, "event_survey": data.survey_event_survey,
        "household_n": data.household_n, "household_affected": data.household_affected,
        "household_size_prior": (np.stack([np.log(data.household_size), data.household_size_sd], axis=1)
                                 if n_h else np.zeros(0)),
        "household_recall": data.household_recall, "household_matrix": data.household_matrix,
        "class_nodes": np.concatenate(normal_nodes(C)) if normal else np.zeros(0),
        "spans": [_nonzero_span(row) for matrix in (data.tally_matrix, data.survey_matrix, data.household_matrix)
                  for row in np.asarray(matrix, float).reshape(-1, D)],
    }
    blocks = [("level", 1), ("pop", 1), ("alpha", k), ("tau", k if tvc else 0), ("eps", (rows - 1) * k if tvc else 0),
              ("gamma", len(pairs)), ("share", 0 if normal else C - 1),
              ("step", 1 if normal else C - 1), ("coverage", T),
              ("sigma", 1 if has_walk else 0), ("z", n_z if has_walk else 0), ("bias", n_s + n_h), ("size", n_h)]
    starts, at = [], 0
    for _, length in blocks:
        starts.append(at)
        at += length
    n_dim = at
    scalars = np.zeros(N_SCALARS)
    scalars[N_DIM:PAIRS + 1] = [n_dim, D, k, n_bins, data.bin_days, C, tvc, has_walk, center_days, walk_values, n_z,
                                T, len(data.tally_counts), n_s, len(data.survey_event_counts), n_h, data.n_windows,
                                len(presence), data.anchor_tally, len(pairs)]
    scalars[LEVEL_MU:BIAS_LOG_MEDIAN + 1] = [
        level[0], level[1], priors.rw_scale, np.log(data.population[0]), data.population[1],
        priors.dependence_scale if k >= 3 else 0.0, capture_step_scale(priors, data), priors.class_scale,
        priors.class_share_prior, priors.tally_coverage[0], priors.tally_coverage[1], priors.bias_scale,
        np.log(float(priors.bias_median))]
    scalars[X_LEVEL:X_SIZE + 1] = starts
    scalars[CAPTURE_DAYS], scalars[CAPTURE_ROWS] = data.capture_bin_days, rows
    scalars[NORMAL_EFFECT] = normal
    scalars[N_EXPANDED] = sum(int(np.prod(shape)) for shape in stored_shapes(scalars).values())
    offsets = np.zeros(len(ARRAYS))
    flat = []
    at = HEADER
    for i, name in enumerate(ARRAYS):
        value = np.asarray(arrays[name], dtype=float).ravel()
        offsets[i] = at
        at += value.size
        flat.append(value)
    packed = np.concatenate([scalars, offsets, *flat]).astype(np.float64)
    packed[SIZE] = packed.size
    packed.flags.writeable = False
    return packed


def stored_shapes(header) -> dict:
    """Names and shapes of the recorded quantities (:func:`._kernel.expand`'s output, in order), from the header."""
    D, k, C = int(header[DAYS]), int(header[K]), int(header[CLASSES])
    T, n_s, n_h, pairs = int(header[TALLIES]), int(header[SURVEYS]), int(header[HOUSEHOLDS]), int(header[PAIRS])
    shapes = {"rate": (D,), "population": ()}
    if header[HAS_WALK]:
        shapes["rw_sigma_z"] = ()
    if k:
        shapes["capture_logit"] = (k,)
        if header[TVC]:
            shapes["capture_logit_bin"] = (int(header[CAPTURE_ROWS]), k)
        if pairs:
            shapes["interaction"] = (pairs,)
        if C > 1:
            shapes["capture_class_share"] = (C,)
            shapes["capture_class_effect"] = (C,)
        if header[NORMAL_EFFECT]:
            shapes["capture_effect_sd"] = ()
    if T:
        shapes["tally_coverage"] = (T,)
    if n_s + n_h:
        shapes["survey_bias"] = (n_s + n_h,)
    if n_s:
        shapes["survey_mean"] = (n_s,)
    if n_h:
        shapes["household_size"] = (n_h,)
        shapes["affected_share"] = (n_h,)
    return shapes


def expand_draws(xs: np.ndarray, data: np.ndarray) -> np.ndarray:
    """:func:`._kernel.expand` of each row of ``xs``, through the compiled entry point (no second compilation)."""
    xs = np.ascontiguousarray(xs, dtype=np.float64)
    out = np.empty((xs.shape[0], int(data[N_EXPANDED])))
    expand_entry = entry_points()[1]
    for x, row in zip(xs, out):
        call_expand(expand_entry, x, data, row)
    return out


def listed_walk_steps(data, smooth_days: int = 7) -> np.ndarray:
    """(n_z,) steps of the log-rate walk that follow the exactly dated listed records: the log of their daily count
    (bins spread evenly over their days, a centred ``smooth_days`` moving average, plus 0.5), read at the walk's
    values (the mean over the days that sit on a value). Zeros without matched lists or a walk."""
    k, n_z = int(data[K]), int(data[N_Z])
    if data[HAS_WALK] <= 0 or k == 0 or n_z == 0:
        return np.zeros(n_z)
    D, B, bin_days = int(data[DAYS]), int(data[BINS]), int(data[BIN_DAYS])
    cells = int(data[A_LIST_CELLS])
    per_bin = data[cells: cells + B * (2**k - 1)].reshape(B, 2**k - 1).sum(axis=1)
    day_bin = np.arange(D) // bin_days
    per_day = per_bin[day_bin] / np.bincount(day_bin, minlength=B)[day_bin]
    window = np.ones(min(smooth_days, D))  # longer than the study, numpy's "same" would return the window's length
    smooth = np.convolve(per_day, window, "same") / np.convolve(np.ones(D), window, "same")
    log_count = np.log(smooth + 0.5)
    left = data[int(data[A_WALK_LEFT]): int(data[A_WALK_LEFT]) + D].astype(int)
    on_value = data[int(data[A_WALK_FRAC]): int(data[A_WALK_FRAC]) + D] == 0
    n_values = int(data[WALK_VALUES])
    sums = np.bincount(left[on_value], weights=log_count[on_value], minlength=n_values)
    counts = np.bincount(left[on_value], minlength=n_values)
    # a weekly knot after the last day has no days: it keeps the value before it (day 0 always sits on value 0)
    last_with_days = np.maximum.accumulate(np.where(counts > 0, np.arange(n_values), 0))
    values = (sums / np.maximum(counts, 1))[last_with_days]
    return np.diff(values)[:n_z]


def initial_point(data, seed) -> np.ndarray:
    """Where a chain starts: each prior's central value on the unconstrained scale (0 for normals, half-normal
    scales at 1, Dirichlet shares equal, Beta coverages at their mean), jittered by U(-1, 1); the rate's walk
    starts on the shape of the listed records' daily counts (:func:`listed_walk_steps`) and the walks' steps
    (rate and capture) are jittered by U(-1, 1) / sqrt(steps), so a long walk does not start far from flat."""
    centre = np.zeros(int(data[N_DIM]))
    T = int(data[TALLIES])
    if T:
        a, b = data[TALLY_A], data[TALLY_B]
        centre[int(data[X_COVERAGE]): int(data[X_COVERAGE]) + T] = np.log(a / b)
    x = centre + np.random.default_rng(seed).uniform(-1.0, 1.0, centre.size)
    # A walk summed from U(-1, 1) steps spans +-10 over 270 days; from there a chain on 93,596 records shrank the
    # walk's scale to 1e-18 to flatten it and stayed in that funnel at the maximum tree depth (total 20% high).
    if data[HAS_WALK] > 0:
        z, n_z = int(data[X_Z]), int(data[N_Z])
        sigma = np.exp(x[int(data[X_SIGMA])]) * data[RW_SCALE]
        x[z: z + n_z] = x[z: z + n_z] / np.sqrt(max(n_z, 1)) + listed_walk_steps(data) / sigma
    if data[TVC] > 0:
        steps = int(data[CAPTURE_ROWS]) - 1
        x[int(data[X_EPS]): int(data[X_EPS]) + steps * int(data[K])] /= np.sqrt(max(steps, 1))
    return x


def prior_parameters(data, draws: int, rng: np.random.Generator) -> np.ndarray:
    """(draws, n_dim) unconstrained parameters drawn from the prior (each variable from its own prior)."""
    n_dim = int(data[N_DIM])
    x = rng.standard_normal((draws, n_dim))
    k, C, T = int(data[K]), int(data[CLASSES]), int(data[TALLIES])

    def block(start, length):
        return slice(int(data[start]), int(data[start]) + length)

    def log_half_normal(length):
        return np.log(np.abs(rng.standard_normal((draws, length))))

    x[:, block(X_ALPHA, k)] *= CAPTURE_LOGIT_SD
    if data[TVC] > 0:
        x[:, block(X_TAU, k)] = log_half_normal(k)
    if data[NORMAL_EFFECT] > 0:
        x[:, block(X_STEP, 1)] = log_half_normal(1)
    elif C > 1:
        w = rng.dirichlet(np.full(C, data[CLASS_SHARE]), size=draws)
        log_w = np.log(np.maximum(w, np.finfo(float).tiny))
        x[:, block(X_SHARE, C - 1)] = log_w[:, :-1] - log_w.mean(1, keepdims=True)
        x[:, block(X_STEP, C - 1)] = log_half_normal(C - 1)
    if T:
        c = np.clip(rng.beta(data[TALLY_A], data[TALLY_B], size=(draws, T)), 1e-300, 1 - 1e-16)
        x[:, block(X_COVERAGE, T)] = np.log(c) - np.log1p(-c)
    if data[HAS_WALK] > 0:
        x[:, block(X_SIGMA, 1)] = log_half_normal(1)
    return x
