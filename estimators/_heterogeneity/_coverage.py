"""The Chao-Tsay sample-coverage estimators (independence, high coverage, one-step) with bootstrap errors."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .._lazy import pd
from .._validation import (
    LEVEL,
    SEED,
    Integral,
    Interval,
    Options,
    check_choice,
    check_level,
    check_positive_int,
    validate_params,
)
from ..exceptions import DataError, NonexistentEstimateError
from ..histories import CaptureHistories, check_histories, pattern_matrix
from ..results import Estimate, seeded_generator
from ..twolist import lognormal_interval
from ._chao import LOGNORMAL, _warn_all

SAMPLE_COVERAGE = ("one-step", "high", "independence")

SAMPLE_COVERAGE_NAMES = {
    "independence": "Nhat-0 (independence)",
    "high": "Nhat (high sample coverage)",
    "one-step": "Nhat-1 (one-step, low coverage)",
}
LOW_COVERAGE = 0.55  # CARE1: below this the high-coverage estimator is unstable


@dataclass(frozen=True)
class CoverageStatistics:
    """Chao & Tsay's (1998) ingredients, one value per table (arrays when given a stack of tables)."""

    n: np.ndarray  # number observed
    d: np.ndarray  # D: n minus the average number found on one list only
    coverage: np.ndarray  # C-hat: 1 - average over lists of (found only there / list size)
    independence: np.ndarray  # N0 = D / C
    high: np.ndarray  # Nhat (high sample coverage)
    one_step: np.ndarray  # N1 (one-step, low coverage)


def coverage_statistics(z: np.ndarray, k: int) -> CoverageStatistics:
    """Sample-coverage estimators for one table or a stack of tables.

    ``z`` has shape (..., 2**k - 1): counts of the observed patterns in the index order of
    :func:`~estimators.histories.pattern_matrix` (row 0, the unobserved pattern, left out), as CARE1's ``z``.
    Follows Chao & Tsay (1998) eqs. 14 and 20 and Chao et al. (2001) eq. 2.21, as CARE1's ``estN``:

    - C = 1 - mean_j(S_j / n_j), S_j those found on list j only, n_j the size of list j; D = n - mean_j S_j;
    - N0 = D / C;
    - Nhat = (k D - sum_{i<j} A_ij) / (k C - sum_{i<j} A_ij B_ij / (n_i n_j)), set to n when the numerator is below
      1e-4 or the ratio below n; A_ij = (on i only) + (on j only) + 2 (on i and j only), B_ij = on both i and j;
    - N1 = N0 + sum_{i<j} A_ij r_ij / (k C), r_ij = B_ij/(n_i n_j) (N0 + G/(k C)) - 1,
      G = sum_{i<j} A_ij (N0 B_ij/(n_i n_j) - 1).
    """
    z = np.asarray(z, dtype=float)
    patterns = pattern_matrix(k)[1:].astype(bool)
    on_lists = patterns.sum(axis=1)
    n = z.sum(axis=-1)
    sizes = z @ patterns  # (..., k)
    only = np.stack([z[..., np.flatnonzero(patterns[:, j] & (on_lists == 1))[0]] for j in range(k)], axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = n - only.mean(axis=-1)
        coverage = 1 - (only / sizes).mean(axis=-1)
        independence = d / coverage
        a_sum = np.zeros_like(n)
        c_sum = np.zeros_like(n)
        g_sum = np.zeros_like(n)
        pair_terms = []
        for i in range(k):
            for j in range(i + 1, k):
                in_pair = patterns[:, i] | patterns[:, j]
                outside = (patterns & ~np.eye(k, dtype=bool)[i] & ~np.eye(k, dtype=bool)[j]).any(axis=1)
                a = z[..., in_pair & ~outside] @ (patterns[in_pair & ~outside][:, [i, j]].sum(axis=1).astype(float))
                b = z[..., patterns[:, i] & patterns[:, j]].sum(axis=-1)
                ratio = b / (sizes[..., i] * sizes[..., j])
                a_sum = a_sum + a
                c_sum = c_sum + a * ratio
                g_sum = g_sum + a * (independence * ratio - 1)
                pair_terms.append((a, ratio))
        numerator = k * d - a_sum
        ratio_estimate = numerator / (k * coverage - c_sum)
        high = np.where((numerator < 1e-4) | (ratio_estimate < n), n, ratio_estimate)
        scale = independence + g_sum / (k * coverage)
        one_step = independence + sum(a * (ratio * scale - 1) for a, ratio in pair_terms) / (k * coverage)
    return CoverageStatistics(n=n, d=d, coverage=coverage, independence=independence, high=high, one_step=one_step)


def _coverage_value(statistics: CoverageStatistics, estimator: str) -> np.ndarray:
    return {"independence": statistics.independence, "high": statistics.high, "one-step": statistics.one_step}[
        estimator
    ]


def coverage_bootstrap(z: np.ndarray, k: int, estimate: float, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Multinomial tables of round(N-hat) people (the observed cells at their observed counts / N-hat and the
    unobserved cell at the rest), as CARE1's ``estN.bootstrap``; returns the observed cells of each replicate."""
    n = float(np.sum(z))
    total = max(int(np.round(estimate)), int(n))
    probabilities = np.concatenate([np.asarray(z, dtype=float), [total - n]]) / total
    return rng.multinomial(total, probabilities, size=n_boot)[:, :-1]


def _coverage_iv(h, estimator, n_boot, level, random_seed):
    check_histories(h)
    estimator = check_choice("estimator", estimator, SAMPLE_COVERAGE)
    n_boot = check_positive_int("n_boot", n_boot, minimum=2)
    level = check_level(level)
    if h.k > 15:
        raise DataError(f"The sample-coverage estimators enumerate all 2**k patterns; {h.k} lists are too many.")
    rng, seed = seeded_generator(random_seed)
    return estimator, n_boot, level, rng, seed


def _sample_coverage(h, estimator, n_boot, level, rng) -> Estimate:
    z = h.dense_counts()[1:]
    statistics = coverage_statistics(z, h.k)
    estimate = float(_coverage_value(statistics, estimator))
    n = h.n_observed
    notes = []
    if not np.isfinite(estimate):
        raise NonexistentEstimateError(
            f"The {SAMPLE_COVERAGE_NAMES[estimator]} estimate does not exist for these data (estimated coverage "
            f"{float(statistics.coverage):.3g}); try "
            + ("" if estimator == "independence" else "estimator='independence', ")
            + "chao_lower_bound(h) or a log-linear model."
        )
    if estimator == "high" and estimate == n:
        notes.append("The high-coverage estimate fell below n (or its numerator was ~0) and is set to n (as CARE1).")
    if estimator == "high" and float(statistics.coverage) <= LOW_COVERAGE:
        notes.append(
            f"Estimated sample coverage {float(statistics.coverage):.3f} <= {LOW_COVERAGE}: the high-coverage "
            "estimate is unstable; Chao & Tsay recommend Nhat-0 or the one-step Nhat-1."
        )
    if abs(estimate - n) <= 1e-9 * n:
        # rounding error around n (a list holding everyone gives N-hat = n up to 1e-14) is n itself: otherwise
        # bootstrap tables all at n give a zero-width interval, a certainty the data do not give
        estimate = float(n)
    if estimator == "one-step" and estimate < n:
        # N cannot be below the number seen: truncate as the high-coverage estimator is truncated (Chao & Tsay 1998)
        notes.append(
            f"The one-step estimate ({estimate:,.1f}) fell below the number observed n and is set to n: the data "
            "show no sign of anyone missed, but the estimator's correction overshot; compare estimator='independence'."
        )
        estimate = float(n)
    replicates = _coverage_value(coverage_statistics(coverage_bootstrap(z, h.k, estimate, n_boot, rng), h.k), estimator)
    finite = np.isfinite(replicates)
    if not finite.all():
        notes.append(f"{int((~finite).sum())} of {n_boot} bootstrap replicates gave no estimate and were left out.")
    std_error = float(np.std(replicates[finite], ddof=1)) if finite.sum() > 1 else np.nan
    if not np.isfinite(std_error):
        interval = (np.nan, np.nan)
    elif estimate <= n:
        # Chao's log-normal interval lives on log(N - n): at N-hat = n it would collapse to the single point n,
        # a certainty the data do not give; the lower bound is n, an upper bound does not exist in this form
        interval = (float(n), np.nan)
        notes.append("The estimate equals n, so the log-normal interval has no upper bound (nan).")
    else:
        interval = lognormal_interval(estimate, std_error**2, n, level)
    return Estimate(
        estimate=estimate,
        interval=interval,
        level=level,
        interval_kind=f"{LOGNORMAL} with bootstrap s.e.",
        method="sample coverage (Chao & Tsay)",
        n_observed=n,
        model=SAMPLE_COVERAGE_NAMES[estimator],
        std_error=std_error,
        warnings=tuple(notes),
        details={
            "estimator": estimator,
            "coverage": float(statistics.coverage),
            "D": float(statistics.d),
            "n_boot": n_boot,
            "bootstrap_estimates": replicates,
        },
    )


@validate_params(
    {"estimator": [Options(SAMPLE_COVERAGE)], "n_boot": [Interval(Integral, 2, None)], "level": LEVEL,
     "random_seed": SEED},
    exempt=("h",),
)
def sample_coverage(
    h: CaptureHistories,
    *,
    estimator: str = "one-step",
    n_boot: int = 200,
    level: float = 0.95,
    random_seed=None,
) -> Estimate:
    """Chao & Tsay's (1998) sample-coverage estimators of N, with bootstrap standard error (as CARE1's ``estN``).

    Sample coverage C is the share of the population's total listing probability that the lists already found;
    it is estimated from those found on one list only. The estimators allow lists to depend on each other
    (through the coefficients of covariation r_ij) and people to differ in their listing probabilities:

    - ``"independence"``: N0 = D / C, valid when the lists are independent;
    - ``"high"``: Nhat, Chao & Tsay (1998) eq. 20, for high coverage (unstable when C <= 0.55);
    - ``"one-step"``: N1, Chao et al. (2001) eq. 2.21, a one-step correction of N0 for low coverage.

    All assume a closed population and records matched without error across lists; the bootstrap standard
    error comes from multinomial tables of round(N-hat) people, each observed cell at probability count / N-hat
    and the unlisted cell at the rest (CARE1's ``estN.bootstrap``).

    Parameters
    ----------
    h : CaptureHistories
        Two or more lists.
    estimator : {"one-step", "high", "independence"}
    n_boot : int
        Bootstrap replicates for the standard error (CARE1 uses 200).
    level : float
        Interval level in (0, 1).
    random_seed : None, int or numpy.random.Generator
        Seed of the bootstrap; the same seed gives the same result. Recorded in ``details["random_seed"]`` (fresh
        entropy where None, so an unseeded run can be repeated).

    Returns
    -------
    Estimate
        ``estimate``; ``std_error`` the standard deviation of the estimator over bootstrap tables drawn as
        multinomial samples of round(N-hat) people with the observed cell shares and the rest unobserved (CARE1's
        scheme); ``interval`` Chao's (1987) log-normal interval with that s.e.; ``details``: coverage C-hat, D,
        the bootstrap estimates.

    Raises
    ------
    NonexistentEstimateError
        When the estimate is not finite (e.g. a zero denominator).

    Warns
    -----
    SmallSampleWarning
        Low coverage for ``"high"``, an estimate below n set to n (the interval is then (n, nan): Chao's log-normal
        interval needs N-hat > n), bootstrap tables with no estimate.

    References
    ----------
    .. [1] Chao A, Tsay PK (1998) A sample coverage approach to multiple-system estimation with application to census
       undercount. Journal of the American Statistical Association 93:283-293.
    .. [2] Chao A, Tsay PK, Lin SH, Shau WY, Chao DY (2001) The applications of capture-recapture models to
       epidemiological data. Statistics in Medicine 20:3123-3157.
    .. [3] Chao A (1987) Estimating the population size for capture-recapture data with unequal catchability.
       Biometrics 43:783-791.

    Examples
    --------
    >>> from estimators import CaptureHistories, sample_coverage
    >>> h = CaptureHistories.from_mapping({"100": 30, "010": 20, "001": 10, "110": 8, "101": 6, "011": 4,
    ...                                    "111": 2}, lists=["A", "B", "C"])
    >>> result = sample_coverage(h, estimator="independence", random_seed=1)
    >>> round(result.estimate, 1), round(result.details["coverage"], 3)
    (137.9, 0.435)
    """
    estimator, n_boot, level, rng, seed = _coverage_iv(h, estimator, n_boot, level, random_seed)
    result = _sample_coverage(h, estimator, n_boot, level, rng)
    _warn_all(result.warnings)
    return dataclasses.replace(result, details={**result.details, "random_seed": seed})


@validate_params(
    {"n_boot": [Interval(Integral, 2, None)], "level": LEVEL, "random_seed": SEED},
    exempt=("h",),
)
def sample_coverage_table(h: CaptureHistories, *, n_boot: int = 200, level: float = 0.95,
                          random_seed=None) -> pd.DataFrame:
    """The three sample-coverage estimates side by side (CARE1's ``estN`` for Indep, HSC and LSC).

    Parameters are those of :func:`sample_coverage`; one seed drives the three bootstraps in turn.

    Returns
    -------
    pandas.DataFrame
        Index ``independence``, ``high``, ``one-step``; columns ``model``, ``estimate``, ``std_error``,
        ``lower``, ``upper``, ``coverage``, ``D``.

    References
    ----------
    .. [1] Chao A, Tsay PK (1998) A sample coverage approach to multiple-system estimation with application to census
       undercount. Journal of the American Statistical Association 93:283-293.
    .. [2] Chao A, Tsay PK, Lin SH, Shau WY, Chao DY (2001) The applications of capture-recapture models to
       epidemiological data. Statistics in Medicine 20:3123-3157.

    Examples
    --------
    >>> from estimators import CaptureHistories
    >>> from estimators import sample_coverage_table
    >>> h = CaptureHistories.from_mapping({"100": 30, "010": 20, "001": 10, "110": 8, "101": 6, "011": 4,
    ...                                    "111": 2}, lists=["A", "B", "C"])
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # coverage 0.435: the high-coverage estimate is flagged unstable
    ...     table = sample_coverage_table(h, random_seed=1)
    >>> table["estimate"].round(1).tolist()
    [137.9, 143.6, 139.3]
    """
    _, n_boot, level, rng, seed = _coverage_iv(h, "one-step", n_boot, level, random_seed)
    rows = {}
    for estimator in ("independence", "high", "one-step"):
        result = _sample_coverage(h, estimator, n_boot, level, rng)
        _warn_all(result.warnings)
        rows[estimator] = {
            "model": result.model,
            "estimate": result.estimate,
            "std_error": result.std_error,
            "lower": result.interval[0],
            "upper": result.interval[1],
            "coverage": result.details["coverage"],
            "D": result.details["D"],
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.attrs.update(n_boot=n_boot, level=level, random_seed=seed)
    return table
