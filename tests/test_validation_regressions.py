"""Regression tests for inputs that used to change a model silently (issue 13, item 3).

Each fails on the code before the fix: the input was accepted and read as something else, or failed late with an
error that did not name the argument. Only the public API and the daily model's input check (prepare_data) are used.
Nothing in this file compiles a model or samples: every check raises before fitting.
"""

import tracemalloc

import numpy as np
import pandas as pd
import pytest

import estimators
from estimators import CaptureHistories, DataError
from estimators import HouseholdSummary, SurveyObservation, Tally, daily_rates
from estimators._daily import prepare_data
from estimators.survey import affected_households, load_smart_example, mortality_rate

TALLY = [Tally("t", 10, 0, 9)]


def _daily(**kwargs):
    kwargs.setdefault("population", 10_000)
    kwargs.setdefault("days", 30)
    return daily_rates(**kwargs)


def test_daily_inverted_household_size_range_raises():
    # (8, 2) gave a log-normal with a negative log sd, clipped to 1e-6: a fixed size of 4
    with pytest.raises(DataError, match=r"household_size.*\(8, 2\)"):
        _daily(households=[HouseholdSummary(100, 10, (8, 2))])


@pytest.mark.parametrize("name, value", [("time_varying_capture", "no"), ("list_dependence", "yes"),
                                         ("allow_unidentified", "False"), ("progress", 1)])
def test_daily_booleans_refuse_strings_and_numbers(name, value):
    # "no" is truthy: time_varying_capture="no" turned the random walk of capture on
    with pytest.raises(ValueError, match=f"`{name}`.*True or False"):
        _daily(tallies=TALLY, **{name: value})


@pytest.mark.parametrize("deff", [0.5, 0.99, 0.0])
def test_daily_survey_design_effect_below_one_raises(deff):
    # below 1 the survey was modelled as Poisson (no clustering) without a word
    with pytest.raises(DataError, match="design_effect"):
        _daily(surveys=[SurveyObservation(5, 10_000, design_effect=deff)])


@pytest.mark.parametrize("sources, name", [
    (dict(tallies=[Tally("t", 2.5, 0, 9)]), "count"),
    (dict(surveys=[SurveyObservation(2.5, 10_000)]), "deaths"),
    (dict(households=[HouseholdSummary(100.5, 10, 5)]), "n_households"),
    (dict(households=[HouseholdSummary(100, 10.5, 5)]), "n_affected"),
])
def test_daily_fractional_counts_raise(sources, name):
    with pytest.raises(DataError, match=f"{name}.*whole number"):
        _daily(**sources)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_daily_dependence_scale_not_finite_raises_before_fitting(value):
    # nan passed `< 0` and failed inside the sampler; inf gave an improper prior
    with pytest.raises(ValueError, match="`dependence_scale`"):
        _daily(tallies=TALLY, dependence_scale=value)


def test_daily_infinite_day_raises_data_error():
    # round(inf) raised OverflowError from inside the day parser
    with pytest.raises(DataError, match="start"):
        _daily(tallies=[Tally("t", 10, float("inf"), 9)])
    lists = pd.DataFrame({"A": [1, 0, 1], "B": [0, 1, 1], "day": [0.0, float("inf"), 2.0]})
    with pytest.raises(DataError, match="day"):
        _daily(lists=lists)


def test_daily_surveys_as_dicts_are_read_and_other_objects_named():
    # a dict raised AttributeError: 'dict' object has no attribute 'deaths'
    data = prepare_data(days=30, surveys=[dict(deaths=5, person_days=10_000, design_effect=1.5)],
                        households=[dict(n_households=100, n_affected=10, household_size=5)],
                        tallies=[dict(name="t", count=10, start_day=0, end_day=9)], population=10_000)
    assert data.survey_deaths.tolist() == [5.0]
    assert data.household_raw[0].tolist() == [100.0, 10.0, 1.0]
    assert data.tally_counts.tolist() == [10.0]
    with pytest.raises(DataError, match="SurveyObservation"):
        prepare_data(days=30, surveys=[dict(deaths=5, person_days=10_000, bogus=1)], population=10_000)
    with pytest.raises(DataError, match="SurveyObservation"):
        _daily(surveys=[42])
    with pytest.raises(DataError, match="HouseholdSummary"):
        _daily(households=["100 of 10"])


def test_daily_start_not_a_date_is_a_data_error_naming_start():
    with pytest.raises(DataError, match="`start`"):
        daily_rates(population=10_000, start="not a date", end="2024-01-31", tallies=TALLY)


@pytest.mark.parametrize("span", [dict(days=20_000), dict(start="2000-01-01", end="2054-10-03")])
def test_daily_number_of_days_is_checked_before_allocating(span):
    # 20,000 days built a 20,000 x 20,000 float matrix (3.2 GB) before any check
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="`days`.*3660"):
            daily_rates(population=10_000, tallies=[Tally("t", 10, 0, 9)], **span)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50e6


def test_mortality_rate_extreme_weight_raises():
    # one weight of 1e308 overflowed the weighted sums: a rate of nan or 0 without a warning
    frame = load_smart_example().assign(w=1.0)
    frame.loc[0, "w"] = 1e308
    with pytest.raises(DataError, match="'w'"):
        mortality_rate(frame, recall_days=90, weight="w")
    assert frame.loc[0, "w"] == 1e308  # the caller's frame is untouched


@pytest.mark.parametrize("recall_days", [1e-300, 0.5])
def test_recall_days_below_one_day_raises(recall_days):
    # 1e-300 days gave a rate of 1e302 per 10,000 per day
    with pytest.raises(ValueError, match="`recall_days`"):
        mortality_rate(load_smart_example(), recall_days=recall_days)
    with pytest.raises(ValueError, match="`recall_days`"):
        affected_households(n_households=100, n_affected=10, household_size=5, recall_days=recall_days)


def _histories_with(labels):
    frame = pd.DataFrame({"A": [1, 0, 1] * 2, "B": [0, 1, 1] * 2, "count": [5, 6, 7, 4, 3, 2]})
    frame["region"] = [labels[0]] * 3 + [labels[1]] * 3
    return CaptureHistories.from_counts(frame, count="count", lists=["A", "B"])


def test_split_strata_keeps_tuple_labels_distinct():
    # a single `by` column holding tuples: ("x", 1) and ("x", 2) were both unwrapped to "x", one stratum
    split = _histories_with([("x", 1), ("x", 2)]).split_strata("region")
    assert sorted(split) == [("x", 1), ("x", 2)]
    assert [split[key].n_observed for key in sorted(split)] == [18, 9]


def test_split_strata_multi_column_labels_are_tuples():
    frame = pd.DataFrame({"A": [1, 0, 1] * 2, "B": [0, 1, 1] * 2, "count": [5, 6, 7, 4, 3, 2],
                          "region": ["n"] * 6, "year": [2020] * 3 + [2021] * 3})
    split = CaptureHistories.from_counts(frame, count="count", lists=["A", "B"]).split_strata(["region", "year"])
    assert sorted(split) == [("n", 2020), ("n", 2021)]


@pytest.mark.parametrize("count", [1e20, 2**63])
def test_counts_beyond_the_supported_total_are_refused(count):
    # 1e20 gave negative list totals (float -> int64 overflow)
    with pytest.raises(DataError, match="beyond"):
        CaptureHistories.from_mapping({"10": count, "01": 5, "11": 3})
    with pytest.raises(DataError, match="beyond"):
        CaptureHistories.from_counts(pd.DataFrame({"A": [1, 0, 1], "B": [0, 1, 1], "count": [count, 5, 3]}))


def test_loglinear_counts_where_the_interval_excluded_the_estimate_are_refused():
    # at 1e15 a cell the profile-likelihood interval of `loglinear` lay below its own estimate
    with pytest.raises(DataError, match="beyond"):
        CaptureHistories.from_mapping({"10": 3e15, "01": 2e15, "11": 1e15})
    # 1e11 a cell (total 6e11) is still supported, and its interval holds the estimate
    fit = estimators.loglinear(CaptureHistories.from_mapping({"10": 3e11, "01": 2e11, "11": 1e11}))
    assert fit.interval[0] <= fit.estimate <= fit.interval[1]


def test_heterogeneity_time_effects_refuses_a_string():
    # "no" is truthy: the Mth model was fitted when Mh was asked for
    h = CaptureHistories.from_mapping({"100": 30, "010": 20, "001": 25, "110": 8, "101": 9, "011": 7, "111": 3})
    with pytest.raises(ValueError, match="`time_effects`"):
        estimators.heterogeneity(h, time_effects="no")


def test_daily_tally_count_beyond_the_largest_supported_count_raises():
    with pytest.raises(DataError, match="beyond"):
        _daily(tallies=[Tally("t", 1e20, 0, 9)])


def test_validation_never_mutates_inputs():
    surveys = [dict(deaths=5, person_days=10_000)]
    before = [dict(s) for s in surveys]
    with pytest.raises(ValueError):
        _daily(surveys=surveys, time_varying_capture="no")
    assert surveys == before
    with pytest.raises(ValueError):
        _daily(surveys=surveys, households=[HouseholdSummary(100, 10, (8, 2))])
    assert surveys == before
    assert np.isfinite(prepare_data(days=30, surveys=surveys, population=10_000).survey_alpha).all()
