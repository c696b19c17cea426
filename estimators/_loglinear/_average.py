"""Information-criterion model averaging over hierarchical log-linear models (Buckland, Burnham & Augustin 1997).

Every hierarchical model with all main effects and without the k-way term (Rcapture ``closedpMS.t``: 8, 113, 6,893
models for k = 3, 4, 5; the k-way term would saturate the full 2**k table and leave N unidentified) whose MLE of
N exists gets the weight

    w_m = exp(-Delta_m / 2) / sum_l exp(-Delta_l / 2),    Delta_m = IC_m - min_l IC_l,

IC being AIC, AICc or BIC. The average is taken on the log scale, theta_bar = sum_m w_m log N_m, and its
"unconditional" standard error is Buckland et al. (1997, eq. 9) / Burnham & Anderson (2002, section 4.3.2,
eq. 4.9):

    se(theta_bar) = sum_m w_m sqrt(var_m + (log N_m - theta_bar)**2),

var_m the delta-method variance of log N_m, se(N_m)**2 / N_m**2 with se(N_m) Rcapture's
sqrt(f0**2 var(u) + f0), f0 = exp(u) the unlisted count. The interval is exp(theta_bar +- z se), its lower bound
never below the n people observed.

The module works on count vectors and model tuples only, so the covariate models (:mod:`._covariates`) reuse it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist

import numpy as np

from .._lazy import normal_ppf, pd
from ..exceptions import DataError
from ._model import HierarchicalModel, positions

CRITERIA = ("aic", "aicc", "bic")
VARIANCE_FORM = (
    "Buckland et al. (1997) / Burnham & Anderson (2002, eq. 4.9) unconditional variance on log N: "
    "se = sum_m w_m sqrt(var_m + (log N_m - mean log N)^2), var_m by the delta method"
)


def criterion_values(loglik, n_parameters, n_observed: float, criterion: str) -> np.ndarray:
    """AIC = -2 logL + 2p; AICc = AIC + 2p(p + 1)/(n - p - 1) (Hurvich & Tsai 1989; inf when n <= p + 1);
    BIC = -2 logL + log(n) p (Rcapture's penalty), n the number of people observed."""
    loglik = np.asarray(loglik, dtype=float)
    p = np.asarray(n_parameters, dtype=float)
    if criterion == "bic":
        return -2 * loglik + math.log(max(n_observed, 1.0)) * p
    aic = -2 * loglik + 2 * p
    if criterion == "aic":
        return aic
    room = n_observed - p - 1
    with np.errstate(divide="ignore"):
        return np.where(room > 0, aic + 2 * p * (p + 1) / np.where(room > 0, room, 1.0), np.inf)


def akaike_weights(values: np.ndarray) -> np.ndarray:
    """exp(-Delta/2) normalised over the finite values (0 weight elsewhere)."""
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    weights = np.zeros(len(values))
    if finite.any():
        delta = values[finite] - values[finite].min()
        raw = np.exp(-delta / 2)
        weights[finite] = raw / raw.sum()
    return weights


@dataclass(frozen=True)
class Averaged:
    """An average on the log scale: exp(theta) with its unconditional standard error on log N."""

    log_estimate: float
    log_std_error: float

    @property
    def estimate(self) -> float:
        return math.exp(self.log_estimate)

    def interval(self, level: float, floor: float = 0.0) -> tuple[float, float]:
        z = normal_ppf(0.5 + level / 2)
        lower = math.exp(self.log_estimate - z * self.log_std_error)
        upper = math.exp(self.log_estimate + z * self.log_std_error)
        return max(lower, floor), upper


def average_log(weights, estimates, log_variances) -> Averaged:
    """theta_bar = sum w log N_m and se = sum w sqrt(var_m + (log N_m - theta_bar)^2) (Burnham & Anderson 2002,
    eq. 4.9); models with zero weight are left out (their estimate may be nan)."""
    weights = np.asarray(weights, dtype=float)
    used = weights > 0
    w = weights[used] / weights[used].sum()
    log_n = np.log(np.asarray(estimates, dtype=float)[used])
    variance = np.maximum(np.asarray(log_variances, dtype=float)[used], 0.0)
    theta = float(np.sum(w * log_n))
    se = float(np.sum(w * np.sqrt(variance + (log_n - theta) ** 2)))
    return Averaged(theta, se)


def exclusion_mask(models: Sequence[HierarchicalModel], exclude, lists) -> np.ndarray:
    """True for the models ``exclude`` removes: a list of models (bracket strings or term lists, read as
    ``loglinear``'s ``model``), or a predicate called with each model's terms as tuples of list names."""
    lists = tuple(lists)
    if exclude is None:
        return np.zeros(len(models), dtype=bool)
    if callable(exclude):
        out = []
        for model in models:
            terms = tuple(tuple(lists[j] for j in positions(t, model.k)) for t in model.terms)
            verdict = exclude(terms)
            if not isinstance(verdict, (bool, np.bool_)):
                raise DataError(
                    f"The `exclude` predicate must return True or False for a model's terms; it returned "
                    f"{verdict!r} for {model.name(lists)}."
                )
            out.append(bool(verdict))
        return np.array(out, dtype=bool)
    wanted = set()
    for item in exclude:
        try:
            wanted.add(HierarchicalModel.parse(item, lists).terms)
        except ValueError as error:
            raise DataError(f"Cannot read the model {item!r} in `exclude`: {error}") from None
    return np.array([model.terms in wanted for model in models], dtype=bool)


@lru_cache(maxsize=4096)
def _labels(model: HierarchicalModel, lists: tuple) -> tuple[str, str]:
    """A model's bracket name and its interaction terms' labels, written once per (model, lists): every stratum of
    a stratified fit has the same 113 four-list models."""
    label = model.term_label_fn(lists)
    return model.name(lists), ", ".join(label(t) for t in model.terms if bin(t).count("1") > 1)


def model_table(models, lists, estimates, log_variances, values, weights, criterion: str, level: float,
                floor: float) -> pd.DataFrame:
    """One row per averaged model, heaviest first: model, terms, estimate, lower, upper (log-normal delta-method
    interval), the criterion, its Delta and the weight."""
    z = NormalDist().inv_cdf(0.5 + level / 2)
    weights = np.asarray(weights, dtype=float)
    chosen = np.flatnonzero(weights > 0)
    estimates = np.asarray(estimates, dtype=float)[chosen]
    se = np.sqrt(np.maximum(np.asarray(log_variances, dtype=float)[chosen], 0.0))
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    labels = [_labels(models[i], tuple(lists)) for i in chosen]
    table = pd.DataFrame({
        "model": [name for name, _ in labels],
        "terms": [terms for _, terms in labels],
        "estimate": estimates,
        "lower": np.maximum(estimates * np.exp(-z * se), floor),
        "upper": estimates * np.exp(z * se),
        "log_std_error": se,
        criterion.upper(): values[chosen],
        "delta": values[chosen] - (finite.min() if len(finite) else np.nan),
        "weight": weights[chosen],
    })
    return table.sort_values("weight", ascending=False, kind="stable").reset_index(drop=True)


def check_exclude(exclude) -> None:
    if exclude is None or callable(exclude):
        return
    if isinstance(exclude, str) or not isinstance(exclude, (list, tuple, set, frozenset)):
        raise DataError(
            f"`exclude` must be a list of models (e.g. ['[12,3]', '[12,13,23]']) or a predicate of a model's terms; "
            f"got {exclude!r}."
        )
