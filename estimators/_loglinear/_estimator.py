"""Hierarchical Poisson log-linear models for k lists: the estimate of N and its interval (:func:`loglinear`), and
the table of all models (:func:`loglinear_models`).

The counts of the 2**k - 1 observable capture patterns are independent Poisson with log mean
``u + sum of the terms of the model that the pattern contains`` (Fienberg 1972; Cormack 1989). The never-listed
pattern has log mean ``u``, so N = n + exp(u). Models are hierarchical (:mod:`._model`); searches follow the R
packages the results are checked against (:mod:`._search`); a model whose maximum-likelihood estimate does not
exist (:mod:`._existence`) is skipped and counted, never returned.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _warn
from .._lazy import normal_ppf, pd
from .._validation import LEVEL, Callable, InstanceOf, Options, check_choice, check_level, validate_params
from ..exceptions import ConvergenceWarning, DataError, NonexistentEstimateError
from ..histories import CaptureHistories, check_histories
from ..results import Estimate
from .. import _glm
from ._existence import ExistenceOracle, describe
from ._average import CRITERIA
from ._fit import fit_models
from ._model import HierarchicalModel, term_columns
from ._search import (
    PTHRESH,
    MAX_EXHAUSTIVE_LISTS,
    SELECT,
    Selection,
    check_pthresh,
    with_pairs,
    hierarchical_models,
    select_model,
)

INTERVALS = ("profile", "wald")
LOGLINEAR_SELECT = SELECT + ("average",)
# Beyond this the 2**k-cell table is nearly all zeros and step() over k(k-1)/2 pairs takes minutes and gigabytes.
MAX_LISTS = 12
METHOD = "log-linear model (Poisson, hierarchical)"


@validate_params(
    {"select": [Options(LOGLINEAR_SELECT)], "interval": [Options(INTERVALS)], "level": LEVEL,
     "pthresh": [PTHRESH], "criterion": [None, Options(CRITERIA)],
     "exclude": [None, Callable(), InstanceOf((list, tuple), "a list of models such as ['[12,13,23]']")],
     "covariates": [None, InstanceOf((str, list, tuple),
                                     "a formula such as '~ region + sex' or a list of covariate column names")]},
    exempt=("h", "model"),
)
def loglinear(
    h: CaptureHistories,
    model=None,
    *,
    select: str = "bic",
    interval: str = "profile",
    level: float = 0.95,
    pthresh: float = 0.02,
    criterion: str | None = None,
    exclude=None,
    covariates=None,
) -> Estimate:
    """Estimate N with a hierarchical Poisson log-linear model, given or selected.

    The 2**k - 1 observable pattern counts are independent Poisson with log mean the sum of the model's terms
    that the pattern contains; the never-listed pattern has log mean equal to the intercept u, so
    N = n + exp(u) (Fienberg 1972; Cormack 1989). Terms model dependence between lists (list interactions); the
    untestable assumption is that the highest-order interaction is zero. The interval is the multinomial
    profile-likelihood interval of Cormack (1992), as Rcapture's ``closedpCI.t``; ``interval="wald"`` gives
    n + exp(u +- z se(u)) instead (SparseMSE's interval).

    ``select="average"`` averages instead of selecting: every hierarchical model (as searched by ``"aic"``, k <= 5)
    whose MLE exists, less those in ``exclude``, gets the weight exp(-Delta_m/2) / sum exp(-Delta/2), Delta_m its
    AIC (or AICc, BIC: ``criterion``) minus the smallest (Buckland, Burnham & Augustin 1997; Rossi 2010). The
    estimate is exp(theta_bar), theta_bar = sum w_m log N_m, and the interval exp(theta_bar +- z se) with the
    unconditional standard error of Buckland et al. (1997) / Burnham & Anderson (2002, section 4.3.2, eq. 4.9),
    se = sum w_m sqrt(var_m + (log N_m - theta_bar)^2), var_m the delta-method variance of log N_m (Rcapture's
    s.e. of N_m over N_m), so the interval carries the spread between models. Its lower bound is at least n.
    ``details["models"]`` is the per-model table (model, terms, estimate, delta-method log-normal interval,
    criterion, delta, weight), heaviest first.

    ``covariates`` (categorical columns of ``h.covariates``) fits the model on the table of patterns x covariate
    levels (the cross-classification of the covariates named) with a list x covariate interaction for every list:
    log mu_{h,c} = u + u_c + sum_j (u_j + u_{j,c}) x_hj + (the model's interactions, shared by all levels) --
    each list's capture log-odds differs by level (observable heterogeneity), the dependence between lists is
    common. Each level's never-listed cell exp(u + u_c) is predicted; N is the sum over levels. The interval is
    by the delta method from the Poisson fit's covariance, log-normal on the unlisted count, n + F0 exp(+- z
    se(F0)/F0) (as ``interval="wald"``; ``interval`` is not used). ``details["by_level"]`` has the estimate and
    interval of each level. With a single level it is the plain model. Continuous covariates are refused: bin
    them, or use :func:`estimators.huggins` (Huggins 1989 conditional likelihood) for individual covariates.

    Assumptions: a closed population, records linked without error, and list dependence (and heterogeneity that
    acts like it) captured by the model's interactions. A model whose maximum-likelihood estimate of N does not
    exist (zero cells, lists that never overlap) is refused or, in a search, skipped (:func:`estimators.mle_exists`).

    Parameters
    ----------
    h : CaptureHistories
        The observed lists (k >= 2).
    model : str, sequence of terms, or None
        Generating class in bracket notation, ``"[12,13,4]"`` (1-based list positions, k <= 9), or list names
        joined by ``:`` (``"[A:B,C]"``), or a list of terms (``[["A", "B"], ["C"]]``, positions allowed). Every
        list must appear; the k-way term is not allowed. ``None`` selects a model (see ``select``).
    select : {"bic", "aic", "stepwise", "average"}
        With ``model=None``: for k <= 5, the lowest BIC or AIC over all hierarchical models (Rcapture
        ``closedpMS.t``); for k >= 6, R's ``step()`` in both directions over two-list interactions with that
        penalty. ``"stepwise"``: forward selection of two-list interactions by Poisson p-values (SparseMSE).
        BIC's penalty is log(n), n the number of people observed, as in Rcapture. ``"average"``: model
        averaging (above), k <= 5.
    interval : {"profile", "wald"}
        Interval for N.
    level : float
        Interval level.
    pthresh : float
        P-value threshold of ``select="stepwise"``.
    criterion : {"aic", "aicc", "bic"} or None
        Weights of ``select="average"`` (default AIC). AICc = AIC + 2p(p+1)/(n-p-1) (Hurvich & Tsai 1989), n the
        number of people observed; BIC as above.
    exclude : list of models, callable, or None
        Models left out of ``select="average"``: models written as ``model`` is (``["[12,13,23]", "[A:B,C]"]``),
        or a predicate called with each model's terms (a tuple of tuples of list names, main effects included)
        returning True to leave the model out, e.g. ``lambda terms: ("A", "B") in terms``.
    covariates : str, list of str, or None
        Categorical covariates of capture: column names of ``h.covariates`` (``["region"]``) or a formula
        ``"~ region + sex"``. With ``model=None`` the model is selected by ``select`` ("aic", "bic" or
        "average"; not "stepwise") over all hierarchical models, each with the list x covariate terms.

    Returns
    -------
    Estimate
        ``estimate`` = n + exp(u) (Rcapture's "abundance"), ``interval``, ``std_error`` (delta method),
        ``model`` (bracket notation), ``details`` with ``aic``, ``bic``, ``deviance``, ``df``,
        ``multinomial_mle`` (centre of the profile interval), ``n_models`` searched and ``n_nonexistent``
        (models skipped because their MLE does not exist), ``search``. With ``select="average"``: ``model``
        names the average, ``details`` has ``models`` (the per-model table), ``best_model``, ``criterion``,
        ``log_estimate`` and ``log_std_error``. With ``covariates``: ``details["by_level"]`` (a DataFrame: the
        covariates, ``n_observed``, ``estimate``, ``lower``, ``upper``, ``std_error`` per level).

    Raises
    ------
    NonexistentEstimateError
        ``model`` was given and its MLE of N does not exist or is not identifiable (see
        :func:`estimators.mle_exists`), or no model in the search has one.

    Warns
    -----
    ConvergenceWarning
        The fit did not converge, or a profile bound was not found (reported as nan).

    References
    ----------
    .. [1] Fienberg, S. E. (1972). The multiple recapture census for closed populations and incomplete 2^k
       contingency tables. *Biometrika* 59(3), 591-603.
    .. [2] Cormack, R. M. (1989). Log-linear models for capture-recapture. *Biometrics* 45(2), 395-413.
    .. [3] Cormack, R. M. (1992). Interval estimation for mark-recapture studies of closed populations.
       *Biometrics* 48(2), 567-576.
    .. [4] Baillargeon, S. and Rivest, L.-P. (2007). Rcapture: loglinear models for capture-recapture in R.
       *Journal of Statistical Software* 19(5).
    .. [5] Chan, L., Silverman, B. W. and Vincent, K. (2021). Multiple systems estimation for sparse capture
       data: inferential challenges when there are nonoverlapping lists. *JASA* 116(535), 1297-1306.
    .. [6] Fienberg, S. E. and Rinaldo, A. (2012). Maximum likelihood estimation in log-linear models.
       *Annals of Statistics* 40(2), 996-1023.
    .. [7] Buckland, S. T., Burnham, K. P. and Augustin, N. H. (1997). Model selection: an integral part of
       inference. *Biometrics* 53(2), 603-618.
    .. [8] Burnham, K. P. and Anderson, D. R. (2002). *Model Selection and Multimodel Inference*, 2nd ed.,
       section 4.3.2. Springer. (2004) Multimodel inference: understanding AIC and BIC in model selection.
       *Sociological Methods & Research* 33(2), 261-304.
    .. [9] Hurvich, C. M. and Tsai, C.-L. (1989). Regression and time series model selection in small samples.
       *Biometrika* 76(2), 297-307.
    .. [10] Huggins, R. M. (1989). On the statistical analysis of capture experiments. *Biometrika* 76(1),
       133-140.

    Examples
    --------
    >>> from estimators import load_dataset, loglinear
    >>> h = load_dataset("Rcapture_HIV")
    >>> fit = loglinear(h, select="bic")
    >>> fit.model, round(fit.estimate)
    ('[1,2,3,4]', 11125)
    >>> round(loglinear(h, "[12,3,4]").estimate)
    12318
    >>> average = loglinear(h, select="average")
    >>> average.model, average.details["best_model"], round(average.estimate)
    ('AIC-weighted average of 111 models', '[12,3,4]', 13060)
    >>> [round(bound) for bound in average.interval]
    [8641, 19738]

    Capture that differs by region (counts of each pattern in each region):

    >>> import pandas as pd
    >>> from estimators import CaptureHistories
    >>> frame = pd.DataFrame({"A": [1, 0, 0, 1, 1, 0, 1] * 2, "B": [0, 1, 0, 1, 0, 1, 1] * 2,
    ...                       "C": [0, 0, 1, 0, 1, 1, 1] * 2, "region": ["north"] * 7 + ["south"] * 7,
    ...                       "count": [60, 55, 50, 30, 28, 25, 14, 30, 20, 25, 4, 5, 3, 1]})
    >>> h = CaptureHistories.from_counts(frame)
    >>> round(loglinear(h, "[1,2,3]").estimate)  # the pooled table: low
    542
    >>> fit = loglinear(h, "[1,2,3]", covariates=["region"])
    >>> round(fit.estimate), [round(bound) for bound in fit.interval]
    (604, [520, 730])
    >>> fit.details["by_level"][["region", "n_observed", "estimate"]].round()
      region  n_observed  estimate
    0  north         262     371.0
    1  south          88     233.0
    """
    histories = check_histories(h, "h")
    check_choice("select", select, LOGLINEAR_SELECT)
    check_choice("interval", interval, INTERVALS)
    level = check_level(level)
    pthresh = check_pthresh(pthresh)
    k, lists = histories.k, histories.lists
    if criterion is not None and (model is not None or select != "average"):
        raise ValueError(
            f"`criterion` ({criterion!r}) weights the models of select='average'; with select={select!r} the "
            "criterion is the selection itself (select='aic' or 'bic'). Leave `criterion` out or use "
            "select='average'."
        )
    if exclude is not None and (model is not None or select != "average"):
        raise ValueError("`exclude` removes models from select='average'; it needs model=None and "
                         "select='average'.")
    if (model is None and select == "average") or covariates is not None:
        from ._extended import loglinear_extended

        return loglinear_extended(histories, model, select=select, interval=interval, level=level,
                                  criterion=criterion or "aic", exclude=exclude, covariates=covariates)
    if k > MAX_LISTS:
        raise DataError(
            f"{k} lists make 2**{k} = {2**k:,} cells: a log-linear model search over them is not practical and its "
            f"cells are almost all empty. Merge related lists (histories.merge_lists) down to {MAX_LISTS} or fewer, "
            "or use heterogeneity(h, kind=...) or chao_lower_bound(h), which need only the capture frequencies."
        )
    y = np.asarray(histories.dense_counts(), dtype=float)[1:]
    warn: list[str] = []
    if model is not None:
        hierarchical = HierarchicalModel.parse(model, lists)
        oracle = ExistenceOracle(y, k)
        check = oracle.check(hierarchical.terms)
        if not check:
            report = describe(check, oracle, lists, hierarchical.name(lists), hierarchical.term_label_fn(lists))
            raise NonexistentEstimateError(report.message)
        fits = fit_models(y, k, [hierarchical], oracle)
        selection = Selection(hierarchical, fits, 0, "model given", 1, 0, oracle.lp_calls)
    else:
        selection = select_model(y, k, select, pthresh)
        if selection.model is None:
            # Every search contains the independence model and fails only if it fails: its check names the cells
            # (lists that never overlap, but also, e.g., a list holding everybody).
            independence = with_pairs(k, [])
            oracle = ExistenceOracle(y, k)
            report = describe(
                oracle.check(independence.terms), oracle, lists, independence.name(lists),
                independence.term_label_fn(lists),
            )
            raise NonexistentEstimateError(
                f"No log-linear model searched ({selection.search}) has a maximum-likelihood estimate of N that "
                f"exists. {report.message}"
            )
        if selection.n_nonexistent:
            warn.append(
                f"{selection.n_nonexistent} of the {selection.n_models} models searched were skipped because their "
                "maximum-likelihood estimate of N does not exist or is not identifiable (Fienberg-Rinaldo check)."
            )
    settings = {"select": None if model is not None else select}
    if model is None and select == "stepwise":
        settings["pthresh"] = pthresh
    return _estimate(histories, selection, interval, level, warn, settings)


def _estimate(histories, selection: Selection, interval: str, level: float, warn: list[str], settings) -> Estimate:
    fits, i = selection.fits, selection.index
    check = fits.checks[i]
    lists = histories.lists
    y = np.asarray(histories.dense_counts(), dtype=float)[1:]
    kept = check.kept_cells
    cells = np.arange(1, len(y) + 1, dtype=np.int64)
    design = term_columns(cells[kept], check.kept_terms)
    if not fits.converged[i]:
        warn.append("The Poisson fit did not converge; the estimate may be inaccurate.")
        _warn.warn(warn[-1], ConvergenceWarning)
    if check.empty_terms:
        label = selection.model.term_label_fn(lists)
        warn.append(
            "Lists never recorded together ("
            + ", ".join(label(t) for t in check.empty_terms)
            + "): their interaction is estimated as -infinity (cells fitted as 0), as in SparseMSE."
        )
    details = {
        "aic": float(fits.aic[i]),
        "bic": float(fits.bic[i]),
        "deviance": max(float(fits.deviance[i]), 0.0),  # a saturated fit gives -1e-15: rounding, not a deviance
        "df": int(fits.df[i]),
        "n_parameters": int(fits.n_parameters[i]),
        "search": selection.search,
        "n_models": selection.n_models,
        "n_nonexistent": selection.n_nonexistent,
        **settings,
    }
    if interval == "profile":
        profile = _glm.profile_interval(design, y[kept], level)
        bounds = (profile.lower, profile.upper)
        details["multinomial_mle"] = float(profile.mle)
        kind = "profile likelihood"
        if not profile.upper_found:
            warn.append("The upper profile-likelihood bound was not reached (reported as nan): N is barely bounded.")
            _warn.warn(warn[-1], ConvergenceWarning)
        if not profile.lower_found:
            # recorded, not raised: nothing is wrong with the fit, the data just allow N = n
            warn.append("The profile likelihood does not drop enough before N = n: the lower bound is n (as Rcapture).")
    else:
        z = normal_ppf(0.5 + level / 2)
        spread = z * math.sqrt(max(fits.intercept_variance[i], 0.0))
        n = histories.n_observed
        bounds = (n + math.exp(fits.intercept[i] - spread), n + math.exp(fits.intercept[i] + spread))
        kind = "Wald (log-normal on the unlisted count)"
    return Estimate(
        estimate=float(fits.estimate[i]),
        interval=bounds,
        level=level,
        method=METHOD,
        n_observed=histories.n_observed,
        interval_kind=kind,
        model=selection.model.name(lists),
        std_error=float(fits.std_error[i]),
        warnings=tuple(warn),
        details=details,
    )


@validate_params(
    {"criterion": [Options(("aic", "bic"))]},
    exempt=("h",),
)
def loglinear_models(h: CaptureHistories, *, criterion: str = "bic") -> pd.DataFrame:
    """All hierarchical log-linear models for k <= 5 lists, fitted and ranked by BIC or AIC.

    The family is Rcapture's ``closedpMS.t``: all main effects, no k-way term (8, 113, 6,893 models for
    k = 3, 4, 5). Models whose MLE of N does not exist (Fienberg & Rinaldo 2012) stay in the table, ranked by
    the supremum of their likelihood, with ``exists`` False and ``estimate`` nan, so it shows when an
    unchecked search would have returned them.

    Parameters
    ----------
    h : CaptureHistories
        The observed lists, 3 <= k <= 5 (k = 2 has one model).
    criterion : {"bic", "aic"}
        Ranking.

    Returns
    -------
    pandas.DataFrame
        One row per model, best first: ``model`` (bracket notation), ``terms`` (its interactions), ``parameters``,
        ``df``, ``deviance``, ``AIC``, ``BIC``, ``estimate`` (n + exp(u)), ``std_error``, ``exists``.

    References
    ----------
    .. [1] Baillargeon, S. and Rivest, L.-P. (2007). Rcapture: loglinear models for capture-recapture in R.
       *Journal of Statistical Software* 19(5).
    .. [2] Fienberg, S. E. and Rinaldo, A. (2012). Maximum likelihood estimation in log-linear models.
       *Annals of Statistics* 40(2), 996-1023.

    Examples
    --------
    >>> from estimators import load_dataset, loglinear_models
    >>> table = loglinear_models(load_dataset("Rcapture_HIV"))
    >>> len(table), table.model.iloc[0]
    (113, '[1,2,3,4]')
    """
    histories = check_histories(h, "h")
    check_choice("criterion", criterion, ("aic", "bic"))
    k, lists = histories.k, histories.lists
    if k > MAX_EXHAUSTIVE_LISTS:
        raise ValueError(
            f"loglinear_models enumerates all hierarchical models only for k <= {MAX_EXHAUSTIVE_LISTS} lists "
            f"(the data have {k}); use loglinear(h, select='bic') for a stepwise search."
        )
    y = np.asarray(histories.dense_counts(), dtype=float)[1:]
    fits = fit_models(y, k, hierarchical_models(k), ExistenceOracle(y, k), fit_nonexistent=True)
    rows = []
    for i, model in enumerate(fits.models):
        label = model.term_label_fn(lists)
        rows.append(
            {
                "model": model.name(lists),
                "terms": ", ".join(label(t) for t in model.terms if bin(t).count("1") > 1),
                "parameters": int(fits.n_parameters[i]),
                "df": int(fits.df[i]),
                "deviance": fits.deviance[i],
                "AIC": fits.aic[i],
                "BIC": fits.bic[i],
                "estimate": fits.estimate[i],
                "std_error": fits.std_error[i] if fits.ok[i] else np.nan,
                "exists": bool(fits.ok[i]),
            }
        )
    table = pd.DataFrame(rows)
    key = "AIC" if criterion == "aic" else "BIC"
    return table.sort_values(key, kind="stable").reset_index(drop=True)
