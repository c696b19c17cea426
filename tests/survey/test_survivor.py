"""survivor_bias: the survey's rate had whole households died out."""

import numpy as np
import pytest

from estimators.survey import load_smart_example, mortality_rate, survivor_bias
from estimators.survey._survivor import adjusted_rate


@pytest.fixture(scope="module")
def fit():
    return mortality_rate(load_smart_example(), recall_days=90)


def test_adjusted_rate_by_hand():
    # 2 extinct households of 5: 10 deaths added, each after 45 of 90 days: 450 person-days added
    assert adjusted_rate(10, 1000, 2, 5, 90) == pytest.approx(20 / 1450)
    assert adjusted_rate(10, 1000, 0, 5, 90) == pytest.approx(0.01)


def test_no_extinct_households_leave_the_rate_and_interval(fit):
    row = survivor_bias(fit, 0.0).iloc[0]
    assert row["rate"] == pytest.approx(fit.rate)
    assert (row["lower"], row["upper"]) == pytest.approx(fit.interval)
    assert row["added_deaths"] == 0 and row["change"] == pytest.approx(0.0)


def test_a_share_of_extinct_households_adds_their_members_deaths(fit):
    table = survivor_bias(fit, [0.01], household_size=5)
    extinct = fit.n_households * 0.01 / 0.99
    deaths = fit.rate / 1e4 * fit.person_days + extinct * 5
    expected = 1e4 * deaths / (fit.person_days + extinct * 5 * fit.recall_days / 2)
    assert table["added_deaths"].iloc[0] == pytest.approx(extinct * 5)
    assert table["rate"].iloc[0] == pytest.approx(expected)
    assert np.all(np.diff(survivor_bias(fit)["rate"]) > 0)  # more households lost, higher rate


@pytest.mark.parametrize("share", [1.0, -0.1, [0.01, 1.5], "0.01"])
def test_shares_outside_zero_one_are_refused(fit, share):
    with pytest.raises((ValueError, TypeError), match="extinct_share"):
        survivor_bias(fit, share)


def test_only_a_survey_rate_is_accepted():
    with pytest.raises((ValueError, TypeError), match="result"):
        survivor_bias({"rate": 1.0}, 0.01)
