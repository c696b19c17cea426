"""The cached nutpie entry points of estimators._nutpie: nutpie's draws, and loaded rather than compiled later."""

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

pm = pytest.importorskip("pymc")
nutpie = pytest.importorskip("nutpie")

# A small model with the shapes that matter: a vector and a scalar shared input, a transformed free variable and a
# deterministic kept in the trace.
_MODEL = """
import numpy as np
import pymc as pm

def small_model():
    with pm.Model(coords={"obs": range(5)}) as model:
        y = pm.Data("y", np.array([0.3, -1.2, 0.8, 2.0, 0.1]), dims="obs")
        shift = pm.Data("shift", 0.5)
        mu = pm.Normal("mu", 0.0, 3.0)
        sigma = pm.HalfNormal("sigma", 2.0)
        pm.Deterministic("mu_shifted", mu + shift)
        pm.Normal("y_obs", mu + shift, sigma, observed=y, dims="obs")
    return model
"""

_IN_FRESH_PROCESS = _MODEL + """
import hashlib, json, warnings
import nutpie
from estimators._nutpie import compile_pymc_model
warnings.simplefilter("ignore")
compiled = compile_pymc_model(small_model(), var_names=["mu", "sigma", "mu_shifted"])
idata = nutpie.sample(compiled, chains=2, draws=100, tune=100, seed=3, cores=1, progress_bar=False)
values = np.concatenate([idata.posterior[name].values.ravel() for name in ("mu", "sigma", "mu_shifted")])
print(json.dumps({"hits": [compiled.compiled_logp_func._cache_hits, compiled.compiled_expand_func._cache_hits],
                  "digest": hashlib.sha256(values.tobytes()).hexdigest()}))
"""


def _small_model():
    namespace = {}
    exec(_MODEL, namespace)
    return namespace["small_model"]()


def _draws(compiled, **data):
    if data:
        compiled = compiled.with_data(**data)
    idata = nutpie.sample(compiled, chains=2, draws=100, tune=100, seed=3, cores=1, progress_bar=False)
    return np.concatenate([idata.posterior[name].values.ravel() for name in ("mu", "sigma", "mu_shifted")])


def test_cached_entry_points_give_nutpies_draws_before_and_after_new_data():
    from pytensor import config

    from estimators._nutpie import compile_pymc_model

    keep = ["mu", "sigma", "mu_shifted"]
    ours = compile_pymc_model(_small_model(), var_names=keep)
    with config.change_flags(numba__fastmath=False), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = nutpie.compile_pymc_model(_small_model(), var_names=keep)
    assert ours.compiled_logp_func is not theirs.compiled_logp_func
    assert np.array_equal(_draws(ours), _draws(theirs))
    new = {"y": np.array([5.0, 6.0, 4.5]), "shift": -1.0}  # a different length reaches the kernel through the shape
    moved = _draws(ours, **new)
    assert np.array_equal(moved, _draws(theirs, **new))
    assert abs(np.median(moved[:200]) - 6.17) < 1.0  # mu near the new data's mean (5.17) less the new shift


def test_other_options_fall_back_to_nutpies_compilation():
    from estimators._nutpie import compile_pymc_model

    compiled = compile_pymc_model(_small_model(), default_initialization_strategy="prior")
    assert np.isfinite(_draws(compiled)).all()


def test_a_second_process_loads_the_entry_points_and_draws_the_same(tmp_path):
    # about 30 s: a cold compile then a warm one, each in a fresh interpreter with its own PyTensor cache
    env = dict(os.environ)
    flags = [f for f in env.get("PYTENSOR_FLAGS", "").split(",") if f and not f.startswith("base_compiledir=")]
    env["PYTENSOR_FLAGS"] = ",".join([*flags, f"base_compiledir={tmp_path}"])

    def run():
        done = subprocess.run([sys.executable, "-c", _IN_FRESH_PROCESS], env=env, cwd=tmp_path, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    cold, warm = run(), run()
    assert cold["hits"] == [0, 0]
    assert warm["hits"] == [1, 1]
    assert warm["digest"] == cold["digest"]
