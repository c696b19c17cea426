"""Simulated closed populations observed by k lists, with known truth: the scenarios of the benchmark study.

Every generator builds the probability of each of the 2**k capture patterns (cell 0 = on no list) and draws the
N members of a closed population into the cells with one multinomial draw. For individual-level mechanisms
(independent lists, latent classes, referral) the multinomial over cells has exactly the distribution of drawing
each person's lists independently, so nothing is lost by working with cells, and each replicate costs O(2**k).

Scenarios (see :func:`scenarios`):

(a) independent homogeneous lists (:func:`independent_lists`);
(b) individual heterogeneity: a two-class population after Manrique-Vallier (2016) (:func:`two_class_heterogeneity`,
    general :func:`latent_class_lists`);
(c) positive and negative pairwise dependence with the list margins held fixed (:func:`dependent_lists`) and
    referral, where being on one list makes another almost certain (:func:`referral_lists`);
(d) sparse lists where some pairs never overlap (:func:`sparse_lists`);
(e) low capture, every list below 0.15 (:func:`independent_lists` with small probabilities);
(f) a conflict observed over days, the generative story of :func:`estimators.daily_rates`
    (:func:`simulate_conflict`);
(g) tables resampled from log-linear models fitted to the shipped real datasets (:func:`resampled_table`), as
    Chan, Silverman & Vincent (2021) did, so the truth is known but the structure is real.

References
----------
1. Manrique-Vallier, D. (2016). Bayesian population size estimation using Dirichlet process mixtures.
   Biometrics 72(4), 1246-1254.
2. Chan, L., Silverman, B. W. & Vincent, K. (2021). Multiple systems estimation for sparse capture data:
   inferential challenges when there are nonoverlapping lists. Journal of the American Statistical Association
   116(535), 1297-1306.
3. Fienberg, S. E. (1972). The multiple recapture census for closed populations and incomplete 2^k contingency
   tables. Biometrika 59(3), 591-603.
"""

from __future__ import annotations

import numbers
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations

import numpy as np
import pandas as pd

from ._daily._inputs import SurveyObservation, Tally, _at_least
from ._validation import check_positive, check_positive_int, check_random_seed
from .exceptions import DataError
from .histories import CaptureHistories, pattern_matrix

__all__ = [
    "Simulation",
    "Scenario",
    "from_cell_probabilities",
    "independent_lists",
    "latent_class_lists",
    "two_class_heterogeneity",
    "dependent_lists",
    "referral_lists",
    "sparse_lists",
    "resampled_table",
    "fitted_real_model",
    "simulate_conflict",
    "scenarios",
    "SUITES",
]

# Manrique-Vallier (2016, Section 5) simulation: 90% of the population in a hard-to-list class and 10% in an
# easy-to-list class, 5 lists, N = 2,000. The probabilities below are those we read for the paper's design
# (the paper itself was not reachable from this session; see the module README of benchmarks).
MV2016_WEIGHTS = (0.9, 0.1)
MV2016_CAPTURE = (
    (0.033, 0.033, 0.099, 0.132, 0.033),
    (0.660, 0.825, 0.759, 0.990, 0.693),
)


@dataclass(frozen=True)
class Simulation:
    """One simulated table and the truth it was drawn from.

    Unpacks as ``histories, truth = simulation``.

    Attributes
    ----------
    histories : CaptureHistories
        The observed table (people on at least one list).
    truth : int
        The true population size N.
    scenario : str
        Name of the generator or scenario.
    probabilities : ndarray
        The 2**k cell probabilities used (index 0 = on no list), read-only.
    """

    histories: CaptureHistories
    truth: int
    scenario: str
    probabilities: np.ndarray

    def __iter__(self):
        yield self.histories
        yield self.truth

    @property
    def unlisted(self) -> int:
        """The true number on no list (N - n_observed)."""
        return self.truth - self.histories.n_observed


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


def from_cell_probabilities(probabilities, n: int, *, lists=None, random_seed=None, scenario: str = "custom"):
    """Draw a closed population of ``n`` into the 2**k capture patterns and return the observed table.

    Parameters
    ----------
    probabilities : array of length 2**k
        Probability of each pattern, index read as a binary number with the first list most significant; index 0
        (on no list) is the unobserved cell. Must sum to 1.
    n : int
        True population size N.
    lists : sequence of str, optional
        List names (default ``"A", "B", ...``).
    random_seed : None, int or numpy Generator
        Same seed, same table.
    scenario : str
        Label stored in the result.

    Returns
    -------
    Simulation
        ``histories`` (CaptureHistories of the observed cells), ``truth`` (= n), ``probabilities``.

    Raises
    ------
    DataError
        If a list ends up with no records (the table would carry no information about that list).

    Examples
    --------
    >>> sim = from_cell_probabilities([0.5, 0.2, 0.2, 0.1], 1000, random_seed=1)
    >>> sim.truth, sim.histories.lists
    (1000, ('A', 'B'))
    """
    probabilities = np.asarray(probabilities, dtype=float)
    k = int(np.log2(probabilities.size)) if probabilities.size > 1 else 0
    if k < 2 or probabilities.size != 2**k or probabilities.ndim != 1:
        raise ValueError(f"`probabilities` must be a flat array of length 2**k with k >= 2; got {probabilities.shape}.")
    if np.any(~np.isfinite(probabilities)) or np.any(probabilities < 0) or abs(probabilities.sum() - 1) > 1e-9:
        raise ValueError("`probabilities` must be non-negative and sum to 1.")
    n = check_positive_int("n", n)
    rng = check_random_seed(random_seed)
    names = _list_names(lists, k)
    counts = rng.multinomial(n, probabilities / probabilities.sum())
    counts[0] = 0
    histories = CaptureHistories(lists=names, patterns=pattern_matrix(k), counts=counts.astype(float))
    frozen = probabilities.copy()
    frozen.flags.writeable = False
    return Simulation(histories=histories, truth=n, scenario=scenario, probabilities=frozen)


def independent_lists(n: int = 1000, capture: Sequence[float] = (0.3, 0.3, 0.3, 0.3), *, lists=None, random_seed=None):
    """Scenario (a)/(e): k independent lists, every person with the same capture probability on each list.

    The model of Mt (Darroch 1958): all log-linear, latent-class and graphical methods hold here.

    Parameters
    ----------
    n : int
        True population size.
    capture : sequence of float
        Capture probability of each list, in (0, 1); the number of lists is its length (>= 2).
    lists, random_seed
        As in :func:`from_cell_probabilities`.

    Returns
    -------
    Simulation

    References
    ----------
    Darroch, J. N. (1958). The multiple-recapture census. I: Estimation of a closed population.
    Biometrika 45(3/4), 343-359.

    Examples
    --------
    >>> histories, truth = independent_lists(500, (0.4, 0.5, 0.3), random_seed=3)
    >>> truth, histories.k
    (500, 3)
    """
    capture = _check_probabilities("capture", capture)
    return from_cell_probabilities(
        independent_cells(capture), n, lists=lists, random_seed=random_seed, scenario="independent"
    )


def latent_class_lists(n: int, weights: Sequence[float], capture, *, lists=None, random_seed=None):
    """Scenario (b): individual heterogeneity as a finite mixture of classes with independent lists within class.

    Parameters
    ----------
    n : int
        True population size.
    weights : sequence of float
        Share of the population in each class (sums to 1).
    capture : array (classes, k)
        ``capture[c][j]``: probability that a member of class c is on list j.
    lists, random_seed
        As in :func:`from_cell_probabilities`.

    Returns
    -------
    Simulation

    References
    ----------
    Manrique-Vallier, D. (2016). Bayesian population size estimation using Dirichlet process mixtures.
    Biometrics 72(4), 1246-1254.

    Examples
    --------
    >>> sim = latent_class_lists(1000, (0.5, 0.5), [[0.1, 0.1, 0.1], [0.6, 0.6, 0.6]], random_seed=0)
    >>> sim.histories.k
    3
    """
    weights = _check_probabilities("weights", weights, allow_one=True)
    if abs(weights.sum() - 1) > 1e-9:
        raise ValueError(f"`weights` must sum to 1; got {weights.tolist()!r} (sum {weights.sum():g}).")
    capture = _check_probabilities("capture", np.atleast_2d(capture))
    if capture.shape[0] != weights.size:
        raise ValueError(f"`capture` must have one row per class ({weights.size}); got shape {capture.shape}.")
    return from_cell_probabilities(
        latent_class_cells(weights, capture), n, lists=lists, random_seed=random_seed, scenario="latent_class"
    )


def two_class_heterogeneity(n: int = 2000, *, random_seed=None):
    """Scenario (b): the two-class population of Manrique-Vallier (2016): 5 lists, 90% hard and 10% easy to list.

    Class 1 (90%) has capture probabilities (0.033, 0.033, 0.099, 0.132, 0.033) and class 2 (10%)
    (0.660, 0.825, 0.759, 0.990, 0.693). Lists are independent within each class; marginally they are strongly
    positively dependent, which defeats independence models and pulls log-linear models downwards.

    Parameters
    ----------
    n : int
        True population size (the paper uses 2,000).
    random_seed : None, int or numpy Generator

    Returns
    -------
    Simulation

    References
    ----------
    Manrique-Vallier, D. (2016). Bayesian population size estimation using Dirichlet process mixtures.
    Biometrics 72(4), 1246-1254.

    Examples
    --------
    >>> two_class_heterogeneity(random_seed=1).histories.k
    5
    """
    sim = latent_class_lists(n, MV2016_WEIGHTS, MV2016_CAPTURE, random_seed=random_seed)
    return Simulation(sim.histories, sim.truth, "two_class_heterogeneity", sim.probabilities)


def _pair_index(pair, names: tuple[str, ...]) -> tuple[int, int]:
    if not isinstance(pair, tuple) or len(pair) != 2:
        raise ValueError(f"Each key of `log_odds_ratios` must be a pair of lists; got {pair!r}.")
    index = []
    for item in pair:
        if isinstance(item, str):
            if item not in names:
                raise ValueError(f"Unknown list {item!r} in `log_odds_ratios`; lists are {list(names)!r}.")
            index.append(names.index(item))
        elif isinstance(item, (int, np.integer)) and 0 <= item < len(names):
            index.append(int(item))
        else:
            raise ValueError(f"List {item!r} in `log_odds_ratios` must be a list name or index < {len(names)}.")
    if index[0] == index[1]:
        raise ValueError(f"A pair in `log_odds_ratios` must name two different lists; got {pair!r}.")
    return index[0], index[1]


def dependent_lists(
    n: int = 2000,
    capture: Sequence[float] = (0.25, 0.25, 0.25, 0.25),
    log_odds_ratios: Mapping | None = None,
    *,
    lists=None,
    random_seed=None,
):
    """Scenario (c)/(d): pairwise list dependence with each list's capture probability held fixed.

    The cell probabilities follow a log-linear model with the given two-way interactions: the log odds ratio of
    a pair, conditional on the other lists, is the given value (positive: being on one list makes the other more
    likely; negative: less likely; ``-inf``: the two lists never share anyone). The main effects are then set
    by iterative proportional fitting so that each list's marginal capture probability equals ``capture``.

    Parameters
    ----------
    n : int
        True population size.
    capture : sequence of float
        Marginal capture probability of each list.
    log_odds_ratios : mapping {(list, list): float}
        Lists by name or index; pairs not named are conditionally independent.
    lists, random_seed
        As in :func:`from_cell_probabilities`.

    Returns
    -------
    Simulation

    References
    ----------
    Fienberg, S. E. (1972). The multiple recapture census for closed populations and incomplete 2^k contingency
    tables. Biometrika 59(3), 591-603.

    Examples
    --------
    >>> sim = dependent_lists(2000, (0.3, 0.3, 0.3), {("A", "B"): 1.5}, random_seed=2)
    >>> sim.histories.k
    3
    """
    capture = _check_probabilities("capture", capture)
    names = _list_names(lists, capture.size)
    pairs = {}
    for pair, value in (log_odds_ratios or {}).items():
        value = float(value)
        if np.isnan(value) or value == np.inf:
            raise ValueError(f"Log odds ratio of {pair!r} must be finite or -inf; got {value!r}.")
        pairs[_pair_index(pair, names)] = value
    cells = loglinear_cells(capture, pairs)
    return from_cell_probabilities(cells, n, lists=names, random_seed=random_seed, scenario="dependent")


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


def referral_lists(
    n: int = 2000,
    capture: Sequence[float] = (0.25, 0.25, 0.25, 0.25),
    *,
    source: int = 0,
    target: int = 1,
    referral: float = 0.95,
    lists=None,
    random_seed=None,
):
    """Scenario (c): referral. Being on list ``source`` makes being on ``target`` almost certain.

    For example a hospital list that forwards every death it records to the civil registry. Strong positive
    dependence between the pair: independence-based estimators then underestimate N.

    Parameters
    ----------
    n : int
        True population size.
    capture : sequence of float
        Capture probability of each list; for ``target`` it applies to people not on ``source``.
    source, target : int
        Indices of the referring and the receiving list.
    referral : float
        P(on target | on source).
    lists, random_seed
        As in :func:`from_cell_probabilities`.

    Returns
    -------
    Simulation

    Examples
    --------
    >>> sim = referral_lists(2000, (0.2, 0.2, 0.3, 0.3), random_seed=4)
    >>> sim.histories.k
    4
    """
    capture = _check_probabilities("capture", capture)
    referral = float(_check_probabilities("referral", [referral], allow_one=True)[0])
    k = capture.size
    for name, value in (("source", source), ("target", target)):
        if not isinstance(value, (int, np.integer)) or not 0 <= value < k:
            raise ValueError(f"`{name}` must be a list index in 0..{k - 1}; got {value!r}.")
    if source == target:
        raise ValueError(f"`source` and `target` must differ; both are {source}.")
    cells = referral_cells(capture, int(source), int(target), referral)
    return from_cell_probabilities(cells, n, lists=lists, random_seed=random_seed, scenario="referral")


def sparse_lists(
    n: int = 1500,
    capture: Sequence[float] = (0.3, 0.25, 0.2, 0.15),
    never_overlap: Sequence[tuple] = ((0, 3), (1, 3)),
    *,
    lists=None,
    random_seed=None,
):
    """Scenario (d): sparse lists, some pairs of which never share anyone (structural zeros).

    As in Chan, Silverman & Vincent (2021): lists that cover different places or groups so that some pairs have
    no overlap at all. The MLE of saturated-enough log-linear models then does not exist.

    Parameters
    ----------
    n : int
        True population size.
    capture : sequence of float
        Marginal capture probability of each list.
    never_overlap : sequence of pairs
        Pairs of lists (names or indices) that never share a person.
    lists, random_seed
        As in :func:`from_cell_probabilities`.

    Returns
    -------
    Simulation

    References
    ----------
    Chan, L., Silverman, B. W. & Vincent, K. (2021). Multiple systems estimation for sparse capture data:
    inferential challenges when there are nonoverlapping lists. JASA 116(535), 1297-1306.

    Examples
    --------
    >>> h, truth = sparse_lists(random_seed=5)
    >>> int(h.overlaps.iloc[0, 3])
    0
    """
    sim = dependent_lists(
        n, capture, {tuple(pair): -np.inf for pair in never_overlap}, lists=lists, random_seed=random_seed
    )
    return Simulation(sim.histories, sim.truth, "sparse", sim.probabilities)


# ---------------------------------------------------------------------------------------------- real-data models
def _two_way_design(k: int, terms: Sequence[tuple[int, int]]) -> np.ndarray:
    patterns = pattern_matrix(k)[1:].astype(float)
    columns = [np.ones(len(patterns)), *patterns.T, *(patterns[:, i] * patterns[:, j] for i, j in terms)]
    return np.column_stack(columns)


@dataclass(frozen=True)
class RealModel:
    """A log-linear model fitted to a real table, used as the truth for resampling.

    Attributes
    ----------
    dataset : str
    lists : tuple of str
    interactions : tuple of (int, int)
        The two-way terms chosen (list indices).
    truth : int
        The fitted N, rounded: the population size of every resampled table.
    probabilities : ndarray
        Fitted probability of each of the 2**k cells (index 0 = unlisted).
    """

    dataset: str
    lists: tuple[str, ...]
    interactions: tuple[tuple[int, int], ...]
    truth: int
    probabilities: np.ndarray

    @property
    def model(self) -> str:
        """The model in hierarchical bracket notation over list numbers (1-based)."""
        k = len(self.lists)
        inside = {j for pair in self.interactions for j in pair}
        terms = [f"{i + 1}{j + 1}" for i, j in self.interactions] + [str(j + 1) for j in range(k) if j not in inside]
        return "[" + ",".join(terms) + "]"


def _fit_two_way(histories: CaptureHistories, terms) -> tuple[float, float, np.ndarray] | None:
    from ._loglinear._glm import fit_poisson

    y = histories.dense_counts()[1:].astype(float)
    design = _two_way_design(histories.k, terms)
    fit = fit_poisson(design, y)
    if not fit.converged or not np.all(np.isfinite(fit.coef)):
        return None
    unlisted = float(np.exp(fit.coef[0]))
    bic = fit.deviance + design.shape[1] * np.log(y.sum())
    return bic, unlisted, fit.fitted


@lru_cache(maxsize=None)
def fitted_real_model(dataset: str, max_ratio: float = 10.0) -> RealModel:
    """Fit main effects plus BIC-selected two-way interactions to a shipped dataset; return it as a truth.

    Forward selection: starting from independence, add the two-way interaction that lowers BIC most (BIC with
    the number of observed people, as Rcapture), while the fit converges and the fitted N stays below
    ``max_ratio`` times the observed count (a guard against models whose MLE is near non-existence, which
    would make a poor truth). This mirrors Chan, Silverman & Vincent (2021), who simulated from models fitted
    to the real tables.

    Parameters
    ----------
    dataset : str
        Name of a shipped closed-population dataset (see :func:`estimators.list_datasets`); strata are summed.
    max_ratio : float
        Largest N / n accepted for a candidate model.

    Returns
    -------
    RealModel

    Examples
    --------
    >>> model = fitted_real_model("CARE1_HAV")
    >>> model.truth > 271
    True
    """
    from .datasets import load_dataset

    histories = load_dataset(dataset, collapse=True)
    n = histories.n_observed
    k = histories.k
    chosen: list[tuple[int, int]] = []
    best = _fit_two_way(histories, chosen)
    if best is None:
        raise DataError(f"The independence model does not converge on {dataset!r}; it cannot serve as a truth.")
    while True:
        candidates = []
        for pair in combinations(range(k), 2):
            if pair in chosen:
                continue
            result = _fit_two_way(histories, [*chosen, pair])
            if result is not None and n + result[1] <= max_ratio * n:
                candidates.append((result[0], pair, result))
        # a model needs at least one degree of freedom left: 2**k - 1 cells against 1 + k + terms parameters
        candidates = [c for c in candidates if 1 + k + len(chosen) + 1 < 2**k - 1]
        if not candidates:
            break
        bic, pair, result = min(candidates, key=lambda c: c[0])
        if bic >= best[0]:
            break
        chosen.append(pair)
        best = result
    _, unlisted, fitted = best
    truth = int(round(n + unlisted))
    cells = np.concatenate([[unlisted], fitted])
    cells = cells / cells.sum()
    cells.flags.writeable = False
    return RealModel(dataset, histories.lists, tuple(chosen), truth, cells)


def resampled_table(dataset: str, *, random_seed=None):
    """Scenario (g): a table drawn from the log-linear model fitted to a real dataset (truth = its fitted N).

    Parameters
    ----------
    dataset : str
        A shipped closed-population dataset, e.g. ``"LCMCR_kosovo"``.
    random_seed : None, int or numpy Generator

    Returns
    -------
    Simulation

    References
    ----------
    Chan, L., Silverman, B. W. & Vincent, K. (2021). Multiple systems estimation for sparse capture data:
    inferential challenges when there are nonoverlapping lists. JASA 116(535), 1297-1306.

    Examples
    --------
    >>> sim = resampled_table("CARE1_HAV", random_seed=0)
    >>> sim.histories.lists
    ('L1', 'L2', 'L3')
    """
    model = fitted_real_model(dataset)
    sim = from_cell_probabilities(model.probabilities, model.truth, lists=model.lists, random_seed=random_seed)
    return Simulation(sim.histories, sim.truth, f"resampled_{dataset}", sim.probabilities)


# ------------------------------------------------------------------------------------------------- (f) conflict
@dataclass(frozen=True)
class SimulatedConflict:
    """A simulated conflict: the sources an analyst would have, and the truth behind them.

    Attributes
    ----------
    lists : DataFrame
        Matched lists: one 0/1 column per list, ``day`` and ``count`` (one row per observed pattern and day).
    survey : SurveyObservation
        The clustered survey's deaths, person-days, estimated design effect and recall window.
    survey_households : DataFrame
        The survey's households: ``cluster``, ``members``, ``deaths``, ``person_days``.
    tallies : tuple of Tally
        Unmatched tallies (empty unless ``tally_coverage`` was given).
    rate : ndarray
        True expected deaths per day.
    deaths : ndarray
        Deaths that happened each day.
    population : float
    coverage : DataFrame
        Each list's true coverage per day.
    """

    lists: pd.DataFrame
    survey: SurveyObservation | None
    survey_households: pd.DataFrame | None
    tallies: tuple
    rate: np.ndarray
    deaths: np.ndarray
    population: float
    coverage: pd.DataFrame
    settings: Mapping = field(default_factory=dict)

    @property
    def days(self) -> int:
        return len(self.rate)

    @property
    def total(self) -> int:
        return int(self.deaths.sum())

    @property
    def mean_rate(self) -> float:
        return float(self.rate.mean())


def _logit_shift_for_coverage(alpha, gamma_matrix, j, target):
    """Shift of list j's main effect that makes its marginal coverage equal ``target`` (for drifting coverage)."""
    from scipy.optimize import brentq

    def coverage(shift):
        a = np.array(alpha, dtype=float)
        a[j] += shift
        return _pattern_probabilities(a, gamma_matrix)[1] - target

    return brentq(lambda s: coverage(s)[j], -20, 20)


def _pattern_probabilities(alpha, gamma_matrix):
    k = len(alpha)
    X = pattern_matrix(k).astype(float)
    eta = X @ np.asarray(alpha, float) + np.einsum("hi,ij,hj->h", X, np.triu(gamma_matrix, 1), X)
    p = np.exp(eta - eta.max())
    p /= p.sum()
    return p, p @ X


def simulate_conflict(
    days: int = 120,
    *,
    mean_rate: float = 50.0,
    rw_sd: float = 0.08,
    capture_logits: Sequence[float] = (-0.8, -1.2, -1.6),
    interactions: Mapping[tuple[int, int], float] | None = None,
    coverage_change: Mapping[int, tuple[int, float]] | None = None,
    population: float = 500_000.0,
    survey_clusters: int | None = 30,
    households_per_cluster: int = 20,
    household_size: float = 6.0,
    cluster_sd: float = 0.4,
    survey_bias: float = 1.0,
    tally_coverage: float | None = None,
    random_seed=None,
) -> SimulatedConflict:
    """Simulate a conflict's daily deaths and the sources that record them (the joint model's generative story).

    The log rate is a Gaussian random walk around ``log(mean_rate)``; each day's deaths are Poisson. Each death
    falls in capture pattern ``h`` with log-linear probability ``exp(h.alpha + sum h_i h_j gamma_ij) / Z``
    (heterogeneous lists through ``capture_logits``, dependent lists through ``interactions``). A survey of
    ``survey_clusters`` x ``households_per_cluster`` households over the whole study has cluster frailties
    (log-normal, sd ``cluster_sd``) and is biased by the factor ``survey_bias``.

    Parameters
    ----------
    coverage_change : {list index: (day, factor)}, optional
        From ``day`` on, the list's marginal coverage is ``factor`` times what it was (misspecification study).
    tally_coverage : float, optional
        Add an unmatched tally recording each death with this probability, independently of the lists.

    Examples
    --------
    >>> sim = simulate_conflict(120, random_seed=1)
    >>> sim.lists.columns.tolist()
    ['A', 'B', 'C', 'day', 'count']
    """
    days = check_positive_int("days", days, minimum=2)
    rng = check_random_seed(random_seed)
    for name, value in (("mean_rate", mean_rate), ("population", population), ("household_size", household_size)):
        check_positive(name, value)
    if household_size < 1:
        raise ValueError(f"`household_size` is the mean number of members (>= 1); got {household_size!r}.")
    for name, value in (("rw_sd", rw_sd), ("cluster_sd", cluster_sd), ("survey_bias", survey_bias)):
        _at_least(value, f"`{name}`", error=ValueError)
    if survey_clusters:
        # the survey's design effect compares clusters: one cluster has no between-cluster variance
        check_positive_int("survey_clusters", survey_clusters, minimum=2)
        check_positive_int("households_per_cluster", households_per_cluster)
    if tally_coverage is not None and not (isinstance(tally_coverage, numbers.Real) and 0 <= tally_coverage <= 1):
        raise ValueError(f"`tally_coverage` must be None or a probability in [0, 1]; got {tally_coverage!r}.")
    k = len(capture_logits)
    if k < 1 or not np.all(np.isfinite(np.asarray(capture_logits, dtype=float))):
        raise ValueError(f"`capture_logits` must be one finite log-odds per list (at least one); got {capture_logits!r}.")
    names = [chr(ord("A") + j) for j in range(k)]
    if interactions is None:
        interactions = {(0, 1): 0.6, (1, 2): -0.4} if k >= 3 else {}
    gamma = np.zeros((k, k))
    for pair, value in interactions.items():
        if not (isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(j, numbers.Integral) and 0 <= j < k
                                                                   for j in pair) and pair[0] != pair[1]):
            raise ValueError(f"`interactions` keys must be pairs of two different list indices in 0..{k - 1}; "
                             f"got {pair!r}.")
        i, j = pair
        gamma[min(i, j), max(i, j)] = value
    walk = np.concatenate([[0.0], np.cumsum(rng.normal(0, rw_sd, days - 1))])
    rate = mean_rate * np.exp(walk - walk.mean())
    deaths = rng.poisson(rate)

    alpha = np.array(capture_logits, dtype=float)
    _, coverage_before = _pattern_probabilities(alpha, gamma)
    shifts = {}  # list index -> (first day changed, shift of its log-odds)
    for j, change in (coverage_change or {}).items():
        if not (isinstance(j, numbers.Integral) and 0 <= j < k and isinstance(change, Sequence) and len(change) == 2):
            raise ValueError(f"`coverage_change` maps a list index in 0..{k - 1} to (day, factor); got {j!r}: "
                             f"{change!r}.")
        day, factor = change
        target = coverage_before[j] * factor
        if not (isinstance(day, numbers.Integral) and 0 <= day < days) or not 0 < target < 1:
            raise ValueError(f"`coverage_change` of list {j}: the day must be in 0..{days - 1} and factor x coverage "
                             f"({coverage_before[j]:.3f}) in (0, 1); got day {day!r}, factor {factor!r}.")
        shifts[j] = (int(day), _logit_shift_for_coverage(alpha, gamma, j, target))
    # each list changes on its own day: the pattern probabilities of a day depend on which lists have changed
    regimes = {}
    rows, coverage_rows = [], []
    for d in range(days):
        changed = tuple(j for j, (day, _) in sorted(shifts.items()) if d >= day)
        if changed not in regimes:
            shifted = alpha.copy()
            for j in changed:
                shifted[j] += shifts[j][1]
            regimes[changed] = _pattern_probabilities(shifted, gamma)
        p, list_coverage = regimes[changed]
        coverage_rows.append(list_coverage)
        cells = rng.multinomial(deaths[d], p)
        for index in np.flatnonzero(cells[1:]) + 1:
            rows.append((*((index >> np.arange(k - 1, -1, -1)) & 1), d, cells[index]))
    lists = pd.DataFrame(rows, columns=[*names, "day", "count"])
    coverage = pd.DataFrame(coverage_rows, columns=names)

    survey = households = None
    if survey_clusters:
        n = survey_clusters * households_per_cluster
        cluster = np.repeat(np.arange(survey_clusters), households_per_cluster)
        frailty = np.exp(rng.normal(-cluster_sd**2 / 2, cluster_sd, survey_clusters))[cluster]
        members = 1 + rng.poisson(household_size - 1, n)
        person_days = members * float(days)
        deaths_h = rng.poisson(survey_bias * frailty * person_days * rate.mean() / population)
        households = pd.DataFrame({"cluster": cluster, "members": members, "deaths": deaths_h,
                                   "person_days": person_days})
        by = households.groupby("cluster")[["deaths", "person_days"]].sum().to_numpy()
        y, e = by[:, 0], by[:, 1]
        r = y.sum() / e.sum()
        m = len(y)
        var_cluster = m / (m - 1) * np.sum((y - r * e) ** 2) / e.sum() ** 2
        var_srs = max(r, 0.5 / e.sum()) / e.sum()
        survey = SurveyObservation(deaths=float(y.sum()), person_days=float(e.sum()),
                                   design_effect=float(max(var_cluster / var_srs, 1.0)),
                                   start_day=0, end_day=days - 1, name="survey")
    tallies = ()
    if tally_coverage is not None:
        tallies = (Tally("tally", float(rng.binomial(deaths.sum(), tally_coverage)), 0, days - 1),)
    settings = dict(days=days, mean_rate=mean_rate, rw_sd=rw_sd, capture_logits=list(capture_logits),
                    interactions={f"{i}-{j}": v for (i, j), v in interactions.items()},
                    coverage_change=dict(coverage_change or {}), population=population,
                    survey_bias=survey_bias, tally_coverage=tally_coverage)
    return SimulatedConflict(lists=lists, survey=survey, survey_households=households, tallies=tallies,
                             rate=rate, deaths=deaths, population=float(population), coverage=coverage,
                             settings=settings)


# ------------------------------------------------------------------------------------------------- scenario suites
_GENERATORS = {
    "independent_lists": independent_lists,
    "two_class_heterogeneity": two_class_heterogeneity,
    "latent_class_lists": latent_class_lists,
    "dependent_lists": dependent_lists,
    "referral_lists": referral_lists,
    "sparse_lists": sparse_lists,
    "resampled_table": resampled_table,
}


@dataclass(frozen=True)
class Scenario:
    """A named simulation design: a generator of this module and its parameters.

    Attributes
    ----------
    name : str
    generator : str
        Name of the generating function in :mod:`estimators.simulate`.
    parameters : tuple of (str, value)
        Keyword arguments of the generator (frozen as pairs).
    description : str
        What the scenario represents.
    holds : str
        The assumptions that hold in it ("independence", "heterogeneity", "two-way dependence", ...),
        so a report can judge each method where its assumptions hold.
    """

    name: str
    generator: str
    parameters: tuple
    description: str
    holds: str

    @property
    def kwargs(self) -> dict:
        """The generator's keyword arguments (pairs given as tuples become the mappings the generator takes)."""
        kwargs = dict(self.parameters)
        if "log_odds_ratios" in kwargs:
            kwargs["log_odds_ratios"] = dict(kwargs["log_odds_ratios"])
        return kwargs

    def simulate(self, random_seed=None) -> Simulation:
        """One replicate of the scenario."""
        sim = _GENERATORS[self.generator](**self.kwargs, random_seed=random_seed)
        return Simulation(sim.histories, sim.truth, self.name, sim.probabilities)

    def seed(self, replicate: int, base_seed: int = 20261125) -> int:
        """The seed of replicate ``replicate``: fixed by the scenario's name, the replicate and ``base_seed``."""
        sequence = np.random.SeedSequence([base_seed, zlib.crc32(self.name.encode()), int(replicate)])
        return int(sequence.generate_state(1, dtype=np.uint32)[0])


def _scenario(name, generator, description, holds, **parameters) -> Scenario:
    return Scenario(name, generator, tuple(parameters.items()), description, holds)


def _all_scenarios() -> dict[str, Scenario]:
    items = [
        _scenario("independent_k3", "independent_lists", "3 independent lists, N = 500, p = 0.3/0.4/0.35",
                  "independence", n=500, capture=(0.3, 0.4, 0.35)),
        _scenario("independent_k4", "independent_lists", "4 independent lists, N = 1,000, p = 0.2-0.35",
                  "independence", n=1000, capture=(0.2, 0.25, 0.3, 0.35)),
        _scenario("heterogeneity_mv2016", "two_class_heterogeneity",
                  "Manrique-Vallier (2016): 5 lists, N = 2,000, 90% hard / 10% easy to list", "heterogeneity",
                  n=2000),
        _scenario("heterogeneity_k4", "latent_class_lists",
                  "4 lists, N = 1,000, two classes 70% p = 0.1-0.2 / 30% p = 0.5-0.6", "heterogeneity",
                  n=1000, weights=(0.7, 0.3), capture=((0.1, 0.15, 0.2, 0.15), (0.5, 0.6, 0.55, 0.5))),
        _scenario("positive_dependence", "dependent_lists",
                  "4 lists p = 0.25, N = 2,000, log OR(A,B) = +1.5", "two-way dependence",
                  n=2000, capture=(0.25, 0.25, 0.25, 0.25), log_odds_ratios=(((0, 1), 1.5),)),
        _scenario("negative_dependence", "dependent_lists",
                  "4 lists p = 0.25, N = 2,000, log OR(A,B) = -1.5", "two-way dependence",
                  n=2000, capture=(0.25, 0.25, 0.25, 0.25), log_odds_ratios=(((0, 1), -1.5),)),
        _scenario("referral", "referral_lists",
                  "4 lists p = 0.2/0.2/0.3/0.3, N = 2,000; P(B | A) = 0.95", "two-way dependence",
                  n=2000, capture=(0.2, 0.2, 0.3, 0.3), source=0, target=1, referral=0.95),
        _scenario("sparse_no_overlap", "sparse_lists",
                  "4 lists p = 0.3/0.25/0.2/0.15, N = 1,500; A-D and B-D never overlap", "two-way dependence",
                  n=1500, capture=(0.3, 0.25, 0.2, 0.15), never_overlap=((0, 3), (1, 3))),
        _scenario("low_capture", "independent_lists", "4 independent lists, N = 3,000, p = 0.06-0.14",
                  "independence", n=3000, capture=(0.06, 0.09, 0.12, 0.14)),
    ]
    for dataset in ("LCMCR_kosovo", "Rcapture_HIV", "CARE1_HAV", "CARE1_Diabetes", "CARE1_Congenital",
                    "SparseMSE_UKdat_5", "SparseMSE_Western"):
        items.append(_scenario(f"resampled_{dataset}", "resampled_table",
                               f"resampled from a BIC-selected two-way log-linear fit to {dataset}",
                               "two-way dependence", dataset=dataset))
    return {s.name: s for s in items}


SUITES = {
    "quick": ("independent_k3", "heterogeneity_k4", "referral", "sparse_no_overlap"),
    "standard": (
        "independent_k4",
        "heterogeneity_mv2016",
        "positive_dependence",
        "negative_dependence",
        "referral",
        "sparse_no_overlap",
        "low_capture",
        "resampled_LCMCR_kosovo",
        "resampled_CARE1_HAV",
    ),
    "full": (
        "independent_k3",
        "independent_k4",
        "heterogeneity_mv2016",
        "heterogeneity_k4",
        "positive_dependence",
        "negative_dependence",
        "referral",
        "sparse_no_overlap",
        "low_capture",
        "resampled_LCMCR_kosovo",
        "resampled_Rcapture_HIV",
        "resampled_CARE1_HAV",
        "resampled_CARE1_Diabetes",
        "resampled_CARE1_Congenital",
        "resampled_SparseMSE_UKdat_5",
        "resampled_SparseMSE_Western",
    ),
}


def scenarios(suite: str = "standard") -> tuple[Scenario, ...]:
    """The scenarios of a benchmark suite (``"quick"``, ``"standard"``, ``"full"``) or ``"all"`` of them.

    Parameters
    ----------
    suite : str

    Returns
    -------
    tuple of Scenario
        Each with ``name``, ``generator``, ``parameters``, ``description``, ``holds`` and ``simulate(seed)``.

    Examples
    --------
    >>> [s.name for s in scenarios("quick")]
    ['independent_k3', 'heterogeneity_k4', 'referral', 'sparse_no_overlap']
    >>> scenarios("quick")[0].simulate(random_seed=1).truth
    500
    """
    table = _all_scenarios()
    if suite == "all":
        return tuple(table.values())
    if suite not in SUITES:
        raise ValueError(f"`suite` must be one of {[*SUITES, 'all']!r}; got {suite!r}.")
    return tuple(table[name] for name in SUITES[suite])
