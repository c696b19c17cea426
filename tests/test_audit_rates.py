"""Regression tests from the robustness audit of histories, results, survey and daily inputs (no MCMC: fast)."""

import numpy as np
import pandas as pd
import pytest

from estimators import CaptureHistories, DataError, Estimate, PosteriorEstimate
from estimators import HouseholdSummary, SurveyObservation, Tally, daily_rates
from estimators._daily import prepare_data
from estimators._daily._inputs import _population_prior
from estimators.simulate import simulate_conflict
from estimators.survey import affected_households, load_smart_example, mortality_rate

LISTS = pd.DataFrame({"A": [1, 0, 1], "B": [0, 1, 1], "count": [30, 20, 10]})


# ------------------------------------------------------------------------------------------------ histories
def test_integer_column_names_are_read_as_list_names():
    # pd.DataFrame(array) names its columns 0, 1, ...; they used to be reported as unknown columns '0', '1'
    frame = pd.DataFrame(np.array([[1, 0, 30], [0, 1, 20], [1, 1, 10]]))
    h = CaptureHistories.from_counts(frame, count=2)
    assert h.lists == ("0", "1") and h.n_observed == 60
    records = pd.DataFrame({0: [1, 0, 1], 1: [0, 1, 1]})
    assert CaptureHistories.from_records(records, lists=[0, 1]).n_observed == 3
    assert list(frame.columns) == [0, 1, 2]


def test_repeated_column_names_are_refused_by_name():
    frame = pd.DataFrame([[1, 0, 5], [0, 1, 3], [1, 1, 2]], columns=["A", "A", "count"])
    with pytest.raises(DataError, match=r"\['A'\] occur more than once"):
        CaptureHistories.from_counts(frame)


def test_lists_given_as_index_or_array():
    expected = CaptureHistories.from_counts(LISTS)
    assert CaptureHistories.from_counts(LISTS, lists=LISTS.columns[:2]) == expected
    assert CaptureHistories.from_counts(LISTS, lists=np.array(["A", "B"])) == expected


def test_bad_count_names_the_row_not_a_pattern():
    frame = LISTS.set_axis([10, 20, 30]).assign(count=[30, np.nan, 10])
    with pytest.raises(DataError, match=r"missing \(NaN\) count at row 20 = nan"):
        CaptureHistories.from_counts(frame)
    with pytest.raises(DataError, match="negative count at pattern 01 = -2"):
        CaptureHistories.from_mapping({"10": 3, "01": -2})


def test_positive_all_zero_rows_are_named():
    frame = pd.concat([LISTS, pd.DataFrame({"A": [0], "B": [0], "count": [5]}, index=[7])])
    with pytest.raises(DataError, match=r"all-zero pattern 00 .* count 5 in row\(s\) \[7\]"):
        CaptureHistories.from_counts(frame)


# ------------------------------------------------------------------------------------------------ rates
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


# ------------------------------------------------------------------------------------------------ survey
def test_unseeded_affected_households_records_a_seed_that_repeats_the_draws():
    first = affected_households(n_households=151, n_affected=50, household_size=6, population=775_000)
    seed = first.settings["random_seed"]
    assert seed is not None
    again = affected_households(n_households=151, n_affected=50, household_size=6, population=775_000,
                                random_seed=seed)
    assert np.array_equal(first.draws["deaths"], again.draws["deaths"])


# ------------------------------------------------------------------------------------------------ daily inputs
def _lists():
    return pd.DataFrame({"A": [1, 0, 1, 1, 0, 0], "B": [0, 1, 1, 0, 1, 0], "C": [0, 0, 0, 1, 1, 1],
                         "day": [0, 0, 1, 2, 3, 4], "count": [3, 2, 1, 4, 2, 5]})


def test_day_numbers_with_a_start_date_stay_day_numbers():
    # with `start`, integer days were read as nanoseconds since 1970 and reported outside the study
    data = prepare_data(days=5, start="2017-02-19", lists=_lists(), population=1000)
    assert data.n_listed == 17


def test_whole_number_float_days_are_accepted_and_missing_days_named():
    lists = _lists().assign(day=lambda f: f.day.astype(float))
    assert prepare_data(days=5, lists=lists, population=1000).n_listed == 17
    with pytest.raises(DataError, match="whole study-day number"):
        prepare_data(days=5, lists=lists.assign(day=[0, 0.5, 1, 2, 3, 4]), population=1000)
    with pytest.raises(DataError, match="missing"):
        prepare_data(days=5, lists=lists.assign(day=[0, np.nan, 1, 2, 3, 4]), population=1000)


def test_dates_with_a_time_of_day_or_time_zone():
    dates = pd.to_datetime(["2017-02-19 18:00"] * 2 + ["2017-02-20 06:00", "2017-02-21 00:00", "2017-02-22 00:00",
                            "2017-02-23 00:00"])
    data = prepare_data(days=5, start="2017-02-19 12:00", lists=_lists().assign(day=dates), population=1000,
                        bin_days=1)
    assert data.list_cells.sum(1).tolist() == [5, 1, 4, 2, 5]
    with pytest.raises(DataError, match="time zone"):
        prepare_data(days=5, start="2017-02-19", lists=_lists().assign(day=dates.tz_localize("UTC")),
                     population=1000)


def test_list_names_subset_drops_records_only_on_lists_left_out():
    data = prepare_data(days=5, lists=_lists(), list_names=["A", "B"], population=1000)
    assert data.k == 2 and data.n_listed == 12
    with pytest.raises(DataError, match="all-zero pattern"):
        prepare_data(days=5, lists=_lists().assign(C=0), list_names=["A", "B"], population=1000)


def test_population_as_numpy_values():
    assert _population_prior(np.array([7e4, 9e4])) == _population_prior((7e4, 9e4))
    assert _population_prior(np.array(8e4)) == _population_prior(8e4)


def test_zero_death_survey_result_is_accepted_as_poisson():
    # mortality_rate has no design effect without deaths (nan); daily_rates refused such a survey
    with pytest.warns(UserWarning, match="No deaths"):
        survey = mortality_rate(load_smart_example().assign(deaths=0, violent_deaths=0), recall_days=90)
    data = prepare_data(days=5, lists=_lists(), surveys=[survey], population=1000)
    assert data.survey_deaths.tolist() == [0.0] and data.survey_alpha[0] >= 1e8


@pytest.mark.parametrize(
    "sources, match",
    [
        (dict(surveys=[SurveyObservation(3, 100.0, design_effect=0)]), "design_effect"),
        (dict(surveys=[SurveyObservation(3, np.inf)]), "person_days"),
        (dict(households=[HouseholdSummary(10, 3, 6, design_effect=0)]), "design_effect"),
        (dict(households=[HouseholdSummary(10, 3, 6, design_effect=np.nan)]), "design_effect"),
        (dict(households=[HouseholdSummary(10, 3, 6, household_size_sd=-1)]), "household_size_sd"),
        (dict(households=[HouseholdSummary(10, 3, 6, recall_days=0)]), "recall_days"),
        (dict(tallies=[Tally("t", 5, 3, 1)]), "ends .* before it starts"),
        (dict(tallies=[Tally("t", 5, pd.NaT, 3)]), "start is missing"),
    ],
)
def test_bad_source_values_are_not_silently_replaced(sources, match):
    with pytest.raises(ValueError, match=match):
        prepare_data(days=5, lists=_lists(), population=1000, **sources)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(random_seed=-1), "random_seed"),
        (dict(random_seed="a"), "random_seed"),
        (dict(target_accept="high"), "target_accept"),
        (dict(tally_coverage_prior=(np.nan, 1.0)), "tally_coverage_prior"),
        (dict(rate_level_prior=(0.0, -1.0)), "rate_level_prior"),
        (dict(rate_level_prior=(0.0,)), "rate_level_prior"),
    ],
)
def test_bad_settings_raise_before_compiling(kwargs, match):
    with pytest.raises(ValueError, match=match):
        daily_rates(days=5, lists=_lists(), population=1000, **kwargs)


# ------------------------------------------------------------------------------------------------ simulate_conflict
def test_each_list_changes_coverage_on_its_own_day():
    # the last list's day used to apply to every list: list 0's change on day 5 happened on day 15
    sim = simulate_conflict(20, coverage_change={0: (5, 2.0), 1: (15, 0.5)}, survey_clusters=None, random_seed=1)
    before = sim.coverage.iloc[0]
    assert sim.coverage.iloc[6, 0] == pytest.approx(2 * before.iloc[0], rel=1e-6)
    assert sim.coverage.iloc[6, 1] != pytest.approx(0.5 * before.iloc[1], rel=0.05)
    assert sim.coverage.iloc[16, 1] < before.iloc[1]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(survey_clusters=1), "survey_clusters"),
        (dict(households_per_cluster=0), "households_per_cluster"),
        (dict(household_size=0.5), "household_size"),
        (dict(mean_rate=-1.0), "mean_rate"),
        (dict(population=0), "population"),
        (dict(rw_sd=-0.1), "rw_sd"),
        (dict(tally_coverage=1.5), "tally_coverage"),
        (dict(capture_logits=()), "capture_logits"),
        (dict(interactions={(0, 5): 1.0}), "interactions"),
        (dict(coverage_change={7: (10, 2.0)}), "coverage_change"),
        (dict(coverage_change={0: (10, 10.0)}), "factor"),
    ],
)
def test_simulate_conflict_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        simulate_conflict(20, random_seed=1, **kwargs)
