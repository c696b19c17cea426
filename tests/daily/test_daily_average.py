"""Pure pieces of "auto"'s average of two classes and the normal effect: WAIC per pattern, pseudo-BMA+ weights,
the mixture's draw indices (hand-computed cases)."""

import math

import numpy as np

from estimators._daily._average import mixed_indices, pattern_elpd, pseudo_bma_weights


def test_pattern_elpd_by_hand():
    # one pattern, y = 2, two draws mu = 1 and 3
    log_p = [2 * math.log(mu) - mu - math.log(2) for mu in (1.0, 3.0)]
    lppd = math.log((math.exp(log_p[0]) + math.exp(log_p[1])) / 2)
    penalty = np.var(log_p, ddof=1)
    assert np.isclose(pattern_elpd(np.array([[1.0], [3.0]]), np.array([2])), lppd - penalty)
    # a fit whose draws sit on the observed totals beats one beside them
    near = pattern_elpd(np.full((50, 3), 100.0), np.array([100, 100, 100])).sum()
    off = pattern_elpd(np.full((50, 3), 120.0), np.array([100, 100, 100])).sum()
    assert near > off


def test_pseudo_bma_weights_sum_to_one_and_follow_the_elpd():
    rng = np.random.default_rng(3)
    elpd = rng.normal(-5.0, 1.0, (2, 31))
    w = pseudo_bma_weights(elpd, np.random.default_rng(1))
    swapped = pseudo_bma_weights(elpd[::-1], np.random.default_rng(1))
    assert np.isclose(w.sum(), 1) and np.allclose(w, swapped[::-1])
    # an elpd difference of 2 spread evenly over 31 points: every resample sees it, Akaike's exp(2) odds
    better = np.vstack([np.zeros(31), np.full(31, -2 / 31)])
    w = pseudo_bma_weights(better, np.random.default_rng(1))
    assert np.isclose(w[0], math.exp(2) / (1 + math.exp(2)))
    # one point carrying all the difference is less sure than the same difference spread evenly
    lumped = np.vstack([np.zeros(31), np.r_[-2.0, np.zeros(30)]])
    assert pseudo_bma_weights(lumped, np.random.default_rng(1))[0] < w[0]


def test_mixed_indices_take_each_model_in_proportion():
    picks = mixed_indices(4000, np.array([0.3, 0.7]))
    assert [len(p) for p in picks] == [1200, 2800]
    assert picks[0][0] == 0 and picks[0][-1] == 3999 and np.all(np.diff(picks[1]) > 0)
    assert [len(p) for p in mixed_indices(10, np.array([1.0, 0.0]))] == [10, 0]
    assert sum(len(p) for p in mixed_indices(7, np.array([1 / 3, 1 / 3, 1 / 3]))) == 7
