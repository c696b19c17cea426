"""A roster survey's mortality_rate result into the daily model: SurveyObservation.from_survey."""

import warnings

import numpy as np
import pandas as pd
import pytest

from estimators import DataError, SurveyObservation
from estimators._daily import prepare_data
from estimators.survey import mortality_rate

STUDY_START = pd.Timestamp("2024-01-01")
RECALL_START, RECALL_END = pd.Timestamp("2024-02-01"), pd.Timestamp("2024-04-30")  # 90 days
POP = (90_000, 110_000)
pytestmark = [pytest.mark.filterwarnings("ignore::estimators.exceptions.SmallSampleWarning"),
              pytest.mark.filterwarnings("ignore::estimators.survey.PlausibilityWarning")]


def _roster(seed=5, arrivals=0.0, clustered=True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for cluster in range(1, 16):
        risk = rng.choice([0.01, 0.03, 0.1]) if clustered else 0.04
        for household in range(1, 7):
            for _ in range(int(rng.integers(3, 8))):
                age = int(rng.integers(0, 70))
                death = RECALL_START + pd.Timedelta(days=int(rng.integers(0, 90))) if rng.random() < risk else None
                arrival = (RECALL_START + pd.Timedelta(days=int(rng.integers(60, 90)))
                           if rng.random() < arrivals else None)
                rows.append(dict(cluster=cluster, household=household, age=age, sex=rng.choice(["f", "m"]),
                                 birth_date=RECALL_END - pd.Timedelta(days=int(age * 365.25) + 100),
                                 arrival=arrival, death_date=death,
                                 cause=rng.choice(["violence", "illness"]) if death is not None else None))
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def roster():
    return _roster()


@pytest.fixture(scope="module")
def survey(roster):
    return mortality_rate(roster, roster=True, recall_start=RECALL_START, recall_end=RECALL_END, cause="cause",
                          by="sex")


def test_from_survey_gives_the_fields_typed_by_hand(roster, survey):
    observation = SurveyObservation.from_survey(survey, STUDY_START, name="roster survey")
    dates = pd.to_datetime(roster.death_date).dropna()
    by_hand = SurveyObservation(
        deaths=len(dates),
        person_days=survey.person_days,
        design_effect=survey.design_effect,
        start_day=31,  # 2024-02-01 is study day 31 from 2024-01-01
        end_day=120,
        name="roster survey",
        death_days=sorted((dates - STUDY_START).dt.days.tolist()),
    )
    assert observation == by_hand
    # and the daily model reads the same arrays from both
    typed = prepare_data(days=150, start=STUDY_START, surveys=[by_hand], population=POP)
    routed = prepare_data(days=150, start=STUDY_START, surveys=[observation], population=POP)
    assert np.array_equal(typed.survey_day_counts, routed.survey_day_counts)
    assert typed.shape_key == routed.shape_key
    assert routed.survey_day_counts.sum() == len(dates)


def test_a_cause_row_takes_its_own_deaths_and_dates(roster, survey):
    violent = SurveyObservation.from_survey(survey, STUDY_START, row="deaths [cause=violence]")
    dates = pd.to_datetime(roster.death_date[roster.cause == "violence"])
    assert violent.deaths == len(dates) > 0
    assert violent.death_days == sorted((dates - STUDY_START).dt.days.tolist())
    assert violent.person_days == survey.person_days
    assert violent.design_effect == survey.table.loc["deaths [cause=violence]", "design_effect"]


def test_bad_input_is_refused_with_a_clear_message(survey):
    with pytest.raises(DataError, match="starts before the study start"):
        SurveyObservation.from_survey(survey, "2024-03-01")
    with pytest.raises(DataError, match="ends after the study end"):
        SurveyObservation.from_survey(survey, STUDY_START, end="2024-04-15")
    with pytest.raises(ValueError, match="group's rate"):
        SurveyObservation.from_survey(survey, STUDY_START, row="deaths [sex=f]")
    with pytest.raises(ValueError, match="must be one of"):
        SurveyObservation.from_survey(survey, STUDY_START, row="violent")
    with pytest.raises(DataError, match="start"):
        SurveyObservation.from_survey(survey, None)
    with pytest.raises(DataError, match="mortality_rate result"):
        SurveyObservation.from_survey({"deaths": 3}, STUDY_START)


def test_a_household_level_result_needs_dates_and_has_no_death_dates():
    from estimators.survey import load_smart_example

    households = load_smart_example()
    with pytest.raises(DataError, match="no dates"):
        SurveyObservation.from_survey(mortality_rate(households, recall_days=90), STUDY_START)
    dated = mortality_rate(households, recall_start=RECALL_START, recall_end=RECALL_END)
    observation = SurveyObservation.from_survey(dated, STUDY_START)
    assert observation.death_days is None and observation.deaths == dated.deaths
    assert (observation.start_day, observation.end_day) == (31, 120)


def test_a_design_effect_below_one_is_taken_as_one_with_a_warning():
    unclustered = mortality_rate(_roster(clustered=False), roster=True, recall_start=RECALL_START,
                                 recall_end=RECALL_END)
    assert unclustered.design_effect < 1
    with pytest.warns(UserWarning, match="below 1"):
        observation = SurveyObservation.from_survey(unclustered, STUDY_START)
    assert observation.design_effect == 1.0


def test_person_time_varying_over_the_window_is_warned_about(survey):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # steady person-time: no warning
        SurveyObservation.from_survey(survey, STUDY_START)
    daily = survey.daily_person_days
    assert len(daily) == 90 and daily.sum() == pytest.approx(survey.person_days)
    growing = mortality_rate(_roster(arrivals=0.4), roster=True, recall_start=RECALL_START, recall_end=RECALL_END)
    spread = (growing.daily_person_days.max() - growing.daily_person_days.min()) / growing.daily_person_days.mean()
    assert spread > 0.2
    with pytest.warns(UserWarning, match="takes the survey's person-time as constant"):
        SurveyObservation.from_survey(growing, STUDY_START)
