"""Excess mortality: difference of independent estimates, log-normal ratio, excess deaths, thresholds."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from estimators.results import lognormal_from_range
from estimators.survey import excess_mortality, load_smart_example, mortality_rate

DATA = Path(__file__).parents[1] / "data"
Z = stats.norm.ppf(0.975)


@pytest.fixture(scope="module")
def survey():
    return mortality_rate(load_smart_example(), recall_days=90, cause="violent_deaths")


@pytest.fixture(scope="module")
def strata():
    frame = pd.read_csv(DATA / "smart_survey_strata_example.csv")
    return mortality_rate(frame, recall_days=90, stratum="region", weight="weight", under5=True)


def test_variances_of_independent_estimates_add(survey):
    result = excess_mortality(survey, (0.5, (0.4, 0.6)))
    baseline_se = 0.2 / (2 * Z)
    se = np.hypot(survey.std_error, baseline_se)
    assert result.estimate == pytest.approx(survey.rate - 0.5)
    assert result.interval == pytest.approx((survey.rate - 0.5 - Z * se, survey.rate - 0.5 + Z * se))
    row = result.table.loc["deaths"]
    log_se = np.hypot(survey.std_error / survey.rate, baseline_se / 0.5)
    assert row["ratio_lower"] == pytest.approx(survey.rate / 0.5 * np.exp(-Z * log_se))
    assert list(result.table.index) == ["deaths", "violent_deaths"]


def test_baseline_forms_agree(survey):
    se = 0.05
    forms = [(0.5, se), {"rate": 0.5, "std_error": se}, (0.5, (0.5 - Z * se, 0.5 + Z * se))]
    estimates = [excess_mortality(survey, form).interval for form in forms]
    for interval in estimates[1:]:
        assert interval == pytest.approx(estimates[0])
    exact = excess_mortality(survey, 0.5)
    assert exact.table.loc["deaths", "excess_se"] == pytest.approx(survey.std_error)


@pytest.mark.filterwarnings("ignore::estimators.exceptions.SmallSampleWarning")
def test_pre_conflict_survey_as_baseline(survey):
    before = mortality_rate(load_smart_example().assign(deaths=lambda d: d.deaths // 2,
                                                        violent_deaths=0), recall_days=90, cause="violent_deaths")
    result = excess_mortality(survey, before)
    row = result.table.loc["deaths"]
    assert row["baseline"] == pytest.approx(before.rate)
    assert row["excess_se"] == pytest.approx(np.hypot(survey.std_error, before.std_error))


def test_excess_deaths_with_a_number_a_range_and_draws(survey):
    fixed = excess_mortality(survey, 0.5, population=100_000, days=30)
    assert fixed.excess_deaths == pytest.approx((survey.rate - 0.5) / 1e4 * 100_000 * 30)
    assert fixed.excess_deaths_interval[0] == pytest.approx(fixed.interval[0] / 1e4 * 100_000 * 30)
    ranged = excess_mortality(survey, 0.5, population=(50_000, 200_000), days=30, random_seed=1)
    median, _ = lognormal_from_range(50_000, 200_000)
    assert ranged.excess_deaths == pytest.approx((survey.rate - 0.5) / 1e4 * median * 30)
    assert ranged.excess_deaths_interval[1] > fixed.excess_deaths_interval[1] * median / 100_000
    again = excess_mortality(survey, 0.5, population=(50_000, 200_000), days=30,
                             random_seed=ranged.settings["random_seed"])
    assert again.excess_deaths_interval == ranged.excess_deaths_interval
    draws = np.random.default_rng(0).normal(100_000, 5_000, 4_000)
    drawn = excess_mortality(survey, 0.5, population=draws, days=30, random_seed=2)
    assert drawn.excess_deaths == pytest.approx((survey.rate - 0.5) / 1e4 * np.median(draws) * 30)
    # days default to the recall period
    assert excess_mortality(survey, 0.5, population=1000).days == 90


def test_per_group_baselines_and_under_five_thresholds(strata):
    result = excess_mortality(strata, {"deaths": 0.5, "deaths_u5": (1.0, 0.1)})
    table = result.table
    assert table.loc["deaths", ["alert", "emergency"]].tolist() == [1.0, 2.0]
    assert table.loc["deaths_u5", ["alert", "emergency"]].tolist() == [2.0, 4.0]
    assert table.loc["deaths_u5", "double_baseline"] == 2.0
    assert table.loc["deaths", "status"].startswith("alert")
    assert "double the baseline" in table.loc["deaths_u5", "status"]
    text = str(result.summary())
    assert "Sphere" in text and "alert" in text


def test_missing_group_baseline_is_said_and_bad_baselines_refused(strata):
    result = excess_mortality(strata, {"deaths": 0.5})
    assert list(result.table.index) == ["deaths"] and "deaths_u5" in result.warnings[0]
    with pytest.raises(ValueError, match="`baseline`"):
        excess_mortality(strata, "half")
    with pytest.raises(ValueError, match="contain the rate"):
        excess_mortality(strata, (0.5, (0.6, 0.7)))
    with pytest.raises(ValueError, match="`days`"):
        excess_mortality(1.5, 0.5, population=1000)


def test_plain_numbers_and_wald_ratio():
    result = excess_mortality((1.5, 0.2), (0.5, 0.1), ratio_interval="wald")
    row = result.table.loc["deaths"]
    ratio_se = 3 * np.hypot(0.2 / 1.5, 0.1 / 0.5)
    assert row["ratio_upper"] == pytest.approx(3 + Z * ratio_se)
    assert result.estimate == pytest.approx(1.0)


def test_group_excess_deaths_use_the_group_share_of_person_time(strata):
    result = excess_mortality(strata, {"deaths": 0.5, "deaths_u5": 1.0}, population=100_000)
    share = strata.table.loc["deaths_u5", "person_days"] / strata.table.loc["deaths", "person_days"]
    row = result.table.loc["deaths_u5"]
    assert row["excess_deaths"] == pytest.approx(row["excess_rate"] / 1e4 * 100_000 * share * 90)
    assert any("share" in note for note in result.assumptions)
