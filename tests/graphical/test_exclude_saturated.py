"""graphical_bma(exclude_saturated=True): the model space without the complete graph (issue 17, item 3)."""

import warnings

import numpy as np
import pytest

from estimators import NonexistentEstimateError, decomposable_graphs, graphical_bma, load_dataset


def test_three_lists_default_refuses_and_option_answers():
    # CARE1_HAV: the saturated graph [L1,L2,L3] takes 0.71 of the posterior, and its tail makes the default refuse
    h = load_dataset("CARE1_HAV")
    with pytest.raises(NonexistentEstimateError, match=r"saturated graph.*exclude_saturated=True"):
        graphical_bma(h, random_seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = graphical_bma(h, random_seed=1, exclude_saturated=True)
    assert fit.details["n_graphs"] == 7 and len(fit.details["model_probabilities"]) == 7
    assert fit.details["exclude_saturated"] is True
    assert "saturated graph excluded" in fit.model
    assert "[L1,L2,L3]" not in dict(fit.details["top_models"])
    assert h.n_observed < fit.interval[0] < fit.estimate < fit.interval[1] < 5 * h.n_observed


def test_model_probabilities_are_the_default_renormalised_without_the_complete_graph():
    # on a fixed support the posterior over the other graphs is the default's, conditioned on not-saturated
    h = load_dataset("dga_MY1997_3list")
    support = np.arange(0, 3000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = graphical_bma(h, unlisted_support=support, random_seed=1)
        reduced = graphical_bma(h, unlisted_support=support, random_seed=1, exclude_saturated=True)
    complete = [g.cliques == (2**h.k - 1,) for g in decomposable_graphs(h.k)]
    kept = full.details["model_probabilities"][~np.array(complete)]
    np.testing.assert_allclose(reduced.details["model_probabilities"], kept / kept.sum(), rtol=1e-9)


def test_default_keeps_dgas_model_space():
    h = load_dataset("dga_MY1997_3list")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = graphical_bma(h, random_seed=1)
    assert fit.details["n_graphs"] == 8 and fit.details["exclude_saturated"] is False


def test_option_is_validated():
    with pytest.raises(ValueError, match="exclude_saturated"):
        graphical_bma(load_dataset("dga_MY1997_3list"), exclude_saturated="yes")
