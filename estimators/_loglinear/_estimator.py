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
import pandas as pd
from scipy import stats

from .. import _warn
from .._validation import LEVEL, Options, check_choice, check_level, validate_params
from ..exceptions import ConvergenceWarning, DataError, NonexistentEstimateError
from ..histories import CaptureHistories, check_histories
from ..results import Estimate
from . import _glm
from ._existence import ExistenceOracle, describe
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
# Beyond this the 2**k-cell table is nearly all zeros and step() over k(k-1)/2 pairs takes minutes and gigabytes.
MAX_LISTS = 12
METHOD = "log-linear model (Poisson, hierarchical)"


@validate_params(
    {"select": [Options(SELECT)], "interval": [Options(INTERVALS)], "level": LEVEL,
     "pthresh": [PTHRESH]},
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
) -> Estimate:
    """Estimate N with a hierarchical Poisson log-linear model, given or selected.

    The 2**k - 1 observable pattern counts are independent Poisson with log mean the sum of the model's terms
    that the pattern contains; the never-listed pattern has log mean equal to the intercept u, so
    N = n + exp(u) (Fienberg 1972; Cormack 1989). Terms model dependence between lists (list interactions); the
    untestable assumption is that the highest-order interaction is zero. The interval is the multinomial
    profile-likelihood interval of Cormack (1992), as Rcapture's ``closedpCI.t``; ``interval="wald"`` gives
    n + exp(u +- z se(u)) instead (SparseMSE's interval).

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
    select : {"bic", "aic", "stepwise"}
        With ``model=None``: for k <= 5, the lowest BIC or AIC over all hierarchical models (Rcapture
        ``closedpMS.t``); for k >= 6, R's ``step()`` in both directions over two-list interactions with that
        penalty. ``"stepwise"``: forward selection of two-list interactions by Poisson p-values (SparseMSE).
        BIC's penalty is log(n), n the number of people observed, as in Rcapture.
    interval : {"profile", "wald"}
        Interval for N.
    level : float
        Interval level.
    pthresh : float
        P-value threshold of ``select="stepwise"``.

    Returns
    -------
    Estimate
        ``estimate`` = n + exp(u) (Rcapture's "abundance"), ``interval``, ``std_error`` (delta method),
        ``model`` (bracket notation), ``details`` with ``aic``, ``bic``, ``deviance``, ``df``,
        ``multinomial_mle`` (centre of the profile interval), ``n_models`` searched and ``n_nonexistent``
        (models skipped because their MLE does not exist), ``search``.

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

    Examples
    --------
    >>> from estimators import load_dataset, loglinear
    >>> h = load_dataset("Rcapture_HIV")
    >>> fit = loglinear(h, select="bic")
    >>> fit.model, round(fit.estimate)
    ('[1,2,3,4]', 11125)
    >>> round(loglinear(h, "[12,3,4]").estimate)
    12318
    """
    histories = check_histories(h, "h")
    check_choice("select", select, SELECT)
    check_choice("interval", interval, INTERVALS)
    level = check_level(level)
    pthresh = check_pthresh(pthresh)
    k, lists = histories.k, histories.lists
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
        z = stats.norm.ppf(0.5 + level / 2)
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
