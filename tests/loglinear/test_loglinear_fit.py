"""Hierarchical log-linear models against Rcapture (closedpMS.t/closedpCI.t, step()) and SparseMSE (stepwise)."""

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import bad_choices, bad_levels, peer_row, raises_naming
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from estimators import CaptureHistories, NonexistentEstimateError, load_dataset, loglinear, loglinear_models
from estimators._loglinear._model import HierarchicalModel, design_matrix
from estimators._loglinear._search import hierarchical_models

TOLERANCE = 0.005  # 0.5 %
PEERS = pd.read_csv(Path(__file__).parents[1] / "data" / "peers.csv")


def _close(ours, reference):
    return math.isclose(ours, reference, rel_tol=TOLERANCE)


def _note(row, key):
    return float(re.search(rf"{key}=([-0-9.]+)", row.notes).group(1))


def _interactions(model: str, lists) -> set[frozenset]:
    """Two-or-more-list generators of a bracket name, as sets of list names (Rcapture's step() names omit the
    main effects and list terms in the order step() added them, so names are compared as sets)."""
    body = model.strip("[]")
    terms = [t for t in body.split(",") if t]
    return {frozenset(lists[int(d) - 1] for d in t) for t in terms if len(t) > 1}


def _rows(prefix):
    rows = PEERS[PEERS.method.str.startswith(prefix)]
    return [(r.dataset, r.method) for r in rows.itertuples()]


# Rcapture's AIC/BIC-best model on SparseMSE_Artificial_3 is [12,3], whose MLE does not exist (N = 1.4e13):
# tested separately below.
EXHAUSTIVE = [
    (d, m) for d, m in _rows("closedpCI.t loglinear") if "-best" in m and d != "SparseMSE_Artificial_3"
]


@pytest.fixture(scope="module")
def selections():
    """One search per (dataset, criterion): the 5-list searches take a second or two each."""
    cache = {}

    def get(dataset, select, interval="profile"):
        key = (dataset, select, interval)
        if key not in cache:
            cache[key] = loglinear(load_dataset(dataset), select=select, interval=interval)
        return cache[key]

    return get


@pytest.mark.parametrize("dataset, method", EXHAUSTIVE)
def test_exhaustive_search_matches_rcapture(peers, selections, dataset, method):
    row = peer_row(peers, dataset, method, "Rcapture")
    select = "aic" if "AIC-best" in method else "bic"
    fit = selections(dataset, select)
    assert fit.model == re.search(r"\[.*\]", method).group(0)
    assert _close(fit.estimate, row.estimate)
    assert _close(fit.interval[0], row.lower)
    assert _close(fit.interval[1], row.upper)
    assert _close(fit.std_error, _note(row, "se"))
    assert _close(fit.details["multinomial_mle"], _note(row, "multinomial_MLE"))
    assert fit.details["aic"] == pytest.approx(_note(row, "AIC"), abs=0.01)
    assert fit.details["bic"] == pytest.approx(_note(row, "BIC"), abs=0.01)
    assert fit.details["deviance"] == pytest.approx(_note(row, "dev"), abs=0.01)
    assert fit.details["df"] == int(_note(row, "df"))
    expected_models = int(re.search(r"over (\d+) hierarchical", row.notes).group(1))
    assert fit.details["n_models"] == expected_models
    assert fit.interval_kind == "profile likelihood"


# Rcapture's step(): both directions over two-list terms from the main-effects model. Our select="aic"/"bic"
# for k >= 6 is the same algorithm, so the same interactions must be chosen. VGAM_Huggins89table1 is left out:
# one of its 10 occasions has no captures, which CaptureHistories rejects (R fitted a main effect of -infinity).
STEP = [
    ("Rcapture_hare", "closedpCI.t loglinear AIC-step [46,36,26,15]"),
    ("Rcapture_hare", "closedpCI.t loglinear BIC-step [46]"),
    ("SparseMSE_UKdat", "closedpCI.t loglinear AIC-step [36,12,25,13,35,45,24,15,16]"),
    ("SparseMSE_UKdat", "closedpCI.t loglinear BIC-step [36,12,25,13,35,45]"),
    ("VGAM_deermice", "closedpCI.t loglinear AIC-step [14,12,26,15,35]"),
    ("VGAM_deermice", "closedpCI.t loglinear BIC-step [14,12,26,15]"),
]


@pytest.mark.parametrize("dataset, method", STEP)
def test_stepwise_criterion_search_matches_r_step(peers, selections, dataset, method):
    row = peer_row(peers, dataset, method, "Rcapture")
    h = load_dataset(dataset)
    fit = selections(dataset, "aic" if "AIC-step" in method else "bic")
    reference = re.search(r"\[.*\]", method).group(0)
    assert _interactions(fit.model, h.lists) == _interactions(reference, h.lists)
    assert _close(fit.estimate, row.estimate)
    assert _close(fit.interval[0], row.lower)
    assert _close(fit.interval[1], row.upper)


SPARSE_STEPWISE = _rows("estimatepopulation.0 stepwise")


@pytest.mark.parametrize("dataset, method", SPARSE_STEPWISE)
def test_poisson_stepwise_matches_sparsemse(peers, selections, dataset, method):
    """SparseMSE estimatepopulation.0(method="stepwise", pthresh=0.02): same algorithm, so same interactions,
    same N and the same Wald interval on the log unlisted count."""
    row = peer_row(peers, dataset, method, "SparseMSE")
    h = load_dataset(dataset)
    fit = selections(dataset, "stepwise", "wald")
    names = re.search(r"model interactions:(.*);", row.notes).group(1).split()
    reference = {frozenset(name.split(":")) for name in names if name != "none"}
    assert _interactions(fit.model, h.lists) == reference
    assert _close(fit.estimate, row.estimate)
    assert _close(fit.interval[0], row.lower)
    assert _close(fit.interval[1], row.upper)
    assert fit.interval_kind.startswith("Wald")


def test_artificial_3_rcapture_choice_has_no_mle(peers):
    """Rcapture's AIC- and BIC-best [12,3] gave N = 1.4e13: we refuse it and select among models with an MLE."""
    h = load_dataset("SparseMSE_Artificial_3")
    with pytest.raises(NonexistentEstimateError, match=r"does not exist.*\{B,C\}"):
        loglinear(h, "[12,3]")
    for select in ("aic", "bic"):
        fit = loglinear(h, select=select)
        assert fit.model != "[12,3]"
        assert fit.details["n_nonexistent"] == 4  # [12,3], [12,13], [12,23] (no MLE), [12,13,23] (unidentifiable)
        assert fit.estimate < 10 * h.n_observed
        assert any("skipped" in w for w in fit.warnings)
    # The BIC-best model with an MLE is independence, which is also SparseMSE's stepwise choice (N = 539.09).
    assert loglinear(h, select="bic").estimate == pytest.approx(539.093929, rel=1e-6)
    table = loglinear_models(h, criterion="aic")
    assert table.model.iloc[0] == "[12,3]" and not table.exists.iloc[0]
    assert np.isnan(table.estimate.iloc[0])


def test_model_counts_as_rcapture():
    assert [len(hierarchical_models(k)) for k in (2, 3, 4, 5)] == [1, 8, 113, 6893]
    names = {m.name() for m in hierarchical_models(3)}
    assert names == {"[1,2,3]", "[12,3]", "[13,2]", "[23,1]", "[12,13]", "[12,23]", "[13,23]", "[12,13,23]"}
    assert all(len(m.generators) and max(bin(g).count("1") for g in m.generators) < 4 for m in hierarchical_models(4))


def test_design_matrix_by_hand():
    # Cells 001, 010, 011, 100, 101, 110, 111 (A most significant); columns: 1, A, B, C, AB.
    expected = np.array(
        [
            [1, 0, 0, 1, 0],
            [1, 0, 1, 0, 0],
            [1, 0, 1, 1, 0],
            [1, 1, 0, 0, 0],
            [1, 1, 0, 1, 0],
            [1, 1, 1, 0, 1],
            [1, 1, 1, 1, 1],
        ]
    )
    np.testing.assert_array_equal(design_matrix("[12,3]", ["A", "B", "C"]), expected)
    # [123] would be saturated with N; [13,23] has columns 1, A, B, C, AC, BC.
    design = design_matrix("[13,23]", ["A", "B", "C"])
    np.testing.assert_array_equal(design[:, 4], [0, 0, 0, 0, 1, 0, 1])
    np.testing.assert_array_equal(design[:, 5], [0, 0, 1, 0, 0, 0, 1])


def test_notations_agree():
    lists = [f"L{j}" for j in range(1, 5)]
    a = HierarchicalModel.parse("[12,13,4]", lists)
    b = HierarchicalModel.parse([["L1", "L2"], ["L1", "L3"], ["L4"]], lists)
    c = HierarchicalModel.parse([[1, 2], [1, 3], 4], lists)
    d = HierarchicalModel.parse("[L1:L2, L1:L3, L4]", lists)
    e = HierarchicalModel.parse(["12", "13", "4"], lists)
    assert a == b == c == d == e
    assert a.name() == "[12,13,4]"
    many = [f"S{j}" for j in range(12)]
    model = HierarchicalModel.parse([["S0", "S1"], *[[name] for name in many[2:]]], many)
    assert model.name(many).startswith("[S0:S1,S2")


@pytest.mark.parametrize(
    "model, message",
    [
        ("[12,5]", "out of range"),
        ("[12,X]", "Unknown list"),
        ("[12,1,3,4]", "not a hierarchical generating class"),
        ("[12,12,3,4]", "not a hierarchical generating class"),
        ("[1234]", "4-way interaction"),
        ("[12,3]", r"leaves out list\(s\) \['c4'\]"),
        ("[]", "no terms"),
        ("[11,2,3,4]", "repeats a list"),
        ("[12,,3]", "empty term"),
        (3.5, "bracket string"),
    ],
)
def test_bad_models_raise(model, message):
    h = load_dataset("Rcapture_HIV")
    with pytest.raises(ValueError, match=message):
        loglinear(h, model)


def test_digit_notation_refused_beyond_nine_lists():
    lists = [f"S{j}" for j in range(10)]
    with pytest.raises(ValueError, match="ambiguous"):
        HierarchicalModel.parse("[12,3,4,5,6,7,8,9,10]", lists)


def test_digit_named_lists_in_another_order_are_not_misread():
    # Lists named "3", "1", "2": "12" was read by position (lists 3 and 1) but "3" by name (position 1), so
    # "[12,3]" was refused as "[3] implied by [3:1]" and "[31,2]" meant something else again.
    lists = ["3", "1", "2"]
    for model in ("[12,3]", "[31,2]"):
        with pytest.raises(ValueError, match="ambiguous: the lists are named by digits"):
            HierarchicalModel.parse(model, lists)
    assert HierarchicalModel.parse([["1", "2"], ["3"]], lists).name(lists) == "[23,1]"
    # named in order, both readings agree
    assert HierarchicalModel.parse("[12,3]", ["1", "2", "3"]).name() == "[12,3]"


@pytest.mark.parametrize(
    "counts, cells",
    [({"10": 60, "01": 40}, "{A,B}"), ({"11": 60}, "{B}, {A}"), ({"10": 60, "11": 20}, "{B}")],
)
def test_failed_search_names_the_zero_cells(counts, cells):
    # The message said "the lists overlap too little" also when one list holds everybody.
    h = CaptureHistories.from_mapping(counts, lists=["A", "B"])
    with pytest.raises(NonexistentEstimateError, match=re.escape(f"zero counts in the cells {cells}")) as caught:
        loglinear(h)
    assert "no log-linear model helps" in str(caught.value)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"select": "cv"}, "`select`"),
        ({"level": 1.5}, "`level`"),
        ({"level": 0}, "`level`"),
        ({"interval": "bootstrap"}, "`interval`"),
        ({"pthresh": 0}, "`pthresh`"),
    ],
)
def test_bad_options_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        loglinear(load_dataset("Rcapture_HIV"), **kwargs)


def test_bic_penalty_is_log_observed_units():
    h = load_dataset("LCMCR_kosovo")
    fit = loglinear(h, "[123,14,34]")
    p = fit.details["n_parameters"]
    assert fit.details["bic"] - fit.details["aic"] == pytest.approx((math.log(h.n_observed) - 2) * p)
    assert p == 1 + 4 + 5 + 1  # intercept, 4 main effects, pairs 12 13 23 14 34, triple 123
    assert fit.details["df"] == 15 - p


def test_table_ranks_and_flags():
    h = load_dataset("Rcapture_HIV")
    table = loglinear_models(h)
    assert len(table) == 113
    assert table.BIC.is_monotonic_increasing
    assert table.model.iloc[0] == loglinear(h).model
    assert set(table.columns) >= {"model", "terms", "df", "deviance", "AIC", "BIC", "estimate", "exists"}
    assert (table.estimate[table.exists] >= h.n_observed).all()
    assert table.estimate[~table.exists].isna().all()
    with pytest.raises(ValueError, match="k <= 5"):
        loglinear_models(load_dataset("SparseMSE_UKdat"))


def test_wald_interval_is_lognormal_on_unlisted():
    h = load_dataset("Rcapture_HIV")
    fit = loglinear(h, "[1,2,3,4]", interval="wald")
    unlisted = fit.estimate - h.n_observed
    lower, upper = fit.interval
    # log-symmetric around the unlisted count
    assert math.log(unlisted) - math.log(lower - h.n_observed) == pytest.approx(
        math.log(upper - h.n_observed) - math.log(unlisted)
    )


def _table(counts, k):
    flat = np.concatenate([[0.0], np.asarray(counts, dtype=float)])
    return CaptureHistories.from_array(flat, lists=[chr(65 + j) for j in range(k)])


COUNTS3 = st.lists(st.integers(0, 60), min_size=7, max_size=7).filter(
    lambda c: all(sum(c[i - 1] for i in range(1, 8) if i >> (2 - j) & 1) > 0 for j in range(3))
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(COUNTS3, st.sampled_from(["aic", "bic", "stepwise"]))
def test_estimate_never_below_observed(counts, select):
    h = _table(counts, 3)
    try:
        fit = loglinear(h, select=select)
    except NonexistentEstimateError:
        return
    assert fit.estimate >= h.n_observed
    assert fit.interval[0] >= h.n_observed - 1e-6
    assert math.isfinite(fit.estimate)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(
    st.lists(st.integers(1, 80), min_size=15, max_size=15),
    st.permutations(range(4)),
    st.sampled_from(["aic", "bic"]),
)
def test_permuting_lists_changes_nothing(counts, order, select):
    # Not for select="stepwise": SparseMSE breaks ties between equal p-values by list order.
    h = _table(counts, 4)
    cube = np.concatenate([[0.0], counts]).reshape((2,) * 4)
    permuted = CaptureHistories.from_array(np.transpose(cube, order), lists=[h.lists[j] for j in order])
    a, b = loglinear(h, select=select), loglinear(permuted, select=select)
    assert b.estimate == pytest.approx(a.estimate, rel=1e-6)
    assert b.interval == pytest.approx(a.interval, rel=1e-5)
    relabel = {frozenset(t) for t in _interactions(b.model, permuted.lists)}
    assert relabel == _interactions(a.model, h.lists)


def test_lists_never_together_give_the_extended_mle():
    """NewOrl_5: lists A and H never overlap. Their interaction is -infinity and the cells with both are fitted
    as 0 (SparseMSE's treatment); N is what an unchecked Poisson fit approaches as that coefficient diverges."""
    from estimators._glm import fit_poisson

    h = load_dataset("SparseMSE_NewOrl_5")
    fit = loglinear(h, "[15,2,3,4]")
    assert any("never recorded together (A:H)" in w for w in fit.warnings)
    y = np.asarray(h.dense_counts(), float)[1:]
    unchecked = fit_poisson(design_matrix("[15,2,3,4]", h.lists), y)
    assert fit.estimate == pytest.approx(h.n_observed + np.exp(unchecked.coef[0]), rel=1e-4)
    assert fit.details["n_parameters"] == 7  # the -infinity parameter still counts, as in Rcapture and SparseMSE


def test_ten_lists_by_name():
    rng = np.random.default_rng(11)
    lists = [f"S{j}" for j in range(10)]
    counts = rng.poisson(3.0, 2**10 - 1) + 1
    h = CaptureHistories.from_array(np.r_[0.0, counts], lists=lists)
    fit = loglinear(h, [["S0", "S1"], *[[name] for name in lists[2:]]], interval="wald")
    assert fit.model == "[S0:S1,S2,S3,S4,S5,S6,S7,S8,S9]"
    assert fit.estimate > h.n_observed
    assert loglinear(h, select="stepwise").estimate > h.n_observed


@settings(max_examples=30, deadline=None)
@given(level=bad_levels(), select=bad_choices(("aic", "bic", "stepwise")), interval=bad_choices(("profile", "wald")))
def test_bad_options_name_the_argument_and_value(level, select, interval):
    h = load_dataset("CARE1_HAV")
    raises_naming(lambda: loglinear(h, level=level), ValueError, "level", level)
    raises_naming(lambda: loglinear(h, select=select), ValueError, "select", select)
    raises_naming(lambda: loglinear(h, interval=interval), ValueError, "interval", interval)


def test_loglinear_models_options_are_keyword_only():
    with pytest.raises(TypeError):
        loglinear_models(load_dataset("CARE1_HAV"), "aic")


def test_lower_bound_at_n_is_said():
    # almost everyone on two or three lists: under independence barely anyone is missed
    h = CaptureHistories.from_mapping({"100": 1, "010": 1, "001": 1, "110": 50, "101": 50, "011": 50, "111": 800},
                                      lists=["A", "B", "C"])
    fit = loglinear(h, "[1,2,3]")
    assert fit.interval[0] == h.n_observed
    assert any("lower bound is n" in w for w in fit.warnings)


def test_too_many_lists_is_refused_with_advice():
    import estimators

    prinia = estimators.load_dataset("VGAM_prinia", collapse=True)
    with pytest.raises(estimators.DataError, match="merge_lists"):
        estimators.loglinear(prinia)
