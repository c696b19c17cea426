"""SMART-style plausibility checks: Whipple, Myers, sex ratio, household size, under-fives, missing data."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from estimators.survey import PlausibilityWarning, load_smart_example, mortality_rate, plausibility
from estimators.survey._plausibility import myers_index, whipple_index


def test_whipple_by_hand():
    assert whipple_index(np.arange(23, 63)) == pytest.approx(100.0)  # uniform: no heaping
    assert whipple_index([30, 35, 40, 45]) == pytest.approx(500.0)
    assert whipple_index([30, 31, 32, 33, 34]) == pytest.approx(100.0)
    assert np.isnan(whipple_index([5, 80]))


def test_myers_is_zero_without_preference_and_90_at_one_digit():
    assert myers_index(np.repeat(np.arange(10, 90), 3)) == pytest.approx(0.0, abs=1e-12)
    assert myers_index(np.arange(10, 90, 10)) == pytest.approx(90.0)


def test_sex_ratio_binomial_test_and_flags():
    roster = pd.DataFrame({"household": np.repeat(np.arange(100), 4), "age": np.tile([3, 25, 31, 47], 100),
                           "sex": ["m"] * 260 + ["f"] * 140})
    report = plausibility(roster)
    row = report.table.loc["sex ratio (males per female)"]
    assert row["value"] == pytest.approx(260 / 140)
    assert row["p_value"] == pytest.approx(stats.binomtest(260, 400).pvalue)
    assert row["flag"] and not report.ok
    assert report.table.loc["mean household size", "value"] == 4
    assert report.table.loc["proportion under five", "value"] == pytest.approx(0.25)
    assert "Sex ratio" in str(report.summary())


def test_missing_ages_and_dates():
    roster = pd.DataFrame({"household": [1, 1, 2, 2], "age": [30, None, 12, None], "sex": ["m", "f", "x", "f"],
                           "birth_date": ["1990-01-01", None, None, None]})
    report = plausibility(roster, dates=["birth_date"])
    assert report.table.loc["missing ages", "value"] == 0.5 and report.table.loc["missing ages", "flag"]
    assert report.table.loc["missing sex", "value"] == 0.25
    assert report.table.loc["missing birth_date", "value"] == 0.75
    with pytest.raises(ValueError, match="not in the data"):
        plausibility(roster, dates=["arrival"])


def test_household_level_data_and_warning_from_mortality_rate():
    smart = load_smart_example()
    report = plausibility(smart)
    assert report.table.loc["mean household size", "value"] == pytest.approx(smart.members_now.mean())
    assert "proportion under five" not in report.table.index  # no under-five column in this survey
    few_children = smart.assign(members_u5_now=0)
    with pytest.warns(PlausibilityWarning, match="Under-fives"):
        result = mortality_rate(few_children, recall_days=90)
    assert result.rate == pytest.approx(mortality_rate(smart, recall_days=90).rate)


def test_household_size_counts_households_by_cluster_and_number():
    # household numbers restart in each cluster: household 1 of cluster 1 is not household 1 of cluster 2
    roster = pd.DataFrame({"cluster": [1, 1, 1, 2, 2, 2], "household": [1, 1, 2, 1, 1, 1],
                           "age": [30, 35, 2, 40, 41, 8], "sex": ["m", "f", "f", "m", "f", "m"]})
    by_number = plausibility(roster, household="household").table.loc["mean household size"]
    by_cluster = plausibility(roster, household=["cluster", "household"]).table.loc["mean household size"]
    assert (by_number["value"], by_number["n"]) == (3.0, 2)
    assert (by_cluster["value"], by_cluster["n"]) == (2.0, 3)
