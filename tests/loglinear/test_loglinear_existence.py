"""Fienberg-Rinaldo existence and identifiability of the MLE of N, against SparseMSE's checkident."""

import itertools

import numpy as np
import pytest
from scipy.optimize import linprog

from estimators import CaptureHistories, load_dataset, mle_exists
from estimators._loglinear._existence import ExistenceOracle, interior_exists
from estimators._glm import fit_poisson
from estimators._loglinear._model import HierarchicalModel, design_matrix, term_columns
from estimators._loglinear._search import hierarchical_models


def test_artificial_3_every_model_by_hand():
    """Artificial_3 (Chan, Silverman & Vincent 2021, Table 2): A-C and B-C never overlap, zero cells 011, 101, 111.

    By hand: [12,3] needs x011 = x101 = x111 = 0 to meet the margins (n = 96 forces it), so no MLE; [12,13] and
    [12,23] are saturated on the cells left after removing the empty overlap, with a zero among them; with both
    empty overlaps removed, [13,23] keeps 4 positive cells for 4 parameters, and [12,13,23] has 5 parameters
    for those 4 cells. SparseMSE's checkident examples give the same for all pairs (not identifiable), A:B
    (no MLE) and A:C + B:C (passes both tests).
    """
    h = load_dataset("SparseMSE_Artificial_3")
    expected = {
        "[1,2,3]": (True, True),
        "[12,3]": (False, True),
        "[13,2]": (True, True),
        "[23,1]": (True, True),
        "[12,13]": (False, True),
        "[12,23]": (False, True),
        "[13,23]": (True, True),
        "[12,13,23]": (True, False),
    }
    for model, (exists, identifiable) in expected.items():
        result = mle_exists(h, model)
        assert (result.exists, result.identifiable) == (exists, identifiable), model
        assert bool(result) == (exists and identifiable)
    assert mle_exists(h, "[12,3]").boundary_cells == ("{B,C}", "{A,C}", "{A,B,C}")
    assert set(mle_exists(h, "[12,13,23]").empty_terms) == {"A:C", "B:C"}
    assert "not identifiable" in mle_exists(h, "[12,13,23]").message


def test_nonexistent_model_explodes_without_the_check():
    """What Rcapture did: the unchecked Poisson fit of [12,3] on Artificial_3 sends N towards infinity."""
    h = load_dataset("SparseMSE_Artificial_3")
    y = np.asarray(h.dense_counts(), float)[1:]
    fit = fit_poisson(design_matrix("[12,3]", h.lists), y)
    assert h.n_observed + np.exp(fit.coef[0]) > 1e6 * h.n_observed
    sane = fit_poisson(design_matrix("[1,2,3]", h.lists), y)
    assert h.n_observed + np.exp(sane.coef[0]) < 10 * h.n_observed


def test_two_lists_without_overlap_by_hand():
    # Cells 01, 10, 11 with no one on both lists: margins force x11 = 0, so no x > 0 matches them (N infinite).
    design = term_columns(np.array([1, 2, 3]), [2, 1])
    assert not interior_exists(design, np.array([30.0, 20.0, 0.0]))
    assert interior_exists(design, np.array([30.0, 20.0, 5.0]))
    h = CaptureHistories.from_mapping({"10": 20, "01": 30, "11": 0})
    assert not mle_exists(h, "[1,2]")


def test_advice_fits_the_model():
    # "Use a model with fewer interactions" was given for the independence model, which has none.
    everybody_on_both = mle_exists(CaptureHistories.from_mapping({"11": 6}), "[1,2]")
    assert not everybody_on_both and "no log-linear model helps" in everybody_on_both.message
    assert "fewer interactions" not in everybody_on_both.message
    assert "fewer interactions" in mle_exists(load_dataset("SparseMSE_Artificial_3"), "[12,3]").message


def test_mle_exists_result_is_frozen_and_named():
    result = mle_exists(load_dataset("Rcapture_HIV"), "[12,3,4]")
    assert result and result.exists and result.identifiable and result.model == "[12,3,4]"
    with pytest.raises(AttributeError):
        result.exists = False


def _sparsemse_checkident(dense, k, pairs):
    """SparseMSE checkident, written from its source: drop the cells of empty pairwise overlaps (and those
    pairs), then LP max s s.t. modmat' x = modmat' y, x >= s >= 0; ierr = (s == 0) + 2 * (rank deficient)."""
    cells = np.arange(1, 2**k)
    bits = (cells[:, None] >> (k - 1 - np.arange(k))[None, :]) & 1
    y = dense[1:].astype(float)
    keep = np.ones(len(cells), bool)
    kept_pairs = []
    for i, j in pairs:
        if np.sum(bits[:, i] * bits[:, j] * y) == 0:
            keep &= (bits[:, i] * bits[:, j]) == 0
        else:
            kept_pairs.append((i, j))
    columns = [np.ones(keep.sum())] + [bits[keep, i] for i in range(k)]
    columns += [bits[keep, i] * bits[keep, j] for i, j in kept_pairs]
    modmat = np.column_stack(columns).astype(float)
    n_obs, n_par = modmat.shape
    result = linprog(
        np.r_[np.zeros(n_obs), -1.0],
        A_ub=np.hstack([-np.eye(n_obs), np.ones((n_obs, 1))]),
        b_ub=np.zeros(n_obs),
        A_eq=np.hstack([modmat.T, np.zeros((n_par, 1))]),
        b_eq=modmat.T @ y[keep],
        bounds=(0, None),
        method="highs",
    )
    no_mle = -result.fun <= 1e-7
    rank_deficient = np.linalg.matrix_rank(modmat) < n_par
    return int(no_mle) + 2 * int(rank_deficient)


@pytest.mark.parametrize(
    "dataset, n_models",
    [("SparseMSE_NewOrl_5", 60), ("SparseMSE_NewOrl", 25), ("SparseMSE_Western", 40), ("SparseMSE_Artificial_3", 20)],
)
def test_agrees_with_sparsemse_checkident(dataset, n_models):
    """Random two-list models (SparseMSE's family): the same verdict as checkident. On the New Orleans tables
    several pairs of lists never overlap; models with those pairs keep an (extended) MLE of N, as in SparseMSE."""
    h = load_dataset(dataset)
    k = h.k
    dense = np.asarray(h.dense_counts())
    all_pairs = list(itertools.combinations(range(k), 2))
    rng = np.random.default_rng(20240601)
    verdicts, with_empty_pairs = set(), 0
    for _ in range(n_models):
        chosen = [p for p in all_pairs if rng.random() < 0.3]
        terms = [[h.lists[i], h.lists[j]] for i, j in chosen]
        covered = {i for p in chosen for i in p}
        terms += [[h.lists[i]] for i in range(k) if i not in covered]
        result = mle_exists(h, terms)
        ierr = int(not result.exists) + 2 * int(not result.identifiable)
        assert ierr == _sparsemse_checkident(dense, k, chosen), terms
        verdicts.add(ierr)
        with_empty_pairs += bool(result.empty_terms) and bool(result)
    assert 0 in verdicts
    if dataset.startswith("SparseMSE_NewOrl"):
        assert with_empty_pairs > 0


def test_oracle_shortcuts_equal_plain_lp_on_sparse_table():
    """The rank shortcut and the cached failures give the same verdicts as an LP for every model."""
    h = load_dataset("SparseMSE_Western")
    y = np.asarray(h.dense_counts(), float)[1:]
    oracle = ExistenceOracle(y, h.k)
    models = hierarchical_models(h.k)
    rng = np.random.default_rng(7)
    sample = [models[i] for i in rng.choice(len(models), 120, replace=False)]
    results = oracle.check_many([m.terms for m in sample])
    for model, result in zip(sample, results):
        kept = result.kept_cells
        design = term_columns(np.arange(1, 2**h.k)[kept], result.kept_terms)
        assert result.exists == interior_exists(design, y[kept]), model.name()
    assert oracle.lp_calls < len(sample)


def test_tables_without_zero_cells_need_no_lp():
    h = load_dataset("LCMCR_kosovo")
    y = np.asarray(h.dense_counts(), float)[1:]
    assert (y > 0).all()
    oracle = ExistenceOracle(y, h.k)
    assert all(oracle.check_many([m.terms for m in hierarchical_models(h.k)]))
    assert oracle.lp_calls == 0


def test_western_aic_best_has_no_mle():
    """On Western the lowest-AIC 5-list model has no MLE (an unchecked fit gives N ~ 1e19); the check catches it."""
    h = load_dataset("SparseMSE_Western")
    assert not mle_exists(h, "[134,145,23,24]")
    y = np.asarray(h.dense_counts(), float)[1:]
    fit = fit_poisson(design_matrix("[134,145,23,24]", h.lists), y)
    assert np.exp(fit.coef[0]) > 1e6 * h.n_observed
    assert mle_exists(h, HierarchicalModel.parse("[145,13,23,24]", h.lists))


def test_not_capture_histories_is_a_type_error_naming_the_argument():
    # before: an AttributeError ("'DataFrame' object has no attribute 'lists'") that named nothing the caller passed
    frame = load_dataset("SparseMSE_Artificial_3").to_frame()
    with pytest.raises(TypeError, match=r"`h` must be a CaptureHistories; got DataFrame"):
        mle_exists(frame, "[12,3]")
