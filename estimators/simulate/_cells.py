"""Cell probabilities of the 2**k capture patterns under each closed-population mechanism (cell 0 = on no list)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..histories import pattern_matrix


def _list_names(lists, k: int) -> tuple[str, ...]:
    if lists is None:
        return tuple(chr(ord("A") + j) for j in range(k)) if k <= 26 else tuple(f"L{j + 1}" for j in range(k))
    names = tuple(str(name) for name in lists)
    if len(names) != k:
        raise ValueError(f"`lists` must name the {k} lists; got {len(names)} names {list(names)!r}.")
    return names


def _check_probabilities(name: str, values, *, allow_one: bool = False) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    upper_ok = values <= 1 if allow_one else values < 1
    if values.size == 0 or not np.all(np.isfinite(values)) or not np.all((values > 0) & upper_ok):
        bound = "(0, 1]" if allow_one else "(0, 1)"
        raise ValueError(f"`{name}` must hold probabilities in {bound}; got {values.tolist()!r}.")
    return values


def independent_cells(capture: Sequence[float]) -> np.ndarray:
    """Cell probabilities of k independent lists with capture probabilities ``capture`` (first list most significant).

    Examples
    --------
    >>> independent_cells([0.5, 0.2]).round(3).tolist()
    [0.4, 0.1, 0.4, 0.1]
    """
    capture = np.asarray(capture, dtype=float)
    patterns = pattern_matrix(len(capture))
    return np.prod(np.where(patterns == 1, capture, 1 - capture), axis=1)


def latent_class_cells(weights: Sequence[float], capture) -> np.ndarray:
    """Cell probabilities of a finite mixture of independent-list classes (the latent-class model).

    Within a class lists are independent; the mixture makes them dependent and people heterogeneous, the model
    of Manrique-Vallier (2016) [1]_ with a finite number of classes.

    Parameters
    ----------
    weights : sequence of float
        Share of the population in each class (summing to 1).
    capture : array_like, shape (classes, k)
        ``capture[c, j]`` is the probability that a member of class ``c`` is on list ``j``.

    Returns
    -------
    ndarray, shape (2**k,)
        Probability of each capture pattern, cell 0 (on no list) first, the first list most significant.

    References
    ----------
    .. [1] Manrique-Vallier, D. (2016). Bayesian population size estimation using Dirichlet process mixtures.
       *Biometrics* 72(4), 1246-1254.

    Examples
    --------
    >>> latent_class_cells([0.5, 0.5], [[0.1, 0.1], [0.6, 0.6]]).round(3).tolist()
    [0.485, 0.165, 0.165, 0.185]
    """
    capture = np.atleast_2d(np.asarray(capture, dtype=float))
    return np.sum([w * independent_cells(p) for w, p in zip(weights, capture)], axis=0)


def loglinear_cells(capture: Sequence[float], log_odds_ratios: Mapping[tuple[int, int], float]) -> np.ndarray:
    """Cell probabilities with given list margins and pairwise log odds ratios (``-inf``: the pair never overlaps).

    Starts from the log-linear model with the given two-way interaction terms and main effects zero, then
    rescales each list's margin to its target by iterative proportional fitting, which leaves every
    conditional odds ratio unchanged [1]_.

    Parameters
    ----------
    capture : sequence of float
        Each list's marginal probability of recording a person.
    log_odds_ratios : mapping of (int, int) to float
        Two-way interaction of lists ``i`` and ``j`` (indices); pairs not given are 0 (conditionally
        independent).

    Returns
    -------
    ndarray, shape (2**k,)
        Probability of each capture pattern, cell 0 (on no list) first, the first list most significant.

    References
    ----------
    .. [1] Bishop, Y. M. M., Fienberg, S. E. and Holland, P. W. (1975). *Discrete Multivariate Analysis: Theory
       and Practice*. MIT Press, chapter 3.

    Examples
    --------
    Two lists each recording 30%, with log odds ratio 1 (odds ratio e):

    >>> loglinear_cells([0.3, 0.3], {(0, 1): 1.0}).round(3).tolist()
    [0.536, 0.164, 0.164, 0.136]
    """
    capture = np.asarray(capture, dtype=float)
    patterns = pattern_matrix(len(capture)).astype(float)
    with np.errstate(invalid="ignore"):
        log_weight = np.zeros(len(patterns))
        for (i, j), value in log_odds_ratios.items():
            both = patterns[:, i] * patterns[:, j] == 1
            log_weight = np.where(both, log_weight + value, log_weight)
    cells = np.exp(log_weight - np.max(log_weight))
    cells /= cells.sum()
    for _ in range(10_000):
        for j, target in enumerate(capture):
            margin = cells[patterns[:, j] == 1].sum()
            cells = np.where(patterns[:, j] == 1, cells * target / margin, cells * (1 - target) / (1 - margin))
        margins = patterns.T @ cells
        if np.max(np.abs(margins - capture)) < 1e-13:
            break
    return cells / cells.sum()


def referral_cells(capture: Sequence[float], source: int, target: int, referral: float) -> np.ndarray:
    """Cells where list ``target`` records everyone on ``source`` with probability ``referral``.

    Those not on ``source`` reach ``target`` with probability ``capture[target]``; other lists are independent.
    A positive dependence between two lists of the kind that makes independence-based estimates too low
    (one source referring its cases to another).

    Parameters
    ----------
    capture : sequence of float
        Each list's probability of recording a person (for ``target``: of one not on ``source``).
    source, target : int
        Indices of the referring list and of the list it refers to.
    referral : float
        Probability that ``target`` records someone on ``source``.

    Returns
    -------
    ndarray, shape (2**k,)
        Probability of each capture pattern, cell 0 (on no list) first, the first list most significant.

    Examples
    --------
    >>> referral_cells([0.3, 0.2], source=0, target=1, referral=0.9).round(3).tolist()
    [0.56, 0.14, 0.03, 0.27]
    """
    capture = np.asarray(capture, dtype=float)
    patterns = pattern_matrix(capture.size)
    cells = np.ones(len(patterns))
    for j, p in enumerate(capture):
        if j == target:
            continue
        cells *= np.where(patterns[:, j] == 1, p, 1 - p)
    p_target = np.where(patterns[:, source] == 1, referral, capture[target])
    return cells * np.where(patterns[:, target] == 1, p_target, 1 - p_target)
