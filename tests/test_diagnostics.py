"""R-hat and ESS computed with numpy against ArviZ's (the reference implementation of Vehtari et al. 2021)."""

import arviz as az
import numpy as np
import pytest

from estimators.diagnostics import _average_ranks, chain_diagnostics, diagnostic_messages


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
