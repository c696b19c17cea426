"""``loglinear(select="average")`` and ``loglinear(covariates=...)``: model averaging (:mod:`._average`) and
categorical covariates in the capture model (:mod:`._covariates`), alone or together."""

from __future__ import annotations

import math

import numpy as np

from .. import _warn
from .._lazy import normal_ppf, pd
from ..exceptions import ConvergenceWarning, DataError, NonexistentEstimateError
from ..results import Estimate
from ._average import VARIANCE_FORM, akaike_weights, average_log, criterion_values, exclusion_mask, model_table
from ._covariates import covariate_levels, fit_covariate_models, level_counts, level_dummies
from ._existence import ExistenceOracle
from ._fit import fit_models
from ._model import HierarchicalModel
from ._search import MAX_EXHAUSTIVE_LISTS, hierarchical_models

METHOD = "log-linear model (Poisson, hierarchical)"


def loglinear_extended(histories, model, *, select, interval, level, criterion, exclude, covariates) -> Estimate:
    k, lists = histories.k, histories.lists
    n = float(histories.n_observed)
    averaging = model is None and select == "average"
    if model is not None:
        models = (HierarchicalModel.parse(model, lists),)
        search = "model given"
    else:
        if select == "stepwise":
            raise ValueError("select='stepwise' is not available with `covariates`; use select='aic', 'bic' or "
                             "'average' (all hierarchical models), or give `model`.")
        if k > MAX_EXHAUSTIVE_LISTS:
            raise DataError(
                f"select={select!r} here enumerates every hierarchical model, which is limited to k <= "
                f"{MAX_EXHAUSTIVE_LISTS} lists (the data have {k}). Give `model`, or merge lists "
                "(histories.merge_lists)."
            )
        models = hierarchical_models(k)
        removed = exclusion_mask(models, exclude, lists)
        models = tuple(m for m, drop in zip(models, removed) if not drop)
        if not models:
            raise DataError("`exclude` removes every hierarchical model: nothing is left to average.")
        used = criterion if averaging else select
        search = f"exhaustive over {len(models)} hierarchical models by {used.upper()}"
        if averaging:
            search = f"{used.upper()}-weighted average over {len(models)} hierarchical models"
    crit = criterion if averaging else (select if model is None else "aic")

    warn: list[str] = []
    by_level = None
    if covariates is None:
        y = np.asarray(histories.dense_counts(), dtype=float)[1:]
        fits = fit_models(y, k, models, ExistenceOracle(y, k))
        ok, estimates, converged = fits.ok, fits.estimate, fits.converged
        variance = fits.std_error**2
        loglik, n_parameters = fits.loglik, fits.n_parameters
        unlisted, unlisted_log_se = np.exp(fits.intercept), np.sqrt(np.maximum(fits.intercept_variance, 0.0))
    else:
        names, levels, row_level = covariate_levels(histories, covariates)
        table = level_counts(histories, row_level, len(levels))
        cf = fit_covariate_models(table, models, level_dummies(levels, names))
        ok, estimates, converged, variance = cf.ok, cf.estimate, cf.converged, cf.variance
        loglik, n_parameters = cf.loglik, cf.n_parameters
        unlisted, unlisted_log_se = cf.unlisted, cf.unlisted_log_se
        level_n = table.sum(axis=1)

    if not ok.any():
        what = "The model's" if model is not None else f"No model searched ({search}) has a"
        raise NonexistentEstimateError(
            f"{what} maximum-likelihood estimate of N does not exist on this table"
            + (" of patterns x covariate levels" if covariates is not None else "")
            + " (Fienberg-Rinaldo check: zero cells force a parameter to infinity). "
            + ("Merge sparse covariate levels, or drop the covariates." if covariates is not None
               else "See estimators.mle_exists(h, model).")
        )
    n_skipped = int((~ok).sum())
    if n_skipped and model is None:
        warn.append(f"{n_skipped} of the {len(models)} models searched were skipped because their maximum-likelihood "
                    "estimate of N does not exist or is not identifiable (Fienberg-Rinaldo check).")
    values = np.where(ok, criterion_values(loglik, n_parameters, n, crit), np.inf)
    z = normal_ppf(0.5 + level / 2)
    details = {
        "search": search,
        "n_models": len(models),
        "n_nonexistent": n_skipped,
        "select": None if model is not None else select,
    }
    if covariates is not None:
        details["covariates"] = list(names)
        details["n_levels"] = len(levels)

    if averaging:
        weights = akaike_weights(values)
        log_var = variance / estimates**2
        avg = average_log(weights, estimates, log_var)
        estimate = avg.estimate
        bounds = avg.interval(level, floor=n)
        std_error = estimate * avg.log_std_error
        best = int(np.argmax(weights))
        if np.any(~converged[weights > 0]):
            warn.append("Some Poisson fits in the average did not converge; the estimate may be inaccurate.")
            _warn.warn(warn[-1], ConvergenceWarning)
        details.update({
            "criterion": crit,
            "best_model": models[best].name(lists),
            "best_weight": float(weights[best]),
            "log_estimate": avg.log_estimate,
            "log_std_error": avg.log_std_error,
            "variance": VARIANCE_FORM,
            "models": model_table(models, lists, estimates, log_var, values, weights, crit, level, n),
        })
        label = f"{crit.upper()}-weighted average of {int((weights > 0).sum())} models"
        kind = "log-normal with unconditional (model-averaged) variance, Buckland et al. 1997"
        if covariates is not None:
            rows = []
            for c in range(len(levels)):
                est = cf.level_estimate[:, c]
                part = average_log(weights, est, cf.level_variance[:, c] / est**2)
                lower, upper = part.interval(level, floor=level_n[c])
                rows.append({**levels.iloc[c].to_dict(), "n_observed": int(level_n[c]), "estimate": part.estimate,
                             "lower": lower, "upper": upper, "std_error": part.estimate * part.log_std_error})
            by_level = pd.DataFrame(rows)
    else:
        i = int(np.argmin(values))
        label = models[i].name(lists)
        estimate = float(estimates[i])
        std_error = math.sqrt(max(float(variance[i]), 0.0))
        spread = z * float(unlisted_log_se[i])
        bounds = (n + unlisted[i] * math.exp(-spread), n + unlisted[i] * math.exp(spread))
        kind = "Wald (log-normal on the unlisted count, delta method on the GLM covariance)"
        if not converged[i]:
            warn.append("The Poisson fit did not converge; the estimate may be inaccurate.")
            _warn.warn(warn[-1], ConvergenceWarning)
        details.update({
            "aic": float(criterion_values(loglik[i], n_parameters[i], n, "aic")),
            "bic": float(criterion_values(loglik[i], n_parameters[i], n, "bic")),
            "n_parameters": int(n_parameters[i]),
        })
        if covariates is not None:
            rows = []
            for c in range(len(levels)):
                f0, spread_c = cf.level_unlisted[i, c], z * cf.level_unlisted_log_se[i, c]
                rows.append({**levels.iloc[c].to_dict(), "n_observed": int(level_n[c]),
                             "estimate": float(cf.level_estimate[i, c]),
                             "lower": level_n[c] + f0 * math.exp(-spread_c),
                             "upper": level_n[c] + f0 * math.exp(spread_c),
                             "std_error": math.sqrt(max(cf.level_variance[i, c], 0.0))})
            by_level = pd.DataFrame(rows)
    if covariates is not None:
        details["by_level"] = by_level
    method = METHOD
    if averaging:
        method += ", model-averaged"
    if covariates is not None:
        method += f", capture by {' x '.join(names)}"
    return Estimate(
        estimate=float(estimate),
        interval=(float(bounds[0]), float(bounds[1])),
        level=level,
        method=method,
        n_observed=histories.n_observed,
        interval_kind=kind,
        model=label,
        std_error=float(std_error),
        warnings=tuple(warn),
        details=details,
    )
