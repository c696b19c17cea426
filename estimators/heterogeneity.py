"""Estimators that allow people to differ in their chances of being listed: Chao's lower bound, Zelterman's
estimator, the Mh / Mth heterogeneity models in log-linear form (Darroch, Poisson2, Gamma3.5, Chao), and the
Chao-Tsay sample-coverage estimators.

The log-linear heterogeneity models follow Rivest & Baillargeon (2007) as implemented in Rcapture's
``closedp.t`` / ``closedpCI.t``: a Poisson regression of the 2**k - 1 observed pattern counts on list main effects
(Mth) or the number of lists a pattern is on (Mh), plus a column h(j) of that number j that stands for the
heterogeneity distribution. All fitting goes through :mod:`estimators._loglinear._glm`.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from . import _warn
from ._loglinear import _glm
from ._validation import (
    BOOL,
    LEVEL,
    SEED,
    Integral,
    Interval,
    Options,
    Real,
    check_choice,
    check_level,
    check_positive,
    check_positive_int,
    validate_params,
)
from .exceptions import ConvergenceWarning, DataError, NonexistentEstimateError, SmallSampleWarning
from .histories import CaptureHistories, check_histories, pattern_matrix
from .results import Estimate, seeded_generator
from .twolist import lognormal_interval

KINDS = ("darroch", "poisson2", "gamma", "chao", "none")
SAMPLE_COVERAGE = ("one-step", "high", "independence")
LOGNORMAL = "log-normal (Chao 1987)"
PROFILE = "profile likelihood (multinomial, Cormack 1992)"
BIAS_WARNING_SHARE = 0.1  # Rcapture flags an asymptotic bias above 10% of N


def _warn_all(notes, category=SmallSampleWarning, stacklevel=3) -> None:
    for note in notes:
        _warn.warn(note, category)


# ============================================================================================ Chao, Zelterman
def _frequency_iv(h, level) -> tuple[int, float, float, float]:
    """Check the arguments of the estimators built on f1 and f2; return (n, f1, f2, level)."""
    check_histories(h)
    level = check_level(level)
    frequencies = h.capture_frequencies
    return h.n_observed, float(frequencies[0]), float(frequencies[1]), level


def chao_lower_bound_point(n: float, f1: float, f2: float, k: int) -> tuple[float, float, str]:
    """Chao's (1987) lower bound for k lists (occasions) and its variance; the bias-corrected form where f2 = 0.

    With A = (k - 1)/k, the finite-occasion factor of Chao (1987) for k binomial capture occasions (omitting it
    treats the number of lists as unbounded and overestimates by a factor up to k/(k-1) of the unseen):
    f2 > 0: N = n + A f1^2/(2 f2), var = f2 [A r^2/2 + A^2 r^3 + A^2 r^4/4], r = f1/f2 (Chao 1987);
    f2 = 0: N = n + A f1 (f1 - 1)/2, var = A f1(f1-1)/2 + A^2 f1(2 f1 - 1)^2/4 - A^2 f1^4/(4 N) (Chao 2005).
    Returns (N, variance, form).
    """
    factor = (k - 1) / k
    if f2 > 0:
        ratio = f1 / f2
        variance = f2 * (factor * ratio**2 / 2 + factor**2 * ratio**3 + factor**2 * ratio**4 / 4)
        return n + factor * f1**2 / (2 * f2), variance, "classic"
    estimate = n + factor * f1 * (f1 - 1) / 2
    variance = (
        factor * f1 * (f1 - 1) / 2 + factor**2 * f1 * (2 * f1 - 1) ** 2 / 4 - factor**2 * f1**4 / (4 * estimate)
    )
    return estimate, max(variance, 0.0), "bias-corrected"


@validate_params(
    {"level": LEVEL},
    exempt=("h",),
)
def chao_lower_bound(h: CaptureHistories, *, level: float = 0.95) -> Estimate:
    """Chao's (1987) moment lower bound for N under heterogeneous catchability (model Mh).

    N = n + ((k - 1)/k) f1^2 / (2 f2), with f_j the number of people on exactly j of the k lists. It is a lower
    bound for the expected N under any mixture of listing probabilities, and close to N when the people rarely listed
    dominate the unseen.
    Lists are treated as exchangeable occasions; dependence between specific lists is not modelled.

    Parameters
    ----------
    h : CaptureHistories
        Two or more lists.
    level : float
        Interval level in (0, 1).

    Returns
    -------
    Estimate
        ``estimate``, ``std_error`` (Chao 1987's variance), ``interval`` Chao's log-normal interval
        n + (N - n)/C, n + (N - n) C with C = exp(z sqrt(log(1 + var/(N - n)^2))); ``details``: f1, f2 and
        ``form`` ("classic" or, where f2 = 0, "bias-corrected": n + ((k-1)/k) f1(f1 - 1)/2, Chao 2005).

    Warns
    -----
    SmallSampleWarning
        Where f2 = 0 (bias-corrected form used) or f1 = 0 (nobody appears to be missed: N = n).

    References
    ----------
    .. [1] Chao A (1987) Estimating the population size for capture-recapture data with unequal catchability.
       Biometrics 43:783-791.
    .. [2] Chao A (2005) Species estimation and applications. In Encyclopedia of Statistical Sciences, 2nd ed.,
       vol. 12, 7907-7916. Wiley, New York.

    Examples
    --------
    >>> from estimators import CaptureHistories, chao_lower_bound
    >>> h = CaptureHistories.from_mapping({"100": 30, "010": 20, "001": 10, "110": 8, "101": 6, "011": 4,
    ...                                    "111": 2}, lists=["A", "B", "C"])
    >>> round(chao_lower_bound(h).estimate, 1)  # n = 80, f1 = 60, f2 = 18, k = 3: 80 + (2/3) 60**2 / 36
    146.7
    """
    n, f1, f2, level = _frequency_iv(h, level)
    estimate, variance, form = chao_lower_bound_point(n, f1, f2, h.k)
    notes = []
    if f1 == 0:
        notes.append("Nobody is on exactly one list (f1 = 0): the lower bound equals the number observed.")
    elif form == "bias-corrected":
        notes.append(
            "Nobody is on exactly two lists (f2 = 0): the bias-corrected form n + ((k-1)/k) f1(f1-1)/2 is used "
            "(Chao 2005); "
            "it is unstable."
        )
    _warn_all(notes)
    return Estimate(
        estimate=estimate,
        interval=lognormal_interval(estimate, variance, n, level),
        level=level,
        interval_kind=LOGNORMAL,
        method="Chao lower bound",
        n_observed=n,
        model="Mh",
        std_error=float(np.sqrt(variance)),
        warnings=tuple(notes),
        details={"f1": f1, "f2": f2, "form": form},
    )


def zelterman_point(n: float, f1: float, f2: float) -> tuple[float, float]:
    """Zelterman's (1988) estimate n / (1 - exp(-lambda)), lambda = 2 f2 / f1, and Böhning's (2008) variance.

    var = n e^-l / (1 - e^-l)^2 + n^2 e^-2l l^2 (1/f1 + 1/f2) / (1 - e^-l)^4: the binomial variance of n given N
    plus the delta-method variance through lambda (var(log lambda) = 1/f1 + 1/f2).
    """
    rate = 2 * f2 / f1
    seen = -np.expm1(-rate)
    estimate = n / seen
    variance = n * np.exp(-rate) / seen**2 + n**2 * np.exp(-2 * rate) * rate**2 * (1 / f1 + 1 / f2) / seen**4
    return float(estimate), float(variance)


@validate_params(
    {"level": LEVEL},
    exempt=("h",),
)
def zelterman(h: CaptureHistories, *, level: float = 0.95) -> Estimate:
    """Zelterman's (1988) robust estimator of N from those listed once and twice.

    Each person's count of lists is taken as locally Poisson with rate lambda, estimated from f1 and f2 only
    (lambda = 2 f2 / f1), which makes the estimate robust to how the rest of the count distribution looks;
    N = n / (1 - exp(-lambda)).
    It assumes a closed population and, like :func:`chao_lower_bound`, treats the lists as exchangeable
    occasions: dependence between specific lists is not modelled, and the Poisson form need only hold for
    the counts 0, 1 and 2.

    Parameters
    ----------
    h : CaptureHistories
        Two or more lists.
    level : float
        Interval level in (0, 1).

    Returns
    -------
    Estimate
        ``estimate``, ``std_error`` (Böhning 2008, conditioning on n), ``interval`` Chao's (1987) log-normal
        interval around n; ``details``: f1, f2, lambda.

    Raises
    ------
    NonexistentEstimateError
        When f1 = 0 or f2 = 0 (lambda is 0 or undefined).

    References
    ----------
    .. [1] Zelterman D (1988) Robust estimation in truncated discrete distributions with application to
       capture-recapture experiments. Journal of Statistical Planning and Inference 18:225-237.
    .. [2] Böhning D (2008) A simple variance formula for population size estimators by conditioning. Statistical
       Methodology 5:410-423.
    .. [3] Chao A (1987) Estimating the population size for capture-recapture data with unequal catchability.
       Biometrics 43:783-791.

    Examples
    --------
    >>> from estimators import CaptureHistories, zelterman
    >>> h = CaptureHistories.from_mapping({"100": 30, "010": 20, "001": 10, "110": 8, "101": 6, "011": 4,
    ...                                    "111": 2}, lists=["A", "B", "C"])
    >>> round(zelterman(h).estimate, 1)  # 80 / (1 - exp(-2 * 18 / 60))
    177.3
    """
    n, f1, f2, level = _frequency_iv(h, level)
    if f1 == 0 or f2 == 0:
        raise NonexistentEstimateError(
            f"Zelterman's estimator needs people on exactly one list and on exactly two (f1 = {f1:g}, f2 = {f2:g}); "
            "with either zero it does not exist. Try chao_lower_bound(h) or a log-linear model."
        )
    estimate, variance = zelterman_point(n, f1, f2)
    return Estimate(
        estimate=estimate,
        interval=lognormal_interval(estimate, variance, n, level),
        level=level,
        interval_kind=LOGNORMAL,
        method="Zelterman",
        n_observed=n,
        model="Mh (locally Poisson)",
        std_error=float(np.sqrt(variance)),
        details={"f1": f1, "f2": f2, "lambda": 2 * f2 / f1},
    )


# ============================================================================================ Mh / Mth models
def heterogeneity_columns(j: np.ndarray, k: int, kind: str, gamma_shape: float = 3.5) -> tuple[np.ndarray, list[str]]:
    """The heterogeneity columns h(j) of Rivest & Baillargeon (2007) for j = number of lists a pattern is on.

    darroch: j^2/2; poisson2: 2^j - 1; gamma: -log(1 + j/shape); chao: max(j - m + 1, 0) for m = 3..k
    (one column per m, Chao's lower-bound model); none: no column.
    """
    j = np.asarray(j, dtype=float)
    if kind == "darroch":
        return (j**2 / 2)[:, None], ["tau"]
    if kind == "poisson2":
        return (2.0**j - 1)[:, None], ["tau"]
    if kind == "gamma":
        return (-np.log1p(j / gamma_shape))[:, None], ["tau"]
    if kind == "chao":
        orders = np.arange(3, k + 1)
        return np.maximum(j[:, None] - orders[None, :] + 1, 0.0), [f"eta{m}" for m in orders]
    return np.empty((len(j), 0)), []


def heterogeneity_design(k: int, kind: str, time_effects: bool, gamma_shape: float = 3.5):
    """Design matrix over the 2**k - 1 observed patterns (index order of :func:`pattern_matrix`), intercept first.

    Returns (design, column names, number of leading columns that do not model heterogeneity).
    """
    patterns = pattern_matrix(k)[1:].astype(float)
    j = patterns.sum(axis=1)
    if time_effects:
        base, names = patterns, [f"beta{i + 1}" for i in range(k)]
    else:
        base, names = j[:, None], ["beta"]
    extra, extra_names = heterogeneity_columns(j, k, kind, gamma_shape)
    design = np.column_stack([np.ones(len(j)), base, extra])
    return design, ["intercept", *names, *extra_names], 1 + base.shape[1]


def drop_negative_eta(design: np.ndarray, names: list[str], y: np.ndarray, n_base: int):
    """Rcapture's treatment of Chao's model (``Chao.neg``): while an eta coefficient is negative, remove the
    first negative one (lowest order) and refit. Returns (fit, design, names, removed names)."""
    fit = _glm.fit_poisson(design, y, start=neutral_start(design, y))
    removed = []
    while True:
        eta = fit.coef[n_base:]
        negative = np.flatnonzero(eta < 0)
        if len(negative) == 0:
            return fit, design, names, removed
        column = n_base + int(negative[0])
        removed.append(names[column])
        design = np.delete(design, column, axis=1)
        names = names[:column] + names[column + 1 :]
        fit = _glm.fit_poisson(design, y, start=neutral_start(design, y))


def asymptotic_bias(design: np.ndarray, fit: _glm.PoissonFit) -> float:
    """Asymptotic bias of exp(intercept) in a Poisson log-linear model (Rcapture's ``closedp.fitone``).

    Second-order bias of the Poisson MLE (Cordeiro & McCullagh 1991) carried to the unseen count exp(beta_0).
    """
    inverse = fit.covariance
    xi = -0.5 * np.einsum("ij,jk,ik->i", design, inverse, design)
    psi = -2 * design.T @ (fit.fitted * xi)
    psi[0] -= 1
    return float(0.5 * np.exp(fit.coef[0]) * (-(inverse @ psi))[0])


def unlisted_unbounded(design: np.ndarray, y: np.ndarray) -> bool:
    """Whether the unlisted count exp(intercept) can grow without bound while the likelihood does not fall.

    True iff some direction d with d_0 > 0 keeps the observed cells' linear predictors (design[y > 0] d = 0) and
    lowers or keeps the zero cells' (design[y = 0] d <= 0): along it the likelihood never decreases while N
    grows, so the supremum has no finite N, or N is not identified (d in the design's null space). The check of
    Fienberg & Rinaldo (2012) for the one cell that matters, the unobserved one with design row (1, 0, ..., 0)
    (h(0) = 0 for every heterogeneity column). The cone is homogeneous, so the LP's maximum of d_0 <= 1 is 0 or 1.
    """
    positive = y > 0
    objective = np.zeros(design.shape[1])
    objective[0] = -1.0
    bounds = [(None, 1.0)] + [(None, None)] * (design.shape[1] - 1)
    zero_rows = design[~positive]
    result = linprog(
        objective,
        A_ub=zero_rows if len(zero_rows) else None,
        b_ub=np.zeros(len(zero_rows)) if len(zero_rows) else None,
        A_eq=design[positive],
        b_eq=np.zeros(int(positive.sum())),
        bounds=bounds,
        method="highs",
    )
    return result.status == 0 and -result.fun > 0.5


def _nonexistent_message(name: str, k: int, y: np.ndarray) -> str:
    frequencies = np.bincount(pattern_matrix(k)[1:].sum(axis=1), weights=y, minlength=k + 1)[1:]
    return (
        f"Under {name} the maximum-likelihood estimate of N does not exist: the likelihood keeps rising as N grows "
        f"without bound (numbers on exactly 1, 2, ... lists: {', '.join(f'{f:g}' for f in frequencies)}), so a "
        "fit would return an arbitrary, often huge, number (Fienberg & Rinaldo 2012). Too few people are on "
        f"several lists for this model; try {_alternatives(name)}."
    )


def _alternatives(name: str) -> str:
    others = "chao_lower_bound(h) or sample_coverage(h)"
    return others if name in ("M0", "Mt") else f"kind='none', {others}"


def neutral_start(design: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Start the Newton iterations at the constant-mean fit: steep columns such as Poisson2's 2^j - 1 make the
    least-squares start overflow for many lists."""
    start = np.zeros(design.shape[1])
    start[0] = np.log(max(float(np.mean(y)), 1e-8))
    return start


def _chao_profile(full_design: np.ndarray, y: np.ndarray, n_base: int):
    """Cormack's profile log-likelihood for Chao's model as Rcapture's ``closedpCI.t`` computes it: at every N the
    negative eta coefficients of the complete-table fit are removed one at a time and the fit repeated, so the
    profile respects eta >= 0. The columns kept change with N, so no warm start is carried between N."""

    def profile(unlisted: float, _previous):
        design = full_design
        while True:
            loglik, coef = _glm.multinomial_profile_loglik(design, y, unlisted, start=neutral_start(design, y))
            negative = np.flatnonzero(coef[n_base:] < 0)
            if len(negative) == 0:
                return loglik, coef
            design = np.delete(design, n_base + int(negative[0]), axis=1)

    return profile


@dataclass(frozen=True)
class _ModelName:
    kind: str
    time_effects: bool
    gamma_shape: float

    def __str__(self) -> str:
        prefix = "Mth" if self.time_effects else "Mh"
        if self.kind == "none":
            return "Mt" if self.time_effects else "M0"
        label = {
            "darroch": "Darroch",
            "poisson2": "Poisson2",
            "gamma": f"Gamma{self.gamma_shape:g}",
            "chao": "Chao (LB)",
        }[self.kind]
        return f"{prefix} {label}"


@validate_params(
    {"kind": [Options(KINDS)], "time_effects": BOOL, "level": LEVEL,
     "gamma_shape": [Interval(Real, 0, None, closed="neither")]},
    exempt=("h",),
)
def heterogeneity(
    h: CaptureHistories,
    *,
    kind: str = "darroch",
    time_effects: bool = True,
    level: float = 0.95,
    gamma_shape: float = 3.5,
) -> Estimate:
    """Heterogeneity models Mh / Mth in log-linear form (Rivest & Baillargeon 2007), as Rcapture's ``closedpCI.t``.

    The 2**k - 1 observed pattern counts are Poisson with log mean
    ``beta_0 + (list main effects, or beta * j) + tau h(j)``, j the number of lists the pattern is on and h a
    function standing for the distribution of listing probabilities between people:

    - ``"darroch"``: h(j) = j^2/2 (Darroch et al. 1993), ``"poisson2"``: 2^j - 1, ``"gamma"``:
      -log(1 + j/shape) (``gamma_shape`` = 3.5 by default, Rcapture's Gamma3.5);
    - ``"chao"``: Chao's lower-bound model, columns max(j - m + 1, 0) for m = 3..k; a negative coefficient is
      removed and the model refitted, one at a time, as Rcapture does (reported in ``warnings``);
    - ``"none"``: no heterogeneity (M0 or Mt).

    ``time_effects=True`` gives Mth (one parameter per list), ``False`` gives Mh (one listing parameter).
    N = n + exp(beta_0) with delta-method standard error (Rcapture's ``abundance``); the interval is the
    multinomial profile-likelihood interval (Cormack 1992), centred on the multinomial MLE in ``details``.
    Lists are assumed independent given each person's listing propensity; list-by-list dependence is not modelled.

    Parameters
    ----------
    h : CaptureHistories
        Three or more lists (two lists cannot identify a heterogeneity term; ``kind="none"`` works with two).
    kind : {"darroch", "poisson2", "gamma", "chao", "none"}
    time_effects : bool
        Mth (True) or Mh (False).
    level : float
        Interval level in (0, 1).
    gamma_shape : float
        Shape of the gamma heterogeneity column (only for ``kind="gamma"``).

    Returns
    -------
    Estimate
        ``model`` such as ``"Mth Darroch"``; ``details``: coefficients, AIC, BIC (log of the number observed, as
        Rcapture), deviance, df, multinomial MLE, asymptotic bias, removed eta columns, whether the profile
        bounds were found.

    Warns
    -----
    ConvergenceWarning
        The Poisson fit did not converge.
    SmallSampleWarning
        Large asymptotic bias (over 10% of N), a heterogeneity coefficient of the wrong sign, a profile bound
        not found (upper = nan) or the lower bound set to n.

    References
    ----------
    .. [1] Rivest LP, Baillargeon S (2007) Applications and extensions of Chao's moment estimator for the size of a
       closed population. Biometrics 63:999-1006.
    .. [2] Baillargeon S, Rivest LP (2007) Rcapture: loglinear models for capture-recapture in R. Journal of
       Statistical Software 19(5):1-31.
    .. [3] Darroch JN, Fienberg SE, Glonek GFV, Junker BW (1993) A three-sample multiple-recapture approach to census
       population estimation with heterogeneous catchability. JASA 88:1137-1148.
    .. [4] Cormack RM (1992) Interval estimation for mark-recapture studies of closed populations. Biometrics
       48:567-576.

    Examples
    --------
    >>> from estimators import CaptureHistories, heterogeneity
    >>> h = CaptureHistories.from_mapping({"100": 30, "010": 20, "001": 10, "110": 8, "101": 6, "011": 4,
    ...                                    "111": 2}, lists=["A", "B", "C"])
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # 80 people: the asymptotic-bias warning is expected
    ...     result = heterogeneity(h, kind="darroch", time_effects=False)
    >>> result.model, round(result.estimate, 1)
    ('Mh Darroch', 154.1)
    """
    check_histories(h)
    kind = check_choice("kind", kind, KINDS)
    if not isinstance(time_effects, (bool, np.bool_)):
        raise ValueError(f"`time_effects` must be True (Mth) or False (Mh); got {time_effects!r}.")
    level = check_level(level)
    gamma_shape = check_positive("gamma_shape", gamma_shape)
    if kind != "none" and h.k < 3:
        raise DataError(
            f"A heterogeneity model needs at least three lists; these histories have {h.k}. With two lists "
            "heterogeneity cannot be separated from N: use kind='none' or a two-list estimator."
        )
    result = fit_heterogeneity(h.dense_counts()[1:], h.k, kind, bool(time_effects), level, gamma_shape, h.lists)
    _warn_all([w for w in result.warnings if "did not converge" in w], ConvergenceWarning)
    _warn_all([w for w in result.warnings if "did not converge" not in w])
    return result


def fit_heterogeneity(y: np.ndarray, k: int, kind: str, time_effects: bool, level: float,
                      gamma_shape: float = 3.5, lists=None) -> Estimate:
    """:func:`heterogeneity` on the 2**k - 1 observed pattern counts ``y`` (index order of
    :func:`~estimators.histories.pattern_matrix`, without the unobserved cell); arguments already checked.
    Warnings are returned in the result, not issued; ``lists`` (names) only label messages.

    Raises :class:`NonexistentEstimateError` where N has no finite maximum-likelihood estimate
    (:func:`unlisted_unbounded`) or the fit runs off to infinity."""
    y = np.asarray(y, dtype=float)
    n = int(y.sum())
    name = str(_ModelName(kind, time_effects, gamma_shape))
    design, names, n_base = heterogeneity_design(k, kind, time_effects, gamma_shape)
    notes: list[str] = []
    if kind != "chao" and unlisted_unbounded(design, y):
        raise NonexistentEstimateError(_nonexistent_message(name, k, y))
    fit, removed = None, []
    try:
        if kind == "chao":
            fit, design, names, removed = drop_negative_eta(design, names, y, n_base)
        else:
            fit = _glm.fit_poisson(design, y, start=neutral_start(design, y))
    except np.linalg.LinAlgError:
        pass  # a fit running to the boundary; said below
    # Chao's model is checked on the columns kept after negative eta are removed: those are the model fitted
    if kind == "chao" and unlisted_unbounded(design, y):
        raise NonexistentEstimateError(_nonexistent_message(name, k, y))
    estimate, std_error = _glm.glm_abundance(fit, n) if fit is not None else (np.nan, np.nan)
    if not np.isfinite(estimate):
        names_of_lists = lists if lists is not None else [f"#{j + 1}" for j in range(k)]
        full = [names_of_lists[j] for j, total in enumerate(pattern_matrix(k)[1:].T @ y) if total == n]
        cause = (
            f"every record is on list(s) {', '.join(map(repr, full))}, so their capture probability is "
            "estimated as 1 and nothing is learned about those missed by all lists"
            if full else "its maximum lies on the boundary of the parameter space, where zero cells have fitted value 0"
        )
        raise NonexistentEstimateError(
            f"Under {name} the Poisson fit runs off to infinity: {cause}. There is no interior "
            f"maximum-likelihood estimate of N to report; try {_alternatives(name)}."
        )
    if removed:
        notes.append(
            f"Chao's model: negative coefficient(s) {', '.join(removed)} removed and the model refitted "
            "(as Rcapture)."
        )
    convergence = []
    if not fit.converged:
        convergence.append(f"{name}: the Poisson fit did not converge in {fit.iterations} iterations.")
    rank = np.linalg.matrix_rank(design)
    bias = asymptotic_bias(design, fit) if rank == design.shape[1] else np.nan
    if np.isfinite(bias) and abs(bias) > BIAS_WARNING_SHARE * estimate:
        notes.append(f"The asymptotic bias of N is large ({bias:,.1f}, over 10% of N): treat the estimate with care.")
    if kind in ("darroch", "poisson2", "gamma") and fit.coef[-1] < 0:
        notes.append(
            f"The heterogeneity coefficient tau is negative ({fit.coef[-1]:.4g}): the data show less variation "
            "in listing than this model allows, so the heterogeneity curve is extrapolated with the wrong sign; "
            "prefer the model without heterogeneity."
        )
    full_design = heterogeneity_design(k, kind, time_effects, gamma_shape)[0]
    try:
        if kind == "chao":
            profile = _glm.profile_interval(full_design, y, level, start=fit.coef,
                                            profile=_chao_profile(full_design, y, n_base))
        else:
            profile = _glm.profile_interval(design, y, level, start=fit.coef)
    except (np.linalg.LinAlgError, ValueError):
        # only where some coefficient has no finite MLE (e.g. a list with no records): say so rather than crash
        profile = _glm.ProfileInterval(np.nan, np.nan, np.nan, False, False)
        convergence.append(
            f"{name}: the profile likelihood did not converge (a coefficient has no finite MLE); no interval."
        )
    if np.isfinite(profile.mle) and not profile.upper_found:
        notes.append(
            "The profile-likelihood upper bound was not found (upper CL not found, as Rcapture reports): "
            "the likelihood stays flat for large N."
        )
    if np.isfinite(profile.mle) and not profile.lower_found:
        notes.append(
            "The profile likelihood does not drop enough before N = n: the lower bound is set to the number "
            "observed n (as Rcapture)."
        )
    loglik = fit.loglik
    details = {
        "coefficients": dict(zip(names, map(float, fit.coef))),
        "aic": -2 * loglik + 2 * rank,
        "bic": -2 * loglik + np.log(n) * rank,
        "deviance": fit.deviance,
        "df": int(len(y) - rank),
        "loglik": loglik,
        "multinomial_mle": profile.mle,
        "asymptotic_bias": bias,
        "removed_eta": tuple(removed),
        "lower_found": profile.lower_found,
        "upper_found": profile.upper_found,
        "converged": fit.converged,
        "gamma_shape": gamma_shape if kind == "gamma" else None,
    }
    return Estimate(
        estimate=estimate,
        interval=(profile.lower, profile.upper),
        level=level,
        interval_kind=PROFILE,
        method="log-linear heterogeneity model" if kind != "none" else "log-linear model",
        n_observed=n,
        model=name,
        std_error=std_error,
        warnings=tuple(convergence + notes),
        details=details,
    )


# ============================================================================================ sample coverage
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
    >>> from estimators.heterogeneity import sample_coverage_table
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
