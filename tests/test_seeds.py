"""Every estimator that draws random numbers records the integer seed it used in ``details["random_seed"]``, and
passing that seed back repeats the fit exactly: an unseeded run, or one seeded by a Generator, can be reproduced
from its result alone. Tiny settings (few draws, few replicates): these tests check reproducibility, not accuracy.
"""

import warnings

import numpy as np
import pytest

import estimators
from estimators.survey import affected_households


@pytest.fixture(scope="module")
def kosovo():
    return estimators.load_dataset("LCMCR_kosovo")


def _bootstrap(h, seed):
    return estimators.bootstrap_interval(h, n_boot=20, kind="percentile", random_seed=seed)


def _sample_coverage(h, seed):
    return estimators.sample_coverage(h, n_boot=20, random_seed=seed)


def _graphical_bma(h, seed):
    return estimators.graphical_bma(h, n_draws=50, random_seed=seed)


def _latent_class(h, seed):
    return estimators.latent_class(h, K=3, chains=2, draws=20, burn=10, thin=1, n_jobs=1, random_seed=seed)


def _loglinear_bayes(h, seed):
    return estimators.loglinear_bayes(h, chains=1, draws=20, tune=20, random_seed=seed)


METHODS = [
    _bootstrap,
    _sample_coverage,
    _graphical_bma,
    _latent_class,
    _loglinear_bayes,
]


def _fit(method, h, seed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tiny runs warn about convergence and small samples; not tested here
        return method(h, seed)


def _same(first, again):
    assert again.estimate == first.estimate and again.interval == first.interval
    if hasattr(first, "draws"):
        np.testing.assert_array_equal(again.draws, first.draws)
    elif "replicates" in first.details:
        np.testing.assert_array_equal(again.details["replicates"], first.details["replicates"])


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("seed", [None, "generator"], ids=["unseeded", "generator"])
def test_recorded_seed_repeats_the_fit(method, seed, kosovo):
    first = _fit(method, kosovo, np.random.default_rng(4) if seed == "generator" else None)
    recorded = first.details["random_seed"]
    assert isinstance(recorded, int) and not isinstance(recorded, bool) and recorded >= 0
    again = _fit(method, kosovo, recorded)
    assert again.details["random_seed"] == recorded
    _same(first, again)


def test_given_integer_seed_is_recorded_as_given(kosovo):
    assert _fit(_bootstrap, kosovo, 17).details["random_seed"] == 17
    assert _fit(_graphical_bma, kosovo, 17).details["random_seed"] == 17


def test_affected_households_records_its_seed_in_settings():
    # AffectedHouseholds has no ``details``: its call, seed included, is in ``settings``
    first = affected_households(n_households=151, n_affected=50, household_size=6, n_draws=500,
                                random_seed=np.random.default_rng(4))
    seed = first.settings["random_seed"]
    assert isinstance(seed, int)
    again = affected_households(n_households=151, n_affected=50, household_size=6, n_draws=500, random_seed=seed)
    assert again.estimate == first.estimate and again.interval == first.interval


def test_unseeded_affected_households_records_a_seed_that_repeats_the_draws():
    first = affected_households(n_households=151, n_affected=50, household_size=6, population=775_000)
    seed = first.settings["random_seed"]
    assert seed is not None
    again = affected_households(n_households=151, n_affected=50, household_size=6, population=775_000,
                                random_seed=seed)
    assert np.array_equal(first.draws["deaths"], again.draws["deaths"])


def test_resolve_seed_by_hand():
    from estimators._validation import resolve_seed

    assert resolve_seed(7) == 7
    assert resolve_seed(np.random.default_rng(3)) == int(np.random.default_rng(3).integers(0, 2**63))
    assert all(0 <= resolve_seed(None, bound=2**31) < 2**31 for _ in range(20))
    with pytest.raises(ValueError, match="random_seed"):
        resolve_seed(-1)


# ------------------------------------------------------------------------- the same draws whatever the compile cache
# PyTensor (``base_compiledir``) and Numba (``NUMBA_CACHE_DIR``) keep compiled kernels on disk. A seed must fix the
# draws whether a process finds those caches empty (cold) or filled by an earlier process (warm), and whatever the
# number of cores. Each fit runs in a fresh interpreter, as only a new process sees new cache directories.
_FIT_LOGLINEAR = """
import hashlib, json, sys, warnings
import numpy as np
import estimators
warnings.simplefilter("ignore")
h = estimators.load_dataset("dga_MY1997_3list")
fit = estimators.loglinear_bayes(h, chains=2, draws={draws}, tune={tune}, cores={cores}, random_seed=1)
posterior = fit.idata["posterior"]
values = np.concatenate([np.asarray(posterior[name].values, float).ravel() for name in sorted(posterior.data_vars)])
print(json.dumps({{"estimate": fit.estimate, "interval": list(fit.interval),
                  "digest": hashlib.sha256(values.tobytes()).hexdigest()}}))
"""

_FIT_DAILY = """
import hashlib, json, sys, warnings
import numpy as np
from estimators import daily_rates
from estimators.simulate import simulate_conflict
warnings.simplefilter("ignore")
sim = simulate_conflict(60, random_seed=1)
fit = daily_rates(days=60, lists=sim.lists, surveys=[sim.survey], population=(450_000, 550_000), draws=100,
                  tune=100, chains=2, cores={cores}, random_seed=1)
posterior = fit.idata.posterior
values = np.concatenate([np.asarray(posterior[name].values, float).ravel() for name in sorted(posterior.data_vars)])
print(json.dumps({{"estimate": fit.mean_rate.estimate, "interval": list(fit.mean_rate.interval),
                  "digest": hashlib.sha256(values.tobytes()).hexdigest()}}))
"""


def _fit_in_fresh_process(script, compiledir, **settings):
    """Run ``script`` in a new interpreter whose PyTensor and Numba caches are in ``compiledir``; its printed summary
    as a dict."""
    import json
    import os
    import subprocess
    import sys

    env = dict(os.environ)
    flags = [f for f in env.get("PYTENSOR_FLAGS", "").split(",") if f and not f.startswith("base_compiledir=")]
    env["PYTENSOR_FLAGS"] = ",".join([*flags, f"base_compiledir={compiledir}"])
    env["NUMBA_CACHE_DIR"] = str(compiledir / "numba")
    compiledir.mkdir(parents=True, exist_ok=True)
    # run from the cache directory: the package imported is the installed one (or PYTHONPATH's), not the cwd's
    done = subprocess.run([sys.executable, "-c", script.format(**settings)], env=env, cwd=compiledir,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_loglinear_bayes_draws_do_not_depend_on_the_compile_cache(tmp_path):
    # one cold compile, one warm; every parameter's draws are compared bit for bit
    cold = _fit_in_fresh_process(_FIT_LOGLINEAR, tmp_path, draws=50, tune=50, cores=2)
    warm = _fit_in_fresh_process(_FIT_LOGLINEAR, tmp_path, draws=50, tune=50, cores=2)
    assert warm == cold


@pytest.mark.slow
def test_loglinear_bayes_draws_do_not_depend_on_cache_or_cores(tmp_path):
    settings = {"draws": 200, "tune": 200}
    cold = _fit_in_fresh_process(_FIT_LOGLINEAR, tmp_path / "a", cores=2, **settings)
    other_cold = _fit_in_fresh_process(_FIT_LOGLINEAR, tmp_path / "b", cores=1, **settings)
    warm = _fit_in_fresh_process(_FIT_LOGLINEAR, tmp_path / "a", cores=2, **settings)
    warm_one_core = _fit_in_fresh_process(_FIT_LOGLINEAR, tmp_path / "a", cores=1, **settings)
    assert other_cold == cold and warm == cold and warm_one_core == cold


def test_daily_rates_draws_do_not_depend_on_cache_or_cores(tmp_path):
    # the kernels compile in 30-40 s cold (once per installation)
    cold = _fit_in_fresh_process(_FIT_DAILY, tmp_path, cores=2)
    warm = _fit_in_fresh_process(_FIT_DAILY, tmp_path, cores=2)
    warm_one_core = _fit_in_fresh_process(_FIT_DAILY, tmp_path, cores=1)
    assert warm == cold and warm_one_core == cold


def test_daily_rates_draws_do_not_depend_on_which_process_compiled_the_helpers(tmp_path):
    # on a cold cache a second process compiles the log density's helpers; compiled here instead, the same draws
    script = "import estimators._daily._kernel as k\nk.compile_elsewhere = lambda *args: None\n" + _FIT_DAILY
    alone = _fit_in_fresh_process(script, tmp_path / "alone", cores=2)
    helped = _fit_in_fresh_process(_FIT_DAILY, tmp_path / "helped", cores=2)
    assert alone == helped
