"""graphical_bma(method="mc3"): MC3 over decomposable graphs, checked against enumeration up to 6 lists (issue 17)."""

import math
import warnings

import numpy as np
import pytest
from scipy.special import gammaln

from estimators import ConvergenceWarning, NonexistentEstimateError, decomposable_graphs, graphical_bma, load_dataset
from estimators._graphical._marginal import (
    _marginals,
    _marginals_from_patterns,
    log_marginal_likelihood,
    logsumexp,
)
from estimators._graphical._mc3 import _Evidence
from estimators.diagnostics import ess_bulk
from estimators.simulate import dependent_lists, independent_lists

# A Monte Carlo estimate may sit this many Monte Carlo standard errors from the exact value.
Z = 4.0


def _fit(h, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return graphical_bma(h, random_seed=11, **kwargs)


def _six_lists():
    capture = (0.3, 0.25, 0.2, 0.3, 0.15, 0.25)
    return dependent_lists(800, capture, {(0, 1): 1.0, (2, 3): 0.8, (3, 4): -0.5}, random_seed=6).histories


@pytest.mark.parametrize("name", ["dga_MY1997_5list", "SparseMSE_UKdat_5"])
def test_marginals_from_patterns_equal_the_dense_table(name):
    h = load_dataset(name)
    dense = _marginals(h.dense_counts(), h.k, 2.0**-h.k)
    sparse = _marginals_from_patterns(h.dense_counts(), h.k, 2.0**-h.k)
    np.testing.assert_array_equal(dense.offset, sparse.offset)
    np.testing.assert_allclose(dense.constant, sparse.constant, rtol=1e-13, atol=1e-10)
    assert (dense.n, dense.total_prior) == (sparse.n, sparse.total_prior)


@pytest.mark.parametrize("name", ["dga_MY1997_5list", "SparseMSE_UKdat_5"])
def test_quadrature_evidence_matches_the_sum_over_integers(name):
    # sum_u p(y, u | G) / N summed on every integer to a million, then its power tail
    h = load_dataset(name)
    dense, k, delta = h.dense_counts(), h.k, 2.0**-h.k
    evidence = _Evidence(_marginals_from_patterns(dense, k, delta), k, None, False)
    u = np.arange(0, 1_000_000, dtype=float)
    constant = float(np.sum(gammaln(dense[1:] + 1)))
    graphs = decomposable_graphs(k)
    for g in (graphs[0], graphs[100], graphs[500], graphs[-2]):
        terms = log_marginal_likelihood(dense, u, cliques=g.cliques, separators=g.separators, delta=delta)
        terms += constant - np.log(u + h.n_observed)
        slope = (terms[-1] - terms[-1001]) / math.log(u[-1] / u[-1001])
        exact = np.logaddexp(logsumexp(terms), terms[-1] + math.log(u[-1]) - math.log(-slope - 1))
        assert evidence.log_evidence(g) == pytest.approx(exact, abs=1e-5)


def _agreement(h, **kwargs):
    """MC3 against enumeration: graph probabilities and quantiles of N within Z Monte Carlo standard errors."""
    exact = _fit(h, method="exact")
    mc3 = _fit(h, method="mc3", **kwargs)
    labels = [g.label(h.lists) for g in decomposable_graphs(h.k)]
    exact_probability = dict(zip(labels, exact.details["model_probabilities"]))
    visited = mc3.details["mc3_graphs"]
    for label, frequency in mc3.details["top_models"][:3]:
        position = [lab for lab, _ in mc3.details["top_models"]].index(label)
        indicator = (visited == position).astype(float)
        mcse = math.sqrt(frequency * (1 - frequency) / ess_bulk(indicator))
        assert abs(frequency - exact_probability[label]) <= Z * mcse, label
    # The reported pmf's cdf at the exact quantiles, against the levels; the standard error of the plain
    # draws' indicator bounds that of the frequency-weighted mixture.
    draws = mc3.details["mc3_draws"]
    support, pmf = mc3.pmf
    for level, q in [(0.025, exact.interval[0]), (0.5, exact.estimate), (0.975, exact.interval[1])]:
        mcse = math.sqrt(level * (1 - level) / ess_bulk((draws <= q).astype(float)))
        below = pmf[support < q].sum()
        assert below - Z * mcse <= level <= pmf[support <= q].sum() + Z * mcse, level
    mean = lambda fit: float(np.sum(fit.pmf[0] * fit.pmf[1]))  # noqa: E731
    assert abs(mean(mc3) - mean(exact)) <= Z * np.std(draws) / math.sqrt(mc3.details["ess_bulk"])
    return exact, mc3


def test_agrees_with_enumeration_on_madigan_york_five_lists():
    exact, mc3 = _agreement(load_dataset("dga_MY1997_5list"))
    assert mc3.details["top_model"] == exact.details["top_model"]


def test_agrees_with_enumeration_on_ukdat_five_lists():
    # graphs far apart in N: plain chains of the default length do not mix (ESS ~ 30); ten times longer do
    _agreement(load_dataset("SparseMSE_UKdat_5"), n_iter=200_000, temperatures=1)


@pytest.mark.parametrize("name", ["SparseMSE_UKdat_5", "SparseMSE_Ned_5"])
def test_tempered_default_run_agrees_with_enumeration_where_plain_chains_stick(name):
    # Ned_5: plain chains at the default length give R-hat 1.56 (seed 1), each stuck on one of the two top graphs
    exact, mc3 = _agreement(load_dataset(name))
    assert mc3.details["temperatures"] == 4
    assert mc3.details["r_hat"] <= 1.01 and mc3.details["ess_bulk"] >= 400


def test_plain_chains_that_pass_their_checks_are_kept():
    h = load_dataset("dga_MY1997_5list")
    auto, plain = _fit(h, method="mc3"), _fit(h, method="mc3", temperatures=1)
    assert auto.details["temperatures"] == 1
    np.testing.assert_array_equal(auto.details["mc3_draws"], plain.details["mc3_draws"])
    np.testing.assert_array_equal(auto.draws, plain.draws)


def test_heated_copies_leave_the_target_unchanged():
    _agreement(_six_lists(), temperatures=3)


@pytest.mark.parametrize("value", [0, -1, "hot", 2.5, True])
def test_bad_temperatures_are_refused(value):
    with pytest.raises((ValueError, TypeError), match="temperatures"):
        graphical_bma(load_dataset("dga_MY1997_5list"), method="mc3", temperatures=value)


def test_agrees_with_enumeration_on_six_simulated_lists():
    _agreement(_six_lists())


def test_auto_enumerates_up_to_six_lists_and_samples_beyond():
    h = load_dataset("dga_MY1997_5list")
    auto, exact = _fit(h), _fit(h, method="exact")
    assert auto.details["method"] == "exact" and "mc3_draws" not in auto.details
    np.testing.assert_array_equal(auto.pmf[1], exact.pmf[1])
    seven = independent_lists(500, [0.3] * 7, random_seed=2).histories
    fit = _fit(seven, n_iter=1000)
    assert fit.details["method"] == "mc3" and fit.details["n_chains"] == 4 and fit.details["burn_in"] == 250
    assert fit.details["mc3_draws"].shape == fit.details["mc3_graphs"].shape == (4, 750)
    assert math.isclose(fit.details["model_probabilities"].sum(), 1.0)
    assert "visited by MC3" in fit.model
    with pytest.raises(ValueError, match="method='mc3'"):
        graphical_bma(seven, method="exact")


def test_same_seed_same_result_and_other_seed_other_chains():
    h = independent_lists(500, [0.3] * 7, random_seed=2).histories
    a, b, c = (_fit_seed(h, seed) for seed in (5, 5, 6))
    assert (a.estimate, a.interval) == (b.estimate, b.interval)
    np.testing.assert_array_equal(a.draws, b.draws)
    np.testing.assert_array_equal(a.details["mc3_draws"], b.details["mc3_draws"])
    assert not np.array_equal(a.details["mc3_draws"], c.details["mc3_draws"])


def _fit_seed(h, seed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return graphical_bma(h, random_seed=seed, n_iter=1000)


def test_excluded_saturated_graph_is_never_visited():
    h = load_dataset("CARE1_HAV")  # the saturated graph has posterior probability 0.71 when allowed
    exact = graphical_bma(h, exclude_saturated=True, random_seed=1)
    fit = graphical_bma(h, exclude_saturated=True, method="mc3", n_iter=5000, random_seed=1)
    assert "[L1,L2,L3]" not in dict(fit.details["top_models"])
    assert fit.details["n_graphs"] <= 7
    assert abs(fit.estimate - exact.estimate) <= 0.02 * exact.estimate


def test_short_run_on_a_sticky_posterior_warns():
    with pytest.warns(ConvergenceWarning, match="Raise n_iter"):
        fit = graphical_bma(load_dataset("SparseMSE_UKdat_5"), method="mc3", n_iter=400, random_seed=1)
    assert any("n_iter" in message for message in fit.warnings)


def test_twelve_lists_answer_and_cover():
    sim = dependent_lists(600, [0.3] * 12, {(0, 1): 1.0, (2, 3): 0.8}, random_seed=4)
    fit = _fit(sim.histories, n_iter=1000)
    assert fit.details["method"] == "mc3"
    assert fit.interval[0] <= sim.truth <= fit.interval[1]


def test_given_support_is_dgas_grid_for_mc3_too():
    # the evidence is then the sum over the grid, so MC3 samples the same posterior over graphs as enumeration
    h = load_dataset("dga_MY1997_5list")
    support = np.arange(1, 301)
    exact = _fit(h, method="exact", unlisted_support=support)
    mc3 = _fit(h, method="mc3", unlisted_support=support)
    assert mc3.details["support"] == "given" and mc3.pmf[0][-1] == h.n_observed + 300
    probability = dict(exact.details["top_models"])
    label, frequency = mc3.details["top_models"][0]
    indicator = (mc3.details["mc3_graphs"] == 0).astype(float)
    assert abs(frequency - probability[label]) <= Z * math.sqrt(frequency * (1 - frequency) / ess_bulk(indicator))


def test_improper_posterior_under_a_flat_prior_refuses():
    h = load_dataset("dga_MY1997_5list")
    with pytest.raises(NonexistentEstimateError, match="improper"):
        graphical_bma(h, method="mc3", n_iter=200, log_prior=lambda n: np.zeros_like(n), random_seed=1)


@pytest.mark.parametrize("k", [3, 4, 5])
def test_sparse_graph_rows_are_the_dense_arrays_rows(k):
    from estimators._graphical._graphs import _graph_arrays, _sparse_arrays_of

    dense, sparse = _graph_arrays(k), _sparse_arrays_of(decomposable_graphs(k), k)
    for field in ("n_denominators", "clique_masks", "separator_masks", "terms", "weights", "n_terms", "row_terms",
                  "row_weights", "n_row_terms", "used_masks"):
        np.testing.assert_array_equal(getattr(dense, field), getattr(sparse, field), err_msg=field)
    assert sparse.coefx is None and sparse.coef is None


@pytest.mark.slow
def test_agrees_with_enumeration_on_ukdat_six_lists():
    _agreement(load_dataset("SparseMSE_UKdat"), n_iter=200_000)
