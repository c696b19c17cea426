"""loglinear(covariates=...): the log-linear model on the patterns x covariate-levels table with list x covariate
interactions (observable heterogeneity), the never-listed cell predicted per level."""

import math

import numpy as np
import pandas as pd
import pytest

from estimators import CaptureHistories, DataError, loglinear

TRUTH = {"north": 3000, "south": 3000}
CAPTURE = {"north": (0.5, 0.45, 0.4), "south": (0.08, 0.1, 0.07)}


def _records(seed, truth=TRUTH, capture=CAPTURE):
    rng = np.random.default_rng(seed)
    frames = []
    for region, size in truth.items():
        caught = rng.random((size, 3)) < np.array(capture[region])
        caught = caught[caught.any(axis=1)].astype(int)
        frame = pd.DataFrame(caught, columns=["A", "B", "C"])
        frame["region"] = region
        frame["age"] = rng.integers(0, 90, len(frame))
        frame["weight"] = rng.normal(60, 10, len(frame))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _histories(frame, covariates=("region",)):
    return CaptureHistories.from_records(frame, lists=["A", "B", "C"], covariates=list(covariates))


def test_capture_by_region_pooled_is_low_the_covariate_model_covers_the_truth():
    total = sum(TRUTH.values())
    covered_pooled, covered = 0, 0
    for seed in range(5):
        h = _histories(_records(seed))
        pooled = loglinear(h, "[1,2,3]")
        fit = loglinear(h, "[1,2,3]", covariates=["region"])
        assert pooled.estimate < 0.8 * total  # heterogeneity between regions biases the pooled table low
        covered_pooled += pooled.interval[0] <= total <= pooled.interval[1]
        covered += fit.interval[0] <= total <= fit.interval[1]
        table = fit.details["by_level"]
        assert list(table.region) == ["north", "south"]
        assert math.isclose(table.estimate.sum(), fit.estimate, rel_tol=1e-9)
        assert table.n_observed.sum() == h.n_observed
        for row in table.itertuples():
            assert row.lower <= row.estimate <= row.upper
    assert covered_pooled == 0 and covered >= 4


def test_each_level_alone_equals_the_plain_fit_of_its_table_under_independence():
    # Under [1,2,3] with a list x region interaction for every list, the levels share no parameter: each level's
    # estimate is the plain independence fit of that level's table.
    h = _histories(_records(1))
    fit = loglinear(h, "[1,2,3]", covariates="~ region")
    frame = _records(1)
    for row in fit.details["by_level"].itertuples():
        alone = loglinear(_histories(frame[frame.region == row.region], ()), "[1,2,3]", interval="wald")
        assert math.isclose(row.estimate, alone.estimate, rel_tol=1e-6)
        assert math.isclose(row.lower, alone.interval[0], rel_tol=1e-5)
        assert math.isclose(row.upper, alone.interval[1], rel_tol=1e-5)


@pytest.mark.parametrize("model", ["[1,2,3]", "[12,3]", "[12,13]"])
def test_one_covariate_level_equals_the_plain_fit(model):
    frame = _records(2)
    frame["region"] = "everywhere"
    h = _histories(frame)
    fit = loglinear(h, model, covariates=["region"])
    plain = loglinear(h, model, interval="wald")
    assert math.isclose(fit.estimate, plain.estimate, rel_tol=1e-7)
    assert math.isclose(fit.std_error, plain.std_error, rel_tol=1e-5)
    np.testing.assert_allclose(fit.interval, plain.interval, rtol=1e-5)
    assert math.isclose(fit.details["aic"], plain.details["aic"], rel_tol=1e-9)
    assert len(fit.details["by_level"]) == 1


def test_selection_and_averaging_with_covariates():
    h = _histories(_records(3))
    total = sum(TRUTH.values())
    chosen = loglinear(h, covariates=["region"], select="bic")
    assert chosen.model.startswith("[")
    average = loglinear(h, covariates=["region"], select="average")
    assert average.details["n_models"] == 8 and len(average.details["models"]) >= 1
    assert average.interval[0] <= total <= average.interval[1]
    levels = average.details["by_level"]
    assert set(levels.columns) >= {"region", "n_observed", "estimate", "lower", "upper"}
    for row in levels.itertuples():
        assert row.lower <= row.estimate <= row.upper
    with pytest.raises(ValueError, match="stepwise"):
        loglinear(h, covariates=["region"], select="stepwise")


def test_two_covariates_cross_classify():
    frame = _records(4)
    frame["sex"] = np.where(np.arange(len(frame)) % 2 == 0, "F", "M")
    h = _histories(frame, ("region", "sex"))
    fit = loglinear(h, "[12,3]", covariates="~ region + sex")
    table = fit.details["by_level"]
    assert len(table) == 4 and {"region", "sex"} <= set(table.columns)
    assert math.isclose(table.estimate.sum(), fit.estimate, rel_tol=1e-9)
    assert fit.details["covariates"] == ["region", "sex"]


@pytest.mark.parametrize("column", ["age", "weight"])
def test_continuous_covariates_are_refused_with_the_way_out(column):
    h = _histories(_records(5), ("region", column))
    with pytest.raises(DataError, match=r"(?s)pd\.cut.*huggins"):
        loglinear(h, covariates=[column])


def test_unknown_covariate_is_named():
    h = _histories(_records(5))
    with pytest.raises(DataError, match="sex"):
        loglinear(h, covariates=["sex"])
