"""Huggins's conditional likelihood with individual covariates (estimators._huggins): agreement with VGAM 1.1-7's
``posbernoulli.t`` / ``posbernoulli.b`` (tests/data/peers.csv), hand-computed cases, the analytic derivatives
against finite differences, and bad input."""

import doctest
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

import estimators
from estimators import CaptureHistories, DataError, SmallSampleWarning, _huggins
from estimators._validation import InvalidParameterError
from estimators.exceptions import ConvergenceWarning
from tests.conftest import DATA

TOLERANCE = 5e-3  # within 0.5% of VGAM's estimate and bounds


def _vgam_rows():
    peers = pd.read_csv(DATA / "peers.csv")
    rows = peers[peers.package.str.startswith("VGAM") & peers.method.str.startswith("vglm")]
    # Mtb (posbernoulli.tb) is not implemented; VGAM_Huggins89table1 has an occasion with no captures, which
    # CaptureHistories refuses (an empty list carries no information)
    rows = rows[~rows.method.str.contains("posbernoulli.tb") & (rows.dataset != "VGAM_Huggins89table1")]
    cases = []
    for row in rows.itertuples():
        method = row.method
        model = "Mb" if "posbernoulli.b" in method else ("M0" if "parallel.t" in method else "Mt")
        found = re.search(r"covariates: ([\w+]+)\)", method) or re.search(r"~ ([\w +]+)$", method)
        covariates = [name.strip() for name in found.group(1).split("+")] if found else None
        # parallel.t = TRUE ~ 1: a common intercept, the covariates' effects differ by occasion (13 parameters
        # for ~ sex + weight: AIC 309.7184 = 2 x 141.8592 + 2 x 13)
        parallel = "TRUE~1" not in method
        se = float(re.search(r"SE=([\d.]+)", row.notes).group(1))
        loglik = float(re.search(r"logLik=(-?[\d.]+)", row.notes).group(1))
        cases.append(pytest.param(row.dataset, model, covariates, parallel, row.estimate, row.lower, row.upper, se,
                                  loglik, id=f"{row.dataset}-{method}"))
    return cases


VGAM = _vgam_rows()


def test_the_four_covariate_rows_are_there():
    ids = [case.id for case in VGAM if ") ~ " in case.id]
    assert len(ids) == 4, ids


@pytest.mark.parametrize("dataset, model, covariates, parallel, estimate, lower, upper, se, loglik", VGAM)
def test_agrees_with_vgam(dataset, model, covariates, parallel, estimate, lower, upper, se, loglik):
    h = estimators.load_dataset(dataset)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)  # Wald lower bounds below n: VGAM's interval as is
        fit = estimators.huggins(h, covariates, model=model, parallel=parallel)
    assert fit.estimate == pytest.approx(estimate, rel=TOLERANCE)
    assert fit.interval[0] == pytest.approx(lower, rel=TOLERANCE)
    assert fit.interval[1] == pytest.approx(upper, rel=TOLERANCE)
    assert fit.std_error == pytest.approx(se, rel=TOLERANCE, abs=0.01)
    assert fit.details["loglik"] == pytest.approx(loglik, abs=0.01)
    assert fit.details["converged"]


def test_deermice_covariate_rows_to_many_digits():
    # the brief's four rows: N-hat to 1e-6 of VGAM except Mb, where VGAM's IRLS stopped short (same logLik to
    # 4 decimals, N 46.06521 against our 46.06588 at a gradient of 1e-9)
    h = estimators.load_dataset("VGAM_deermice")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        m0 = estimators.huggins(h, "~ sex + weight", model="M0", parallel=False)
        mt = estimators.huggins(h, "~ sex + weight", model="Mt")
        m0_age = estimators.huggins(h, "~ sex + age + weight", model="M0", parallel=False)
        mb = estimators.huggins(h, "~ sex + weight", model="Mb")
    assert m0.estimate == pytest.approx(38.8919239340212, rel=1e-7)
    assert mt.estimate == pytest.approx(38.9703030655405, rel=1e-7)
    assert m0_age.estimate == pytest.approx(39.6215309936803, rel=1e-7)
    assert mb.estimate == pytest.approx(46.0652086227812, rel=5e-5)
    assert m0.details["n_parameters"] == 13 and mt.details["n_parameters"] == 8
    assert m0_age.details["n_parameters"] == 19 and mb.details["n_parameters"] == 4
    assert m0.details["aic"] == pytest.approx(309.7184, abs=1e-3)
    assert mt.details["aic"] == pytest.approx(307.8393, abs=1e-3)
    assert mb.details["aic"] == pytest.approx(296.5795, abs=1e-3)
    assert list(mt.details["coefficients"].index) == [f"(Intercept):y{j}" for j in range(1, 7)] + ["sex", "weight"]
    assert "agey:y1" in m0_age.details["coefficients"].index


# ------------------------------------------------------------------------------------------------ by hand
TWO_LISTS = {"10": 30, "01": 20, "11": 10}  # n = 60 seen, 70 listings


def test_m0_without_covariates_by_hand():
    # M0 conditional MLE: mean listings per person seen 70/60 = 2p / (1 - (1-p)^2) = 2 / (2 - p), so p = 2/7,
    # pi = 1 - (5/7)^2 = 24/49 and N = 60 / pi = 122.5
    fit = estimators.huggins(CaptureHistories.from_mapping(TWO_LISTS), model="M0")
    assert fit.estimate == pytest.approx(122.5, rel=1e-9)
    p = 1 / (1 + np.exp(-fit.details["coefficients"].loc["(Intercept)", "estimate"]))
    assert p == pytest.approx(2 / 7, rel=1e-9)


def test_mt_on_two_lists_is_lincoln_petersen():
    # Mt with two lists: p_A = m / n_B = 1/3, p_B = m / n_A = 1/4, N = n_A n_B / m = 120, and Huggins's variance
    # is Seber's n_A n_B (n_A - m)(n_B - m) / m^3 = 720
    fit = estimators.huggins(CaptureHistories.from_mapping(TWO_LISTS), model="Mt")
    assert fit.estimate == pytest.approx(120.0, rel=1e-9)
    assert fit.std_error**2 == pytest.approx(720.0, rel=1e-7)
    # the first term: sum (1 - pi)/pi^2 = 60 x 0.5 / 0.25
    assert fit.details["variance_known_p"] == pytest.approx(120.0, rel=1e-7)


def test_mb_on_two_lists_by_hand():
    # first captures: 40 on occasion 1, 20 on occasion 2; the first-capture likelihood
    # 20 log(1 - p) - 60 log(2 - p) peaks at p = 1/2, so N = 60 / (1 - 1/4) = 80. Variance: 60 x 0.25 / 0.75^2 =
    # 26.67 for known p, plus D^2 / I with D = dN/deta = -26.67, I = 60 x (1/18) (E[f | seen] = 4/3): 240 in all
    with pytest.warns(SmallSampleWarning, match="Wald lower bound"):  # 80 - 1.96 x sqrt(240) < 60 seen
        fit = estimators.huggins(CaptureHistories.from_mapping(TWO_LISTS), model="Mb")
    assert fit.estimate == pytest.approx(80.0, rel=1e-8)
    assert fit.std_error**2 == pytest.approx(240.0, rel=1e-6)
    recapture = fit.details["coefficients"].loc["(Intercept):recap", "estimate"]
    assert 1 / (1 + np.exp(-recapture)) == pytest.approx(10 / 40, rel=1e-7)  # 10 recaptures in 40 chances


def _hare():
    return estimators.load_dataset("Rcapture_hare")


def test_m0_solves_its_estimating_equation():
    h = _hare()
    n, T = h.n_observed, h.k
    listings = float((h.patterns.sum(axis=1) * h.counts).sum())
    p = optimize.brentq(lambda p: T * p / (1 - (1 - p) ** T) - listings / n, 1e-9, 1 - 1e-9)
    assert estimators.huggins(h, model="M0").estimate == pytest.approx(n / (1 - (1 - p) ** T), rel=1e-8)


def test_mt_solves_darrochs_equation():
    # the conditional MLE of Mt is Darroch's: 1 - n/N = prod_j (1 - n_j/N)
    h = _hare()
    n, totals = h.n_observed, h.list_totals.to_numpy(float)
    N = optimize.brentq(lambda N: 1 - n / N - np.prod(1 - totals / N), n + 1e-6, 100 * n)
    assert estimators.huggins(h, model="Mt").estimate == pytest.approx(N, rel=1e-8)


# ------------------------------------------------------------------------------------------------ derivatives
def _deermice_design(model, parallel, covariates=("sex", "age", "weight")):
    h = estimators.load_dataset("VGAM_deermice")
    names, X = _huggins.covariate_matrix(h, list(covariates))
    labels, design = _huggins.model_design(model, parallel, h.lists, names, X)
    return h, labels, design


def _numerical_gradient(f, theta, step=1e-6):
    out = np.zeros((len(np.atleast_1d(f(theta))), len(theta)))
    for i in range(len(theta)):
        e = np.zeros_like(theta)
        e[i] = step
        out[:, i] = (np.atleast_1d(f(theta + e)) - np.atleast_1d(f(theta - e))) / (2 * step)
    return out.squeeze(0) if out.shape[0] == 1 else out


@pytest.mark.parametrize("model, parallel", [("M0", True), ("M0", False), ("Mt", True), ("Mt", False),
                                             ("Mb", True), ("Mb", False)])
def test_gradient_and_hessian_match_finite_differences(model, parallel):
    h, labels, design = _deermice_design(model, parallel)
    Y, w, T = h.patterns.astype(float), h.counts, h.k
    rng = np.random.default_rng(1)
    theta = rng.normal(0, 0.1, len(labels))
    if model == "Mb":
        Z1, Z2 = design
        stats = _huggins.behaviour_statistics(Y)

        def f(t):
            return _huggins.loglik_b(t, Z1, Z2, *stats, T, w)

        def n_hat(t):
            return _huggins.n_hat_b(t, Z1, T, w)
    else:
        def f(t):
            return _huggins.loglik_t(t, design, Y, w)

        def n_hat(t):
            return _huggins.n_hat_t(t, design, w)
    _, grad, hess = f(theta)
    np.testing.assert_allclose(grad, _numerical_gradient(lambda t: f(t)[0], theta), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(hess, _numerical_gradient(lambda t: f(t)[1], theta), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(n_hat(theta)[2], _numerical_gradient(lambda t: n_hat(t)[1], theta),
                               rtol=1e-5, atol=1e-6)


def test_mb_expected_information_is_the_mean_of_the_observed():
    # simulate histories from the fitted Mb model with the same covariates: the observed information averages to
    # the expected one (the Monte Carlo check of E[f | seen])
    rng = np.random.default_rng(7)
    T, n = 4, 200_000
    x = rng.normal(size=n)
    p, c = 1 / (1 + np.exp(-(-1.0 + 0.5 * x))), 1 / (1 + np.exp(-(0.3 + 0.5 * x)))
    Y = np.zeros((n, T))
    for j in range(T):
        seen = Y[:, :j].sum(axis=1) > 0
        Y[:, j] = rng.random(n) < np.where(seen, c, p)
    keep = Y.sum(axis=1) > 0
    Y, x = Y[keep], x[keep]
    Z1 = np.column_stack([np.ones(len(x)), np.zeros(len(x)), x])
    Z2 = np.column_stack([np.zeros(len(x)), np.ones(len(x)), x])
    theta, w = np.array([-1.0, 0.3, 0.5]), np.ones(len(x))
    stats = _huggins.behaviour_statistics(Y)
    observed = _huggins.loglik_b(theta, Z1, Z2, *stats, T, w)[2]
    expected = _huggins.loglik_b(theta, Z1, Z2, *stats, T, w, expected=True)[2]
    np.testing.assert_allclose(observed, expected, rtol=0.03)  # Monte Carlo error about 1%


def test_counts_weigh_rows_as_repeated_people():
    h, labels, Z = _deermice_design("Mt", True)
    Y, w = h.patterns.astype(float), h.counts.copy()
    theta = np.linspace(-0.5, 0.5, len(labels)) / 10
    w2 = w.copy()
    w2[0] += 1
    doubled = _huggins.loglik_t(theta, np.concatenate([Z, Z[:1]]), np.concatenate([Y, Y[:1]]), np.append(w, 1.0))
    weighted = _huggins.loglik_t(theta, Z, Y, w2)
    for a, b in zip(doubled, weighted):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_huggins_variance_formula():
    pi = np.array([0.5, 0.8])
    w = np.array([2.0, 1.0])
    D = np.array([1.0, -2.0])
    cov = np.array([[2.0, 0.5], [0.5, 1.0]])
    # 2 x 0.5/0.25 + 1 x 0.2/0.64 + D' cov D = 4 + 0.3125 + (2 - 1 - 1 + 4)
    assert _huggins.huggins_variance(pi, w, D, cov) == pytest.approx(4.3125 + 4.0)


# ------------------------------------------------------------------------------------------------ covariates
def _mice_frame():
    return pd.read_csv(estimators.datasets._data_dir() / "VGAM_deermice.csv")


def test_formula_list_and_records_agree():
    h = estimators.load_dataset("VGAM_deermice")
    records = CaptureHistories.from_records(_mice_frame().drop(columns="count"),
                                            lists=[f"y{j}" for j in range(1, 7)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        a = estimators.huggins(h, "~ sex + age + weight", model="M0")
        b = estimators.huggins(records, ["sex", "age", "weight"], model="M0")
        # age as a 0/1 number is the same model as age as a category
        frame = _mice_frame().drop(columns="count").assign(age=lambda f: (f.age == "y").astype(int))
        c = estimators.huggins(CaptureHistories.from_records(frame, lists=[f"y{j}" for j in range(1, 7)]),
                               "sex + age + weight", model="M0")
    assert a.estimate == pytest.approx(b.estimate, rel=1e-10) == pytest.approx(c.estimate, rel=1e-10)
    assert "agey" in a.details["coefficients"].index and "age" in c.details["coefficients"].index
    assert a.model == "M0 ~ sex + age + weight"


def test_result_is_a_frozen_estimate_with_both_intervals():
    fit = estimators.huggins(estimators.load_dataset("VGAM_deermice"), "~ sex + weight", model="Mt",
                             interval="lognormal")
    assert isinstance(fit, estimators.Estimate)
    assert fit.interval == fit.details["lognormal_interval"] and fit.interval[0] >= fit.n_observed
    assert fit.details["wald_interval"][0] == pytest.approx(36.746726703194, rel=1e-4)
    assert set(fit.details["coefficients"].columns) == {"estimate", "std_error", "z", "p_value"}
    with pytest.raises(AttributeError):
        fit.estimate = 1.0


def test_docstring_example_runs():
    tests = [t for t in doctest.DocTestFinder().find(_huggins) if t.examples]
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    for test in tests:
        runner.run(test)
    assert tests and runner.summarize(verbose=False).failed == 0


def test_registered_as_a_per_stratum_estimator():
    from estimators import _registry

    assert _registry.BY_NAME["huggins"].per_stratum
    assert estimators.huggins is _huggins.huggins


# ------------------------------------------------------------------------------------------------ bad input
def _records(**columns):
    frame = pd.DataFrame({"A": [1, 0, 1, 1], "B": [0, 1, 1, 1], **columns})
    return CaptureHistories.from_records(frame, lists=["A", "B"])


@pytest.mark.parametrize(
    "h, covariates, match",
    [
        (CaptureHistories.from_mapping(TWO_LISTS), ["sex"], "carry no covariates"),
        (_records(x=[1.0, 2.0, 3.0, 4.0]), ["weight"], "Unknown covariate"),
        (_records(x=[1.0, np.nan, 3.0, 4.0]), ["x"], "'x' has 1 missing"),
        (_records(x=["a", None, "b", "a"]), "~ x", "'x' has 1 missing"),
        (_records(x=pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-04"])), ["x"],
         "'x' is neither numeric nor categorical"),
        (_records(x=[1, "a", 2.5, "b"]), ["x"], "'x' is neither numeric nor categorical"),
        (_records(x=[3.0, 3.0, 3.0, 3.0]), ["x"], "'x' takes the single value 3"),
        (_records(x=["a", "a", "a", "a"]), ["x"], "'x' takes the single value 'a'"),
        (_records(x=[1.0, 2.0, 3.0, 4.0], y=[2.0, 4.0, 6.0, 8.0]), ["x", "y"], "collinear"),
        (_records(x=[1.0, 2.0, 3.0, 4.0]), "~ x * x", "only additive main effects"),
        (_records(x=[1.0, 2.0, 3.0, 4.0]), "~ log(x)", "only additive main effects"),
        (_records(x=[1.0, 2.0, 3.0, 4.0]), "y ~ x", "left-hand side"),
        (_records(x=[1.0, 2.0, 3.0, 4.0]), ["x", "x"], "more than once"),
    ],
)
def test_bad_covariates_raise_before_fitting(h, covariates, match, monkeypatch):
    def no_fit(*args, **kwargs):
        raise AssertionError("fitted before checking")

    monkeypatch.setattr(_huggins, "_fit", no_fit)
    with pytest.raises(DataError, match=match):
        estimators.huggins(h, covariates)


@pytest.mark.parametrize("options", [{"model": "Mh"}, {"covariates": 3}, {"parallel": "no"}, {"level": 1.5},
                                     {"interval": "profile"}])
def test_bad_options_are_named(options):
    with pytest.raises(InvalidParameterError, match=next(iter(options))):
        estimators.huggins(CaptureHistories.from_mapping(TWO_LISTS), **options)


def test_not_histories():
    with pytest.raises(TypeError, match="CaptureHistories"):
        estimators.huggins(pd.DataFrame({"A": [1], "B": [1]}))


def test_tiny_inclusion_probabilities_warn():
    # one person with x = 1, seen once in 5 occasions: the capture probability at x = 1 is driven to 0, so that
    # person's 1/pi, and N-hat, run away
    frame = pd.DataFrame(
        np.vstack([np.tile([1, 1, 0, 1, 1], (20, 1)), np.tile([0, 1, 1, 1, 0], (20, 1)), np.eye(5)[:1]]).astype(int),
        columns=list("ABCDE"),
    ).assign(x=[0] * 40 + [1])
    h = CaptureHistories.from_records(frame, lists=list("ABCDE"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = estimators.huggins(h, ["x"], model="M0")
    categories = {w.category for w in caught}
    assert SmallSampleWarning in categories and ConvergenceWarning in categories
    assert fit.details["min_inclusion_probability"] < _huggins.P_SMALL
    assert any("below 0.0001" in note for note in fit.warnings)
    assert any("accounts for 100%" in note for note in fit.warnings)
