"""The scipy-free pieces of the log-linear engine give scipy's numbers bit for bit: gammaln and xlogy
(estimators._lazy), Brent's minimiser and root finder (estimators._solvers), and the profile interval built on them."""

import math

import numpy as np
import pytest
from scipy import optimize, special

from estimators import _glm, _lazy, _solvers, load_dataset
from estimators._loglinear._model import design_matrix


def _same(a, b) -> bool:
    """Equal bit for bit, nan equal to nan."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


def test_lgamma_by_hand():
    assert _lazy.lgamma(1.0) == 0.0 and _lazy.lgamma(2.0) == 0.0
    assert _lazy.lgamma(5.0) == pytest.approx(math.log(24), rel=1e-15)
    assert _lazy.lgamma(0.5) == pytest.approx(math.log(math.sqrt(math.pi)), rel=1e-15)
    assert _lazy.lgamma(101.0) == pytest.approx(math.lgamma(101.0), rel=1e-15)  # log(100!), Stirling branch


def test_gammaln_is_scipy_bit_for_bit_on_every_branch():
    rng = np.random.default_rng(3)
    x = np.concatenate([
        np.arange(1.0, 20001.0),  # log(y!) of counts: recurrence (< 13), Stirling series (< 1000), large-x formula
        rng.uniform(1e-6, 13, 20000), rng.uniform(13, 1000, 20000), np.exp(rng.uniform(0, 45, 20000)),
        [2.0, 3.0, 13.0, 1000.0, 1e8, 1.0000001e8, 3e305, np.inf],
    ])
    assert _same(_lazy.gammaln(x), special.gammaln(x))
    assert _same(_lazy.gammaln(x.reshape(-1, 4)), special.gammaln(x.reshape(-1, 4)))  # shape kept
    # outside the fits' domain the value is scipy's own
    assert _same([_lazy.lgamma(v) for v in (0.0, -2.5, np.nan)], special.gammaln([0.0, -2.5, np.nan]))


def test_xlogy_is_scipy_bit_for_bit_with_its_edge_cases():
    rng = np.random.default_rng(4)
    x = np.floor(rng.exponential(40, 200000))
    x[::7] = 0
    y = np.exp(rng.uniform(-40, 40, x.size))
    y[::11], y[::13], y[::17], y[::19] = 0.0, np.nan, -1.0, np.inf
    assert _same(_lazy.xlogy(x, y), special.xlogy(x, y))
    # by hand: 0 log 0 = 0, 0 log nan = nan, 2 log 0 = -inf, 2 log(-1) = nan, broadcasting
    assert _same(_lazy.xlogy([0, 0, 2, 2], [0, np.nan, 0, -1]), [0, np.nan, -np.inf, np.nan])
    assert _same(_lazy.xlogy(np.array([1.0, 2.0]), np.full((3, 2), math.e)), np.tile([1.0, 2.0], (3, 1)))


def _recorded(f):
    """f, and the list of arguments it is called with (the profile likelihood's warm starts depend on the order)."""
    calls = []

    def wrapped(x):
        calls.append(float(x))
        return f(x)

    return wrapped, calls


FUNCTIONS = [
    (lambda t: (t - 1.3) ** 2 + 0.1 * t**4, (0.0, 0.5)),
    (lambda t: math.cosh(t - 7.25), (1.0, 1.5)),
    (lambda t: -math.log(t) + t / 3, (0.2, 0.3)),  # minimum at 3, bracket grown far to the right
    (lambda t: abs(t + 2.0) ** 1.5, (5.0, 4.5)),  # downhill to the left, not smooth at the minimum
]


@pytest.mark.parametrize("f, start", FUNCTIONS)
def test_minimize_brent_is_scipy_step_for_step(f, start):
    ours, our_calls = _recorded(f)
    theirs, their_calls = _recorded(f)
    x = _solvers.minimize_brent(ours, start, xtol=1e-10)
    expected = optimize.minimize_scalar(theirs, bracket=start, method="brent", options={"xtol": 1e-10}).x
    assert x == expected and our_calls == their_calls
    assert isinstance(x, np.float64)


def test_minimize_brent_without_a_bracket_returns_scipy_best_point():
    # flat: no point lower than both ends, so scipy gives up and returns the best point seen
    f = lambda t: 1.0  # noqa: E731
    expected = optimize.minimize_scalar(f, bracket=(0.0, 1.0), method="brent")
    assert not expected.success
    assert _solvers.minimize_brent(f, (0.0, 1.0)) == expected.x == 0.0


@pytest.mark.parametrize("f, a, b", [
    (lambda x: x * x - 2.0, 0.0, 2.0),
    (lambda x: math.exp(x) - 10.0, -3.0, 5.0),
    (lambda x: (x - 0.3) ** 3 + 1e-9, -1.0, 1.0),  # nearly a triple root: extrapolation fails, bisections
    (lambda x: math.atan(x - 100.0) + 1e-3, 0.0, 1e4),
    (lambda x: 1.0 if x > 0.5 else -1.0, 0.0, 1.0),  # a jump: bisection to the tolerance
])
def test_brentq_is_scipy_step_for_step(f, a, b):
    ours, our_calls = _recorded(f)
    theirs, their_calls = _recorded(f)
    root = _solvers.brentq(ours, a, b, xtol=1e-12)
    assert root == optimize.brentq(theirs, a, b, xtol=1e-12) and our_calls == their_calls


def test_brentq_by_hand_and_its_errors():
    assert _solvers.brentq(lambda x: x * x - 2.0, 0.0, 2.0) == pytest.approx(math.sqrt(2.0), abs=1e-12)
    assert _solvers.brentq(lambda x: x - 1.0, 1.0, 3.0) == 1.0  # a root at an end
    with pytest.raises(ValueError, match="different signs"):
        _solvers.brentq(lambda x: x * x + 1.0, -1.0, 1.0)
    with pytest.raises(ValueError, match="NaN"):
        _solvers.brentq(lambda x: math.nan, -1.0, 1.0)
    with pytest.raises(RuntimeError, match="converge"):
        _solvers.brentq(lambda x: (x - 0.3) ** 3, -1.0, 1.0)  # scipy does not converge in 100 steps either


def test_profile_interval_equals_the_one_scipy_solvers_give(monkeypatch):
    """The multinomial profile interval of HIV under [12,3,4] and of Artificial_3 under [13,2], with scipy's
    solvers substituted: the same MLE and bounds bit for bit."""
    cases = []
    for name, model in (("Rcapture_HIV", "[12,3,4]"), ("SparseMSE_Artificial_3", "[13,2]")):
        h = load_dataset(name)
        y = np.asarray(h.dense_counts(), dtype=float)[1:]
        keep = y > 0 if name == "SparseMSE_Artificial_3" else np.ones(len(y), dtype=bool)
        cases.append((design_matrix(model, h.lists)[keep], y[keep]))
    ours = [_glm.profile_interval(design, y, level) for design, y in cases for level in (0.9, 0.95)]
    monkeypatch.setattr(_glm, "minimize_brent", lambda f, start, xtol: optimize.minimize_scalar(
        f, bracket=start, method="brent", options={"xtol": xtol}).x)
    monkeypatch.setattr(_glm, "brentq", optimize.brentq)
    theirs = [_glm.profile_interval(design, y, level) for design, y in cases for level in (0.9, 0.95)]
    assert ours == theirs
    assert all(p.lower_found and p.upper_found and p.lower < p.mle < p.upper for p in ours)


def test_poisson_fit_statistics_on_demand():
    """loglik and deviance computed on first use are those of the fitted means; covariance only when asked for.
    By hand: the independence model on two lists with counts 01 = 30, 10 = 20, 11 = 10 is saturated (3 cells,
    3 parameters), so the fitted means are the counts, the deviance 0 and the log-likelihood
    sum(y log y - y - log y!)."""
    design = design_matrix("[1,2]", ["A", "B"])
    y = np.array([30.0, 20.0, 10.0])
    fit = _glm.fit_poisson(design, y)
    bare = _glm.fit_poisson(design, y, covariance=False)
    assert bare.covariance is None and fit.covariance.shape == (3, 3)
    assert np.array_equal(fit.coef, bare.coef) and np.allclose(fit.fitted, y)
    assert fit.loglik == _glm.poisson_loglik(y, fit.fitted) and fit.deviance == _glm.poisson_deviance(y, fit.fitted)
    expected = sum(v * math.log(v) - v - math.lgamma(v + 1) for v in y)
    assert fit.loglik == pytest.approx(expected, rel=1e-9) and abs(fit.deviance) < 1e-9
