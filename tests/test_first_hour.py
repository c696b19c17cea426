"""Issue 13, item 4 ("the first hour"): results pickle and save, one population convention, public names, short
reprs, short strata warnings, warnings at the caller's line, labels as written, survey recall days."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

import estimators as est
from estimators import survey


# --------------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def kosovo():
    return est.load_dataset("LCMCR_kosovo")


@pytest.fixture(scope="module")
def daily_fit():
    """A tiny daily_rates fit (compiles once for the module; the sampling is short)."""
    sim = est.simulate.simulate_conflict(20, random_seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a short run: convergence warnings are expected
        return est.daily_rates(days=20, lists=sim.lists, population=(450_000, 550_000),
                               tallies=[est.Tally("hospital", count=300, start_day=0, end_day=9)],
                               draws=60, tune=60, chains=2, prior_draws=0, random_seed=1)


def _cheap_results(h):
    two = h.select_lists(list(h.lists)[:2])
    three = h.select_lists(list(h.lists)[:3])
    smart = survey.load_smart_example()
    chapman = est.chapman(two)
    return {
        "Estimate (chapman)": chapman,
        "Estimate (loglinear)": est.loglinear(three),
        "Estimate (heterogeneity)": est.heterogeneity(three),
        "Estimate (sample_coverage)": est.sample_coverage(three),
        "Estimate (zelterman)": est.zelterman(three),
        "PosteriorEstimate": est.PosteriorEstimate.from_draws(np.random.default_rng(1).normal(5000, 200, 500),
                                                              method="example", n_observed=4000),
        "Rate": chapman.rate(95, 1.8e6),
        "Summary": chapman.summary(),
        "SurveyRate": survey.mortality_rate(smart, recall_days=90),
        "AffectedHouseholds": survey.affected_households(n_households=100, n_affected=30, household_size=6,
                                                         population=10_000, recall_days=90, random_seed=1),
    }


@pytest.fixture(scope="module")
def cheap(kosovo):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = _cheap_results(kosovo)
        results["StrataResult"] = _strata_result()
    return results


def _weekly_histories():
    rng = np.random.default_rng(3)
    rows = []
    for week in pd.date_range("2017-02-19", periods=3, freq="7D"):
        for _ in range(40):
            a, b = rng.random(2) < (0.5, 0.4)
            if a or b:
                rows.append({"A": int(a), "B": int(b), "week": week})
    return est.CaptureHistories.from_records(pd.DataFrame(rows), lists=["A", "B"])


def _strata_result():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.estimate_strata(_weekly_histories(), by="week", method="lincoln_petersen", progress=False)


RESULT_NAMES = ["Estimate (chapman)", "Estimate (loglinear)", "Estimate (heterogeneity)",
                "Estimate (sample_coverage)", "Estimate (zelterman)", "PosteriorEstimate", "Rate", "Summary",
                "SurveyRate", "AffectedHouseholds", "StrataResult"]


def _key_numbers(result):
    """Estimate and interval (or their equivalents) of any result type."""
    if isinstance(result, est.Rate):
        return (result.per_day, *result.per_day_interval, result.per_10000_per_day,
                *result.per_10000_per_day_interval)
    if isinstance(result, est.Summary):
        return tuple(result.table.to_numpy().ravel())
    if isinstance(result, est.StrataResult):
        return tuple(result.table[["estimate", "lower", "upper"]].to_numpy().ravel())
    if isinstance(result, est.DailyRatesResult):
        return (result.mean_rate.estimate, *result.mean_rate.interval, result.total.estimate, *result.total.interval)
    return (result.estimate, *result.interval)


# ----------------------------------------------------------------------------------------------- a. pickle
@pytest.mark.parametrize("name", RESULT_NAMES)
def test_every_cheap_result_pickles(cheap, name):
    result = cheap[name]
    back = pickle.loads(pickle.dumps(result))
    assert type(back) is type(result)
    np.testing.assert_array_equal(_key_numbers(back), _key_numbers(result))


def test_daily_rates_result_pickles(daily_fit):
    back = pickle.loads(pickle.dumps(daily_fit))
    assert isinstance(back, est.DailyRatesResult)
    np.testing.assert_array_equal(_key_numbers(back), _key_numbers(daily_fit))
    np.testing.assert_array_equal(back.rate_draws, daily_fit.rate_draws)
    assert back.model is None  # the compiled model is a cache, not part of the result


# ------------------------------------------------------------------------------------------------- b. save
def test_posterior_estimate_saves_and_loads(tmp_path, cheap):
    result = cheap["PosteriorEstimate"]
    result.save(tmp_path / "fit.zarr")
    back = est.load_result(tmp_path / "fit.zarr")
    assert back.interval == result.interval
    np.testing.assert_array_equal(back.draws, result.draws)
    import xarray as xr

    tree = xr.open_datatree(tmp_path / "fit.zarr", engine="zarr", consolidated=False)
    assert tree["posterior"]["N"].shape == (1, len(result.draws))


def test_daily_rates_result_saves_and_loads_its_posterior(tmp_path, daily_fit):
    daily_fit.save(tmp_path / "daily.zarr")
    back = est.load_result(tmp_path / "daily.zarr")
    np.testing.assert_array_equal(_key_numbers(back), _key_numbers(daily_fit))
    np.testing.assert_allclose(back.idata.posterior["rate"].values, daily_fit.idata.posterior["rate"].values)
    assert back.mean_rate.idata is back.idata  # one posterior, shared as in the fitted result
    pd.testing.assert_frame_equal(back.daily, daily_fit.daily)


# ---------------------------------------------------------------------------------------- c. population
def test_estimate_rate_takes_a_population_range_read_as_daily_rates_reads_it():
    from estimators._daily._inputs import _population_prior
    from estimators.results import lognormal_from_range

    fit = est.Estimate(estimate=1200.0, interval=(1000.0, 1500.0), level=0.95, method="example", n_observed=800)
    fixed = fit.rate(120, 750_000)
    ranged = fit.rate(120, (700_000, 800_000))
    assert _population_prior((700_000, 800_000)) == lognormal_from_range(700_000, 800_000)
    median = lognormal_from_range(700_000, 800_000)[0]
    assert ranged.population == pytest.approx(median)
    assert ranged.population_interval == pytest.approx((700_000, 800_000))
    # the population's uncertainty widens the per-10,000 interval on both sides
    scaled = fit.rate(120, median)
    assert ranged.per_10000_per_day == pytest.approx(scaled.per_10000_per_day)
    assert ranged.per_10000_per_day_interval[0] < scaled.per_10000_per_day_interval[0]
    assert ranged.per_10000_per_day_interval[1] > scaled.per_10000_per_day_interval[1]
    assert ranged.per_day_interval == fixed.per_day_interval
    draws = np.random.default_rng(0).lognormal(np.log(750_000), 0.03, 5000)
    from_draws = fit.rate(120, draws)
    assert from_draws.population == pytest.approx(np.median(draws))
    assert from_draws.per_10000_per_day_interval[1] > fit.rate(120, np.median(draws)).per_10000_per_day_interval[1]


def test_posterior_rate_takes_a_population_range():
    draws = np.random.default_rng(1).normal(1000, 50, 4000)
    fit = est.PosteriorEstimate.from_draws(draws, method="example", n_observed=500)
    ranged = fit.rate(100, (0.9e6, 1.1e6))
    fixed = fit.rate(100, 1e6)
    assert ranged.per_10000_per_day_interval[0] < fixed.per_10000_per_day_interval[0]
    assert ranged.per_10000_per_day_interval[1] > fixed.per_10000_per_day_interval[1]
    assert fit.rate(100, (0.9e6, 1.1e6)) == ranged  # the same every call
    with pytest.raises(ValueError, match="low <= high"):
        fit.rate(100, (1.1e6, 0.9e6))


# ------------------------------------------------------------------------------------------- d. public names
@pytest.mark.parametrize("name", ["Tally", "SurveyObservation", "HouseholdSummary", "DailyRatesResult", "SurveyRate",
                                  "AffectedHouseholds", "StrataResult", "Estimate", "PosteriorEstimate", "Rate",
                                  "Summary", "load_result"])
def test_inputs_and_result_types_are_public(name):
    assert name in est.__all__
    assert getattr(est, name).__name__ == name


def test_readme_use_section_shows_a_tally():
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    use = readme.split("## Use", 1)[1].split("\n## ", 1)[0]
    assert "est.Tally(" in use and "daily_rates(" in use


# ---------------------------------------------------------------------------------------------- e. repr
@pytest.mark.parametrize("name", [n for n in RESULT_NAMES if n != "Summary"])
def test_result_repr_is_short_and_html_is_the_summary(cheap, name):
    result = cheap[name]
    text = repr(result)
    assert len(text) < 250 and "\n" not in text, text
    assert "<table>" in result._repr_html_()


def test_daily_rates_result_repr_is_short(daily_fit):
    assert len(repr(daily_fit)) < 250 and "\n" not in repr(daily_fit)
    assert len(repr(daily_fit.total)) < 250
    assert "<table>" in daily_fit._repr_html_()


# ------------------------------------------------------------------------------------------ f. strata table
def test_strata_warnings_are_short_with_the_full_text_beside(cheap):
    table = cheap["StrataResult"].table
    assert "warning_details" in table.columns
    warned = table[table["warning_details"] != ""]
    assert len(warned), "the small strata should warn"
    assert (warned["warnings"].str.len() <= 120).all()
    assert (warned["warning_details"].str.len() >= warned["warnings"].str.len()).all()


# ------------------------------------------------------------------------------------ g. warnings' location
def test_warnings_point_at_the_callers_line(kosovo):
    small = est.CaptureHistories.from_counts(pd.DataFrame({"A": [1, 0, 1], "B": [0, 1, 1], "count": [5, 4, 1]}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.chapman(small)
        est.heterogeneity(kosovo.select_lists(list(kosovo.lists)[:3]))
        est.estimate_strata(_weekly_histories(), by="week", method="lincoln_petersen", progress=False)
    assert caught
    assert {w.filename for w in caught} == {__file__}


def test_daily_rates_warnings_point_at_the_callers_line(daily_fit):
    sim = est.simulate.simulate_conflict(20, random_seed=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.daily_rates(days=20, lists=sim.lists, population=(450_000, 550_000),
                        tallies=[est.Tally("hospital", count=300, start_day=0, end_day=9)],
                        draws=20, tune=20, chains=2, prior_draws=0, random_seed=2, model=daily_fit.model)
    ours = [w for w in caught if issubclass(w.category, (est.ConvergenceWarning, est.IdentifiabilityWarning))]
    assert ours
    assert {w.filename for w in ours} == {__file__}


# ----------------------------------------------------------------------------------------------- h. labels
def test_date_labels_print_as_written(cheap):
    from estimators._summary import format_label

    assert format_label(pd.Timestamp("2017-02-19")) == "2017-02-19"
    assert format_label(np.datetime64("2017-02-19")) == "2017-02-19"
    assert format_label("north") == "north"
    strata = cheap["StrataResult"]
    text = str(strata.summary()) + repr(strata.total())
    assert "Timestamp(" not in text and "00:00:00" not in text
    assert "2017-02-19" in str(strata.summary())
    facts = str(est.Summary(title="t", facts=[("first day", pd.Timestamp("2017-02-19"))]))
    assert "2017-02-19" in facts and "00:00:00" not in facts


# ------------------------------------------------------------------------------------------- i. recall days
def test_mortality_rate_derives_recall_days_from_the_recall_dates():
    smart = survey.load_smart_example()
    by_days = survey.mortality_rate(smart, recall_days=90)
    by_dates = survey.mortality_rate(smart, recall_start="2017-01-01", recall_end="2017-03-31")
    assert by_dates.recall_days == 90
    assert by_dates.rate == pytest.approx(by_days.rate)


def test_integer_recall_days_are_study_days_not_nanoseconds():
    smart = survey.load_smart_example()
    result = survey.mortality_rate(smart, recall_start=10, recall_end=99)
    assert (result.recall_start, result.recall_end, result.recall_days) == (10, 99, 90)
    assert "1970" not in str(result.summary())
    assert "10 to 99" in str(result.summary())
    with pytest.raises(ValueError, match="study-day"):
        survey.mortality_rate(smart, recall_start=10, recall_end="2017-03-31")


def test_a_warning_from_a_method_called_directly_points_at_the_caller():
    # split_strata warned with stacklevel=3, right through strata() but one frame above the caller otherwise
    rows = [{"A": 1, "B": 1, "C": 0, "week": "w1"}, {"A": 1, "B": 0, "C": 1, "week": "w1"},
            {"A": 0, "B": 1, "C": 1, "week": "w1"}, {"A": 1, "B": 0, "C": 1, "week": "w2"},
            {"A": 1, "B": 0, "C": 0, "week": "w2"}, {"A": 0, "B": 0, "C": 1, "week": "w2"}]
    h = est.CaptureHistories.from_records(pd.DataFrame(rows), lists=["A", "B", "C"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        h.split_strata("week")
    assert [w.category for w in caught] == [est.SmallSampleWarning]
    assert caught[0].filename == __file__
