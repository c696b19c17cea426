"""loglinear_pooled: strata fitted jointly with partially pooled capture parameters.

Hand-checkable pieces: the cell mapping of a stratum's table; complete pooling, whose likelihood is that of the
pooled table, so that the sum of the strata's N has exactly the posterior of loglinear_bayes(prior="normal") on
the pooled table (and, with many records, lies near the maximum-likelihood estimate of the same model); one
stratum, where the model is loglinear_bayes with a slightly different prior. Models are compiled once per module.
"""

import pickle
import warnings

import numpy as np
import pytest

import estimators
from estimators import CaptureHistories, DataError
from estimators._loglinear._pooled import (
    LoglinearPooledModel,
    _quantile_mcse,
    group_levels,
    loglinear_pooled,
    stratum_cells,
)
from estimators._validation import InvalidParameterError
from estimators.histories import pattern_matrix

LISTS = ("A", "B", "C")
FAST = dict(chains=2, draws=400, tune=400)


def stratum_table(n, capture, log_or, seed, lists=LISTS):
    """A table of n people over independent-ish lists: main-effect logits ``capture``, A:B log odds ratio."""
    k = len(lists)
    patterns = pattern_matrix(k).astype(float)
    eta = patterns @ np.asarray(capture, dtype=float) + log_or * patterns[:, 0] * patterns[:, 1]
    p = np.exp(eta) / np.exp(eta).sum()
    counts = np.random.default_rng(seed).multinomial(n, p).astype(float)
    counts[0] = 0
    return CaptureHistories.from_array(counts, lists=list(lists))


@pytest.fixture(scope="module")
def strata():
    return {f"s{i}": stratum_table(400 + 100 * i, [-0.4, -0.6, -0.8], 0.5, seed=i) for i in range(4)}


@pytest.fixture(scope="module")
def partial_model():
    return LoglinearPooledModel(LISTS, 4, interactions="shared")


@pytest.fixture(scope="module")
def partial_fit(strata, partial_model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return loglinear_pooled(strata, interactions="shared", random_seed=5, model=partial_model, **FAST)


# ------------------------------------------------------------------------------------------ pure pieces
def test_stratum_cells_maps_a_stratum_without_a_list_into_the_full_cells():
    # stratum over lists A and C only: patterns 10 (A), 01 (C), 11 (A and C) -> full cells 100, 001, 101
    h = CaptureHistories.from_array([0, 7, 5, 3], lists=["A", "C"])
    counts, observable = stratum_cells(h, LISTS)
    labels = ["".join(map(str, p)) for p in pattern_matrix(3)[1:]]
    assert dict(zip(labels, counts)) == {"001": 7, "010": 0, "011": 0, "100": 5, "101": 3, "110": 0, "111": 0}
    # every pattern that includes B is impossible there, not merely empty
    assert dict(zip(labels, observable)) == {"001": 1, "010": 0, "011": 0, "100": 1, "101": 1, "110": 0,
                                             "111": 0}


def test_stratum_cells_with_all_lists_keeps_the_dense_counts():
    h = stratum_table(300, [-0.5, -0.5, -0.5], 0.0, seed=1)
    counts, observable = stratum_cells(h, LISTS)
    np.testing.assert_array_equal(counts, h.dense_counts()[1:])
    assert observable.all()


def test_group_levels_from_tuple_positions_and_from_a_dict():
    labels = [("north", 1), ("north", 2), ("south", 1), ("south", 2)]
    levels = group_levels([0, 1], labels)
    assert levels == {"level0": ([0, 0, 1, 1], ["north", "south"]), "level1": ([0, 1, 0, 1], [1, 2])}
    named = group_levels({"region": {"a": "x", "b": "y", "c": "x"}}, ["a", "b", "c"])
    assert named == {"region": ([0, 1, 0], ["x", "y"])}


def test_group_levels_refuses_incomplete_or_misplaced_groups():
    with pytest.raises(DataError, match="no level for strata"):
        group_levels({"region": {"a": "x"}}, ["a", "b"])
    with pytest.raises(ValueError, match="tuples"):
        group_levels([0], ["a", "b"])
    with pytest.raises(ValueError, match="position 2"):
        group_levels([2], [("a", 1), ("b", 2)])


# ------------------------------------------------------------------------------------------ input errors
@pytest.mark.parametrize("option, value", [("pooling", "some"), ("interactions", "three-way"), ("tau_scale", 0),
                                           ("draws", 0), ("level", 1.5), ("target_accept", 1.0)])
def test_bad_options_are_refused_before_fitting(strata, option, value):
    with pytest.raises(InvalidParameterError, match=option):
        loglinear_pooled(strata, **{option: value})


def test_not_a_table_is_refused(strata):
    with pytest.raises(DataError, match="CaptureHistories"):
        loglinear_pooled({"a": strata["s0"], "b": [1, 2, 3]})


def test_a_single_table_needs_by(strata):
    with pytest.raises(ValueError, match="`by` is required"):
        loglinear_pooled(strata["s0"])


def test_a_model_of_another_shape_or_settings_is_refused(strata, partial_model):
    with pytest.raises(DataError, match="built for 4 strata"):
        loglinear_pooled({k: strata[k] for k in ("s0", "s1")}, interactions="shared", model=partial_model)
    with pytest.raises(ValueError, match="other settings"):
        loglinear_pooled(strata, interactions="pooled", model=partial_model)


# ------------------------------------------------------------------------------------------ the fit
def test_result_shape_table_total_and_diagnostics(partial_fit, strata):
    table = partial_fit.table
    assert table["stratum"].tolist() == list(strata)
    assert table["n_observed"].tolist() == [int(h.n_observed) for h in strata.values()]
    assert (table["lower"] <= table["estimate"]).all() and (table["estimate"] <= table["upper"]).all()
    assert (table["lower"] >= table["n_observed"]).all()
    total = partial_fit.total()
    # the total's draws are the strata's draws summed draw by draw
    summed = np.sum([r.draws for r in partial_fit.results.values()], axis=0)
    np.testing.assert_array_equal(partial_fit.total_draws, summed)
    assert total.n_observed == sum(int(h.n_observed) for h in strata.values())
    assert {"r_hat", "ess_bulk", "ess_tail", "mcse_median"} <= set(partial_fit.diagnostics.columns)
    assert "N (total)" in partial_fit.diagnostics.index and "tau[A]" in partial_fit.diagnostics.index
    assert partial_fit.idata["posterior"]["N"].dims == ("chain", "draw", "stratum")
    text = str(partial_fit.summary())
    assert "divergent transitions" in text and "partially pooled" in text
    assert total.confidence_interval(0.5)[1] < total.interval[1]


def test_same_seed_same_draws_and_the_compiled_model_is_reused(strata, partial_model, partial_fit):
    assert partial_model.compiled
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = loglinear_pooled(strata, interactions="shared", random_seed=5, model=partial_model, **FAST)
    assert again.settings["compile seconds"] == 0.0
    np.testing.assert_array_equal(again.total_draws, partial_fit.total_draws)
    assert again.settings["random_seed"] == 5


def test_result_pickles(partial_fit):
    back = pickle.loads(pickle.dumps(partial_fit))
    np.testing.assert_array_equal(back.total_draws, partial_fit.total_draws)
    assert back.table.equals(partial_fit.table)


def test_a_list_absent_from_a_stratum_is_named_and_its_cells_left_out(strata, partial_model):
    # stratum s0 recorded by lists A and B only (C did not operate there)
    two = dict(strata)
    two["s0"] = CaptureHistories.from_array([0, 60, 50, 30], lists=["A", "B"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = loglinear_pooled(two, interactions="shared", random_seed=5, model=partial_model, **FAST)
    assert any("s0: C" in note for note in fit.warnings)
    assert "not operating" in str(fit.summary())
    # A and B alone: 140 people listed, 30 on both; the Lincoln-Petersen figure is 90 x 80 / 30 = 240
    assert fit.table.loc[0, "lower"] < 240 < fit.table.loc[0, "upper"]


def test_strata_split_from_one_table_by_a_column(strata, partial_model):
    frames = []
    for label, h in strata.items():
        frame = h.to_frame()
        frame["region"] = label
        frames.append(frame)
    import pandas as pd

    joined = CaptureHistories.from_counts(pd.concat(frames, ignore_index=True), lists=list(LISTS))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = loglinear_pooled(joined, "region", interactions="shared", random_seed=5, model=partial_model, **FAST)
    assert fit.table["stratum"].tolist() == list(strata)
    assert fit.table["n_observed"].tolist() == [int(h.n_observed) for h in strata.values()]


def test_groups_add_crossed_effects_with_their_own_scales(strata):
    groups = {"half": {"s0": "first", "s1": "first", "s2": "second", "s3": "second"}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = loglinear_pooled(strata, interactions="none", groups=groups, random_seed=1, **FAST)
    assert "sigma_half[A]" in fit.diagnostics.index
    assert fit.idata["posterior"]["sigma_half"].dims[-1] == "list"
    assert fit.settings["group levels"] == {"half": ["first", "second"]}
    assert "half effects" in fit.model
    with pytest.raises(ValueError, match="pooling='complete'"):
        loglinear_pooled(strata, pooling="complete", groups=groups)


def test_complete_pooling_is_the_pooled_table_under_loglinear_bayes(strata):
    """Shared capture parameters: the strata's multinomials multiply to the pooled table's, and the sum of the
    N_s - n_s (negative binomials with n_s successes, one probability) is negative binomial with n successes:
    the total has exactly the posterior of loglinear_bayes(prior="normal") on the pooled table."""
    labels = list(strata)
    pooled_counts = np.sum([strata[s].dense_counts() for s in labels], axis=0)
    pooled = CaptureHistories.from_array(pooled_counts, lists=list(LISTS))
    settings = dict(chains=4, draws=1000, tune=600)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = loglinear_pooled(strata, pooling="complete", interactions="shared", random_seed=2, **settings)
        bayes = estimators.loglinear_bayes(pooled, prior="normal", slab_scale=2.5, main_scale=5.0, random_seed=9,
                                           **settings)
    total = fit.total()
    # MCSE of each median from its diagnostics; the two runs are independent
    mcse = np.hypot(fit.diagnostics.loc["N (total)", "mcse_median"],
                    _quantile_mcse(bayes.idata["posterior"]["N"].values))
    assert abs(total.estimate - bayes.estimate) < 4 * mcse + 1
    for q in (0.1, 0.9):
        assert abs(np.quantile(total.draws, q) - np.quantile(bayes.draws, q)) < 0.02 * bayes.estimate
    # and, independently of our Bayesian code, the maximum-likelihood estimate of the same model on the pooled
    # table (a Poisson GLM): with 2,200 records the posterior median lies within a few per cent of it
    mle = estimators.loglinear(pooled, model="[12,13,23]")
    assert abs(total.estimate / mle.estimate - 1) < 0.03


@pytest.mark.slow
def test_one_stratum_agrees_with_loglinear_bayes(strata):
    """With one stratum the pooled model is loglinear_bayes with alpha ~ N(mu, tau) instead of N(0, 5): with 700
    records the data dominate both priors, so the posteriors of N agree within Monte Carlo error and a small
    prior effect."""
    one = {"only": strata["s3"]}
    settings = dict(chains=4, draws=1000, tune=600)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = loglinear_pooled(one, interactions="none", random_seed=3, **settings)
        bayes = estimators.loglinear_bayes(strata["s3"], prior="normal", forbidden=["A:B", "A:C", "B:C"],
                                           random_seed=4, **settings)
    ours = fit.results["only"]
    assert abs(ours.estimate / bayes.estimate - 1) < 0.02
    assert abs(ours.interval[0] / bayes.interval[0] - 1) < 0.03
    assert abs(ours.interval[1] / bayes.interval[1] - 1) < 0.03
    np.testing.assert_allclose(fit.total().draws, ours.draws)


@pytest.mark.slow
def test_partial_pooling_covers_small_weekly_strata_better_than_their_spread():
    """Twelve weekly strata of 60 deaths with the same capture: the pooled intervals hold most weeks' truth and
    the sum's interval holds the total."""
    rng = np.random.default_rng(7)
    truth = rng.poisson(60, 12)
    strata = {w: stratum_table(int(n), [-0.6, -0.9, -1.2], 0.5, seed=100 + w) for w, n in enumerate(truth)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = loglinear_pooled(strata, random_seed=1)
    inside = (fit.table["lower"] <= truth) & (truth <= fit.table["upper"])
    assert inside.mean() >= 0.75
    lower, upper = fit.total().interval
    assert lower <= truth.sum() <= upper
