"""Existence check and Poisson fit of many hierarchical models on one table at once (what a model search needs)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import _glm
from ._existence import ExistenceOracle
from ._model import HierarchicalModel


@dataclass(frozen=True)
class Fits:
    """Fit statistics of a batch of models on one table (arrays aligned with ``models``)."""

    models: tuple[HierarchicalModel, ...]
    ok: np.ndarray  # MLE exists and is identifiable
    exists: np.ndarray
    identifiable: np.ndarray
    estimate: np.ndarray
    std_error: np.ndarray
    intercept: np.ndarray
    intercept_variance: np.ndarray
    loglik: np.ndarray
    deviance: np.ndarray
    n_parameters: np.ndarray
    df: np.ndarray
    aic: np.ndarray
    bic: np.ndarray
    converged: np.ndarray
    checks: tuple
    fitted: np.ndarray  # (models, cells) fitted means, 0 on removed cells, nan where not fitted

    def criterion(self, name: str) -> np.ndarray:
        return self.aic if name == "aic" else self.bic


def fit_models(y: np.ndarray, k: int, models, oracle: ExistenceOracle, fit_nonexistent: bool = False) -> Fits:
    """Existence check and Poisson fit of every model; models without an MLE get nan (or, with
    ``fit_nonexistent``, the supremum of their likelihood, approached by a capped number of Newton steps)."""
    models = tuple(models)
    y = np.asarray(y, dtype=float)
    n_cells = len(y)
    cells = np.arange(1, n_cells + 1, dtype=np.int64)
    n_observed = float(y.sum())
    checks = tuple(oracle.check_many([model.terms for model in models]))
    size = len(models)
    ok = np.array([bool(c) for c in checks], dtype=bool)
    out = {name: np.full(size, np.nan) for name in ("intercept", "intercept_variance", "loglik", "deviance")}
    converged = np.zeros(size, dtype=bool)
    fitted = np.full((size, n_cells), np.nan)
    todo = [i for i in range(size) if ok[i] or fit_nonexistent]
    groups: dict[tuple[int, bool], list[int]] = {}
    for i in todo:
        groups.setdefault((len(checks[i].kept_terms), bool(ok[i])), []).append(i)
    for (width, good), members in groups.items():
        term_matrix = np.array([checks[i].kept_terms for i in members], dtype=np.int64).reshape(len(members), width)
        designs = np.ones((len(members), n_cells, width + 1))
        designs[:, :, 1:] = ((cells[None, :, None] & term_matrix[:, None, :]) == term_matrix[:, None, :])
        weights = np.array([checks[i].kept_cells for i in members], dtype=float)
        batch = _glm.fit_poisson_batch(designs, y, weights, max_iter=_glm.MAX_ITER if good else 40)
        index = np.array(members)
        out["intercept"][index] = batch.coef[:, 0]
        out["intercept_variance"][index] = batch.intercept_variance
        out["loglik"][index] = batch.loglik
        out["deviance"][index] = batch.deviance
        converged[index] = batch.converged
        fitted[index] = batch.fitted
    n_parameters = np.array([m.n_parameters for m in models], dtype=float)
    unlisted = np.where(ok, np.exp(out["intercept"]), np.nan)
    variance = unlisted**2 * out["intercept_variance"] + unlisted
    return Fits(
        models=models,
        ok=ok,
        exists=np.array([c.exists for c in checks], dtype=bool),
        identifiable=np.array([c.identifiable for c in checks], dtype=bool),
        estimate=n_observed + unlisted,
        std_error=np.sqrt(np.maximum(variance, 0.0)),
        intercept=out["intercept"],
        intercept_variance=out["intercept_variance"],
        loglik=out["loglik"],
        deviance=out["deviance"],
        n_parameters=n_parameters,
        df=n_cells - n_parameters,
        aic=-2 * out["loglik"] + 2 * n_parameters,
        # Rcapture: BIC = AIC + (log(n) - 2) * rank, n the number of observed units.
        bic=-2 * out["loglik"] + math.log(max(n_observed, 1.0)) * n_parameters,
        converged=converged,
        checks=checks,
        fitted=fitted,
    )
