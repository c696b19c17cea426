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


def _ratio_linearised(y: np.ndarray, x: np.ndarray, w: np.ndarray, psu: np.ndarray, stratum: np.ndarray):
    """Ratio sum(w y) / sum(w x), its linearised variance and its design effect.

    The influence score of unit i is ``(y_i - R x_i) / sum(w x)``; the variance is that of the weighted total
    of the scores over PSUs. The design effect divides it by the variance the same total would have under
    simple random sampling of the same number of units with replacement: the Kish definition used by R's
    ``svyratio(..., deff="replace")``, ``svyvar(score) * sum(w)^2 / n`` with the n - 1 divisor in ``svyvar``.
    """
    ratio = np.sum(w * y) / np.sum(w * x)
    score = (y - ratio * x) / np.sum(w * x)
    variance = _psu_variance(w * score, psu, stratum)
    n = len(y)
    total_weight = np.sum(w)
    mean_score = np.sum(w * score) / total_weight
    srs_unit_variance = np.sum(w * (score - mean_score) ** 2) / total_weight * n / (n - 1)
    srs_variance = srs_unit_variance * total_weight**2 / n
    design_effect = variance / srs_variance if srs_variance > 0 else float("nan")
    return float(ratio), float(variance), float(design_effect)


def _wald(estimate: float, std_error: float, level: float) -> tuple[float, float]:
    z = stats.norm.ppf(0.5 + level / 2)
    return estimate - z * std_error, estimate + z * std_error
