"""Selection-aware bootstrap for log-linear models, against SparseMSE's estimatepopulation (BCa)."""

import re

import numpy as np
import pytest

from estimators import CaptureHistories, bootstrap_interval, load_dataset, loglinear
from estimators._loglinear._bootstrap import bca_interval, jackknife_acceleration


def _ahat(peers, dataset):
    row = peers[(peers.dataset == dataset) & peers.method.str.contains("BCa bootstrap")].iloc[0]
    return float(re.search(r"ahat=([-0-9.]+)", row.notes).group(1))


@pytest.mark.parametrize(
    "dataset", ["Rcapture_HIV", "CARE1_HAV", "SparseMSE_Artificial_3", "conting_spina_collapsed", "LCMCR_kosovo"]
)
def test_acceleration_matches_sparsemse(peers, dataset):
    """The jackknife acceleration is deterministic (one refit per non-empty cell, selection redone), so it must
    equal SparseMSE's printed ahat to its 4 decimals."""
    h = load_dataset(dataset)
    y = np.asarray(h.dense_counts(), float)[1:]
    assert jackknife_acceleration(y, h.k, "stepwise", 0.02) == pytest.approx(_ahat(peers, dataset), abs=6e-5)


def test_bca_close_to_sparsemse_on_hav(peers):
    """200 replicates as the reference; Monte Carlo error of the 2.5% and 97.5% quantiles is a few per cent."""
    row = peers[(peers.dataset == "CARE1_HAV") & peers.method.str.contains("BCa bootstrap")].iloc[0]
    boot = bootstrap_interval(load_dataset("CARE1_HAV"), select="stepwise", n_boot=200, random_seed=1234)
    assert boot.estimate == pytest.approx(row.estimate, rel=1e-6)
    assert boot.interval[0] == pytest.approx(row.lower, rel=0.05)
    assert boot.interval[1] == pytest.approx(row.upper, rel=0.05)
    assert boot.interval_kind == "bootstrap BCa"
    assert len(boot.details["replicates"]) == 200 and boot.details["random_seed"] == 1234


def test_same_seed_same_result_and_kinds():
    h = load_dataset("conting_spina_collapsed")
    a = bootstrap_interval(h, select="bic", n_boot=40, random_seed=5)
    b = bootstrap_interval(h, select="bic", n_boot=40, random_seed=5)
    c = bootstrap_interval(h, select="bic", n_boot=40, random_seed=6)
    assert a.interval == b.interval
    np.testing.assert_array_equal(a.details["replicates"], b.details["replicates"])
    assert not np.array_equal(a.details["replicates"], c.details["replicates"])
    assert a.estimate == loglinear(h, select="bic").estimate
    percentile = bootstrap_interval(h, select="bic", n_boot=40, kind="percentile", random_seed=5)
    np.testing.assert_array_equal(percentile.details["replicates"], a.details["replicates"])
    assert percentile.interval == pytest.approx(
        tuple(np.quantile(a.details["replicates"], [0.025, 0.975], method="median_unbiased"))
    )
    assert percentile.interval_kind == "bootstrap percentile"
    unseeded = bootstrap_interval(h, select="bic", n_boot=10)
    again = bootstrap_interval(h, select="bic", n_boot=10, random_seed=unseeded.details["random_seed"])
    assert unseeded.interval == again.interval


def test_bca_without_bias_or_skew_is_the_percentile_interval():
    replicates = np.linspace(90.0, 110.0, 2001)
    lower, upper, z0 = bca_interval(replicates, 100.0, 0.0, 0.9)
    assert z0 == pytest.approx(0.0, abs=1e-3)
    assert (lower, upper) == pytest.approx(tuple(np.quantile(replicates, [0.05, 0.95])), abs=0.02)
    # Positive acceleration moves both bounds up (a right-skewed estimator).
    shifted = bca_interval(replicates, 100.0, 0.1, 0.9)
    assert shifted[0] > lower and shifted[1] > upper


def test_replicates_without_an_estimate_are_counted():
    """One person on both lists: resampling often empties the overlap, where N does not exist (recorded +inf)."""
    h = CaptureHistories.from_mapping({"10": 40, "01": 30, "11": 1})
    with pytest.warns(UserWarning, match="no model with an MLE"):
        boot = bootstrap_interval(h, n_boot=60, kind="percentile", random_seed=3)
    missing = boot.details["n_nonexistent_replicates"]
    assert missing == np.isinf(boot.details["replicates"]).sum() > 0
    assert boot.interval[1] == np.inf


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"kind": "studentized"}, "`kind`"),
        ({"n_boot": 1}, "`n_boot`"),
        ({"random_seed": -1}, "`random_seed`"),
        ({"select": "cp"}, "`select`"),
        ({"level": 95}, "`level`"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        bootstrap_interval(load_dataset("CARE1_HAV"), **kwargs)


def test_quantiles_type_8_and_infinite_replicates():
    from estimators._loglinear._bootstrap import quantiles

    values = np.random.default_rng(0).gamma(2.0, size=57)
    probabilities = [0.0, 0.025, 0.5, 0.975, 1.0]
    expected = np.quantile(values, probabilities, method="median_unbiased")
    np.testing.assert_allclose(quantiles(values, probabilities), expected)
    with_inf = np.r_[np.arange(10.0), np.inf]
    assert quantiles(with_inf, [0.5])[0] == np.quantile(np.arange(11.0), 0.5, method="median_unbiased")
    assert quantiles(with_inf, [0.99])[0] == np.inf
