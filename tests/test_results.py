import numpy as np
import pytest

from estimators import Estimate, PosteriorEstimate


def test_rate_scales_interval():
    result = Estimate(estimate=1200.0, interval=(1000.0, 1500.0), level=0.95, method="test", n_observed=800)
    rate = result.rate(days=120, population=750_000)
    assert rate.per_day == pytest.approx(10.0)
    assert rate.per_day_interval == pytest.approx((1000 / 120, 1500 / 120))
    assert rate.per_10000_per_day == pytest.approx(1200 / 750_000 * 10_000 / 120)
    assert result.unlisted == 400
    assert "unlisted" in str(result.summary())
    with pytest.raises(ValueError, match="days"):
        result.rate(days=0)


def test_posterior_rate_carries_population_uncertainty():
    rng = np.random.default_rng(1)
    draws = rng.normal(1000, 50, 4000)
    result = PosteriorEstimate.from_draws(draws, method="test", n_observed=500)
    fixed = result.rate(days=100, population=100_000)
    uncertain = result.rate(days=100, population=rng.uniform(80_000, 120_000, 4000))
    width = lambda r: r.per_10000_per_day_interval[1] - r.per_10000_per_day_interval[0]
    assert width(uncertain) > width(fixed)
    assert result.hdi(0.95)[0] < result.estimate < result.hdi(0.95)[1]
    assert result.credible_interval(0.5)[1] < result.interval[1]


def test_confidence_interval_is_called_as_in_scipy_stats():
    fitted = Estimate(estimate=1200.0, interval=(1000.0, 1500.0), level=0.9, method="test", n_observed=800)
    assert fitted.confidence_interval() == fitted.confidence_interval(0.9) == (1000.0, 1500.0)
    # a frequentist interval exists only at the level it was fitted with
    with pytest.raises(ValueError, match="refit with level=0.95"):
        fitted.confidence_interval(0.95)
    with pytest.raises(ValueError, match="level"):
        fitted.confidence_interval(1.5)
    posterior = PosteriorEstimate.from_draws(np.arange(1.0, 1001.0), method="test", n_observed=1)
    assert posterior.confidence_interval() == posterior.interval
    assert posterior.confidence_interval(0.5) == posterior.credible_interval(0.5) == pytest.approx((250.75, 750.25))
