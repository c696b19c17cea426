"""Two-list capture-recapture: the Lincoln-Petersen and Chapman estimators with Wald, log-normal and
profile-likelihood intervals, and the table of both over every pair of lists (as CARE1's ``estN.pair``).

With two lists A and B of sizes n_A and n_B sharing m people, and M = n_A + n_B - m people on at least one,
independence of the lists (and a closed, homogeneous population) gives N = n_A n_B / m (Lincoln-Petersen);
Chapman's (1951) version (n_A + 1)(n_B + 1)/(m + 1) - 1 is nearly unbiased and finite when m = 0.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import _warn
from . import _glm
from ._lazy import normal_ppf, pd
from ._validation import LEVEL, Options, check_choice, check_level, validate_params
from .exceptions import DataError, NonexistentEstimateError, SmallSampleWarning
from .histories import CaptureHistories, check_histories, pattern_matrix
from .results import Estimate

INTERVALS = ("wald", "lognormal", "profile")
INTERVAL_NAMES = {
    "wald": "Wald",
    "lognormal": "log-normal (Chao 1987)",
    "profile": "profile likelihood (multinomial, Cormack 1992)",
}
METHODS = ("chapman", "petersen")


@dataclass(frozen=True)
class PairCounts:
    """Counts behind a two-list estimate: list sizes, their overlap and how many are on either."""

    n_a: int
    n_b: int
    overlap: int

    @property
    def union(self) -> int:
        return self.n_a + self.n_b - self.overlap


# ---------------------------------------------------------------------------------------------- pure math
def petersen_estimate(n_a: float, n_b: float, m: float) -> float:
    """Lincoln-Petersen estimate n_a n_b / m (m > 0)."""
    return n_a * n_b / m


def petersen_variance(n_a: float, n_b: float, m: float) -> float:
    """Large-sample variance of Lincoln-Petersen, n_a n_b (n_a - m)(n_b - m) / m^3 (Seber 1982, eq. 3.2)."""
    return n_a * n_b * (n_a - m) * (n_b - m) / m**3


def chapman_estimate(n_a: float, n_b: float, m: float) -> float:
    """Chapman (1951): (n_a + 1)(n_b + 1)/(m + 1) - 1."""
    return (n_a + 1) * (n_b + 1) / (m + 1) - 1


def chapman_variance(n_a: float, n_b: float, m: float) -> float:
    """Variance of Chapman's estimator, (n_a+1)(n_b+1)(n_a-m)(n_b-m) / ((m+1)^2 (m+2)) (Seber 1970; Wittes 1972).

    The formula CARE1's ``estN.pair`` uses (Seber 1982, p. 60).
    """
    return (n_a + 1) * (n_b + 1) * (n_a - m) * (n_b - m) / ((m + 1) ** 2 * (m + 2))


def wald_interval(estimate: float, variance: float, level: float) -> tuple[float, float]:
    z = normal_ppf(0.5 + level / 2)
    half = z * np.sqrt(variance)
    return estimate - half, estimate + half


def lognormal_interval(estimate: float, variance: float, n_seen: float, level: float) -> tuple[float, float]:
    """Chao's (1987) log-normal interval: log(N - n_seen) taken as normal, so the lower bound never falls below
    the number seen. Returns (n_seen + U/C, n_seen + U C), U = N - n_seen, C = exp(z sqrt(log(1 + var/U^2))).

    With U <= 0 or a zero variance the interval collapses to the estimate.
    """
    unseen = estimate - n_seen
    if unseen <= 0 or variance <= 0:
        return estimate, estimate
    z = normal_ppf(0.5 + level / 2)
    factor = np.exp(z * np.sqrt(np.log1p(variance / unseen**2)))
    return n_seen + unseen / factor, n_seen + unseen * factor


def two_list_design() -> np.ndarray:
    """Design of the independence model for the observed cells 01, 10, 11: intercept and two main effects."""
    return np.column_stack([np.ones(3), pattern_matrix(2)[1:].astype(float)])


# ---------------------------------------------------------------------------------------------- validation
def _pair_iv(h: CaptureHistories, lists) -> tuple[tuple[str, str], PairCounts]:
    check_histories(h)
    if lists is None:
        if h.k != 2:
            raise ValueError(
                f"These capture histories have {h.k} lists {list(h.lists)!r}; say which two to use, e.g. "
                f"lists=({h.lists[0]!r}, {h.lists[1]!r}) (records only on other lists are then left out), "
                "or use pairwise(h) for every pair."
            )
        lists = h.lists
    # a set has no order and an int no length: both must get this message, not a bare TypeError
    if isinstance(lists, str) or not isinstance(lists, (Sequence, np.ndarray)) or len(lists) != 2:
        raise ValueError(f"`lists` must name exactly two lists, e.g. ('A', 'B'); got {lists!r}.")
    pair = (str(lists[0]), str(lists[1]))
    unknown = [name for name in pair if name not in h.lists]
    if unknown:
        raise DataError(f"`lists` names unknown list(s) {unknown!r}; the lists are {list(h.lists)!r}.")
    if pair[0] == pair[1]:
        raise ValueError(f"`lists` must name two different lists; got {pair!r}.")
    return pair, _pair_counts(h, pair)


def _pair_counts(h: CaptureHistories, pair) -> PairCounts:
    # from the patterns, not h.overlaps (a DataFrame): a two-list fit needs no pandas
    a, b = (h.patterns[:, h.lists.index(name)].astype(bool) for name in pair)
    counts = h.counts.astype(int)
    return PairCounts(int(counts[a].sum()), int(counts[b].sum()), int(counts[a & b].sum()))


def _pair_label(pair) -> str:
    return f"{pair[0]} & {pair[1]}"


# ---------------------------------------------------------------------------------------------- estimators
def _pair_estimate(pair, counts: PairCounts, level: float, interval: str, method: str, stacklevel: int) -> Estimate:
    n_a, n_b, m = counts.n_a, counts.n_b, counts.overlap
    notes = []
    if method == "petersen":
        if m == 0:
            raise NonexistentEstimateError(
                f"Lists {pair[0]!r} and {pair[1]!r} have no one in common, so the Lincoln-Petersen estimate "
                "n_A n_B / m does not exist (it is infinite). Use chapman(...), which stays finite but is then "
                "unreliable, or a method using more lists."
            )
        estimate, variance = petersen_estimate(n_a, n_b, m), petersen_variance(n_a, n_b, m)
        name = "Lincoln-Petersen"
    else:
        estimate, variance = chapman_estimate(n_a, n_b, m), chapman_variance(n_a, n_b, m)
        name = "Chapman"
        if m == 0:
            notes.append(
                f"Lists {pair[0]!r} and {pair[1]!r} have no one in common: Chapman's estimate is finite only "
                "by construction and says little about N."
            )
    if 0 < m < 7:
        notes.append(
            f"Only {m} record(s) on both {pair[0]!r} and {pair[1]!r}: the estimate is biased and the "
            f"{INTERVAL_NAMES[interval]} interval unreliable (Seber 1982 asks for m > 7)."
        )
    details = {"lists": pair, "n_a": n_a, "n_b": n_b, "overlap": m, "union": counts.union}
    if interval == "wald":
        bounds = wald_interval(estimate, variance, level)
        if bounds[0] < counts.union:
            # reported as computed (it is the Wald interval) but flagged: N cannot be below the number seen
            notes.append(
                f"The Wald lower bound ({bounds[0]:,.1f}) is below the {counts.union} people seen on either list; "
                "the log-normal interval (interval='lognormal') respects that bound."
            )
    elif interval == "lognormal":
        bounds = lognormal_interval(estimate, variance, counts.union, level)
    else:
        # cells in pattern order 01, 10, 11
        y = np.array([n_b - m, n_a - m, m], dtype=float)
        profile = _glm.profile_interval(two_list_design(), y, level)
        bounds = (profile.lower, profile.upper)
        # With no overlap the likelihood increases without bound in N: the profile search stops at its limit,
        # which is no estimate
        details["multinomial_mle"] = profile.mle if m > 0 else np.inf
        if not profile.upper_found:
            notes.append("The profile-likelihood upper bound was not found: the likelihood stays flat as N grows.")
    for note in notes:
        _warn.warn(note, SmallSampleWarning)
    return Estimate(
        estimate=estimate,
        interval=bounds,
        level=level,
        interval_kind=INTERVAL_NAMES[interval],
        method=name,
        n_observed=counts.union,
        model=_pair_label(pair),
        std_error=float(np.sqrt(variance)),
        warnings=tuple(notes),
        details=details,
    )


def _two_list(h, lists, level, interval, method) -> Estimate:
    level = check_level(level)
    interval = check_choice("interval", interval, INTERVALS)
    pair, counts = _pair_iv(h, lists)
    return _pair_estimate(pair, counts, level, interval, method, stacklevel=4)


@validate_params(
    {"level": LEVEL, "interval": [Options(INTERVALS)]},
    exempt=("h", "lists"),
)
def lincoln_petersen(h: CaptureHistories, lists=None, *, level: float = 0.95, interval: str = "lognormal") -> Estimate:
    """Lincoln-Petersen estimate of N from two lists.

    N = n_A n_B / m, where n_A, n_B are the list sizes and m the number on both. Assumes a closed population,
    lists independent of each other, and equal chances of being listed within each list (or heterogeneity on one
    list only). Positive dependence between the lists biases N downwards.

    Parameters
    ----------
    h : CaptureHistories
        Two lists, or more with ``lists`` naming the pair (people only on the other lists are left out).
    lists : (str, str), optional
        The two lists to use; required when ``h`` has more than two.
    level : float
        Interval level in (0, 1).
    interval : {"lognormal", "wald", "profile"}
        ``"lognormal"``: Chao's (1987) interval on log(N - M), M the number on either list, so the lower bound
        never falls below M (CARE1's interval); ``"wald"``: N +/- z s.e.; ``"profile"``: multinomial profile
        likelihood of N under independence (the two-list model Mt; cells 10, 01, 11 and the unseen cell 00,
        Cormack 1992).

    Returns
    -------
    Estimate
        ``estimate``, ``interval``, ``std_error`` (sqrt of Seber's 1982 variance
        n_A n_B (n_A - m)(n_B - m)/m^3), ``model`` the pair, ``details`` with n_A, n_B, overlap, union.

    Raises
    ------
    NonexistentEstimateError
        When the two lists share no one (m = 0): the estimate is infinite.

    Warns
    -----
    SmallSampleWarning
        When 0 < m < 7.

    References
    ----------
    .. [1] Seber GAF (1982) The Estimation of Animal Abundance and Related Parameters, 2nd ed. Griffin, London,
       pp. 59-60.
    .. [2] Chao A (1987) Estimating the population size for capture-recapture data with unequal catchability.
       Biometrics 43:783-791.
    .. [3] Cormack RM (1992) Interval estimation for mark-recapture studies of closed populations. Biometrics
       48:567-576.

    Examples
    --------
    >>> from estimators import CaptureHistories, lincoln_petersen
    >>> h = CaptureHistories.from_mapping({"10": 60, "01": 40, "11": 20}, lists=["A", "B"])
    >>> round(lincoln_petersen(h).estimate, 1)
    240.0
    """
    return _two_list(h, lists, level, interval, "petersen")


@validate_params(
    {"level": LEVEL, "interval": [Options(INTERVALS)]},
    exempt=("h", "lists"),
)
def chapman(h: CaptureHistories, lists=None, *, level: float = 0.95, interval: str = "lognormal") -> Estimate:
    """Chapman's (1951) nearly unbiased two-list estimate of N.

    N = (n_A + 1)(n_B + 1)/(m + 1) - 1, with variance (n_A+1)(n_B+1)(n_A-m)(n_B-m)/((m+1)^2 (m+2))
    (Seber 1970; Wittes 1972), as CARE1's ``estN.pair``. Same assumptions as :func:`lincoln_petersen`.

    Parameters
    ----------
    h : CaptureHistories
        Two lists, or more with ``lists`` naming the pair.
    lists : (str, str), optional
        The two lists to use; required when ``h`` has more than two.
    level : float
        Interval level in (0, 1).
    interval : {"lognormal", "wald", "profile"}
        As in :func:`lincoln_petersen`; ``"lognormal"`` (default) is CARE1's interval.

    Returns
    -------
    Estimate
        As :func:`lincoln_petersen`.

    Warns
    -----
    SmallSampleWarning
        When the lists share no one (the estimate stays finite but is flagged in ``warnings``) or fewer than 7.

    References
    ----------
    .. [1] Chapman DG (1951) Some properties of the hypergeometric distribution with applications to zoological sample
       censuses. University of California Publications in Statistics 1:131-160.
    .. [2] Wittes JT (1972) On the bias and estimated variance of Chapman's two-sample capture-recapture population
       estimate. Biometrics 28:592-597.
    .. [3] Seber GAF (1982) The Estimation of Animal Abundance and Related Parameters, 2nd ed. Griffin, London, p. 60.
    .. [4] Chao A (1987) Estimating the population size for capture-recapture data with unequal catchability.
       Biometrics 43:783-791.

    Examples
    --------
    >>> from estimators import CaptureHistories, chapman
    >>> h = CaptureHistories.from_mapping({"10": 60, "01": 40, "11": 20}, lists=["A", "B"])
    >>> round(chapman(h).estimate, 2)  # 81 * 61 / 21 - 1
    234.29
    """
    return _two_list(h, lists, level, interval, "chapman")


@validate_params(
    {"method": [Options(METHODS)], "level": LEVEL, "interval": [Options(INTERVALS)]},
    exempt=("h",),
)
def pairwise(h: CaptureHistories, *, method: str = "chapman", level: float = 0.95,
             interval: str = "lognormal") -> pd.DataFrame:
    """Two-list estimates for every pair of lists (as CARE1's ``estN.pair``).

    Each pair uses only the records on at least one of its two lists. Disagreement between pairs is a quick
    sign of list dependence or heterogeneity.

    Parameters
    ----------
    h : CaptureHistories
        Two or more lists.
    method : {"chapman", "petersen"}
        Which estimator fills ``estimate``, ``std_error`` and the interval; both point estimates are always given.
    level : float
        Interval level.
    interval : {"lognormal", "wald", "profile"}
        As in :func:`chapman`.

    Returns
    -------
    pandas.DataFrame
        One row per pair (index ``"A & B"``): ``list_a``, ``list_b``, ``n_a``, ``n_b``, ``overlap``, ``union``,
        ``petersen``, ``chapman``, ``estimate``, ``std_error``, ``lower``, ``upper``. A Petersen estimate that
        does not exist (no overlap) is NaN, with a :class:`SmallSampleWarning`.

    References
    ----------
    .. [1] Seber GAF (1982) The Estimation of Animal Abundance and Related Parameters, 2nd ed. Griffin, London.
    .. [2] Chao A, Tsay PK, Lin SH, Shau WY, Chao DY (2001) The applications of capture-recapture models to
       epidemiological data. Statistics in Medicine 20:3123-3157.

    Examples
    --------
    >>> from estimators import CaptureHistories
    >>> from estimators.twolist import pairwise
    >>> h = CaptureHistories.from_mapping({"100": 30, "010": 20, "001": 25, "110": 10, "101": 8, "011": 6,
    ...                                    "111": 4}, lists=["A", "B", "C"])
    >>> pairwise(h)[["overlap", "chapman"]].round(1)
           overlap  chapman
    pair                   
    A & B       14    143.9
    A & C       12    178.4
    B & C       10    163.0
    """
    method = check_choice("method", method, METHODS)
    level = check_level(level)
    interval = check_choice("interval", interval, INTERVALS)
    check_histories(h)
    rows, labels = [], []
    for pair in itertools.combinations(h.lists, 2):
        counts = _pair_counts(h, pair)
        if method == "petersen" and counts.overlap == 0:
            _warn.warn(
                f"Lists {pair[0]!r} and {pair[1]!r} share no one: the Petersen estimate does not exist (NaN).",
                SmallSampleWarning,
            )
            estimate = std_error = lower = upper = np.nan
        else:
            result = _pair_estimate(pair, counts, level, interval, method, stacklevel=3)
            estimate, std_error, (lower, upper) = result.estimate, result.std_error, result.interval
        labels.append(_pair_label(pair))
        rows.append(
            {
                "list_a": pair[0],
                "list_b": pair[1],
                "n_a": counts.n_a,
                "n_b": counts.n_b,
                "overlap": counts.overlap,
                "union": counts.union,
                "petersen": petersen_estimate(counts.n_a, counts.n_b, counts.overlap) if counts.overlap else np.nan,
                "chapman": chapman_estimate(counts.n_a, counts.n_b, counts.overlap),
                "estimate": estimate,
                "std_error": std_error,
                "lower": lower,
                "upper": upper,
            }
        )
    return pd.DataFrame(rows, index=pd.Index(labels, name="pair"))
