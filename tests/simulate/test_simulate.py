"""Scenario generators: seeded, and each scenario has the structure it claims."""

import numpy as np
import pytest

from estimators import simulate
from estimators.histories import pattern_matrix


def _pair_odds_ratio(histories, i, j):
    """Odds ratio of lists i and j among people on neither of the other lists being ignored: uses the 2x2 margin
    over the observed people who are on at least one of the other lists, where no cell is truncated."""
    patterns = histories.patterns
    counts = histories.counts
    others = [c for c in range(histories.k) if c not in (i, j)]
    seen_elsewhere = patterns[:, others].sum(axis=1) > 0
    table = np.zeros((2, 2))
    for pattern, count in zip(patterns[seen_elsewhere], counts[seen_elsewhere]):
        table[pattern[i], pattern[j]] += count
    return table[1, 1] * table[0, 0] / (table[1, 0] * table[0, 1])


def test_same_seed_same_table_and_different_seed_differs():
    first = simulate.independent_lists(800, (0.3, 0.4, 0.2), random_seed=11)
    again = simulate.independent_lists(800, (0.3, 0.4, 0.2), random_seed=11)
    other = simulate.independent_lists(800, (0.3, 0.4, 0.2), random_seed=12)
    assert first.histories == again.histories
    assert first.histories != other.histories
    histories, truth = first
    assert truth == 800 and histories.n_observed < 800


@pytest.mark.parametrize("scenario", simulate.scenarios("all"), ids=lambda s: s.name)
def test_every_scenario_is_seeded_and_keeps_its_truth(scenario):
    a = scenario.simulate(random_seed=scenario.seed(3))
    b = scenario.simulate(random_seed=scenario.seed(3))
    assert a.histories == b.histories
    assert a.truth == b.truth >= a.histories.n_observed
    assert a.scenario == scenario.name
    assert scenario.seed(3) != scenario.seed(4)


def test_cell_probabilities_sum_to_one_and_margins_hold():
    capture = (0.3, 0.25, 0.2, 0.15)
    cells = simulate.loglinear_cells(capture, {(0, 1): 1.2, (2, 3): -np.inf})
    margins = pattern_matrix(4).T @ cells
    assert cells.sum() == pytest.approx(1)
    np.testing.assert_allclose(margins, capture, atol=1e-10)
    # the requested conditional odds ratio of lists A and B (given C = D = 0) survives the margin fitting
    p = cells.reshape(2, 2, 2, 2)[:, :, 0, 0]
    assert np.log(p[1, 1] * p[0, 0] / (p[1, 0] * p[0, 1])) == pytest.approx(1.2)


def test_two_class_design_is_heterogeneous():
    sim = simulate.two_class_heterogeneity(random_seed=1)
    assert sim.truth == 2000 and sim.histories.k == 5
    # heterogeneity makes every pair of lists positively dependent among the observed
    ratios = [_pair_odds_ratio(sim.histories, i, j) for i in range(5) for j in range(i + 1, 5)]
    assert min(ratios) > 2
    # and more people are on no list than independent lists with the same margins would leave out
    cells = sim.probabilities
    margins = pattern_matrix(5).T @ cells
    independent = simulate.independent_cells(margins)
    assert cells[0] > independent[0] * 1.25


def test_independent_lists_show_no_dependence():
    sim = simulate.independent_lists(200_000, (0.3, 0.4, 0.35), random_seed=2)
    assert _pair_odds_ratio(sim.histories, 0, 1) == pytest.approx(1, abs=0.1)


def test_sparse_lists_have_pairs_that_never_overlap():
    sim = simulate.sparse_lists(random_seed=3)
    overlaps = sim.histories.overlaps
    assert overlaps.iloc[0, 3] == 0 and overlaps.iloc[1, 3] == 0
    assert overlaps.iloc[0, 1] > 0 and overlaps.iloc[2, 3] > 0


def test_referral_makes_the_target_list_almost_certain():
    sim = simulate.referral_lists(5000, (0.2, 0.2, 0.3, 0.3), referral=0.95, random_seed=4)
    patterns, counts = sim.histories.patterns, sim.histories.counts
    on_a = patterns[:, 0] == 1
    share_b_given_a = counts[on_a & (patterns[:, 1] == 1)].sum() / counts[on_a].sum()
    assert share_b_given_a == pytest.approx(0.95, abs=0.02)
    assert _pair_odds_ratio(sim.histories, 0, 1) > 20
    assert _pair_odds_ratio(sim.histories, 2, 3) == pytest.approx(1, abs=0.35)


def test_negative_dependence_has_odds_ratio_below_one():
    sim = simulate.dependent_lists(20_000, (0.25,) * 4, {("A", "B"): -1.5}, random_seed=5)
    assert _pair_odds_ratio(sim.histories, 0, 1) < 0.4


def test_low_capture_scenario_has_every_list_below_015():
    scenario = {s.name: s for s in simulate.scenarios("all")}["low_capture"]
    assert max(scenario.kwargs["capture"]) < 0.15


def test_resampled_table_uses_the_fitted_model_as_truth():
    model = simulate.fitted_real_model("LCMCR_kosovo")
    sim = simulate.resampled_table("LCMCR_kosovo", random_seed=6)
    assert sim.truth == model.truth > 4400
    assert sim.histories.lists == model.lists
    assert sim.probabilities.sum() == pytest.approx(1)
    # the resampled table is close to the real one in size: the fitted model reproduces n on average
    assert abs(sim.histories.n_observed - 4400) < 5 * np.sqrt(4400)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: simulate.independent_lists(100, (0.3, 1.2)), "capture"),
        (lambda: simulate.independent_lists(0, (0.3, 0.2)), "n"),
        (lambda: simulate.latent_class_lists(100, (0.5, 0.4), [[0.1, 0.2], [0.3, 0.4]]), "sum to 1"),
        (lambda: simulate.dependent_lists(100, (0.3, 0.3), {("A", "Z"): 1.0}), "Unknown list"),
        (lambda: simulate.referral_lists(100, (0.3, 0.3), source=1, target=1), "differ"),
        (lambda: simulate.from_cell_probabilities([0.5, 0.6, 0.1], 10), "2\\*\\*k"),
        (lambda: simulate.scenarios("huge"), "suite"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_suites_list_known_scenarios():
    names = {s.name for s in simulate.scenarios("all")}
    for suite in simulate.SUITES:
        assert {s.name for s in simulate.scenarios(suite)} <= names
    assert len(simulate.scenarios("standard")) >= 8


def test_conflict_scenario_is_seeded():
    a = simulate.simulate_conflict(30, random_seed=7)
    b = simulate.simulate_conflict(30, random_seed=7)
    assert a.lists.equals(b.lists)
    assert a.lists["day"].nunique() <= 30
