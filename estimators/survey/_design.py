"""Design-based variance of a ratio from a cluster survey: strata, PSUs, weights, Taylor linearisation."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


# Fewer PSU degrees of freedom than this and the normal quantile of the Wald interval is visibly too small.
_MIN_PSU_DF = 10


# Sampling weights are inverse inclusion probabilities; beyond these bounds the weighted sums (and the square of
# their total in the design effect) lose all precision or overflow, giving nan or 0 without a warning.
_WEIGHT_BOUNDS = (1e-9, 1e12)


def _psu_variance(scores: np.ndarray, psu: np.ndarray, stratum: np.ndarray) -> float:
    """With-replacement variance of a total from PSU totals of ``scores``, strata independent.

    ``sum_h n_h / (n_h - 1) * sum_c (z_hc - mean_h z)^2``: the first-stage "ultimate cluster" estimator
    (Wolter 2007, ch. 6), what R's ``svyrecvar`` gives for a design without finite population correction.
    """
    frame = pd.DataFrame({"z": scores, "psu": psu, "stratum": stratum})
    totals = frame.groupby(["stratum", "psu"], sort=False)["z"].sum()
    by_stratum = totals.groupby(level="stratum", sort=False)
    n_h = by_stratum.transform("size").to_numpy(dtype=float)
    centred = totals.to_numpy() - by_stratum.transform("mean").to_numpy()
    return float(np.sum(n_h / (n_h - 1) * centred**2))


def _calibration_residuals(score: np.ndarray, calibration) -> np.ndarray:
    """Scores with what the calibration to known totals explains removed (the variance of a calibrated estimator).

    ``calibration`` is ``(kind, groups or X, d)`` with ``d`` the design weights before calibration. The residuals
    are those of the weighted least-squares fit, with weights ``d``, of the score on the calibration variables:
    ``score - X b``, ``b = (X' D X)^-1 X' D score`` (Deville & Särndal 1992, the GREG residuals). For
    ``"poststratify"`` ``X`` holds the post-stratum indicators and ``X b`` is the ``d``-weighted mean of the score
    in each post-stratum, R ``survey``'s ``svyrecvar`` for a ``postStratify``-ed design (Lumley 2010, sec. 7.2);
    for ``"rake"`` ``X`` holds the indicators of every margin, R's ``calibrate(..., calfun="raking")``.
    """
    if calibration is None:
        return score
    kind, spec, d = calibration
    if kind == "poststratify":
        groups = np.asarray(spec)
        means = pd.Series(d * score).groupby(groups).transform("sum") / pd.Series(d).groupby(groups).transform("sum")
        return score - means.to_numpy()
    design = np.asarray(spec, dtype=float)
    root = np.sqrt(d)
    # least squares on sqrt(d)-scaled rows: rank-deficient margins (one total implied by the others) are fine
    coef, *_ = np.linalg.lstsq(design * root[:, None], score * root, rcond=None)
    return score - design @ coef


def _ratio_linearised(y: np.ndarray, x: np.ndarray, w: np.ndarray, psu: np.ndarray, stratum: np.ndarray,
                      calibration=None):
    """Ratio sum(w y) / sum(w x), its linearised variance and its design effect.

    The influence score of unit i is ``(y_i - R x_i) / sum(w x)``; the variance is that of the weighted total
    of the scores over PSUs (after removing what a calibration explains, :func:`_calibration_residuals`). A domain
    rate is the same ratio with ``y`` and ``x`` set to 0 outside the domain (domain estimation: the sample size of
    the domain is random, its variance comes out of the linearisation).

    The design effect divides the variance by that of the same weighted estimator had the households been drawn
    independently, with replacement, without clusters or strata: ``n / (n - 1) * sum_i (w_i z_i - mean(w z))^2``,
    the variance under R ``svydesign(ids=~1, weights=~w)``. Without weights it is Kish's deff against simple
    random sampling of households (R ``svyratio(..., deff="replace")``). Given for a calibrated design too
    (R gives NA there): the calibrated variance over that reference with the calibrated weights.
    """
    total_x = np.sum(w * x)
    ratio = np.sum(w * y) / total_x
    score = (y - ratio * x) / total_x
    variance = _psu_variance(w * _calibration_residuals(score, calibration), psu, stratum)
    n = len(y)
    weighted = w * score
    srs_variance = n / (n - 1) * np.sum((weighted - weighted.mean()) ** 2)
    design_effect = variance / srs_variance if srs_variance > 0 else float("nan")
    return float(ratio), float(variance), float(design_effect)


def _poststratify(w: np.ndarray, groups: np.ndarray, totals: dict, name: str) -> np.ndarray:
    """Weights scaled within each post-stratum to sum to its known total (R ``postStratify``)."""
    groups = np.asarray(groups)
    present = set(pd.unique(groups).tolist())
    missing = sorted(map(str, present - set(totals)))
    if missing:
        raise ValueError(f"`population_totals[{name!r}]` has no total for {missing}; give one for every category "
                         f"of {name!r} in the data.")
    empty = sorted(map(str, set(totals) - present))
    if empty:
        raise ValueError(f"`population_totals[{name!r}]` has totals for {empty}, absent from the sample: a "
                         "post-stratum without sampled households cannot be weighted up; merge it with another.")
    out = w.astype(float).copy()
    for key, total in totals.items():
        mask = groups == key
        out[mask] *= float(total) / out[mask].sum()
    return out


def _rake(w: np.ndarray, margins: dict, *, tol: float = 1e-10, max_iter: int = 1000) -> np.ndarray:
    """Iterative proportional fitting of the weights to several margins (R ``rake``, Deming & Stephan 1940)."""
    out = w.astype(float).copy()
    for _ in range(max_iter):
        before = out.copy()
        for name, (groups, totals) in margins.items():
            out = _poststratify(out, groups, totals, name)
        if np.max(np.abs(out - before) / before) < tol:
            return out
    raise ValueError(f"Raking did not converge in {max_iter} sweeps: the margins in `population_totals` are "
                     "inconsistent (different grand totals) or a cell combination is empty in the sample.")


def _indicators(margins: dict) -> np.ndarray:
    """Indicator columns of every category of every margin (the calibration variables of raking)."""
    columns = []
    for groups, totals in margins.values():
        groups = np.asarray(groups)
        columns += [(groups == key).astype(float) for key in totals]
    return np.column_stack(columns)


def _wald(estimate: float, std_error: float, level: float) -> tuple[float, float]:
    z = stats.norm.ppf(0.5 + level / 2)
    return estimate - z * std_error, estimate + z * std_error
