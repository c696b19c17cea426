"""The test behind time_varying_capture="auto": hand-computed pieces, then simulated lists with and without a
change in coverage."""

import numpy as np
import pytest
from scipy.stats import chi2_contingency

from estimators import IdentifiabilityWarning, daily_rates
from estimators._daily import prepare_data
from estimators._daily._drift import (
    auto_time_varying,
    blocks,
    capture_drift,
    dispersion,
    drift_test,
    homogeneity_test,
    shares_by_bin,
)
from estimators.histories import pattern_matrix
from estimators.simulate import simulate_conflict


def test_list_cells_columns_are_patterns_one_onwards_first_list_most_significant():
    np.testing.assert_array_equal(pattern_matrix(2)[1:], [[0, 1], [1, 0], [1, 1]])
    assert pattern_matrix(3)[1:][3].tolist() == [1, 0, 0]  # pattern 4 = 100


def test_blocks_equal_counts_and_short_block_merged():
    # 150 records allow 3 blocks of >= 50; the middle one gets 30 and joins the first
    np.testing.assert_array_equal(blocks(np.full(5, 30.0), 8, 50), [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(blocks(np.full(4, 10.0), 8, 50), [0, 0, 0, 0])  # too few for two blocks
    np.testing.assert_array_equal(blocks(np.zeros(3), 8, 50), [0, 0, 0])


def test_homogeneity_test_is_pearsons_chi_square():
    # 20 of 100 against 40 of 100: statistic 200 / 21 on 1 df
    hits, totals = np.array([20.0, 40.0]), np.array([100.0, 100.0])
    expected = chi2_contingency([[20, 80], [40, 60]], correction=False).pvalue
    assert homogeneity_test(hits, totals) == pytest.approx(expected, rel=1e-12)
    assert homogeneity_test(hits, totals) == pytest.approx(0.00202823, rel=1e-5)
    assert homogeneity_test(np.array([5.0]), np.array([10.0])) == 1.0  # one block: nothing to compare
    assert homogeneity_test(np.array([0.0, 0.0]), np.array([10.0, 10.0])) == 1.0


def test_shares_by_bin_marginalise_over_lists_outside_the_reference():
    bits = pattern_matrix(3)[1:]  # patterns 001 010 011 100 101 110 111
    cells = np.array([[1.0, 2, 3, 4, 5, 6, 7]])
    # list A (j=0) against reference list B only: B's patterns 010 011 110 111 -> 2+3+6+7, with A 6+7
    totals, hits = shares_by_bin(cells, bits, 0, np.array([1]))
    assert (totals[0], hits[0]) == (18.0, 13.0)


def _data(random_seed, list_windows=None, **simulate):
    sim = simulate_conflict(120, random_seed=random_seed, interactions={}, capture_logits=(-0.8, -1.2, -1.6),
                            **simulate)
    return prepare_data(days=120, lists=sim.lists, surveys=[sim.survey], population=(450_000, 550_000),
                        list_windows=list_windows)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_constant_coverage_keeps_constant_capture(seed):
    assert capture_drift(_data(seed)) is None
    assert auto_time_varying(_data(seed)) == (False, None)


def test_a_jump_in_one_list_is_found_and_named():
    drift = capture_drift(_data(1, coverage_change={1: (60, 2.0)}))
    assert drift is not None and drift.list_name == "B"
    assert drift.last_share > 1.5 * drift.first_share and drift.p_value < 1e-6
    on, note = auto_time_varying(_data(1, coverage_change={1: (60, 2.0)}))
    assert on and "'B'" in note and "time_varying_capture=False" in note and "a step every 7 days" in note


def test_a_late_list_is_compared_only_over_its_window():
    # C starts on day 40: no records before, which is not a change in coverage once list_windows says so
    data = _data(4, list_start={2: 40}, list_windows={"C": (40, None)})
    assert capture_drift(data) is None


def test_daily_rates_auto_fits_time_varying_capture_and_says_why():
    sim = simulate_conflict(40, random_seed=5, interactions={}, capture_logits=(-0.5, -0.9, -1.2, -0.7),
                            coverage_change={1: (20, 2.5)}, mean_rate=60.0)
    with pytest.warns(IdentifiabilityWarning, match="time_varying_capture='auto'.*'B'"):
        fit = daily_rates(days=40, lists=sim.lists, surveys=[sim.survey], population=(450_000, 550_000),
                          capture_classes=1, heterogeneity_check=False, draws=100, tune=100, chains=2,
                          prior_draws=0, random_seed=1)
    assert fit.model.structure.time_varying_capture
    assert fit.settings["time_varying_capture"] is True  # the choice made, so that a refit repeats it
    assert "1 class, a random walk stepping every 7 days" in str(fit.summary())
    assert fit.idata.posterior["capture_logit_bin"].shape[-2:] == (6, 4)  # 40 days in weekly steps, 4 lists


def test_a_late_list_not_declared_is_found_and_list_windows_suggested():
    drift = capture_drift(_data(4, list_start={2: 40}))
    assert drift is not None and drift.list_name == "C" and drift.first_share == 0
    assert "list_windows" in drift.message()


def test_dispersion_by_hand():
    # one block, share 0.5: (2 - 5)^2 / 2.5 + (8 - 5)^2 / 2.5 = 7.2 on 2 bins - 1 block
    assert dispersion(np.array([2.0, 8.0]), np.array([10.0, 10.0]), np.array([0, 0])) == pytest.approx((7.2, 1))
    # bins without records and blocks whose share is 0 or 1 carry no information on it
    assert dispersion(np.array([0.0, 0.0, 5.0]), np.array([0.0, 4.0, 5.0]), np.array([0, 0, 1])) == (1.0, 0)


def test_drift_test_divides_by_the_dispersion_only_when_it_exceeds_one():
    rng = np.random.default_rng(1)
    totals = np.full(80, 60.0)
    label = np.repeat(np.arange(4), 20)
    share = np.repeat([0.30, 0.30, 0.33, 0.33], 20)
    binomial = rng.binomial(60, share).astype(float)
    plain = homogeneity_test(np.bincount(label, weights=binomial), np.bincount(label, weights=totals))
    assert dispersion(binomial, totals, label) == pytest.approx((0.9504, 76), rel=1e-3)
    assert drift_test(binomial, totals, label) == plain  # binomial variation: Pearson's test as it is
    # the same blocks' shares, each bin's share spread far more than binomially: the test is weaker
    lumpy = np.clip(np.round(totals * (share + rng.normal(0, 0.12, 80))), 0, 60)
    assert dispersion(lumpy, totals, label)[0] > 3
    assert drift_test(lumpy, totals, label) > homogeneity_test(np.bincount(label, weights=lumpy),
                                                               np.bincount(label, weights=totals))


def _lumpy(coverage_change=None):
    """35,000 records over 181 days on 4 lists (D from day 60, a hidden visible quarter); a tenth of the
    (pattern, day) rows undated as wholes, so records leave the dated cells in lumps."""
    sim = simulate_conflict(181, mean_rate=250, capture_logits=(-0.8, -1.2, -1.6, -1.0), visibility=(0.25, 2.5),
                            list_start={3: 60}, tally_coverage=0.4, survey_window=(91, 180),
                            coverage_change=coverage_change, random_seed=11)
    lists = sim.lists.copy()
    lists["day"] = lists["day"].astype(object)
    lists.loc[np.random.default_rng(0).random(len(lists)) < 0.1, "day"] = None
    return prepare_data(days=181, lists=lists, population=(450_000, 550_000), list_windows={"D": (60, None)},
                        bin_days=1)


def test_lumps_of_records_are_not_a_change_in_coverage():
    data = _lumpy()
    bits = pattern_matrix(4)[1:]
    totals, hits = shares_by_bin(data.list_cells, bits, 2, np.array([0, 1]))
    label = blocks(totals)
    # Pearson's chi-square over the blocks alone finds list C's share changing (29% to 36%; p about 1e-9)
    assert homogeneity_test(np.bincount(label, weights=hits), np.bincount(label, weights=totals)) < 1e-6
    assert dispersion(hits, totals, label)[0] > 2
    assert capture_drift(data) is None


def test_a_jump_is_found_through_the_lumps():
    drift = capture_drift(_lumpy(coverage_change={1: (90, 2.0)}))
    assert drift is not None and drift.list_name == "B" and drift.last_share > 1.4 * drift.first_share
