"""Scenario (f): a conflict observed over days by matched lists, a survey and tallies."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._daily._inputs import SurveyObservation, Tally, _at_least
from .._validation import check_positive, check_positive_int, check_random_seed
from ..histories import pattern_matrix


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
    visibility: tuple[float, float] | None = None,
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
    visibility : (float, float), optional
        ``(share, boost)``: a hidden class of *visible* deaths (heterogeneous capture). Each death is visible with
        probability ``share``; a visible death's log-odds of capture on every list is ``boost`` higher (the same
        interactions, coverage changes and days). Lists then overlap more than their coverage implies and
        homogeneous-capture models underestimate the total. ``coverage`` is over both classes together.

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
    if visibility is not None:
        if not (isinstance(visibility, Sequence) and len(visibility) == 2
                and all(isinstance(v, numbers.Real) and np.isfinite(v) for v in visibility)
                and 0 <= visibility[0] <= 1):
            raise ValueError(f"`visibility` must be (share in [0, 1], log-odds boost); got {visibility!r}.")
        share, boost = float(visibility[0]), float(visibility[1])
    else:
        share, boost = 0.0, 0.0
    # drawn only when asked for, so that the other draws of a seed are as they were without the option
    visible = rng.binomial(deaths, share) if visibility is not None else np.zeros_like(deaths)

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
    patterns = pattern_matrix(k).astype(np.int64)
    rows, coverage_rows = [], []
    for d in range(days):
        changed = tuple(j for j, (day, _) in sorted(shifts.items()) if d >= day)
        if changed not in regimes:
            shifted = alpha.copy()
            for j in changed:
                shifted[j] += shifts[j][1]
            ordinary, visible_p = _pattern_probabilities(shifted, gamma), _pattern_probabilities(shifted + boost, gamma)
            regimes[changed] = (ordinary[0], visible_p[0],
                                (1 - share) * ordinary[1] + share * visible_p[1])
        p, p_visible, list_coverage = regimes[changed]
        coverage_rows.append(list_coverage)
        cells = rng.multinomial(deaths[d] - visible[d], p)
        if visibility is not None:
            cells = cells + rng.multinomial(visible[d], p_visible)
        for index in np.flatnonzero(cells[1:]) + 1:
            rows.append((*patterns[index], d, cells[index]))
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
                    survey_bias=survey_bias, tally_coverage=tally_coverage,
                    visibility=None if visibility is None else (share, boost))
    return SimulatedConflict(lists=lists, survey=survey, survey_households=households, tallies=tallies,
                             rate=rate, deaths=deaths, population=float(population), coverage=coverage,
                             settings=settings)
