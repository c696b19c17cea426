"""The hand-written kernels of the daily model against the PyMC statement of the same model (build_model): log
density (up to a constant), gradient and recorded quantities at random points, for every structure."""

import numpy as np
import pandas as pd
import pytest

from estimators._daily import _kernel, _packing, prepare_data
from estimators._daily._inputs import HouseholdSummary
from estimators._daily._model import DailyRatesModel, Priors, build_model
from estimators.simulate import simulate_conflict

POPULATION = (450_000, 550_000)


def _rich(k=4, *, coarse=True, late=True, households=True, bin_days=7, days=60, capture_bin_days=None):
    """Lists (some records undated, the last list starting late), a tally, two dated surveys, households."""
    sim = simulate_conflict(days, capture_logits=(-0.8, -1.2, -1.6, -1.0)[:k], tally_coverage=0.4,
                            survey_dates=True, survey_window=(10, days - 1), more_surveys=[(0, 29, 10)],
                            list_start={k - 1: 20} if late else None, random_seed=3)
    lists = sim.lists.copy()
    if coarse:
        lists["day"] = lists["day"].astype(object)
        lists.loc[lists.index[::7], "day"] = None
    return prepare_data(
        days=days, lists=lists, surveys=[sim.survey, *sim.more_surveys], tallies=list(sim.tallies),
        households=[HouseholdSummary(150, 40, 6.0, start_day=0, end_day=27, design_effect=1.5)] if households else [],
        population=POPULATION, list_windows={chr(ord("A") + k - 1): (20, None)} if late else None, bin_days=bin_days,
        capture_bin_days=capture_bin_days)


def _no_lists():
    sim = simulate_conflict(60, tally_coverage=0.4, random_seed=1)
    return prepare_data(days=60, tallies=list(sim.tallies), surveys=[sim.survey], population=POPULATION)


CASES = {
    "random walk": (dict(), dict(rate_model="random_walk")),
    "weekly": (dict(), dict(rate_model="weekly")),
    "weekly knots": (dict(), dict(rate_model="weekly_knots")),
    "constant": (dict(), dict(rate_model="constant")),
    "time-varying capture": (dict(), dict(time_varying_capture=True)),
    "3 classes, time-varying": (dict(), dict(time_varying_capture=True, capture_classes=3)),
    "time-varying, weekly steps on daily counts": (dict(bin_days=1), dict(time_varying_capture=True)),
    "time-varying, 2-week steps, 2 classes": (dict(capture_bin_days=14), dict(time_varying_capture=True,
                                                                               capture_classes=2)),
    "3 lists, 2 classes, daily bins": (dict(k=3, coarse=False, late=False, households=False, bin_days=1),
                                       dict(capture_classes=2)),
    "normal capture effect, time-varying": (dict(), dict(time_varying_capture=True, capture_classes="normal")),
    "3 lists, normal capture effect": (dict(k=3, coarse=False, late=False, households=False),
                                       dict(capture_classes="normal")),
}


def _compare(data, structure, priors=Priors()):
    import pytensor

    structure = {"rate_model": "random_walk", "time_varying_capture": False, "capture_classes": 1, **structure}
    model = build_model(data, priors, **structure)
    packed = _packing.pack(data, priors, **structure)
    value_vars = model.value_vars
    start = model.initial_point()
    sizes = [int(np.prod(start[v.name].shape)) for v in value_vars]
    n_dim = int(packed[_kernel.N_DIM])
    assert sum(sizes) == n_dim

    def point(x):
        out, at = {}, 0
        for v, size in zip(value_vars, sizes):
            out[v.name] = x[at: at + size].reshape(start[v.name].shape)
            at += size
        return out

    # FAST_COMPILE: three evaluations do not pay for a compilation to machine code
    logp = model.compile_logp(jacobian=True, mode="FAST_COMPILE")
    dlogp = model.compile_dlogp(jacobian=True, mode="FAST_COMPILE")
    shapes = _packing.stored_shapes(packed)
    recorded = pytensor.function(value_vars, model.replace_rvs_by_values([model[name] for name in shapes]),
                                 on_unused_input="ignore", mode="FAST_COMPILE")
    rng = np.random.default_rng(1)
    ours, theirs = [], []
    for _ in range(3):
        x = rng.normal(0.0, 0.7, n_dim)
        grad = np.empty(n_dim)
        ours.append(_kernel.log_density(x, packed, grad))
        theirs.append(logp(point(x)))
        expected = dlogp(point(x))
        np.testing.assert_allclose(grad, expected, rtol=1e-9, atol=1e-9 * np.abs(expected).max())
        out = np.empty(int(packed[_kernel.N_EXPANDED]))
        _kernel.expand(x, packed, out)
        at = 0
        for name, value in zip(shapes, recorded(*point(x).values())):
            size = int(np.prod(shapes[name]))
            np.testing.assert_allclose(out[at: at + size], np.ravel(value), rtol=1e-10, err_msg=name)
            at += size
    # equal up to a constant (PyMC's negative binomial loses digits with the Poisson-like alpha of 1e8)
    np.testing.assert_allclose(np.diff(ours), np.diff(theirs), rtol=1e-8)


@pytest.mark.parametrize("case", list(CASES))
def test_kernels_equal_the_pymc_model(case):
    data_options, structure = CASES[case]
    _compare(_rich(**data_options), structure)


def test_kernels_equal_the_pymc_model_without_lists():
    _compare(_no_lists(), {})


def test_kernels_follow_prior_settings():
    priors = Priors(rate_level=(3.0, 1.0), rw_scale=0.3, dependence_scale=0.2, capture_rw_scale=0.4,
                    tally_coverage=(2.0, 5.0), bias_scale=0.5, bias_median=0.8, class_scale=1.0,
                    class_share_prior=2.0)
    _compare(_rich(), dict(time_varying_capture=True, capture_classes=2), priors)


def test_initial_point_jitters_the_prior_centre_by_seed():
    packed = _packing.pack(_rich(), Priors(), rate_model="random_walk", time_varying_capture=False,
                          capture_classes=1)
    a, b = _packing.initial_point(packed, 1), _packing.initial_point(packed, 1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, _packing.initial_point(packed, 2))
    assert np.all(np.abs(a) <= 1.0)  # centre 0 (Beta(1, 1) coverage: log-odds 0), jitter U(-1, 1)


def _step_lists(days=60, jump=30, before=10, after=40):
    """List A alone records ``before`` deaths a day, then ``after`` from day ``jump``; B and C one a day."""
    rows = [{"A": 1, "B": 0, "C": 0, "day": d, "count": before if d < jump else after} for d in range(days)]
    rows += [{"A": 0, "B": b, "C": 1 - b, "day": d, "count": 1} for d in range(days) for b in (0, 1)]
    return prepare_data(days=days, lists=pd.DataFrame(rows), population=POPULATION, bin_days=1)


@pytest.mark.parametrize("rate_model", ["random_walk", "weekly", "weekly_knots"])
def test_listed_walk_steps_follow_the_listed_counts(rate_model):
    packed = _packing.pack(_step_lists(), Priors(), rate_model=rate_model, time_varying_capture=False,
                          capture_classes=1)
    steps = _packing.listed_walk_steps(packed)
    assert steps.shape == (int(packed[_kernel.N_Z]),)
    # 12 listed a day, then 42: the walk rises by log(42.5 / 12.5) in all, and only around day 30
    np.testing.assert_allclose(steps.sum(), np.log(42.5 / 12.5), rtol=1e-12)
    step_day = (np.arange(len(steps)) + 1) * (1 if rate_model == "random_walk" else 7)  # the value it leads to
    assert np.all(steps[np.abs(step_day - 30) > 10] == 0)


def test_listed_walk_steps_on_a_study_shorter_than_the_smoothing():
    packed = _packing.pack(_step_lists(days=3, jump=1), Priors(), rate_model="random_walk",
                          time_varying_capture=False, capture_classes=1)
    steps = _packing.listed_walk_steps(packed)
    assert steps.shape == (2,) and steps.sum() > 0  # 12 listed on day 0, 42 on days 1 and 2


def test_listed_walk_steps_are_zero_without_lists_or_walk():
    no_lists = _packing.pack(_no_lists(), Priors(), rate_model="random_walk", time_varying_capture=False,
                             capture_classes=1)
    assert np.all(_packing.listed_walk_steps(no_lists) == 0)
    constant = _packing.pack(_step_lists(), Priors(), rate_model="constant", time_varying_capture=False,
                             capture_classes=1)
    assert _packing.listed_walk_steps(constant).size == 0


def test_initial_point_starts_the_walks_near_the_records():
    # a walk summed from U(-1, 1) steps drifts by sqrt(steps); chains started there collapsed its scale
    packed = _packing.pack(_rich(bin_days=1), Priors(), rate_model="random_walk", time_varying_capture=True,
                          capture_classes=2)
    start = _packing.initial_point(packed, 4)
    n_z, z0 = int(packed[_kernel.N_Z]), int(packed[_kernel.X_Z])
    steps, k, e0 = int(packed[_kernel.CAPTURE_ROWS]) - 1, int(packed[_kernel.K]), int(packed[_kernel.X_EPS])
    assert n_z > 1 and steps > 1
    sigma = np.exp(start[int(packed[_kernel.X_SIGMA])]) * packed[_kernel.RW_SCALE]
    jitter = start[z0:z0 + n_z] - _packing.listed_walk_steps(packed) / sigma
    assert np.all(np.abs(jitter) <= 1 / np.sqrt(n_z)) and np.abs(jitter).max() > 0.5 / np.sqrt(n_z)
    assert np.all(np.abs(start[e0:e0 + steps * k]) <= 1 / np.sqrt(steps))
    rest = np.delete(start, np.r_[z0:z0 + n_z, e0:e0 + steps * k])
    assert np.abs(rest).max() > 0.5  # the other parameters keep the U(-1, 1) jitter


def test_prior_draws_follow_each_prior():
    data = _rich()
    model = DailyRatesModel(data, Priors(tally_coverage=(2.0, 6.0)), capture_classes=2)
    draws = model.sample_prior(data, draws=20_000, random_seed=5)
    coverage = draws["tally_coverage"][:, 0]
    assert abs(coverage.mean() - 0.25) < 0.01  # Beta(2, 6)
    share = draws["capture_class_share"]
    np.testing.assert_allclose(share.sum(1), 1.0)
    assert abs(share[:, 0].mean() - 0.5) < 0.01  # Dirichlet(1, 1)
    assert abs(np.median(draws["rw_sigma_z"]) - 0.6745) < 0.02  # half-normal(1)
    again = model.sample_prior(data, draws=20_000, random_seed=5)
    np.testing.assert_array_equal(again["rate"], draws["rate"])


def test_walk_map_of_each_rate_model():
    left, right, frac, values, n_z, centre_days = _packing.walk_map("weekly_knots", 9)
    assert (values, n_z, centre_days) == (3, 2, True)
    assert left.tolist()[:8] == [0] * 7 + [1] and right.tolist()[:2] == [1, 1]
    np.testing.assert_allclose(frac[:3], [0, 1 / 7, 2 / 7])
    assert _packing.walk_map("weekly", 9)[3:] == (2, 1, False)
    assert _packing.walk_map("random_walk", 9)[3:] == (9, 8, False)
    assert _packing.walk_map("constant", 9)[3:] == (1, 0, False)


@pytest.mark.parametrize("logit", [-1000.0, 1000.0])
def test_extreme_points_give_a_non_finite_density_not_an_exception(logit):
    """Early tuning visits points where probabilities round to 0 or 1: the entry point must report a non-finite
    density (nutpie then rejects the step), not raise inside the cfunc, where the exception would be swallowed and
    a stale value returned."""
    import ctypes

    packed = _packing.pack(_rich(), Priors(), rate_model="random_walk", time_varying_capture=False,
                          capture_classes=1)
    n_dim = int(packed[_kernel.N_DIM])
    x = np.zeros(n_dim)
    start = int(packed[_kernel.X_ALPHA])
    x[start: start + 4] = logit
    double = ctypes.POINTER(ctypes.c_double)
    grad, logp = np.zeros(n_dim), np.zeros(1)
    code = _kernel.entry_points()[0].ctypes(n_dim, x.ctypes.data_as(double), grad.ctypes.data_as(double),
                                     logp.ctypes.data_as(double), packed.ctypes.data)
    assert code in (3, 4)
    assert not (np.isfinite(logp[0]) and np.isfinite(grad).all())


def test_the_second_process_compiles_the_helpers_as_the_log_density_calls_them():
    # entry_points() has a second process compile these helpers with the declared types; a helper called with other
    # types would be compiled again here (and the second process's work lost). The entry point is compiled afresh
    # (not loaded from the cache) so that its calls are typed: each helper must then hold exactly one signature.
    import numba

    from estimators._nutpie import LOGP_SIGNATURE

    numba.cfunc(LOGP_SIGNATURE, cache=False, error_model="numpy")(_kernel._logp_entry)
    for helper, signature in _kernel._gradient_signatures().items():
        assert helper.signatures == [signature], helper.py_func.__name__


def test_cached_reads_numbas_index(tmp_path, monkeypatch):
    import numba

    from estimators._jit import cached

    source = tmp_path / "cached_probe.py"
    source.write_text("def double(x):\n    return 2 * x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    probe = importlib.import_module("cached_probe")
    assert not cached(probe.double)
    assert numba.njit(cache=True)(probe.double)(2) == 4
    assert cached(probe.double)


def test_compile_elsewhere_starts_only_a_python(monkeypatch):
    from estimators import _jit

    monkeypatch.setattr(_jit.sys, "executable", "/usr/bin/uwsgi")
    assert _jit.compile_elsewhere("estimators._daily._kernel", "compile_elsewhere_main") is None
    monkeypatch.setattr(_jit.sys, "executable", "")
    assert _jit.compile_elsewhere("estimators._daily._kernel", "compile_elsewhere_main") is None


def test_wait_for_line_reads_the_second_process():
    import subprocess
    import sys

    from estimators._jit import wait_for_line

    said = subprocess.Popen([sys.executable, "-c", "print('done', flush=True)"], stdout=subprocess.PIPE, text=True)
    assert wait_for_line(said, timeout=60)
    said.wait()
    silent = subprocess.Popen([sys.executable, "-c", "pass"], stdout=subprocess.PIPE, text=True)
    assert not wait_for_line(silent, timeout=60)  # exited without a line
    silent.wait()
