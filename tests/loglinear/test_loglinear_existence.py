"""Fienberg-Rinaldo existence and identifiability of the MLE of N, against SparseMSE's checkident."""

import itertools

import numpy as np
import pytest
from scipy.optimize import linprog

from estimators import CaptureHistories, load_dataset, mle_exists
from estimators._loglinear._existence import (
    ExistenceOracle,
    decide_by_null_space,
    integer_null_vector,
    interior_exists,
)
from estimators._glm import fit_poisson
from estimators._loglinear._model import HierarchicalModel, design_matrix, term_columns
from estimators._loglinear._search import hierarchical_models, select_model


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


def test_integer_null_vector_by_hand():
    matrix = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]])
    found = integer_null_vector(matrix, np.array([1.0, -1.0, 1.0]) / -np.sqrt(3))
    assert found.tolist() == [1, -1, 1]
    assert integer_null_vector(matrix, np.array([1.0, 0.0, 0.0])) is None  # not a null vector: refused
    assert integer_null_vector(matrix, np.array([1.0, -1 / np.pi, 0.5])) is None  # no small denominator


def test_null_space_decides_by_hand():
    """Two lists without overlap: cells {B} = 30, {A} = 20, {A,B} = 0 under [1,2] (columns 1, A, B). The positive
    cells' rows (1,0,1) and (1,1,0) leave one direction c = (1,-1,-1); on the zero cell (1,1,1) c = -1 < 0, so the
    likelihood rises along c forever: no MLE (N infinite).

    Three lists under [1,2,3] with {C}, {A,B}, {A,B,C} positive and {B}, {B,C}, {A}, {A,C} zero: the positive rows
    (1,0,0,1), (1,1,1,0), (1,1,1,1) leave c = (0,1,-1,0), which is -1 on {B} and {B,C} but +1 on {A} and {A,C}:
    neither c nor -c keeps every zero cell at or below its mean, so the MLE exists.
    """
    design = term_columns(np.array([1, 2, 3]), [2, 1])
    assert decide_by_null_space(design[:2], design[2:]) is False
    assert not interior_exists(design, np.array([30.0, 20.0, 0.0]))
    design = term_columns(np.arange(1, 8), [4, 2, 1])
    positive = np.isin(np.arange(1, 8), [1, 6, 7])
    assert decide_by_null_space(design[positive], design[~positive]) is True
    assert interior_exists(design, np.where(positive, 5.0, 0.0))
    # a design of full rank on the positive cells: exists, whatever the zero cells
    assert decide_by_null_space(design[:4], design[4:]) is True


ZERO_TABLES = ["SparseMSE_Artificial_3", "Rcapture_HIV", "conting_ScotPWID", "CARE1_Congenital", "dga_MY1997_5list",
               "SparseMSE_UKdat_5", "SparseMSE_Ned_5", "SparseMSE_NewOrl_5", "SparseMSE_Western"]


@pytest.mark.parametrize("dataset", ZERO_TABLES)
def test_null_space_never_contradicts_the_lp_on_tables_with_zeros(dataset):
    """Every model of the shipped tables with zero cells (a sample of 250 for 5 lists) where the positive cells
    leave a parameter direction free: where the null-space rule decides, the LP agrees; on these tables it decides
    every such model of nullity one, in both directions."""
    h = load_dataset(dataset)
    y = np.asarray(h.dense_counts(), float)[1:]
    zero, cells = y <= 0, np.arange(1, 2**h.k)
    models = hierarchical_models(h.k)
    if h.k == 5:
        models = [models[i] for i in np.random.default_rng(5).choice(len(models), 250, replace=False)]
    oracle, verdicts = ExistenceOracle(y, h.k), set()
    for model in models:
        check = oracle.check(model.terms)
        design = term_columns(cells, check.kept_terms)
        kept = check.kept_cells
        positive = design[kept & ~zero]
        if not (kept & zero).any() or np.linalg.matrix_rank(positive) == positive.shape[1]:
            continue
        decided = decide_by_null_space(positive, design[kept & zero])
        nullity = positive.shape[1] - np.linalg.matrix_rank(positive)
        assert decided is not None or nullity > 1, model.name()
        if decided is not None:
            assert decided == interior_exists(design[kept], y[kept]), model.name()
            verdicts.add(decided)
    assert False in verdicts


def test_null_space_against_the_lp_on_random_sparse_tables():
    """Random 3- and 4-list tables with 10-60% zero cells, every model: never a verdict the LP contradicts; both
    verdicts, certificates of non-existence with a larger null space, and undecided cases (left to the LP) occur."""
    rng = np.random.default_rng(11)
    seen = set()
    for _ in range(40):
        k = int(rng.choice([3, 4]))
        y = rng.poisson(rng.exponential(4, 2**k - 1)).astype(float)
        y[rng.random(2**k - 1) < rng.uniform(0.1, 0.6)] = 0
        zero, cells = y <= 0, np.arange(1, 2**k)
        oracle = ExistenceOracle(y, k)
        for model in hierarchical_models(k):
            check = oracle.check(model.terms)
            design = term_columns(cells, check.kept_terms)
            kept = check.kept_cells
            positive = design[kept & ~zero]
            if not (kept & zero).any() or not len(positive):
                continue
            nullity = positive.shape[1] - np.linalg.matrix_rank(positive)
            if nullity == 0:
                continue
            decided = decide_by_null_space(positive, design[kept & zero])
            if decided is not None:
                assert decided == interior_exists(design[kept], y[kept]), (y.tolist(), model.name())
            seen.add((min(nullity, 2), decided))
    assert {(1, True), (1, False), (2, False), (2, None)} <= seen


@pytest.mark.parametrize("dataset", ["Rcapture_HIV", "SparseMSE_UKdat_5", "SparseMSE_Western"])
def test_searches_on_shipped_tables_need_no_lp(dataset):
    h = load_dataset(dataset)
    y = np.asarray(h.dense_counts(), float)[1:]
    selection = select_model(y, h.k, "bic")
    assert selection.n_nonexistent > 0 and selection.lp_calls == 0
