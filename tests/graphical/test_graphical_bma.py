"""graphical_bma: decomposable-graph enumeration, exact marginal likelihoods, dga agreement, adaptive support."""

import itertools
import re
import warnings

import networkx as nx
import numpy as np
import pytest
from scipy import integrate
from scipy.special import betaln, gammaln

from conftest import peer_row
from estimators import (
    CaptureHistories,
    IdentifiabilityWarning,
    NonexistentEstimateError,
    decomposable_graphs,
    graphical_bma,
    load_dataset,
)
from estimators._graphical import _evaluation, _support, log_marginal_likelihood
from estimators._graphical._graphs import _graph_arrays
from estimators._graphical._marginal import _marginals
from estimators._graphical._model import _make_model
from estimators._graphical._tail import _decay_bound, _tail_terms

DGA = "dga 2.0.2"
# M&Y's 3-list example prior, parameterised as in dga's example and tests.
NB_A, NB_B = 13.14, 55.17


def negative_binomial_log_prior(n):
    return n * np.log(NB_B) - (n + NB_A) * np.log1p(NB_B) + gammaln(n + NB_A) - gammaln(n + 1) - gammaln(NB_A)


def dga_rows(peers):
    rows = peers[peers.package == DGA]
    assert len(rows) >= 20, "the dga reference rows are missing from peers.csv"
    return rows


def dga_call(row, h):
    """Our call reproducing the dga settings named in a reference row."""
    n = h.n_observed
    if "fac=5)" in row.method:
        return dict(unlisted_support=np.arange(0, 5 * n + 1))
    if "fac=20)" in row.method:
        return dict(unlisted_support=np.arange(0, 20 * n + 1))
    if "delta=0.5, Nmissing=1:300" in row.method:
        return dict(unlisted_support=np.arange(1, 301), delta=0.5)
    if "NegBin prior" in row.method:
        return dict(unlisted_support=np.arange(1, 301), delta=1.0, log_prior=negative_binomial_log_prior)
    raise AssertionError(f"unknown dga setting {row.method!r}")


def close(ours, theirs, tolerance=0.005):
    return abs(ours - theirs) <= tolerance * abs(theirs)


# ---------------------------------------------------------------------------------------------- enumeration
@pytest.mark.parametrize("k, count", [(2, 2), (3, 8), (4, 61), (5, 822), (6, 18154)])
def test_number_of_decomposable_graphs(k, count):
    assert len(decomposable_graphs(k)) == count


@pytest.mark.parametrize("k", [3, 4, 5])
def test_enumeration_matches_networkx(k):
    pairs = list(itertools.combinations(range(k), 2))
    chordal = set()
    for code in range(1 << len(pairs)):
        graph = nx.Graph()
        graph.add_nodes_from(range(k))
        graph.add_edges_from(p for e, p in enumerate(pairs) if code >> e & 1)
        if nx.is_chordal(graph):
            chordal.add(tuple(sorted(graph.edges())))
    ours = {tuple(sorted(g.edges)) for g in decomposable_graphs(k)}
    assert ours == chordal


@pytest.mark.parametrize("k", [3, 4, 5])
def test_cliques_and_separators_form_a_junction_forest(k):
    def members(mask):
        return frozenset(j for j in range(k) if mask >> (k - 1 - j) & 1)

    for g in decomposable_graphs(k):
        graph = nx.Graph()
        graph.add_nodes_from(range(k))
        graph.add_edges_from(g.edges)
        assert {members(c) for c in g.cliques} == {frozenset(c) for c in nx.find_cliques(graph)}
        # Running intersection: every list is counted once net over cliques minus non-empty separators,
        # and there is one non-empty separator per edge of the junction tree inside each component.
        assert sum(len(members(c)) for c in g.cliques) - sum(len(members(s)) for s in g.separators) == k
        components = nx.number_connected_components(graph)
        assert len(g.separators) == len(g.cliques) - components


def test_enumeration_is_cached():
    assert decomposable_graphs(5) is decomposable_graphs(5)


# ---------------------------------------------------------------------------------------------- marginal likelihood
def test_two_list_marginal_likelihood_by_direct_integration():
    # Cells 00 (u), 01, 10, 11 with the first list most significant; delta per cell.
    u, y01, y10, y11, delta = 3, 2, 4, 1, 0.25
    dense = np.array([0, y01, y10, y11], dtype=float)
    n_total = u + y01 + y10 + y11
    log_coef = gammaln(n_total + 1) - gammaln(u + 1) - gammaln(y01 + 1) - gammaln(y10 + 1) - gammaln(y11 + 1)

    # Independence: p_ij = a_i b_j, a ~ Beta(2 delta, 2 delta) for list A, b likewise for list B.
    def integrand(a, b):
        density = np.exp(-2 * betaln(2 * delta, 2 * delta)) * (a * (1 - a) * b * (1 - b)) ** (2 * delta - 1)
        cells = ((1 - a) * (1 - b)) ** u * ((1 - a) * b) ** y01 * (a * (1 - b)) ** y10 * (a * b) ** y11
        return density * cells

    value, _ = integrate.dblquad(integrand, 0, 1, 0, 1, epsabs=1e-14, epsrel=1e-10)
    ours = log_marginal_likelihood(dense, [u], cliques=[0b10, 0b01], separators=[], delta=delta)[0]
    assert ours == pytest.approx(log_coef + np.log(value), abs=1e-6)

    # Saturated: p ~ Dirichlet(delta, delta, delta, delta), a closed form.
    counts = np.array([u, y01, y10, y11])
    saturated = log_coef + gammaln(4 * delta) - gammaln(n_total + 4 * delta) + np.sum(
        gammaln(counts + delta) - gammaln(delta)
    )
    ours = log_marginal_likelihood(dense, [u], cliques=[0b11], separators=[], delta=delta)[0]
    assert ours == pytest.approx(saturated, abs=1e-10)


def test_marginal_likelihood_is_a_probability_over_tables():
    # Summed over every table with N = 4 people (cell 0 included), p(table | G) must total 1.
    delta, total = 0.5, 4
    for cliques, separators in (([0b110, 0b011], [0b010]), ([0b111], []), ([0b100, 0b010, 0b001], [])):
        log_p = []
        for cells in itertools.product(range(total + 1), repeat=7):
            if sum(cells) > total:
                continue
            u = total - sum(cells)
            dense = np.array([0, *cells], dtype=float)
            log_p.append(
                log_marginal_likelihood(dense, [u], cliques=cliques, separators=separators, delta=delta)[0]
            )
        assert np.exp(np.array(log_p)).sum() == pytest.approx(1.0, rel=1e-10)


@pytest.mark.parametrize(
    "name, settings",
    [
        ("CARE1_Congenital", dict(delta=None, log_prior=None, fac=5)),
        ("Rcapture_HIV", dict(delta=0.5, log_prior=None, fac=3)),
        # dga's grid 1..300 is shorter than two intervals of the default length: shorter intervals, so that
        # some pairs are skipped there too.
        ("dga_MY1997_3list", dict(delta=1.0, log_prior=negative_binomial_log_prior, fac=None, interval=32)),
    ],
)
def test_fast_path_equals_direct_per_graph_sum(name, settings, monkeypatch):
    # The fit skips (graph, interval) pairs by bounds and sums the rest in a compiled kernel; summing every
    # graph's log_marginal_likelihood over the whole grid must give the same pmf and model probabilities.
    if "interval" in settings:
        monkeypatch.setattr(_evaluation, "_INTERVAL", settings["interval"])
    h = load_dataset(name)
    n, k = h.n_observed, h.k
    delta = 2.0**-k if settings["delta"] is None else settings["delta"]
    u = np.arange(1, 301) if settings["fac"] is None else np.arange(0, settings["fac"] * n + 1)
    log_prior = settings["log_prior"] or (lambda total: -np.log(total))

    pairs = []
    kernel = _evaluation._scatter_pairs

    def counting(pair_graph, *args):
        pairs.append(pair_graph.size)
        return kernel(pair_graph, *args)

    monkeypatch.setattr(_evaluation, "_scatter_pairs", counting)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IdentifiabilityWarning)
        fit = graphical_bma(h, delta=delta, log_prior=settings["log_prior"], unlisted_support=u, n_draws=10)
    graphs = decomposable_graphs(k)
    dense = h.dense_counts()
    log_t = np.array(
        [
            log_marginal_likelihood(dense, u, cliques=g.cliques, separators=g.separators, delta=delta)
            for g in graphs
        ]
    ) + log_prior((n + u).astype(float))[None, :]
    log_pmf = np.logaddexp.reduce(log_t, axis=0)
    pmf = np.exp(log_pmf - log_pmf.max())
    log_mass = np.logaddexp.reduce(log_t, axis=1)
    np.testing.assert_array_equal(fit.pmf[0], n + u)
    np.testing.assert_allclose(fit.pmf[1], pmf / pmf.sum(), rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(
        fit.details["model_probabilities"], np.exp(log_mass - np.logaddexp.reduce(log_mass)), rtol=1e-8, atol=1e-13
    )
    # The comparison has teeth only if the kernel ran and some pairs were skipped.
    intervals = -(-len(u) // _evaluation._INTERVAL)
    assert 0 < sum(pairs) < len(graphs) * intervals


# ---------------------------------------------------------------------------------------------- dga agreement
def test_reproduces_dga_on_its_grid_and_prior(peers):
    failures = []
    for _, row in dga_rows(peers).iterrows():
        h = load_dataset(row.dataset)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", IdentifiabilityWarning)
            fit = graphical_bma(h, random_seed=0, **dga_call(row, h))
        ours = (fit.estimate, *fit.interval)
        theirs = (row.estimate, row.lower, row.upper)
        if not all(close(a, b) for a, b in zip(ours, theirs)):
            failures.append((row.dataset, row.method, ours, theirs))
    assert not failures, failures


def test_covers_every_dga_reference(peers):
    rows = dga_rows(peers)
    assert {load_dataset(d).k for d in rows.dataset} == {3, 4, 5}
    assert rows.method.str.contains("package example").sum() == 2


def test_model_probabilities_match_dga_top_models(peers):
    row = peer_row(peers, "CARE1_Congenital", "bma.cr default (delta=1/2^k, fac=5)", DGA)
    top = [float(x) for x in re.search(r"top model probs ([\d.,]+)", row.notes).group(1).split(",")]
    h = load_dataset("CARE1_Congenital")
    fit = graphical_bma(h, unlisted_support=np.arange(0, 5 * h.n_observed + 1))
    ours = [p for _, p in fit.details["top_models"][:3]]
    assert ours == pytest.approx(top, abs=0.0015)


def test_madigan_york_three_list_bayes_estimate():
    # dga's test of M&Y's example: E[1/N] / E[1/N^2] = 731 and posterior mode 728 under the NegBin prior.
    h = load_dataset("dga_MY1997_3list")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IdentifiabilityWarning)
        fit = graphical_bma(
            h, delta=1.0, log_prior=negative_binomial_log_prior, unlisted_support=np.arange(1, 301)
        )
    support, pmf = fit.pmf
    assert round(np.sum(pmf / support) / np.sum(pmf / support**2)) == 731
    assert support[np.argmax(pmf)] == 728


# ---------------------------------------------------------------------------------------------- adaptive support
def wide_grid_holds_all_mass(row):
    found = re.search(r"posterior mass in top 10% of grid=([\d.e-]+)", row.notes)
    return found is not None and float(found.group(1)) < 1e-4


def test_adaptive_support_matches_dga_wide_grid(peers):
    rows = dga_rows(peers)
    rows = rows[rows.method.str.contains("fac=20") & rows.apply(wide_grid_holds_all_mass, axis=1)]
    assert len(rows) >= 8
    for _, row in rows.iterrows():
        h = load_dataset(row.dataset)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", IdentifiabilityWarning)
            fit = graphical_bma(h, random_seed=0)
        assert fit.details["support"] == "adaptive"
        for ours, theirs in zip((fit.estimate, *fit.interval), (row.estimate, row.lower, row.upper)):
            assert close(ours, theirs), (row.dataset, fit.estimate, fit.interval, row.estimate)


def test_adaptive_result_reports_how_far_it_went():
    h = load_dataset("LCMCR_kosovo")
    fit = graphical_bma(h, random_seed=0)
    support, pmf = fit.pmf
    assert fit.details["N_max"] == support[-1] == h.n_observed + fit.details["unlisted_max"]
    assert support[0] == h.n_observed
    assert 0 <= fit.details["neglected_tail_mass"] <= 1e-8
    assert pmf.sum() == pytest.approx(1.0)
    assert not fit.warnings


def test_neglected_mass_bound_holds():
    # The bound beyond a short support must exceed the mass actually found beyond it on a much longer one.
    h = load_dataset("LCMCR_kosovo")
    n = h.n_observed
    short = 3 * n
    with pytest.warns(IdentifiabilityWarning):
        cut = graphical_bma(h, unlisted_support=np.arange(0, short + 1))
    long = graphical_bma(h, unlisted_support=np.arange(0, 25 * n + 1))
    support, pmf = long.pmf
    beyond = pmf[support > n + short].sum() / pmf[support <= n + short].sum()
    assert beyond > 1e-9  # a real tail, so the check below has teeth
    assert cut.details["neglected_tail_mass"] >= beyond
    assert cut.details["neglected_tail_mass"] <= 1e4 * beyond  # and the bound is not vacuous


def test_neglected_mass_bound_from_the_support_end_alone_holds(monkeypatch):
    # Where the decay at the support's end already meets the tolerance the ladder is not evaluated: that bound
    # alone must still exceed the mass beyond, and be about as tight.
    h = load_dataset("CARE1_Congenital")
    n = h.n_observed
    long = graphical_bma(h, unlisted_support=np.arange(0, 25 * n + 1))
    support, pmf = long.pmf
    beyond = pmf[support > 3 * n].sum() / pmf[support <= 3 * n].sum()

    def no_ladder(*args, **kwargs):
        raise AssertionError("the ladder was evaluated")

    monkeypatch.setattr(_support, "_geometric_tail", no_ladder)
    cut = graphical_bma(h, unlisted_support=np.arange(0, 2 * n + 1))
    assert beyond > 1e-17 and not cut.warnings
    assert beyond <= cut.details["neglected_tail_mass"] <= 10 * beyond


def test_neglected_mass_bound_holds_for_a_log_concave_user_prior():
    # dga's 3-list example grid 1..300 cuts off about 1e-3 of the posterior under the negative-binomial prior.
    h = load_dataset("dga_MY1997_3list")
    n = h.n_observed
    with pytest.warns(IdentifiabilityWarning):
        cut = graphical_bma(h, delta=1.0, log_prior=negative_binomial_log_prior, unlisted_support=np.arange(1, 301))
    long = graphical_bma(h, delta=1.0, log_prior=negative_binomial_log_prior, unlisted_support=np.arange(1, 3001))
    support, pmf = long.pmf
    beyond = pmf[support > n + 300].sum() / pmf[support <= n + 300].sum()
    assert beyond > 1e-4
    assert beyond <= cut.details["neglected_tail_mass"] <= 10 * beyond


def test_decay_bound_holds_on_a_grid():
    h = load_dataset("Rcapture_HIV")
    k = h.k
    arrays = _graph_arrays(k)
    marginals = _marginals(h.dense_counts(), k, 2.0**-k)
    positive, negative = _tail_terms(arrays, marginals, default_prior=True)
    model = _make_model(arrays, marginals, None)
    exponent = np.sum(positive - negative, axis=1)
    # The paired offsets are the log posterior's Gamma terms: check them where lgamma is precise...
    u = np.array([2_000.0, 7_000.0, 30_000.0])
    exact = model.coefx @ model.factors(u + 1, model.prior(u + 1)) - model.coefx @ model.factors(u, model.prior(u))
    paired = np.log(u[None, None, :] + positive[:, :, None]) - np.log(u[None, None, :] + negative[:, :, None])
    np.testing.assert_allclose(paired.sum(axis=1), exact, atol=1e-7)
    # ...then the bound on u * log(t(u+1)/t(u)) far out, from the same offsets computed stably.
    for start in (2_000.0, 20_000.0, 200_000.0):
        kappa = _decay_bound(positive, negative, start)
        u = start * np.array([1.0, 1.01, 1.5, 3.0, 10.0, 100.0, 1e4])
        ratio = np.log1p(positive[:, :, None] / u).sum(axis=1) - np.log1p(negative[:, :, None] / u).sum(axis=1)
        assert np.all(u * ratio <= kappa[:, None] + 1e-9)
        assert np.all(kappa >= exponent - 1e-9)  # the limit as u grows is inside the supremum
    # Far out the bound closes on the exponent of the tail t(u) ~ C u**exponent.
    np.testing.assert_allclose(_decay_bound(positive, negative, 1e10), exponent, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("name", ["CARE1_HAV", "LCMCR_kosovo", "CARE1_Congenital"])
@pytest.mark.parametrize("delta", [None, 0.5])
def test_saturated_graph_has_the_heaviest_tail(name, delta):
    # Data part of each exponent <= 0 (0 for the saturated graph); its delta part is the least negative.
    h = load_dataset(name)
    k = h.k
    delta_value = 2.0**-k if delta is None else delta
    marginals = _marginals(h.dense_counts(), k, delta_value)
    positive, negative = _tail_terms(_graph_arrays(k), marginals, default_prior=True)
    exponent = np.sum(positive - negative, axis=1)
    saturated = [i for i, g in enumerate(decomposable_graphs(k)) if g.cliques == (2**k - 1,)]
    assert exponent.max() == pytest.approx(-1 - (2**k - 1) * delta_value)
    assert exponent[saturated[0]] == pytest.approx(exponent.max())


def test_posterior_mean_finiteness_is_reported():
    h = load_dataset("LCMCR_kosovo")
    assert graphical_bma(h, random_seed=0).details["posterior_mean_finite"] is False  # delta = 1/16 < 1/15
    assert graphical_bma(h, delta=0.1, random_seed=0).details["posterior_mean_finite"] is True


def test_heavy_saturated_tail_is_reported_not_hidden():
    # Under the 1/N prior and delta = 1/8 the saturated 3-list graph's posterior decays like N^-1.875 (an
    # infinite mean): the tolerance cannot be met, but the median and interval are pinned down and flagged.
    h = load_dataset("conting_spina_collapsed")
    with pytest.warns(IdentifiabilityWarning, match="infinite"):
        fit = graphical_bma(h, random_seed=0)
    assert fit.details["neglected_tail_mass"] > fit.details["tail_tolerance"]
    assert fit.details["tail_exponent"] == pytest.approx(-1.875)
    assert (fit.estimate, *fit.interval) == (725, 686, 784)


def test_adaptive_support_with_a_log_concave_user_prior():
    # M&Y's negative-binomial prior: the prior's tail is bounded too, so the tolerance is met without a grid.
    h = load_dataset("dga_MY1997_3list")
    fit = graphical_bma(h, delta=1.0, log_prior=negative_binomial_log_prior, random_seed=0)
    assert (fit.estimate, *fit.interval) == (731, 682, 797)
    assert fit.details["neglected_tail_mass"] <= 1e-8 and not fit.warnings


@pytest.mark.parametrize("name", ["LCMCR_kosovo", "conting_spina_collapsed"])
def test_user_one_over_n_prior_matches_the_default(name):
    h = load_dataset(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IdentifiabilityWarning)
        default = graphical_bma(h, random_seed=0)
        user = graphical_bma(h, log_prior=lambda n: -np.log(n), random_seed=0)
    assert (user.estimate, *user.interval) == (default.estimate, *default.interval)
    assert user.details["unlisted_max"] == default.details["unlisted_max"]
    assert user.details["neglected_tail_mass"] == pytest.approx(default.details["neglected_tail_mass"], rel=0.1)


def test_prior_that_vanishes_beyond_a_bound():
    # A prior that is zero beyond N = 1000 truncates the posterior there; the bounds must cope with log 0.
    h = load_dataset("conting_spina_collapsed")
    fit = graphical_bma(h, log_prior=lambda n: np.where(n <= 1000, 0.0, -np.inf), random_seed=0)
    support, pmf = fit.pmf
    assert pmf[support > 1000].sum() == 0 and pmf[support <= 1000].sum() == pytest.approx(1.0)
    assert fit.details["neglected_tail_mass"] <= 1e-8
    with pytest.warns(IdentifiabilityWarning, match="conditional on N <= 1,000"):  # flat beyond: improper
        on_grid = graphical_bma(h, log_prior=lambda n: np.zeros_like(n), unlisted_support=np.arange(0, 380))
    assert (fit.estimate, *fit.interval) == (on_grid.estimate, *on_grid.interval)


# ---------------------------------------------------------------------------------------------- refusals and warnings
def test_improper_posterior_under_a_flat_prior_refuses():
    # Flat prior on N: the saturated graph's likelihood decays like N^-0.875, so the posterior is improper.
    h = load_dataset("conting_spina_collapsed")
    with pytest.raises(NonexistentEstimateError, match=r"N\^-0\.875"):
        graphical_bma(h, log_prior=lambda n: np.zeros_like(n))


def test_non_overlapping_lists_refuse():
    h = load_dataset("SparseMSE_Artificial_3")
    with pytest.raises(NonexistentEstimateError, match="never overlap: A-C, B-C"):
        graphical_bma(h)


def test_refusal_names_a_dominant_saturated_graph():
    # Strong heterogeneity: the saturated graph, which cannot estimate N, takes almost all the posterior.
    counts = [169, 176, 78, 322, 176, 131, 197, 124, 68, 46, 43, 114, 141, 96, 432]
    h = CaptureHistories.from_array([0, *counts], lists=["A", "B", "C", "D"])
    with pytest.raises(NonexistentEstimateError, match="the saturated graph, which cannot estimate N"):
        graphical_bma(h)


def test_two_lists_that_never_overlap_refuse():
    h = CaptureHistories.from_mapping({"10": 40, "01": 30}, lists=["A", "B"])
    with pytest.raises(NonexistentEstimateError, match="A-B"):
        graphical_bma(h)


def test_prior_zero_everywhere_is_refused_by_name():
    # Once crashed inside numpy (column_stack of an empty support) after every graph was dropped.
    h = load_dataset("conting_spina_collapsed")
    with pytest.raises(NonexistentEstimateError, match=r"no mass on the unlisted counts evaluated \(N = 621 to"):
        graphical_bma(h, log_prior=lambda n: np.full_like(n, -np.inf))


def test_posterior_beyond_the_support_limit_is_not_called_a_heavy_tail():
    # 3.6 million records: the independence graph's posterior peaks near 3.6 million unlisted, beyond the
    # limit. The refusal said "tail too heavy" for a graph "of posterior probability 0" decaying like N^-600002.
    h = CaptureHistories.from_mapping({"10": 1_800_000, "01": 1_200_000, "11": 600_000}, lists=["A", "B"])
    with pytest.raises(ValueError, match=r"under graph \[A\]\[B\] is still rising there") as caught:
        graphical_bma(h)
    assert not isinstance(caught.value, NonexistentEstimateError)


def test_truncating_grid_is_flagged():
    # dga's 5n grid on the HIV table cuts off much of the posterior: we say so.
    h = load_dataset("Rcapture_HIV")
    with pytest.warns(IdentifiabilityWarning, match="conditional on N <= 11,376"):
        fit = graphical_bma(h, unlisted_support=np.arange(0, 5 * h.n_observed + 1))
    assert fit.warnings and fit.details["support"] == "given"


# ---------------------------------------------------------------------------------------------- result object
def test_result_fields_and_reproducibility():
    h = load_dataset("CARE1_Diabetes")
    first = graphical_bma(h, random_seed=5, n_draws=500)
    second = graphical_bma(h, random_seed=5, n_draws=500)
    np.testing.assert_array_equal(first.draws, second.draws)
    assert first.method == "graphical_bma" and first.n_observed == h.n_observed
    assert first.details["n_graphs"] == 61 and first.details["delta"] == 2.0**-4
    support, pmf = first.pmf
    # The draws are numpy's choice from the pmf, drawn by a faster search.
    np.testing.assert_array_equal(first.draws, np.random.default_rng(5).choice(support, size=500, p=pmf))
    cdf = np.cumsum(pmf)
    assert first.estimate == support[np.searchsorted(cdf, 0.5)]
    assert first.credible_interval(0.95) == first.interval
    probabilities = [p for _, p in first.details["top_models"]]
    assert probabilities == sorted(probabilities, reverse=True)
    assert first.details["model_probabilities"].sum() == pytest.approx(1.0)
    assert first.details["top_model"].startswith("[")
    assert abs(np.median(first.draws) - first.estimate) < 0.02 * first.estimate
    if first.details["posterior_mean_finite"]:
        assert first.mean == pytest.approx(np.sum(support * pmf))
    else:
        # With delta = 2^-k the saturated graph's tail makes E[N] infinite; a truncated-pmf mean would be an artefact.
        assert first.mean == float("inf")


def test_input_histories_untouched():
    h = load_dataset("CARE1_Congenital")
    before = h.fingerprint()
    graphical_bma(h, random_seed=0, n_draws=10)
    assert h.fingerprint() == before


# ---------------------------------------------------------------------------------------------- validation
@pytest.fixture(scope="module")
def small():
    return load_dataset("CARE1_Diabetes")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(delta=0), "delta"),
        (dict(delta=-1.0), "delta"),
        (dict(max_lists=13), "max_lists"),
        (dict(method="gibbs"), "method"),
        (dict(n_iter=10), "n_iter"),
        (dict(n_chains=0), "n_chains"),
        (dict(max_lists=3), "merge"),
        (dict(level=1.5), "level"),
        (dict(tail_tolerance=0.0), "tail_tolerance"),
        (dict(tail_tolerance=0.05), "tail_tolerance"),
        (dict(unlisted_support=[-1, 0, 1]), "non-negative integers"),
        (dict(unlisted_support=[0.5, 1]), "non-negative integers"),
        (dict(unlisted_support=[1, 1, 2]), "repeated"),
        (dict(unlisted_support=[]), "non-empty"),
        (dict(log_prior=3.0), "log_prior"),
        (dict(log_prior=lambda n: np.zeros(3)), "one log prior value per N"),
        (dict(log_prior=lambda n: np.full(n.shape, np.nan)), "NaN"),
        (dict(n_draws=0), "n_draws"),
        (dict(random_seed=-3), "random_seed"),
    ],
)
def test_invalid_arguments_are_named(small, kwargs, message):
    with pytest.raises(ValueError, match=message):
        graphical_bma(small, **kwargs)


def test_six_lists_need_max_lists_six():
    h = load_dataset("SparseMSE_UKdat")
    with pytest.raises(ValueError, match=r"merge_lists"):
        graphical_bma(h, max_lists=5)


def test_rejects_non_histories():
    with pytest.raises(TypeError, match="CaptureHistories"):
        graphical_bma(np.ones(8))


# ---------------------------------------------------------------------------- by hand from the paper
# Madigan & York's posterior written out from the published formulas, independently of the package's helpers.
# The eight decomposable graphs on lists 0, 1, 2, written out by hand: (cliques, separators).
THREE_LIST_GRAPHS = [
    ([(0,), (1,), (2,)], []),
    ([(0, 1), (2,)], []),
    ([(0, 2), (1,)], []),
    ([(1, 2), (0,)], []),
    ([(0, 1), (0, 2)], [(0,)]),
    ([(0, 1), (1, 2)], [(1,)]),
    ([(0, 2), (1, 2)], [(2,)]),
    ([(0, 1, 2)], []),
]


def _log_dirichlet_multinomial(table: dict, lists: tuple, unlisted: int, delta: float) -> float:
    """log D(A): the ordered-sample probability of the marginal table on the lists A under a Dirichlet prior with
    delta * 2**(3 - |A|) per marginal cell (Madigan & York 1997, eq. 3)."""
    alpha = delta * 2.0 ** (3 - len(lists))
    margin = {}
    for pattern, count in [((0, 0, 0), unlisted), *table.items()]:
        key = tuple(pattern[j] for j in lists)
        margin[key] = margin.get(key, 0) + count
    total = sum(margin.values())
    cells = list(itertools.product((0, 1), repeat=len(lists)))
    return (
        gammaln(alpha * len(cells))
        - gammaln(total + alpha * len(cells))
        + sum(gammaln(margin.get(cell, 0) + alpha) - gammaln(alpha) for cell in cells)
    )


def _madigan_york_posterior(table: dict, support, delta: float):
    """Joint posterior of (graph, u) under equal graph weights and the prior 1/N, normalised on ``support``."""
    n = sum(table.values())
    log_post = np.empty((len(THREE_LIST_GRAPHS), len(support)))
    for g, (cliques, separators) in enumerate(THREE_LIST_GRAPHS):
        for i, u in enumerate(support):
            log_table = sum(_log_dirichlet_multinomial(table, c, u, delta) for c in cliques) - sum(
                _log_dirichlet_multinomial(table, s, u, delta) for s in separators
            )
            # multinomial coefficient N! / u! (the prod y! is constant) and the prior 1/N
            log_post[g, i] = log_table + gammaln(n + u + 1) - gammaln(u + 1) - np.log(n + u)
    post = np.exp(log_post - log_post.max())
    return post.sum(axis=0) / post.sum(), post.sum(axis=1) / post.sum()


def test_graphical_bma_equals_madigan_york_by_direct_computation():
    table = {(1, 0, 0): 6, (0, 1, 0): 5, (0, 0, 1): 4, (1, 1, 0): 3, (1, 0, 1): 2, (0, 1, 1): 2, (1, 1, 1): 1}
    h = CaptureHistories.from_mapping({"".join(map(str, p)): c for p, c in table.items()}, lists=["A", "B", "C"])
    support = np.arange(0, 61)
    delta = 1 / 8
    with pytest.warns(IdentifiabilityWarning, match="beyond the given unlisted_support"):
        fit = graphical_bma(h, unlisted_support=support, random_seed=0)
    pmf, graph_probabilities = _madigan_york_posterior(table, support, delta)
    np.testing.assert_array_equal(fit.pmf[0], h.n_observed + support)
    np.testing.assert_allclose(fit.pmf[1], pmf, rtol=1e-9, atol=1e-15)
    # the package's graph order differs from the hand-written one: match by edges
    ours = {frozenset(g.edges): p for g, p in zip(decomposable_graphs(3), fit.details["model_probabilities"])}
    for (cliques, _), probability in zip(THREE_LIST_GRAPHS, graph_probabilities):
        edges = frozenset(pair for c in cliques for pair in itertools.combinations(c, 2))
        assert ours[edges] == pytest.approx(probability, rel=1e-9)


def _permuted(h: CaptureHistories, order) -> CaptureHistories:
    frame = h.to_frame(dense=True)
    lists = [h.lists[j] for j in order]
    return CaptureHistories.from_counts(frame[lists + ["count"]], lists=lists)


@pytest.mark.parametrize("order", [(2, 0, 3, 1), (3, 2, 1, 0)])
def test_graphical_bma_does_not_depend_on_list_order(order):
    h = load_dataset("LCMCR_kosovo")
    a, b = graphical_bma(h, random_seed=3), graphical_bma(_permuted(h, order), random_seed=3)
    assert (a.estimate, *a.interval) == (b.estimate, *b.interval)
    np.testing.assert_allclose(a.pmf[1], b.pmf[1], rtol=1e-9, atol=1e-15)
    assert a.details["top_model_probability"] == pytest.approx(b.details["top_model_probability"], rel=1e-9)


# ---------------------------------------------------------------------------------------------- slow
@pytest.mark.slow
def test_six_lists_adaptive():
    h = load_dataset("SparseMSE_UKdat")
    fit = graphical_bma(h, random_seed=0)
    assert fit.details["n_graphs"] == 18154
    assert fit.details["neglected_tail_mass"] <= 1e-8
    assert 10_000 < fit.estimate < 14_000

