"""Closed populations observed by k lists: one multinomial draw of N people into the capture patterns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .._validation import check_positive_int, check_random_seed
from ..histories import CaptureHistories, pattern_matrix
from ._cells import _check_probabilities, _list_names, independent_cells, latent_class_cells, loglinear_cells, referral_cells

# A two-class design after Manrique-Vallier (2016, Section 5): 90% of the population in a hard-to-list class and
# 10% in an easy-to-list class, 5 lists, N = 2,000. The probabilities are the package's own choice of such a
# design (benchmarks/README.md, scenario (b)); they are not claimed to be the paper's.
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
    """Scenario (b): a two-class population after Manrique-Vallier (2016): 5 lists, 90% hard and 10% easy to list.

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
