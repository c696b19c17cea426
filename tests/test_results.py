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


def test_summary_rows_have_one_precision_and_counts_no_decimals():
    result = Estimate(estimate=336.123, interval=(289.91, 408.52), level=0.95, method="test", n_observed=208,
                      std_error=29.646, details={"f1": 187.0, "random_seed": 3, "seed": 3})
    text = str(result.summary())
    # the unlisted row's lower bound (81.91) was printed 81.910 beside 128.1
    assert "128.1   81.9  200.5       29.6" in text
    assert "187.0" not in text and "f1            187" in text
    facts = [key for key, _ in result.summary().facts]
    assert "seed" not in facts and facts.count("random_seed") == 1  # the older key is not printed twice


def test_posterior_summary_lists_each_fact_once_and_ess_as_whole_draws():
    result = PosteriorEstimate.from_draws(np.arange(1.0, 401.0), method="test", n_observed=1,
                                          details={"chains": 2}, diagnostics={"chains": 2, "ess_bulk": 3.026})
    facts = [key for key, _ in result.summary().facts]
    assert facts.count("chains") == 1
    text = str(result.summary())
    assert "ess_bulk        3" in text and "3.026" not in text


def test_summary_prints_a_seed_as_the_integer_to_pass_back():
    result = Estimate(estimate=10.0, interval=(9.0, 12.0), level=0.95, method="test", n_observed=8,
                      details={"random_seed": 716852975})
    assert "716852975" in str(result.summary()) and "716,852,975" not in str(result.summary())


def test_posterior_rate_agrees_with_the_exact_pmf_summary():
    # graphical_bma's estimate and interval come from its exact pmf; its rate came from the draws and disagreed
    support = np.arange(100, 200, dtype=float)
    pmf = np.full(100, 0.01)
    draws = np.array([100.0, 101.0, 102.0, 180.0])
    result = PosteriorEstimate(estimate=149.0, interval=(102.0, 197.0), level=0.95, method="pmf", n_observed=90,
                               draws=draws, pmf=(support, pmf))
    rate = result.rate(days=10, population=1000)
    assert rate.per_day == pytest.approx(14.9)
    assert rate.per_day_interval == pytest.approx((10.2, 19.7))
    assert rate.per_10000_per_day == pytest.approx(149.0 / 1000 * 10_000 / 10)
    with_draws = result.rate(days=10, population=np.full(4, 1000.0))
    assert with_draws.per_day == rate.per_day


def test_posterior_rate_without_draws_scales_the_stored_interval():
    result = PosteriorEstimate(estimate=1200.0, interval=(1000.0, 1500.0), level=0.95, method="x", n_observed=800)
    assert result.rate(days=120).per_day_interval == pytest.approx((1000 / 120, 12.5))


@pytest.mark.parametrize("bad", [np.nan, np.inf, 0.0, -5.0])
def test_population_draws_must_be_finite_and_positive(bad):
    draws = np.random.default_rng(1).normal(1000, 50, 400)
    result = PosteriorEstimate.from_draws(draws, method="x", n_observed=500)
    population = np.full(400, 100_000.0)
    population[7] = bad
    with pytest.raises(ValueError, match="draw 7 is"):
        result.rate(days=10, population=population)


def test_fixed_population_may_be_a_zero_dimensional_array():
    result = Estimate(estimate=1200.0, interval=(1000.0, 1500.0), level=0.95, method="x", n_observed=800)
    assert result.rate(days=120, population=np.array(750_000.0)).per_10000_per_day == pytest.approx(
        1200 / 750_000 * 10_000 / 120)


def test_an_estimate_that_is_a_rate_refuses_rate_and_shows_no_unlisted():
    draws = np.random.default_rng(2).gamma(50, 1, 400)
    mean_rate = PosteriorEstimate.from_draws(draws, method="mean deaths per day", n_observed=3000,
                                             details={"unit": "deaths per day"})
    with pytest.raises(ValueError, match="already a rate"):
        mean_rate.rate(days=120)
    text = str(mean_rate.summary())
    assert "deaths per day" in text and "unlisted" not in text
    assert np.isnan(mean_rate.unlisted)


def test_rate_summary_shows_days_level_and_population_as_read():
    result = Estimate(estimate=1200.0, interval=(1000.0, 1500.0), level=0.95, method="x", n_observed=800)
    facts = dict(result.rate(days=120, population=750_000).summary().facts)
    assert (facts["days"], facts["interval level"], facts["population at risk"]) == ("120", "95%", "750,000")


def test_plot_of_a_rate_keeps_its_axis_on_the_rate():
    import matplotlib

    matplotlib.use("Agg")
    draws = np.random.default_rng(3).gamma(50, 0.02, 400)
    rate = PosteriorEstimate.from_draws(draws, method="per 10,000 per day", n_observed=3000,
                                        details={"unit": "deaths per 10,000 per day"})
    ax = rate.plot()
    assert ax.get_xlim()[1] < 10 and ax.get_xlabel() == "deaths per 10,000 per day"
    assert "median 0.99" in ax.get_title()
    matplotlib.pyplot.close(ax.figure)


def test_empty_draws_are_refused():
    with pytest.raises(ValueError, match="empty"):
        PosteriorEstimate.from_draws([], method="x", n_observed=1)
