"""graphical_bma without numba or scipy for small fits: numpy's kernels agree with scipy's and numba's."""

import subprocess
import sys

import numpy as np
import pytest
from scipy import special

from estimators import load_dataset
from estimators._graphical import _evaluation
from estimators._graphical._graphs import _graph_arrays
from estimators._graphical._marginal import _marginals
from estimators._lazy import gammaln
from estimators._graphical._model import _make_model

# A fresh interpreter: this test process has imported everything already.
FIT = """
import sys
from estimators import graphical_bma, load_dataset
h = load_dataset("LCMCR_kosovo", collapse=True)
graphical_bma(h, random_seed=1)
print(" ".join(m for m in ("numba", "scipy.special", "scipy.stats") if m in sys.modules))
"""


def test_a_4_list_fit_imports_neither_numba_nor_scipy():
    done = subprocess.run([sys.executable, "-c", FIT], capture_output=True, text=True, check=True)
    assert done.stdout.split() == []


def test_gammaln_is_scipy_bit_for_bit():
    rng = np.random.default_rng(0)
    x = np.concatenate([
        rng.uniform(0, 20, 20_000), np.exp(rng.uniform(-30, 60, 20_000)), np.arange(0, 3000) / 4,
        [0.0, 1e-300, 2.0, 3.0, 12.999999999, 13.0, 999.99, 1000.0, 1e8, 1e8 + 2, 1e300],
    ])
    assert np.array_equal(gammaln(x).view(np.int64), special.gammaln(x).view(np.int64))
    assert gammaln(x[:7000].reshape(-1, 7)).shape == (1000, 7)
    assert np.isnan(gammaln(np.array([np.nan, 1.0]))[0])  # outside its range: scipy's answer


@pytest.mark.parametrize("name", ["SparseMSE_UKdat_5", "CARE1_HAV"])
def test_numpy_and_compiled_pair_kernels_agree(name, monkeypatch):
    """The posterior of N the same bit for bit; the graphs' masses (numba reassociates their sums) within 1e-13."""
    h = load_dataset(name, collapse=True)
    model = _make_model(_graph_arrays(h.k), _marginals(h.dense_counts(), h.k, 2.0**-h.k), None)
    u = np.arange(0.0, 20 * h.n_observed)
    rows = np.arange(model.n_graphs)
    found = {}
    for cells in (np.inf, 0):
        monkeypatch.setattr(_evaluation, "_COMPILED_CELLS", cells)
        found[cells] = _evaluation._evaluate(model, u, rows, -np.inf)
    (pmf, mass, end, pruned), (pmf_c, mass_c, end_c, pruned_c) = found[np.inf], found[0]
    assert np.array_equal(pmf, pmf_c)
    assert np.array_equal(end, end_c) and pruned == pruned_c
    np.testing.assert_allclose(np.exp(mass - mass.max()), np.exp(mass_c - mass.max()), rtol=1e-13, atol=1e-300)
