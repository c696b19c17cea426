"""Huggins's (1989) conditional likelihood with individual covariates: models M0, Mt and Mb as R's VGAM
``posbernoulli.t`` / ``posbernoulli.b`` fit them (Yee, Stoklosa and Huggins 2015).

Each person i seen at least once has a capture probability p_ij on occasion (list) j, a logistic regression on
the person's covariates x_i. Only the people seen enter the likelihood, each conditioned on having been seen:

    L(theta) = prod_i prod_j p_ij^y_ij (1 - p_ij)^(1 - y_ij) / pi_i,    pi_i = 1 - prod_j (1 - p_ij),

and N is the Horvitz-Thompson sum of 1 / pi_i over the people seen (Huggins 1989; Alho 1990). The math is in
small pure functions (log-likelihood with its gradient and Hessian, N and its gradient, Huggins's variance), the
checks and the result in :func:`huggins`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from . import _warn
from ._validation import BOOL, LEVEL, InstanceOf, Options, check_level, validate_params
from .exceptions import ConvergenceWarning, DataError, SmallSampleWarning
from .histories import CaptureHistories, check_histories
from .results import Estimate
from .twolist import lognormal_interval, wald_interval

MODELS = ("M0", "Mt", "Mb")
INTERVALS = ("wald", "lognormal")
INTERVAL_NAMES = {"wald": "Wald (N +/- z SE, as VGAM)", "lognormal": "log-normal (Chao 1987)"}
# VGAM's posbernoulli.* warn "the abundance estimation for this model can be unstable" below this pi_i (p.small)
P_SMALL = 1e-4
# one record holding more than this share of the estimated unseen (N - n) makes N rest on that one record
DOMINANT_SHARE = 0.5
# |linear predictor| beyond this at the optimum: a probability at 0 or 1 (a boundary fit)
BOUNDARY_ETA = 15.0


# ============================================================================================== pure math
def inclusion_probability(log_miss: np.ndarray) -> np.ndarray:
    """pi_i = 1 - prod_j (1 - p_ij) from log_miss_i = sum_j log(1 - p_ij), without cancellation."""
    return -np.expm1(log_miss)


def horvitz_thompson(pi: np.ndarray, weights: np.ndarray) -> float:
    """N-hat = sum_i w_i / pi_i (Huggins 1989, eq. 2.2), w_i the number of people with row i's history."""
    return float(np.sum(weights / pi))


def huggins_variance(pi: np.ndarray, weights: np.ndarray, gradient: np.ndarray, covariance: np.ndarray) -> float:
    """Huggins's (1989, eq. 2.3) variance of N-hat: sum_i w_i (1 - pi_i)/pi_i^2 + D' I^{-1} D.

    The first term is the variance of the Horvitz-Thompson sum with the p_ij known, the second the delta-method
    term for their estimation (D = dN/dtheta, ``covariance`` = I^{-1}); VGAM's ``SE.N.hat`` is its root.
    """
    known = float(np.sum(weights * (1.0 - pi) / pi**2))
    return known + float(gradient @ covariance @ gradient)


def loglik_t(theta: np.ndarray, Z: np.ndarray, Y: np.ndarray, weights: np.ndarray):
    """Conditional log-likelihood of models M0 / Mt (no behavioural response), its gradient and Hessian.

    Parameters
    ----------
    theta : ndarray (p,)
    Z : ndarray (n, T, p)
        Design: logit p_ij = Z[i, j] @ theta.
    Y : ndarray (n, T)
        0/1 capture histories, each with at least one 1.
    weights : ndarray (n,)
        People with each row's history and covariates.

    Returns
    -------
    (float, ndarray (p,), ndarray (p, p))
        sum_i w_i [sum_j (y_ij eta_ij - log(1 + e^eta_ij)) - log pi_i] and its first and second derivatives.
        The Hessian does not depend on Y, so the observed information equals the expected one (VGAM's EIM).
    """
    eta = Z @ theta
    p = special.expit(eta)
    log_miss = -np.logaddexp(0.0, eta).sum(axis=1)  # log prod_j (1 - p_ij)
    pi = inclusion_probability(log_miss)
    ll = float(np.sum(weights * ((Y * eta).sum(axis=1) + log_miss - np.log(pi))))
    odds_miss = 1.0 / np.expm1(-log_miss)  # Q / pi, Q = prod_j (1 - p_ij)
    s = np.einsum("nt,ntp->np", p, Z)  # sum_j p_ij z_ij = -dlog Q / dtheta
    grad = np.einsum("nt,ntp->p", (Y - p) * weights[:, None], Z) - (weights * odds_miss) @ s
    curvature = p * (1.0 - p) * (weights * (1.0 + odds_miss))[:, None]
    hess = -np.einsum("nt,ntp,ntq->pq", curvature, Z, Z) + np.einsum("n,np,nq->pq", weights * odds_miss / pi, s, s)
    return ll, grad, hess


def n_hat_t(theta: np.ndarray, Z: np.ndarray, weights: np.ndarray):
    """pi_i, N-hat and D = dN-hat/dtheta for models M0 / Mt."""
    eta = Z @ theta
    p = special.expit(eta)
    log_miss = -np.logaddexp(0.0, eta).sum(axis=1)
    pi = inclusion_probability(log_miss)
    s = np.einsum("nt,ntp->np", p, Z)
    # dpi/dtheta = Q s, so dN/dtheta = -sum w Q s / pi^2
    gradient = -(weights * np.exp(log_miss) / pi**2) @ s
    return pi, horvitz_thompson(pi, weights), gradient


def behaviour_statistics(Y: np.ndarray):
    """For model Mb: first capture occasion f_i (1-based), recapture trials m_i = T - f_i and recaptures r_i."""
    T = Y.shape[1]
    first = np.argmax(Y > 0, axis=1) + 1
    return first.astype(float), (T - first).astype(float), (Y.sum(axis=1) - 1).astype(float)


def loglik_b(theta, Z1, Z2, first, trials, recaptures, T, weights, *, expected: bool = False):
    """Conditional log-likelihood of model Mb (VGAM's ``posbernoulli.b``), its gradient and Hessian.

    The probability of a first capture p_i = expit(Z1[i] @ theta) holds on every occasion up to the first capture,
    the recapture probability c_i = expit(Z2[i] @ theta) after it:
    l_i = log p_i + (f_i - 1) log(1 - p_i) - log(1 - (1 - p_i)^T) + r_i log c_i + (m_i - r_i) log(1 - c_i).

    With ``expected`` the Hessian is minus the expected information given capture (f_i replaced by E[f_i | seen],
    m_i by T - E[f_i | seen]), VGAM's working weights, from which it takes the covariance behind ``SE.N.hat``.
    """
    eta1, eta2 = Z1 @ theta, Z2 @ theta
    p, c = special.expit(eta1), special.expit(eta2)
    log_miss = -T * np.logaddexp(0.0, eta1)
    pi = inclusion_probability(log_miss)
    odds_miss = 1.0 / np.expm1(-log_miss)  # Q / pi
    ll = np.sum(weights * (eta1 - first * np.logaddexp(0.0, eta1) - np.log(pi)
                           + recaptures * eta2 - trials * np.logaddexp(0.0, eta2)))
    score1 = 1.0 - first * p - T * p * odds_miss
    score2 = recaptures - trials * c
    grad = Z1.T @ (weights * score1) + Z2.T @ (weights * score2)
    if expected:
        k = np.arange(1, T + 1)
        # E[f | seen] = sum_k k p (1-p)^(k-1) / pi
        first = (k[None, :] * p[:, None] * (1.0 - p[:, None]) ** (k[None, :] - 1)).sum(axis=1) / pi
        trials = T - first
    d2_1 = -first * p * (1 - p) + T**2 * p**2 * odds_miss / pi - T * odds_miss * p * (1 - p)
    d2_2 = -trials * c * (1 - c)
    hess = (Z1 * (weights * d2_1)[:, None]).T @ Z1 + (Z2 * (weights * d2_2)[:, None]).T @ Z2
    return float(ll), grad, hess


def n_hat_b(theta, Z1, T, weights):
    """pi_i, N-hat and D = dN-hat/dtheta for model Mb: pi_i = 1 - (1 - p_i)^T."""
    eta1 = Z1 @ theta
    p = special.expit(eta1)
    log_miss = -T * np.logaddexp(0.0, eta1)
    pi = inclusion_probability(log_miss)
    gradient = -(weights * T * p * np.exp(log_miss) / pi**2) @ Z1
    return pi, horvitz_thompson(pi, weights), gradient


# ============================================================================================== covariates
_FORMULA_TERM = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")


def _covariate_names(h: CaptureHistories, covariates) -> list[str]:
    """The covariate columns asked for, from a formula '~ a + b' or a list of names."""
    if covariates is None:
        return []
    if isinstance(covariates, str):
        text = covariates.strip()
        if "~" in text:
            lhs, _, text = text.partition("~")
            if lhs.strip():
                raise DataError(f"The formula {covariates!r} has a left-hand side; the response is the capture "
                                "histories: write only the right-hand side, e.g. '~ sex + weight'.")
        terms = [term.strip() for term in text.split("+")]
        names = []
        for term in terms:
            if term == "1":
                continue
            if term in ("", "0", "-1") or not (_FORMULA_TERM.match(term) or term in h.covariates):
                raise DataError(
                    f"Cannot read the term {term!r} of the formula {covariates!r}: only additive main effects of "
                    "covariate columns ('~ sex + age + weight') are supported, no interactions, transformations or "
                    "removal of the intercept. Build such a column yourself and name it, or pass a list of names."
                )
            names.append(term)
    else:
        names = list(covariates)
        for name in names:
            if not isinstance(name, str):
                raise DataError(f"`covariates` must name covariate columns by their names (str); got {name!r}.")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise DataError(f"Covariate(s) {repeated!r} named more than once in `covariates`.")
    if names and not h.covariates:
        raise DataError(
            f"`covariates` names {names!r}, but these capture histories carry no covariates. Build them from one "
            "row per person with the covariate columns kept: CaptureHistories.from_records(frame, lists=[...]) "
            "(or from_counts with the covariates as extra columns)."
        )
    unknown = [name for name in names if name not in h.covariates]
    if unknown:
        raise DataError(f"Unknown covariate(s) {unknown!r}; the capture histories carry {sorted(h.covariates)!r}.")
    return names


def _encode(name: str, values: np.ndarray) -> tuple[list[str], np.ndarray]:
    """One covariate as design columns: a number as is, text or a pandas categorical as treatment dummies (the
    first level, sorted as R's factor() sorts, is the reference: age 'a'/'y' gives a column 'agey')."""
    series = pd.Series(values)
    missing = series.isna()
    if missing.any():
        raise DataError(f"Covariate {name!r} has {int(missing.sum())} missing value(s) (first at row "
                        f"{int(np.flatnonzero(missing)[0])}); drop or impute those people before fitting.")
    if isinstance(series.dtype, pd.CategoricalDtype):
        levels = [level for level in series.cat.categories if (series == level).any()]
        text = series.astype(object)
    elif series.dtype == bool:
        return [name], series.to_numpy(dtype=float)[:, None]
    elif pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_complex_dtype(series.dtype):
        column = series.to_numpy(dtype=float)
        if not np.isfinite(column).all():
            raise DataError(f"Covariate {name!r} has infinite values; give finite numbers.")
        if np.ptp(column) == 0:
            raise DataError(f"Covariate {name!r} takes the single value {column[0]:g} for everyone seen, so its "
                            "effect cannot be told apart from the intercept; leave it out.")
        return [name], column[:, None]
    elif all(isinstance(v, str) for v in series):  # object or pandas' string dtype
        text = series
        levels = sorted(set(series))
    else:
        example = next((v for v in series if not isinstance(v, str)), series.iloc[0])
        raise DataError(
            f"Covariate {name!r} is neither numeric nor categorical (it holds {type(example).__name__} values such as "
            f"{example!r}); convert it to numbers or to text categories before fitting."
        )
    if len(levels) < 2:
        raise DataError(f"Covariate {name!r} takes the single value {levels[0]!r} for everyone seen, so its effect "
                        "cannot be told apart from the intercept; leave it out.")
    columns = [f"{name}{level}" for level in levels[1:]]
    return columns, np.column_stack([(text == level).to_numpy(dtype=float) for level in levels[1:]])


def covariate_matrix(h: CaptureHistories, covariates) -> tuple[list[str], np.ndarray]:
    """The design columns of ``covariates`` (names and an (n_rows, q) matrix), checked before any fit."""
    names, blocks = [], []
    for name in _covariate_names(h, covariates):
        columns, block = _encode(name, h.covariates[name])
        names += columns
        blocks.append(block)
    X = np.column_stack(blocks) if blocks else np.zeros((len(h.counts), 0))
    with_intercept = np.column_stack([np.ones(len(X)), X])
    if np.linalg.matrix_rank(with_intercept) < with_intercept.shape[1]:
        raise DataError(f"The covariate columns {names!r} are collinear with each other or with the intercept "
                        "(one is a combination of the others); leave one out.")
    return names, X


# ============================================================================================== models
def model_design(model: str, parallel: bool, occasions: Sequence[str], names: list[str], X: np.ndarray):
    """Coefficient names and design arrays.

    Returns (coefficient names, Z) with Z of shape (n, T, p) for M0 / Mt, or (names, (Z1, Z2)) with Z1, Z2 of shape
    (n, p) for Mb (first capture and recapture). ``parallel``: one effect of each covariate on every occasion (Mt,
    M0) or on first capture and recapture alike (Mb); else one per occasion (per kind of capture for Mb).
    """
    n, q = X.shape
    T = len(occasions)
    ones = np.ones((n, 1))
    if model == "Mb":
        kinds = ("cap", "recap")
        labels = ["(Intercept):cap", "(Intercept):recap"]
        first = [ones, np.zeros((n, 1))]
        again = [np.zeros((n, 1)), ones]
        if parallel:
            labels += names
            first.append(X)
            again.append(X)
        else:
            labels += [f"{name}:{kind}" for name in names for kind in kinds]
            first_block, again_block = np.zeros((n, 2 * q)), np.zeros((n, 2 * q))
            first_block[:, 0::2], again_block[:, 1::2] = X, X
            first.append(first_block)
            again.append(again_block)
        return labels, (np.hstack(first), np.hstack(again))
    blocks, labels = [], []
    if model == "Mt":
        labels += [f"(Intercept):{occasion}" for occasion in occasions]
        blocks.append(np.broadcast_to(np.eye(T), (n, T, T)))
    else:
        labels.append("(Intercept)")
        blocks.append(np.ones((n, T, 1)))
    if parallel:
        labels += names
        blocks.append(np.broadcast_to(X[:, None, :], (n, T, q)))
    else:
        labels += [f"{name}:{occasion}" for name in names for occasion in occasions]
        # column (name a, occasion j) holds x_ia on occasion j only
        block = np.zeros((n, T, q, T))
        for j in range(T):
            block[:, j, :, j] = X
        blocks.append(block.reshape(n, T, q * T))
    return labels, np.concatenate(blocks, axis=2)


def _fit(objective, start: np.ndarray):
    """Maximise a log-likelihood given as theta -> (ll, grad, hess): Newton's method in a trust region (exact
    Hessian), BFGS as a fallback. Returns (theta, converged, message)."""
    result = optimize.minimize(
        lambda t: tuple(-v for v in objective(t)[:2]), start, jac=True,
        hess=lambda t: -objective(t)[2], method="trust-exact", options={"gtol": 1e-9, "maxiter": 500},
    )
    if not result.success:
        fallback = optimize.minimize(lambda t: tuple(-v for v in objective(t)[:2]), result.x, jac=True,
                                     method="BFGS", options={"gtol": 1e-8, "maxiter": 5000})
        if fallback.fun <= result.fun:
            result = fallback
    gradient = objective(result.x)[1]
    converged = bool(np.max(np.abs(gradient)) < 1e-5 * max(1.0, abs(result.fun)))
    return result.x, converged, str(result.message)


# ============================================================================================== estimator
@validate_params(
    {
        "covariates": [None, InstanceOf((str, list, tuple),
                                        "a formula such as '~ sex + weight' or a list of covariate column names")],
        "model": [Options(MODELS)],
        "parallel": BOOL,
        "level": LEVEL,
        "interval": [Options(INTERVALS)],
    },
    exempt=("h",),
)
def huggins(h: CaptureHistories, covariates=None, *, model: str = "Mt", parallel: bool = True,
            level: float = 0.95, interval: str = "wald") -> Estimate:
    """Population size from Huggins's conditional likelihood with individual covariates (VGAM ``posbernoulli``).

    Person i, seen at least once, is listed on occasion (list) j with probability p_ij, a logistic regression on
    the person's covariates x_i:

    * ``"M0"``: logit p_ij = b0 + x_i' beta, the same on every list (Mh with covariates; without covariates, M0);
    * ``"Mt"``: logit p_ij = a_j + x_i' beta, one intercept per list (Mth; without covariates, Mt);
    * ``"Mb"``: logit p_i = a_cap + x_i' beta up to the first listing, logit c_i = a_recap + x_i' beta after it
      (a behavioural response: being listed once changes the chance of being listed again; Mbh).

    The parameters maximise the likelihood of the histories of the people seen, each conditioned on being seen,
    prod_i prod_j p_ij^y_ij (1 - p_ij)^(1 - y_ij) / pi_i with pi_i = 1 - prod_j (1 - p_ij) (Mb: the product of
    first-capture misses), by Newton's method with the analytic gradient and Hessian. N-hat is the
    Horvitz-Thompson sum of 1 / pi_i over the people seen and its variance Huggins's (1989)
    sum_i (1 - pi_i)/pi_i^2 + D' I^-1 D, D = dN-hat/dtheta and I the information (observed = expected for M0 and
    Mt; for Mb the expected, as VGAM), so ``std_error`` is VGAM's ``SE.N.hat``.

    Assumes a closed population; people independent of each other; the capture probabilities a logistic function
    of the covariates given (with ``"Mt"`` lists differing by a constant on the logit scale, with ``"Mb"`` no
    list effects); lists independent *given the covariates* (heterogeneity explained by x_i, none left over).
    Heterogeneity the covariates do not capture biases N-hat downwards.

    Parameters
    ----------
    h : CaptureHistories
        Individual histories with their covariates, e.g. :meth:`CaptureHistories.from_records` on one row per
        person (rows with equal history and covariates may be counted together: their counts are weights).
    covariates : str or list of str, optional
        A formula of additive main effects, ``"~ sex + weight"``, or the column names ``["sex", "weight"]``.
        Numeric columns enter as they are; text (or pandas categorical) columns as treatment dummies against
        their first level (as R's factors: ``age`` with levels ``"a"``, ``"y"`` gives ``agey``). None: no covariates
        (the classical M0 / Mt / Mb conditional MLE).
    model : {"Mt", "M0", "Mb"}
        The form of the capture probabilities, above.
    parallel : bool
        True: one effect of each covariate on every list (Mb: on first capture and recapture alike), VGAM's
        default. False: an effect per list (Mb: separate effects on first capture and on recapture); with
        ``model="M0"`` this is VGAM's ``posbernoulli.t(parallel.t = TRUE ~ 1)``.
    level : float
        Interval level in (0, 1).
    interval : {"wald", "lognormal"}
        ``"wald"``: N-hat +/- z SE, VGAM's interval (default). ``"lognormal"``: Chao's (1987) interval on
        log(N - n), whose lower bound never falls below the n seen. Both are in ``details``.

    Returns
    -------
    Estimate
        ``estimate`` (N-hat), ``interval``, ``std_error`` (SE.N.hat); ``details`` with ``coefficients`` (a
        DataFrame: estimate, std_error, z, p_value), ``loglik`` (conditional), ``aic``, ``n_parameters``,
        ``wald_interval``, ``lognormal_interval``, ``variance_known_p`` (the first term of the variance),
        ``min_inclusion_probability`` and the VGAM call the model corresponds to.

    Raises
    ------
    DataError
        Covariates asked for that ``h`` does not carry, or that are missing, constant, neither numeric nor
        categorical, or collinear; a formula with more than additive main effects.

    Warns
    -----
    SmallSampleWarning
        Some pi_i below 1e-4 (VGAM's ``p.small``), or one record making up more than half of the estimated unseen
        N - n: N-hat then rests on few people. Also a Wald lower bound below the number seen.
    ConvergenceWarning
        The maximisation did not converge, or a probability went to 0 or 1.

    See Also
    --------
    heterogeneity : Mh / Mth models of the capture frequencies, without individual covariates.

    Notes
    -----
    The VGAM calls the models correspond to (checked against VGAM 1.1-7 on ``deermice``, within 0.01%):
    ``model="M0"``: ``posbernoulli.t(parallel.t = FALSE ~ -1)``; ``model="M0", parallel=False``:
    ``posbernoulli.t(parallel.t = TRUE ~ 1)``; ``model="Mt"``: ``posbernoulli.t()``; ``model="Mb"``:
    ``posbernoulli.b()``.

    References
    ----------
    .. [1] Huggins, R. M. (1989). On the statistical analysis of capture experiments. *Biometrika* 76(1), 133-140.
    .. [2] Alho, J. M. (1990). Logistic regression in capture-recapture models. *Biometrics* 46(3), 623-635.
    .. [3] Yee, T. W., Stoklosa, J. and Huggins, R. M. (2015). The VGAM package for capture-recapture data using
       the conditional likelihood. *Journal of Statistical Software* 65(5), 1-33.
    .. [4] Chao, A. (1987). Estimating the population size for capture-recapture data with unequal catchability.
       *Biometrics* 43, 783-791.

    Examples
    --------
    >>> import estimators
    >>> mice = estimators.load_dataset("VGAM_deermice")
    >>> fit = estimators.huggins(mice, "~ sex + weight", model="Mt", interval="lognormal")
    >>> round(fit.estimate, 2), round(fit.std_error, 4)  # VGAM: 38.97, SE.N.hat 1.1345
    (38.97, 1.1345)
    >>> [round(float(bound), 2) for bound in fit.details["wald_interval"]]  # VGAM: 36.75, 41.19
    [36.75, 41.19]
    >>> fit.details["coefficients"].index.tolist()[-2:]
    ['sex', 'weight']
    """
    check_histories(h)
    level = check_level(level)
    names, X = covariate_matrix(h, covariates)
    Y = h.patterns.astype(float)
    weights = np.asarray(h.counts, dtype=float)
    T = h.k
    labels, design = model_design(model, parallel, h.lists, names, X)
    p_start = float(np.clip((Y.sum(axis=1) * weights).sum() / (weights.sum() * T), 0.05, 0.95))
    start = np.zeros(len(labels))
    for i, label in enumerate(labels):
        if label.startswith("(Intercept)"):
            start[i] = special.logit(p_start)

    if model == "Mb":
        Z1, Z2 = design
        first, trials, recaptures = behaviour_statistics(Y)

        def objective(theta):
            return loglik_b(theta, Z1, Z2, first, trials, recaptures, T, weights)

        theta, converged, message = _fit(objective, start)
        ll = objective(theta)[0]
        information = -loglik_b(theta, Z1, Z2, first, trials, recaptures, T, weights, expected=True)[2]
        pi, estimate, gradient = n_hat_b(theta, Z1, T, weights)
        eta = np.column_stack([Z1 @ theta, Z2 @ theta])
    else:
        def objective(theta):
            return loglik_t(theta, design, Y, weights)

        theta, converged, message = _fit(objective, start)
        ll, _, hess = objective(theta)
        information = -hess
        pi, estimate, gradient = n_hat_t(theta, design, weights)
        eta = design @ theta

    notes = []
    try:
        covariance = np.linalg.inv(information)
        if not np.all(np.isfinite(covariance)) or np.any(np.diag(covariance) <= 0):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        covariance = np.linalg.pinv(information)
        notes.append("The information matrix is singular: some coefficients are not identified by these data "
                     "(e.g. a list effect with no one listed there); the standard errors are not to be trusted.")
    if not converged:
        notes.append(f"The conditional likelihood was not maximised to tolerance ({message}); N-hat may be off.")
    if np.max(np.abs(eta)) > BOUNDARY_ETA:
        notes.append("A fitted capture probability is at 0 or 1 (|logit| > 15): a boundary fit, whose coefficients "
                     "and standard errors are not to be trusted; use fewer covariates or occasion effects.")
    for note in notes:
        _warn.warn(note, ConvergenceWarning)

    variance = huggins_variance(pi, weights, gradient, covariance)
    std_error = float(np.sqrt(variance))
    n_seen = h.n_observed
    wald = wald_interval(estimate, variance, level)
    lognormal = lognormal_interval(estimate, variance, n_seen, level)

    small = []
    if pi.min() < P_SMALL:
        small.append(f"{int(weights[pi < P_SMALL].sum())} person(s) seen have a fitted chance of being seen below "
                     f"{P_SMALL:g} (smallest {pi.min():.2g}): N-hat is dominated by their 1/pi and unstable.")
    unseen = 1.0 / pi - 1.0  # each person's share of N - n (a row of w people holds w such shares)
    if estimate - n_seen >= 1.0 and unseen.max() > DOMINANT_SHARE * (estimate - n_seen):
        history = "".join(str(v) for v in h.patterns[np.argmax(unseen)])
        small.append(f"One person (history {history}) accounts for {unseen.max() / (estimate - n_seen):.0%} of the "
                     f"{estimate - n_seen:.1f} estimated unseen: N-hat rests on that one person's fitted probability.")
    if interval == "wald" and wald[0] < n_seen:
        small.append(f"The Wald lower bound ({wald[0]:.1f}) is below the {n_seen} people seen; the log-normal "
                     "interval (interval='lognormal') respects that bound.")
    for note in small:
        _warn.warn(note, SmallSampleWarning)

    se = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
    z = theta / se
    coefficients = pd.DataFrame(
        {"estimate": theta, "std_error": se, "z": z, "p_value": 2 * stats.norm.sf(np.abs(z))}, index=labels
    )
    n_parameters = len(theta)
    effect = "" if not names else (" (per-list covariate effects)" if not parallel else "")
    description = f"{model}" + (f" ~ {' + '.join(_covariate_names(h, covariates))}" if names else "") + effect
    vgam = {
        ("M0", True): "posbernoulli.t(parallel.t = FALSE ~ -1)",
        ("M0", False): "posbernoulli.t(parallel.t = TRUE ~ 1)",
        ("Mt", True): "posbernoulli.t()",
        ("Mt", False): "posbernoulli.t(parallel.t = FALSE ~ 0) (not checked against VGAM)",
        ("Mb", True): "posbernoulli.b()",
        ("Mb", False): "posbernoulli.b(drop.b = FALSE ~ 1 + covariates) (not checked against VGAM)",
    }[(model, bool(parallel or not names))]
    details = {
        "loglik": ll,
        "aic": -2.0 * ll + 2.0 * n_parameters,
        "n_parameters": n_parameters,
        "coefficients": coefficients,
        "wald_interval": wald,
        "lognormal_interval": lognormal,
        "variance_known_p": float(np.sum(weights * (1.0 - pi) / pi**2)),
        "min_inclusion_probability": float(pi.min()),
        "converged": converged,
        "vgam": vgam,
    }
    return Estimate(
        estimate=estimate,
        interval=wald if interval == "wald" else lognormal,
        level=level,
        method="Huggins conditional likelihood",
        n_observed=n_seen,
        interval_kind=INTERVAL_NAMES[interval],
        model=description,
        std_error=std_error,
        warnings=tuple(notes + small),
        details=details,
    )
