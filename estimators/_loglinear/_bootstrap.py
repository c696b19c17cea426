"""Model-selection-aware bootstrap intervals for N from log-linear models (percentile and BCa).

An interval from the selected model alone ignores that the model was chosen by looking at the data. Resampling
the observed table and repeating the selection in every replicate carries that uncertainty into the interval
(Buckland, Burnham & Augustin 1997; Chan, Silverman & Vincent 2021, as SparseMSE ``estimatepopulation``).
"""

from __future__ import annotations

import numpy as np

from .. import _warn
from .._lazy import stats
from .._validation import (
    LEVEL,
    SEED,
    Integral,
    Interval,
    Options,
    Real,
    check_choice,
    check_level,
    check_positive_int,
    validate_params,
)
from ..exceptions import NonexistentEstimateError, SmallSampleWarning
from ..histories import CaptureHistories, check_histories
from ..results import Estimate, seeded_generator
from ._search import SELECT, check_pthresh, select_model

KINDS = ("bca", "percentile")


def selected_estimate(y: np.ndarray, k: int, select: str, pthresh: float) -> float:
    """N from the model the search selects on counts ``y``; inf when no searched model has an MLE of N."""
    selection = select_model(y, k, select, pthresh)
    if selection.model is None:
        return np.inf
    return float(selection.fits.estimate[selection.index])


def quantiles(values: np.ndarray, probabilities) -> np.ndarray:
    """Median-unbiased quantiles (Hyndman & Fan type 8, R's ``quantile(type=8)`` as SparseMSE uses) that keep
    +inf replicates meaningful: a quantile falling on or interpolating towards +inf is +inf, never nan."""
    ordered = np.sort(np.asarray(values, dtype=float))
    n = len(ordered)
    position = np.clip((n + 1 / 3) * np.asarray(probabilities, dtype=float) + 1 / 3, 1, n) - 1
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, n - 1)
    fraction = position - low
    finite_low = np.where(np.isfinite(ordered[low]), ordered[low], 0.0)
    finite_high = np.where(np.isfinite(ordered[high]), ordered[high], 0.0)
    result = finite_low + fraction * (finite_high - finite_low)
    infinite = np.isinf(ordered[low]) | (np.isinf(ordered[high]) & (fraction > 0))
    return np.where(infinite, np.inf, result)


def bca_interval(replicates: np.ndarray, estimate: float, acceleration: float, level: float):
    """BCa bounds (Efron 1987) from bootstrap replicates, as SparseMSE ``bcaconfvalues``.

    z0 = Phi^-1(share of replicates below the estimate); the tail probabilities alpha become
    Phi(z0 + (z0 + z_alpha) / (1 - a (z0 + z_alpha))); quantiles of type 8 (median-unbiased).
    Returns (lower, upper, z0); nan bounds when z0 is infinite (all replicates on one side of the estimate).
    """
    share = float(np.mean(replicates < estimate))
    z0 = stats.norm.ppf(share)
    if not np.isfinite(z0):
        return np.nan, np.nan, z0
    tails = np.array([(1 - level) / 2, (1 + level) / 2])
    z = stats.norm.ppf(tails) + z0
    adjusted = stats.norm.cdf(z0 + z / (1 - acceleration * z))
    lower, upper = quantiles(replicates, adjusted)
    return float(lower), float(upper), float(z0)


def jackknife_acceleration(y: np.ndarray, k: int, select: str, pthresh: float) -> float:
    """Acceleration a of the BCa interval by the delete-one-person jackknife, with the selection redone.

    Deleting any one of the y_c people in cell c gives the same table, so each cell is refitted once and its
    influence counted y_c times (SparseMSE ``estimatepopulation``; Efron 1987, eq. 6.6):
    a = sum y_c d_c^3 / (6 (sum y_c d_c^2)^(3/2)), d_c = (weighted mean of the jackknife values) - value_c.
    """
    values = np.zeros(len(y))
    for cell in np.flatnonzero(y > 0):
        reduced = y.copy()
        reduced[cell] -= 1
        values[cell] = selected_estimate(reduced, k, select, pthresh)
    weights = np.where(y > 0, y, 0.0)
    finite = np.isfinite(values) | (weights == 0)
    if not finite.all():
        return np.nan
    deviations = np.sum(weights * values) / weights.sum() - values
    spread = np.sum(weights * deviations**2)
    return float(np.sum(weights * deviations**3) / (6 * spread**1.5)) if spread > 0 else 0.0


@validate_params(
    {"select": [Options(SELECT)], "n_boot": [Interval(Integral, 2, None)], "kind": [Options(KINDS)],
     "level": LEVEL, "pthresh": [Interval(Real, 0, 1, closed="neither")], "random_seed": SEED},
    exempt=("h",),
)
def bootstrap_interval(
    h: CaptureHistories,
    *,
    select: str = "bic",
    n_boot: int = 1000,
    kind: str = "bca",
    level: float = 0.95,
    pthresh: float = 0.02,
    random_seed=None,
) -> Estimate:
    """Interval for N that accounts for log-linear model selection: resample, reselect, refit.

    The point estimate is that of :func:`estimators.loglinear` with the same ``select``. Each of ``n_boot``
    replicates draws a table from the multinomial distribution with the observed total n and the observed cell
    proportions, reruns the model search on it and records the selected model's N. It so conditions on n and
    takes the observed cell shares as the truth; the estimate itself rests on the assumptions of
    :func:`estimators.loglinear` (closed population, lists' dependence captured by the selected interactions).
    The percentile interval takes quantiles of the replicates; the BCa interval (Efron 1987) corrects them for
    bias (share of replicates below the estimate) and skewness (jackknife acceleration, the selection redone for
    each deleted person), as in SparseMSE's ``estimatepopulation`` (Chan, Silverman & Vincent 2021).

    A replicate in which no searched model has an MLE of N (possible when resampling empties a sparse overlap) is
    recorded as +inf: the published method would record the arbitrary huge number the unchecked fit returns. Such
    replicates are counted in ``details["n_nonexistent_replicates"]`` and can push the upper bound to inf.

    Parameters
    ----------
    h : CaptureHistories
        The observed lists.
    select : {"bic", "aic", "stepwise"}
        Model search repeated in every replicate (see :func:`estimators.loglinear`). An exhaustive search over
        6,893 models (k = 5) in every replicate is slow; ``"stepwise"`` is much faster (see
        ``benchmarks/NOTES.md``).
    n_boot : int
        Bootstrap replicates.
    kind : {"bca", "percentile"}
        Interval construction.
    level : float
        Interval level.
    pthresh : float
        P-value threshold of ``select="stepwise"``.
    random_seed : None, int or numpy.random.Generator
        Seed; the same seed gives the same result. The integer used (fresh entropy for None, one drawn from a
        Generator) is recorded in ``details["random_seed"]``.

    Returns
    -------
    Estimate
        ``interval_kind`` "bootstrap BCa" or "bootstrap percentile"; ``std_error`` is the standard deviation of
        the finite replicates; ``details`` holds ``replicates`` (array), ``n_boot``, ``seed``, ``select``,
        ``acceleration`` and ``bias_correction`` (BCa), ``n_nonexistent_replicates``.

    Raises
    ------
    NonexistentEstimateError
        No searched model has an MLE of N on the observed table.

    Warns
    -----
    SmallSampleWarning
        Through ``warnings``: replicates without an estimate, or a BCa interval that is undefined (all replicates
        on one side of the estimate).

    References
    ----------
    .. [1] Efron, B. (1987). Better bootstrap confidence intervals. *Journal of the American Statistical
       Association* 82(397), 171-185.
    .. [2] Buckland, S. T., Burnham, K. P. and Augustin, N. H. (1997). Model selection: an integral part of
       inference. *Biometrics* 53(2), 603-618.
    .. [3] Chan, L., Silverman, B. W. and Vincent, K. (2021). Multiple systems estimation for sparse capture
       data: inferential challenges when there are nonoverlapping lists. *Journal of the American Statistical
       Association* 116(535), 1297-1306.

    Examples
    --------
    >>> from estimators import load_dataset, bootstrap_interval
    >>> h = load_dataset("Rcapture_HIV")
    >>> boot = bootstrap_interval(h, select="stepwise", n_boot=50, random_seed=1)
    >>> boot.interval_kind, round(boot.estimate)
    ('bootstrap BCa', 11125)
    """
    histories = check_histories(h, "h")
    check_choice("select", select, SELECT)
    check_choice("kind", kind, KINDS)
    n_boot = check_positive_int("n_boot", n_boot, minimum=2)
    level = check_level(level)
    pthresh = check_pthresh(pthresh)
    rng, seed = seeded_generator(random_seed)
    k = histories.k
    y = np.asarray(histories.dense_counts(), dtype=float)[1:]
    n = float(y.sum())
    selection = select_model(y, k, select, pthresh)
    if selection.model is None:
        raise NonexistentEstimateError(
            "No log-linear model searched has a maximum-likelihood estimate of N for these data, so there is no "
            "estimate to bootstrap; merge sparse lists or use another method."
        )
    estimate = float(selection.fits.estimate[selection.index])
    tables = rng.multinomial(int(round(n)), y / n, size=n_boot).astype(float)
    replicates = np.array([selected_estimate(table, k, select, pthresh) for table in tables])
    replicates.flags.writeable = False
    n_missing = int(np.isinf(replicates).sum())
    notes = []
    if n_missing:
        notes.append(
            f"{n_missing} of {n_boot} bootstrap tables had no model with an MLE of N (recorded as +inf)."
        )
    details = {
        "select": select,
        "search": selection.search,
        "n_boot": n_boot,
        "random_seed": seed,
        "n_nonexistent_replicates": n_missing,
        "replicates": replicates,
    }
    tails = [(1 - level) / 2, (1 + level) / 2]
    if kind == "percentile":
        lower, upper = quantiles(replicates, tails)
        interval_kind = "bootstrap percentile"
    else:
        acceleration = jackknife_acceleration(y, k, select, pthresh)
        if not np.isfinite(acceleration):
            notes.append("A jackknife table had no model with an MLE of N; the acceleration is set to 0.")
            acceleration = 0.0
        lower, upper, z0 = bca_interval(replicates, estimate, acceleration, level)
        if not np.isfinite(z0):
            notes.append(
                "BCa is undefined: every bootstrap replicate lies on one side of the estimate (bounds nan); "
                "use kind='percentile'."
            )
        details.update(acceleration=acceleration, bias_correction=z0)
        interval_kind = "bootstrap BCa"
    for note in notes:
        _warn.warn(note, SmallSampleWarning)
    finite = replicates[np.isfinite(replicates)]
    return Estimate(
        estimate=estimate,
        interval=(lower, upper),
        level=level,
        method="log-linear model with selection-aware bootstrap",
        n_observed=histories.n_observed,
        interval_kind=interval_kind,
        model=selection.model.name(histories.lists),
        std_error=float(np.std(finite, ddof=1)) if finite.size > 1 else None,
        warnings=tuple(notes),
        details=details,
    )
