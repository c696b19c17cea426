"""Survey deaths with dates as events in time in daily_rates, and the survey's bias median (survivor bias)."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from estimators import SurveyObservation, daily_rates
from estimators._daily import prepare_data
from estimators._daily._inputs import survey_events
from estimators.exceptions import DataError
from estimators.simulate import simulate_conflict

POP = (450_000, 550_000)


def test_survey_events_windows_counts_and_uninformative_dates():
    # study from 2017-01-31, 30 days; recall window days 0..20
    first, last, counts = survey_events([3, 3, None, pd.Period("2017-02", "M"), 0], 5, (0, 20), "s",
                                        "2017-01-31", 30)
    # day 0 once, day 3 twice, February = days 1..28 cut to the window 1..20; the missing date adds nothing
    assert list(zip(first.tolist(), last.tolist(), counts.tolist())) == [(0, 0, 1.0), (1, 20, 1.0), (3, 3, 2.0)]


def test_survey_events_refuse_a_wrong_count_or_a_date_outside_the_recall_window():
    with pytest.raises(DataError, match="3 deaths but 2 death_days"):
        survey_events([1, 2], 3, (0, 20), "s", None, 30)
    with pytest.raises(DataError, match="outside its recall window"):
        survey_events([1, 25], 2, (0, 20), "s", None, 30)
    with pytest.raises(DataError, match="sequence"):
        survey_events("2017-02-01", 1, (0, 20), "s", None, 30)


def test_dated_deaths_enter_the_data_and_change_the_shape_key():
    survey = SurveyObservation(deaths=4, person_days=1e5, start_day=10, end_day=39, death_days=[12, 12, 30, None])
    data = prepare_data(days=40, surveys=[survey], population=POP)
    assert np.flatnonzero(data.survey_day_counts[0]).tolist() == [12, 30]
    assert data.survey_day_counts[0, [12, 30]].tolist() == [2.0, 1.0] and len(data.survey_event_counts) == 0
    # deaths dated to the day keep the shape: new dates, or none, refit the same compiled model
    for other in (None, [11, 13, 13, 39]):
        again = prepare_data(days=40, surveys=[replace(survey, death_days=other)], population=POP)
        assert again.shape_key == data.shape_key
    monthly = prepare_data(days=40, start="2017-01-01", population=POP, surveys=[
        replace(survey, death_days=[pd.Period("2017-01", "M"), 12, None, None])])
    assert monthly.survey_event_first.tolist() == [10] and monthly.survey_event_last.tolist() == [30]
    assert monthly.shape_key != data.shape_key


def test_simulated_survey_dates_follow_the_recall_window_and_keep_other_sources():
    sim = simulate_conflict(60, survey_dates=True, survey_window=(20, 59), random_seed=4)
    plain = simulate_conflict(60, survey_window=(20, 59), random_seed=4)
    days = np.asarray(sim.survey.death_days)
    assert len(days) == sim.survey.deaths and days.min() >= 20 and days.max() <= 59
    pd.testing.assert_frame_equal(sim.lists, plain.lists)  # drawn last: the other sources are unchanged
    with pytest.raises(ValueError, match="survey_dates"):
        simulate_conflict(60, survey_dates="yes", random_seed=4)


@pytest.fixture(scope="module")
def two_phase():
    """A survey-only study whose deaths fall mostly in its first half: its dates, not its total, say so."""
    sim = simulate_conflict(60, mean_rate=80, rw_sd=0.0, survey_clusters=60, survey_dates=True, random_seed=11)
    days = np.asarray(sim.survey.death_days)
    early = np.concatenate([days[days < 30], days[days < 30], days[days < 30]])[: len(days)]
    survey = replace(sim.survey, death_days=sorted(early.tolist()))
    common = dict(days=60, population=POP, draws=250, tune=300, chains=2, random_seed=2)
    return daily_rates(surveys=[survey], **common), daily_rates(surveys=[replace(survey, death_days=None)], **common)


def test_dated_survey_deaths_shape_the_daily_curve(two_phase):
    dated, undated = two_phase

    def early_share(fit):
        rate = fit.idata.posterior["rate"]
        return float((rate.isel(day=slice(0, 30)).sum("day") / rate.sum("day")).median())

    # every dated death is in days 0..29: the dated fit puts most of the deaths there, the undated one cannot
    assert early_share(dated) > 0.6
    assert abs(early_share(undated) - 0.5) < 0.1


def test_bias_median_below_one_raises_the_survey_based_total():
    survey = SurveyObservation(deaths=40, person_days=2_000_000, design_effect=1.5)
    common = dict(days=30, surveys=[survey], population=500_000, rate_model="constant", draws=300, tune=300,
                  chains=2, random_seed=3)
    fair = daily_rates(**common)
    low = daily_rates(**common, bias_median=0.8, model=fair.model)  # prior settings: no recompilation
    ratio = low.total.estimate / fair.total.estimate
    assert 1.15 < ratio < 1.35  # the survey's deaths are read as 80% of the truth: about 1/0.8 more deaths


def test_more_surveys_are_drawn_last_with_their_own_windows():
    plain = simulate_conflict(80, random_seed=6)
    sim = simulate_conflict(80, random_seed=6, survey_dates=True, more_surveys=[(0, 39, 10)])
    (second,) = sim.more_surveys
    assert (second.start_day, second.end_day, second.name) == (0, 39, "survey 2")
    assert len(second.death_days) == second.deaths and max(second.death_days) <= 39
    assert replace(sim.survey, death_days=None) == plain.survey
    with pytest.raises(ValueError, match="more_surveys"):
        simulate_conflict(80, more_surveys=[(0, 90, 10)])


def test_surveys_with_the_same_name_get_distinct_labels():
    data = prepare_data(days=30, population=POP, surveys=[SurveyObservation(5, 1e5), SurveyObservation(4, 1e5)])
    assert data.survey_names == ("survey", "survey (2)")
