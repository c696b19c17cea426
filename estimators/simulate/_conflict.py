"""Scenario (f): a conflict observed over days by matched lists, a survey and tallies."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .._daily._inputs import SurveyObservation, Tally, _at_least
from .._validation import check_positive, check_positive_int, check_random_seed
from ..histories import pattern_index, pattern_matrix


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
    more_surveys : tuple of SurveyObservation
        The further surveys of ``more_surveys`` (empty by default).
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
    more_surveys: tuple = ()

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


def _visibility_classes(visibility) -> list[tuple[float, float]]:
    """``visibility`` as a list of (share, boost) pairs, one per hidden class (empty without)."""
    if visibility is None:
        return []
    pairs = [visibility] if (isinstance(visibility, Sequence) and len(visibility) == 2
                             and all(isinstance(v, numbers.Real) for v in visibility)) else visibility
    message = ("`visibility` must be (share in [0, 1], log-odds boost) or a sequence of such pairs with shares "
               f"summing to at most 1; got {visibility!r}.")
    if not isinstance(pairs, Sequence) or isinstance(pairs, str) or not len(pairs):
        raise ValueError(message)
    classes = []
    for pair in pairs:
        if not (isinstance(pair, Sequence) and len(pair) == 2
                and all(isinstance(v, numbers.Real) and not isinstance(v, bool) and np.isfinite(v) for v in pair)
                and 0 <= pair[0] <= 1):
            raise ValueError(message)
        classes.append((float(pair[0]), float(pair[1])))
    if sum(c[0] for c in classes) > 1 + 1e-12:
        raise ValueError(message)
    return classes


def _daily_shifts(alpha, gamma, coverage_before, coverage_change, coverage_drift, days) -> np.ndarray:
    """(days, k) shift of each list's log-odds on each day: a jump (``coverage_change``) or a linear drift of its
    coverage (``coverage_drift``), each list's shift found with the other lists unshifted."""
    k = len(alpha)
    shift = np.zeros((days, k))
    for j, change in (coverage_change or {}).items():
        if not (isinstance(j, numbers.Integral) and 0 <= j < k and isinstance(change, Sequence) and len(change) == 2):
            raise ValueError(f"`coverage_change` maps a list index in 0..{k - 1} to (day, factor); got {j!r}: "
                             f"{change!r}.")
        day, factor = change
        target = coverage_before[j] * factor
        if not (isinstance(day, numbers.Integral) and 0 <= day < days) or not 0 < target < 1:
            raise ValueError(f"`coverage_change` of list {j}: the day must be in 0..{days - 1} and factor x coverage "
                             f"({coverage_before[j]:.3f}) in (0, 1); got day {day!r}, factor {factor!r}.")
        shift[int(day):, j] = _logit_shift_for_coverage(alpha, gamma, j, target)
    for j, factor in (coverage_drift or {}).items():
        if not (isinstance(j, numbers.Integral) and 0 <= j < k):
            raise ValueError(f"`coverage_drift` maps a list index in 0..{k - 1} to a factor; got {j!r}.")
        if j in (coverage_change or {}):
            raise ValueError(f"`coverage_drift` and `coverage_change` both name list {j}; give each list one.")
        if not (isinstance(factor, numbers.Real) and not isinstance(factor, bool) and factor > 0
                and 0 < coverage_before[j] * factor < 1):
            raise ValueError(f"`coverage_drift` of list {j}: factor x coverage ({coverage_before[j]:.3f}) must be "
                             f"in (0, 1) with factor > 0; got factor {factor!r}.")
        targets = coverage_before[j] * (1 + (factor - 1) * np.arange(days) / (days - 1))
        shift[:, j] = [_logit_shift_for_coverage(alpha, gamma, j, t) for t in targets]
    return shift


def _list_starts(list_start, k, days) -> np.ndarray:
    """(k,) first day of each list (0 for lists that do not start late)."""
    starts = np.zeros(k, int)
    for j, day in (list_start or {}).items():
        if not (isinstance(j, numbers.Integral) and 0 <= j < k and isinstance(day, numbers.Integral)
                and not isinstance(day, bool) and 0 <= day < days):
            raise ValueError(f"`list_start` maps a list index in 0..{k - 1} to its first day in 0..{days - 1}; got "
                             f"{j!r}: {day!r}.")
        starts[j] = int(day)
    if k and (starts > 0).all():
        raise ValueError("`list_start`: at least one list must exist from day 0.")
    return starts


def _draw_survey(rng, rate, window, clusters, *, households_per_cluster, household_size, cluster_sd, survey_bias,
                 population, name):
    """A cluster survey of the recall window: its SurveyObservation and its households."""
    n = clusters * households_per_cluster
    cluster = np.repeat(np.arange(clusters), households_per_cluster)
    frailty = np.exp(rng.normal(-cluster_sd**2 / 2, cluster_sd, clusters))[cluster]
    members = 1 + rng.poisson(household_size - 1, n)
    first, last = window
    person_days = members * float(last - first + 1)
    deaths_h = rng.poisson(survey_bias * frailty * person_days * rate[first : last + 1].mean() / population)
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
                               start_day=first, end_day=last, name=name)
    return survey, households


def _date_deaths(rng, rate, survey):
    """The survey's deaths given days: multinomial over its recall window in proportion to the daily rate."""
    first, last = survey.start_day, survey.end_day
    per_day = rng.multinomial(int(survey.deaths), rate[first: last + 1] / rate[first: last + 1].sum())
    return replace(survey, death_days=np.repeat(np.arange(first, last + 1), per_day).tolist())


def _more_surveys(more_surveys, days) -> list[tuple[int, int, int]]:
    out = []
    for item in more_surveys or ():
        if not (isinstance(item, Sequence) and len(item) == 3
                and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in item)
                and 0 <= item[0] <= item[1] < days and item[2] >= 2):
            raise ValueError(f"Each of `more_surveys` must be (first day, last day, clusters) with 0 <= first <= "
                             f"last <= {days - 1} and clusters >= 2; got {item!r}.")
        out.append((int(item[0]), int(item[1]), int(item[2])))
    return out


def _survey_days(survey_window, days) -> tuple[int, int]:
    if survey_window is None:
        return 0, days - 1
    if not (isinstance(survey_window, Sequence) and len(survey_window) == 2
            and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in survey_window)
            and 0 <= survey_window[0] <= survey_window[1] < days):
        raise ValueError(f"`survey_window` must be (first, last) study days with 0 <= first <= last <= {days - 1}; "
                         f"got {survey_window!r}.")
    return int(survey_window[0]), int(survey_window[1])


def _drop_lists(cells, absent, patterns) -> np.ndarray:
    """Pattern counts with the lists ``absent`` taken off every pattern (a death on them alone becomes unlisted)."""
    kept = patterns.copy()
    kept[:, absent] = 0
    out = np.zeros_like(cells)
    np.add.at(out, pattern_index(kept), cells)
    return out


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
    visibility: tuple[float, float] | Sequence[tuple[float, float]] | None = None,
    coverage_drift: Mapping[int, float] | None = None,
    list_start: Mapping[int, int] | None = None,
    survey_window: tuple[int, int] | None = None,
    survey_dates: bool = False,
    more_surveys: Sequence[tuple[int, int, int]] = (),
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
    visibility : (float, float) or sequence of (float, float), optional
        ``(share, boost)``: a hidden class of *visible* deaths (heterogeneous capture). Each death is visible with
        probability ``share``; a visible death's log-odds of capture on every list is ``boost`` higher (the same
        interactions, coverage changes and days). Lists then overlap more than their coverage implies and
        homogeneous-capture models underestimate the total. ``coverage`` is over all classes together. Several
        pairs, e.g. ``((0.25, 2.5), (0.25, -1.5))``, make several hidden classes: each death falls in class c
        with probability ``share_c`` (shares summing to at most 1) and in the ordinary class (boost 0)
        otherwise. A negative boost is a class of rarely recorded deaths.
    coverage_drift : {list index: factor}, optional
        The list's coverage drifts linearly over the study: on day d it is ``1 + (factor - 1) d / (days - 1)``
        times its coverage on day 0 (``factor`` on the last day). A list may drift or jump
        (``coverage_change``), not both. Like ``coverage_change``, the factor applies to the ordinary class's
        coverage: with ``visibility``, the coverage over all classes changes by less.
    list_start : {list index: day}, optional
        The list starts late: it records no death before ``day`` (those records do not exist, as for a list that
        began collecting then); from ``day`` on it captures as before. Tell ``daily_rates`` with
        ``list_windows={name: (day, None)}``. ``coverage`` is 0 on the days before.
    survey_dates : bool
        Give the survey's deaths their days (``SurveyObservation.death_days``): given the survey's total, each
        death falls on a day of the recall window with probability proportional to that day's expected deaths
        (drawn last, so the other sources of a seed do not change).
    more_surveys : sequence of (int, int, int)
        Further cluster surveys of the same population, each ``(first day, last day, clusters)`` of its recall
        window, with the main survey's design otherwise (``SimulatedConflict.more_surveys``; drawn after every
        other source, so those of a seed do not change).
    survey_window : (int, int), optional
        First and last study day of the survey's recall window (both included; default: the whole study). Its
        households are followed over those days only.

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
    classes = _visibility_classes(visibility)
    alpha = np.array(capture_logits, dtype=float)
    _, coverage_before = _pattern_probabilities(alpha, gamma)
    shift = _daily_shifts(alpha, gamma, coverage_before, coverage_change, coverage_drift, days)
    starts = _list_starts(list_start, k, days)
    more_surveys = _more_surveys(more_surveys, days)
    if not isinstance(survey_dates, (bool, np.bool_)):
        raise ValueError(f"`survey_dates` must be True or False; got {survey_dates!r}.")
    window = _survey_days(survey_window, days) if survey_clusters else None

    walk = np.concatenate([[0.0], np.cumsum(rng.normal(0, rw_sd, days - 1))])
    rate = mean_rate * np.exp(walk - walk.mean())
    deaths = rng.poisson(rate)
    # drawn only when asked for, so that the other draws of a seed are as they were without the option; one hidden
    # class keeps its binomial draw so that a seed gives the data it gave before several classes were possible
    shares = np.array([c[0] for c in classes])
    if len(classes) == 1:
        in_class = rng.binomial(deaths, shares[0])[:, None]
    elif classes:
        in_class = rng.multinomial(deaths, [1 - shares.sum(), *shares])[:, 1:]
    else:
        in_class = np.zeros((days, 0), dtype=np.int64)
    ordinary_deaths = deaths - in_class.sum(1)

    # a day's pattern probabilities depend on the shifts of its lists' log-odds (a jump, a drift) on that day
    regimes = {}
    patterns = pattern_matrix(k).astype(np.int64)
    rows, coverage_rows = [], []
    for d in range(days):
        key = tuple(shift[d])
        if key not in regimes:
            shifted = alpha + shift[d]
            ordinary = _pattern_probabilities(shifted, gamma)
            by_class = [_pattern_probabilities(shifted + boost, gamma) for _, boost in classes]
            regimes[key] = (ordinary[0], [p_c for p_c, _ in by_class],
                            (1 - shares.sum()) * ordinary[1] + sum(s * c for s, (_, c) in zip(shares, by_class)))
        p, p_classes, list_coverage = regimes[key]
        cells = rng.multinomial(ordinary_deaths[d], p)
        for c, p_c in enumerate(p_classes):
            cells = cells + rng.multinomial(in_class[d, c], p_c)
        absent = [j for j in range(k) if d < starts[j]]
        if absent:
            # a list that did not exist yet records nobody: its deaths keep their pattern on the other lists
            cells = _drop_lists(cells, absent, patterns)
            list_coverage = list_coverage.copy()
            list_coverage[absent] = 0.0
        coverage_rows.append(list_coverage)
        for index in np.flatnonzero(cells[1:]) + 1:
            rows.append((*patterns[index], d, cells[index]))
    lists = pd.DataFrame(rows, columns=[*names, "day", "count"])
    coverage = pd.DataFrame(coverage_rows, columns=names)

    survey = households = None
    design = dict(households_per_cluster=households_per_cluster, household_size=household_size,
                  cluster_sd=cluster_sd, survey_bias=survey_bias, population=population)
    if survey_clusters:
        survey, households = _draw_survey(rng, rate, window, survey_clusters, name="survey", **design)
    tallies = ()
    if tally_coverage is not None:
        tallies = (Tally("tally", float(rng.binomial(deaths.sum(), tally_coverage)), 0, days - 1),)
    if survey is not None and survey_dates:
        survey = _date_deaths(rng, rate, survey)
    extra = []
    for i, (first, last, clusters) in enumerate(more_surveys):
        extra.append(_draw_survey(rng, rate, (first, last), clusters, name=f"survey {i + 2}", **design)[0])
        if survey_dates:
            extra[-1] = _date_deaths(rng, rate, extra[-1])
    settings = dict(days=days, mean_rate=mean_rate, rw_sd=rw_sd, capture_logits=list(capture_logits),
                    interactions={f"{i}-{j}": v for (i, j), v in interactions.items()},
                    coverage_change=dict(coverage_change or {}), population=population,
                    survey_bias=survey_bias, tally_coverage=tally_coverage,
                    visibility=(None if visibility is None else classes[0] if len(classes) == 1 and
                                isinstance(visibility[0], numbers.Real) else classes),
                    coverage_drift=dict(coverage_drift or {}), list_start=dict(list_start or {}),
                    survey_window=window, cluster_sd=cluster_sd, survey_dates=bool(survey_dates),
                    more_surveys=list(more_surveys))
    return SimulatedConflict(lists=lists, survey=survey, survey_households=households, tallies=tallies,
                             more_surveys=tuple(extra),
                             rate=rate, deaths=deaths, population=float(population), coverage=coverage,
                             settings=settings)
