"""The Mh / Mth heterogeneity models in log-linear form (Darroch, Poisson2, Gamma3.5, Chao).

They follow Rivest & Baillargeon (2007) as implemented in Rcapture's ``closedp.t`` / ``closedpCI.t``: a Poisson
regression of the 2**k - 1 observed pattern counts on list main effects (Mth) or the number of lists a pattern is
on (Mh), plus a column h(j) of that number j that stands for the heterogeneity distribution. All fitting goes
through :mod:`estimators._glm`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _glm
from .._lazy import optimize
from .._validation import (
    BOOL,
    LEVEL,
    Interval,
    Options,
    Real,
    check_choice,
    check_level,
    check_positive,
    validate_params,
)
from ..exceptions import ConvergenceWarning, DataError, NonexistentEstimateError
from ..histories import CaptureHistories, check_histories, pattern_matrix
from ..results import Estimate
from ._chao import _warn_all

KINDS = ("darroch", "poisson2", "gamma", "chao", "none")
PROFILE = "profile likelihood (multinomial, Cormack 1992)"
BIAS_WARNING_SHARE = 0.1  # Rcapture flags an asymptotic bias above 10% of N

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
    result = optimize.linprog(
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
    names_of_lists = lists if lists is not None else [f"#{j + 1}" for j in range(k)]
    full = [names_of_lists[j] for j, total in enumerate(pattern_matrix(k)[1:].T @ y) if total == n]
    if full and len(full) < k:
        # The maximum is on the boundary (those lists' capture probability 1); whether the iterations stop
        # there with N = n or run off to infinity depends on rounding, so neither is reported.
        raise NonexistentEstimateError(
            f"Under {name} there is no interior maximum-likelihood estimate of N: every record is on list(s) "
            f"{', '.join(map(repr, full))}, so their capture probability is estimated as 1 and nothing is "
            f"learned about those missed by all lists; try {_alternatives(name)}."
        )
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
        raise NonexistentEstimateError(
            f"Under {name} the Poisson fit runs off to infinity: its maximum lies on the boundary of the parameter "
            "space, where zero cells have fitted value 0. There is no interior maximum-likelihood estimate of N "
            f"to report; try {_alternatives(name)}."
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
