"""Log-linear models with categorical covariates: observable heterogeneity in capture by level (region, sex, month).

The table is patterns x covariate levels (the cross-classification of the covariates named). Its observable
cells (h, c) are independent Poisson with

    log mu_{h,c} = u + u_c + sum_j u_j x_hj + sum_j sum_v u_{j,v(c)} x_hj + sum_{t in model, |t| >= 2} u_t x_ht,

u_c one parameter per level (saturated: the population may be distributed over levels in any way), u_{j,v(c)}
the shift of list j's capture log-odds at the level of covariate v (treatment coding, additive over covariates),
and the interactions of the model shared by every level. The never-listed cell of level c has log mean u + u_c,
so N_c = n_c + exp(u + u_c) and N = sum_c N_c. With one level the model is the plain hierarchical model.

Standard errors are by the delta method from the inverse Fisher information V of the Poisson fit: with
f0_c = exp(x0_c' b), var(N) = g' V g + sum_c f0_c, g = sum_c f0_c x0_c (Rcapture's form, the second term for the
multinomial rather than Poisson sampling of the unlisted), and the interval is log-normal on the unlisted count,
n + F0 exp(+- z sqrt(g' V g) / F0), F0 = sum_c f0_c, as ``loglinear(..., interval="wald")`` (so it never falls
below n). Models whose MLE does not exist on this table (Fienberg & Rinaldo 2012 linear program) are skipped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import _glm
from .._lazy import pd
from ..exceptions import DataError
from ._average import criterion_values
from ._existence import interior_exists
from ._model import HierarchicalModel, term_mask

# an integer-coded covariate with more levels than this is taken as continuous (age in years, a day number)
MAX_LEVELS = 20
BATCH = 256


def _refuse_continuous(name: str, reason: str):
    raise DataError(
        f"Covariate {name!r} {reason}: the log-linear model with covariates needs categorical covariates, one "
        "table per level. Bin it first (e.g. frame[name] = pd.cut(frame[name], bins=[0, 18, 60, 120]) for age), "
        "or use estimators.huggins(h, covariates=...) (Huggins 1989 conditional likelihood), which takes "
        "individual continuous covariates."
    )


def covariate_levels(h, covariates):
    """(covariate names, DataFrame of the levels (one row per level, sorted), level index of each table row)."""
    from .._huggins import _covariate_names

    names = _covariate_names(h, covariates)
    if not names:
        raise DataError("`covariates` names no covariate; give column names such as ['region'] or '~ region'.")
    columns = {}
    for name in names:
        series = pd.Series(h.covariates[name])
        missing = series.isna()
        if missing.any():
            raise DataError(f"Covariate {name!r} has {int(missing.sum())} missing value(s); drop those records, "
                            "or make the missing value a level of its own (e.g. fillna('unknown')).")
        if isinstance(series.dtype, pd.CategoricalDtype) or series.dtype == bool:
            pass
        elif pd.api.types.is_numeric_dtype(series.dtype):
            values = series.to_numpy(dtype=float)
            if not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
                _refuse_continuous(name, "holds non-integer numbers (a continuous covariate)")
            if series.nunique() > MAX_LEVELS:
                _refuse_continuous(name, f"is numeric with {series.nunique()} distinct values (more than "
                                         f"{MAX_LEVELS}: taken as continuous)")
        elif not all(isinstance(v, str) for v in series):
            example = next(v for v in series if not isinstance(v, str))
            raise DataError(f"Covariate {name!r} holds {type(example).__name__} values such as {example!r}; "
                            "convert it to text categories.")
        columns[name] = series.to_numpy()
    frame = pd.DataFrame(columns)
    levels = frame.drop_duplicates().sort_values(names, kind="stable").reset_index(drop=True)
    key = pd.MultiIndex.from_frame(levels)
    row_level = key.get_indexer(pd.MultiIndex.from_frame(frame))
    return names, levels, row_level


def level_counts(h, row_level: np.ndarray, n_levels: int) -> np.ndarray:
    """(levels, 2**k - 1) observable pattern counts, columns in dense order (cell mask - 1)."""
    from ..histories import pattern_index

    cells = pattern_index(np.asarray(h.patterns))
    table = np.zeros((n_levels, 2**h.k))
    np.add.at(table, (row_level, cells), np.asarray(h.counts, dtype=float))
    return table[:, 1:]


def level_dummies(levels: pd.DataFrame, names) -> np.ndarray:
    """Treatment-coded dummies of each covariate (first level the reference), additive over covariates."""
    blocks = []
    for name in names:
        values = levels[name].to_numpy()
        distinct = list(pd.unique(values))
        blocks += [(values == value).astype(float) for value in distinct[1:]]
    return np.column_stack(blocks) if blocks else np.zeros((len(levels), 0))


@dataclass(frozen=True)
class CovariateDesign:
    observed: np.ndarray  # (L * C, p): rows level-major, cells 1 .. 2**k - 1 within a level
    unlisted: np.ndarray  # (L, p): the never-listed cell of each level


def design(model: HierarchicalModel, dummies: np.ndarray) -> CovariateDesign:
    k = model.k
    n_levels = dummies.shape[0]
    cells = np.arange(1, 2**k, dtype=np.int64)
    terms = np.asarray(model.terms, dtype=np.int64)
    t_cols = ((cells[:, None] & terms[None, :]) == terms[None, :]).astype(float)  # (C, T)
    mains = np.asarray([term_mask((j,), k) for j in range(k)], dtype=np.int64)
    x_lists = ((cells[:, None] & mains[None, :]) > 0).astype(float)  # (C, k)
    strata = np.eye(n_levels)[:, 1:]  # (L, L - 1)
    q = dummies.shape[1]
    rows, zero_rows = [], []
    for level in range(n_levels):
        inter = (x_lists[:, :, None] * dummies[level][None, None, :]).reshape(len(cells), k * q)
        rows.append(np.hstack([np.ones((len(cells), 1)), np.repeat(strata[level][None, :], len(cells), 0), t_cols,
                               inter]))
        zero_rows.append(np.concatenate([[1.0], strata[level], np.zeros(t_cols.shape[1] + k * q)]))
    return CovariateDesign(np.vstack(rows), np.vstack(zero_rows))


@dataclass(frozen=True)
class CovariateFits:
    """Per-model results (arrays aligned with ``models``; nan where the MLE does not exist)."""

    models: tuple
    ok: np.ndarray
    converged: np.ndarray
    loglik: np.ndarray
    n_parameters: np.ndarray
    estimate: np.ndarray  # N = n + F0
    variance: np.ndarray  # var(N) = g'Vg + F0
    unlisted: np.ndarray  # F0
    unlisted_log_se: np.ndarray  # sqrt(g'Vg) / F0
    level_estimate: np.ndarray  # (models, L)
    level_variance: np.ndarray  # (models, L)
    level_unlisted: np.ndarray
    level_unlisted_log_se: np.ndarray

    def criterion(self, name: str, n_observed: float) -> np.ndarray:
        values = criterion_values(self.loglik, self.n_parameters, n_observed, name)
        return np.where(self.ok, values, np.inf)


def _exists(observed: np.ndarray, y: np.ndarray) -> bool:
    if np.linalg.matrix_rank(observed) < observed.shape[1]:
        return False
    return bool(np.all(y > 0)) or interior_exists(observed, y)


def fit_covariate_models(table: np.ndarray, models, dummies: np.ndarray) -> CovariateFits:
    """Existence check and Poisson fit of every model on the patterns x levels table ``table`` (L, C)."""
    models = tuple(models)
    n_levels = table.shape[0]
    y = table.reshape(-1)
    level_n = table.sum(axis=1)
    size = len(models)
    designs = [design(model, dummies) for model in models]
    ok = np.array([_exists(d.observed, y) for d in designs], dtype=bool)
    nan = lambda *shape: np.full(shape, np.nan)  # noqa: E731
    out = dict(loglik=nan(size), estimate=nan(size), variance=nan(size), unlisted=nan(size),
               unlisted_log_se=nan(size), level_estimate=nan(size, n_levels), level_variance=nan(size, n_levels),
               level_unlisted=nan(size, n_levels), level_unlisted_log_se=nan(size, n_levels))
    converged = np.zeros(size, dtype=bool)
    groups: dict[int, list[int]] = {}
    for i in np.flatnonzero(ok):
        groups.setdefault(designs[i].observed.shape[1], []).append(int(i))
    for members_all in groups.values():
        for start in range(0, len(members_all), BATCH):
            members = members_all[start:start + BATCH]
            batch = _glm.fit_poisson_batch(np.stack([designs[i].observed for i in members]), y)
            for b, i in enumerate(members):
                X, X0, beta, mu = designs[i].observed, designs[i].unlisted, batch.coef[b], batch.fitted[b]
                information = (X * mu[:, None]).T @ X
                try:
                    V = np.linalg.inv(information)
                except np.linalg.LinAlgError:
                    V = np.linalg.pinv(information)
                f0 = np.exp(np.clip(X0 @ beta, -700, 700))
                F0 = float(f0.sum())
                g = f0 @ X0
                gvg = max(float(g @ V @ g), 0.0)
                per = np.maximum(np.einsum("lp,pq,lq->l", X0, V, X0), 0.0)
                out["loglik"][i] = batch.loglik[b]
                out["unlisted"][i] = F0
                out["estimate"][i] = level_n.sum() + F0
                out["variance"][i] = gvg + F0
                out["unlisted_log_se"][i] = math.sqrt(gvg) / F0 if F0 > 0 else np.nan
                out["level_unlisted"][i] = f0
                out["level_estimate"][i] = level_n + f0
                out["level_variance"][i] = f0**2 * per + f0
                out["level_unlisted_log_se"][i] = np.sqrt(per)
                converged[i] = batch.converged[b]
    return CovariateFits(
        models=models, ok=ok, converged=converged,
        n_parameters=np.array([d.observed.shape[1] for d in designs], dtype=float), **out,
    )
