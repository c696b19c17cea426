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
    pytest.param(_loglinear_bayes, marks=pytest.mark.slow),  # compiles a PyMC model: about 10 s a fit
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


def test_resolve_seed_by_hand():
    from estimators._validation import resolve_seed

    assert resolve_seed(7) == 7
    assert resolve_seed(np.random.default_rng(3)) == int(np.random.default_rng(3).integers(0, 2**63))
    assert all(0 <= resolve_seed(None, bound=2**31) < 2**31 for _ in range(20))
    with pytest.raises(ValueError, match="random_seed"):
        resolve_seed(-1)
