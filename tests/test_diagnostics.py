"""R-hat and ESS computed with numpy against ArviZ's (the reference implementation of Vehtari et al. 2021)."""

import arviz as az
import numpy as np
import pytest

from estimators.diagnostics import (
    _average_ranks, chain_diagnostics, diagnostic_messages, ess_ar_spectrum, ess_bulk, ess_tail, rank_normalized_r_hat,
)


def _cases():
    rng = np.random.default_rng(11)
    return {
        "iid normal": rng.normal(size=(4, 1000)),
        "random walks": np.cumsum(rng.normal(size=(4, 500)), axis=1),
        "ties (Poisson)": rng.poisson(3, size=(4, 300)).astype(float),
        "odd length": np.cumsum(rng.normal(size=(2, 101)), axis=1),
        "few values": rng.integers(0, 3, size=(4, 50)).astype(float),
        "shifted chain": np.vstack([rng.normal(size=(3, 400)), rng.normal(2.0, 1.0, size=(1, 400))]),
    }


@pytest.mark.parametrize("name", list(_cases()))
def test_equal_to_arviz(name):
    values = _cases()[name]
    ours = chain_diagnostics(values)
    assert ours["r_hat"] == pytest.approx(float(az.rhat(values)), rel=1e-10)
    assert ours["ess_bulk"] == pytest.approx(float(az.ess(values, method="bulk")), rel=1e-10)
    assert ours["ess_tail"] == pytest.approx(float(az.ess(values, method="tail", prob=(0.025, 0.975))), rel=1e-10)


def test_one_chain_has_no_r_hat_but_an_ess():
    values = np.random.default_rng(1).normal(size=200)
    result = chain_diagnostics(values)
    assert np.isnan(result["r_hat"]) and result["chains"] == 1
    assert result["ess_bulk"] == pytest.approx(float(az.ess(values[None, :], method="bulk")), rel=1e-10)


def test_hand_cases():
    # Constant draws carry no autocorrelation to estimate: ESS is the number of draws.
    assert chain_diagnostics(np.ones((2, 10)))["ess_bulk"] == 20
    # Independent draws: ESS near the number of draws; chains stuck apart: R-hat far above 1.
    rng = np.random.default_rng(2)
    assert chain_diagnostics(rng.normal(size=(4, 2000)))["ess_bulk"] == pytest.approx(8000, rel=0.1)
    apart = rng.normal(size=(4, 500)) + np.arange(4)[:, None] * 5
    assert chain_diagnostics(apart)["r_hat"] > 2
    assert any("R-hat" in m for m in diagnostic_messages(chain_diagnostics(apart)))


def test_average_ranks_share_ties():
    np.testing.assert_array_equal(_average_ranks(np.array([3.0, 1.0, 3.0, 2.0])), [3.5, 1.0, 3.5, 2.0])


def test_shapes_are_checked():
    with pytest.raises(ValueError, match="chains, draws"):
        chain_diagnostics(np.zeros((2, 3, 4)))


@pytest.mark.parametrize("function", [chain_diagnostics, ess_bulk, ess_tail, rank_normalized_r_hat, ess_ar_spectrum])
def test_non_finite_draws_are_refused_naming_the_first(function):
    """A nan among the draws gave a bulk ESS of 4.7 (ranked as an extreme draw) instead of an error."""
    draws = np.arange(12.0).reshape(2, 6)
    draws[1, 4] = np.nan
    draws[1, 5] = np.inf
    with pytest.raises(ValueError, match="2 are not, the first nan at chain 1, draw 4"):
        function(draws)


def _ar1(phi, shape, seed):
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=shape)
    series = np.zeros(shape)
    for t in range(1, noise.shape[-1]):
        series[..., t] = phi * series[..., t - 1] + noise[..., t]
    return series


def test_yule_walker_by_aic_equals_solving_each_order():
    # Levinson-Durbin against the Yule-Walker equations solved directly at every order, AIC taken by hand.
    from scipy.linalg import solve_toeplitz

    from estimators.diagnostics import yule_walker_autocovariance, yule_walker_by_aic

    chain = _ar1(0.7, 600, 3) + 0.3 * _ar1(-0.4, 600, 4)
    autocovariance = yule_walker_autocovariance(chain, 12)
    assert autocovariance[1] == pytest.approx(np.sum((chain[:-1] - chain.mean()) * (chain[1:] - chain.mean())) / 600)
    fits = [(np.zeros(0), autocovariance[0])]
    for order in range(1, 13):
        phi = solve_toeplitz(autocovariance[:order], autocovariance[1 : order + 1])
        fits.append((phi, autocovariance[0] - phi @ autocovariance[1 : order + 1]))
    aic = [600 * np.log(variance) + 2 * order for order, (_, variance) in enumerate(fits)]
    best = int(np.argmin(aic))
    coefficients, variance = yule_walker_by_aic(autocovariance, 600)
    assert coefficients.size == best
    np.testing.assert_allclose(coefficients, fits[best][0], rtol=1e-10)
    assert variance == pytest.approx(fits[best][1], rel=1e-10)


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.9])
def test_ess_ar_spectrum_matches_ar1_theory(phi):
    from estimators.diagnostics import ess_ar_spectrum

    # An AR(1) chain of length n has ESS n (1 - phi) / (1 + phi); four chains sum.
    values = _ar1(phi, (4, 20000), 5)
    assert ess_ar_spectrum(values) == pytest.approx(80000 * (1 - phi) / (1 + phi), rel=0.06)
    assert ess_ar_spectrum(values) == pytest.approx(sum(ess_ar_spectrum(chain) for chain in values), rel=1e-12)


def test_ess_ar_spectrum_ignores_disagreeing_chains():
    from estimators.diagnostics import ess_ar_spectrum, ess_bulk

    # Two chains stuck apart: each looks iid on its own (coda's ESS near the draw count), bulk ESS sees it.
    values = np.vstack([_ar1(0.0, 2000, 6), _ar1(0.0, 2000, 7) + 5.0])
    assert ess_ar_spectrum(values) > 3000 and ess_bulk(values) < 100
    # A chain on a straight line has no spectrum to estimate: coda returns 0.
    assert ess_ar_spectrum(np.ones((2, 50))) == 0 and ess_ar_spectrum(np.arange(50.0)) == 0


def test_runs_too_short_to_diagnose_are_reported_for_every_method():
    # One chain, or under 4 draws, leaves R-hat (and ESS) nan, which passes every threshold: say so instead.
    one_chain = diagnostic_messages(chain_diagnostics(np.random.default_rng(2).normal(size=(1, 500))), "the rate")
    assert any("Convergence is unchecked: R-hat of the rate" in message for message in one_chain)
    three_draws = diagnostic_messages(chain_diagnostics(np.random.default_rng(3).normal(size=(4, 3))))
    assert any("4 chain(s) of 3 draw(s)" in message for message in three_draws)
    enough = diagnostic_messages(chain_diagnostics(np.random.default_rng(4).normal(size=(4, 500))))
    assert not any("unchecked" in message for message in enough)
