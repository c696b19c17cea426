"""The hand-written Numba kernels of loglinear_bayes against the same model stated in PyMC (build_model)."""

import numpy as np
import pytest

from estimators._loglinear import _bayes_kernel as kernel
from estimators._loglinear._bayes import build_model, design_columns, model_terms
from estimators.histories import pattern_matrix

LISTS = ["A", "B", "C", "D"]
GLOBAL_SCALE = 0.037


def _value_vars(x, k, n_shrunk, n_fixed, horseshoe):
    """Our parameter vector as PyMC's transformed values (names PyMC gives them)."""
    point, at = {"main": x[:k]}, k
    if horseshoe:
        point["tau_a_log__"], point["tau_b_log__"] = x[at], x[at + 1]
        at += 2
        point["lam_a_log__"], point["lam_b_log__"] = x[at:at + n_shrunk], x[at + n_shrunk:at + 2 * n_shrunk]
        at += 2 * n_shrunk
        point["c2_log__"], point["z"] = x[at], x[at + 1:at + 1 + n_shrunk]
        at += 1 + n_shrunk
    else:
        point["interaction"] = x[at:at + n_shrunk]
        at += n_shrunk
    if n_fixed:
        point["fixed"] = x[at:at + n_fixed]
    return point


@pytest.mark.parametrize("prior, fixed", [("horseshoe", None), ("normal", ["A:B"]), ("horseshoe", ["A:B:C"])])
def test_log_density_and_gradient_equal_pymcs(prior, fixed):
    import pymc as pm

    shrunk, fixed_terms = model_terms(LISTS, 2, fixed, None)
    horseshoe = prior == "horseshoe"
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 50, 15).astype(float)
    model = build_model(LISTS, shrunk, fixed_terms, prior=prior)
    with model:
        pm.set_data({"counts": counts, **({"global_scale": GLOBAL_SCALE} if horseshoe else {})})
    logp = model.compile_logp(mode="FAST_COMPILE")
    dlogp = model.compile_dlogp(mode="FAST_COMPILE")
    names = [var.name for var in model.value_vars]
    data = kernel.pack(counts, pattern_matrix(4)[1:].astype(float), design_columns(4, shrunk),
                       design_columns(4, fixed_terms), horseshoe=horseshoe, main_scale=5.0, slab_scale=2.5,
                       slab_df=4.0, global_scale=GLOBAL_SCALE)
    n_dim = kernel.n_parameters(4, len(shrunk), len(fixed_terms), horseshoe)
    ours, theirs = [], []
    for _ in range(4):
        x = rng.normal(0.0, 0.7, n_dim)
        grad = np.empty(n_dim)
        ours.append(kernel.log_density(x, data, grad))
        point = _value_vars(x, 4, len(shrunk), len(fixed_terms), horseshoe)
        theirs.append(logp(point))
        mine = _value_vars(grad, 4, len(shrunk), len(fixed_terms), horseshoe)
        np.testing.assert_allclose(np.concatenate([np.atleast_1d(mine[name]) for name in names]), dlogp(point),
                                   rtol=1e-10, atol=1e-10)
    # the kernels drop constants, so compare differences between points
    np.testing.assert_allclose(np.diff(ours), np.diff(theirs), rtol=1e-10, atol=1e-9)


def test_expand_gives_the_interactions_and_pi0():
    shrunk, fixed_terms = model_terms(["A", "B", "C"], 2, None, None)
    data = kernel.pack(np.ones(7), pattern_matrix(3)[1:].astype(float), design_columns(3, shrunk),
                       design_columns(3, fixed_terms), horseshoe=False, main_scale=5.0, slab_scale=2.5,
                       slab_df=4.0, global_scale=0.0)
    x = np.array([-1.0, -0.5, 0.2, 0.3, -0.4, 0.1])
    out = np.empty(kernel.n_expanded(3, 3, 0, False))
    kernel.expand(x, data, out)
    eta = pattern_matrix(3)[1:] @ x[:3] + design_columns(3, shrunk) @ x[3:]
    np.testing.assert_allclose(out[:6], x)
    assert out[6] == pytest.approx(1 / (1 + np.exp(eta).sum()), rel=1e-13)


def test_packed_data_is_read_only_and_sized():
    data = kernel.pack(np.ones(3), pattern_matrix(2)[1:].astype(float), np.zeros((3, 0)), np.zeros((3, 0)),
                       horseshoe=True, main_scale=5.0, slab_scale=2.5, slab_df=4.0, global_scale=0.1)
    assert data[0] == data.size and not data.flags.writeable
    assert data[6] == 0.0 and data[1] == 2  # no shrunk term, so no horseshoe parameters


def test_start_is_seeded_and_jittered_around_the_priors_centre():
    first = kernel.initial_point(4, 6, 0, True, 4.0, 2.5, seed=3)
    assert first.size == kernel.n_parameters(4, 6, 0, True)
    np.testing.assert_array_equal(first, kernel.initial_point(4, 6, 0, True, 4.0, 2.5, seed=3))
    c2 = first[4 + 2 + 12]
    assert abs(c2 - np.log(12.5)) <= 1.0
