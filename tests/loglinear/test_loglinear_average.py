"""loglinear(select="average"): AIC/AICc/BIC-weighted averaging over the hierarchical models (Buckland, Burnham &
Augustin 1997), with the Burnham & Anderson (2002, eq. 4.9) unconditional variance on log N."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from estimators import CaptureHistories, estimate_strata, load_dataset, loglinear

# A 3-list table (counts of the 7 observable patterns) with every cell positive, so all 8 models exist.
COUNTS = {(1, 0, 0): 420, (0, 1, 0): 310, (0, 0, 1): 270, (1, 1, 0): 95, (1, 0, 1): 60, (0, 1, 1): 48, (1, 1, 1): 17}
EIGHT = {"[1,2,3]", "[12,3]", "[13,2]", "[23,1]", "[12,13]", "[12,23]", "[13,23]", "[12,13,23]"}


def _table(counts=COUNTS, lists=("A", "B", "C")):
    frame = pd.DataFrame([(*pattern, count) for pattern, count in counts.items()], columns=[*lists, "count"])
    return CaptureHistories.from_counts(frame)


def _by_hand(h, criterion="aic"):
    """Each of the 8 models fitted alone: estimate, delta-method variance of log N and the criterion."""
    rows = []
    n = h.n_observed
    for name in EIGHT:
        fit = loglinear(h, name, interval="wald")
        p = fit.details["n_parameters"]
        value = {"aic": fit.details["aic"], "bic": fit.details["bic"],
                 "aicc": fit.details["aic"] + 2 * p * (p + 1) / (n - p - 1)}[criterion]
        rows.append((name, fit.estimate, (fit.std_error / fit.estimate) ** 2, value))
    return pd.DataFrame(rows, columns=["model", "estimate", "log_var", "value"])


@pytest.mark.parametrize("criterion", ["aic", "aicc", "bic"])
def test_weights_are_normalised_exp_minus_half_delta_over_the_eight_models(criterion):
    h = _table()
    fit = loglinear(h, select="average", criterion=criterion)
    table = fit.details["models"]
    assert set(table.model) == EIGHT and len(table) == 8  # the "eight non-saturated" models of 3 lists
    hand = _by_hand(h, criterion).set_index("model")
    delta = hand.value - hand.value.min()
    weights = np.exp(-delta / 2) / np.exp(-delta / 2).sum()
    ours = table.set_index("model")
    np.testing.assert_allclose(ours.weight[weights.index], weights, rtol=1e-6)
    np.testing.assert_allclose(ours.estimate[hand.index], hand.estimate, rtol=1e-7)
    assert math.isclose(ours.weight.sum(), 1.0)
    assert fit.details["criterion"] == criterion


def test_average_and_unconditional_interval_by_hand():
    h = _table()
    fit = loglinear(h, select="average", level=0.9)
    hand = _by_hand(h)
    delta = hand.value - hand.value.min()
    w = np.exp(-delta / 2) / np.exp(-delta / 2).sum()
    theta = float(np.sum(w * np.log(hand.estimate)))
    se = float(np.sum(w * np.sqrt(hand.log_var + (np.log(hand.estimate) - theta) ** 2)))
    z = stats.norm.ppf(0.95)
    assert math.isclose(fit.estimate, math.exp(theta), rel_tol=1e-7)
    assert math.isclose(fit.details["log_std_error"], se, rel_tol=1e-6)
    assert fit.interval[0] == pytest.approx(max(math.exp(theta - z * se), h.n_observed), rel=1e-6)
    assert fit.interval[1] == pytest.approx(math.exp(theta + z * se), rel=1e-6)
    # between the models' estimates, and an interval at least as wide as the best model's
    assert hand.estimate.min() <= fit.estimate <= hand.estimate.max()
    best = fit.details["models"].iloc[0]
    assert best.model == fit.details["best_model"]
    assert fit.interval[1] - fit.interval[0] >= best.upper - best.lower
    assert fit.interval[1] - fit.interval[0] >= np.ptp(loglinear(h, best.model, level=0.9).interval) * 0.999


def test_a_single_dominant_model_gives_its_own_estimate():
    h = load_dataset("Rcapture_HIV")
    fit = loglinear(h, select="average")
    assert fit.details["n_models"] == 113
    assert fit.details["models"].weight.iloc[0] == fit.details["best_weight"] < 1
    assert fit.details["models"].estimate.min() <= fit.estimate <= fit.details["models"].estimate.max()
    assert "AIC-weighted average" in fit.model


def test_exclude_by_name_and_by_predicate():
    h = _table()
    by_name = loglinear(h, select="average", exclude=["[12,13,23]", "[A:B,C]"])
    assert set(by_name.details["models"].model) == EIGHT - {"[12,13,23]", "[12,3]"}
    assert by_name.details["n_models"] == 6
    no_ab = loglinear(h, select="average", exclude=lambda terms: ("A", "B") in terms)
    assert set(no_ab.details["models"].model) == {"[1,2,3]", "[13,2]", "[23,1]", "[13,23]"}
    with pytest.raises(Exception, match="removes every"):
        loglinear(h, select="average", exclude=lambda terms: True)
    with pytest.raises(ValueError, match="exclude"):
        loglinear(h, select="bic", exclude=["[12,3]"])
    with pytest.raises(ValueError, match="criterion"):
        loglinear(h, select="aic", criterion="bic")
    with pytest.raises(ValueError, match="criterion"):
        loglinear(h, select="average", criterion="dic")


def test_nonexistent_models_get_no_weight():
    counts = dict(COUNTS)
    counts[(1, 1, 1)] = 0
    counts[(0, 1, 1)] = 0  # B and C only ever together with nobody: some models lose their MLE
    fit = loglinear(_table(counts), select="average")
    assert fit.details["n_models"] == 8
    assert len(fit.details["models"]) == 8 - fit.details["n_nonexistent"]
    assert np.isfinite(fit.estimate) and fit.interval[0] <= fit.estimate <= fit.interval[1]


def test_average_per_stratum_passes_the_options_through():
    frames = []
    for region, scale in (("north", 1), ("south", 2)):
        frame = pd.DataFrame([(*p, c * scale) for p, c in COUNTS.items()], columns=["A", "B", "C", "count"])
        frame["region"] = region
        frames.append(frame)
    h = CaptureHistories.from_counts(pd.concat(frames, ignore_index=True))
    result = estimate_strata(h, by="region", method="loglinear", select="average", criterion="bic",
                             progress=False)
    table = result.table if hasattr(result, "table") else result.to_frame()
    assert len(table) >= 2
    north = loglinear(_table(), select="average", criterion="bic")
    assert any(math.isclose(value, north.estimate, rel_tol=1e-9) for value in table.estimate)
